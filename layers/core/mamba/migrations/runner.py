"""The migration runner: applies versioned data migrations forward and back, recorded in one ledger.

The ledger (``META#MIGRATIONS/LEDGER``) lists the applied versions in order. Every change
to it is conditional on the state the runner read:

1. **claim**: set a lease (owner, version, expiry) on the ledger, only if ``applied`` still
   equals what was read and no live lease is held. A second runner fails here, before
   running anything, so two runners never apply the same version.
2. **run** the migration's ``up`` (or ``down``).
3. **record**: write the new ``applied`` list and drop the lease, only if this runner still
   holds the lease and ``applied`` is unchanged.

A runner that dies between 1 and 3 leaves its lease; it expires after ``LEASE_SECONDS``
(``mamba migrate --unlock`` clears it at once). Its migration then runs again, which is
why every ``up`` and ``down`` must be idempotent (puts, deletes, conditional updates).

The types (migration, context, ledger protocol, errors) are in ``mamba.migrations.model``;
``MigrationRunner`` takes any ledger. The CLI (``mamba.cli``) wires the real one.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from mamba.domain.clock import iso
from mamba.domain.quotas import Quotas
from mamba.migrations.model import (
    LEASE_SECONDS,
    Lease,
    LedgerState,
    Log,
    Migration,
    MigrationConflictError,
    MigrationContext,
    MigrationError,
    MigrationLedger,
    MigrationLockedError,
    MigrationStatus,
)

__all__ = [
    "LEASE_SECONDS",
    "Lease",
    "LedgerState",
    "Log",
    "Migration",
    "MigrationConflictError",
    "MigrationContext",
    "MigrationError",
    "MigrationLedger",
    "MigrationLockedError",
    "MigrationRunner",
    "MigrationStatus",
]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _quiet(_message: str) -> None:
    return None


def runner_id() -> str:
    """Who holds a lease: host and pid for the operator, plus randomness for uniqueness."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class MigrationRunner:
    def __init__(
        self,
        ledger: MigrationLedger,
        migrations: Sequence[Migration],
        *,
        log: Log = _quiet,
        clock: Callable[[], datetime] = _utcnow,
        owner: str | None = None,
        lease_seconds: int = LEASE_SECONDS,
        free_quotas: Quotas | None = None,
    ) -> None:
        versions = [m.version for m in migrations]
        if versions != sorted(versions) or len(set(versions)) != len(versions):
            raise MigrationError("Migrations must have unique versions in ascending order.", {"versions": versions})
        self.ledger = ledger
        self.migrations = list(migrations)
        self.by_version = {m.version: m for m in migrations}
        self.log = log
        self.clock = clock
        self.owner = owner or runner_id()
        self.lease_seconds = lease_seconds
        self.free_quotas = free_quotas

    # -- reading ---------------------------------------------------------------------------

    def status(self) -> list[MigrationStatus]:
        state = self.ledger.read()
        rows = [
            MigrationStatus(m.version, m.description, m.version in state.applied, state.applied_at.get(m.version))
            for m in self.migrations
        ]
        rows += [
            MigrationStatus(v, "(not in this code)", True, state.applied_at.get(v))
            for v in state.applied
            if v not in self.by_version
        ]
        return rows

    def pending(self, state: LedgerState) -> list[Migration]:
        """The migrations to apply, in order. Raises MigrationError when the ledger and the
        code disagree in a way that running forward would make worse."""
        unknown = [v for v in state.applied if v not in self.by_version]
        if unknown:
            raise MigrationError(
                "The ledger records migrations this code does not have; deploy the code that has them.",
                {"unknown": unknown},
            )
        todo = [m for m in self.migrations if m.version not in state.applied]
        latest = max(state.applied, default="")
        late = [m.version for m in todo if m.version < latest]
        if late:
            raise MigrationError(
                "These migrations are older than one already applied; give them a newer version.",
                {"out_of_order": late, "latest_applied": latest},
            )
        return todo

    # -- running ---------------------------------------------------------------------------

    def up(self, should_stop: Callable[[], bool] | None = None) -> list[str]:
        """Apply every pending migration in order; the versions applied (empty: nothing to do).

        ``should_stop`` is asked before each migration (the deploy's custom resource stops while
        its Lambda still has time to answer CloudFormation); the rest stays pending."""
        state = self.ledger.read()
        self._refuse_if_leased(state)
        done: list[str] = []
        for migration in self.pending(state):
            if should_stop is not None and should_stop():
                break
            state = self._run(migration, "up", state, (*state.applied, migration.version))
            done.append(migration.version)
        return done

    def down(self, count: int) -> list[str]:
        """Roll back the last ``count`` applied migrations, newest first; the versions rolled back."""
        if count < 0:
            raise MigrationError("The number of migrations to roll back cannot be negative.", {"count": count})
        state = self.ledger.read()
        self._refuse_if_leased(state)
        if count > len(state.applied):
            raise MigrationError(
                f"Only {len(state.applied)} migrations are applied; cannot roll back {count}.",
                {"applied": list(state.applied)},
            )
        targets = list(reversed(state.applied[len(state.applied) - count :])) if count else []
        missing = [v for v in targets if v not in self.by_version]
        if missing:
            raise MigrationError("Cannot roll back migrations this code does not have.", {"unknown": missing})
        done: list[str] = []
        for version in targets:
            state = self._run(self.by_version[version], "down", state, state.applied[:-1])
            done.append(version)
        return done

    def unlock(self) -> Lease | None:
        """Clear a lease left by a runner that died; the lease that was cleared, if any."""
        return self.ledger.force_unlock()

    def _now(self) -> tuple[str, int]:
        moment = self.clock()
        return iso(moment), int(moment.timestamp())

    def _refuse_if_leased(self, state: LedgerState) -> None:
        lease = state.live_lease(self._now()[1])
        if lease is not None and lease.owner != self.owner:
            raise MigrationLockedError(
                f"Migration {lease.version} ({lease.action}) is being run by {lease.owner}. "
                "If that runner died, run `mamba migrate --unlock`.",
                {"owner": lease.owner, "version": lease.version, "expires_at": lease.expires_at},
            )

    def _run(self, migration: Migration, action: str, state: LedgerState, after: tuple[str, ...]) -> LedgerState:
        stamp, epoch = self._now()
        self.ledger.claim(state, Lease(self.owner, migration.version, action, epoch + self.lease_seconds), epoch)
        ctx = MigrationContext(
            version=migration.version,
            action=action,
            now=stamp,
            log=self.log,
            renew_lease=lambda: self.ledger.renew(self.owner, self._now()[1] + self.lease_seconds),
            free_quotas=self.free_quotas,
        )
        self.log(f"{action} {migration.version}: {migration.description}")
        try:
            (migration.up if action == "up" else migration.down)(ctx)
        except BaseException:
            # Ctrl-C included: leave no lease behind, so the next run can retry at once.
            self.ledger.release(self.owner)
            raise
        applied_at = {v: t for v, t in state.applied_at.items() if v in after}
        if action == "up":
            applied_at[migration.version] = stamp
        self.ledger.record(state, self.owner, after, applied_at)
        return LedgerState(exists=True, applied=after, applied_at=applied_at, lease=None)
