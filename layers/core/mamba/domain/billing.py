"""Billing: plans and their quotas, the subscription state a tenant is in, dunning and
metering arithmetic. Standard library only (docs/billing.md).

A plan decides a tenant's quotas. The tenant record carries the *effective* quotas as
``plan_quotas`` (written whenever the plan changes); a tenant without a live subscription
gets the ``free`` plan's. The plan is chosen from a subscription's **price ids** only,
never from metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Final

from mamba.domain.errors import CurrencyMismatchError, PlanPriceInvalidError, ValidationError
from mamba.domain.quotas import Quotas

FREE_PLAN_ID: Final = "free"
PLAN_ID = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
PRICE_ID = re.compile(r"^price_[A-Za-z0-9_]{1,120}$")
METRICS: Final = ("ram_gb_hours", "backup_gb_hours")
CURRENCY = re.compile(r"^[a-z]{3}$")
INTERVALS: Final = ("month", "year")

# The last-resort free quotas (the panel uses Settings' FREE_PLAN_* through
# mamba.services.quotas.free_plan, and the stored ``free`` plan once migration 0007 ran).
# A negative quota means unlimited.
FREE_QUOTAS: Final = Quotas(servers=1, memory_mb=1024, disk_mb=5120, backup_bytes=0, backups_per_server=0)


@dataclass(frozen=True)
class MeteredPrice:
    """A usage price of a plan, backed by a Stripe Billing Meter (``event_name``)."""

    metric: str  # one of METRICS
    price_id: str
    event_name: str


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    quotas: Quotas
    grace_days: int = 7
    price_id: str | None = None  # the flat fee; None for the free plan
    metered: tuple[MeteredPrice, ...] = ()
    active: bool = True
    # What the pricing page shows (the flat fee in minor units, ISO currency, billing interval).
    # Stripe charges the price_id; these are its display copy, kept by the admin, so the public
    # GET /v1/plans never calls Stripe.
    amount_cents: int = 0
    currency: str = "usd"
    interval: str = "month"
    created_at: str = ""
    updated_at: str = ""

    def price_ids(self) -> tuple[str, ...]:
        return tuple(p for p in (self.price_id, *(m.price_id for m in self.metered)) if p)

    def event_name(self, metric: str) -> str | None:
        return next((m.event_name for m in self.metered if m.metric == metric), None)


def free_plan(now: str = "", quotas: Quotas = FREE_QUOTAS) -> Plan:
    return Plan(id=FREE_PLAN_ID, name="Free", quotas=quotas, grace_days=0, created_at=now, updated_at=now)


def check_plan(plan: Plan) -> Plan:
    """Raise ValidationError naming the first bad field."""

    def bad(name: str, message: str) -> ValidationError:
        return ValidationError(message, {"fields": [{"field": name, "message": message, "type": "plan"}]})

    if not PLAN_ID.match(plan.id):
        raise bad("id", "a plan id is 2-40 lowercase letters, digits, '-' or '_', starting with a letter")
    if plan.id == FREE_PLAN_ID and (plan.price_id or plan.metered):
        raise bad("price_id", "the free plan has no Stripe prices")
    if plan.id != FREE_PLAN_ID and not plan.price_id:
        raise bad("price_id", "a paid plan needs its flat-fee price id")
    for name, value in ((f"metered.{m.metric}", m.price_id) for m in plan.metered):
        if not PRICE_ID.match(value):
            raise bad(name, "not a Stripe price id")
    if plan.price_id and not PRICE_ID.match(plan.price_id):
        raise bad("price_id", "not a Stripe price id")
    if len(set(plan.price_ids())) != len(plan.price_ids()):
        raise bad("metered", "a price id is used twice")
    metrics = [m.metric for m in plan.metered]
    if len(set(metrics)) != len(metrics) or any(m not in METRICS for m in metrics):
        raise bad("metered", f"one price per metric at most; metrics are {', '.join(METRICS)}")
    if not 0 <= plan.grace_days <= 60:
        raise bad("grace_days", "grace_days is 0 to 60")
    if plan.amount_cents < 0:
        raise bad("amount_cents", "a price is not negative")
    if not CURRENCY.match(plan.currency):
        raise bad("currency", "a currency is a three-letter ISO 4217 code in lowercase")
    if plan.interval not in INTERVALS:
        raise bad("interval", f"the interval is one of {', '.join(INTERVALS)}")
    return plan


@dataclass(frozen=True)
class PriceFacts:
    """What the panel needs to know of a Stripe price to sell it in a plan."""

    id: str
    active: bool
    currency: str
    interval: str | None  # None: a one-time price
    usage_type: str | None = None  # "licensed" or "metered" (recurring prices only)


def check_plan_prices(plan: Plan, prices: dict[str, PriceFacts | None]) -> None:
    """Raise PlanPriceInvalidError for the first price of ``plan`` that Checkout could not sell
    as the plan says. ``prices`` maps each price id to what Stripe holds (None: no such price).

    The flat fee must be an active, recurring, licensed price in the plan's currency and
    interval; each metered price must be an active, recurring, metered price in the plan's
    currency (Stripe refuses a subscription mixing currencies or intervals)."""

    def refuse(field: str, price_id: str, reason: str, message: str) -> PlanPriceInvalidError:
        return PlanPriceInvalidError(
            message,
            {
                "reason": reason,
                "price_id": price_id,
                "fields": [{"field": field, "message": message, "type": reason}],
            },
        )

    wanted = [("price_id", plan.price_id, False)] if plan.price_id else []
    wanted += [(f"metered.{m.metric}", m.price_id, True) for m in plan.metered]
    for field_name, price_id, metered in wanted:
        found = prices.get(price_id)
        if found is None:
            raise refuse(field_name, price_id, "missing", f"Stripe has no price {price_id} in this account and mode.")
        if not found.active:
            raise refuse(field_name, price_id, "inactive", f"The price {price_id} is archived at Stripe.")
        if found.interval is None:
            raise refuse(field_name, price_id, "not_recurring", f"The price {price_id} is one-time, not recurring.")
        if found.currency.lower() != plan.currency:
            raise refuse(
                field_name,
                price_id,
                "currency",
                f"The price {price_id} is in {found.currency.upper()}, the plan in {plan.currency.upper()}.",
            )
        if found.interval != plan.interval:
            raise refuse(
                field_name,
                price_id,
                "interval",
                f"The price {price_id} bills every {found.interval}, the plan every {plan.interval}.",
            )
        if metered and found.usage_type != "metered":
            raise refuse(field_name, price_id, "not_metered", f"The price {price_id} is not a metered price.")
        if not metered and found.usage_type == "metered":
            raise refuse(field_name, price_id, "metered", f"The price {price_id} is metered; the flat fee is not.")


# --- subscription state ----------------------------------------------------------------

# Stripe subscription statuses and what they mean for a tenant (stripe-notes.md §3).
RUNNING_STATUSES: Final = frozenset({"active", "trialing"})
GRACE_STATUSES: Final = frozenset({"past_due"})
SUSPEND_STATUSES: Final = frozenset({"unpaid", "paused", "canceled"})
# The plan of a subscription applies in these; otherwise the tenant is on ``free``.
PLAN_STATUSES: Final = RUNNING_STATUSES | GRACE_STATUSES

ACTIVE: Final = "active"
SUSPENDED: Final = "suspended"


@dataclass(frozen=True)
class SubscriptionFacts:
    """What the panel reads from a (re-fetched) Stripe subscription."""

    id: str
    customer: str
    status: str
    price_ids: tuple[str, ...]
    current_period_end: int | None = None
    cancel_at_period_end: bool = False
    tenant_hint: str | None = None  # metadata.tenant_id: a correlation hint only
    has_payment_method: bool = False


@dataclass(frozen=True)
class BillingState:
    """The billing part of a tenant record."""

    tenant_id: str
    customer_id: str | None = None
    subscription_id: str | None = None
    plan_id: str = FREE_PLAN_ID
    status: str = "none"  # the subscription's Stripe status, or "none"
    current_period_end: int | None = None
    cancel_at_period_end: bool = False
    past_due_since: int | None = None  # epoch seconds
    billing_state: str = ACTIVE  # active | suspended (by billing, not by an admin)
    deletion_due_at: int | None = None  # canceled: data is deleted after this (epoch)
    quotas: Quotas = field(default_factory=lambda: FREE_QUOTAS)
    credit_currency: str | None = None  # set by the tenant's first credit

    @property
    def suspended(self) -> bool:
        return self.billing_state == SUSPENDED


def plan_for(prices: tuple[str, ...], plans_by_price: dict[str, Plan]) -> Plan | None:
    """The plan whose flat-fee price is on the subscription (the first one found)."""
    for price in prices:
        plan = plans_by_price.get(price)
        if plan is not None and plan.price_id == price:
            return plan
    return None


def synced_state(
    current: BillingState, sub: SubscriptionFacts, plan: Plan | None, free: Plan, now: int, retention_days: int
) -> BillingState:
    """The tenant's billing state after reading ``sub`` as it is now (order-independent:
    only the re-fetched subscription and the panel's own ``past_due_since`` matter)."""
    effective = plan if plan is not None and sub.status in PLAN_STATUSES else free
    past_due_since = current.past_due_since
    if sub.status in GRACE_STATUSES:
        past_due_since = past_due_since or now
    elif sub.status in RUNNING_STATUSES:
        past_due_since = None
    deletion = current.deletion_due_at
    if sub.status == "canceled":
        deletion = deletion or now + retention_days * 86400
    elif sub.status in PLAN_STATUSES:
        deletion = None
    return replace(
        current,
        customer_id=sub.customer,
        subscription_id=sub.id,
        plan_id=effective.id,
        status=sub.status,
        current_period_end=sub.current_period_end,
        cancel_at_period_end=sub.cancel_at_period_end,
        past_due_since=past_due_since,
        deletion_due_at=deletion,
        quotas=effective.quotas,
    )


