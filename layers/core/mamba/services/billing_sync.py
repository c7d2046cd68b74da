"""Stripe webhooks in, tenant billing state out (docs/billing.md).

Intake (``receive``, the webhook door): verify the signature over the **raw** bytes with
every configured secret and a 300 s tolerance, drop a livemode mismatch, claim the event id
with a conditional put (TTL 35 days: a duplicate is acknowledged and does nothing), hand the
event to SQS and answer at once. If SQS refuses, the claim is released and the answer is 503,
so Stripe retries.

Processing (``process``, the SQS consumer): the payload is only a hint. The subscription is
**re-fetched** and the tenant's state derived from it as it is now, so events arriving out of
order (``updated`` before ``created``) end in the right state. The plan comes from the price
ids on the subscription, never from metadata; ``metadata.tenant_id`` /
``client_reference_id`` only have to agree with the tenant that owns the customer.

Suspension: ``unpaid``, ``paused`` and ``canceled`` suspend at once; ``past_due`` starts the
grace period (``past_due_since``) and the scheduled check (``dunning_check``) suspends when it
is over. Suspending sets ``billing_state = suspended`` (mutating routes answer 402) and starts
the ``suspend_tenant`` workflow; a payment that makes the subscription ``active`` again sets it
back and starts ``reactivate_tenant``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any, cast

from mamba import mail_templates
from mamba.domain import billing as b
from mamba.domain import retention
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import ConflictError, DependencyUnavailableError, DomainError, NotFoundError
from mamba.observability import logger
from mamba.ports import BillingRepository, EventQueue, WebhookVerifier
from mamba.services.billing import BillingPorts, free_plan, get_plan

API_VERSION = "2026-10-28.endive"
TOLERANCE_SECONDS = 300

HANDLED = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.trial_will_end",
        "invoice.paid",
        "invoice.payment_succeeded",  # Stripe sends it beside invoice.paid; handled alike (re-fetch)
        "invoice.payment_failed",
        "invoice.payment_action_required",
    }
)


class InvalidSignatureError(DomainError):
    status = 400
    code = "INVALID_SIGNATURE"


# --- intake ----------------------------------------------------------------------------------


def receive(
    raw: bytes,
    signature: str | None,
    *,
    secrets: tuple[str, ...],
    livemode: bool,
    repo: BillingRepository,
    enqueue: EventQueue,
    verify: WebhookVerifier,
) -> dict[str, Any]:
    """Verify, dedupe and enqueue one webhook delivery. Raises InvalidSignatureError (400)
    and DependencyUnavailableError (503: Stripe retries)."""
    if not signature:
        raise InvalidSignatureError("The Stripe-Signature header is missing.")
    if not secrets:
        raise DependencyUnavailableError("No webhook secret is configured.")
    if not verify(raw, signature, secrets, TOLERANCE_SECONDS):
        raise InvalidSignatureError("The Stripe signature does not match the body.")
    try:
        event = json.loads(raw)
    except ValueError as exc:
        raise InvalidSignatureError("The signed body is not JSON.") from exc
    if not isinstance(event, dict) or event.get("object") != "event" or not event.get("id"):
        return {"received": True, "ignored": "not a snapshot event"}
    event_id, event_type = str(event["id"]), str(event.get("type", ""))
    if bool(event.get("livemode")) != livemode:
        logger.warning("stripe event dropped: livemode mismatch", extra={"event_id": event_id})
        return {"received": True, "ignored": "livemode"}
    if event.get("api_version") != API_VERSION:
        # The processor re-fetches with the pinned version, so the payload's shape matters little.
        logger.warning(
            "stripe event api_version differs", extra={"event_id": event_id, "api_version": event.get("api_version")}
        )
    if event_type not in HANDLED:
        return {"received": True, "ignored": "type"}
    if not repo.claim_event(event_id, event_type, iso(utcnow())):
        return {"received": True, "duplicate": True}
    try:
        enqueue(raw.decode("utf-8"))
    except Exception as exc:
        repo.release_event(event_id)
        raise DependencyUnavailableError("The event could not be queued; Stripe will retry.") from exc
    return {"received": True}


# --- processing ------------------------------------------------------------------------------


def process(ports: BillingPorts, event: dict[str, Any]) -> str:
    """Handle one queued event; returns what was done. On an exception the caller releases
    the claim (``release``) and SQS redelivers."""
    event_type = str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object") or {}
    event_id = str(event.get("id") or "") or None
    if event_type.startswith("checkout.session."):
        return _checkout_completed(ports, obj, event_id)
    if event_type.startswith("customer.subscription."):
        result = sync_subscription(ports, str(obj.get("id")), customer_hint=_id(obj.get("customer")), event_id=event_id)
        if event_type == "customer.subscription.trial_will_end":
            _trial_will_end(ports, str(obj.get("id")))
        return result
    if event_type.startswith("invoice."):
        return _invoice(ports, event_type, obj, event_id)
    return "ignored"


def release(ports: BillingPorts, event_id: str) -> None:
    try:
        ports.repo.release_event(event_id)
    except Exception:  # noqa: BLE001 - the message is retried by SQS either way
        logger.exception("stripe event claim not released", extra={"event_id": event_id})


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None


def _tenant_of(ports: BillingPorts, customer_id: str | None, hint: str | None) -> str | None:
    """The tenant owning ``customer_id``; a hint naming another tenant is refused (logged)."""
    if not customer_id:
        return None
    tenant_id = ports.repo.tenant_of_customer(customer_id)
    if tenant_id is None:
        logger.warning("stripe customer of no tenant", extra={"customer": customer_id})
        return None
    if hint and hint != tenant_id:
        logger.warning("stripe tenant hint disagrees with the customer's tenant", extra={"customer": customer_id})
        return None
    return str(tenant_id)


def _checkout_completed(ports: BillingPorts, session: dict[str, Any], event_id: str | None = None) -> str:
    if session.get("mode") == "payment":
        return _credit_purchase(ports, str(session.get("id")))
    if session.get("mode") != "subscription" or not session.get("subscription"):
        return "ignored"
    if session.get("payment_status") == "unpaid":
        return "waiting for async payment"
    return sync_subscription(
        ports,
        str(_id(session.get("subscription"))),
        customer_hint=_id(session.get("customer")),
        tenant_hint=session.get("client_reference_id"),
        event_id=event_id,
    )


def _credit_purchase(ports: BillingPorts, session_id: str) -> str:
    """A credit Checkout: re-fetch the session; only a paid one, for the customer's own
    tenant, writes the credit, for the amount Stripe collected."""
    from mamba.services.billing import credit_purchased

    session = ports.stripe().retrieve_checkout_session(session_id)
    if session["purpose"] != "credit" or session["payment_status"] != "paid":
        return "ignored: not a paid credit purchase"
    # The gateway flattens the session to string fields (mamba.adapters.stripe_client).
    tenant_id = _tenant_of(
        ports, cast("str | None", session["customer"]), cast("str | None", session["client_reference_id"])
    )
    if tenant_id is None:
        return "ignored: unknown customer"
    return credit_purchased(ports, tenant_id, session)


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    """The invoice's subscription, through ``parent.subscription_details`` (2025-03-31.basil
    and later, so the pinned 2026-10-28.endive). The webhook endpoint is created on the pinned
    version (docs/billing.md), so its invoices never carry the removed top-level ``subscription``;
    an invoice without a subscription parent (a one-off invoice) has none."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return _id(details.get("subscription"))


