"""The local stack's stand-in for EventBridge Scheduler firing (local/eventbridge_scheduler.py): a
schedule created through the API is held by moto's EventBridge Scheduler, and the local timer's
job reads it back and invokes the trigger for each scheduled time that passed, once."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from local import eventbridge_scheduler as local_scheduler
from mamba import bootstrap
from mamba.domain import schedules as sch
from tests.backup_support import build_world
from tests.schedule_support import NIGHTLY, scheduler_configured


class RecordingWorkflows:
    def __init__(self) -> None:
        self.started: list[tuple[str, str, dict[str, Any]]] = []

    def start(self, workflow: str, operation_id: str, payload: dict[str, Any], attempt: int = 1) -> str:
        self.started.append((workflow, operation_id, payload))
        return f"arn:{operation_id}"


def test_due_times_are_fired_once_each_with_the_scheduled_time_as_the_run_id(client: Any) -> None:
    world = build_world(client.http)
    base = f"/v1/tenants/{world.tenant_id}/servers/{world.server.uuid}/schedules"
    headers = {**world.owner_headers, "Content-Type": "application/json"}
    every_minute = {**copy.deepcopy(NIGHTLY), "cron": dict.fromkeys(sch.FIELD_NAMES, "*"), "timezone": "UTC"}
    recorder = RecordingWorkflows()

    with scheduler_configured():
        created = client.http.post(base, headers=headers, body=json.dumps(every_minute))
        assert created.status_code == 201, created.json_body
        disabled = client.http.post(base, headers=headers, body=json.dumps({**every_minute, "enabled": False}))
        assert disabled.status_code == 201
        ports = replace(bootstrap.schedule_ports(), workflows=recorder)
        with bootstrap.override(schedule_ports=ports):  # type: ignore[arg-type]
            local_scheduler._state["last"] = datetime.now(UTC) - timedelta(seconds=130)
            first = local_scheduler.fire_due({})
            again = local_scheduler.fire_due({})

    assert first["fired"] in (2, 3)  # the minutes that began in the last 130 s, of the enabled schedule only
    assert again["fired"] == 0
    schedule_id = created.json_body["id"]
    runs = bootstrap.schedule_repository().runs(schedule_id, 10, None).items
    assert len(runs) == first["fired"] and len({r.id for r in runs}) == len(runs)
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    expected = {
        sch.scheduled_run_id(schedule_id, (minute - timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for i in range(4)
    }
    assert {r.id for r in runs} <= expected and {r.trigger for r in runs} == {"schedule"}
    # The first starts its workflow; the later ones come while it runs, and never overlap it
    assert [op for _, op, _ in recorder.started] == [runs[-1].id]
    assert [r.status for r in runs[:-1]] == ["skipped"] * (len(runs) - 1)
    assert {p["schedule_id"] for _, _, p in recorder.started} == {schedule_id}


def test_the_expression_eventbridge_holds_reads_back_as_the_same_cron() -> None:
    cron = sch.parse_cron("*/15", "1-5", "1", "*", "MON")
    for expression in sch.aws_expressions(cron):
        parsed = local_scheduler.parse_expression(expression)
        assert parsed is not None
    day, week = (local_scheduler.parse_expression(e) for e in sch.aws_expressions(cron))
    assert day is not None and week is not None
    assert (day.days, day.weekdays_restricted) == (frozenset({1}), False)
    assert (week.weekdays, week.days_restricted) == (frozenset({1}), False)
