"""Billing use cases: plans, the tenant's Stripe customer, Checkout, the portal, the billing
summary, invoices and credits (docs/billing.md).

Webhook intake and the subscription state machine live in ``mamba.services.billing_sync``;
usage metering in ``mamba.services.metering``. Every port is passed in (``BillingPorts``),
wired for real by ``mamba.bootstrap.billing_ports``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from mamba.auth.context import TenantContext
from mamba.domain import billing as b
from mamba.domain.clock import iso, new_id, utcnow
from mamba.domain.errors import ConflictError, NotFoundError, ValidationError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.quotas import Quotas
from mamba.observability import logger
from mamba.ports import BillingRepository, EventPublisher, Mailer, OperationRepository, PaymentGateway, Workflows


@dataclass
class BillingPorts:
    repo: BillingRepository
    stripe: Callable[[], PaymentGateway]  # builds the Stripe gateway on first use
    public_url: str
    free_quotas: Quotas  # the free plan's quotas from Settings (FREE_PLAN_*), until migration 0007 stored it
    return_url: str | None = None
    workflows: Workflows | None = None
    operations: OperationRepository | None = None
    mailer: Mailer | None = None
    recipients: Callable[[str], list[str]] = lambda tenant_id: []
    retention_days: int = 30
    # One step of deleting a canceled tenant's data once its retention period is over
    # (``mamba.services.retention.delete_tenant_data``); True once only the kept records remain.
    # None: the deletion is only logged (a unit test of the schedule's other paths).
    delete_tenant_data: Callable[[str], bool] | None = None
    livemode: bool = False
    clock: Callable[[], int] = lambda: int(time.time())
    events: EventPublisher | None = None  # payment.failed, payment.succeeded (docs/notifications.md)


def _now_iso() -> str:
    return iso(utcnow())


# --- plans -------------------------------------------------------------------------------


def free_plan(repo: BillingRepository, defaults: Quotas) -> b.Plan:
    """The stored ``free`` plan (migration 0007), or ``defaults`` (Settings' free-plan quotas)
    before it ran."""
    try:
        return repo.get_plan(b.FREE_PLAN_ID)
    except NotFoundError:
        return b.free_plan(quotas=defaults)


# The plan fields whose change makes its prices worth checking again.
PRICE_FIELDS = frozenset({"price_id", "metered", "currency", "interval", "active"})


def check_prices(stripe: PaymentGateway, plan: b.Plan) -> None:
    """Fetch each of the plan's prices from Stripe and check them (``b.check_plan_prices``): a
    plan Checkout cannot sell is refused when it is written, not when a customer pays.

    Raises PlanPriceInvalidError, DependencyUnavailableError (Stripe unreachable)."""
    found: dict[str, b.PriceFacts | None] = {}
    for price_id in plan.price_ids():
        try:
            found[price_id] = stripe.retrieve_price(price_id)
        except NotFoundError:
            found[price_id] = None
    b.check_plan_prices(plan, found)


def create_plan(
    repo: BillingRepository,
    plan: b.Plan,
    *,
    now: Callable[[], str] = _now_iso,
    stripe: Callable[[], PaymentGateway] | None = None,
) -> b.Plan:
    """Store a new plan. With ``stripe`` (billing enabled) its prices are checked at Stripe first.

    Raises ValidationError, PlanPriceInvalidError, ConflictError, DependencyUnavailableError."""
    stamp = now()
    created = b.check_plan(replace(plan, created_at=stamp, updated_at=stamp))
    if stripe is not None and created.active:
        check_prices(stripe(), created)
    repo.add_plan(created)
    return created


def update_plan(
    repo: BillingRepository,
    plan_id: str,
    changes: dict[str, Any],
    *,
    now: Callable[[], str] = _now_iso,
    stripe: Callable[[], PaymentGateway] | None = None,
) -> b.Plan:
    """Change a plan's fields. Quotas apply to tenants on the plan at their next sync. With
    ``stripe``, a change of its prices, currency or interval (or reactivating it) is checked
    at Stripe; an archived plan is not, since nobody can buy it.

    Raises NotFoundError, ValidationError, PlanPriceInvalidError, ConflictError."""
    current = repo.get_plan(plan_id)
    fields = {k: v for k, v in changes.items() if v is not None}
    updated = b.check_plan(replace(current, **fields, updated_at=now()))
    if stripe is not None and updated.active and PRICE_FIELDS & set(fields) and updated.price_ids():
        check_prices(stripe(), updated)
    repo.save_plan(current, updated)
    return updated


def get_plan(repo: BillingRepository, plan_id: str, free_defaults: Quotas) -> b.Plan:
    if plan_id == b.FREE_PLAN_ID:
        return free_plan(repo, free_defaults)
    return repo.get_plan(plan_id)


def list_plans(repo: BillingRepository, page: PageRequest) -> Page[b.Plan]:
    return repo.list_plans(page)


# --- the customer --------------------------------------------------------------------------


def ensure_customer(ports: BillingPorts, tenant_id: str, name: str, email: str | None) -> str:
    """The tenant's Stripe customer, created once (Stripe's idempotency key is
    ``customer:<tenant_id>``, so a retry after a lost answer finds the same customer)."""
    state = ports.repo.get_state(tenant_id)
    if state.customer_id:
        return str(state.customer_id)
    customer_id = ports.stripe().create_customer(tenant_id, name, email)
    ports.repo.link_customer(tenant_id, customer_id)
    return str(customer_id)


def on_tenant_created(
    ports_factory: Callable[[], BillingPorts],
    enabled: bool,
    tenant_id: str,
    name: str,
    email: Callable[[], str | None],
) -> None:
    """Create the customer of a new tenant. Never fails the tenant's creation: with billing
    off nothing happens, and a Stripe failure is logged (Checkout creates it later)."""
    if not enabled:
        return
    try:
        ensure_customer(ports_factory(), tenant_id, name, email())
    except Exception as exc:  # noqa: BLE001 - best effort; checkout retries with the same key
        logger.warning("stripe customer not created", extra={"tenant_id": tenant_id, "error": type(exc).__name__})


# --- Checkout and the portal -----------------------------------------------------------------

ONE_SUBSCRIPTION = frozenset({"active", "trialing", "past_due", "unpaid", "paused", "incomplete"})


def checkout(
    ports: BillingPorts, tenant: TenantContext, plan_id: str, tenant_name: str, email: str | None
) -> dict[str, str]:
    """A Checkout Session for ``plan_id``'s prices (allow-listed server-side: the client names
    only the plan). Raises NotFoundError (no such plan), ValidationError (free or retired
    plan) and ConflictError (the tenant already has a subscription: change it in the portal)."""
    plan = get_plan(ports.repo, plan_id, ports.free_quotas)
    if plan.id == b.FREE_PLAN_ID or not plan.price_id:
        raise ValidationError("The free plan needs no checkout.", {"plan_id": plan_id})
    if not plan.active:
        raise ValidationError("This plan is no longer offered.", {"plan_id": plan_id})
    state = ports.repo.get_state(tenant.tenant_id)
    if state.subscription_id and state.status in ONE_SUBSCRIPTION:
        raise ConflictError(
            "The tenant already has a subscription; change it in the billing portal.",
            {"status": state.status},
        )
    customer = ensure_customer(ports, tenant.tenant_id, tenant_name, email)
    base = (ports.return_url or ports.public_url).rstrip("/")
    session_id, url = ports.stripe().create_checkout_session(
        customer_id=customer,
        tenant_id=tenant.tenant_id,
        price_id=plan.price_id,
        metered_price_ids=tuple(m.price_id for m in plan.metered),
        success_url=f"{base}/tenants/{tenant.tenant_id}/billing?checkout=success&session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{base}/tenants/{tenant.tenant_id}/billing?checkout=canceled",
    )
    return {"session_id": session_id, "url": url}


PORTAL_FLOWS = ("payment_method_update", "subscription_cancel", "subscription_update")
# Stripe requires ``flow_data.<flow>.subscription`` for these deep links: they act on one subscription.
SUBSCRIPTION_FLOWS = frozenset({"subscription_cancel", "subscription_update"})


def portal(ports: BillingPorts, tenant: TenantContext, flow: str | None) -> dict[str, str]:
    """A short-lived portal session URL (never logged, never mailed). The cancel and update
    shortcuts name the tenant's subscription; a tenant without one gets a ConflictError."""
    if flow is not None and flow not in PORTAL_FLOWS:
        raise ValidationError("Unknown portal flow.", {"flow": flow})
    state = ports.repo.get_state(tenant.tenant_id)
    if not state.customer_id:
        raise NotFoundError("The tenant has no billing account yet; check out a plan first.", {})
    subscription_id = None
    if flow in SUBSCRIPTION_FLOWS:
        if not state.subscription_id or state.status not in ONE_SUBSCRIPTION:
            raise ConflictError(
                "The tenant has no subscription to cancel or change; check out a plan first.",
                {"flow": flow, "status": state.status},
            )
        subscription_id = state.subscription_id
    base = (ports.return_url or ports.public_url).rstrip("/")
    url = ports.stripe().create_portal_session(
        state.customer_id, f"{base}/tenants/{tenant.tenant_id}/billing", flow, subscription_id
    )
    return {"url": url}