def _invoice(ports: BillingPorts, event_type: str, invoice: dict[str, Any], event_id: str | None = None) -> str:
    sub_id = _invoice_subscription(invoice)
    tenant_id = _tenant_of(ports, _id(invoice.get("customer")), None)
    if tenant_id is None:
        return "ignored: unknown customer"
    if event_type in ("invoice.paid", "invoice.payment_succeeded"):
        _payment_event(ports, "payment.succeeded", tenant_id, invoice, str(invoice.get("id")))
        return (
            sync_subscription(ports, sub_id, customer_hint=_id(invoice.get("customer")), paid=True, event_id=event_id)
            if sub_id
            else "ok"
        )
    invoice_id = str(invoice.get("id"))
    url = invoice.get("hosted_invoice_url")
    if event_type == "invoice.payment_failed":
        _payment_event(ports, "payment.failed", tenant_id, invoice, f"{invoice_id}:{invoice.get('attempt_count', 0)}")
        result = (
            sync_subscription(ports, sub_id, customer_hint=_id(invoice.get("customer")), failed=True, event_id=event_id)
            if sub_id
            else "ok"
        )
        if invoice.get("billing_reason") != "subscription_create":
            _notify(
                ports,
                tenant_id,
                f"failed:{invoice_id}:{invoice.get('attempt_count', 0)}",
                mail_templates.payment_failed(url),
            )
        return result
    if event_type == "invoice.payment_action_required":
        _notify(ports, tenant_id, f"action:{invoice_id}", mail_templates.payment_action_required(url))
        return "notified"
    return "ignored"


