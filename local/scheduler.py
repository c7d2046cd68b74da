"""A local timer for the scheduled functions, since moto never fires EventBridge or Scheduler.

``SCHEDULES`` is the registry: a schedule names its function, how often it runs and its
handler (``module:attr``, as in ``functions.tasks.TASKS``). A later issue that adds a
scheduled function appends it here next to its ``@app.schedule`` in ``app.py``. The
handler is called in the launcher process, through the same in-process dispatch as the
Step Functions tasks, with an event shaped like EventBridge's scheduled event.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local import lambda_dispatch
from mamba.observability import logger


@dataclass(frozen=True)
class Schedule:
    name: str  # the function name, as registered with Chalice
    every_seconds: float
    handler: str  # "module:attr"


SCHEDULES: list[Schedule] = [
    # Every minute deployed; more often locally so a freshly started stack shows its node online soon.
    Schedule("node_health", 15.0, "functions.schedules.node_health:handler"),
    # Billing (skipped while BILLING_ENABLED is off): hourly and every 15 minutes deployed.
    Schedule("billing_dunning", 30.0, "functions.schedules.billing_dunning:handler"),
    Schedule("billing_metering", 300.0, "functions.schedules.billing_metering:handler"),
    Schedule("reconcile_servers", 10.0, "functions.schedules.reconcile:handler"),
    # Every 6 hours deployed; every 10 minutes locally.
    Schedule("backup_usage", 600.0, "functions.schedules.backup_usage:handler"),
    # EventBridge Scheduler's part: fire the panel schedules' EventBridge schedules moto holds
    # (docs/schedules.md). Every 5 s, so a run starts within seconds of its minute.
    Schedule("eventbridge_scheduler", 5.0, "local.eventbridge_scheduler:fire_due"),
    # Every minute deployed; every 2 seconds locally, so a webhook test arrives at once.
    Schedule("webhook_deliveries", 2.0, "functions.schedules.webhook_deliveries:handler"),
]


def scheduled_event(schedule: Schedule, region: str) -> dict[str, Any]:
    """The event EventBridge hands a scheduled function."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:123456789012:rule/{schedule.name}"],
        "detail": {},
    }


class Timer(threading.Thread):
    """Runs each schedule every ``every_seconds`` (first run one interval after start).

    Runs are sequential on this one thread, so a slow job delays the next rather than
    overlapping itself, as a reserved-concurrency-1 function would behave.
    """

    def __init__(self, schedules: Iterable[Schedule], region: str) -> None:
        super().__init__(name="schedule-timer", daemon=True)
        self.schedules = list(schedules)
        self.region = region
        self.runs: dict[str, int] = {s.name: 0 for s in self.schedules}
        self._stopping = threading.Event()

    def run_once(self, schedule: Schedule) -> bool:
        """Invoke one schedule now; returns False when its handler raised."""
        payload, errored, _ = lambda_dispatch.invoke(
            schedule.handler, scheduled_event(schedule, self.region), schedule.name
        )
        self.runs[schedule.name] += 1
        if errored:
            logger.error("scheduled function failed", extra={"schedule": schedule.name, "error": json.loads(payload)})
        return not errored

    def run(self) -> None:
        if not self.schedules:
            return
        start = time.monotonic()
        due = {s.name: start + s.every_seconds for s in self.schedules}
        while not self._stopping.is_set():
            schedule = min(self.schedules, key=lambda s: due[s.name])
            if self._stopping.wait(max(0.0, due[schedule.name] - time.monotonic())):
                return
            self.run_once(schedule)
            due[schedule.name] = max(due[schedule.name] + schedule.every_seconds, time.monotonic())

    def stop(self, wait_seconds: float = 15.0) -> None:
        """No further run starts, and the one under way is waited for (up to ``wait_seconds``): a
        run's worker threads (the reconcile's, the webhook deliveries') would otherwise hold the
        launcher's exit, which joins them, after the API and the nodes they talk to are gone."""
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(wait_seconds)
