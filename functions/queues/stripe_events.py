"""The Stripe events queue consumer: Powertools batch processing with partial failures.

Each record is one verified Stripe event (its raw JSON, as the webhook received it). A
record that fails releases its dedupe claim (so a redelivery by Stripe is processed) and is
reported in ``batchItemFailures``: SQS retries only that record, and after 5 receives moves
it to the dead-letter queue. The event source mapping sets ``ReportBatchItemFailures``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from mamba import bootstrap, observability
from mamba.observability import emit_metric, logger
from mamba.services import billing_sync, overview

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

# Report every failed record (even a whole failed batch) instead of raising: SQS retries just those.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    # Each event logs under the id of the webhook request that queued it (else its message id).
    carried = (record.raw_event.get("messageAttributes") or {}).get("correlation_id") or {}
    correlation = carried.get("stringValue")
    with observability.request_context(correlation or record.message_id):
        return _apply(record)


def _apply(record: SQSRecord) -> str:
    event = json.loads(record.body)
    event_id = str(event.get("id", ""))
    if isinstance(event.get("created"), int):
        # Stripe's event time to our processing: the webhook, the queue and any retries (docs/observability.md).
        emit_metric("StripeWebhookLag", max(0.0, datetime.now(UTC).timestamp() - event["created"]), "Seconds")
    ports = bootstrap.billing_ports()
    try:
        result = billing_sync.process(ports, event)
    except Exception as exc:
        billing_sync.release(ports, event_id)
        logger.exception("stripe event failed", extra={"event_id": event_id, "type": event.get("type")})
        # Its first error, for the admin's dead-letter listing (docs/operations.md).
        overview.record_failure(bootstrap.dead_letter_errors(), event_id, exc, datetime.now(UTC))
        raise
    ports.repo.event_processed(event_id)
    logger.info("stripe event processed", extra={"event_id": event_id, "type": event.get("type"), "result": result})
    return result


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
