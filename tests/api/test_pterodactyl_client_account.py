"""Pterodactyl's client API over the caller's account: details, email, password, API keys,
two-factor and activity, through the real app on moto (tests/api/security_world.py); each
answer is also run through Pterodactyl's shapes (tests/contract/pterodactyl_shapes.py)."""

from __future__ import annotations

import json
import time

import pytest

from mamba.auth import totp
from tests.api.security_world import PASSWORD, bearer, build_world, create_key
from tests.contract.pterodactyl_shapes import assert_shape


@pytest.fixture(scope="module")
def env():
    from tests.support import app_on_moto

    with app_on_moto() as client:
        yield client, build_world()


def call(env, method: str, path: str, who: str | None = None, body: dict | None = None, key: str | None = None):
    client, world = env
    headers = bearer(key) if key else world.headers(who or "alice")
    return getattr(client.http, method)(path, headers=headers, body=json.dumps(body) if body is not None else None)


def test_the_account_is_pterodactyls_user_with_an_integer_id(env):
    answer = call(env, "get", "/api/client/account")

    assert answer.status_code == 200, answer.body[:300]
    assert_shape("client_account", answer.json_body)
    attributes = answer.json_body["attributes"]
    assert attributes["email"] == "alice@example.org" and attributes["username"] == "alice"
    assert attributes["admin"] is False and isinstance(attributes["id"], int)
    # The id is stable, and another user has another one
    assert call(env, "get", "/api/client/account").json_body["attributes"]["id"] == attributes["id"]
    root = call(env, "get", "/api/client/account", "root").json_body["attributes"]
    assert root["admin"] is True and root["id"] != attributes["id"]


def test_an_api_key_created_here_is_identifier_plus_secret_and_works_on_the_client_api(env):
    # When alice creates a key through the client API
    created = call(env, "post", "/api/client/account/api-keys", body={"description": "bot", "allowed_ips": []})
    # Then it answers 200 (not 201) with meta.secret_token, and identifier + secret is the key
    assert created.status_code == 200, created.body[:300]
    assert_shape("client_api_key_created", created.json_body)
    identifier = created.json_body["attributes"]["identifier"]
    key = identifier + created.json_body["meta"]["secret_token"]
    assert identifier.startswith("ptlc_") and created.json_body["attributes"]["description"] == "bot"
    assert call(env, "get", "/api/client/account", key=key).json_body["attributes"]["email"] == "alice@example.org"
    # And it is listed (not paged), then revoked by its identifier
    listed = call(env, "get", "/api/client/account/api-keys").json_body
    assert "meta" not in listed and identifier in [k["attributes"]["identifier"] for k in listed["data"]]
    for entry in listed["data"]:
        assert_shape("client_api_key", entry)
    gone = call(env, "delete", f"/api/client/account/api-keys/{identifier}")
    assert gone.status_code == 204
    assert call(env, "get", "/api/client/account", key=key).status_code == 401
    assert identifier not in [
        k["attributes"]["identifier"] for k in call(env, "get", "/api/client/account/api-keys").json_body["data"]
    ]


