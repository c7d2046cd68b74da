"""EventBridge Scheduler's part in the local stack: moto stores schedules but never fires them.

Every few seconds (``local/scheduler.py``) this reads the panel's group from moto, as the real
service holds it: each ENABLED schedule's ``cron(...)`` expression in its time zone, and its
target's input. For every scheduled time that fell since the last look it invokes the target,
the ``schedule_trigger`` function (in-process, through ``local.lambda_dispatch``), with
``<aws.scheduler.scheduled-time>`` filled in as EventBridge does. The expression is read back
with the panel's own cron parser (``?`` is ``*``; EventBridge's trailing year field is ``*``),
so what runs locally is what EventBridge would run from the same schedule.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from local import lambda_dispatch
from mamba import bootstrap
from mamba.domain import schedules as sch
from mamba.observability import logger

TRIGGER = "functions.schedules.schedule_trigger:handler"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
_EXPRESSION = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")
# A first look fires nothing from before the stack started; a late look catches up at most this far.
CATCH_UP = timedelta(minutes=5)

_state: dict[str, datetime] = {}
_lock = threading.Lock()


def parse_expression(expression: str) -> sch.Cron | None:
    """``cron(m h dom month dow year)`` as the panel's Cron; None for anything else."""
    match = _EXPRESSION.match(expression)
    if match is None:
        return None
    minute, hour, dom, month, dow, _year = match.groups()
    return sch.parse_cron(minute, hour, "*" if dom == "?" else dom, month, "*" if dow == "?" else dow)


def due_times(schedule: dict[str, Any], since: datetime, now: datetime) -> list[datetime]:
    cron = parse_expression(str(schedule.get("ScheduleExpression", "")))
    if cron is None or schedule.get("State") != "ENABLED":
        return []
    tz = str(schedule.get("ScheduleExpressionTimezone") or "UTC")
    return [t for t in sch.next_runs(cron, tz, since, 60) if t <= now]


def fire_due(event: dict[str, Any], context: Any = None) -> dict[str, int]:
    """Invoke the target of every schedule due since the last call."""
    settings = bootstrap.settings()
    if not settings.schedule_group:
        return {"fired": 0}
    now = datetime.now(UTC)
    with _lock:
        since = max(_state.get("last", now), now - CATCH_UP)
        _state["last"] = now
    client = bootstrap.boto_client("scheduler")
    fired = 0
    pages = client.get_paginator("list_schedules").paginate(GroupName=settings.schedule_group)
    for summary in (s for page in pages for s in page.get("Schedules", [])):
        held = client.get_schedule(Name=summary["Name"], GroupName=settings.schedule_group)
        for at in due_times(held, since, now):
            scheduled = at.strftime("%Y-%m-%dT%H:%M:%SZ")
            payload = json.loads(str(held["Target"]["Input"]).replace(SCHEDULED_TIME, scheduled))
            _, errored, _ = lambda_dispatch.invoke(TRIGGER, payload, "schedule_trigger")
            fired += 1
            if errored:
                logger.error("the schedule trigger failed", extra={"schedule": summary["Name"], "at": scheduled})
    return {"fired": fired}