# --- the billing page ------------------------------------------------------------------------


def period_start_hour(now: int) -> int:
    """Usage "so far" counts from the start of the current UTC month."""
    day = datetime.fromtimestamp(now, UTC)
    return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp())


def summary(ports: BillingPorts, tenant: TenantContext) -> dict[str, Any]:
    """Plan, status, period end, cancel-at-period-end, grace, quotas and usage so far (from
    the panel's own ledger: Stripe's meter summaries lag)."""
    repo = ports.repo
    state = repo.get_state(tenant.tenant_id)
    plan = get_plan(repo, state.plan_id, ports.free_quotas) if state.plan_id else free_plan(repo, ports.free_quotas)
    now = ports.clock()
    start = period_start_hour(now)
    totals: dict[str, float] = {}
    for row in repo.usage_between(tenant.tenant_id, start, b.hour_start(now) + b.HOUR):
        totals[row.metric] = totals.get(row.metric, 0.0) + float(row.value)
    # A tenant never synced has no plan_quotas on its record yet: show the free plan's.
    quotas = state.quotas if state.status in b.PLAN_STATUSES else free_plan(repo, ports.free_quotas).quotas
    return {
        "plan": {"id": plan.id, "name": plan.name},
        "status": state.status,
        "billing_state": state.billing_state,
        "current_period_end": state.current_period_end,
        "cancel_at_period_end": state.cancel_at_period_end,
        "past_due_since": state.past_due_since,
        "grace_ends_at": b.grace_ends_at(state, plan.grace_days),
        "deletion_due_at": state.deletion_due_at if state.status == "canceled" else None,
        "quotas": quotas.to_dict(),
        "usage": {
            "since": start,
            "metrics": {m: round(totals.get(m, 0.0), 6) for m in b.METRICS},
            "source": "panel ledger",
        },
        **_credit_view(state.credit_currency, repo.credit_balances(tenant.tenant_id), "credit_"),
    }


