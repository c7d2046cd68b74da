"""Passkeys on fakes: the login's second-factor rules (table-driven), the domain helpers, and the
relying party taken from the panel's URL. The WebAuthn checks themselves are py_webauthn's,
exercised byte by byte in tests/api/test_passkeys.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mamba.auth.webauthn import RelyingParty
from mamba.domain.accounts import User
from mamba.domain.errors import UnauthorizedError
from mamba.domain.passkeys import MAX_NAME_LENGTH, clean_name, passkey_id
from mamba.services import accounts, sessions
from tests.fakes import AccountWorld

T0 = 1_800_000_000
PASSWORD = "a sufficiently long passphrase"
IP = "203.0.113.7"
ANSWER = sessions.PasskeyAnswer("wac_1", {"id": "x"})


class FakePasskeyFactor:
    """Accepts ``ANSWER`` for ``owner``; raises like mamba.services.passkeys.verify_assertion."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.calls: list[str] = []

    def __call__(self, user_id: str, challenge_id: str, credential: dict[str, Any]) -> None:
        self.calls.append(user_id)
        if user_id != self.owner or challenge_id != ANSWER.challenge_id:
            raise UnauthorizedError("The passkey was not accepted.", {"reason": "passkey_invalid"})


def _world(totp: bool, passkeys: int, passkey_owner: str | None = None) -> tuple[AccountWorld, User, FakePasskeyFactor]:
    world = AccountWorld()
    user = accounts.create_user(world.users, world.hasher, "ada@example.com", PASSWORD)
    world.users.users[user.id] = replace(user, totp_enabled=totp, passkeys=passkeys)
    return world, user, FakePasskeyFactor(passkey_owner or user.id)


def _login(world: AccountWorld, factor: FakePasskeyFactor, *, code: str | None, passkey: bool) -> Any:
    ports = replace(world.ports, passkey_factor=factor)
    return sessions.login(
        ports,
        "ada@example.com",
        PASSWORD,
        totp_code=code,
        captcha_token=None,
        source_ip=IP,
        now=T0,
        passkey=ANSWER if passkey else None,
    )


# (TOTP on, passkeys, code given, passkey given, another account's passkey) -> outcome, methods
CASES = [
    # No second factor at all: the password is enough, whatever else comes.
    (False, 0, None, False, False, "ok", None),
    (False, 0, None, True, False, "ok", None),
    # TOTP only: a code is asked for; a passkey is no answer for an account that has none.
    (True, 0, None, False, False, "totp_required", ["totp"]),
    (True, 0, "123456", False, False, "ok", None),
    (True, 0, None, True, False, "totp_required", ["totp"]),
    # A passkey only: the passkey is asked for, and a code is no answer.
    (False, 1, None, False, False, "totp_required", ["passkey"]),
    (False, 1, "123456", False, False, "totp_required", ["passkey"]),
    (False, 1, None, True, False, "ok", None),
    (False, 1, None, True, True, "passkey_invalid", None),
    # Both: either answers; a wrong passkey is a failure even with a good code beside it.
    (True, 2, None, False, False, "totp_required", ["totp", "passkey"]),
    (True, 2, "123456", False, False, "ok", None),
    (True, 2, None, True, False, "ok", None),
    (True, 2, "123456", True, True, "passkey_invalid", None),
]


@pytest.mark.parametrize(("totp", "passkeys", "code", "passkey", "foreign", "outcome", "methods"), CASES)
def test_login_second_factor_rules(totp, passkeys, code, passkey, foreign, outcome, methods):
    world, user, factor = _world(totp, passkeys, passkey_owner="usr_someone_else" if foreign else None)

    if outcome == "ok":
        pair = _login(world, factor, code=code, passkey=passkey)
        assert pair.user_id == user.id
        return
    with pytest.raises(UnauthorizedError) as refused:
        _login(world, factor, code=code, passkey=passkey)
    assert refused.value.details["reason"] == outcome
    assert refused.value.details.get("methods") == methods
    # A wrong answer is a failed login (counted towards the lockout); a missing one is not.
    assert world.users.get(user.id).failed_logins == (1 if outcome == "passkey_invalid" else 0)


def test_has_second_factor_is_totp_or_any_passkey():
    base = User(id="usr_1", email="a@example.com", created_at="2026-01-01T00:00:00Z")
    assert not base.has_second_factor
    assert replace(base, totp_enabled=True).has_second_factor
    assert replace(base, passkeys=1).has_second_factor


