"""The notification events queue consumer: Powertools batch processing with partial failures.

Each record is one ``mamba.domain.events.Event`` (docs/notifications.md). The in-app and
email channels (``mamba.services.notifications.deliver``) and the tenant's outgoing webhooks
(``mamba.services.webhooks.fan_out``) each drop a repeated event id, so a redelivered record
or a retried emitter notifies nobody twice. A record that fails is reported in
``batchItemFailures``: SQS retries only that record, and after 5 receives moves it to the
dead-letter queue (infra/template.py: ``EventsDLQ`` with its depth alarm).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from mamba import bootstrap, observability
from mamba.domain.events import Event
from mamba.observability import logger
from mamba.services import notifications

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    # Each event logs under the id of the request or workflow that emitted it (else its message id).
    carried = (record.raw_event.get("messageAttributes") or {}).get("correlation_id") or {}
    with observability.request_context(carried.get("stringValue") or record.message_id):
        return _deliver(record)


def _deliver(record: SQSRecord) -> str:
    event = Event.from_dict(json.loads(record.body))
    context = {"event_id": event.id, "type": event.type, "tenant_id": event.tenant_id, "server_id": event.server_id}
    try:
        done = notifications.deliver(bootstrap.notify_ports(), event)
        hooks = _webhooks(event)
    except Exception:
        logger.exception("notification event failed", extra=context)
        raise
    logger.info(
        "notification event delivered",
        extra={**context, "recipients": done.recipients, "in_app": done.in_app, "mailed": done.mailed, **hooks},
    )
    return event.id


def _webhooks(event: Event) -> dict[str, Any]:
    """The tenant's outgoing webhooks (mamba.services.webhooks, docs/webhooks.md): one due delivery
    per subscribed webhook, sent by the webhook_deliveries schedule; platform events have none."""
    if event.tenant_id is None:
        return {}
    from mamba.services import webhooks

    return {"webhooks": webhooks.fan_out(bootstrap.webhook_ports(), event)}


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
