"""The sessions list and revoking one session (mamba.services.sessions) over fakes, and the
``fid`` claim that marks the caller's own session."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.auth import tokens
from mamba.auth.credentials import resolve
from mamba.domain.accounts import ClientHints, TokenPair, User
from mamba.domain.errors import NotFoundError, SessionRequiredError, UnauthorizedError
from mamba.domain.pages import PageRequest
from mamba.services import accounts, sessions
from tests.fakes import AccountWorld

T0 = 1_800_000_000
PASSWORD = "a sufficiently long passphrase"
SECRET = "s" * 32


@pytest.fixture
def world() -> AccountWorld:
    return AccountWorld()


@pytest.fixture
def user(world: AccountWorld) -> User:
    return accounts.create_user(world.users, world.hasher, "ada@example.com", PASSWORD)


def login(world: AccountWorld, user_agent: str = "Firefox", now: int = T0) -> TokenPair:
    return sessions.login(
        world.ports,
        "ada@example.com",
        PASSWORD,
        totp_code=None,
        captcha_token=None,
        source_ip="203.0.113.7",
        now=now,
        user_agent=user_agent,
    )


def fid(pair: TokenPair) -> str:
    return pair.refresh_token.partition(".")[0]


def listed(world: AccountWorld, user: User, current: str | None = None, now: int = T0 + 1) -> list[str]:
    page = sessions.list_sessions(world.ports, user.id, PageRequest(), current_id=current, now=now)
    return [f"{v.family.id}{'*' if v.current else ''}" for v in page.items]


def test_login_stores_the_client_and_the_list_marks_the_current_session(world, user):
    laptop = login(world, "Firefox")
    phone = login(world, "Safari")

    assert sorted(listed(world, user, current=fid(laptop))) == sorted([fid(phone), f"{fid(laptop)}*"])
    stored = world.sessions.families[fid(phone)]
    assert (stored.ip, stored.user_agent) == ("203.0.113.7", "Safari")


def test_refresh_records_the_last_use_and_the_new_client(world, user):
    pair = login(world)

    sessions.refresh(world.ports, pair.refresh_token, now=T0 + 30, source_ip="198.51.100.2", user_agent="Chrome")

    stored = world.sessions.families[fid(pair)]
    assert (stored.last_used_at, stored.ip, stored.user_agent) == (T0 + 30, "198.51.100.2", "Chrome")


def test_expired_sessions_and_those_ended_everywhere_are_left_out(world, user):
    old = login(world)
    sessions.logout(world.ports, old.refresh_token, everywhere=True, now=T0 + 5)
    # As if the family's own revocation had been missed: sessions_valid_after still hides it.
    world.sessions.families[fid(old)] = replace(world.sessions.families[fid(old)], revoked=False)
    fresh = login(world, now=T0 + 10)

    assert listed(world, user, now=T0 + 11) == [fid(fresh)]
    assert listed(world, user, now=T0 + 10 + world.policy.refresh_ttl) == []


def test_revoke_session_ends_its_refresh(world, user):
    pair = login(world)

    sessions.revoke_session(world.ports, user.id, fid(pair), via="token")

    with pytest.raises(UnauthorizedError) as refused:
        sessions.refresh(world.ports, pair.refresh_token, now=T0 + 1)
    assert refused.value.details["reason"] == "revoked"
    assert listed(world, user) == []


def test_revoke_session_is_404_for_another_users_or_a_malformed_id(world, user):
    other = accounts.create_user(world.users, world.hasher, "bob@example.com", PASSWORD)
    pair = login(world)

    for session_id in (fid(pair), "not-a-family", "rf_unknown"):
        with pytest.raises(NotFoundError):
            sessions.revoke_session(world.ports, other.id, session_id, via="token")
    assert world.sessions.families[fid(pair)].revoked is False


def test_revoke_session_needs_a_session_not_an_api_key(world, user):
    pair = login(world)

    with pytest.raises(SessionRequiredError):
        sessions.revoke_session(world.ports, user.id, fid(pair), via="api_key")
    assert world.sessions.families[fid(pair)].revoked is False


def test_client_hints_are_printable_trimmed_and_short():
    hints = sessions.client_hints(" 2001:db8::1 ", "Agent\x00\n" + "x" * 500)

    assert hints.ip == "2001:db8::1"
    assert hints.user_agent is not None and hints.user_agent.startswith("Agent")
    assert "\x00" not in hints.user_agent and len(hints.user_agent) == sessions.MAX_USER_AGENT_LENGTH
    assert sessions.client_hints("", "  ") == ClientHints(ip=None, user_agent=None)


class _Request:
    def __init__(self, token: str) -> None:
        self.headers = {"authorization": f"Bearer {token}"}


def test_access_tokens_carry_their_family_and_old_ones_without_it_stay_valid():
    with_family = resolve(_Request(tokens.issue_access("usr_a", SECRET, family_id="rf_abc")), SECRET)  # type: ignore[arg-type]
    without = resolve(_Request(tokens.issue_access("usr_a", SECRET)), SECRET)  # type: ignore[arg-type]

    assert (with_family.user_id, with_family.family_id) == ("usr_a", "rf_abc")
    assert (without.user_id, without.family_id) == ("usr_a", None)
