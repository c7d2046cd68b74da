"""The migration ledger: one item, ``META#MIGRATIONS/LEDGER``, changed only by conditional updates.

Each write carries a condition on the state the runner read (see ``mamba.migrations.runner``):
the claim on ``applied`` being unchanged and no live lease; the record on this runner still
holding the lease. A failed condition is re-read to say which of the two happened.
"""

from __future__ import annotations

from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, get_or_none, translate
from mamba.adapters.dynamo.items import LedgerItem
from mamba.domain.clock import iso, utcnow
from mamba.migrations.model import Lease, LedgerState, MigrationConflictError, MigrationLockedError


def _state(item: LedgerItem) -> LedgerState:
    lease = None
    if item.lock_owner:
        lease = Lease(
            owner=item.lock_owner,
            version=item.lock_version or "",
            action=item.lock_action or "",
            expires_at=int(item.lock_expires_at or 0),
        )
    applied_at = dict(item.applied_at.attribute_values) if item.applied_at is not None else {}
    return LedgerState(
        exists=True,
        applied=tuple(str(v) for v in item.applied or ()),
        applied_at={str(k): str(v) for k, v in applied_at.items()},
        lease=lease,
    )


def _clear_lease() -> list[Any]:
    return [
        LedgerItem.lock_owner.remove(),
        LedgerItem.lock_version.remove(),
        LedgerItem.lock_action.remove(),
        LedgerItem.lock_expires_at.remove(),
    ]


class DynamoMigrationLedger:
    def read(self) -> LedgerState:
        item = get_or_none(LedgerItem, *keys.MIGRATION_LEDGER, consistent_read=True)
        return _state(item) if item is not None else LedgerState()

    def claim(self, expected: LedgerState, lease: Lease, now: int) -> None:
        if expected.exists:
            # The ledger must be exactly as read, and nobody may hold a lease that is still live.
            condition = (LedgerItem.applied == list(expected.applied)) & (
                LedgerItem.lock_owner.does_not_exist() | (LedgerItem.lock_expires_at < now)
            )
        else:
            # First run ever: the item must still be absent, so two first runs cannot both claim.
            condition = LedgerItem.pk.does_not_exist()
        actions = [
            LedgerItem.lock_owner.set(lease.owner),
            LedgerItem.lock_version.set(lease.version),
            LedgerItem.lock_action.set(lease.action),
            LedgerItem.lock_expires_at.set(lease.expires_at),
            LedgerItem.updated_at.set(iso(utcnow())),
        ]
        if not expected.exists:
            actions += [LedgerItem.applied.set([]), LedgerItem.applied_at.set({})]
        self._update(actions, condition, now, "claim the ledger")

    def renew(self, owner: str, expires_at: int) -> None:
        self._update(
            [LedgerItem.lock_expires_at.set(expires_at)], LedgerItem.lock_owner == owner, None, "renew the lease"
        )

    def record(self, expected: LedgerState, owner: str, applied: tuple[str, ...], applied_at: dict[str, str]) -> None:
        # Only the lease holder may record, and only over the list it claimed against.
        condition = (LedgerItem.lock_owner == owner) & (LedgerItem.applied == list(expected.applied))
        actions = [
            LedgerItem.applied.set(list(applied)),  # type: ignore[arg-type]
            LedgerItem.applied_at.set(dict(applied_at)),
            LedgerItem.updated_at.set(iso(utcnow())),
            *_clear_lease(),
        ]
        self._update(actions, condition, None, "record the migration")

    def release(self, owner: str) -> None:
        # A failed condition: the lease is not (or no longer) this owner's, nothing to release.
        with translate(on_condition=SKIP, unavailable="The migration lease could not be released."):
            LedgerItem(*keys.MIGRATION_LEDGER).update(actions=_clear_lease(), condition=LedgerItem.lock_owner == owner)

    def force_unlock(self) -> Lease | None:
        held = self.read().lease
        if held is not None:
            with translate(on_condition=SKIP, unavailable="The migration lease could not be cleared."):
                LedgerItem(*keys.MIGRATION_LEDGER).update(
                    actions=_clear_lease(), condition=LedgerItem.lock_owner == held.owner
                )
        return held

    def _update(self, actions: list[Any], condition: Any, now: int | None, what: str) -> None:
        with translate(on_condition=SKIP, unavailable=f"Could not {what}; try again.") as update:
            LedgerItem(*keys.MIGRATION_LEDGER).update(actions=actions, condition=condition)
        if update.condition_failed:
            exc = update.error
            current = self.read()
            lease = current.live_lease(now) if now is not None else None
            if lease is not None:
                raise MigrationLockedError(
                    f"Could not {what}: migration {lease.version} ({lease.action}) is being run by {lease.owner}.",
                    {"owner": lease.owner, "version": lease.version, "expires_at": lease.expires_at},
                ) from exc
            raise MigrationConflictError(
                f"Could not {what}: the ledger changed while this runner was working; run the command again.",
                {"applied": list(current.applied)},
            ) from exc