def desired_billing_state(state: BillingState, grace_days: int, now: int) -> str:
    """``suspended`` or ``active``: unpaid, paused and canceled suspend at once; past_due
    suspends once the grace period is over; anything running is active. A tenant that never
    subscribed (``none``) or whose first payment is pending keeps its current state."""
    if state.status in SUSPEND_STATUSES:
        return SUSPENDED
    if state.status in GRACE_STATUSES:
        started = state.past_due_since or now
        return SUSPENDED if now >= started + grace_days * 86400 else state.billing_state
    if state.status in RUNNING_STATUSES:
        return ACTIVE
    return state.billing_state


def grace_ends_at(state: BillingState, grace_days: int) -> int | None:
    if state.status not in GRACE_STATUSES or state.past_due_since is None:
        return None
    return state.past_due_since + grace_days * 86400


# --- metering ----------------------------------------------------------------------------

HOUR: Final = 3600
METER_WINDOW_SECONDS: Final = 35 * 86400  # Stripe accepts meter events this far back


def hour_start(epoch: int) -> int:
    return epoch - epoch % HOUR


def hour_label(hour: int) -> str:
    return datetime.fromtimestamp(hour, UTC).strftime("%Y-%m-%dT%H")


def meter_identifier(subject: str, metric: str, hour: int) -> str:
    """Deterministic, so a re-run of the same hour is a no-op at Stripe (≤ 100 chars)."""
    return f"{subject}:{metric}:{hour_label(hour)}"[:100]


