"""The target of every EventBridge Scheduler schedule (and of the local timer, local/scheduler.py):
start the panel schedule's run (docs/schedules.md).

Event: ``{"tenant_id", "server_id", "schedule_id", "scheduled_time"}``; the run's id is derived
from the schedule and the scheduled time, so a repeated delivery starts nothing new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.lazy import lazy_import

if TYPE_CHECKING:
    from mamba.services import schedules
else:
    schedules = lazy_import("mamba.services.schedules")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    run = schedules.start_scheduled_run(
        bootstrap.schedule_ports(),
        str(event["tenant_id"]),
        str(event["server_id"]),
        str(event["schedule_id"]),
        str(event["scheduled_time"]),
    )
    return {"run_id": run.id if run else None, "status": run.status if run else "not_started"}
