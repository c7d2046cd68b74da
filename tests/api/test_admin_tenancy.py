"""Platform admin: /v1/admin/users and /v1/admin/tenants (list, show, admin flag, suspend, unsuspend)."""

from __future__ import annotations

import pytest

from mamba.schemas.tenancy import AdminTenantList, AdminUserDetail, AdminUserList
from tests.api.tenancy_helpers import bearer, join, make_world

ADMIN_ROUTES = [
    ("GET", "/v1/admin/users", None),
    ("GET", "/v1/admin/users/usr_carol", None),
    ("PATCH", "/v1/admin/users/usr_carol", {"is_admin": True}),
    ("POST", "/v1/admin/users/usr_carol/suspend", {}),
    ("POST", "/v1/admin/users/usr_carol/unsuspend", {}),
    ("GET", "/v1/admin/tenants", None),
    ("GET", "/v1/admin/tenants/tn_a", None),
    ("POST", "/v1/admin/tenants/tn_a/suspend", {}),
    ("POST", "/v1/admin/tenants/tn_a/unsuspend", {}),
]


@pytest.fixture
def api(client):
    # A tenant's suspension starts the suspend_tenant workflow (exercised in tests/statemachines
    # and tests/api/test_tenant_suspension.py); here it is recorded, not run.
    from mamba import bootstrap
    from tests.fakes import FakeWorkflows

    with bootstrap.override(workflows=FakeWorkflows()):
        yield make_world(client)


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES, ids=[f"{m} {p}" for m, p, _ in ADMIN_ROUTES])
def test_admin_routes_are_403_for_a_tenant_owner_and_401_without_credentials(api, method, path, body):
    # alice owns tn_a, which some of these paths name: ownership is not platform admin
    refused = api.call(method, path, "usr_alice", body)
    anonymous = api.call(method, path, None, body)

    assert refused.status_code == 403
    assert refused.json_body["error"]["code"] == "FORBIDDEN"
    assert anonymous.status_code == 401
    assert api.get("/v1/admin/users/usr_carol", "usr_root").json_body["is_admin"] is False
    assert api.get("/v1/admin/tenants/tn_a", "usr_root").json_body["status"] == "active"


def test_admin_lists_every_user_page_by_page(api):
    first = AdminUserList.model_validate(api.get("/v1/admin/users?limit=4", "usr_root").json_body)
    rest = AdminUserList.model_validate(
        api.get(f"/v1/admin/users?limit=4&cursor={first.next_cursor}", "usr_root").json_body
    )

    ids = [u.id for u in first.items + rest.items]
    assert sorted(ids) == sorted(["usr_alice", "usr_bob", "usr_carol", "usr_dave", "usr_mallory", "usr_root"])
    assert len(first.items) == 4 and rest.next_cursor is None
    by_id = {u.id: u for u in first.items + rest.items}
    assert by_id["usr_root"].is_admin and not by_id["usr_mallory"].email_verified


def test_admin_user_cursor_is_400_on_the_tenant_listing(api):
    cursor = api.get("/v1/admin/users?limit=1", "usr_root").json_body["next_cursor"]

    assert api.get(f"/v1/admin/tenants?cursor={cursor}", "usr_root").status_code == 400


def test_admin_shows_a_user_with_their_memberships(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "operator", server_id="srv_1")

    response = api.get("/v1/admin/users/usr_carol", "usr_root")

    assert response.status_code == 200
    detail = AdminUserDetail.model_validate(response.json_body)
    assert detail.email == "carol@example.org"
    assert [(m.tenant_id, m.role, m.server_id) for m in detail.memberships] == [("tn_a", "operator", "srv_1")]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/admin/users/usr_nobody"),
        ("POST", "/v1/admin/users/usr_nobody/suspend"),
        ("GET", "/v1/admin/tenants/tn_nothing"),
        ("POST", "/v1/admin/tenants/tn_nothing/suspend"),
    ],
)
def test_admin_is_404_for_an_unknown_user_or_tenant(api, method, path):
    assert api.call(method, path, "usr_root", {} if method == "POST" else None).status_code == 404


def test_admin_can_grant_the_admin_flag_and_it_works_at_once(api):
    # When root makes carol an admin
    response = api.patch("/v1/admin/users/usr_carol", "usr_root", {"is_admin": True})

    # Then carol reaches admin routes on her next request
    assert response.status_code == 200 and response.json_body["is_admin"] is True
    assert api.get("/v1/admin/tenants", "usr_carol").status_code == 200
    # And root can take it away again
    assert api.patch("/v1/admin/users/usr_carol", "usr_root", {"is_admin": False}).json_body["is_admin"] is False
    assert api.get("/v1/admin/tenants", "usr_carol").status_code == 403


