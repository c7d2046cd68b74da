"""POST/GET /v1/tenants and GET/PATCH /v1/tenants/{tenant_id}: the real app, guard and moto."""

from __future__ import annotations

import pytest

from mamba.schemas.tenancy import TenantList, TenantOut
from tests.api.tenancy_helpers import add_user, expire_grant, join, make_world


@pytest.fixture
def api(client):
    return make_world(client)


# --- create ---


def test_create_tenant_makes_the_caller_its_owner_when_the_email_is_verified(api):
    # When carol creates a tenant
    created = api.post("/v1/tenants", "usr_carol", {"name": "  Carol's Games  "})

    # Then it is 201 with the tenant, and carol owns it
    assert created.status_code == 201, created.json_body
    tenant = TenantOut.model_validate(created.json_body)
    assert (tenant.name, tenant.role, tenant.status, tenant.require_2fa) == ("Carol's Games", "owner", "active", False)
    assert tenant.id.startswith("tn_")
    members = api.get(f"/v1/tenants/{tenant.id}/members", "usr_carol").json_body["items"]
    assert [(m["user_id"], m["role"]) for m in members] == [("usr_carol", "owner")]
    # And only carol can see it
    assert api.get(f"/v1/tenants/{tenant.id}", "usr_carol").status_code == 200
    assert api.get(f"/v1/tenants/{tenant.id}", "usr_dave").status_code == 404


def test_create_tenant_is_403_email_not_verified_when_the_email_is_unverified(api):
    response = api.post("/v1/tenants", "usr_mallory", {"name": "Nope"})

    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "EMAIL_NOT_VERIFIED"
    assert api.get("/v1/tenants", "usr_mallory").json_body["items"] == []


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}, {"name": "tab\there"}, {"name": "A", "owner": "usr_x"}],
    ids=["missing", "empty", "blank", "too-long", "control-char", "extra-field"],
)
def test_create_tenant_is_400_when_the_body_is_invalid(api, body):
    response = api.post("/v1/tenants", "usr_carol", body)

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "VALIDATION_ERROR"


def test_create_tenant_is_401_when_there_are_no_credentials(api):
    assert api.post("/v1/tenants", None, {"name": "Anon"}).status_code == 401


# --- list ---


def test_list_tenants_pages_with_an_opaque_cursor_when_there_are_more_than_the_limit(api):
    # Given carol owns three tenants
    for name in ("One", "Two", "Three"):
        assert api.post("/v1/tenants", "usr_carol", {"name": name}).status_code == 201

    # When she lists two at a time
    first = TenantList.model_validate(api.get("/v1/tenants?limit=2", "usr_carol").json_body)
    second = TenantList.model_validate(
        api.get(f"/v1/tenants?limit=2&cursor={first.next_cursor}", "usr_carol").json_body
    )

    # Then she gets all three once, and the last page says there is no more
    assert len(first.items) == 2 and first.next_cursor
    assert len(second.items) == 1 and second.next_cursor is None
    assert sorted(t.name for t in first.items + second.items) == ["One", "Three", "Two"]
    assert all(t.role == "owner" for t in first.items + second.items)
    # And the cursor shows no key
    assert "TENANT#" not in first.next_cursor and "USER#" not in first.next_cursor


def test_list_tenants_is_400_when_the_cursor_is_tampered_or_belongs_to_another_user(api):
    # Given a valid cursor of carol's list
    for name in ("One", "Two"):
        api.post("/v1/tenants", "usr_carol", {"name": name})
    cursor = api.get("/v1/tenants?limit=1", "usr_carol").json_body["next_cursor"]
    payload, _, mac = cursor.partition(".")
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + mac

    # Then a changed cursor, garbage, and carol's cursor used by dave are all refused
    for user_id, given in (("usr_carol", tampered), ("usr_carol", "garbage"), ("usr_dave", cursor)):
        response = api.get(f"/v1/tenants?cursor={given}", user_id)
        assert response.status_code == 400, (user_id, given)
        assert response.json_body["error"]["details"]["fields"][0]["field"] == "cursor"


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
def test_list_tenants_is_400_when_the_limit_is_out_of_range(api, limit):
    response = api.get(f"/v1/tenants?limit={limit}", "usr_alice")

    assert response.status_code == 400
    assert response.json_body["error"]["details"]["fields"][0]["field"] == "limit"