def _payment_event(ports: BillingPorts, event_type: str, tenant_id: str, invoice: dict[str, Any], key: str) -> None:
    """The notification of a payment (docs/notifications.md). The key is the invoice (and, for a
    failure, the attempt): ``invoice.paid`` and ``invoice.payment_succeeded`` of one invoice, or
    a redelivered Stripe event, are one notification."""
    if ports.events is None:
        return
    from mamba.domain.events import make_event
    from mamba.services.emit import emit

    amount = invoice.get("amount_paid") if event_type == "payment.succeeded" else invoice.get("amount_due")
    emit(
        ports.events,
        make_event(
            event_type,
            dedupe_key=key,
            occurred_at=iso(utcnow()),
            tenant_id=tenant_id,
            payload={
                "invoice_id": str(invoice.get("id")),
                "amount": int(amount) if isinstance(amount, int) else 0,
                "currency": str(invoice.get("currency") or ""),
            },
        ),
    )


def _trial_will_end(ports: BillingPorts, sub_id: str) -> None:
    stripe = ports.stripe()
    sub = stripe.retrieve_subscription(sub_id)  # re-check: the trial may have been shortened or paid
    if sub.status != "trialing" or sub.has_payment_method or stripe.customer_has_payment_method(sub.customer):
        return
    tenant_id = _tenant_of(ports, sub.customer, sub.tenant_hint)
    if tenant_id:
        _notify(ports, tenant_id, f"trial:{sub.id}", mail_templates.trial_ending(ports.public_url, tenant_id))


def sync_subscription(
    ports: BillingPorts,
    subscription_id: str | None,
    *,
    customer_hint: str | None = None,
    tenant_hint: str | None = None,
    paid: bool = False,
    failed: bool = False,
    event_id: str | None = None,
) -> str:
    """Re-fetch the subscription and make the tenant's state follow it (idempotent; ``event_id``
    names the Stripe event, see ``apply_state``)."""
    if not subscription_id:
        return "ignored"
    sub = ports.stripe().retrieve_subscription(subscription_id)
    if customer_hint and customer_hint != sub.customer:
        logger.warning("stripe event customer differs from the subscription's", extra={"subscription": sub.id})
        return "ignored: customer mismatch"
    tenant_id = _tenant_of(ports, sub.customer, tenant_hint or sub.tenant_hint)
    if tenant_id is None:
        return "ignored: unknown customer"
    current = ports.repo.get_state(tenant_id)
    if current.subscription_id and current.subscription_id != sub.id and sub.status not in b.PLAN_STATUSES:
        # An old subscription ending must not undo the live one.
        return "ignored: not the tenant's subscription"
    plans = ports.repo.plans_by_price(sub.price_ids)
    plan = b.plan_for(sub.price_ids, plans)
    if plan is None and sub.status in b.PLAN_STATUSES:
        logger.error(
            "subscription has no known plan price", extra={"subscription": sub.id, "prices": list(sub.price_ids)}
        )
    now = ports.clock()
    state = b.synced_state(current, sub, plan, free_plan(ports.repo, ports.free_quotas), now, ports.retention_days)
    if failed and sub.status in b.GRACE_STATUSES | b.RUNNING_STATUSES and state.past_due_since is None:
        state = replace(state, past_due_since=now)
    if paid and sub.status in b.RUNNING_STATUSES:
        state = replace(state, past_due_since=None)
    return apply_state(ports, current, state, event_id=event_id)


