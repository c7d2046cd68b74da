"""Service accounts and their keys through chalice.test.Client on moto: the binding limits
every key, two active keys at most, rotation with overlap, revocation and expiry, the audit
actor, the 7-day expiry mail, and a user's own key rotation (issue 17 item 3)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from mamba import bootstrap
from tests.api.security_world import World, bearer, build_world, create_key
from tests.fakes import FakeMailer

BASE = "/v1/tenants/tn_a/service-accounts"


@pytest.fixture
def world(client) -> World:
    return build_world()


def _post(client: Any, path: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.http.post(path, headers=headers, body=json.dumps(body))


def _account(client: Any, world: World, *, role: str = "viewer", **extra: Any) -> dict[str, Any]:
    made = _post(client, BASE, world.headers("alice"), {"name": "ci", "role": role, **extra})
    assert made.status_code == 201, made.json_body
    return made.json_body


def _key(client: Any, world: World, account_id: str, scopes: list[str], **extra: Any) -> Any:
    body = {"name": "ci key", "scopes": scopes, **extra}
    return _post(client, f"{BASE}/{account_id}/keys", world.headers("alice"), body)


def _made_key(client: Any, world: World, account_id: str, scopes: list[str], **extra: Any) -> dict[str, Any]:
    made = _key(client, world, account_id, scopes, **extra)
    assert made.status_code == 201, made.json_body
    return made.json_body


def _expire(key_id: str, at: int) -> None:
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import ApiKeyItem

    ApiKeyItem(*keys.api_key(key_id)).update(actions=[ApiKeyItem.expires_at.set(at)])


def test_service_account_is_created_listed_and_hidden_from_other_tenants(client, world):
    # Given alice (owner of tn_a) creates a service account bound to the operator role
    created = _account(client, world, role="operator", description="deploys")

    # Then it has an id of its own kind, the role's permissions and its creator
    assert created["id"].startswith("sa_")
    assert created["role"] == "operator" and "servers.power" in created["permissions"]
    assert created["created_by"] == "usr_alice" and created["expired"] is False
    # And the tenant lists it; bob, owner of another tenant, gets 404
    listed = client.http.get(BASE, headers=world.headers("alice")).json_body
    assert [a["id"] for a in listed["items"]] == [created["id"]]
    assert client.http.get(BASE, headers=world.headers("bob")).status_code == 404
    assert client.http.get(f"{BASE}/{created['id']}", headers=world.headers("bob")).status_code == 404
    # And a viewer (no members.read) is refused
    assert client.http.get(BASE, headers=world.headers("vic")).status_code == 403


def test_create_is_400_when_the_role_is_owner(client, world):
    made = _post(client, BASE, world.headers("alice"), {"name": "root bot", "role": "owner"})

    assert made.status_code == 400
    assert made.json_body["error"]["code"] == "VALIDATION_ERROR"


def test_creating_service_accounts_and_their_keys_needs_a_login_session(client, world):
    # Given alice's own API key that holds members.manage
    own = create_key(client, world.headers("alice"), scopes=["members.manage", "members.read"]).json_body["key"]
    account = _account(client, world)

    # When the key creates a service account or a key for one
    made = _post(client, BASE, bearer(own), {"name": "sneaky", "role": "viewer"})
    key = _post(client, f"{BASE}/{account['id']}/keys", bearer(own), {"name": "k", "scopes": ["tenant.read"]})

    # Then both are refused: a key never mints another credential
    assert made.status_code == 403 and made.json_body["error"]["code"] == "SESSION_REQUIRED"
    assert key.status_code == 403 and key.json_body["error"]["code"] == "SESSION_REQUIRED"


def test_key_works_within_its_binding_only(client, world):
    # Given a viewer service account and a key scoped to tenant.read and tenant.update
    account = _account(client, world, role="viewer")
    key = _made_key(client, world, account["id"], ["tenant.read", "tenant.update"])
    assert key["key"].startswith(f"mhp_{account['id']}.{key['id']}.")
    headers = bearer(key["key"])

    # Then a read its role and scopes allow passes
    assert client.http.get("/v1/tenants/tn_a", headers=headers).status_code == 200
    # And a change its role does not allow is 403, whatever the key's scopes say
    patched = client.http.patch("/v1/tenants/tn_a", headers=headers, body=json.dumps({"name": "renamed"}))
    assert patched.status_code == 403 and patched.json_body["error"]["details"]["permission"] == "tenant.update"
    # And a route outside the key's scopes is 403
    assert client.http.get("/v1/tenants/tn_a/servers", headers=headers).status_code == 403
    # And another tenant does not exist for it
    assert client.http.get("/v1/tenants/tn_b", headers=headers).status_code == 404
    # And account and admin routes are refused: it has no account of its own
    me = client.http.get("/v1/me", headers=headers)
    assert me.status_code == 403 and me.json_body["error"]["details"]["reason"] == "service_account"
    assert client.http.get("/v1/admin/users", headers=headers).status_code == 403


def test_checkout_is_403_for_a_service_account_even_with_billing_manage(client, world, monkeypatch):
    # Given billing on, and a service account whose custom role and key hold billing.manage
    from mamba import web

    monkeypatch.setattr(web, "_check_billing_enabled", lambda: None)
    role = _post(
        client,
        "/v1/tenants/tn_a/roles",
        world.headers("alice"),
        {"name": "Payer", "permissions": ["billing.read", "billing.manage"]},
    ).json_body
    account = _account(client, world, role=role["id"])
    headers = bearer(_made_key(client, world, account["id"], ["billing.manage"])["key"])

    # When its key opens a Checkout
    paid = _post(client, "/v1/tenants/tn_a/billing/checkout", headers, {"plan_id": "plan_pro"})

    # Then it is refused: Checkout is a person's, with an email (never a 404 for a missing user)
    assert paid.status_code == 403, paid.json_body
    assert paid.json_body["error"]["details"]["reason"] == "service_account"


def test_binding_change_applies_to_the_keys_next_request(client, world):
    # Given a viewer service account whose key holds roles.manage in scope
    account = _account(client, world, role="viewer")
    headers = bearer(_made_key(client, world, account["id"], ["roles.manage"])["key"])
    role = {"name": "Helper", "permissions": ["servers.read"]}
    assert _post(client, "/v1/tenants/tn_a/roles", headers, role).status_code == 403

    # When alice makes it an admin
    changed = client.http.patch(
        f"{BASE}/{account['id']}", headers=world.headers("alice"), body=json.dumps({"role": "admin"})
    )
    assert changed.status_code == 200, changed.json_body

    # Then the same key may now create a role
    created = _post(client, "/v1/tenants/tn_a/roles", headers, role)
    assert created.status_code == 201, created.json_body


def test_custom_role_narrowed_narrows_its_service_accounts(client, world):
    # Given a custom role with tenant.update, bound to a service account with a key
    role = _post(
        client,
        "/v1/tenants/tn_a/roles",
        world.headers("alice"),
        {"name": "Renamer", "permissions": ["tenant.read", "tenant.update"]},
    ).json_body
    account = _account(client, world, role=role["id"])
    headers = bearer(_made_key(client, world, account["id"], ["tenant.read", "tenant.update"])["key"])
    assert client.http.patch("/v1/tenants/tn_a", headers=headers, body=json.dumps({"name": "y"})).status_code == 200

    # When the role loses tenant.update
    narrowed = client.http.patch(
        f"/v1/tenants/tn_a/roles/{role['id']}",
        headers=world.headers("alice"),
        body=json.dumps({"permissions": ["tenant.read"]}),
    )
    assert narrowed.status_code == 200, narrowed.json_body

    # Then the key loses it too, and the bound role cannot be deleted
    assert client.http.patch("/v1/tenants/tn_a", headers=headers, body=json.dumps({"name": "z"})).status_code == 403
    deleted = client.http.delete(f"/v1/tenants/tn_a/roles/{role['id']}", headers=world.headers("alice"))
    assert deleted.status_code == 409


def test_at_most_two_keys_are_active_and_rotation_keeps_both_working_during_the_overlap(client, world):
    # Given a service account with one key in use
    account = _account(client, world)
    first = _made_key(client, world, account["id"], ["tenant.read"])
    # When a second key is made (the rotation's overlap)
    second = _made_key(client, world, account["id"], ["tenant.read"])

    # Then both work
    for key in (first, second):
        assert client.http.get("/v1/tenants/tn_a", headers=bearer(key["key"])).status_code == 200
    # And a third is refused while two are active
    third = _key(client, world, account["id"], ["tenant.read"])
    assert third.status_code == 409 and third.json_body["error"]["code"] == "KEY_LIMIT_REACHED"

    # When the old key is revoked
    revoked = client.http.delete(f"{BASE}/{account['id']}/keys/{first['id']}", headers=world.headers("alice"))
    assert revoked.status_code == 204

    # Then only the new one works, and a new key may be made again
    old = client.http.get("/v1/tenants/tn_a", headers=bearer(first["key"]))
    assert old.status_code == 401 and old.json_body["error"]["details"]["reason"] == "revoked"
    assert client.http.get("/v1/tenants/tn_a", headers=bearer(second["key"])).status_code == 200
    assert _key(client, world, account["id"], ["tenant.read"]).status_code == 201
    listed = client.http.get(f"{BASE}/{account['id']}/keys", headers=world.headers("alice")).json_body
    assert len(listed["items"]) == 3 and all("key" not in k for k in listed["items"])


def test_expired_key_gets_401_and_no_longer_counts_towards_the_limit(client, world):
    account = _account(client, world)
    first = _made_key(client, world, account["id"], ["tenant.read"], expires_at="2099-01-01T00:00:00Z")
    _made_key(client, world, account["id"], ["tenant.read"])

    # When the first key's expiry passes
    _expire(first["id"], int(time.time()) - 1)

    # Then it gets 401 expired, and a new key fits under the limit
    response = client.http.get("/v1/tenants/tn_a", headers=bearer(first["key"]))
    assert response.status_code == 401 and response.json_body["error"]["details"]["reason"] == "expired"
    assert _key(client, world, account["id"], ["tenant.read"]).status_code == 201


def test_a_service_accounts_key_of_another_service_account_is_refused(client, world):
    # Given two service accounts; the key of one presented under the other's id
    one, other = _account(client, world), _account(client, world)
    key = _made_key(client, world, one["id"], ["tenant.read"])["key"]
    forged = key.replace(one["id"], other["id"], 1)

    response = client.http.get("/v1/tenants/tn_a", headers=bearer(forged))

    assert response.status_code == 401


def test_deleting_the_service_account_ends_its_keys(client, world):
    account = _account(client, world)
    key = _made_key(client, world, account["id"], ["tenant.read"])
    assert client.http.get("/v1/tenants/tn_a", headers=bearer(key["key"])).status_code == 200

    deleted = client.http.delete(f"{BASE}/{account['id']}", headers=world.headers("alice"))

    assert deleted.status_code == 204
    assert client.http.get("/v1/tenants/tn_a", headers=bearer(key["key"])).status_code == 401
    assert client.http.get(f"{BASE}/{account['id']}", headers=world.headers("alice")).status_code == 404


def test_every_action_of_a_service_account_is_audited_with_it_as_the_actor(client, world):
    # Given an admin service account's key
    account = _account(client, world, role="admin")
    key = _made_key(client, world, account["id"], ["roles.manage"])

    # When it creates a role, and is refused a write outside its scopes
    created = _post(client, "/v1/tenants/tn_a/roles", bearer(key["key"]), {"name": "Bot made", "permissions": []})
    refused = _post(client, "/v1/tenants/tn_a/members/invitations", bearer(key["key"]), {})
    assert created.status_code == 201 and refused.status_code == 403

    # Then the tenant's audit log names the service account as the actor of both
    entries = client.http.get("/v1/tenants/tn_a/audit", headers=world.headers("alice")).json_body["items"]
    mine = [e for e in entries if e["actor"]["user_id"] == account["id"]]
    assert {(e["action"], e["result"]) for e in mine} == {("create_role", "success"), ("invite_member", "denied")}
    assert all(e["actor"]["via"] == "service_account" for e in mine)
    assert all(e["details"].get("key_id") == key["id"] for e in mine)


def test_owners_are_mailed_once_seven_days_before_a_key_expires(client, world):
    from functions.schedules import key_expiry

    # Given keys expiring in 3 days, in 30 days, and one revoked
    account = _account(client, world)
    now = int(time.time())
    soon = _made_key(client, world, account["id"], ["tenant.read"], expires_at=_iso(now + 3 * 86400))
    _made_key(client, world, account["id"], ["tenant.read"], expires_at=_iso(now + 30 * 86400))
    mailer = FakeMailer()

    # When the schedule runs twice
    with bootstrap.override(mailer=mailer):
        first = key_expiry.handler({"now": now}, None)
        second = key_expiry.handler({"now": now + 3600}, None)

    # Then alice, the owner, got exactly one mail, about the key that expires soon
    assert first["sent"] == 1 and second["sent"] == 0
    mails = mailer.to("alice@example.org")
    assert len(mails) == 1 and soon["prefix"] in mails[0][1]
    assert [to for to, _, _ in mailer.sent] == ["alice@example.org"]


def test_the_expiry_mail_is_in_the_owners_mail_language(client, world):
    from functions.schedules import key_expiry

    # Given alice chose German for her notification mail
    chosen = client.http.patch(
        "/v1/me/notification-preferences", headers=world.headers("alice"), body=json.dumps({"language": "de"})
    )
    assert chosen.status_code == 200, chosen.json_body
    account = _account(client, world)
    now = int(time.time())
    _made_key(client, world, account["id"], ["tenant.read"], expires_at=_iso(now + 86400))
    mailer = FakeMailer()

    with bootstrap.override(mailer=mailer):
        key_expiry.handler({"now": now}, None)

    [(subject, text)] = mailer.to("alice@example.org")
    assert "Dienstkontos" in subject and "widerrufe" in text


def test_a_failed_expiry_mail_is_retried_by_the_next_run(client, world):
    from functions.schedules import key_expiry

    account = _account(client, world)
    now = int(time.time())
    _made_key(client, world, account["id"], ["tenant.read"], expires_at=_iso(now + 86400))

    with bootstrap.override(mailer=FakeMailer(fail=True)):
        failed = key_expiry.handler({"now": now}, None)
    mailer = FakeMailer()
    with bootstrap.override(mailer=mailer):
        retried = key_expiry.handler({"now": now + 60}, None)

    assert failed["failed"] == 1 and retried["sent"] == 1 and len(mailer.sent) == 1


def _iso(epoch: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat()


# --- a user's own key rotation -------------------------------------------------------------


def test_rotation_keeps_both_keys_working_during_the_grace_and_only_the_new_one_after(client, world):
    # Given alice's key
    old = create_key(client, world.headers("alice"), scopes=["tenant.read"], name="deploy").json_body

    # When she rotates it with a one-hour grace
    rotated = _post(client, f"/v1/me/api-keys/{old['id']}/rotate", world.headers("alice"), {"grace_seconds": 3600})

    # Then the new key has the old one's name and scopes, and is shown once
    assert rotated.status_code == 201, rotated.json_body
    new = rotated.json_body
    assert new["id"] != old["id"] and new["replaces"] == old["id"]
    assert new["name"] == "deploy" and new["scopes"] == ["tenant.read"]
    assert new["key"].startswith(f"mhp_usr_alice.{new['id']}.")
    # And both work during the grace
    for key in (old["key"], new["key"]):
        assert client.http.get("/v1/tenants/tn_a", headers=bearer(key)).status_code == 200
    # And the old one is listed as replaced, ending within the hour
    listed = {k["id"]: k for k in client.http.get("/v1/me/api-keys", headers=world.headers("alice")).json_body["items"]}
    assert listed[old["id"]]["replaced_by"] == new["id"]
    assert listed[old["id"]]["expires_at"] == new["previous_expires_at"]

    # When the grace has passed
    _expire(old["id"], int(time.time()) - 1)

    # Then only the new key works
    assert client.http.get("/v1/tenants/tn_a", headers=bearer(old["key"])).status_code == 401
    assert client.http.get("/v1/tenants/tn_a", headers=bearer(new["key"])).status_code == 200


def test_rotation_with_no_grace_ends_the_old_key_at_once_and_cannot_be_repeated(client, world):
    old = create_key(client, world.headers("alice"), scopes=["tenant.read"]).json_body

    rotated = _post(client, f"/v1/me/api-keys/{old['id']}/rotate", world.headers("alice"), {"grace_seconds": 0})
    again = _post(client, f"/v1/me/api-keys/{old['id']}/rotate", world.headers("alice"), {"grace_seconds": 0})

    assert rotated.status_code == 201
    assert client.http.get("/v1/tenants/tn_a", headers=bearer(old["key"])).status_code == 401
    assert again.status_code == 409


@pytest.mark.parametrize("grace", [-1, 86401])
def test_rotation_is_400_when_the_grace_is_outside_0_to_24_hours(client, world, grace):
    old = create_key(client, world.headers("alice"), scopes=["tenant.read"]).json_body

    rotated = _post(client, f"/v1/me/api-keys/{old['id']}/rotate", world.headers("alice"), {"grace_seconds": grace})

    assert rotated.status_code == 400


def test_rotation_is_refused_with_a_key_and_for_another_users_key(client, world):
    mine = create_key(client, world.headers("alice"), scopes=["api_keys.manage"]).json_body
    bobs = create_key(client, world.headers("bob"), scopes=["tenant.read"]).json_body

    with_key = _post(client, f"/v1/me/api-keys/{mine['id']}/rotate", bearer(mine["key"]), {"grace_seconds": 60})
    other = _post(client, f"/v1/me/api-keys/{bobs['id']}/rotate", world.headers("alice"), {"grace_seconds": 60})

    assert with_key.status_code == 403 and with_key.json_body["error"]["code"] == "SESSION_REQUIRED"
    assert other.status_code == 404


def test_a_key_holding_members_manage_may_revoke_a_service_accounts_key(client, world):
    # Given alice's own key with members.manage, and a service account's key in use
    own = create_key(client, world.headers("alice"), scopes=["members.manage"]).json_body["key"]
    account = _account(client, world)
    leaked = _made_key(client, world, account["id"], ["tenant.read"])

    # When automation revokes the leaked key with alice's key (revoking adds no power)
    revoked = client.http.delete(f"{BASE}/{account['id']}/keys/{leaked['id']}", headers=bearer(own))

    # Then it stops working at once
    assert revoked.status_code == 204
    assert client.http.get("/v1/tenants/tn_a", headers=bearer(leaked["key"])).status_code == 401
