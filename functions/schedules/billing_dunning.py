"""The dunning schedule: tenants whose grace period ends soon are mailed, those whose grace
period is over are suspended (mamba.services.billing_sync.dunning_check).

``now`` in the event (epoch seconds) replaces the clock: the local stack and tests use it
to let a grace period expire. Only EventBridge and operators can invoke this function.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from mamba import bootstrap
from mamba.observability import logger
from mamba.services import billing_sync


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not bootstrap.settings().billing_enabled:
        return {"skipped": "billing disabled"}
    now = int(event.get("now") or time.time())
    ports = replace(bootstrap.billing_ports(), clock=lambda: now)
    done = billing_sync.dunning_check(ports)
    logger.info("billing dunning check", extra=done)
    return done
