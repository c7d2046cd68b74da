"""``PasskeyStore`` over its fake (tests/fakes_passkeys.py) and DynamoPasskeyStore on moto: the
same behaviour, so the service tests on the fake say what the panel does."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.passkeys import AUTHENTICATE, REGISTER, Challenge, Passkey, PasskeyLimitError
from tests.fakes_passkeys import FakePasskeyStore

T0 = "2026-12-05T10:00:00Z"


def passkey(user_id: str = "usr_ada", number: int = 1, **over: Any) -> Passkey:
    made = Passkey(
        id=f"pk_{number:032x}",
        user_id=user_id,
        name=f"Key {number}",
        credential_id=f"cred{number}",
        public_key="pQECAyYgASFYIA",
        sign_count=1,
        created_at=f"2026-12-05T10:00:{number:02d}Z",
        backup_eligible=True,
        backed_up=False,
        transports=("hybrid", "internal"),
        aaguid="00000000-0000-0000-0000-000000000000",
    )
    return replace(made, **over)


class PasskeyStoreContract:
    @pytest.fixture
    def store(self) -> Any:
        raise NotImplementedError

    def count(self, store: Any, user_id: str) -> int:
        raise NotImplementedError

    def test_an_added_passkey_is_read_back_whole_and_listed_oldest_first(self, store):
        store.add(passkey(number=2), 20)
        store.add(passkey(number=1), 20)

        assert store.get("usr_ada", passkey(number=1).id) == passkey(number=1)
        assert [p.id for p in store.list("usr_ada")] == [passkey(number=1).id, passkey(number=2).id]
        assert store.list("usr_bob") == [] and store.get("usr_bob", passkey(number=1).id) is None
        assert self.count(store, "usr_ada") == 2

    def test_the_same_credential_twice_is_a_conflict(self, store):
        store.add(passkey(), 20)
        with pytest.raises(ConflictError):
            store.add(passkey(), 20)
        assert self.count(store, "usr_ada") == 1

    def test_the_cap_is_kept(self, store):
        store.add(passkey(number=1), 2)
        store.add(passkey(number=2), 2)
        with pytest.raises(PasskeyLimitError):
            store.add(passkey(number=3), 2)
        assert len(store.list("usr_ada")) == 2

    def test_a_passkey_of_an_unknown_account_is_refused(self, store):
        with pytest.raises(NotFoundError):
            store.add(passkey(user_id="usr_nobody"), 20)

    def test_rename_changes_the_name_only(self, store):
        store.add(passkey(), 20)

        renamed = store.rename("usr_ada", passkey().id, "Phone")

        assert renamed == replace(passkey(), name="Phone") == store.get("usr_ada", passkey().id)
        with pytest.raises(NotFoundError):
            store.rename("usr_bob", passkey().id, "Phone")

    def test_delete_says_whether_it_deleted_and_uncounts(self, store):
        store.add(passkey(number=1), 20)
        store.add(passkey(number=2), 20)

        assert store.delete("usr_ada", passkey(number=1).id) is True
        assert store.delete("usr_ada", passkey(number=1).id) is False
        assert store.delete("usr_bob", passkey(number=2).id) is False
        assert self.count(store, "usr_ada") == 1
        assert store.delete_all("usr_ada") == 1
        assert store.list("usr_ada") == [] and self.count(store, "usr_ada") == 0

    def test_a_use_is_recorded_only_over_the_counter_it_was_read_with(self, store):
        store.add(passkey(), 20)
        read = store.get("usr_ada", passkey().id)

        assert store.record_use(read, 5, True, T0) is True
        assert store.record_use(read, 6, True, T0) is False  # another sign-in moved the counter first

        now = store.get("usr_ada", passkey().id)
        assert (now.sign_count, now.backed_up, now.last_used_at) == (5, True, T0)

    def test_a_challenge_is_taken_once(self, store):
        made = Challenge(id="wac_1", purpose=REGISTER, challenge="abc", expires_at=2_000_000_000, user_id="usr_ada")
        store.put_challenge(made)
        store.put_challenge(Challenge(id="wac_2", purpose=AUTHENTICATE, challenge="def", expires_at=2_000_000_000))

        assert store.take_challenge("wac_1") == made
        assert store.take_challenge("wac_1") is None
        assert store.take_challenge("wac_nope") is None
        assert store.take_challenge("wac_2").user_id is None


class TestPasskeyStoreOnFake(PasskeyStoreContract):
    @pytest.fixture
    def store(self) -> Any:
        return FakePasskeyStore(users={"usr_ada", "usr_bob"})

    def count(self, store: Any, user_id: str) -> int:
        return int(store.count(user_id))


class TestPasskeyStoreOnDynamo(PasskeyStoreContract):
    @pytest.fixture
    def store(self, aws: None) -> Any:
        from mamba import bootstrap
        from mamba.adapters.dynamo.passkeys import DynamoPasskeyStore
        from mamba.domain.accounts import User

        bootstrap.dynamo_tables()
        users = bootstrap.user_repository()
        for uid in ("usr_ada", "usr_bob"):
            users.add(User(id=uid, email=f"{uid}@example.com", created_at=T0, email_verified=True))
        return DynamoPasskeyStore()

    def count(self, store: Any, user_id: str) -> int:
        from mamba import bootstrap

        return bootstrap.user_repository().get(user_id).passkeys

    def test_an_unanswered_challenge_expires_with_the_table_ttl(self, store):
        from mamba.adapters.dynamo import keys
        from mamba.adapters.dynamo.passkeys import WebauthnChallengeItem

        store.put_challenge(Challenge(id="wac_9", purpose=AUTHENTICATE, challenge="x", expires_at=1_900_000_000))

        assert WebauthnChallengeItem.get(*keys.webauthn_challenge("wac_9")).ttl == 1_900_000_000
