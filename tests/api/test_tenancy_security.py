"""Attacks on tenancy itself (issue 10, findings 5 and 6), through the real app on moto:

* creating tenant after tenant to multiply the free plan's quotas;
* a temporary admin making their own grant permanent, or handing out grants that outlive it.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from tests.api.tenancy_helpers import Api, join, make_world


@pytest.fixture
def api(client):
    return make_world(client)


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def error(response) -> dict:
    return response.json_body["error"]


# --- finding 5: tenants per account ---------------------------------------------------------


def test_free_plan_cannot_be_multiplied_by_tenants(api: Api):
    # Given carol, a verified user with no tenant, creates as many tenants as an account may own (3)
    made = [api.post("/v1/tenants", "usr_carol", {"name": f"Carol {n}"}) for n in range(3)]
    assert [r.status_code for r in made] == [201, 201, 201], [r.json_body for r in made]

    # When she creates one more, to get another free plan's quotas
    extra = api.post("/v1/tenants", "usr_carol", {"name": "Carol 4"})

    # Then it is refused with TENANT_LIMIT, and she still owns exactly three
    assert extra.status_code == 403, extra.json_body
    assert error(extra)["code"] == "TENANT_LIMIT"
    assert error(extra)["details"] == {"limit": 3}
    owned = [t for t in api.get("/v1/tenants", "usr_carol").json_body["items"] if t["role"] == "owner"]
    assert len(owned) == 3
    # And another account is not affected by carol's count
    assert api.post("/v1/tenants", "usr_dave", {"name": "Dave 1"}).status_code == 201


def test_parallel_tenant_creates_cannot_pass_the_cap(api: Api, monkeypatch):
    # Given ten creates of tenants for carol racing each other against one table (cap 3).
    # DynamoDB runs each transaction in isolation; moto 5.2.5 does not (two at once corrupt its
    # table copy), so its transaction call is serialized here, as DynamoDB's are. Nothing of the
    # panel's own is: a read-then-write count would let several creates through.
    from moto.dynamodb.models import DynamoDBBackend

    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.errors import TenantLimitError
    from mamba.services import accounts

    isolated = threading.Lock()
    original = DynamoDBBackend.transact_write_items

    def one_at_a_time(self, *args, **kwargs):
        with isolated:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", one_at_a_time)

    repo = DynamoTenantRepository()
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(10)

    def create(n: int) -> None:
        start.wait()
        try:
            accounts.create_tenant(repo, f"Race {n}", "usr_carol", max_owned=3)
            result = "created"
        except TenantLimitError:
            result = "limit"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # Then exactly three got through, and carol owns three tenants
    assert sorted(outcomes) == ["created"] * 3 + ["limit"] * 7
    assert len(repo.memberships_of_user("usr_carol")) == 3


def test_tenant_creation_is_rate_limited_per_account(api: Api):
    # Given carol has used up her hourly tenant creations (10; every attempt counts, refused ones too)
    answers = [api.post("/v1/tenants", "usr_carol", {"name": f"Spam {n}"}).status_code for n in range(10)]
    assert answers == [201] * 3 + [403] * 7

    # When she tries again within the hour
    again = api.post("/v1/tenants", "usr_carol", {"name": "Spam 11"})

    # Then she is told to wait, and dave can still create his
    assert again.status_code == 429, again.json_body
    assert error(again)["code"] == "RATE_LIMITED"
    assert api.post("/v1/tenants", "usr_dave", {"name": "Dave"}).status_code == 201


# --- finding 6: grants ------------------------------------------------------------------------


def temporary_admin(api: Api, hours: int = 24) -> int:
    """carol becomes an admin of tn_a until ``hours`` from now; the epoch her grant ends."""
    ends = int(time.time()) + hours * 3600
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "admin", expires_at=iso(ends))
    return ends


def binding(api: Api, user_id: str) -> dict:
    items = api.get("/v1/tenants/tn_a/members", "usr_alice").json_body["items"]
    return next(m for m in items if m["user_id"] == user_id)


def test_temporary_admin_cannot_extend_own_grant(api: Api):
    # Given carol, an admin of tn_a for one more day
    ends = temporary_admin(api)

    # When she removes her own expiry, or moves it a year out
    removed = api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_carol", {"expires_at": None})
    later = api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_carol", {"expires_at": iso(ends + 365 * 86400)})

    # Then both are refused and her grant still ends when it did
    for response in (removed, later):
        assert response.status_code == 403, response.json_body
        assert error(response)["code"] == "FORBIDDEN"
    assert binding(api, "usr_carol")["expires_at"] == iso(ends)


def test_temporary_admin_cannot_grant_beyond_own_expiry(api: Api):
    # Given carol, an admin of tn_a for one more day, and dave, a permanent viewer
    ends = temporary_admin(api)
    join(api, "tn_a", "usr_alice", "usr_dave", "dave@example.org", "viewer")

    # When she makes dave a permanent admin, gives him a grant ending after hers, or invites a
    # second account of hers as a permanent admin
    permanent = api.patch("/v1/tenants/tn_a/members/usr_dave", "usr_carol", {"role": "admin"})
    longer = api.patch(
        "/v1/tenants/tn_a/members/usr_dave", "usr_carol", {"role": "operator", "expires_at": iso(ends + 3600)}
    )
    invited = api.post(
        "/v1/tenants/tn_a/members/invitations", "usr_carol", {"email": "sock@example.org", "role": "admin"}
    )

    # Then every one is refused, naming her own expiry
    for response in (permanent, longer, invited):
        assert response.status_code == 403, response.json_body
        assert error(response)["details"] == {"field": "expires_at", "max_expires_at": ends}
    assert binding(api, "usr_dave")["role"] == "viewer"
    # And a grant that ends with hers (or earlier) is hers to give
    within = api.patch("/v1/tenants/tn_a/members/usr_dave", "usr_carol", {"role": "operator", "expires_at": iso(ends)})
    assert within.status_code == 200, within.json_body


def test_member_cannot_change_own_binding(api: Api):
    # Given carol, a permanent admin of tn_a
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "admin")

    # When she changes her own role, server scope or expiry
    attempts = [
        api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_carol", {"role": "operator"}),
        api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_carol", {"server_id": "srv-1"}),
        api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_carol", {"expires_at": iso(int(time.time()) + 60)}),
    ]

    # Then each is refused as a change of one's own binding, and nothing changed
    for response in attempts:
        assert response.status_code == 403, response.json_body
        assert error(response)["details"] == {"reason": "self"}
    mine = binding(api, "usr_carol")
    assert (mine["role"], mine["server_id"], mine["expires_at"]) == ("admin", None, None)
    # And another member who covers her role still can
    assert api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_alice", {"role": "operator"}).status_code == 200


def test_temporary_admin_cannot_widen_a_role_that_permanent_members_hold(api: Api):
    # Given a custom role with one permission, held permanently by dave, and carol, an admin
    # of tn_a for one more day
    role = api.post("/v1/tenants/tn_a/roles", "usr_alice", {"name": "Helper", "permissions": ["servers.read"]})
    assert role.status_code == 201, role.json_body
    role_id = role.json_body["id"]
    join(api, "tn_a", "usr_alice", "usr_dave", "dave@example.org", role_id)
    temporary_admin(api)

    # When carol adds permissions to the role (dave would keep them after her grant ends)
    widened = api.patch(
        f"/v1/tenants/tn_a/roles/{role_id}", "usr_carol", {"permissions": ["servers.read", "servers.power"]}
    )

    # Then it is refused and dave's binding is unchanged
    assert widened.status_code == 403, widened.json_body
    assert error(widened)["details"]["field"] == "permissions"
    assert binding(api, "usr_dave")["permissions"] == ["servers.read"]
    # And narrowing it is still hers to do
    narrowed = api.patch(f"/v1/tenants/tn_a/roles/{role_id}", "usr_carol", {"permissions": []})
    assert narrowed.status_code == 200, narrowed.json_body
