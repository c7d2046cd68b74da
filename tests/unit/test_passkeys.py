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