def _credit_view(currency: str | None, balances: dict[str, int], prefix: str = "") -> dict[str, Any]:
    """The balance in the tenant's credit currency, that currency, and every currency's own
    balance: amounts in different currencies are never added together."""
    return {
        f"{prefix}balance_cents": b.balance_in(balances, currency),
        f"{prefix}currency": currency,
        f"{prefix}balances": dict(sorted(balances.items())),
    }


def invoices(ports: BillingPorts, tenant: TenantContext, limit: int, cursor: str | None) -> dict[str, Any]:
    """The customer's invoices from Stripe, newest first; ``next_cursor`` is the last invoice
    id of the page (Stripe's ``starting_after``, scoped to this tenant's customer)."""
    if cursor is not None and not cursor.startswith("in_"):
        raise ValidationError("The cursor is not valid.", {"fields": [{"field": "cursor", "message": "not valid"}]})
    state = ports.repo.get_state(tenant.tenant_id)
    if not state.customer_id:
        return {"items": [], "next_cursor": None}
    rows, more = ports.stripe().list_invoices(state.customer_id, limit, cursor)
    for row in rows:  # the capability URLs exist only once an invoice is finalized
        if row.get("status") == "draft":
            row["hosted_invoice_url"] = None
            row["invoice_pdf"] = None
    return {"items": rows, "next_cursor": rows[-1]["id"] if more and rows else None}


