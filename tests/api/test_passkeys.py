"""Passkeys (WebAuthn) through chalice.test.Client on moto: registration from the account,
sign-in with a passkey alone, and a passkey as the second factor of a password login.

The authenticator is ``tests.webauthn_authenticator.SoftAuthenticator``: real P-256
signatures checked by py_webauthn, so each refusal below is the library's or the panel's,
not a stub's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from mamba import bootstrap
from tests.api.security_world import PASSWORD, World, bearer, build_world, create_key
from tests.api.test_accounts import configure  # noqa: F401 - a fixture, for the provider sign-in
from tests.api.test_oauth_sign_in import idp, oauth  # noqa: F401 - fixtures
from tests.webauthn_authenticator import SoftAuthenticator


@pytest.fixture
def world(client) -> World:
    return build_world()


@pytest.fixture
def device() -> SoftAuthenticator:
    return SoftAuthenticator(origin=bootstrap.settings().public_url)


def _post(client, path: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
    return client.http.post(path, headers=headers or {"Content-Type": "application/json"}, body=json.dumps(body or {}))


def _register(client, world: World, device: SoftAuthenticator, who: str = "alice", name: str = "Laptop") -> dict:
    begun = _post(client, "/v1/me/passkeys/registration", headers=world.headers(who))
    assert begun.status_code == 200, begun.json_body
    answer = device.create(begun.json_body["public_key"])
    done = _post(
        client,
        "/v1/me/passkeys",
        {"challenge_id": begun.json_body["challenge_id"], "credential": answer, "name": name},
        world.headers(who),
    )
    assert done.status_code == 201, done.json_body
    return done.json_body


def _options(client) -> dict:
    response = _post(client, "/v1/auth/passkeys/options")
    assert response.status_code == 200, response.json_body
    return response.json_body


def _sign_in(client, device: SoftAuthenticator, **get: Any):
    ceremony = _options(client)
    answer = device.get(ceremony["public_key"], **get)
    return _post(client, "/v1/auth/passkeys/login", {"challenge_id": ceremony["challenge_id"], "credential": answer})


def _passkeys(client, world: World, who: str = "alice") -> list[dict]:
    response = client.http.get("/v1/me/passkeys", headers=world.headers(who))
    assert response.status_code == 200
    return response.json_body["items"]


def test_registration_stores_the_passkey_and_counts_it_as_a_second_factor(client, world, device):
    # Given alice starts a registration
    begun = _post(client, "/v1/me/passkeys/registration", headers=world.headers("alice")).json_body
    options = begun["public_key"]
    # Then the options ask for a discoverable credential with user verification, for the panel's host
    assert (
        options["rp"]["id"] == "127.0.0.1"
        or options["rp"]["id"] == bootstrap.settings().public_url.split("//")[1].split(":")[0]
    )
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"

    # When her authenticator answers
    answer = device.create(options)
    made = _post(
        client,
        "/v1/me/passkeys",
        {"challenge_id": begun["challenge_id"], "credential": answer, "name": "Laptop"},
        world.headers("alice"),
    )

    # Then the passkey is listed with its name and backup state, and the account has 2FA
    assert made.status_code == 201, made.json_body
    assert made.json_body["name"] == "Laptop" and made.json_body["backup_eligible"] is True
    listed = _passkeys(client, world)
    assert [p["id"] for p in listed] == [made.json_body["id"]]
    assert listed[0]["last_used_at"] is None and "public_key" not in listed[0]
    assert bootstrap.user_repository().get("usr_alice").has_second_factor
    # And the same answer cannot register twice (the challenge was spent)
    again = _post(
        client,
        "/v1/me/passkeys",
        {"challenge_id": begun["challenge_id"], "credential": answer},
        world.headers("alice"),
    )
    assert again.status_code == 400 and again.json_body["error"]["code"] == "PASSKEY_REJECTED"


def test_registration_is_refused_when_the_origin_or_user_verification_is_wrong(client, world, device):
    for broken in ({"origin": "https://evil.example"}, {"user_verified": False}):
        begun = _post(client, "/v1/me/passkeys/registration", headers=world.headers("alice")).json_body
        sloppy = SoftAuthenticator(
            origin=broken.get("origin", device.origin), user_verified=broken.get("user_verified", True)
        )
        answer = sloppy.create(begun["public_key"])
        response = _post(
            client,
            "/v1/me/passkeys",
            {"challenge_id": begun["challenge_id"], "credential": answer},
            world.headers("alice"),
        )
        assert response.status_code == 400, broken
        assert response.json_body["error"]["code"] == "PASSKEY_REJECTED"
    assert _passkeys(client, world) == []


def test_another_accounts_registration_challenge_is_refused(client, world, device):
    # Given bob's ceremony
    begun = _post(client, "/v1/me/passkeys/registration", headers=world.headers("bob")).json_body
    # When alice finishes it with her authenticator
    answer = device.create(begun["public_key"])
    response = _post(
        client, "/v1/me/passkeys", {"challenge_id": begun["challenge_id"], "credential": answer}, world.headers("alice")
    )
    # Then it is refused and nothing is stored for either
    assert response.status_code == 400
    assert _passkeys(client, world, "alice") == [] and _passkeys(client, world, "bob") == []


def test_an_api_key_cannot_register_or_delete_a_passkey(client, world, device):
    key = create_key(client, world.headers("alice"), scopes=["account.write", "account.read"]).json_body["key"]
    begun = _post(client, "/v1/me/passkeys/registration", headers=bearer(key))
    assert begun.status_code == 403 and begun.json_body["error"]["code"] == "SESSION_REQUIRED"
    made = _register(client, world, device)
    deleted = client.http.delete(f"/v1/me/passkeys/{made['id']}", headers=bearer(key))
    assert deleted.status_code == 403 and deleted.json_body["error"]["code"] == "SESSION_REQUIRED"


def test_an_unverified_account_cannot_register_a_passkey(client, world):
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem

    UserItem(*keys.user("usr_alice")).update(actions=[UserItem.email_verified.set(False)])
    response = _post(client, "/v1/me/passkeys/registration", headers=world.headers("alice"))
    assert response.status_code == 403 and response.json_body["error"]["code"] == "EMAIL_NOT_VERIFIED"


def test_sign_in_with_a_passkey_alone_starts_a_session_and_records_the_use(client, world, device):
    # Given alice has a passkey
    made = _register(client, world, device)

    # When she signs in with it, no email or password
    response = _sign_in(client, device)

    # Then she holds a session like a password login's
    assert response.status_code == 200, response.json_body
    me = client.http.get("/v1/me", headers=bearer(response.json_body["access_token"]))
    assert me.status_code == 200 and me.json_body["id"] == "usr_alice"
    assert response.json_body["refresh_token"]
    # And the passkey's counter and last use are stored
    [listed] = _passkeys(client, world)
    assert listed["id"] == made["id"] and listed["last_used_at"] is not None
    stored = bootstrap.passkey_ports().store.get("usr_alice", made["id"])
    assert stored is not None and stored.sign_count == device.credentials[-1].sign_count == 2


def test_a_replayed_sign_in_is_refused(client, world, device):
    _register(client, world, device)
    ceremony = _options(client)
    answer = device.get(ceremony["public_key"])
    body = {"challenge_id": ceremony["challenge_id"], "credential": answer}
    assert _post(client, "/v1/auth/passkeys/login", body).status_code == 200

    replay = _post(client, "/v1/auth/passkeys/login", body)

    assert replay.status_code == 401
    assert replay.json_body["error"]["details"]["reason"] == "passkey_invalid"


@pytest.mark.parametrize(
    "breakage",
    [
        "counter_did_not_grow",
        "backup_eligibility_changed",
        "another_key_signed",
        "wrong_origin",
        "no_user_verification",
        "another_users_handle",
    ],
)
def test_a_passkey_sign_in_is_refused_when(client, world, device, breakage):
    # Given alice's passkey, used once (counter 2)
    _register(client, world, device)
    assert _sign_in(client, device).status_code == 200
    get: dict[str, Any] = {}
    if breakage == "counter_did_not_grow":  # a cloned authenticator replays an older counter
        get["sign_count"] = 2
    elif breakage == "backup_eligibility_changed":  # fixed for a credential's life
        device.backup_eligible = False
    elif breakage == "another_key_signed":
        get["key"] = ec.generate_private_key(ec.SECP256R1())
    elif breakage == "wrong_origin":
        get["origin"] = "https://phish.example"
    elif breakage == "no_user_verification":
        device.user_verified = False
    elif breakage == "another_users_handle":
        get["user_handle"] = b"usr_bob"

    response = _sign_in(client, device, **get)

    assert response.status_code == 401, response.json_body
    assert response.json_body["error"]["details"]["reason"] == "passkey_invalid"


def test_an_unknown_or_spent_challenge_is_refused(client, world, device):
    _register(client, world, device)
    answer = device.get(_options(client)["public_key"])
    response = _post(client, "/v1/auth/passkeys/login", {"challenge_id": "wac_nope", "credential": answer})
    assert response.status_code == 401


def test_a_suspended_account_cannot_sign_in_with_its_passkey(client, world, device):
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem

    _register(client, world, device)
    UserItem(*keys.user("usr_alice")).update(actions=[UserItem.status.set("suspended")])
    response = _sign_in(client, device)
    assert response.status_code == 401
    assert response.json_body["error"]["details"]["reason"] == "inactive"


def _login(client, **extra: Any):
    return _post(client, "/v1/auth/login", {"email": "alice@example.org", "password": PASSWORD, **extra})


def test_a_password_login_asks_for_the_passkey_as_second_factor(client, world, device):
    # Given alice has a passkey (and no TOTP)
    _register(client, world, device)

    # When she logs in with her password only
    asked = _login(client)

    # Then the second factor is asked for, naming the passkey as the way to give it
    assert asked.status_code == 401
    assert asked.json_body["error"]["details"]["reason"] == "totp_required"
    assert asked.json_body["error"]["details"]["methods"] == ["passkey"]

    # When she answers with her passkey
    ceremony = _options(client)
    answer = device.get(ceremony["public_key"])
    done = _login(client, passkey={"challenge_id": ceremony["challenge_id"], "credential": answer})

    # Then she is signed in
    assert done.status_code == 200, done.json_body
    assert client.http.get("/v1/me", headers=bearer(done.json_body["access_token"])).json_body["id"] == "usr_alice"


def test_another_accounts_passkey_is_not_a_second_factor(client, world, device):
    # Given alice and bob each have a passkey
    _register(client, world, device)
    bobs = SoftAuthenticator(origin=device.origin)
    _register(client, world, bobs, who="bob")

    # When alice's password is given with bob's passkey
    ceremony = _options(client)
    answer = bobs.get(ceremony["public_key"])
    response = _login(client, passkey={"challenge_id": ceremony["challenge_id"], "credential": answer})

    # Then it is refused, and counted as a failed login
    assert response.status_code == 401
    assert response.json_body["error"]["details"]["reason"] == "passkey_invalid"
    assert bootstrap.user_repository().get("usr_alice").failed_logins == 1


def test_a_tenant_requiring_2fa_admits_a_member_with_a_passkey(client, world, device):
    # Given alice without any second factor cannot require 2FA of her tenant
    refused = client.http.patch(
        "/v1/tenants/tn_a", headers=world.headers("alice"), body=json.dumps({"require_2fa": True})
    )
    assert refused.status_code == 409
    # When she adds a passkey
    _register(client, world, device)
    # Then she can require it, and still uses the tenant
    done = client.http.patch("/v1/tenants/tn_a", headers=world.headers("alice"), body=json.dumps({"require_2fa": True}))
    assert done.status_code == 200, done.json_body
    assert client.http.get("/v1/tenants/tn_a", headers=world.headers("alice")).status_code == 200
    # And vic, a member without one, is refused
    vic = client.http.get("/v1/tenants/tn_a", headers=world.headers("vic"))
    assert vic.status_code == 403 and vic.json_body["error"]["code"] == "TWO_FACTOR_REQUIRED"


def test_rename_and_delete_only_touch_ones_own_passkeys(client, world, device):
    made = _register(client, world, device)
    path = f"/v1/me/passkeys/{made['id']}"

    # bob cannot see, rename or delete it: 404 like a missing one
    assert client.http.patch(path, headers=world.headers("bob"), body=json.dumps({"name": "x"})).status_code == 404
    assert client.http.delete(path, headers=world.headers("bob")).status_code == 404

    renamed = client.http.patch(path, headers=world.headers("alice"), body=json.dumps({"name": "Phone"}))
    assert renamed.status_code == 200 and renamed.json_body["name"] == "Phone"

    assert client.http.delete(path, headers=world.headers("alice")).status_code == 204
    assert _passkeys(client, world) == []
    assert not bootstrap.user_repository().get("usr_alice").has_second_factor
    # And a deleted passkey no longer signs in
    assert _sign_in(client, device).status_code == 401
    assert client.http.delete(path, headers=world.headers("alice")).status_code == 404


def test_an_admins_2fa_reset_removes_a_lost_passkey(client, world, device):
    # Given alice's only second factor is a passkey on a phone she lost
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem
    from mamba.auth.passwords import hash_password

    _register(client, world, device)
    UserItem(*keys.user("usr_root")).update(actions=[UserItem.password_hash.set(hash_password(PASSWORD))])

    # And the admin sees it on her account
    shown = client.http.get("/v1/admin/users/usr_alice", headers=world.headers("root")).json_body
    assert (shown["totp_enabled"], shown["passkeys"]) == (False, 1)

    # When a platform admin resets her 2FA, proving it is them
    done = client.http.post(
        "/v1/admin/users/usr_alice/2fa/reset",
        headers=world.headers("root"),
        body=json.dumps({"current_password": PASSWORD}),
    )

    # Then her passkeys are gone, and her password alone signs her in again
    assert done.status_code == 200, done.json_body
    assert done.json_body["passkeys"] == 0
    assert _passkeys(client, world) == []
    assert not bootstrap.user_repository().get("usr_alice").has_second_factor
    assert _login(client).status_code == 200


def test_deleting_the_account_deletes_its_passkeys(client, world, device):
    made = _register(client, world, device)

    deleted = client.http.delete(
        "/v1/me", headers=world.headers("alice"), body=json.dumps({"current_password": PASSWORD})
    )

    assert deleted.status_code == 200, deleted.json_body
    assert bootstrap.passkey_ports().store.get("usr_alice", made["id"]) is None
    assert _sign_in(client, device).status_code == 401


@pytest.mark.parametrize(
    "garbage",
    [
        {},
        {"rawId": 7, "response": "nope"},
        {"id": "x", "rawId": "!!not base64!!", "type": "public-key", "response": {"userHandle": 5}},
        {
            "id": "AA",
            "rawId": "AA",
            "type": "public-key",
            "response": {"clientDataJSON": "e30", "userHandle": "dXNyX2FsaWNl"},
        },
    ],
)
def test_a_malformed_answer_is_a_401_never_a_500(client, world, device, garbage):
    _register(client, world, device)
    ceremony = _options(client)

    response = _post(
        client, "/v1/auth/passkeys/login", {"challenge_id": ceremony["challenge_id"], "credential": garbage}
    )

    assert response.status_code == 401, response.json_body
    assert response.json_body["error"]["details"]["reason"] == "passkey_invalid"


@pytest.mark.parametrize("garbage", [{}, {"id": "x", "response": []}, {"response": {"transports": "usb"}}])
def test_a_malformed_registration_is_a_400_never_a_500(client, world, garbage):
    begun = _post(client, "/v1/me/passkeys/registration", headers=world.headers("alice")).json_body
    response = _post(
        client,
        "/v1/me/passkeys",
        {"challenge_id": begun["challenge_id"], "credential": garbage},
        world.headers("alice"),
    )
    assert response.status_code == 400 and response.json_body["error"]["code"] == "PASSKEY_REJECTED"


def test_import_app_loads_no_webauthn_library():
    # py_webauthn brings cryptography, cbor2 and pyOpenSSL (~130 ms of CPU): only a passkey
    # request may pay for it, never every function's cold start (docs/dependencies.md).
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{root / 'layers' / 'core'}{os.pathsep}{root}"}
    probe = (
        "import sys, app; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'webauthn', 'cbor2', 'OpenSSL', 'cryptography'}), "
        "'mamba.services.passkeys' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=root, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "False"]


def test_starting_ceremonies_is_rate_limited(client, world, monkeypatch):
    from mamba.domain.ratelimit import Limit
    from mamba.services import passkeys

    monkeypatch.setattr(passkeys, "CEREMONIES", Limit("passkey-ceremony", 2, 15 * 60))
    headers = {"Content-Type": "application/json", "X-Forwarded-For": "198.51.100.9"}

    answers = [_post(client, "/v1/auth/passkeys/options", headers=headers).status_code for _ in range(3)]
    registrations = [
        _post(client, "/v1/me/passkeys/registration", headers=world.headers("alice")).status_code for _ in range(3)
    ]

    assert answers == [200, 200, 429]
    assert registrations == [200, 200, 429]


def test_a_provider_sign_in_takes_a_passkey_as_its_second_factor(client, oauth):  # noqa: F811
    # Given an account made by a first Google sign-in, which then adds a passkey
    from tests.api.test_oauth_sign_in import Browser, sign_in_flow

    first = Browser(client)
    sign_in_flow(first, "google", "passkey-oauth@example.com")
    token = first.post("/v1/auth/oauth/complete").json_body["access_token"]
    device = SoftAuthenticator(origin=bootstrap.settings().public_url)
    begun = _post(client, "/v1/me/passkeys/registration", headers=bearer(token)).json_body
    made = _post(
        client,
        "/v1/me/passkeys",
        {"challenge_id": begun["challenge_id"], "credential": device.create(begun["public_key"])},
        bearer(token),
    )
    assert made.status_code == 201, made.json_body

    # When the next Google sign-in completes
    again = Browser(client)
    sign_in_flow(again, "google", "passkey-oauth@example.com")
    asked = again.post("/v1/auth/oauth/complete")

    # Then the passkey is asked for, and answers it
    assert asked.status_code == 401
    assert asked.json_body["error"]["details"]["methods"] == ["passkey"]
    ceremony = _options(client)
    answer = device.get(ceremony["public_key"])
    done = again.post(
        "/v1/auth/oauth/complete", {"passkey": {"challenge_id": ceremony["challenge_id"], "credential": answer}}
    )
    assert done.status_code == 200, done.json_body
    assert done.json_body["access_token"]
