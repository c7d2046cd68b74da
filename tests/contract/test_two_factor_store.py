"""One test class over FakeTwoFactorStore and DynamoTwoFactorStore on moto: the
conditional writes that make TOTP steps and recovery codes single-use behave the same."""

from __future__ import annotations

import pytest

from mamba.domain.errors import ConflictError, NotFoundError
from tests.fakes import FakeTwoFactorStore

T0 = "2026-11-25T10:00:00Z"


@pytest.fixture(params=["fake", "dynamo"])
def store(request):
    if request.param == "fake":
        fake = FakeTwoFactorStore()
        fake.add_user("usr_1", "one@example.org", "hash")
        return fake
    request.getfixturevalue("aws")
    from mamba import bootstrap
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.domain.accounts import User

    bootstrap.dynamo_tables()
    DynamoUserRepository().add(User(id="usr_1", email="one@example.org", created_at=T0, password_hash="hash"))
    return bootstrap.two_factor_store()


def _enabled(store, counter: int = 100) -> None:
    store.start_enrolment("usr_1", "SECRETA")
    assert store.confirm("usr_1", "SECRETA", counter, ["h1", "h2"], T0)


class TestTwoFactorStoreContract:
    def test_load_is_off_when_the_user_never_enrolled(self, store):
        state = store.load("usr_1")

        assert (state.enabled, state.secret, state.pending_secret, state.recovery_codes_left) == (False, None, None, 0)
        assert (state.email, state.password_hash) == ("one@example.org", "hash")

    def test_load_is_not_found_when_the_user_is_unknown(self, store):
        with pytest.raises(NotFoundError):
            store.load("usr_missing")

    def test_confirm_enables_with_the_pending_secret_when_it_is_unchanged(self, store):
        store.start_enrolment("usr_1", "SECRETA")

        assert store.confirm("usr_1", "SECRETA", 100, ["h1", "h2"], T0)

        state = store.load("usr_1")
        assert (state.enabled, state.secret, state.pending_secret) == (True, "SECRETA", None)
        assert (state.last_counter, state.recovery_codes_left) == (100, 2)

    def test_confirm_fails_when_another_enrolment_replaced_the_secret(self, store):
        store.start_enrolment("usr_1", "SECRETA")
        store.start_enrolment("usr_1", "SECRETB")

        assert not store.confirm("usr_1", "SECRETA", 100, ["h1"], T0)
        assert store.load("usr_1").enabled is False

    def test_start_enrolment_conflicts_when_already_enabled(self, store):
        _enabled(store)

        with pytest.raises(ConflictError):
            store.start_enrolment("usr_1", "SECRETC")
        assert store.load("usr_1").secret == "SECRETA"

    def test_advance_counter_refuses_the_same_or_an_older_step(self, store):
        _enabled(store, counter=100)

        assert store.advance_counter("usr_1", 101)
        assert not store.advance_counter("usr_1", 101)
        assert not store.advance_counter("usr_1", 99)
        assert store.load("usr_1").last_counter == 101

    def test_recovery_code_is_used_once(self, store):
        _enabled(store)

        assert store.use_recovery_code("usr_1", "h1")
        assert not store.use_recovery_code("usr_1", "h1")
        assert not store.use_recovery_code("usr_1", "unknown")
        assert store.load("usr_1").recovery_codes_left == 1

    def test_disable_forgets_secret_counter_and_codes(self, store):
        _enabled(store)

        store.disable("usr_1")

        state = store.load("usr_1")
        assert (state.enabled, state.secret, state.last_counter, state.recovery_codes_left) == (False, None, None, 0)
        assert not store.advance_counter("usr_1", 200)
        assert not store.use_recovery_code("usr_1", "h2")

    def test_disable_is_not_found_when_the_user_is_unknown(self, store):
        with pytest.raises(NotFoundError):
            store.disable("usr_missing")