def test_passkey_ids_are_stable_short_and_distinct():
    first, second = passkey_id(b"\x01" * 64), passkey_id(b"\x02" * 64)
    assert first == passkey_id(b"\x01" * 64) and first != second
    assert first.startswith("pk_") and len(first) == 35


@pytest.mark.parametrize(
    ("given", "kept"),
    [("  Laptop ", "Laptop"), ("Pho\x00ne\n", "Phone"), ("x" * 100, "x" * MAX_NAME_LENGTH), ("\t\n", "")],
)
def test_passkey_names_are_printable_trimmed_and_bounded(given, kept):
    assert clean_name(given) == kept


@pytest.mark.parametrize(
    ("url", "rp_id", "origin"),
    [
        ("https://panel.example.com", "panel.example.com", "https://panel.example.com"),
        ("http://localhost:8000", "localhost", "http://localhost:8000"),
        ("https://panel.example.com:8443", "panel.example.com", "https://panel.example.com:8443"),
    ],
)
def test_the_relying_party_is_the_panels_host_and_origin(url, rp_id, origin):
    assert RelyingParty.of(url) == RelyingParty(id=rp_id, origin=origin)


# --- the service on the fake store, with the software authenticator ---


def _service_world() -> tuple[Any, Any, Any]:
    from mamba.services import passkeys
    from tests.fakes import FakeRateLimiter
    from tests.fakes_passkeys import FakePasskeyStore
    from tests.webauthn_authenticator import SoftAuthenticator

    world = AccountWorld()
    user = replace(accounts.create_user(world.users, world.hasher, "ada@example.com", PASSWORD), email_verified=True)
    world.users.users[user.id] = user
    ports = passkeys.PasskeyPorts(
        store=FakePasskeyStore(users={user.id}),
        relying_party=RelyingParty.of("https://panel.example.com"),
        limiter=FakeRateLimiter(),
        users=world.users,
    )
    device = SoftAuthenticator(origin="https://panel.example.com")
    begun = passkeys.begin_registration(ports, user.id, via="token", now=T0)
    passkeys.finish_registration(
        ports,
        user.id,
        challenge_id=begun.challenge_id,
        credential=device.create(begun.public_key),
        name="Laptop",
        via="token",
        now=T0,
    )
    return ports, device, user


def test_two_sign_ins_racing_with_one_counter_let_one_through():
    from mamba.services import passkeys

    ports, device, user = _service_world()
    first = passkeys.begin_authentication(ports, source_ip=IP, now=T0)
    second = passkeys.begin_authentication(ports, source_ip=IP, now=T0)
    # Both answers are signed with counter 2 and both read the stored counter 1 ...
    answer_one = device.get(first.public_key, sign_count=2)
    answer_two = device.get(second.public_key, sign_count=2)

    passkeys.verify_assertion(ports, first.challenge_id, answer_one, now=T0)
    # ... the second finds the counter moved: refused like any other failure.
    with pytest.raises(UnauthorizedError) as refused:
        passkeys.verify_assertion(ports, second.challenge_id, answer_two, now=T0)
    assert refused.value.details["reason"] == "passkey_invalid"
    assert ports.store.list(user.id)[0].sign_count == 2


def test_an_expired_ceremony_is_refused():
    from mamba.domain.passkeys import CHALLENGE_TTL_SECONDS
    from mamba.services import passkeys

    ports, device, _ = _service_world()
    ceremony = passkeys.begin_authentication(ports, source_ip=IP, now=T0)

    with pytest.raises(UnauthorizedError):
        passkeys.verify_assertion(
            ports, ceremony.challenge_id, device.get(ceremony.public_key), now=T0 + CHALLENGE_TTL_SECONDS
        )


def test_a_passkey_for_another_site_is_refused():
    from mamba.services import passkeys

    ports, device, _ = _service_world()
    ceremony = passkeys.begin_authentication(ports, source_ip=IP, now=T0)
    options = {**ceremony.public_key, "rpId": "evil.example"}  # an authenticator asked by another site

    with pytest.raises(UnauthorizedError):
        passkeys.verify_assertion(ports, ceremony.challenge_id, device.get(options), now=T0)
