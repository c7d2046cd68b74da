"""The retention schedule of a canceled tenant's data (docs/tenancy.md "Deleting a tenant's data").

A canceled subscription sets ``deletion_due_at`` (``BILLING_RETENTION_DAYS`` later). The owners
are mailed 7 days and 1 day before it; when it passes, the retention job deletes the data.
These are plain functions of the due time and the clock, so the dunning schedule can be run at
any cadence (and again) without mailing twice or early: each mail is claimed once by its key.
Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

DAY: Final = 86400
WARNING_DAYS: Final = (7, 1)  # the owner's mails, days before the deletion, earliest first
RECHECK_SECONDS: Final = 300  # while servers are being deleted, the job looks again this often
PURGE_BUDGET: Final = 5000  # records deleted per call at most: a large tenant takes several runs


@dataclass(frozen=True)
class Purged:
    """What one purge call deleted, by kind; ``finished`` once only the kept records remain."""

    removed: dict[str, int] = field(default_factory=dict)
    finished: bool = False


def warning_owed(due_at: int, now: int) -> int | None:
    """Which warning (days before) is owed at ``now``: the latest threshold already passed, or
    None before the first one and once the deletion is due. A run that comes late (or a
    retention shorter than 7 days) still sends it; the mail says the time really left
    (``days_left``)."""
    if now >= due_at:
        return None
    for days in sorted(WARNING_DAYS):
        if now >= due_at - days * DAY:
            return days
    return None


def days_left(due_at: int, now: int) -> int:
    """Whole days until the deletion, rounded up (at least 1): what a warning mail announces."""
    return max(1, -(-(due_at - now) // DAY))


def first_look(due_at: int) -> int:
    """When the schedule must look at a canceled tenant first: at its earliest warning."""
    return due_at - max(WARNING_DAYS) * DAY


def next_look(due_at: int, now: int) -> int:
    """The next time after ``now`` the schedule has something to do for this tenant."""
    for days in sorted(WARNING_DAYS, reverse=True):
        at = due_at - days * DAY
        if now < at:
            return at
    return due_at


def warning_key(days: int, due_at: int) -> str:
    """The notice key of one warning: once per warning and due date (a tenant that resubscribes
    and is canceled again gets a new due date, and new warnings)."""
    return f"deletion:{days}d:{due_at}"


# The records of a tenant that outlive the deletion, and why (docs/tenancy.md):
KEPT: Final = {
    "audit": "the tenant's audit log: who did what, kept as evidence (security, GDPR art. 5(2) accountability)",
    "credits": "the credit ledger and balances: booking records (HGB §257, AO §147: 10 years)",
    "tombstone": "when the data was deleted, the tenant's name and its Stripe customer (invoices stay at Stripe)",
}
