"""2FA state on the user's profile item (``USER#<uid>/PROFILE``).

Every change is one conditional UpdateItem, so the checks that must hold exactly once
(a time step accepted once, a recovery code used once, an enrolment confirmed once)
are decided by DynamoDB, not by a read followed by a write.
"""

from __future__ import annotations

from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import UserItem
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.two_factor import TwoFactorState


def _is_on() -> Any:
    return UserItem.totp_enabled == True  # noqa: E712 - a pynamodb condition, not a comparison


def _is_off() -> Any:
    return UserItem.totp_enabled.does_not_exist() | (UserItem.totp_enabled == False)  # noqa: E712


class DynamoTwoFactorStore:
    def load(self, user_id: str) -> TwoFactorState:
        with translate(
            on_missing=NotFoundError("User not found.", {"user_id": user_id}),
            unavailable="The account could not be read; try again.",
        ):
            item = UserItem.get(*keys.user(user_id), consistent_read=True)
        last = item.totp_last_counter
        return TwoFactorState(
            user_id=item.user_id,
            email=item.email,
            enabled=bool(item.totp_enabled),
            secret=item.totp_secret,
            pending_secret=item.totp_pending_secret,
            last_counter=int(last) if last is not None else None,
            recovery_codes_left=len(item.recovery_code_hashes or ()),
            password_hash=item.password_hash,
        )

    def start_enrolment(self, user_id: str, pending_secret: str) -> None:
        # Only while 2FA is off: enrolling again must not replace an enabled secret.
        if not self._update(
            user_id, [UserItem.totp_pending_secret.set(pending_secret)], UserItem.pk.exists() & _is_off()
        ):
            self.load(user_id)  # NotFoundError for an unknown user
            raise ConflictError("Two-factor authentication is already enabled.", {"reason": "already_enabled"})

    def confirm(self, user_id: str, pending_secret: str, counter: int, recovery_hashes: list[str], at: str) -> bool:
        # The pending secret must still be the one the code was checked against: a second
        # enrolment started meanwhile would otherwise be enabled with an unverified secret.
        return self._update(
            user_id,
            [
                UserItem.totp_enabled.set(True),
                UserItem.totp_secret.set(pending_secret),
                UserItem.totp_pending_secret.remove(),
                UserItem.totp_last_counter.set(counter),
                UserItem.totp_enabled_at.set(at),
                UserItem.recovery_code_hashes.set(set(recovery_hashes)),
            ],
            (UserItem.totp_pending_secret == pending_secret) & _is_off(),
        )

    def advance_counter(self, user_id: str, counter: int) -> bool:
        # Strictly later than the last accepted step: the same code (or an older one) fails.
        return self._update(
            user_id,
            [UserItem.totp_last_counter.set(counter)],
            _is_on() & (UserItem.totp_last_counter.does_not_exist() | (UserItem.totp_last_counter < counter)),
        )

    def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        # contains() and DELETE in one write: a code can be spent once, even by two racing logins.
        return self._update(
            user_id,
            [UserItem.recovery_code_hashes.delete({code_hash})],
            _is_on() & UserItem.recovery_code_hashes.contains(code_hash),
        )

    def disable(self, user_id: str) -> None:
        if not self._update(
            user_id,
            [
                UserItem.totp_enabled.set(False),
                UserItem.totp_secret.remove(),
                UserItem.totp_pending_secret.remove(),
                UserItem.totp_last_counter.remove(),
                UserItem.totp_enabled_at.remove(),
                UserItem.recovery_code_hashes.remove(),
            ],
            UserItem.pk.exists(),
        ):
            raise NotFoundError("User not found.", {"user_id": user_id})

    @staticmethod
    def _update(user_id: str, actions: list[Any], condition: Any) -> bool:
        """True when the conditional update applied, False when its condition failed."""
        with translate(on_condition=SKIP, unavailable="The account could not be updated; try again.") as update:
            UserItem(*keys.user(user_id)).update(actions=actions, condition=condition)
        return not update.condition_failed
