"""The notification events queue (``EventPublisher``): SQS, batches of at most 10.

The request's id travels as a message attribute, so the consumer logs under the request that
emitted the event (docs/observability.md). ``SendMessageBatch`` can fail per entry: a failed
entry raises, so the emitting step fails and its retry publishes again (same event id).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mamba.domain.errors import DependencyUnavailableError

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from mamba.domain.events import Event

BATCH = 10


class SqsEventPublisher:
    def __init__(
        self, sqs: BaseClient, queue_url: str, correlation: str | Callable[[], str | None] | None = None
    ) -> None:
        self._sqs = sqs
        self._url = queue_url
        # A callable is asked at each publish: a publisher kept in a cached port bundle still
        # sends the id of the request or workflow that publishes, not the one that built it.
        self._correlation = correlation

    def publish(self, events: Sequence[Event]) -> None:
        correlation = self._correlation() if callable(self._correlation) else self._correlation
        attributes = {"correlation_id": {"DataType": "String", "StringValue": correlation}} if correlation else {}
        for start in range(0, len(events), BATCH):
            chunk = events[start : start + BATCH]
            reply = self._sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {
                        "Id": str(n),
                        "MessageBody": json.dumps(event.to_dict(), separators=(",", ":")),
                        "MessageAttributes": attributes,
                    }
                    for n, event in enumerate(chunk)
                ],
            )
            if reply.get("Failed"):
                raise DependencyUnavailableError("Events could not be queued; try again shortly.")
