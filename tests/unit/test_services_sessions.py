"""Login, lockout, refresh rotation and logout over fakes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.domain.accounts import TokenPair, User
from mamba.domain.errors import CaptchaFailedError, RateLimitedError, UnauthorizedError
from mamba.schemas.accounts import TokenPairOut
from mamba.services import accounts, sessions
from tests.fakes import AccountWorld, FakeCaptcha, FakeHasher

T0 = 1_800_000_000  # a multiple of 900
PASSWORD = "a sufficiently long passphrase"
IP = "203.0.113.7"


@pytest.fixture
def world() -> AccountWorld:
    return AccountWorld()


@pytest.fixture
def user(world: AccountWorld) -> User:
    return accounts.create_user(world.users, world.hasher, "ada@example.com", PASSWORD)


def login(world: AccountWorld, password: str = PASSWORD, **kwargs: object) -> TokenPair:
    args: dict[str, object] = {"totp_code": None, "captcha_token": None, "source_ip": IP, "now": T0}
    args.update(kwargs)
    email = str(args.pop("email", "ada@example.com"))
    return sessions.login(world.ports, email, password, **args)  # type: ignore[arg-type]


def reason(exc: pytest.ExceptionInfo[UnauthorizedError]) -> str:
    return str(exc.value.details.get("reason"))


# --- login ---


def test_login_returns_a_bearer_pair_when_the_password_is_right(world, user):
    pair = login(world)

    wire = TokenPairOut.model_validate(pair, from_attributes=True, extra="ignore").model_dump(mode="json")
    assert (wire["token_type"], wire["expires_in"]) == ("Bearer", 900)
    assert pair.access_token == f"access:{user.id}:{T0}"
    assert pair.refresh_token.startswith("rf_")


def test_login_gives_the_same_answer_when_the_email_is_unknown_or_the_password_wrong(world, user):
    with pytest.raises(UnauthorizedError) as unknown:
        login(world, email="nobody@example.com")
    with pytest.raises(UnauthorizedError) as wrong:
        login(world, password="not the right passphrase")

    assert (unknown.value.message, unknown.value.details) == (wrong.value.message, wrong.value.details)
    # Both paths did one password verification (the unknown email against no hash)
    assert world.hasher.verified == [None, user.password_hash]


def test_sixth_failed_login_in_the_window_is_429_even_with_the_right_password(world, user):
    # Given five failures for the account within 15 minutes
    for n in range(5):
        with pytest.raises(UnauthorizedError):
            login(world, password="wrong wrong wrong", now=T0 + n)

    # When the sixth attempt comes (with the right password), Then it is refused until the window ends
    with pytest.raises(RateLimitedError) as caught:
        login(world, now=T0 + 60)
    assert caught.value.retry_after == 900 - 60
    # And after the window it works again
    assert login(world, now=T0 + 900).access_token


def test_unknown_emails_are_rate_limited_like_known_ones(world, user):
    for n in range(5):
        with pytest.raises(UnauthorizedError):
            login(world, email="nobody@example.com", now=T0 + n)

    with pytest.raises(RateLimitedError):
        login(world, email="nobody@example.com", now=T0 + 10)


def test_twenty_failures_from_one_ip_block_that_ip_for_every_account(world, user):
    for n in range(20):
        with pytest.raises(UnauthorizedError):
            login(world, email=f"user{n}@example.com", now=T0 + n)

    with pytest.raises(RateLimitedError):
        login(world, now=T0 + 30)
    assert login(world, source_ip="198.51.100.1", now=T0 + 31).access_token


def test_tenth_consecutive_failure_locks_the_account_and_mails_the_owner_once(world, user):
    # Given failures spread over two windows (5 each, under the per-window limit)
    for n in range(5):
        with pytest.raises(UnauthorizedError):
            login(world, password="wrong wrong wrong", now=T0 + n)
    assert world.mailer.sent == []
    for n in range(5):
        with pytest.raises(UnauthorizedError):
            login(world, password="wrong wrong wrong", now=T0 + 900 + n)

    # Then the owner got exactly one lockout mail
    [(subject, text)] = world.mailer.to("ada@example.com")
    assert "locked" in subject
    assert IP in text
    # And even the right password is refused until the lock ends, 30 minutes after the 10th
    # failure, with the answer of a wrong password (nothing tells that the account is locked)
    with pytest.raises(UnauthorizedError) as caught:
        login(world, now=T0 + 1800)
    assert caught.value.details == {"reason": "invalid_credentials"}
    assert login(world, now=T0 + 904 + 1800).access_token


def test_success_clears_the_consecutive_failure_count(world, user):
    for n in range(4):
        with pytest.raises(UnauthorizedError):
            login(world, password="wrong wrong wrong", now=T0 + n)

    login(world, now=T0 + 10)

    assert world.users.get(user.id).failed_logins == 0


def test_login_rehashes_the_password_when_the_parameters_changed(world, user):
    # Given the hashing parameters changed since the password was stored
    world.hasher = FakeHasher(version="v2")
    old_hash = world.users.get(user.id).password_hash

    login(world)

    new_hash = world.users.get(user.id).password_hash
    assert old_hash != new_hash
    assert new_hash == world.hasher.hash(PASSWORD)


def test_login_needs_a_solved_captcha_when_enabled_and_does_not_count_it_as_a_failure(world, user):
    world.captcha = FakeCaptcha(accept="solved")

    with pytest.raises(CaptchaFailedError):
        login(world, captcha_token=None)

    assert login(world, captcha_token="solved").access_token
    assert world.users.get(user.id).failed_logins == 0


def test_login_is_401_inactive_when_the_account_is_suspended(world, user):
    world.users.users[user.id] = replace(user, status="suspended")

    with pytest.raises(UnauthorizedError) as caught:
        login(world)

    assert reason(caught) == "inactive"


def test_login_asks_for_the_second_factor_only_when_the_user_has_2fa(world, user):
    # Without 2FA, the second factor is never asked
    login(world)
    assert world.second_factor.calls == []

    # With 2FA, a missing code is 401 totp_required (not a failure), a wrong one totp_invalid (a failure)
    world.users.users[user.id] = replace(world.users.get(user.id), totp_enabled=True)
    with pytest.raises(UnauthorizedError) as missing:
        login(world)
    assert reason(missing) == "totp_required"
    assert world.users.get(user.id).failed_logins == 0
    with pytest.raises(UnauthorizedError) as wrong:
        login(world, totp_code="000000")
    assert reason(wrong) == "totp_invalid"
    assert world.users.get(user.id).failed_logins == 1

    # And the right code logs in
    assert login(world, totp_code="123456").access_token


def test_login_right_after_a_revocation_waits_for_the_next_second(world, user):
    world.users.revoke_sessions(user.id, T0 + 1)

    pair = login(world, now=T0)

    assert world.waited == [T0 + 1]
    assert pair.access_token.endswith(f":{T0 + 1}")


# --- refresh ---


def test_refresh_rotates_the_pair_and_the_old_token_stops_working(world, user):
    first = login(world)

    second = sessions.refresh(world.ports, first.refresh_token, now=T0 + 60)

    assert second.refresh_token != first.refresh_token
    assert second.refresh_token.split(".")[0] == first.refresh_token.split(".")[0]  # same family
    assert second.access_token == f"access:{user.id}:{T0 + 60}"


def test_reusing_a_refresh_token_revokes_the_whole_family(world, user):
    # Given a token that was already rotated
    first = login(world)
    second = sessions.refresh(world.ports, first.refresh_token, now=T0 + 1)

    # When the old one is presented again, Then 401 reused
    with pytest.raises(UnauthorizedError) as reused:
        sessions.refresh(world.ports, first.refresh_token, now=T0 + 2)
    assert reason(reused) == "reused"
    # And the newest token of that family is dead too
    with pytest.raises(UnauthorizedError) as revoked:
        sessions.refresh(world.ports, second.refresh_token, now=T0 + 3)
    assert reason(revoked) == "revoked"


def test_a_lost_race_on_rotation_counts_as_reuse(world, user):
    pair = login(world)
    world.sessions.rotate = lambda *args: False  # another request rotated it between read and write

    with pytest.raises(UnauthorizedError) as caught:
        sessions.refresh(world.ports, pair.refresh_token, now=T0 + 1)

    assert reason(caught) == "reused"
    assert world.sessions.families[pair.refresh_token.split(".")[0]].revoked


@pytest.mark.parametrize("token", ["", "garbage", "rf_x.short", "nofamily." + "a" * 43, "rf_unknown." + "a" * 43])
def test_refresh_is_401_invalid_when_the_token_is_malformed_or_unknown(world, token):
    with pytest.raises(UnauthorizedError) as caught:
        sessions.refresh(world.ports, token, now=T0)

    assert reason(caught) == "invalid"


def test_refresh_is_401_expired_after_the_family_lifetime(world, user):
    pair = login(world)

    with pytest.raises(UnauthorizedError) as caught:
        sessions.refresh(world.ports, pair.refresh_token, now=T0 + world.policy.refresh_ttl)

    assert reason(caught) == "expired"


def test_refresh_is_401_revoked_when_sessions_were_revoked_after_the_login(world, user):
    pair = login(world)
    world.users.revoke_sessions(user.id, T0 + 1)

    with pytest.raises(UnauthorizedError) as caught:
        sessions.refresh(world.ports, pair.refresh_token, now=T0 + 5)

    assert reason(caught) == "revoked"


def test_refresh_is_401_inactive_when_the_account_was_suspended(world, user):
    pair = login(world)
    world.users.users[user.id] = replace(world.users.get(user.id), status="suspended")

    with pytest.raises(UnauthorizedError) as caught:
        sessions.refresh(world.ports, pair.refresh_token, now=T0 + 5)

    assert reason(caught) == "inactive"


# --- logout ---


def test_logout_ends_the_family_but_not_other_sessions(world, user):
    phone, laptop = login(world), login(world)

    sessions.logout(world.ports, phone.refresh_token, everywhere=False, now=T0 + 1)

    with pytest.raises(UnauthorizedError):
        sessions.refresh(world.ports, phone.refresh_token, now=T0 + 2)
    assert sessions.refresh(world.ports, laptop.refresh_token, now=T0 + 2).access_token
    assert world.users.get(user.id).sessions_valid_after is None


def test_logout_everywhere_voids_every_session_and_access_token(world, user):
    phone, laptop = login(world), login(world)

    sessions.logout(world.ports, phone.refresh_token, everywhere=True, now=T0 + 1)

    assert world.users.get(user.id).sessions_valid_after == T0 + 2
    with pytest.raises(UnauthorizedError):
        sessions.refresh(world.ports, laptop.refresh_token, now=T0 + 3)


def test_logout_is_idempotent_for_unknown_tokens_but_everywhere_needs_a_live_one(world, user):
    sessions.logout(world.ports, "rf_unknown." + "a" * 43, everywhere=False, now=T0)
    sessions.logout(world.ports, "garbage", everywhere=False, now=T0)

    with pytest.raises(UnauthorizedError):
        sessions.logout(world.ports, "rf_unknown." + "a" * 43, everywhere=True, now=T0)
    pair = login(world)
    sessions.logout(world.ports, pair.refresh_token, everywhere=False, now=T0)
    with pytest.raises(UnauthorizedError):
        sessions.logout(world.ports, pair.refresh_token, everywhere=True, now=T0)
    assert world.users.get(user.id).sessions_valid_after is None
