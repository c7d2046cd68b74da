"""Account recovery versus API keys, and who owns an email address, through the real app on
moto (issue 10, finding 2): a reset, a password change or a suspension ends every API key;
an unverified account mints none; the email and the password change only from a session
that proves the password; the owner of an address wins it from an unverified registrant;
the mails a signed-in caller can trigger are rate limited."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mamba import bootstrap
from tests.api.test_accounts import (  # noqa: F401 - fixtures: configure, cheap_hashing (autouse)
    EMAIL,
    NEW_PASSWORD,
    PASSWORD,
    bearer,
    cheap_hashing,
    configure,
    login,
    mails_to,
    post,
    register,
    token_from,
    verified_account,
)

ATTACKER_PASSWORD = "the squatters own passphrase"


@pytest.fixture
def settings_with(configure):  # noqa: F811 - the imported fixture, under a name that says what it does
    return configure


def session(client: Any, email: str = EMAIL, password: str = PASSWORD) -> dict[str, str]:
    response = login(client, email=email, password=password)
    assert response.status_code == 200, response.json_body
    return {**bearer(response.json_body["access_token"]), "Content-Type": "application/json"}


def new_key(client: Any, headers: dict[str, str], scopes: tuple[str, ...] = ("account.read", "account.write")) -> Any:
    return client.http.post(
        "/v1/me/api-keys", headers=headers, body=json.dumps({"name": "automation", "scopes": list(scopes)})
    )


def key_headers(key: str) -> dict[str, str]:
    return {**bearer(key), "Content-Type": "application/json"}


def me_with(client: Any, headers: dict[str, str]) -> Any:
    return client.http.get("/v1/me", headers=headers)


def reset_through_mail(client: Any, email: str, password: str) -> Any:
    assert post(client, "/v1/auth/password/forgot", {"email": email}).status_code == 202
    token = token_from(mails_to(email)[-1][1])
    return post(client, "/v1/auth/password/reset", {"token": token, "password": password})


def listed_revoked(client: Any, headers: dict[str, str]) -> dict[str, str | None]:
    items = client.http.get("/v1/me/api-keys", headers=headers).json_body["items"]
    return {k["id"]: k["revoked_at"] for k in items}


# --- API keys end with a credential reset ----------------------------------------------------


def test_password_reset_revokes_api_keys(client):
    # Given a verified account with a working API key
    verified_account(client)
    created = new_key(client, session(client))
    assert created.status_code == 201, created.json_body
    key = created.json_body["key"]
    assert me_with(client, key_headers(key)).status_code == 200

    # When the account's password is reset through the mailed link
    assert reset_through_mail(client, EMAIL, NEW_PASSWORD).status_code == 200

    # Then the key is refused, and the key list shows it revoked
    refused = me_with(client, key_headers(key))
    assert refused.status_code == 401
    assert refused.json_body["error"]["details"]["reason"] == "revoked"
    assert listed_revoked(client, session(client, password=NEW_PASSWORD))[created.json_body["id"]] is not None


def test_password_change_revokes_api_keys_and_sessions(client):
    # Given a verified account with a session and a working API key
    verified_account(client)
    headers = session(client)
    created = new_key(client, headers)
    key = created.json_body["key"]

    # When the owner changes the password, proving the current one
    changed = post(
        client, "/v1/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=headers
    )

    # Then the change is done, and the key and the old session both stop working
    assert changed.status_code == 200, changed.json_body
    assert me_with(client, key_headers(key)).status_code == 401
    assert me_with(client, headers).status_code == 401
    assert login(client).status_code == 401
    assert listed_revoked(client, session(client, password=NEW_PASSWORD))[created.json_body["id"]] is not None


def test_password_change_is_400_when_the_current_password_is_wrong(client):
    verified_account(client)
    headers = session(client)
    key = new_key(client, headers).json_body["key"]

    response = post(
        client, "/v1/me/password", {"current_password": "not the password!", "new_password": NEW_PASSWORD}, headers
    )

    assert response.status_code == 400
    assert response.json_body["error"]["details"]["field"] == "current_password"
    # And nothing changed: the old password, the session and the key still work
    assert me_with(client, key_headers(key)).status_code == 200
    assert login(client).status_code == 200


def test_password_change_names_the_new_password_when_it_is_common(client):
    # The web form places the policy's refusal under the new password's input, not the current one's
    verified_account(client)
    headers = session(client)

    response = post(client, "/v1/me/password", {"current_password": PASSWORD, "new_password": "password1234"}, headers)

    assert response.status_code == 400
    details = response.json_body["error"]["details"]
    assert [f["field"] for f in details["fields"]] == ["new_password"]
    assert login(client).status_code == 200


def test_admin_suspension_revokes_api_keys_for_good(client):
    # Given a verified account with a working API key, and a platform admin
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.auth.tokens import issue_access
    from mamba.domain.accounts import User

    user_id = verified_account(client)["id"]
    created = new_key(client, session(client))
    key = created.json_body["key"]
    DynamoUserRepository().add(
        User(id="usr_root", email="root@example.org", created_at="2026-11-25T10:00:00Z", is_admin=True)
    )
    admin = {**bearer(issue_access("usr_root", bootstrap.settings().jwt_secret)), "Content-Type": "application/json"}

    # When the admin suspends the account and later lifts the suspension
    assert post(client, f"/v1/admin/users/{user_id}/suspend", {}, admin).status_code == 200
    assert post(client, f"/v1/admin/users/{user_id}/unsuspend", {}, admin).status_code == 200

    # Then the key stays dead (it was revoked, not merely paused)
    refused = me_with(client, key_headers(key))
    assert refused.status_code == 401
    assert refused.json_body["error"]["details"]["reason"] == "revoked"
    assert listed_revoked(client, session(client))[created.json_body["id"]] is not None


def test_api_key_created_before_reset_is_refused(client, monkeypatch):
    # Given a verified account with a key, and a reset whose revocation of the key items is
    # lost (a failed write, or a key created while it ran)
    from mamba.adapters.dynamo.api_keys import DynamoApiKeyRepository

    verified_account(client)
    created = new_key(client, session(client)).json_body
    monkeypatch.setattr(DynamoApiKeyRepository, "revoke_all", lambda self, user_id, at: 0, raising=False)
    assert reset_through_mail(client, EMAIL, NEW_PASSWORD).status_code == 200

    # When the old key is used, Then the guard refuses it as revoked, though its item says nothing
    refused = me_with(client, key_headers(created["key"]))
    assert refused.status_code == 401
    assert refused.json_body["error"]["details"]["reason"] == "revoked"
    headers = session(client, password=NEW_PASSWORD)
    assert listed_revoked(client, headers)[created["id"]] is None
    # And a key created after the reset works
    fresh = new_key(client, headers).json_body["key"]
    assert me_with(client, key_headers(fresh)).status_code == 200


def test_unverified_account_cannot_mint_api_keys(client):
    # Given an account whose email is not verified yet
    assert register(client).status_code == 201
    headers = session(client)

    # When it asks for an API key
    response = new_key(client, headers)

    # Then it is refused, and no key exists
    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "EMAIL_NOT_VERIFIED"
    assert client.http.get("/v1/me/api-keys", headers=headers).json_body["items"] == []


# --- the email and the password change only from a session that proves the password ----------


def test_email_change_requires_current_password(client):
    verified_account(client)
    headers = session(client)

    # When the email is changed without the password, or with a wrong one
    missing = client.http.patch("/v1/me", headers=headers, body=json.dumps({"email": "thief@example.net"}))
    wrong = client.http.patch(
        "/v1/me", headers=headers, body=json.dumps({"email": "thief@example.net", "current_password": "guess guess!"})
    )

    # Then both are 400 naming current_password, and nothing was mailed to the new address
    for response in (missing, wrong):
        assert response.status_code == 400, response.json_body
        assert response.json_body["error"]["details"]["field"] == "current_password"
    assert mails_to("thief@example.net") == []
    assert me_with(client, headers).json_body["pending_email"] is None
    # And with the password it starts the change
    right = client.http.patch(
        "/v1/me", headers=headers, body=json.dumps({"email": "new@example.net", "current_password": PASSWORD})
    )
    assert right.status_code == 200 and right.json_body["pending_email"] == "new@example.net"


def test_api_key_cannot_change_email_or_password(client):
    # Given a key that holds account.write, and even knows the password
    verified_account(client)
    key = key_headers(new_key(client, session(client)).json_body["key"])

    # When it tries to change the email and the password
    email = client.http.patch(
        "/v1/me", headers=key, body=json.dumps({"email": "thief@example.net", "current_password": PASSWORD})
    )
    password = post(client, "/v1/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, key)

    # Then both are 403 SESSION_REQUIRED and nothing changed
    for response in (email, password):
        assert response.status_code == 403, response.json_body
        assert response.json_body["error"]["code"] == "SESSION_REQUIRED"
    assert me_with(client, key).json_body["pending_email"] is None
    assert login(client).status_code == 200
    # And a harmless change (the name) is still allowed with the key
    assert client.http.patch("/v1/me", headers=key, body=json.dumps({"name": "Bot"})).status_code == 200


# --- who owns an address ---------------------------------------------------------------------


def test_first_unverified_registrant_loses_the_address_to_its_owner(client):
    # Given a squatter registered the owner's address (never verified) and keeps a session
    assert register(client, EMAIL, ATTACKER_PASSWORD).status_code == 201
    squatter = session(client, password=ATTACKER_PASSWORD)

    # When the address's owner tries to register it
    refused = register(client, EMAIL, PASSWORD)

    # Then the answer is 409, and the address gets a link to claim the account
    assert refused.status_code == 409
    subject, text = mails_to(EMAIL)[-1]
    assert "Claim" in subject
    # When the owner follows it and sets a password
    reset = post(client, "/v1/auth/password/reset", {"token": token_from(text), "password": PASSWORD})
    assert reset.status_code == 200, reset.json_body

    # Then the owner holds the account, verified (2FA and a pending change the squatter set
    # up go too: tests/unit/test_account_takeover_rules.py)
    owner = session(client)
    me = me_with(client, owner).json_body
    assert (me["email"], me["email_verified"]) == (EMAIL, True)
    # And the squatter's password and session no longer work
    assert login(client, password=ATTACKER_PASSWORD).status_code == 401
    assert me_with(client, squatter).status_code == 401


def test_registering_a_verified_address_mails_no_claim_link(client):
    verified_account(client)
    before = len(mails_to(EMAIL))

    assert register(client, EMAIL, NEW_PASSWORD).status_code == 409

    assert len(mails_to(EMAIL)) == before


# --- mails a signed-in caller can trigger -----------------------------------------------------


def test_email_change_mails_are_rate_limited(client, settings_with):
    # Given an account allowed two email-change mails an hour
    settings_with(argon2_time_cost=1, argon2_memory_kib=8 * 1024, rate_email_change_account=2)
    verified_account(client)
    headers = session(client)

    def change(address: str) -> Any:
        body = {"email": address, "current_password": PASSWORD}
        return client.http.patch("/v1/me", headers=headers, body=json.dumps(body))

    # When it asks for a third
    first, second, third = change("one@example.net"), change("two@example.net"), change("three@example.net")

    # Then the third is 429 in the panel's error shape, and no mail went to that address
    assert (first.status_code, second.status_code) == (200, 200)
    assert third.status_code == 429
    assert third.json_body["error"]["code"] == "RATE_LIMITED" and "request_id" in third.json_body
    assert int(third.headers["Retry-After"]) > 0
    assert mails_to("three@example.net") == []


@pytest.fixture
def tenancy(client):
    from tests.api.tenancy_helpers import make_world

    return make_world(client)


def test_invitation_mails_are_rate_limited_per_tenant(tenancy, settings_with):
    from tests.api.tenancy_helpers import join, mail_to

    # Given carol is an admin of tn_a next to alice (one invitation already sent from tn_a),
    # and a tenant may send three invitations an hour
    join(tenancy, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "admin")
    settings_with(rate_invite_tenant=3, rate_invite_account=10)

    def invite(tenant: str, who: str, address: str) -> Any:
        return tenancy.post(f"/v1/tenants/{tenant}/members/invitations", who, {"email": address, "role": "viewer"})

    # When alice sends two more and carol a third
    sent = [invite("tn_a", "usr_alice", "x1@example.net"), invite("tn_a", "usr_alice", "x2@example.net")]
    refused = invite("tn_a", "usr_carol", "x3@example.net")

    # Then the tenant's fourth invitation is 429 and mails nothing, whoever sends it
    assert [r.status_code for r in sent] == [201, 201]
    assert refused.status_code == 429 and refused.json_body["error"]["code"] == "RATE_LIMITED"
    assert mail_to("x3@example.net") == []
    # And another tenant is not affected
    assert invite("tn_b", "usr_bob", "x3@example.net").status_code == 201


def test_invitation_mails_are_rate_limited_per_account(tenancy, settings_with):
    from tests.api.tenancy_helpers import mail_to

    settings_with(rate_invite_account=2, rate_invite_tenant=50)

    def invite(address: str) -> Any:
        return tenancy.post("/v1/tenants/tn_a/members/invitations", "usr_alice", {"email": address, "role": "viewer"})

    codes = [invite(f"y{n}@example.net").status_code for n in range(3)]

    assert codes == [201, 201, 429]
    assert mail_to("y2@example.net") == []


def test_key_check_after_a_reset_costs_no_extra_dynamodb_call(client, monkeypatch):
    # Given an account with a reset on record and a key created after it (its last use recorded)
    from moto.dynamodb.responses import DynamoHandler

    verified_account(client)
    assert reset_through_mail(client, EMAIL, NEW_PASSWORD).status_code == 200
    key = key_headers(new_key(client, session(client, password=NEW_PASSWORD)).json_body["key"])
    assert me_with(client, key).status_code == 200
    actions: list[str] = []
    original = DynamoHandler.call_action

    def counted(handler: Any) -> Any:
        actions.append(str(handler.headers.get("X-Amz-Target", "")).rsplit(".", 1)[-1])
        return original(handler)

    monkeypatch.setattr(DynamoHandler, "call_action", counted)

    # When the key reads one resource (the account)
    assert me_with(client, key).status_code == 200

    # Then the guard's one BatchGetItem (user and key) is all: the account read takes the user
    # item the guard read for this request (mamba.adapters.dynamo.prefetch)
    assert actions == ["BatchGetItem"]
