"""Accounts through the real app on moto: register, verify, login, refresh, logout,
forgot/reset, /v1/me, rate limits, lockout, CAPTCHA and rehash-on-login."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from mamba import bootstrap
from mamba.domain import clock

PASSWORD = "a sufficiently long passphrase"
NEW_PASSWORD = "another long passphrase"
EMAIL = "ada@example.com"


# --- helpers ---------------------------------------------------------------------------


def post(client: Any, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return client.http.post(
        path, body=json.dumps(body), headers={"Content-Type": "application/json", **(headers or {})}
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mails_to(address: str) -> list[tuple[str, str]]:
    """(subject, text) of every message moto's SES accepted for ``address``, oldest first."""
    from moto.ses.models import ses_backends

    found = []
    for regions in ses_backends.values():
        for backend in regions.values():
            for message in backend.sent_messages:
                if address in (getattr(message, "destinations", None) or {}).get("ToAddresses", []):
                    found.append((message.subject, message.body))
    return found


def token_from(text: str) -> str:
    match = re.search(r"token=([A-Za-z0-9_\-]+)", text)
    assert match, text
    return match.group(1)


def register(client: Any, email: str = EMAIL, password: str = PASSWORD, **extra: Any) -> Any:
    return post(client, "/v1/auth/register", {"email": email, "password": password, **extra})


def login(client: Any, email: str = EMAIL, password: str = PASSWORD, **extra: Any) -> Any:
    return post(client, "/v1/auth/login", {"email": email, "password": password, **extra})


def verified_account(client: Any, email: str = EMAIL) -> dict[str, Any]:
    created = register(client, email)
    assert created.status_code == 201, created.json_body
    token = token_from(mails_to(email)[-1][1])
    assert post(client, "/v1/auth/verify-email", {"token": token}).status_code == 200
    return created.json_body


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "request_id"}


@pytest.fixture
def configure(client) -> Iterator[Any]:
    """Run the app with some Settings changed (bootstrap.override: the adapters built from
    them are rebuilt, and forgotten after the test)."""
    original = bootstrap.settings()
    with contextlib.ExitStack() as overrides:

        def apply(**changes: Any) -> None:
            overrides.enter_context(bootstrap.override(settings=original.model_copy(update=changes)))

        yield apply


@pytest.fixture(autouse=True)
def cheap_hashing(configure) -> None:
    """argon2id at its cheapest, so a test's many logins stay fast on a busy machine; the
    stated parameters are checked in tests/unit/test_passwords.py and by the rehash test."""
    configure(argon2_time_cost=1, argon2_memory_kib=8 * 1024)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The account doors' clock, frozen (settable) so fixed windows never roll over mid-test."""

    class Frozen:
        now = int(time.time())

    monkeypatch.setattr(clock, "now_epoch", lambda: Frozen.now)
    return Frozen


# --- register and verify ------------------------------------------------------------------