def _grace_days(ports: BillingPorts, state: b.BillingState) -> int:
    try:
        return get_plan(ports.repo, state.plan_id, ports.free_quotas).grace_days
    except NotFoundError:
        return free_plan(ports.repo, ports.free_quotas).grace_days


def dunning_due_at(state: b.BillingState, grace_days: int) -> int | None:
    """When the scheduled check must look at the tenant again (None: never)."""
    if state.status in b.GRACE_STATUSES and not state.suspended and state.past_due_since is not None:
        grace_end = state.past_due_since + grace_days * 86400
        return max(state.past_due_since, grace_end - 86400)  # a day before: the "grace ending" mail
    if state.status == "canceled" and state.deletion_due_at is not None:
        return retention.first_look(state.deletion_due_at)  # the first warning mail
    return None


def apply_state(
    ports: BillingPorts, current: b.BillingState, state: b.BillingState, *, event_id: str | None = None
) -> str:
    """Save ``state`` and, when suspension changes, start the matching workflow and mail.

    The workflow starts before the state is saved: if the start fails nothing is saved and
    the event is retried; if the save fails after the start, the retry starts it again,
    which the per-server suspend and unsuspend tolerate (they are idempotent).

    With ``event_id`` (a Stripe event), the operation's id is derived from the event and the
    workflow: SQS may hand the same event to several consumers at once, and each then reads the
    state before the others save it. The first to write the operation starts the workflow; the
    others find the operation written and start nothing, so one event suspends (or reactivates)
    once. Should the first die between writing the operation and starting it, the sweeper on
    the reconcile schedule starts it (mamba.services.sweeper)."""
    now = ports.clock()
    grace = _grace_days(ports, state)
    desired = b.desired_billing_state(state, grace, now)
    state = replace(state, billing_state=desired)
    change = None
    if desired == b.SUSPENDED and not current.suspended:
        change = "suspended"
        _start(ports, state.tenant_id, "suspend_tenant", "billing.suspend", event_id)
    elif desired == b.ACTIVE and current.suspended:
        change = "reactivated"
        _start(ports, state.tenant_id, "reactivate_tenant", "billing.reactivate", event_id)
    ports.repo.save_state(state, dunning_due_at=dunning_due_at(state, grace))
    if change == "suspended":
        mail = mail_templates.tenant_suspended(ports.public_url, state.tenant_id)
    elif change == "reactivated":
        mail = mail_templates.tenant_reactivated(ports.public_url, state.tenant_id)
    else:
        return f"synced: {state.status}"
    _notify(ports, state.tenant_id, f"{change}:{now // 3600}", mail)
    return change


def event_operation_id(workflow: str, event_id: str) -> str:
    """The one operation a Stripe event may start for ``workflow`` (same shape as ``new_id``)."""
    digest = hashlib.sha256(f"{workflow}:{event_id}".encode()).hexdigest()[:20]
    return f"op_{digest}"


def _start(ports: BillingPorts, tenant_id: str, workflow: str, op_type: str, event_id: str | None = None) -> None:
    from mamba.services.operations import start_tenant_workflow

    if ports.operations is None or ports.workflows is None:
        raise RuntimeError("these billing ports were built without workflows")
    op_id = event_operation_id(workflow, event_id) if event_id else None
    try:
        start_tenant_workflow(ports.operations, ports.workflows, tenant_id, op_type, workflow, "billing", op_id=op_id)
    except ConflictError:
        if op_id is None:
            raise
        # Another consumer of the same event wrote this operation first: it starts the workflow.
        logger.info("billing workflow already started for this event", extra={"operation_id": op_id})


