"""The platform admin's fleet overview and the Stripe events dead letters (issue 12)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from mamba.domain.errors import DomainError
from mamba.domain.overview import DeadLetter, FleetCounts, read_dead_letter
from mamba.ports import DeadLetterErrors, DeadLetterQueue, FleetStats

PEEK_LIMIT = 100  # the most dead letters one listing reads
REDRIVE_LIMIT = 1000  # the most one redrive moves (the rest wait for the next call)


@dataclass(frozen=True)
class Overview:
    counts: FleetCounts
    dead_letters: int


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def overview(stats: FleetStats, dead_letters: DeadLetterQueue, now: datetime) -> Overview:
    """≤ 3 DynamoDB calls (stats.read) and one SQS call (the dead-letter queue's depth)."""
    counts = stats.read(since=_iso(now - timedelta(hours=24)))
    return Overview(counts=counts, dead_letters=dead_letters.depth())


def list_dead_letters(
    dead_letters: DeadLetterQueue, errors: DeadLetterErrors, limit: int = PEEK_LIMIT
) -> list[DeadLetter]:
    """The waiting dead letters, read without consuming them, each with its first error."""
    letters = [read_dead_letter(m) for m in dead_letters.peek(max(1, min(limit, PEEK_LIMIT)))]
    first = errors.first_errors([d.event_id for d in letters if d.event_id])
    return [replace(d, first_error=first.get(d.event_id or "")) for d in letters]


def record_failure(errors: DeadLetterErrors, event_id: str, exc: BaseException, now: datetime) -> None:
    """Keep the first error a Stripe event met, for the dead-letter listing. Only the error's
    class and, for a domain error, its code and message (written for users: no secrets)."""
    if not event_id:
        return
    text = f"{exc.code}: {exc.message}" if isinstance(exc, DomainError) else type(exc).__name__
    try:
        errors.record_first(event_id, text[:500], _iso(now), int(now.timestamp()))
    except DomainError:
        # Best effort: the event's own failure is what SQS must see (it retries the record);
        # a listing without the error is the only cost.
        return


def redrive(dead_letters: DeadLetterQueue) -> int:
    """Send the dead letters back to the events queue; the number moved. Safe to repeat: an
    event processed twice is claimed once (billing_sync's per-event claim)."""
    return dead_letters.redrive(REDRIVE_LIMIT)


def refresh_counters(stats: FleetStats, now: datetime) -> None:
    stats.refresh(_iso(now))


def record_reconcile(stats: FleetStats, results: list[dict[str, object]], now: datetime) -> None:
    """The reconcile run's summary for the overview, then the counters recomputed when the run
    changed a status, and otherwise every ``RECOUNT_EVERY_MINUTES`` (servers are not counted
    on write, so a create or delete shows within that). The recount reads every tenant and
    every server: every minute it would cost more than the rest of the run (docs/cost.md)."""
    changed = sum(int(str(r.get("changed") or 0)) for r in results)
    stats.record_reconcile(
        {
            "at": _iso(now),
            "nodes": len(results),
            "failed_nodes": sum(1 for r in results if r.get("error")),
            "changed": changed,
        }
    )
    if changed or now.minute % RECOUNT_EVERY_MINUTES == 0:
        stats.refresh(_iso(now))


RECOUNT_EVERY_MINUTES = 5