def test_a_key_may_mint_a_key_no_stronger_than_itself(env):
    # Given a ptlc_ key limited to reading the account and managing keys, from one network
    client, world = env
    parent = create_key(
        client,
        world.headers("alice"),
        scopes=["account.read", "api_keys.manage"],
        allowed_ips=["10.0.0.0/8"],
        format="pterodactyl",
    ).json_body
    parent_key = parent["key"]
    # (the test client calls from no address, so the networks are checked on the record below)
    from mamba import bootstrap
    from mamba.domain.api_keys import ApiKey
    from mamba.services import api_keys

    parent_record: ApiKey = bootstrap.api_key_repository().get("usr_alice", parent["id"])
    # When the parent mints a child, the child holds the parent's scopes and networks
    child = api_keys.create_key(
        bootstrap.api_key_repository(),
        "usr_alice",
        name="child",
        scopes=list(parent_record.scopes),
        is_admin=False,
        via="api_key",
        email_verified=True,
        spelled="pterodactyl",
        parent=parent_record,
    )
    assert set(child.key.scopes) == {"account.read", "api_keys.manage"}
    assert child.key.allowed_ips == ("10.0.0.0/8",)
    # And a wider scope or a network outside the parent's is refused
    from mamba.domain.errors import ForbiddenError, SessionRequiredError

    with pytest.raises(ForbiddenError):
        api_keys.create_key(
            bootstrap.api_key_repository(), "usr_alice", name="x", scopes=["servers.power"], is_admin=False,
            via="api_key", email_verified=True, parent=parent_record,
        )  # fmt: skip
    with pytest.raises(ForbiddenError):
        api_keys.create_key(
            bootstrap.api_key_repository(), "usr_alice", name="x", scopes=["account.read"], is_admin=False,
            via="api_key", email_verified=True, allowed_ips=["192.0.2.0/24"], parent=parent_record,
        )  # fmt: skip
    # And without a parent a key still cannot create keys (the /v1 rule)
    with pytest.raises(SessionRequiredError):
        api_keys.create_key(
            bootstrap.api_key_repository(), "usr_alice", name="x", scopes=["account.read"], is_admin=False,
            via="api_key", email_verified=True,
        )  # fmt: skip
    assert parent_key.startswith("ptlc_")


def test_a_ptlc_key_creates_a_key_through_the_door_with_its_own_scopes(env):
    client, world = env
    parent = create_key(
        client, world.headers("bob"), scopes=["account.read", "api_keys.manage"], format="pterodactyl"
    ).json_body["key"]

    created = call(env, "post", "/api/client/account/api-keys", body={"description": "from a key"}, key=parent)

    assert created.status_code == 200, created.body[:300]
    child = created.json_body["attributes"]["identifier"] + created.json_body["meta"]["secret_token"]
    assert call(env, "get", "/api/client/account", key=child).status_code == 200
    # The child cannot list servers: its parent could not either
    assert call(env, "get", "/api/client", key=child).status_code == 403


def test_a_key_without_the_key_scope_cannot_manage_keys(env):
    client, world = env
    key = create_key(client, world.headers("vic"), scopes=["account.read"], format="pterodactyl").json_body["key"]

    refused = call(env, "post", "/api/client/account/api-keys", body={"description": "x"}, key=key)

    assert refused.status_code == 403
    assert refused.json_body["errors"][0]["code"] == "AccessDeniedHttpException"


def test_the_26th_key_is_pterodactyls_400(env):
    # Given bob already holds 25 live keys (one from the test above)
    held = len(call(env, "get", "/api/client/account/api-keys", "bob").json_body["data"])
    for n in range(25 - held):
        assert call(env, "post", "/api/client/account/api-keys", "bob", {"description": f"k{n}"}).status_code == 200
    # When he asks for one more
    refused = call(env, "post", "/api/client/account/api-keys", "bob", {"description": "one too many"})
    # Then it is refused in Pterodactyl's shape
    assert refused.status_code == 400
    assert refused.json_body["errors"][0]["status"] == "400"


def test_an_email_change_needs_the_password_and_a_session(env):
    client, world = env
    wrong = call(env, "put", "/api/client/account/email", body={"email": "new@example.org", "password": "nope"})
    assert wrong.status_code in (400, 422), wrong.body[:300]
    done = call(env, "put", "/api/client/account/email", body={"email": "new@example.org", "password": PASSWORD})
    assert done.status_code == 204, done.body[:300]
    # The new address waits for its verification link, as on /v1
    me = client.http.get("/v1/me", headers=world.headers("alice")).json_body
    assert me["email"] == "alice@example.org" and me.get("pending_email") == "new@example.org"
    key = create_key(client, world.headers("alice"), scopes=["account.write"], format="pterodactyl").json_body["key"]
    with_key = call(
        env, "put", "/api/client/account/email", body={"email": "x@example.org", "password": PASSWORD}, key=key
    )
    assert with_key.status_code == 403