def test_register_answers_201_with_the_account_and_mails_a_verification_link(client):
    # When someone registers
    response = register(client, "Ada@Example.COM", name="Ada Lovelace")

    # Then the account comes back without secrets, email normalised and unverified
    assert response.status_code == 201, response.json_body
    body = response.json_body
    assert (body["email"], body["name"], body["email_verified"]) == ("ada@example.com", "Ada Lovelace", False)
    assert not {"password", "password_hash", "failed_logins"} & set(body)
    # And a verification mail with a token=... link went to the address
    [(subject, text)] = mails_to("ada@example.com")
    assert "Verify" in subject
    assert f"{bootstrap.settings().public_url}/verify-email?token=" in text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@" + "b" * 250 + ".com", "password": PASSWORD}, "email"),
        ({"email": EMAIL, "password": "short"}, "password"),
        ({"email": EMAIL, "password": "x" * 129}, "password"),
        ({"email": EMAIL, "password": "password1234"}, "password"),
        ({"email": EMAIL, "password": PASSWORD, "name": "n" * 101}, "name"),
        ({"email": EMAIL, "password": PASSWORD, "name": "bell\x07"}, "name"),
        ({"email": EMAIL, "password": PASSWORD, "is_admin": True}, "is_admin"),
        ({"password": PASSWORD}, "email"),
    ],
    ids=["bad-email", "long-email", "short", "long", "common", "long-name", "control-char", "unknown", "missing"],
)
def test_register_is_400_naming_the_field_when_the_input_is_invalid(client, body, field):
    response = post(client, "/v1/auth/register", body)

    assert response.status_code == 400
    error = response.json_body["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [f["field"] for f in error["details"]["fields"]] == [field]
    assert PASSWORD not in json.dumps(error) and "password1234" not in json.dumps(error)
    assert mails_to(EMAIL) == []


def test_register_is_409_when_the_email_is_taken(client):
    register(client)

    response = register(client, EMAIL.upper())

    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "CONFLICT"


def test_verify_email_verifies_once_and_refuses_the_token_again(client):
    register(client)
    token = token_from(mails_to(EMAIL)[0][1])

    first = post(client, "/v1/auth/verify-email", {"token": token})
    again = post(client, "/v1/auth/verify-email", {"token": token})

    assert first.status_code == 200
    assert first.json_body == {"email": EMAIL, "email_verified": True}
    assert again.status_code == 400
    assert again.json_body["error"]["details"]["reason"] == "invalid_token"


def test_unverified_account_can_log_in_and_read_itself(client):
    register(client)

    response = login(client)
    me = client.http.get("/v1/me", headers=bearer(response.json_body["access_token"]))

    assert response.status_code == 200
    assert me.json_body["email_verified"] is False


# --- login, refresh, logout ---------------------------------------------------------------


def test_login_returns_the_token_pair_that_opens_v1_me(client):
    verified_account(client)

    response = login(client)

    assert response.status_code == 200, response.json_body
    body = response.json_body
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)
    me = client.http.get("/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert (me.json_body["email"], me.json_body["email_verified"]) == (EMAIL, True)


def test_login_answers_the_same_for_an_unknown_email_and_a_wrong_password(client):
    verified_account(client)

    unknown = login(client, email="nobody@example.com")
    wrong = login(client, password="not the right passphrase")

    assert unknown.status_code == wrong.status_code == 401
    assert without_request_id(unknown.json_body) == without_request_id(wrong.json_body)
    assert unknown.json_body["error"]["details"] == {"reason": "invalid_credentials"}


def test_refresh_rotates_and_a_reused_token_revokes_the_family(client):
    verified_account(client)
    first = login(client).json_body

    # When the refresh token is used, Then a new pair comes back
    rotated = post(client, "/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.json_body
    second = rotated.json_body
    assert second["refresh_token"] != first["refresh_token"]
    assert client.http.get("/v1/me", headers=bearer(second["access_token"])).status_code == 200

    # When the used token is presented again, Then 401 and the whole family is revoked
    reused = post(client, "/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json_body["error"]["details"]["reason"] == "reused"
    newest = post(client, "/v1/auth/refresh", {"refresh_token": second["refresh_token"]})
    assert newest.status_code == 401
    assert newest.json_body["error"]["details"]["reason"] == "revoked"


def test_refresh_is_401_when_the_token_is_unknown(client):
    response = post(client, "/v1/auth/refresh", {"refresh_token": "rf_nothere." + "a" * 43})

    assert response.status_code == 401
    assert response.json_body["error"]["details"]["reason"] == "invalid"


def test_logout_ends_the_session_and_everywhere_voids_access_tokens(client):
    verified_account(client)
    phone, laptop = login(client).json_body, login(client).json_body

    # When the phone logs out, Then its refresh token is dead but the laptop's lives
    out = post(client, "/v1/auth/logout", {"refresh_token": phone["refresh_token"]})
    assert out.status_code == 200
    assert post(client, "/v1/auth/refresh", {"refresh_token": phone["refresh_token"]}).status_code == 401
    refreshed = post(client, "/v1/auth/refresh", {"refresh_token": laptop["refresh_token"]}).json_body
    assert client.http.get("/v1/me", headers=bearer(refreshed["access_token"])).status_code == 200

    # When the laptop logs out everywhere, Then even its current access token is refused
    post(client, "/v1/auth/logout", {"refresh_token": refreshed["refresh_token"], "everywhere": True})
    me = client.http.get("/v1/me", headers=bearer(refreshed["access_token"]))
    assert me.status_code == 401
    assert me.json_body["error"]["details"]["reason"] == "revoked"


# --- forgot and reset ------------------------------------------------------------------------


def test_forgot_answers_the_same_whether_or_not_the_account_exists_and_mails_only_the_real_one(client):
    verified_account(client)

    known = post(client, "/v1/auth/password/forgot", {"email": EMAIL})
    unknown = post(client, "/v1/auth/password/forgot", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.json_body == unknown.json_body
    assert mails_to("nobody@example.com") == []
    assert "reset-password?token=" in mails_to(EMAIL)[-1][1]


def test_reset_sets_the_password_and_revokes_every_session_and_access_token(client):
    # Given a logged-in account
    verified_account(client)
    session = login(client).json_body
    post(client, "/v1/auth/password/forgot", {"email": EMAIL})
    token = token_from(mails_to(EMAIL)[-1][1])

    # When the password is reset
    reset = post(client, "/v1/auth/password/reset", {"token": token, "password": NEW_PASSWORD})

    # Then the old access and refresh tokens are refused
    assert reset.status_code == 200, reset.json_body
    old_access = client.http.get("/v1/me", headers=bearer(session["access_token"]))
    assert old_access.status_code == 401
    assert post(client, "/v1/auth/refresh", {"refresh_token": session["refresh_token"]}).status_code == 401
    # And only the new password logs in, and its tokens work
    assert login(client).status_code == 401
    fresh = login(client, password=NEW_PASSWORD)
    assert fresh.status_code == 200
    assert client.http.get("/v1/me", headers=bearer(fresh.json_body["access_token"])).status_code == 200
    # And the link was single use
    again = post(client, "/v1/auth/password/reset", {"token": token, "password": "a third long passphrase"})
    assert again.status_code == 400


def test_reset_is_400_naming_the_password_when_it_is_common(client):
    response = post(client, "/v1/auth/password/reset", {"token": "t" * 43, "password": "password1234"})

    assert response.status_code == 400
    assert response.json_body["error"]["details"]["fields"][0]["field"] == "password"


# --- /v1/me ---------------------------------------------------------------------------------------


def test_me_is_401_without_a_token(client):
    response = client.http.get("/v1/me")

    assert response.status_code == 401


def test_patch_me_changes_the_name_and_moves_the_email_after_verification(client):
    verified_account(client)
    headers = {**bearer(login(client).json_body["access_token"]), "Content-Type": "application/json"}

    renamed = client.http.patch("/v1/me", body=json.dumps({"name": "Ada L."}), headers=headers)
    moving = client.http.patch(
        "/v1/me", body=json.dumps({"email": "New@Example.org", "current_password": PASSWORD}), headers=headers
    )

    assert renamed.json_body["name"] == "Ada L."
    assert (moving.json_body["email"], moving.json_body["pending_email"]) == (EMAIL, "new@example.org")
    assert any("being changed" in subject for subject, _ in mails_to(EMAIL))
    link = token_from(mails_to("new@example.org")[0][1])
    assert post(client, "/v1/auth/verify-email", {"token": link}).json_body == {
        "email": "new@example.org",
        "email_verified": True,
    }
    me = client.http.get("/v1/me", headers=headers).json_body
    assert (me["email"], me["pending_email"], me["name"]) == ("new@example.org", None, "Ada L.")
    assert login(client, email="new@example.org").status_code == 200
    assert login(client, email=EMAIL).status_code == 401


def test_patch_me_is_409_when_the_new_email_belongs_to_another_account(client):
    verified_account(client)
    verified_account(client, "bob@example.com")
    headers = {**bearer(login(client).json_body["access_token"]), "Content-Type": "application/json"}

    response = client.http.patch(
        "/v1/me", body=json.dumps({"email": "bob@example.com", "current_password": PASSWORD}), headers=headers
    )

    assert response.status_code == 409


def test_patch_me_is_400_when_nothing_is_given(client):
    verified_account(client)
    headers = {**bearer(login(client).json_body["access_token"]), "Content-Type": "application/json"}

    response = client.http.patch("/v1/me", body="{}", headers=headers)

    assert response.status_code == 400


def test_resend_verification_mails_a_second_link(client):
    register(client)
    headers = bearer(login(client).json_body["access_token"])

    response = client.http.post("/v1/me/verify-email", headers=headers)

    assert response.status_code == 202
    assert len(mails_to(EMAIL)) == 2


# --- rate limits and lockout --------------------------------------------------------------------


def test_sixth_failed_login_within_15_minutes_is_429_with_retry_after(client, frozen_clock):
    verified_account(client)
    for _ in range(5):
        assert login(client, password="wrong wrong wrong").status_code == 401

    response = login(client)  # even the right password

    assert response.status_code == 429
    assert response.json_body["error"]["code"] == "RATE_LIMITED"
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 900
    assert retry_after == 900 - frozen_clock.now % 900


def test_tenth_consecutive_failure_locks_the_account_and_mails_the_owner(client, frozen_clock):
    verified_account(client)
    # Given 5 failures in one window and 5 in the next (each under the per-window limit)
    for _ in range(5):
        assert login(client, password="wrong wrong wrong").status_code == 401
    frozen_clock.now += 900
    for _ in range(5):
        assert login(client, password="wrong wrong wrong").status_code == 401

    # Then the owner got the lockout mail
    assert [subject for subject, _ in mails_to(EMAIL) if "locked" in subject] == [
        "Your Mamba Host Panel account was locked"
    ]
    # And the right password is refused for 30 minutes, in the next window too, answered as
    # a wrong password is (no Retry-After that would reveal the lock)
    frozen_clock.now += 900
    locked = login(client)
    assert locked.status_code == 401
    assert "Retry-After" not in locked.headers
    frozen_clock.now += 900
    assert login(client).status_code == 200


# Issue 10, finding 3: the attempt is counted before the password is checked, with DynamoDB's
# atomic ADD, so a burst of parallel guesses cannot all be checked before any of them counts.
WRONG = "wrong wrong wrong"
PARALLEL = 200


def _parallel_logins(client: Any, count: int, password: str = WRONG) -> Counter[int]:
    """``count`` logins released together by a barrier; the status codes they got."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        barrier.wait()
        status = login(client, password=password).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Counter(statuses)


def test_parallel_wrong_passwords_cannot_pass_the_account_limit(client, frozen_clock, configure, monkeypatch):
    # Given moto's DynamoDB writes atomic per item, as DynamoDB's are (local/dynamo_atomic.py)
    from moto.dynamodb.models import DynamoDBBackend

    from local import dynamo_atomic

    for name, method in dynamo_atomic.patched().items():
        monkeypatch.setattr(DynamoDBBackend, name, method)
    # And an account, the default per-account limit (5 failures per window) and a per-IP
    # limit high enough that only the account's limit binds
    configure(argon2_time_cost=1, argon2_memory_kib=8 * 1024, rate_login_ip=1000)
    verified_account(client)

    # When 200 wrong passwords arrive at once
    statuses = _parallel_logins(client, PARALLEL)

    # Then at most 5 were checked (401) and every other one was refused unchecked (429)
    assert sum(statuses.values()) == PARALLEL
    assert set(statuses) <= {401, 429}, statuses
    assert statuses[401] <= 5, statuses
    print(f"\n200 parallel wrong passwords: {dict(statuses)}")


def test_successful_logins_do_not_use_up_the_account_limit(client, frozen_clock):
    # Given an account
    verified_account(client)
    # When its owner signs in more often than the failure limit within one window
    answers = [login(client).status_code for _ in range(8)]
    # Then every sign-in succeeds (a proven password gives its counted attempt back)
    assert answers == [200] * 8
    # And four failures later the fifth is still checked (401), the sixth is refused (429)
    assert [login(client, password=WRONG).status_code for _ in range(6)] == [401] * 5 + [429]


def test_locked_account_answers_like_a_wrong_password(client, frozen_clock):
    # Given an account locked by 10 consecutive failures over two windows
    verified_account(client)
    for _ in range(5):
        assert login(client, password=WRONG).status_code == 401
    frozen_clock.now += 900
    for _ in range(5):
        assert login(client, password=WRONG).status_code == 401
    frozen_clock.now += 900
    unknown = login(client, email="nobody-here@example.com", password=WRONG)

    # When someone tries it, with a wrong and then with the right password
    wrong = login(client, password=WRONG)
    right = login(client)

    # Then both answers are exactly those of an unknown account: 401, same body, no Retry-After
    for response in (wrong, right):
        assert response.status_code == 401
        assert response.json_body["error"] == unknown.json_body["error"]
        assert "Retry-After" not in response.headers
    # And once the lock has run out the right password works again
    frozen_clock.now += 900
    assert login(client).status_code == 200


@pytest.mark.parametrize("known", [True, False])
def test_account_limit_answers_the_same_for_known_and_unknown_emails(client, frozen_clock, known):
    # Given five failures for an address that does (or does not) belong to an account
    if known:
        verified_account(client)
    email = EMAIL if known else "ghost@example.com"
    for _ in range(5):
        assert login(client, email=email, password=WRONG).status_code == 401
    # When the sixth arrives
    response = login(client, email=email, password=WRONG)
    # Then it is 429 with the window's Retry-After, whatever the address
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 900 - frozen_clock.now % 900


def test_register_is_limited_per_ip(client, frozen_clock, configure):
    configure(argon2_time_cost=1, argon2_memory_kib=8 * 1024, rate_register_ip=3)
    for n in range(3):
        assert register(client, f"user{n}@example.com").status_code == 201

    response = register(client, "one-too-many@example.com")

    assert response.status_code == 429
    assert "Retry-After" in response.headers


# --- rehash-on-login -------------------------------------------------------------------------------


def test_login_rehashes_a_password_stored_with_older_parameters(client):
    from argon2 import extract_parameters

    from mamba.auth.passwords import Argon2idPasswords, Argon2Params
    from mamba.services import accounts

    # Given an account whose hash was made with other parameters than Settings state
    users = bootstrap.accounts().users
    cheap = Argon2idPasswords(Argon2Params(time_cost=2, memory_cost=8 * 1024, parallelism=1))
    user = accounts.create_user(users, cheap, EMAIL, PASSWORD)

    # When the user logs in
    assert login(client).status_code == 200

    # Then the stored hash now has the configured parameters and still verifies
    stored = users.get(user.id).password_hash
    params = extract_parameters(stored)
    settings = bootstrap.settings()
    assert (params.time_cost, params.memory_cost) == (settings.argon2_time_cost, settings.argon2_memory_kib)
    assert bootstrap.password_hasher().verify(stored, PASSWORD)


# --- CAPTCHA -----------------------------------------------------------------------------------------


class Siteverify(BaseHTTPRequestHandler):
    """A provider's siteverify on 127.0.0.1: accepts the token "solved" for our secret."""

    received: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        Siteverify.received.append(form)
        ok = form.get("secret") == ["test-captcha-secret"] and form.get("response") == ["solved"]
        payload = json.dumps({"success": ok, "error-codes": [] if ok else ["invalid-input-response"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def captcha_on(client, configure) -> Iterator[list[dict[str, list[str]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Siteverify)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Siteverify.received = []
    configure(
        argon2_time_cost=1,
        argon2_memory_kib=8 * 1024,
        captcha_provider="turnstile",
        captcha_secret_key="test-captcha-secret",
        captcha_verify_url=f"http://127.0.0.1:{server.server_address[1]}/siteverify",
    )
    try:
        yield Siteverify.received
    finally:
        server.shutdown()
        server.server_close()


def test_register_and_login_need_a_solved_captcha_when_captcha_is_on(client, captcha_on):
    # Without a token, or with a wrong one: 400 CAPTCHA_FAILED, and no account
    assert register(client).json_body["error"]["code"] == "CAPTCHA_FAILED"
    wrong = register(client, captcha_token="guessed")
    assert (wrong.status_code, wrong.json_body["error"]["code"]) == (400, "CAPTCHA_FAILED")
    assert mails_to(EMAIL) == []

    # With the solved token: the account is created and can log in with a solved token only
    assert register(client, captcha_token="solved").status_code == 201
    assert login(client).json_body["error"]["code"] == "CAPTCHA_FAILED"
    assert login(client, captcha_token="solved").status_code == 200
    # And the provider was asked with our secret and the caller's IP
    assert captcha_on[-1]["secret"] == ["test-captcha-secret"]
    assert captcha_on[-1]["remoteip"] == ["127.0.0.1"]


def test_captcha_is_not_asked_when_disabled(client):
    assert bootstrap.settings().captcha_provider == "disabled"

    assert register(client).status_code == 201


# --- audit ------------------------------------------------------------------------------------------


def test_login_success_and_failure_are_in_the_platform_audit_log(client):
    from mamba.domain.audit import AuditFilter

    # Given an account, a failed and a successful login
    user = verified_account(client)
    login(client, password="wrong wrong wrong")
    login(client)

    # Then the platform log holds both, with the account, the caller's IP and the refusal's reason
    entries = bootstrap.audit_log().list(None, AuditFilter(action="login"), 50, None).items
    by_result = {entry.result: entry for entry in entries}
    assert set(by_result) == {"success", "denied"}
    assert by_result["success"].actor_id == user["id"]
    assert by_result["denied"].actor_id is None
    assert by_result["denied"].details == {"email": EMAIL, "reason": "invalid_credentials"}
    assert (by_result["denied"].status, by_result["denied"].ip) == (401, "127.0.0.1")
    assert by_result["denied"].request_id


# --- 2FA at login (mamba.services.two_factor) ---------------------------------------------------------


def test_login_requires_and_checks_the_second_factor_when_the_account_has_2fa(client):
    from mamba.auth import totp

    # Given an account with TOTP confirmed through /v1/me/2fa
    verified_account(client)
    headers = bearer(login(client).json_body["access_token"])
    secret = client.http.post("/v1/me/2fa/enrol", headers=headers).json_body["secret"]
    step = totp.counter_for(time.time())
    confirmed = post(client, "/v1/me/2fa/confirm", {"code": totp.code_at(secret, step)}, headers)
    assert confirmed.status_code == 200, confirmed.json_body
    recovery = confirmed.json_body["recovery_codes"][0]

    # Then a password alone is 401 totp_required, a wrong code 401 totp_invalid
    missing = login(client)
    assert (missing.status_code, missing.json_body["error"]["details"]["reason"]) == (401, "totp_required")
    wrong = login(client, totp_code="000000" if totp.code_at(secret, step + 1) != "000000" else "111111")
    assert (wrong.status_code, wrong.json_body["error"]["details"]["reason"]) == (401, "totp_invalid")
    # And the next code, or a recovery code (once), logs in
    assert login(client, totp_code=totp.code_at(secret, step + 1)).status_code == 200
    assert login(client, totp_code=recovery).status_code == 200
    assert login(client, totp_code=recovery).status_code == 401