def _notify(ports: BillingPorts, tenant_id: str, key: str, mail: mail_templates.Mail) -> None:
    """One mail per key (a redelivered event does not mail twice); failures are logged."""
    if ports.mailer is None:
        return
    try:
        if not ports.repo.claim_notice(tenant_id, key, iso(utcnow())):
            return
        for address in ports.recipients(tenant_id):
            ports.mailer.send(address, mail.subject, mail.text)
    except Exception as exc:  # noqa: BLE001 - a mail never blocks the state change
        logger.warning("billing mail not sent", extra={"tenant_id": tenant_id, "error": type(exc).__name__})


# --- the scheduled check ------------------------------------------------------------------


def _retention(ports: BillingPorts, current: b.BillingState, now: int) -> str | None:
    """A canceled tenant: the owners' warnings 7 days and 1 day before its data goes (each
    once: the notice key names the warning and the due date), then its deletion, one step per
    run until only the kept records remain (``mamba.services.retention``). The next look is
    the next warning, the due date, or, while servers are being deleted, a few minutes."""
    due = int(current.deletion_due_at or 0)
    tenant_id = current.tenant_id
    if now < due:
        days = retention.warning_owed(due, now)
        if days is not None:
            left = retention.days_left(due, now)
            mail = mail_templates.data_deletion_warning(ports.public_url, tenant_id, due, left)
            _notify(ports, tenant_id, retention.warning_key(days, due), mail)
        ports.repo.save_state(current, dunning_due_at=retention.next_look(due, now))
        return "warned" if days is not None else None
    if ports.delete_tenant_data is None:
        logger.warning("tenant data deletion due", extra={"tenant_id": tenant_id})
        ports.repo.save_state(current, dunning_due_at=None)
        return "deletion_due"
    if ports.delete_tenant_data(tenant_id):
        return "deleted"  # the profile, and with it the DUNNING index entry, is gone
    ports.repo.save_state(current, dunning_due_at=now + retention.RECHECK_SECONDS)
    return "deletion_due"


def dunning_check(ports: BillingPorts) -> dict[str, int]:
    """Every tenant whose look is due: re-fetch the subscription and re-apply. A past_due
    tenant a day before its grace ends gets the "grace ending" mail; after it, suspension.
    A canceled tenant gets its data-deletion warnings, then its data deleted (``_retention``)."""
    now = ports.clock()
    done = {"checked": 0, "suspended": 0, "warned": 0, "deletion_due": 0, "deleted": 0}
    for tenant_id in ports.repo.dunning_due(now):
        done["checked"] += 1
        try:
            current = ports.repo.get_state(tenant_id)
            if current.status == "canceled" and current.deletion_due_at:
                outcome = _retention(ports, current, now)
                if outcome:
                    done[outcome] += 1
                continue
            state = current
            if current.subscription_id:
                sub = ports.stripe().retrieve_subscription(current.subscription_id)
                plan = b.plan_for(sub.price_ids, ports.repo.plans_by_price(sub.price_ids))
                state = b.synced_state(
                    current, sub, plan, free_plan(ports.repo, ports.free_quotas), now, ports.retention_days
                )
            grace = _grace_days(ports, state)
            ends = b.grace_ends_at(state, grace)
            if ends is not None and now < ends:
                _notify(
                    ports,
                    tenant_id,
                    f"grace:{state.past_due_since}",
                    mail_templates.grace_ending(ports.public_url, tenant_id, ends),
                )
                done["warned"] += 1
                ports.repo.save_state(state, dunning_due_at=ends)
                continue
            if apply_state(ports, current, state) == "suspended":
                done["suspended"] += 1
        except Exception:  # noqa: BLE001 - one tenant's failure does not stop the others
            logger.exception("dunning check failed for a tenant", extra={"tenant_id": tenant_id})
    return done
