"""Drive the notification events queue in moto tests: what the services published is handed to
the events consumer (functions/queues/events.py) as Lambda's SQS event, like the deployed event
source mapping and the local stack's poller do."""

from __future__ import annotations

import json
from typing import Any

from mamba import bootstrap


def queued_events() -> list[dict[str, Any]]:
    """Receive (and delete) every message on the events queue; their bodies."""
    messages = _receive_all()
    return [json.loads(m["Body"]) for m in messages]


def _receive_all() -> list[dict[str, Any]]:
    sqs = bootstrap.boto_client("sqs")
    url = bootstrap.settings().events_queue_url
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return found
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        found += batch


def drain() -> list[dict[str, Any]]:
    """Receive (and delete) every message on the events queue, as SQS hands them over."""
    return _receive_all()


def run_consumer(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The events consumer on these messages as one Lambda SQS batch; its answer."""
    from functions.queues import events as consumer
    from local.queue_poller import lambda_event

    arn = "arn:aws:sqs:us-east-1:123456789012:mamba-events"
    return dict(consumer.handler(lambda_event(messages, arn, "us-east-1"), None))


def deliver_queued(*, repeat: int = 1) -> dict[str, Any]:
    """Run the consumer on what is queued (``repeat`` times: SQS's at-least-once delivery);
    returns the last answer (its ``batchItemFailures``)."""
    messages = _receive_all()
    answer: dict[str, Any] = {"batchItemFailures": []}
    if not messages:
        return answer
    for _ in range(repeat):
        answer = run_consumer(messages)
    return answer


def publish(*events: Any) -> None:
    bootstrap.event_publisher().publish(list(events))
