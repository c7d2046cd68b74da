"""A local SQS event source for the Stripe events queue and the notification events queue,
since moto never invokes Lambda from SQS: long-polls a queue and hands each batch to its
consumer (``functions.queues.stripe_events``, ``functions.queues.events``) in-process, shaped
as Lambda's SQS event; messages the consumer reports in
``batchItemFailures`` are left on the queue (visible again after the visibility timeout),
the others are deleted, as the deployed event source mapping does.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from local import lambda_dispatch
from mamba.observability import logger

HANDLER = "functions.queues.stripe_events:handler"
EVENTS_HANDLER = "functions.queues.events:handler"


def lambda_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes") or {}),
                # Lambda's shape of SQS message attributes (the webhook's correlation id).
                "messageAttributes": {
                    name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType", "String")}
                    for name, value in (m.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class QueuePoller(threading.Thread):
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        region: str,
        visibility_timeout: int = 5,
        *,
        handler: str = HANDLER,
        function: str = "stripe_events",
    ) -> None:
        super().__init__(name=f"{function}-queue-poller", daemon=True)
        self.handler = handler
        self.function = function
        self.sqs = sqs
        self.queue_url = queue_url
        self.region = region
        self.visibility_timeout = visibility_timeout
        self.queue_arn = f"arn:aws:sqs:{region}:123456789012:{queue_url.rsplit('/', 1)[-1]}"
        self.batches = 0
        self._stopping = threading.Event()

    def poll_once(self, wait_seconds: int = 1) -> int:
        found = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=self.visibility_timeout,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = list(found.get("Messages", []))
        if not messages:
            return 0
        payload, errored, _ = lambda_dispatch.invoke(
            self.handler, lambda_event(messages, self.queue_arn, self.region), self.function
        )
        self.batches += 1
        failed: set[str] = set()
        if errored:
            logger.error("queue consumer failed", extra={"function": self.function, "error": json.loads(payload)})
            failed = {m["MessageId"] for m in messages}
        else:
            failed = {f["itemIdentifier"] for f in json.loads(payload).get("batchItemFailures", [])}
        for m in messages:
            if m["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return len(messages)

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - keep polling; the stack must not die of one batch
                logger.exception("queue poll failed", extra={"function": self.function})
                self._stopping.wait(1.0)

    def stop(self) -> None:
        self._stopping.set()
