"""Billing records in the main table (docs/data-model.md, docs/billing.md).

* Plans (``PLAN#<id>``) with one ``PRICE#<price_id>`` item per Stripe price, written in one
  transaction on the condition that the price belongs to no other plan, so a price id maps
  to exactly one plan (the webhook processor chooses the plan from price ids only).
* The billing attributes of a tenant live on its profile item, next to ``plan_quotas``.
  A tenant that needs a scheduled look (past_due, canceled) is on the sparse gsi2
  partition ``DUNNING``, sorted by when it is due.
* ``STRIPECUS#<cus>`` maps a customer to its tenant; ``STRIPEEVT#<id>`` is a webhook
  event's dedupe claim (TTL 35 days).
* Usage rows and credit entries live in the tenant's partition.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, Cancellation, get_or_none, translate
from mamba.adapters.dynamo.items import (
    CreditBalanceItem,
    CreditItem,
    NoticeItem,
    PlanItem,
    PlanPriceItem,
    ServerRunItem,
    ServerRunStateItem,
    StripeCustomerItem,
    StripeEventItem,
    TenantItem,
    UsageItem,
)
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.adapters.dynamo.users import connection
from mamba.domain import billing as b
from mamba.domain.billing import CreditEntry, UsageRow
from mamba.domain.errors import ConflictError, DomainError, NotFoundError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.quotas import Quotas

EVENT_CLAIM_TTL = 35 * 86400  # ≥ 30 days: Stripe retries for 3 days; a manual resend can come later
TX_FAILED = "The billing record could not be saved; try again."


def _plan(item: PlanItem) -> b.Plan:
    return b.Plan(
        id=item.plan_id,
        name=item.name,
        quotas=Quotas.from_dict(json.loads(item.quotas)),
        grace_days=int(item.grace_days),
        price_id=item.price_id,
        metered=tuple(b.MeteredPrice(**m) for m in json.loads(item.metered or "[]")),
        active=bool(item.active),
        amount_cents=int(item.amount_cents or 0),
        currency=item.currency or "usd",
        interval=item.interval or "month",
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _plan_item(plan: b.Plan) -> PlanItem:
    pk, sk = keys.plan(plan.id)
    return PlanItem(
        pk,
        sk,
        kind="plan",
        gsi1pk=keys.ALL_PLANS,
        gsi1sk=keys.created_sort(plan.created_at, plan.id),
        plan_id=plan.id,
        name=plan.name,
        price_id=plan.price_id,
        metered=json.dumps(
            [{"metric": m.metric, "price_id": m.price_id, "event_name": m.event_name} for m in plan.metered]
        ),
        quotas=json.dumps(plan.quotas.to_dict(), sort_keys=True),
        grace_days=plan.grace_days,
        active=plan.active,
        amount_cents=plan.amount_cents,
        currency=plan.currency,
        interval=plan.interval,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


def _price_item(price_id: str, plan_id: str) -> PlanPriceItem:
    return PlanPriceItem(*keys.plan_price(price_id), kind="plan_price", price_id=price_id, plan_id=plan_id)


def _state(item: TenantItem) -> b.BillingState:
    quotas = Quotas.from_dict(json.loads(item.plan_quotas)) if item.plan_quotas else b.FREE_QUOTAS
    return b.BillingState(
        tenant_id=item.tenant_id,
        customer_id=item.stripe_customer_id,
        subscription_id=item.subscription_id,
        plan_id=item.plan_id or b.FREE_PLAN_ID,
        status=item.subscription_status or "none",
        current_period_end=int(item.current_period_end) if item.current_period_end is not None else None,
        cancel_at_period_end=bool(item.cancel_at_period_end),
        past_due_since=int(item.past_due_since) if item.past_due_since is not None else None,
        billing_state=item.billing_state or b.ACTIVE,
        deletion_due_at=int(item.deletion_due_at) if item.deletion_due_at is not None else None,
        quotas=quotas,
        credit_currency=item.credit_currency,
    )


class DynamoBillingRepository:
    def __init__(self, cursors: CursorCodec | None = None) -> None:
        self._cursors = cursors

    # --- plans -------------------------------------------------------------------------

    def add_plan(self, plan: b.Plan) -> None:

        def refused(cancelled: Cancellation) -> ConflictError | None:
            if cancelled.failed(0):
                return ConflictError("A plan with this id exists.", {"plan_id": plan.id})
            if cancelled.failed_positions - {0}:
                return ConflictError("A price id already belongs to another plan.", {"plan_id": plan.id})
            return None

        with translate(on_cancel=refused, unavailable=TX_FAILED):
            with TransactWrite(connection=connection()) as tx:
                tx.save(_plan_item(plan), condition=PlanItem.pk.does_not_exist())
                for price in plan.price_ids():
                    tx.save(_price_item(price, plan.id), condition=PlanPriceItem.pk.does_not_exist())

    def save_plan(self, current: b.Plan, updated: b.Plan) -> None:
        """Replace a plan, moving its price mappings, on the condition that it was not
        changed since ``current`` was read."""
        old, new = set(current.price_ids()), set(updated.price_ids())
        # pynamodb sends deletes before puts, so the reasons are [the prices given up..., the
        # plan, the new prices...], whatever the order of the calls below.
        plan_at = len(old - new)

        def refused(cancelled: Cancellation) -> ConflictError | None:
            if cancelled.failed(*range(plan_at + 1)):  # the plan, or a price it gave up, changed
                return ConflictError("The plan changed meanwhile; read it again.", {"plan_id": current.id})
            if cancelled.failed():
                return ConflictError("A price id already belongs to another plan.", {"plan_id": current.id})
            return None

        with translate(on_cancel=refused, unavailable=TX_FAILED):
            with TransactWrite(connection=connection()) as tx:
                tx.save(_plan_item(updated), condition=PlanItem.updated_at == current.updated_at)
                for price in old - new:
                    tx.delete(_price_item(price, current.id), condition=PlanPriceItem.plan_id == current.id)
                for price in new - old:
                    tx.save(_price_item(price, updated.id), condition=PlanPriceItem.pk.does_not_exist())

    def get_plan(self, plan_id: str) -> b.Plan:
        with translate(on_missing=NotFoundError("Plan not found.", {"plan_id": plan_id})):
            return _plan(PlanItem.get(*keys.plan(plan_id), consistent_read=True))

    def list_plans(self, page: PageRequest) -> Page[b.Plan]:
        if self._cursors is None:
            raise RuntimeError("built without a cursor codec (use bootstrap.billing_repository())")
        items, cursor = query_page(self._cursors, PlanItem.gsi1.query, keys.ALL_PLANS, scope="plans", page=page)
        return Page(items=[_plan(i) for i in items if isinstance(i, PlanItem)], next_cursor=cursor)

    def plans_by_price(self, price_ids: tuple[str, ...]) -> dict[str, b.Plan]:
        found: dict[str, b.Plan] = {}
        for price in dict.fromkeys(price_ids):
            mapping = get_or_none(PlanPriceItem, *keys.plan_price(price), consistent_read=True)
            if mapping is None:
                continue
            try:
                found[price] = self.get_plan(mapping.plan_id)
            except NotFoundError:
                continue
        return found

    # --- tenants' billing state ---------------------------------------------------------

    def _tenant(self, tenant_id: str) -> TenantItem:
        with translate(on_missing=NotFoundError("Tenant not found.", {"tenant_id": tenant_id})):
            return TenantItem.get(*keys.tenant(tenant_id), consistent_read=True)

    def get_state(self, tenant_id: str) -> b.BillingState:
        return _state(self._tenant(tenant_id))

    def save_state(self, state: b.BillingState, *, dunning_due_at: int | None) -> None:
        """Write every billing attribute (and ``plan_quotas``) of the tenant at once."""
        item = TenantItem(*keys.tenant(state.tenant_id))

        def put(attr: Any, value: Any) -> Any:
            return attr.set(value) if value is not None else attr.remove()

        actions = [
            put(TenantItem.stripe_customer_id, state.customer_id),
            put(TenantItem.subscription_id, state.subscription_id),
            TenantItem.plan_id.set(state.plan_id),
            TenantItem.subscription_status.set(state.status),
            put(TenantItem.current_period_end, state.current_period_end),
            TenantItem.cancel_at_period_end.set(state.cancel_at_period_end),
            put(TenantItem.past_due_since, state.past_due_since),
            TenantItem.billing_state.set(state.billing_state),
            put(TenantItem.deletion_due_at, state.deletion_due_at),
            TenantItem.plan_quotas.set(json.dumps(state.quotas.to_dict(), sort_keys=True)),
        ]
        if dunning_due_at is not None:
            actions += [
                TenantItem.gsi2pk.set(keys.DUNNING),
                TenantItem.gsi2sk.set(keys.dunning_sort(dunning_due_at, state.tenant_id)),
            ]
        else:
            actions += [TenantItem.gsi2pk.remove(), TenantItem.gsi2sk.remove()]
        with translate(
            on_condition=NotFoundError("Tenant not found.", {"tenant_id": state.tenant_id}),
            unavailable="The billing state could not be saved; try again.",
        ):
            item.update(actions=actions, condition=TenantItem.pk.exists())

    def set_billing_state(self, tenant_id: str, billing_state: str) -> None:
        with translate(
            on_condition=NotFoundError("Tenant not found.", {"tenant_id": tenant_id}),
            unavailable="The billing state could not be saved; try again.",
        ):
            TenantItem(*keys.tenant(tenant_id)).update(
                actions=[TenantItem.billing_state.set(billing_state)], condition=TenantItem.pk.exists()
            )

    def dunning_due(self, now: int) -> list[str]:
        """Tenants whose scheduled billing look is due (grace over, or deletion due)."""
        bound = keys.dunning_sort(now, "\uffff")
        found = TenantItem.gsi2.query(keys.DUNNING, TenantItem.gsi2sk <= bound)
        return [i.tenant_id for i in found if isinstance(i, TenantItem)]

    # --- customers ----------------------------------------------------------------------

    def link_customer(self, tenant_id: str, customer_id: str) -> None:
        """Record ``customer_id`` as the tenant's customer (once; the same pair again is a no-op)."""
        claim = StripeCustomerItem(
            *keys.stripe_customer(customer_id), kind="stripe_customer", customer_id=customer_id, tenant_id=tenant_id
        )

        def refused(cancelled: Cancellation) -> ConflictError | None:
            if cancelled.failed(0):
                return ConflictError("This Stripe customer belongs to another tenant.", {})
            if cancelled.failed(1):
                return ConflictError("The tenant has another Stripe customer, or is gone.", {})
            return None

        with translate(on_cancel=refused, unavailable=TX_FAILED):
            with TransactWrite(connection=connection()) as tx:
                tx.save(
                    claim,
                    condition=StripeCustomerItem.pk.does_not_exist() | (StripeCustomerItem.tenant_id == tenant_id),
                )
                tx.update(
                    TenantItem(*keys.tenant(tenant_id)),
                    actions=[TenantItem.stripe_customer_id.set(customer_id)],
                    condition=TenantItem.pk.exists()
                    & (TenantItem.stripe_customer_id.does_not_exist() | (TenantItem.stripe_customer_id == customer_id)),
                )

    def tenant_of_customer(self, customer_id: str) -> str | None:
        claim = get_or_none(StripeCustomerItem, *keys.stripe_customer(customer_id), consistent_read=True)
        return str(claim.tenant_id) if claim is not None else None

    # --- webhook event claims -----------------------------------------------------------

    def claim_event(self, event_id: str, event_type: str, received_at: str) -> bool:
        """True if this call claimed the event id; False for a duplicate."""
        item = StripeEventItem(
            *keys.stripe_event(event_id),
            kind="stripe_event",
            event_id=event_id,
            type=event_type,
            status="queued",
            received_at=received_at,
            ttl=int(time.time()) + EVENT_CLAIM_TTL,
        )
        with translate(on_condition=SKIP, unavailable="The event could not be recorded; Stripe will retry.") as put:
            item.save(condition=StripeEventItem.pk.does_not_exist())
        return not put.condition_failed

    def event_processed(self, event_id: str) -> None:
        with translate(on_condition=SKIP):  # the claim expired meanwhile: nothing to mark
            StripeEventItem(*keys.stripe_event(event_id)).update(
                actions=[StripeEventItem.status.set("processed")], condition=StripeEventItem.pk.exists()
            )

    def release_event(self, event_id: str) -> None:
        """Forget the claim, so a redelivery of the event is processed (never a processed one)."""
        with translate(on_condition=SKIP):  # processed: the claim stays
            StripeEventItem(*keys.stripe_event(event_id)).delete(condition=StripeEventItem.status != "processed")

    def event_status(self, event_id: str) -> str | None:
        claim = get_or_none(StripeEventItem, *keys.stripe_event(event_id), consistent_read=True)
        return str(claim.status) if claim is not None else None

    # --- notices ------------------------------------------------------------------------

    def claim_notice(self, tenant_id: str, notice_key: str, now_iso: str, ttl_seconds: int = 90 * 86400) -> bool:
        item = NoticeItem(
            *keys.billing_notice(tenant_id, notice_key),
            kind="billing_notice",
            sent_at=now_iso,
            ttl=int(time.time()) + ttl_seconds,
        )
        with translate(on_condition=SKIP) as put:
            item.save(condition=NoticeItem.pk.does_not_exist())
        return not put.condition_failed

    def release_notice(self, tenant_id: str, notice_key: str) -> None:
        NoticeItem(*keys.billing_notice(tenant_id, notice_key)).delete()

    # --- usage ledger -------------------------------------------------------------------

    def record_usage(self, row: UsageRow) -> UsageRow:
        """Write the hour's row unless it exists; return the stored row (a re-run of an hour
        finds the first run's row and never writes a second value)."""
        pk, sk = keys.usage(row.tenant_id, b.hour_label(row.hour), row.subject, row.metric)
        billable = bool(row.event_name and row.customer_id)  # only these wait to be sent to Stripe
        item = UsageItem(
            pk,
            sk,
            kind="usage",
            gsi2pk=keys.UNSENT_USAGE if billable else None,
            gsi2sk=f"{row.hour:012d}#{row.tenant_id}#{row.subject}#{row.metric}" if billable else None,
            tenant_id=row.tenant_id,
            subject=row.subject,
            metric=row.metric,
            hour=row.hour,
            value=row.value,
            seconds=row.seconds,
            identifier=row.identifier,
            event_name=row.event_name,
            customer_id=row.customer_id,
        )
        with translate(on_condition=SKIP, unavailable="The usage row could not be saved.") as put:
            item.save(condition=UsageItem.pk.does_not_exist())
        if put.condition_failed:
            return _usage(UsageItem.get(pk, sk, consistent_read=True))
        return row

    def unsent_usage(self, not_before: int, limit: int = 500) -> list[UsageRow]:
        bound = f"{not_before:012d}"
        found = UsageItem.gsi2.query(keys.UNSENT_USAGE, UsageItem.gsi2sk >= bound, limit=limit)
        return [_usage(i) for i in found if isinstance(i, UsageItem)]

    def usage_sent(self, row: UsageRow, sent_at: str) -> None:
        pk, sk = keys.usage(row.tenant_id, b.hour_label(row.hour), row.subject, row.metric)
        UsageItem(pk, sk).update(
            actions=[UsageItem.sent_at.set(sent_at), UsageItem.gsi2pk.remove(), UsageItem.gsi2sk.remove()]
        )

    def usage_failed(self, row: UsageRow, error: str) -> None:
        pk, sk = keys.usage(row.tenant_id, b.hour_label(row.hour), row.subject, row.metric)
        UsageItem(pk, sk).update(actions=[UsageItem.attempts.add(1), UsageItem.last_error.set(error[:200])])

    def usage_between(self, tenant_id: str, start_hour: int, end_hour: int) -> list[UsageRow]:
        """Every usage row of the tenant for hours in [start_hour, end_hour)."""
        low = f"{keys.USAGE_PREFIX}{b.hour_label(start_hour)}"
        high = f"{keys.USAGE_PREFIX}{b.hour_label(end_hour)}"
        found = UsageItem.query(keys.tenant_partition(tenant_id), UsageItem.sk.between(low, high))
        return [_usage(i) for i in found if isinstance(i, UsageItem) and i.hour < end_hour]

    # --- run intervals (metering) ---------------------------------------------------------

    def observe_run(self, server_uuid: str, tenant_id: str, memory_mb: int, running: bool, at: int) -> None:
        """Open a run interval when a server is seen running, close it when it is seen not
        running. Idempotent, and safe when two observers race (the loser changes nothing)."""
        state_pk, state_sk = keys.server_run_state(server_uuid)
        state = get_or_none(ServerRunStateItem, state_pk, state_sk, consistent_read=True)
        open_start = state.open_started_at if state is not None else None
        # A failed condition: another observer opened or closed the interval first.
        with translate(on_condition=SKIP, unavailable="The run interval could not be saved."):
            if running and open_start is None:
                with TransactWrite(connection=connection()) as tx:
                    tx.update(
                        ServerRunStateItem(state_pk, state_sk),
                        actions=[ServerRunStateItem.open_started_at.set(at), ServerRunStateItem.kind.set("run_state")],
                        condition=ServerRunStateItem.open_started_at.does_not_exist(),
                    )
                    tx.save(
                        ServerRunItem(
                            *keys.server_run(server_uuid, at),
                            kind="server_run",
                            server_uuid=server_uuid,
                            tenant_id=tenant_id,
                            memory_mb=memory_mb,
                            started_at=at,
                        ),
                        condition=ServerRunItem.pk.does_not_exist(),
                    )
            elif not running and open_start is not None:
                with TransactWrite(connection=connection()) as tx:
                    tx.update(
                        ServerRunItem(*keys.server_run(server_uuid, int(open_start))),
                        actions=[ServerRunItem.ended_at.set(max(at, int(open_start)))],
                        condition=ServerRunItem.pk.exists(),
                    )
                    tx.update(
                        ServerRunStateItem(state_pk, state_sk),
                        actions=[ServerRunStateItem.open_started_at.remove()],
                        condition=ServerRunStateItem.open_started_at == int(open_start),
                    )

    def runs(self, server_uuid: str, start: int, end: int) -> list[tuple[int, int | None]]:
        """The run intervals of the server that overlap [start, end)."""
        pk, _ = keys.server_run_state(server_uuid)
        found = ServerRunItem.query(
            pk, ServerRunItem.sk.between(keys.RUN_PREFIX, keys.server_run(server_uuid, end)[1]), consistent_read=True
        )
        spans: list[tuple[int, int | None]] = []
        for item in found:
            if not isinstance(item, ServerRunItem):
                continue
            ended = int(item.ended_at) if item.ended_at is not None else None
            if ended is None or ended > start:
                spans.append((int(item.started_at), ended))
        return spans

    def tenant_ids(self) -> list[str]:
        """Every tenant (the admin listing's index), for the metering run."""
        found = TenantItem.gsi1.query(keys.ALL_TENANTS)
        return [i.tenant_id for i in found if isinstance(i, TenantItem)]

    # --- credits ------------------------------------------------------------------------

    def add_credit(self, entry: CreditEntry) -> None:
        """The entry and the tenant's balance in the entry's currency change in one
        transaction (the balance item is created by its first ``ADD``); the tenant's credit
        currency is set by its first credit and never changed here."""
        pk, sk = keys.credit(entry.tenant_id, entry.created_at, entry.id)
        item = CreditItem(
            pk,
            sk,
            kind="credit",
            entry_id=entry.id,
            tenant_id=entry.tenant_id,
            amount_cents=entry.amount_cents,
            currency=entry.currency,
            source=entry.source,
            reason=entry.reason,
            actor_id=entry.actor_id,
            stripe_transaction_id=entry.stripe_transaction_id,
            created_at=entry.created_at,
        )
        claim = NoticeItem(*keys.credit_claim(entry.tenant_id, entry.id), kind="credit_claim", sent_at=entry.created_at)

        def refused(cancelled: Cancellation) -> DomainError | None:
            if cancelled.failed(0, 1):
                return ConflictError("This credit entry exists.", {"entry_id": entry.id})
            if cancelled.failed(2):
                return NotFoundError("Tenant not found.", {"tenant_id": entry.tenant_id})
            return None

        with translate(on_cancel=refused, unavailable=TX_FAILED):
            with TransactWrite(connection=connection()) as tx:
                tx.save(claim, condition=NoticeItem.pk.does_not_exist())
                tx.save(item, condition=CreditItem.pk.does_not_exist())
                tx.update(
                    TenantItem(*keys.tenant(entry.tenant_id)),
                    actions=[TenantItem.credit_currency.set(TenantItem.credit_currency | entry.currency)],
                    condition=TenantItem.pk.exists(),
                )
                tx.update(
                    CreditBalanceItem(*keys.credit_balance(entry.tenant_id, entry.currency)),
                    actions=[
                        CreditBalanceItem.kind.set("credit_balance"),
                        CreditBalanceItem.tenant_id.set(entry.tenant_id),
                        CreditBalanceItem.currency.set(entry.currency),
                        CreditBalanceItem.balance_cents.add(entry.amount_cents),
                    ],
                )

    def credit_balances(self, tenant_id: str) -> dict[str, int]:
        """The tenant's balance per currency (one Query of its partition)."""
        found = CreditBalanceItem.query(
            keys.tenant_partition(tenant_id), CreditBalanceItem.sk.startswith(keys.CREDIT_BALANCE_PREFIX)
        )
        return {i.currency: int(i.balance_cents or 0) for i in found if isinstance(i, CreditBalanceItem)}

    def list_credits(self, tenant_id: str, page: PageRequest) -> Page[CreditEntry]:
        if self._cursors is None:
            raise RuntimeError("built without a cursor codec (use bootstrap.billing_repository())")
        items, cursor = query_page(
            self._cursors,
            CreditItem.query,
            keys.tenant_partition(tenant_id),
            CreditItem.sk.startswith(keys.CREDIT_PREFIX),
            scope=f"credits:{tenant_id}",
            page=page,
            scan_index_forward=False,
        )
        return Page(items=[_credit(i) for i in items if isinstance(i, CreditItem)], next_cursor=cursor)


def _usage(item: UsageItem) -> UsageRow:
    return UsageRow(
        tenant_id=item.tenant_id,
        subject=item.subject,
        metric=item.metric,
        hour=int(item.hour),
        value=item.value,
        seconds=int(item.seconds or 0),
        identifier=item.identifier,
        event_name=item.event_name,
        customer_id=item.customer_id,
        sent_at=item.sent_at,
        attempts=int(item.attempts or 0),
    )


def _credit(item: CreditItem) -> CreditEntry:
    return CreditEntry(
        id=item.entry_id,
        tenant_id=item.tenant_id,
        amount_cents=int(item.amount_cents),
        currency=item.currency,
        source=item.source,
        reason=item.reason or "",
        actor_id=item.actor_id,
        stripe_transaction_id=item.stripe_transaction_id,
        created_at=item.created_at,
    )
