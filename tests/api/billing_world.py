"""The app with billing switched on: settings with Stripe keys, a moto SQS queue, the
``FakeStripe`` gateway and a recorder for the workflows billing starts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3

from mamba import bootstrap
from tests.api.tenancy_helpers import Api, make_world
from tests.billing_support import OLD_WEBHOOK_SECRET, STRIPE_KEY, WEBHOOK_SECRET, FakeStripe
from tests.fakes import FakeWorkflows


@dataclass
class BillingWorld:
    api: Api
    stripe: FakeStripe
    queue_url: str
    started: FakeWorkflows

    def messages(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name="us-east-1")
        found = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return list(found.get("Messages", []))

    def drain(self) -> dict[str, Any]:
        """Hand every queued message to the consumer as Lambda's SQS event source would;
        delete the ones it did not report as failed. Returns the consumer's answer."""
        from functions.queues import stripe_events

        sqs = boto3.client("sqs", region_name="us-east-1")
        answer: dict[str, Any] = {"batchItemFailures": []}
        while messages := self.messages():
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:mamba-stripe-events",
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
            answer = stripe_events.handler({"Records": records}, None)
            failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
            for m in messages:
                if m["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
            if failed:
                break
        return answer


@contextlib.contextmanager
def billing_world(client: Any) -> Iterator[BillingWorld]:
    """The app with billing on: Settings with Stripe keys and the events queue, the fake
    Stripe and a recording of started workflows (bootstrap overrides, for the block)."""
    settings = bootstrap.settings()
    queue_url = boto3.client("sqs", region_name=settings.region).create_queue(QueueName="mamba-stripe-events")[
        "QueueUrl"
    ]
    on = settings.model_copy(
        update={
            "billing_enabled": True,
            "stripe_secret_key": STRIPE_KEY,
            "stripe_webhook_secrets": (WEBHOOK_SECRET, OLD_WEBHOOK_SECRET),
            "stripe_events_queue_url": queue_url,
        }
    )
    fake = FakeStripe()
    # The account's prices, as the Stripe setup in docs/billing.md creates them: plans are
    # checked against them when written (PLAN_PRICE_INVALID otherwise).
    from tests.billing_support import PRO_PRICE, RAM_PRICE

    fake.add_price(PRO_PRICE)
    fake.add_price(RAM_PRICE, metered=True)
    started = FakeWorkflows()
    with bootstrap.override(settings=on, stripe_gateway=fake, workflows=started):
        yield BillingWorld(api=make_world(client), stripe=fake, queue_url=queue_url, started=started)


def add_pro_plan(world: BillingWorld, **changes: Any) -> dict[str, Any]:
    from tests.billing_support import PRO_PRICE, RAM_PRICE

    body = {
        "id": "pro",
        "name": "Pro",
        "price_id": PRO_PRICE,
        "metered": [{"metric": "ram_gb_hours", "price_id": RAM_PRICE, "event_name": "gs_ram_gb_hours"}],
        "quotas": {
            "servers": 5,
            "memory_mb": 16384,
            "disk_mb": 102400,
            "backup_bytes": 10**10,
            "backups_per_server": 3,
        },
        "grace_days": 3,
        **changes,
    }
    created = world.api.post("/v1/admin/plans", "usr_root", body)
    assert created.status_code == 201, created.json_body
    return dict(created.json_body)


def link_customer(tenant_id: str, customer_id: str) -> None:
    bootstrap.billing_repository().link_customer(tenant_id, customer_id)
