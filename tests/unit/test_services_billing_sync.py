"""Stripe webhooks to tenant billing state (mamba.services.billing_sync) over the fakes:
intake (signature, livemode, dedupe, queueing), re-fetching the subscription, suspension and
reactivation workflows, mails once per key, and the scheduled dunning check."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from mamba.domain import billing as b
from mamba.domain.errors import DependencyUnavailableError
from mamba.services import billing_sync as sync
from mamba.services.billing import BillingPorts
from tests.billing_support import WEBHOOK_SECRET, event, invoice_object, signed
from tests.fakes import (
    FakeBillingRepository,
    FakeMailer,
    FakeOperationRepository,
    FakeStripe,
    FakeWebhookVerifier,
    FakeWorkflows,
)

NOW = 1_800_000_000
DAY = 86400
PRO = b.Plan(id="pro", name="Pro", quotas=b.Quotas(servers=5), price_id="price_pro", grace_days=3)


class World:
    def __init__(self) -> None:
        self.repo, self.stripe = FakeBillingRepository(), FakeStripe()
        self.workflows, self.operations, self.mailer = FakeWorkflows(), FakeOperationRepository(), FakeMailer()
        self.now = NOW
        self.repo.add_plan(PRO)
        self.repo.add_tenant("tn_a")
        self.repo.link_customer("tn_a", "cus_a")
        self.ports = BillingPorts(
            repo=self.repo,
            stripe=lambda: self.stripe,
            public_url="https://panel.example",
            free_quotas=b.FREE_QUOTAS,
            workflows=self.workflows,
            operations=self.operations,
            mailer=self.mailer,
            recipients=lambda tenant_id: ["owner@example.org"],
            clock=lambda: self.now,
        )

    def subscribe(self, status: str, sub_id: str = "sub_1", **extra: Any) -> None:
        # Current shape: the flat plan price and a metered price, each its own item.
        extra.setdefault("metered", ("price_ram",))
        self.stripe.set_subscription(sub_id, "cus_a", status, ("price_pro", "price_ram"), **extra)

    def state(self) -> b.BillingState:
        return self.repo.get_state("tn_a")

    def started(self) -> list[str]:
        return [workflow for workflow, _, _ in self.workflows.started]


@pytest.fixture
def world() -> World:
    return World()


# --- intake ---


def _receive(world: World, body: str, headers: dict[str, str], queue: list[str] | None = None, **kw: Any) -> Any:
    queued = queue if queue is not None else []
    return sync.receive(
        body.encode(),
        headers.get("Stripe-Signature"),
        secrets=kw.get("secrets", (WEBHOOK_SECRET,)),
        livemode=kw.get("livemode", False),
        repo=world.repo,
        enqueue=kw.get("enqueue", queued.append),
        verify=FakeWebhookVerifier(),
    )


def test_receive_queues_a_signed_handled_event_once(world):
    evt = event("customer.subscription.updated", {"id": "sub_1", "customer": "cus_a"})
    body, headers = signed(evt)
    queue: list[str] = []

    first = _receive(world, body, headers, queue)
    again = _receive(world, body, headers, queue)

    assert (first, again) == ({"received": True}, {"received": True, "duplicate": True})
    assert [json.loads(q)["id"] for q in queue] == [evt["id"]]


def test_receive_refuses_a_missing_or_wrong_signature(world):
    body, headers = signed(event("invoice.paid", {"id": "in_1"}), secret="whsec_other")

    with pytest.raises(sync.InvalidSignatureError):
        _receive(world, body, headers)
    with pytest.raises(sync.InvalidSignatureError):
        _receive(world, body, {})
    assert world.repo.events == {}


def test_receive_ignores_livemode_mismatches_and_unhandled_types(world):
    live = signed(event("invoice.paid", {"id": "in_1"}, livemode=True))
    other = signed(event("charge.refunded", {"id": "ch_1"}))

    assert _receive(world, *live)["ignored"] == "livemode"
    assert _receive(world, *other)["ignored"] == "type"
    assert world.repo.events == {}


def test_receive_releases_the_claim_when_the_queue_refuses(world):
    evt = event("invoice.paid", {"id": "in_1"})

    def refuse(message: str) -> None:
        raise ConnectionError("queue down")

    with pytest.raises(DependencyUnavailableError):
        _receive(world, *signed(evt), enqueue=refuse)
    assert world.repo.event_status(evt["id"]) is None


def test_receive_is_unavailable_without_a_configured_secret(world):
    with pytest.raises(DependencyUnavailableError):
        _receive(world, *signed(event("invoice.paid", {"id": "in_1"})), secrets=())


# --- processing ---


def test_an_active_subscription_puts_the_tenant_on_its_plan(world):
    world.subscribe("active", current_period_end=NOW + 30 * DAY)

    result = sync.process(world.ports, event("customer.subscription.created", {"id": "sub_1", "customer": "cus_a"}))

    state = world.state()
    assert result == "synced: active"
    assert (state.plan_id, state.status, state.quotas, state.current_period_end) == (
        "pro",
        "active",
        PRO.quotas,
        NOW + 30 * DAY,
    )
    assert world.started() == []


def test_an_unpaid_subscription_suspends_once_and_mails_once(world):
    world.subscribe("unpaid")
    evt = event("customer.subscription.updated", {"id": "sub_1", "customer": "cus_a"})

    first = sync.process(world.ports, evt)
    again = sync.process(world.ports, evt)

    assert (first, again) == ("suspended", "synced: unpaid")
    assert world.state().billing_state == b.SUSPENDED
    assert world.started() == ["suspend_tenant"]
    assert len(world.mailer.to("owner@example.org")) == 1


def test_a_paid_invoice_reactivates_a_suspended_tenant(world):
    world.subscribe("unpaid")
    sync.process(world.ports, event("customer.subscription.updated", {"id": "sub_1", "customer": "cus_a"}))
    world.stripe.update_subscription("sub_1", status="active")

    result = sync.process(world.ports, event("invoice.paid", invoice_object("in_1", "cus_a", "sub_1", "paid")))

    assert result == "reactivated"
    assert (world.state().billing_state, world.state().past_due_since) == (b.ACTIVE, None)
    assert world.started() == ["suspend_tenant", "reactivate_tenant"]


def test_the_plan_comes_from_the_flat_item_beside_the_metered_one(world):
    world.subscribe("active", current_period_end=NOW + 30 * DAY)
    shape = world.stripe.subscription_object("sub_1")

    sync.process(world.ports, event("customer.subscription.updated", {"id": "sub_1", "customer": "cus_a"}))

    assert [item["price"]["recurring"]["usage_type"] for item in shape["items"]["data"]] == ["licensed", "metered"]
    assert "current_period_end" not in shape and all("plan" not in item for item in shape["items"]["data"])
    assert (world.state().plan_id, world.state().current_period_end) == ("pro", NOW + 30 * DAY)


def test_an_invoice_names_its_subscription_through_its_parent_only(world):
    world.subscribe("unpaid")
    sync.process(world.ports, event("customer.subscription.updated", {"id": "sub_1", "customer": "cus_a"}))
    world.stripe.update_subscription("sub_1", status="active")
    legacy = invoice_object("in_1", "cus_a", "sub_1", "paid", parent=None, subscription="sub_1")

    ignored = sync.process(world.ports, event("invoice.paid", legacy))  # pre-basil shape: no resync
    synced = sync.process(world.ports, event("invoice.paid", invoice_object("in_2", "cus_a", "sub_1", "paid")))

    assert (ignored, synced) == ("ok", "reactivated")
    assert world.stripe.retrieved.count("sub_1") == 2  # the first sync and the parent's, not the legacy one


def test_a_failed_payment_starts_the_grace_period_and_schedules_the_look(world):
    world.subscribe("past_due")

    sync.process(world.ports, event("invoice.payment_failed", invoice_object("in_1", "cus_a", "sub_1")))

    state = world.state()
    assert (state.status, state.past_due_since, state.billing_state) == ("past_due", NOW, b.ACTIVE)
    assert world.repo.dunning["tn_a"] == NOW + (PRO.grace_days - 1) * DAY
    assert world.mailer.to("owner@example.org")  # the payment-failed mail


def test_events_of_an_unknown_customer_or_a_lying_hint_change_nothing(world):
    world.stripe.set_subscription("sub_x", "cus_unknown", "active", ("price_pro",))
    world.subscribe("active", tenant_hint="tn_other")

    unknown = sync.process(world.ports, event("customer.subscription.updated", {"id": "sub_x"}))
    lying = sync.process(world.ports, event("customer.subscription.updated", {"id": "sub_1"}))
    mismatch = sync.process(
        world.ports, event("customer.subscription.updated", {"id": "sub_1", "customer": "cus_someone"})
    )

    assert (unknown, lying, mismatch) == (
        "ignored: unknown customer",
        "ignored: unknown customer",
        "ignored: customer mismatch",
    )
    assert world.state() == replace(b.BillingState(tenant_id="tn_a"), customer_id="cus_a")


def test_an_old_subscription_ending_does_not_undo_the_live_one(world):
    world.subscribe("active", sub_id="sub_new")
    sync.process(world.ports, event("customer.subscription.created", {"id": "sub_new", "customer": "cus_a"}))
    world.subscribe("canceled", sub_id="sub_old")

    result = sync.process(world.ports, event("customer.subscription.deleted", {"id": "sub_old", "customer": "cus_a"}))

    assert result == "ignored: not the tenant's subscription"
    assert (world.state().subscription_id, world.state().status) == ("sub_new", "active")


def test_a_paid_credit_checkout_writes_the_credit_once(world):
    session_id, _ = world.stripe.create_credit_checkout(
        customer_id="cus_a", tenant_id="tn_a", amount_cents=1200, currency="usd", success_url="s", cancel_url="c"
    )
    world.stripe.pay_session(session_id)
    evt = event("checkout.session.completed", {"id": session_id, "mode": "payment"})

    first, again = sync.process(world.ports, evt), sync.process(world.ports, evt)

    assert (first, again) == ("credit recorded", "credit already recorded")
    assert world.repo.credit_balances("tn_a") == {"usd": 1200}


def test_an_unpaid_subscription_checkout_waits_for_the_async_payment(world):
    session = {"mode": "subscription", "subscription": "sub_1", "payment_status": "unpaid", "customer": "cus_a"}

    assert sync.process(world.ports, event("checkout.session.completed", session)) == "waiting for async payment"
    assert world.state().subscription_id is None


# --- the scheduled check ---


def test_dunning_check_warns_before_the_grace_ends_then_suspends_after(world):
    world.subscribe("past_due")
    sync.process(world.ports, event("invoice.payment_failed", invoice_object("in_1", "cus_a", "sub_1")))
    mails_before = len(world.mailer.sent)

    world.now = NOW + (PRO.grace_days - 1) * DAY
    warned = sync.dunning_check(world.ports)
    world.now = NOW + PRO.grace_days * DAY
    suspended = sync.dunning_check(world.ports)

    assert warned["warned"] == 1 and suspended["suspended"] == 1
    assert world.state().billing_state == b.SUSPENDED
    assert world.started() == ["suspend_tenant"]
    assert len(world.mailer.sent) == mails_before + 2  # grace ending, then suspended


def test_dunning_check_records_a_due_deletion_and_stops_looking(world):
    world.subscribe("canceled")
    sync.process(world.ports, event("customer.subscription.deleted", {"id": "sub_1", "customer": "cus_a"}))
    due = world.state().deletion_due_at
    assert due is not None

    world.now = due
    done = sync.dunning_check(world.ports)

    assert done["deletion_due"] == 1
    assert "tn_a" not in world.repo.dunning


def _canceled(world: World) -> int:
    world.subscribe("canceled")
    sync.process(world.ports, event("customer.subscription.deleted", {"id": "sub_1", "customer": "cus_a"}))
    due = world.state().deletion_due_at
    assert due is not None
    return due


def test_a_canceled_tenant_is_first_looked_at_for_the_7_day_warning(world):
    due = _canceled(world)

    assert world.repo.dunning["tn_a"] == due - 7 * DAY


def test_the_deletion_warnings_go_once_each_then_the_deletion_steps_until_done(world):
    due = _canceled(world)
    steps: list[str] = []
    answers = iter([False, True])
    world.ports.delete_tenant_data = lambda tenant_id: steps.append(tenant_id) or next(answers)
    mails_before = len(world.mailer.sent)

    # 7 days before, then the same day again, then 1 day before, twice
    for at in (due - 7 * DAY + 1, due - 7 * DAY + 2, due - DAY + 1, due - DAY + 2):
        world.now = at
        world.repo.dunning["tn_a"] = at  # the job looks, whatever the look it stored
        sync.dunning_check(world.ports)
    subjects = [m[1] for m in world.mailer.sent[mails_before:]]
    assert subjects == [
        "Your Mamba Host Panel data will be deleted in 7 days",
        "Your Mamba Host Panel data will be deleted tomorrow",
    ]
    assert steps == [] and world.repo.dunning["tn_a"] == due

    # When due: one step (servers still going), a look 5 minutes later, then done
    world.now = due
    assert sync.dunning_check(world.ports)["deletion_due"] == 1
    assert world.repo.dunning["tn_a"] == due + 300
    world.now = due + 300
    assert sync.dunning_check(world.ports)["deleted"] == 1
    assert steps == ["tn_a", "tn_a"]


def test_dunning_check_keeps_going_when_stripe_fails_for_one_tenant(world):
    world.subscribe("past_due")
    sync.process(world.ports, event("invoice.payment_failed", invoice_object("in_1", "cus_a", "sub_1")))
    world.stripe.down = True
    world.now = NOW + PRO.grace_days * DAY

    done = sync.dunning_check(world.ports)

    assert done == {"checked": 1, "suspended": 0, "warned": 0, "deletion_due": 0, "deleted": 0}
    assert world.state().billing_state == b.ACTIVE


def test_release_forgets_a_queued_claim_but_never_a_processed_one(world):
    world.repo.claim_event("evt_1", "invoice.paid", "t")
    world.repo.claim_event("evt_2", "invoice.paid", "t")
    world.repo.event_processed("evt_2")

    sync.release(world.ports, "evt_1")
    sync.release(world.ports, "evt_2")

    assert (world.repo.event_status("evt_1"), world.repo.event_status("evt_2")) == (None, "processed")