def test_list_tenants_shows_a_scoped_grant_and_leaves_out_an_expired_one(api):
    # Given carol is a subuser of one server of tenant A, and dave had a temporary grant to tenant B
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "operator", server_id="srv_1")
    join(api, "tn_b", "usr_bob", "usr_dave", "dave@example.org", "viewer", expires_at="2099-01-01T00:00:00Z")
    assert [t["expires_at"] for t in api.get("/v1/tenants", "usr_dave").json_body["items"]] == ["2099-01-01T00:00:00Z"]
    # ... whose time has now come (written as if the clock had moved on)
    expire_grant("tn_b", "usr_dave")

    # When each lists their tenants
    carol = api.get("/v1/tenants", "usr_carol").json_body["items"]
    dave = api.get("/v1/tenants", "usr_dave").json_body["items"]

    # Then carol sees her scope and dave sees nothing
    assert [(t["id"], t["role"], t["server_id"]) for t in carol] == [("tn_a", "operator", "srv_1")]
    assert dave == []


# --- read and change ---


def test_get_tenant_returns_the_profile_and_the_callers_role_when_a_member(api):
    response = api.get("/v1/tenants/tn_a", "usr_alice")

    assert response.status_code == 200
    assert {k: response.json_body[k] for k in ("id", "name", "role", "status")} == {
        "id": "tn_a",
        "name": "Tenant A",
        "role": "owner",
        "status": "active",
    }


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_tenant_is_404_not_403_for_a_member_of_another_tenant(api, method):
    response = api.call(method, "/v1/tenants/tn_a", "usr_bob", {"name": "Mine now"} if method == "PATCH" else None)

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "NOT_FOUND"
    assert api.get("/v1/tenants/tn_a", "usr_alice").json_body["name"] == "Tenant A"


def test_patch_tenant_renames_it_when_the_caller_is_owner(api):
    response = api.patch("/v1/tenants/tn_a", "usr_alice", {"name": "Renamed"})

    assert response.status_code == 200
    assert response.json_body["name"] == "Renamed"
    assert response.json_body["updated_at"]
    assert api.get("/v1/tenants", "usr_alice").json_body["items"][0]["name"] == "Renamed"


def test_patch_tenant_is_403_when_the_callers_role_lacks_tenant_update(api):
    # Given carol is an admin of tenant A (admins cannot change the tenant's settings)
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "admin")

    response = api.patch("/v1/tenants/tn_a", "usr_carol", {"name": "Hijacked"})

    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "FORBIDDEN"


def test_patch_tenant_is_400_when_nothing_is_given(api):
    response = api.patch("/v1/tenants/tn_a", "usr_alice", {})

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "VALIDATION_ERROR"


def test_require_2fa_is_409_when_the_actor_has_no_2fa_themselves(api):
    response = api.patch("/v1/tenants/tn_a", "usr_alice", {"require_2fa": True})

    assert response.status_code == 409
    assert response.json_body["error"]["details"]["reason"] == "actor_without_2fa"
    assert api.get("/v1/tenants/tn_a", "usr_alice").json_body["require_2fa"] is False


def test_require_2fa_refuses_members_without_2fa_when_the_tenant_turns_it_on(api):
    # Given tenant C is owned by erin, who has 2FA, and carol (without 2FA) is a member
    add_user("usr_erin", totp=True)
    tenant_id = api.post("/v1/tenants", "usr_erin", {"name": "Strict"}).json_body["id"]
    join(api, tenant_id, "usr_erin", "usr_carol", "carol@example.org", "viewer")
    assert api.get(f"/v1/tenants/{tenant_id}", "usr_carol").status_code == 200

    # When erin requires 2FA
    response = api.patch(f"/v1/tenants/{tenant_id}", "usr_erin", {"require_2fa": True})

    # Then carol's next request is refused, and erin's is not
    assert response.status_code == 200 and response.json_body["require_2fa"] is True
    refused = api.get(f"/v1/tenants/{tenant_id}", "usr_carol")
    assert refused.status_code == 403
    assert refused.json_body["error"]["code"] == "TWO_FACTOR_REQUIRED"
    assert api.get(f"/v1/tenants/{tenant_id}", "usr_erin").status_code == 200
