"""The Stripe events dead-letter queue on SQS: depth, a non-consuming peek, and redrive.

Peeking receives with ``VisibilityTimeout=0``: the messages stay visible (nothing is deleted),
so a peek never hides a message from a redrive or from another peek. Redrive sends each body
to the source queue and only then deletes it from the dead-letter queue; a crash in between
leaves the event in both, and the consumer's per-event claim processes it once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mamba.domain.errors import DependencyUnavailableError
from mamba.domain.overview import DeadLetterMessage

BATCH = 10  # SQS's largest receive


@contextlib.contextmanager
def translate_client_error(message: str) -> Iterator[None]:
    """SQS refusing or unreachable is a 503 the caller can retry, never a 500."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise DependencyUnavailableError(message) from exc


class SqsDeadLetterQueue:
    def __init__(self, sqs: Any, dlq_url: str, source_url: str) -> None:
        self._sqs = sqs
        self._dlq = dlq_url
        self._source = source_url

    def depth(self) -> int:
        with translate_client_error("The dead-letter queue could not be read."):
            found = self._sqs.get_queue_attributes(QueueUrl=self._dlq, AttributeNames=["ApproximateNumberOfMessages"])
        return int(found["Attributes"].get("ApproximateNumberOfMessages", 0))

    def _receive(self, limit: int, visibility: int) -> list[dict[str, Any]]:
        with translate_client_error("The dead-letter queue could not be read."):
            found = self._sqs.receive_message(
                QueueUrl=self._dlq,
                MaxNumberOfMessages=max(1, min(BATCH, limit)),
                VisibilityTimeout=visibility,
                WaitTimeSeconds=0,
                AttributeNames=["ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"],
            )
        return list(found.get("Messages", []))

    def peek(self, limit: int) -> list[DeadLetterMessage]:
        seen: dict[str, DeadLetterMessage] = {}
        # SQS answers a sample of its servers per call: a few calls find the rest. Stop when
        # one adds nothing new (bounded: at most limit/10 + 2 calls).
        for _ in range(limit // BATCH + 2):
            fresh = 0
            for raw in self._receive(limit - len(seen), visibility=0):
                if raw["MessageId"] not in seen and len(seen) < limit:
                    seen[raw["MessageId"]] = _message(raw)
                    fresh += 1
            if not fresh or len(seen) >= limit:
                break
        return list(seen.values())

    def redrive(self, limit: int) -> int:
        moved = 0
        while moved < limit:
            # Hidden for a minute while being moved, so a parallel redrive does not send it twice.
            batch = self._receive(limit - moved, visibility=60)
            if not batch:
                break
            with translate_client_error("The Stripe events queue refused the messages; try again."):
                # Ten at a time (three calls per ten messages keeps a large redrive well inside
                # the API's time limit); only what the events queue accepted leaves the DLQ.
                sent = self._sqs.send_message_batch(
                    QueueUrl=self._source,
                    Entries=[{"Id": str(i), "MessageBody": raw["Body"]} for i, raw in enumerate(batch)],
                )
                accepted = [batch[int(entry["Id"])] for entry in sent.get("Successful", [])]
                if accepted:
                    self._sqs.delete_message_batch(
                        QueueUrl=self._dlq,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": raw["ReceiptHandle"]} for i, raw in enumerate(accepted)
                        ],
                    )
            moved += len(accepted)
            if len(accepted) < len(batch):
                # The rest stay in the DLQ (visible again in a minute): report what moved.
                break
        return moved


def _message(raw: dict[str, Any]) -> DeadLetterMessage:
    attributes = raw.get("Attributes", {})
    first = attributes.get("ApproximateFirstReceiveTimestamp")
    first_at = datetime.fromtimestamp(int(first) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if first else None
    return DeadLetterMessage(
        message_id=raw["MessageId"],
        body=raw.get("Body", ""),
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
        first_received_at=first_at,
    )
