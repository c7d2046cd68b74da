"""Fault: Stripe delivers the same event 5 times concurrently, and events arrive in reverse
order (issue 18, item 5).

The real webhook over HTTP (threaded server, real signature check, moto DynamoDB and SQS with
one DynamoDB request at a time, as the service applies each item atomically) and the real
SQS consumer; Stripe is the ``FakeStripe`` gateway the consumer re-fetches from. Whatever
the order or the repetition: one effect, and the tenant ends in the subscription's state at
Stripe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from mamba import bootstrap
from tests.api.billing_world import BillingWorld, add_pro_plan, billing_world, link_customer
from tests.billing_support import PRO_PRICE, event, invoice_object, signed, subscription_object
from tests.statemachines.provision_support import panel_over_http

pytestmark = pytest.mark.slow

COPIES = 5


@pytest.fixture
def stripe_world(client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[BillingWorld, str]]:
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def one_at_a_time(self: Any) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", one_at_a_time)
    with billing_world(client) as world:
        add_pro_plan(world)
        link_customer("tn_a", "cus_a")
        with panel_over_http() as url:
            yield world, url


def deliver_concurrently(url: str, evt: dict[str, Any], copies: int = COPIES) -> list[requests.Response]:
    body, headers = signed(evt)
    start = threading.Barrier(copies)

    def deliver(_: int) -> requests.Response:
        start.wait()
        return requests.post(f"{url}/webhooks/stripe", data=body.encode(), headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=copies) as pool:
        return list(pool.map(deliver, range(copies)))


def deliver(url: str, evt: dict[str, Any]) -> requests.Response:
    body, headers = signed(evt)
    return requests.post(f"{url}/webhooks/stripe", data=body.encode(), headers=headers, timeout=60)


def queued(world: BillingWorld) -> int:
    """Messages waiting in the queue (without receiving them, which would hide them)."""
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    attributes = sqs.get_queue_attributes(QueueUrl=world.queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def sub_event(event_type: str, status: str, **extra: Any) -> dict[str, Any]:
    return event(event_type, subscription_object("sub_a", "cus_a", status, PRO_PRICE, "tn_a"), **extra)


def test_the_same_stripe_event_delivered_5_times_concurrently_has_one_effect(stripe_world) -> None:
    # Given an active subscription at Stripe and its "created" event
    world, url = stripe_world
    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))
    created = sub_event("customer.subscription.created", "active")

    # When Stripe delivers that event 5 times at once
    answers = deliver_concurrently(url, created)

    # Then every delivery is acknowledged, exactly one is queued, the others are duplicates
    assert [a.status_code for a in answers] == [200] * COPIES, [a.text for a in answers]
    duplicates = [a.json().get("duplicate") is True for a in answers]
    assert duplicates.count(False) == 1, [a.json() for a in answers]
    assert queued(world) == 1
    # and processing it gives the plan once (one re-fetch, no failure)
    assert world.drain()["batchItemFailures"] == []
    assert world.stripe.retrieved == ["sub_a"]
    after = bootstrap.billing_repository().get_state("tn_a")
    assert (after.plan_id, after.status, after.billing_state) == ("pro", "active", "active")


def test_the_same_stripe_event_processed_5_times_concurrently_suspends_once(stripe_world) -> None:
    # Given an unpaid subscription, and SQS handing the consumer the same event 5 times at
    # once (at-least-once delivery; the intake's claim is per delivery of the webhook)
    world, _ = stripe_world
    from functions.queues import stripe_events

    world.stripe.set_subscription("sub_a", "cus_a", "unpaid", (PRO_PRICE,))
    unpaid = sub_event("customer.subscription.updated", "unpaid")
    import json

    record = {
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": json.dumps(unpaid),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:mamba-stripe-events",
        "awsRegion": "us-east-1",
    }
    start = threading.Barrier(COPIES)

    def consume(i: int) -> dict[str, Any]:
        start.wait()
        return dict(stripe_events.handler({"Records": [{**record, "messageId": f"m-{i}"}]}, None))

    # When the five copies are processed concurrently
    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        results = list(pool.map(consume, range(COPIES)))

    # Then none failed, the tenant is suspended, and the suspension workflow started once
    assert all(r["batchItemFailures"] == [] for r in results), results
    assert bootstrap.billing_repository().get_state("tn_a").billing_state == "suspended"
    assert world.started.names() == ["suspend_tenant"]


def test_stripe_events_delivered_in_reverse_order_end_in_the_subscriptions_current_state(stripe_world) -> None:
    # Given a subscription that was created, became active, was paid, then canceled at Stripe
    world, url = stripe_world
    world.stripe.set_subscription("sub_a", "cus_a", "canceled", (PRO_PRICE,))
    now = int(time.time())
    history = [
        sub_event("customer.subscription.created", "incomplete", created=now - 30),
        sub_event("customer.subscription.updated", "active", created=now - 20),
        event("invoice.paid", invoice_object("in_1", "cus_a", "sub_a", status="paid"), created=now - 15),
        sub_event("customer.subscription.deleted", "canceled", created=now - 10),
    ]

    # When Stripe delivers them newest first, each processed before the next arrives
    for evt in reversed(history):
        answer = deliver(url, evt)
        assert answer.status_code == 200, answer.text
        assert world.drain()["batchItemFailures"] == []

    # Then the tenant is where the subscription is now: canceled, suspended, back on free,
    # its data deletion scheduled; the stale "active" and "paid" payloads reactivated nothing
    after = bootstrap.billing_repository().get_state("tn_a")
    assert (after.billing_state, after.plan_id) == ("suspended", "free")
    assert after.deletion_due_at is not None
    assert world.started.names() == ["suspend_tenant"]


def test_stripe_events_in_reverse_order_for_a_live_subscription_end_active_on_the_plan(stripe_world) -> None:
    # Given a subscription that went past_due and was then paid (active again) at Stripe
    world, url = stripe_world
    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))
    now = int(time.time())
    history = [
        sub_event("customer.subscription.created", "active", created=now - 30),
        sub_event("customer.subscription.updated", "past_due", created=now - 20),
        event("invoice.payment_failed", invoice_object("in_1", "cus_a", "sub_a", status="open"), created=now - 15),
        event("invoice.paid", invoice_object("in_1", "cus_a", "sub_a", status="paid"), created=now - 10),
    ]

    # When they arrive newest first
    for evt in reversed(history):
        assert deliver(url, evt).status_code == 200
        assert world.drain()["batchItemFailures"] == []

    # Then the tenant is active on the plan, with no grace period running and nothing suspended
    after = bootstrap.billing_repository().get_state("tn_a")
    assert (after.billing_state, after.plan_id, after.status) == ("active", "pro", "active")
    assert after.past_due_since is None
    assert "suspend_tenant" not in world.started.names()
