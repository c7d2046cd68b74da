"""The hourly metering schedule (mamba.services.metering): observe the servers' reconciled
status, write the previous hour's usage ledger, send unsent meter events to Stripe.

``now`` and ``hour`` (epoch seconds) in the event replace the clock and the metered hour:
the local stack and tests use them; only EventBridge and operators can invoke this function.
"""

from __future__ import annotations

import time
from typing import Any

from mamba import bootstrap
from mamba.observability import logger
from mamba.services import metering


def _all_servers() -> list[Any]:
    servers = bootstrap.server_repository()
    return [s for tenant_id in bootstrap.billing_repository().tenant_ids() for s in servers.of_tenant(tenant_id)]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not bootstrap.settings().billing_enabled:
        return {"skipped": "billing disabled"}
    now = int(event.get("now") or time.time())
    hour = int(event["hour"]) if event.get("hour") is not None else None
    done = metering.run(
        bootstrap.billing_ports(),
        now,
        _all_servers,
        bootstrap.server_repository().of_tenant,
        bootstrap.backup_repository().usage,
        hour=hour,
    )
    logger.info("billing metering run", extra=done)
    return done
