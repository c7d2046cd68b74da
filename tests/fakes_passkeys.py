"""The fake of ``mamba.ports.PasskeyStore``, kept apart from tests/fakes.py so the passkey tests
carry their own world; its PAIRS row is in tests/unit/test_fakes_match_ports.py and
tests/contract/test_passkey_store.py runs it and DynamoPasskeyStore through one contract."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.passkeys import Challenge, Passkey, PasskeyLimitError


@dataclass
class FakePasskeyStore:
    users: set[str] = field(default_factory=set)  # the accounts that exist
    passkeys: dict[tuple[str, str], Passkey] = field(default_factory=dict)
    challenges: dict[str, Challenge] = field(default_factory=dict)

    def count(self, user_id: str) -> int:
        """What the user item's ``passkey_count`` says on DynamoDB."""
        return sum(1 for uid, _ in self.passkeys if uid == user_id)

    def add(self, passkey: Passkey, limit: int) -> None:
        if (passkey.user_id, passkey.id) in self.passkeys:
            raise ConflictError("This passkey is registered already.", {"reason": "passkey_exists"})
        if passkey.user_id not in self.users:
            raise NotFoundError("User not found.", {"user_id": passkey.user_id})
        if self.count(passkey.user_id) >= limit:
            raise PasskeyLimitError(f"An account can have at most {limit} passkeys.", {"limit": limit})
        self.passkeys[(passkey.user_id, passkey.id)] = passkey

    def list(self, user_id: str) -> list[Passkey]:
        return sorted(
            (p for (uid, _), p in self.passkeys.items() if uid == user_id), key=lambda p: (p.created_at, p.id)
        )

    def get(self, user_id: str, passkey_id: str) -> Passkey | None:
        return self.passkeys.get((user_id, passkey_id))

    def rename(self, user_id: str, passkey_id: str, name: str) -> Passkey:
        found = self.passkeys.get((user_id, passkey_id))
        if found is None:
            raise NotFoundError("Passkey not found.", {"passkey_id": passkey_id})
        self.passkeys[(user_id, passkey_id)] = renamed = replace(found, name=name)
        return renamed

    def delete(self, user_id: str, passkey_id: str) -> bool:
        return self.passkeys.pop((user_id, passkey_id), None) is not None

    def delete_all(self, user_id: str) -> int:
        return sum(int(self.delete(user_id, p.id)) for p in self.list(user_id))

    def record_use(self, passkey: Passkey, sign_count: int, backed_up: bool, at: str) -> bool:
        found = self.passkeys.get((passkey.user_id, passkey.id))
        if found is None or found.sign_count != passkey.sign_count:
            return False
        self.passkeys[(passkey.user_id, passkey.id)] = replace(
            found, sign_count=sign_count, backed_up=backed_up, last_used_at=at
        )
        return True

    def put_challenge(self, challenge: Challenge) -> None:
        self.challenges[challenge.id] = challenge

    def take_challenge(self, challenge_id: str) -> Challenge | None:
        return self.challenges.pop(challenge_id, None)