# --- credits ---------------------------------------------------------------------------------


def grant_credit(
    ports: BillingPorts,
    tenant_id: str,
    amount_cents: int,
    currency: str,
    reason: str,
    *,
    source: str = "admin",
    actor_id: str | None = None,
    entry_id: str | None = None,
) -> b.CreditEntry:
    """Add a credit (an admin grant or a purchase) to the tenant's ledger, mirrored to the
    Stripe customer balance so the next invoice uses it. Stripe first, with an idempotency
    key of the entry id, then the ledger: a failure leaves nothing half-written, and a retry
    with the same ``entry_id`` does not credit twice at Stripe.

    The balance is kept per currency. An admin grant in a currency other than the tenant's
    credit currency is refused (CurrencyMismatchError, 409); a purchase Stripe has already
    collected is recorded in its own currency's balance (``buy_credit`` refuses a mismatch
    before any payment)."""
    if source not in b.CREDIT_SOURCES:
        raise ValidationError("Credits come from an admin grant or a purchase.", {"source": source})
    if amount_cents <= 0:
        raise ValidationError("A credit is a positive amount.", {"amount_cents": amount_cents})
    entry_id = entry_id or new_id("cr")
    state = ports.repo.get_state(tenant_id)
    currency = b.credit_currency(currency, None if source == "purchase" else state.credit_currency)
    txn_id = None
    if state.customer_id:
        txn_id = ports.stripe().credit_customer_balance(
            state.customer_id, amount_cents, currency, reason or "Panel credit", f"credit:{entry_id}"
        )
    entry = b.CreditEntry(
        id=entry_id,
        tenant_id=tenant_id,
        amount_cents=amount_cents,
        currency=currency,
        source=source,
        reason=reason,
        created_at=_now_iso(),
        actor_id=actor_id,
        stripe_transaction_id=txn_id,
    )
    ports.repo.add_credit(entry)
    return entry


def buy_credit(
    ports: BillingPorts, tenant: TenantContext, amount_cents: int, currency: str, tenant_name: str, email: str | None
) -> dict[str, str]:
    """A Checkout payment for ``amount_cents`` of credit. The credit is written when Stripe
    reports the session paid (``checkout.session.completed``, re-fetched), never here.
    Raises CurrencyMismatchError (409) for a currency other than the tenant's credit currency."""
    currency = b.credit_currency(currency, ports.repo.get_state(tenant.tenant_id).credit_currency)
    customer = ensure_customer(ports, tenant.tenant_id, tenant_name, email)
    base = (ports.return_url or ports.public_url).rstrip("/")
    session_id, url = ports.stripe().create_credit_checkout(
        customer_id=customer,
        tenant_id=tenant.tenant_id,
        amount_cents=amount_cents,
        currency=currency,
        success_url=f"{base}/tenants/{tenant.tenant_id}/billing?credit=success&session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{base}/tenants/{tenant.tenant_id}/billing?credit=canceled",
    )
    return {"session_id": session_id, "url": url}


def credit_purchased(ports: BillingPorts, tenant_id: str, session: dict[str, Any]) -> str:
    """Write the credit a paid credit Checkout bought, once (the entry id is the session's)."""
    entry_id = f"cr_{session['id']}"
    try:
        grant_credit(
            ports,
            tenant_id,
            int(session["amount_total"]),
            str(session["currency"]),
            "Credit purchase",
            source="purchase",
            entry_id=entry_id,
        )
    except ConflictError:
        return "credit already recorded"
    return "credit recorded"


def credits(ports: BillingPorts, tenant: TenantContext, page: PageRequest) -> dict[str, Any]:
    found = ports.repo.list_credits(tenant.tenant_id, page)
    state = ports.repo.get_state(tenant.tenant_id)
    return {
        **_credit_view(state.credit_currency, ports.repo.credit_balances(tenant.tenant_id)),
        "items": found.items,
        "next_cursor": found.next_cursor,
    }
