"""The account ports, run over the fakes and the DynamoDB adapters on moto, so the service
tests that use the fakes hold for production: users (lockout, email change, sessions),
mailed tokens, refresh-token families and rate-limit counters."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.domain.accounts import ClientHints, OneTimeToken, RefreshFamily, User
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.pages import PageRequest
from mamba.domain.ratelimit import Limit
from tests.fakes import FakeRateLimiter, FakeSessionStore, FakeTokenStore, FakeUserRepository

T0 = 1_800_000_000
CREATED = "2026-11-25T10:00:00Z"


def _real(request: pytest.FixtureRequest, builder: str):
    request.getfixturevalue("aws")
    from mamba import bootstrap

    bootstrap.dynamo_tables()
    if builder == "users":
        return bootstrap.accounts().users
    if builder == "limiter":
        return bootstrap.rate_limiter()
    if builder == "tokens":
        from mamba.adapters.dynamo.one_time_tokens import DynamoOneTimeTokenStore

        return DynamoOneTimeTokenStore()
    from mamba.adapters.dynamo.sessions import DynamoSessionStore

    return DynamoSessionStore(bootstrap.cursor_codec())


@pytest.fixture(params=["fake", "dynamo"])
def users(request):
    return FakeUserRepository() if request.param == "fake" else _real(request, "users")


@pytest.fixture(params=["fake", "dynamo"])
def limiter(request):
    return FakeRateLimiter() if request.param == "fake" else _real(request, "limiter")


@pytest.fixture(params=["fake", "dynamo"])
def tokens(request):
    return FakeTokenStore() if request.param == "fake" else _real(request, "tokens")


@pytest.fixture(params=["fake", "dynamo"])
def sessions(request):
    return FakeSessionStore() if request.param == "fake" else _real(request, "sessions")


def _user(users, user_id: str = "usr_ada", email: str = "ada@example.com") -> User:
    user = User(id=user_id, email=email, created_at=CREATED, password_hash="h", name="Ada")
    users.add(user)
    return user


class TestUserRepositoryContract:
    def test_new_fields_round_trip_with_their_defaults(self, users):
        _user(users)

        got = users.get("usr_ada")

        assert (got.failed_logins, got.locked_until, got.pending_email, got.sessions_valid_after) == (
            0,
            None,
            None,
            None,
        )
        assert got.totp_enabled is False

    def test_login_failures_count_up_and_lock_exactly_once_at_the_threshold(self, users):
        _user(users)
        counts = [users.record_login_failure("usr_ada") for _ in range(3)]

        assert counts == [1, 2, 3]
        assert users.lock("usr_ada", T0 + 1800, threshold=4) is False  # not reached yet
        users.record_login_failure("usr_ada")
        assert users.lock("usr_ada", T0 + 1800, threshold=4) is True
        assert users.lock("usr_ada", T0 + 1800, threshold=4) is False  # the count restarted
        got = users.get("usr_ada")
        assert (got.locked_until, got.failed_logins) == (T0 + 1800, 0)

    def test_clear_login_failures_lifts_the_lock(self, users):
        _user(users)
        for _ in range(2):
            users.record_login_failure("usr_ada")
        users.lock("usr_ada", T0, threshold=2)

        users.clear_login_failures("usr_ada")

        got = users.get("usr_ada")
        assert (got.failed_logins, got.locked_until) == (0, None)

    def test_name_and_pending_email_are_set_and_cleared(self, users):
        _user(users)

        users.set_name("usr_ada", None)
        users.set_pending_email("usr_ada", "new@example.org")
        assert (users.get("usr_ada").name, users.get("usr_ada").pending_email) == (None, "new@example.org")
        users.set_pending_email("usr_ada", None)
        assert users.get("usr_ada").pending_email is None

    def test_mark_email_verified_only_while_the_email_is_unchanged(self, users):
        _user(users)

        assert users.mark_email_verified("usr_ada", "old@example.com") is False
        assert users.get("usr_ada").email_verified is False
        assert users.mark_email_verified("usr_ada", "ada@example.com") is True
        assert users.get("usr_ada").email_verified is True
        assert users.mark_email_verified("usr_missing", "ada@example.com") is False

    def test_change_email_moves_the_unique_claim(self, users):
        _user(users)
        users.set_pending_email("usr_ada", "new@example.org")

        users.change_email("usr_ada", "ada@example.com", "new@example.org")

        got = users.get("usr_ada")
        assert (got.email, got.email_verified, got.pending_email) == ("new@example.org", True, None)
        assert users.find_by_email("ada@example.com") is None
        assert users.find_by_email("new@example.org").id == "usr_ada"
        _user(users, "usr_other", "ada@example.com")  # the old address is free again

    def test_change_email_is_a_conflict_when_the_new_email_is_taken(self, users):
        _user(users)
        _user(users, "usr_bob", "bob@example.com")

        with pytest.raises(ConflictError, match="already exists"):
            users.change_email("usr_ada", "ada@example.com", "bob@example.com")
        assert users.get("usr_ada").email == "ada@example.com"

    def test_change_email_is_a_conflict_when_the_account_email_changed_meanwhile(self, users):
        _user(users)

        with pytest.raises(ConflictError, match="changed meanwhile"):
            users.change_email("usr_ada", "stale@example.com", "new@example.org")
        assert users.find_by_email("new@example.org") is None

    def test_reset_password_sets_the_hash_revokes_and_unlocks(self, users):
        _user(users)
        users.record_login_failure("usr_ada")
        users.lock("usr_ada", T0, threshold=1)

        users.reset_password("usr_ada", "new-hash", T0 + 1)

        got = users.get("usr_ada")
        assert (got.password_hash, got.sessions_valid_after, got.locked_until, got.failed_logins) == (
            "new-hash",
            T0 + 1,
            None,
            0,
        )

    def test_updates_of_an_unknown_user_are_not_found(self, users):
        for call in (
            lambda: users.revoke_sessions("usr_missing", T0),
            lambda: users.reset_password("usr_missing", "h", T0),
            lambda: users.set_name("usr_missing", "x"),
            lambda: users.record_login_failure("usr_missing"),
        ):
            with pytest.raises(NotFoundError):
                call()


class TestOneTimeTokenStoreContract:
    def test_a_token_is_consumed_exactly_once(self, tokens):
        token = OneTimeToken("usr_ada", "verify_email", T0 + 60, CREATED, email="ada@example.com")
        tokens.add("d" * 64, token)

        assert tokens.consume("d" * 64) == token
        assert tokens.consume("d" * 64) is None

    def test_an_unknown_token_is_none(self, tokens):
        assert tokens.consume("e" * 64) is None


class TestSessionStoreContract:
    def _family(self, family_id: str = "rf_1") -> RefreshFamily:
        return RefreshFamily(id=family_id, user_id="usr_ada", issued_at=T0, expires_at=T0 + 3600, created_at=CREATED)

    def test_a_started_family_loads_with_its_first_token(self, sessions):
        sessions.start(self._family(), "a" * 64)

        family, token = sessions.load("rf_1", "a" * 64)

        assert family == self._family()
        assert (token.family_id, token.user_id, token.expires_at, token.used_at) == ("rf_1", "usr_ada", T0 + 3600, None)
        assert sessions.load("rf_1", "b" * 64)[1] is None
        assert sessions.load("rf_2", "a" * 64) == (None, None)

    def test_rotation_uses_the_old_token_once(self, sessions):
        family = self._family()
        sessions.start(family, "a" * 64)

        assert sessions.rotate(family, "a" * 64, "b" * 64, T0 + 5) is True
        assert sessions.rotate(family, "a" * 64, "c" * 64, T0 + 6) is False  # already used

        assert sessions.load("rf_1", "a" * 64)[1].used_at == T0 + 5
        assert sessions.load("rf_1", "b" * 64)[1].used_at is None
        assert sessions.load("rf_1", "c" * 64)[1] is None

    def test_a_revoked_family_cannot_rotate(self, sessions):
        family = self._family()
        sessions.start(family, "a" * 64)

        sessions.revoke("rf_1", "logout")

        assert sessions.load("rf_1", "a" * 64)[0].revoked is True
        assert sessions.rotate(family, "a" * 64, "b" * 64, T0 + 5) is False
        sessions.revoke("rf_missing", "logout")  # nothing to revoke is not an error

    def test_the_list_holds_the_users_unrevoked_families_newest_first_page_by_page(self, sessions):
        for n, created in enumerate(("2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z", "2026-11-25T12:00:00Z")):
            sessions.start(replace(self._family(f"rf_{n}"), created_at=created, user_agent=f"agent {n}"), f"{n}" * 64)
        sessions.start(replace(self._family("rf_bob"), user_id="usr_bob"), "f" * 64)
        sessions.revoke("rf_1", "logout")

        first = sessions.list_for_user("usr_ada", PageRequest(limit=1))
        second = sessions.list_for_user("usr_ada", PageRequest(limit=1, cursor=first.next_cursor))

        assert [(f.id, f.user_agent) for f in first.items + second.items] == [("rf_2", "agent 2"), ("rf_0", "agent 0")]
        assert second.next_cursor is None

    def test_rotation_records_the_last_use_and_the_client(self, sessions):
        family = self._family()
        sessions.start(replace(family, ip="203.0.113.7", user_agent="Firefox"), "a" * 64)

        assert sessions.rotate(family, "a" * 64, "b" * 64, T0 + 5, ClientHints(ip="198.51.100.2", user_agent=None))

        stored = sessions.list_for_user("usr_ada", PageRequest()).items[0]
        assert (stored.last_used_at, stored.ip, stored.user_agent) == (T0 + 5, "198.51.100.2", "Firefox")

    def test_revoke_for_user_only_revokes_the_users_own_family(self, sessions):
        sessions.start(self._family(), "a" * 64)

        assert sessions.revoke_for_user("usr_bob", "rf_1", "revoked_by_user") is False
        assert sessions.revoke_for_user("usr_ada", "rf_missing", "revoked_by_user") is False
        assert sessions.load("rf_1", "a" * 64)[0].revoked is False
        assert sessions.revoke_for_user("usr_ada", "rf_1", "revoked_by_user") is True
        assert sessions.load("rf_1", "a" * 64)[0].revoked is True
        assert sessions.list_for_user("usr_ada", PageRequest()).items == []


class TestRateLimiterContract:
    def test_counts_per_subject_and_window(self, limiter):
        limit = Limit("login-ip", 5, 900)

        counts = [limiter.add(limit, "203.0.113.7", T0 + n) for n in range(3)]

        assert counts == [1, 2, 3]
        assert limiter.add(limit, "198.51.100.1", T0) == 1  # another subject
        assert limiter.add(limit, "203.0.113.7", T0 + 900) == 1  # the next window
        assert limiter.add(Limit("other", 5, 900), "203.0.113.7", T0) == 1  # another limit

    def test_peek_reads_without_counting(self, limiter):
        login_ip, login_account = Limit("login-ip", 5, 900), Limit("login-account", 5, 900)
        limiter.add(login_ip, "203.0.113.7", T0)
        limiter.add(login_ip, "203.0.113.7", T0)

        seen = limiter.peek([(login_ip, "203.0.113.7"), (login_account, "Ada@Example.com")], T0 + 10)

        assert seen == [2, 0]
        assert limiter.peek([(login_ip, "203.0.113.7")], T0 + 10) == [2]

    def test_subjects_compare_case_insensitively(self, limiter):
        limit = Limit("forgot-email", 5, 3600)
        limiter.add(limit, "Ada@Example.com", T0)

        assert limiter.add(limit, "ada@example.com", T0) == 2

    def test_release_gives_back_one_count_and_never_goes_below_zero(self, limiter):
        limit = Limit("login-account", 5, 900)
        limiter.add(limit, "ada@example.com", T0)
        limiter.add(limit, "ada@example.com", T0)

        limiter.release(limit, "ada@example.com", T0 + 1)
        limiter.release(Limit("login-ip", 5, 900), "203.0.113.7", T0)  # nothing counted: no-op

        assert limiter.peek([(limit, "ada@example.com")], T0) == [1]
        limiter.release(limit, "ada@example.com", T0)
        limiter.release(limit, "ada@example.com", T0)
        assert limiter.add(limit, "ada@example.com", T0) == 1