def test_a_password_change_checks_the_confirmation_and_the_current_password(env):
    mismatch = call(
        env, "put", "/api/client/account/password",
        body={"current_password": PASSWORD, "password": "another good passphrase", "password_confirmation": "x"},
    )  # fmt: skip
    assert mismatch.status_code == 422
    entry = mismatch.json_body["errors"][0]
    assert entry["code"] == "ValidationException" and entry["status"] == "422"
    assert entry["meta"] == {"source_field": "password", "rule": "confirmed"}
    wrong = call(
        env, "put", "/api/client/account/password",
        body={"current_password": "wrong", "password": "another good passphrase"},
    )  # fmt: skip
    assert wrong.status_code in (400, 422)


def test_two_factor_enrol_confirm_and_disable(env):
    # When alice starts enrolment
    started = call(env, "get", "/api/client/account/two-factor")
    assert started.status_code == 200, started.body[:300]
    assert_shape("client_two_factor", started.json_body)
    secret = started.json_body["data"]["secret"]
    assert started.json_body["data"]["image_url_data"].startswith("otpauth://totp/")
    # And confirms with a current code
    counter = totp.counter_for(time.time())
    enabled = call(env, "post", "/api/client/account/two-factor", body={"code": totp.code_at(secret, counter)})
    assert enabled.status_code == 200, enabled.body[:300]
    assert enabled.json_body["object"] == "recovery_tokens"
    tokens = enabled.json_body["attributes"]["tokens"]
    assert len(tokens) == 10
    # Then asking to enrol again is Pterodactyl's 400
    again = call(env, "get", "/api/client/account/two-factor")
    assert again.status_code == 400 and again.json_body["errors"][0]["status"] == "400"
    # And disabling needs a code besides the password (Mamba's rule), and a right password
    no_code = call(env, "post", "/api/client/account/two-factor/disable", body={"password": PASSWORD})
    assert no_code.status_code == 422
    wrong = call(env, "post", "/api/client/account/two-factor/disable", body={"password": "nope", "code": tokens[0]})
    assert wrong.status_code == 401
    off = call(env, "post", "/api/client/account/two-factor/disable", body={"password": PASSWORD, "code": tokens[1]})
    assert off.status_code == 204, off.body[:300]
    from mamba import bootstrap
    from mamba.services import two_factor

    assert not two_factor.status("usr_alice", bootstrap.two_factor_store()).enabled
    # Disabling again is Pterodactyl's 400
    assert call(env, "delete", "/api/client/account/two-factor", body={"password": PASSWORD}).status_code == 400


def test_account_activity_lists_what_the_account_did(env):
    # Given alice did things on her account (a key created and revoked)
    made = call(env, "post", "/api/client/account/api-keys", body={"description": "to audit"}).json_body
    call(env, "delete", f"/api/client/account/api-keys/{made['attributes']['identifier']}")
    answer = call(env, "get", "/api/client/account/activity?per_page=2")

    assert answer.status_code == 200, answer.body[:300]
    assert_shape("client_activity_log", answer.json_body)
    body = answer.json_body
    assert body["meta"]["pagination"]["per_page"] == 2 and body["meta"]["pagination"]["total"] >= 2
    assert len(body["data"]) == 2
    first, second = (e["attributes"]["timestamp"] for e in body["data"])
    assert first >= second  # newest first
    oldest = call(env, "get", "/api/client/account/activity?sort=timestamp&per_page=1").json_body["data"][0]
    assert oldest["attributes"]["timestamp"] <= second


def test_no_credential_is_pterodactyls_401(env):
    client, _ = env
    answer = client.http.get("/api/client/account")

    assert answer.status_code == 401
    assert_shape("error_unauthenticated", answer.json_body)


def test_the_permission_table_is_pterodactyls(env):
    answer = call(env, "get", "/api/client/permissions")

    assert answer.status_code == 200
    assert_shape("client_permissions", answer.json_body)


def test_ssh_keys_are_not_offered_pterodactyls_501(env):
    listed = call(env, "get", "/api/client/account/ssh-keys")
    added = call(env, "post", "/api/client/account/ssh-keys", body={"name": "x", "public_key": "ssh-ed25519 AAAA"})

    assert listed.status_code == added.status_code == 501
    assert listed.json_body["errors"][0]["status"] == "501"