def test_admin_cannot_remove_their_own_admin_flag_nor_suspend_themselves(api):
    assert api.patch("/v1/admin/users/usr_root", "usr_root", {"is_admin": False}).status_code == 409
    assert api.post("/v1/admin/users/usr_root/suspend", "usr_root").status_code == 409
    assert api.get("/v1/admin/users/usr_root", "usr_root").json_body["status"] == "active"


def test_patch_admin_user_is_400_when_the_flag_is_missing(api):
    assert api.patch("/v1/admin/users/usr_carol", "usr_root", {"is_admin": "yes please"}).status_code == 400


def test_suspended_user_is_401_at_once_and_old_tokens_stay_dead_after_unsuspend(api):
    # Given alice holds a valid token
    old = bearer("usr_alice")
    assert api.client.http.get("/v1/tenants/tn_a", headers=old).status_code == 200

    # When root suspends her
    suspended = api.post("/v1/admin/users/usr_alice/suspend", "usr_root")

    # Then her token answers 401
    assert suspended.status_code == 200 and suspended.json_body["status"] == "suspended"
    assert api.client.http.get("/v1/tenants/tn_a", headers=old).status_code == 401
    assert api.client.http.get("/v1/tenants", headers=old).status_code == 401

    # And after unsuspend the old token is still dead, while a new one works
    assert api.post("/v1/admin/users/usr_alice/unsuspend", "usr_root").json_body["status"] == "active"
    assert api.client.http.get("/v1/tenants/tn_a", headers=old).status_code == 401
    # (suspension voids tokens up to the next whole second, as a password reset does; a
    # login waits for that second, so the fresh token is dated there)
    fresh = bearer("usr_alice", now=_valid_after("usr_alice"))
    assert api.client.http.get("/v1/tenants/tn_a", headers=fresh).status_code == 200


def _valid_after(user_id: str) -> int:
    import time

    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem

    valid_after = int(UserItem.get(*keys.user(user_id)).sessions_valid_after)
    time.sleep(max(0.0, valid_after - time.time()))  # PyJWT refuses an iat in the future
    return valid_after


def test_admin_lists_and_shows_tenants(api):
    listing = AdminTenantList.model_validate(api.get("/v1/admin/tenants", "usr_root").json_body)

    assert {(t.id, t.status, t.owner_count) for t in listing.items} == {("tn_a", "active", 1), ("tn_b", "active", 1)}
    assert api.get("/v1/admin/tenants/tn_b", "usr_root").json_body["name"] == "Tenant B"


def test_suspended_tenant_can_be_read_but_not_changed_until_unsuspended(api):
    # When root suspends tenant A
    response = api.post("/v1/admin/tenants/tn_a/suspend", "usr_root")

    # Then alice can read it, but every change answers 403 TENANT_SUSPENDED
    assert response.status_code == 200 and response.json_body["status"] == "suspended"
    read = api.get("/v1/tenants/tn_a", "usr_alice")
    assert read.status_code == 200 and read.json_body["status"] == "suspended"
    assert api.get("/v1/tenants/tn_a/members", "usr_alice").status_code == 200
    for method, path, body in (
        ("PATCH", "/v1/tenants/tn_a", {"name": "Escape"}),
        ("POST", "/v1/tenants/tn_a/roles", {"name": "R", "permissions": []}),
        ("POST", "/v1/tenants/tn_a/members/invitations", {"email": "carol@example.org", "role": "viewer"}),
    ):
        refused = api.call(method, path, "usr_alice", body)
        assert refused.status_code == 403, path
        assert refused.json_body["error"]["code"] == "TENANT_SUSPENDED"

    # And after unsuspend the change goes through
    assert api.post("/v1/admin/tenants/tn_a/unsuspend", "usr_root").json_body["status"] == "active"
    assert api.patch("/v1/tenants/tn_a", "usr_alice", {"name": "Back"}).status_code == 200


def test_invitation_to_a_suspended_tenant_cannot_be_accepted(api):
    from tests.api.tenancy_helpers import mail_to, token_in

    api.post("/v1/tenants/tn_a/members/invitations", "usr_alice", {"email": "carol@example.org", "role": "viewer"})
    api.post("/v1/admin/tenants/tn_a/suspend", "usr_root")

    response = api.post("/v1/invitations/accept", "usr_carol", {"token": token_in(mail_to("carol@example.org")[-1])})

    assert response.status_code == 403
    assert api.get("/v1/tenants/tn_a", "usr_carol").status_code == 404