def seconds_in_hour(intervals: list[tuple[int, int | None]], hour: int) -> int:
    """How many seconds of ``[hour, hour+1h)`` the intervals (start, end or None=ongoing) cover."""
    end_of_hour = hour + HOUR
    covered = 0
    for start, end in intervals:
        stop = end_of_hour if end is None else min(end, end_of_hour)
        covered += max(0, stop - max(start, hour))
    return min(covered, HOUR)


def gb_hours(memory_mb: int, seconds: int) -> float:
    """RAM GB-hours of ``memory_mb`` held for ``seconds``, rounded to 6 decimals."""
    return round(memory_mb / 1024 * seconds / HOUR, 6)


def format_value(value: float) -> str:
    """A meter event's value is a numeric string."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


@dataclass(frozen=True)
class UsageRow:
    """One hour of one metric of one server (``subject`` = server uuid) or of a tenant's
    backups (``subject`` = ``backups``)."""

    tenant_id: str
    subject: str
    metric: str
    hour: int
    value: str
    seconds: int
    identifier: str
    event_name: str | None = None
    customer_id: str | None = None
    sent_at: str | None = None
    attempts: int = 0


# --- credits -----------------------------------------------------------------------------

CREDIT_SOURCES: Final = ("admin", "purchase")


@dataclass(frozen=True)
class CreditEntry:
    id: str
    tenant_id: str
    amount_cents: int  # positive: credit to the tenant
    currency: str
    source: str  # admin | purchase
    reason: str
    created_at: str
    actor_id: str | None = None
    stripe_transaction_id: str | None = None


def credit_currency(currency: str, pinned: str | None) -> str:
    """The credit's currency (ISO 4217, lowercase), which must be the tenant's credit currency
    once it has one: a balance is kept per currency and amounts in different currencies are
    never added (Stripe's customer balance is in one currency too). Raises ValidationError for
    a code that is not three letters and CurrencyMismatchError (409) for another currency."""
    code = currency.strip().lower()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValidationError(
            "currency must be a three-letter ISO 4217 code.",
            {"fields": [{"field": "currency", "message": "must be three letters"}]},
        )
    if pinned is not None and code != pinned:
        raise CurrencyMismatchError(
            f"This tenant's credit is kept in {pinned.upper()}; a credit in {code.upper()} cannot be added to it.",
            {"currency": code, "credit_currency": pinned},
        )
    return code


def add_to_balances(balances: dict[str, int], currency: str, amount_cents: int) -> dict[str, int]:
    """``balances`` with ``amount_cents`` added to ``currency``'s balance only."""
    return {**balances, currency: balances.get(currency, 0) + amount_cents}


def balance_in(balances: dict[str, int], currency: str | None) -> int:
    """The balance in ``currency`` (0 without one): never a sum over currencies."""
    return balances.get(currency, 0) if currency else 0
