"""The webhook delivery schedule: POST every due delivery, record each attempt, reschedule
the retryable failures (services/webhooks.py ``deliver_due``). Every minute deployed; every
few seconds locally (local/scheduler.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.observability import emit_metric, logger

if TYPE_CHECKING:
    from mamba.services import webhooks
else:
    webhooks = lazy_import("mamba.services.webhooks")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Stop taking new deliveries well before the function's timeout (the rest wait a minute).
    remaining = (
        context.get_remaining_time_in_millis() / 1000 if hasattr(context, "get_remaining_time_in_millis") else 60
    )
    summary = webhooks.deliver_due(bootstrap.webhook_ports(), budget_seconds=max(1.0, remaining - 20))
    figures = asdict(summary)
    if summary.attempted:
        # Only runs that did something: the schedule runs every minute (every 2 s locally).
        logger.info("webhook deliveries", extra=figures)
        emit_metric("WebhookDeliveriesFailed", summary.failed)
    return figures
