"""The migration types: a migration, the context its ``up``/``down`` receives, the ledger
protocol the runner records in, and the runner's errors. Standard library and the domain only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from mamba.domain.errors import ConflictError, DomainError
from mamba.domain.quotas import Quotas

LEASE_SECONDS = 15 * 60

Log = Callable[[str], None]


class MigrationError(DomainError):
    """The migrations cannot run as asked (unknown or out-of-order versions, bad count)."""

    status = 409
    code = "MIGRATION_ERROR"


class MigrationConflictError(ConflictError):
    """The ledger changed under this runner (another runner applied or rolled back meanwhile)."""


class MigrationLockedError(ConflictError):
    """Another runner holds the ledger's lease."""


@dataclass(frozen=True)
class Lease:
    owner: str
    version: str
    action: str
    expires_at: int


@dataclass(frozen=True)
class LedgerState:
    exists: bool = False
    applied: tuple[str, ...] = ()
    applied_at: dict[str, str] = field(default_factory=dict)
    lease: Lease | None = None

    def live_lease(self, now: int) -> Lease | None:
        return self.lease if self.lease is not None and self.lease.expires_at > now else None


class MigrationLedger(Protocol):
    def read(self) -> LedgerState: ...

    def claim(self, expected: LedgerState, lease: Lease, now: int) -> None:
        """Raises MigrationConflictError / MigrationLockedError when ``expected`` is stale or leased."""

    def renew(self, owner: str, expires_at: int) -> None:
        """Raises MigrationConflictError when ``owner`` no longer holds the lease."""

    def record(self, expected: LedgerState, owner: str, applied: tuple[str, ...], applied_at: dict[str, str]) -> None:
        """Raises MigrationConflictError when ``owner`` lost the lease or ``applied`` moved."""

    def release(self, owner: str) -> None:
        """Drop the lease if ``owner`` holds it; never raises for a lease already gone."""

    def force_unlock(self) -> Lease | None: ...


@dataclass(frozen=True)
class MigrationContext:
    """What a migration's ``up``/``down`` receives."""

    version: str
    action: str  # "up" or "down"
    now: str  # ISO time of this run, for created_at fields
    log: Log
    renew_lease: Callable[[], None]  # call between batches of a long migration
    # Settings' FREE_PLAN_* defaults (0007 seeds the free plan with them); None: not wired.
    free_quotas: Quotas | None = None


class Migration(Protocol):
    """A module (or object) in ``mamba.migrations.versions``."""

    version: str  # four digits, the same as the file's ``m0001_`` prefix
    description: str

    def up(self, ctx: MigrationContext) -> None: ...
    def down(self, ctx: MigrationContext) -> None: ...


@dataclass(frozen=True)
class MigrationStatus:
    version: str
    description: str
    applied: bool
    applied_at: str | None
