"""Schedules on the running local stack (docs/schedules.md): a schedule created through the API is
held by moto's EventBridge Scheduler, the launcher's timer fires it at its minute as EventBridge
would, and the run_schedule workflow runs its console command on the local node's server; the
history shows the scheduled run with its task's outcome."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_server_control import owner_with_line_server, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

# The timer looks every 5 s; a schedule created now fires at the next minute.
FIRES_WITHIN = 90.0


def test_a_schedule_fires_at_its_minute_on_the_local_stack_and_its_run_succeeds(
    stack: Stack, http: requests.Session
) -> None:
    # Given a tenant with a line server on the local node, and a schedule every minute
    _, owner, tenant_id, server_uuid = owner_with_line_server(
        http, stack, "Schedules E2E", {"limits": {"memory_mb": 256, "disk_mb": 1024, "cpu_percent": 100}}
    )
    base = f"{stack.api}/v1/tenants/{tenant_id}/servers/{server_uuid}/schedules"
    body = {
        "name": "Every minute",
        "cron": {"minute": "*", "hour": "*", "day_of_month": "*", "month": "*", "day_of_week": "*"},
        "timezone": "Europe/Berlin",
        "tasks": [{"action": "power", "payload": "start"}],
    }
    created = http.post(base, json=body, headers=owner, timeout=30)
    assert created.status_code == 201, created.text
    schedule_id = created.json()["id"]

    # When its minute comes, the local EventBridge Scheduler fires it
    def scheduled_run() -> Any:
        runs = http.get(f"{base}/{schedule_id}/runs", headers=owner, timeout=30).json()["items"]
        done = [r for r in runs if r["trigger"] == "schedule" and r["status"] != "running"]
        return done[-1] if done else None  # the first scheduled run (the oldest)

    run = wait_until(scheduled_run, "the scheduled run", timeout=FIRES_WITHIN)

    # Then the run succeeded with its task, and the schedule shows it as its last run
    assert run["status"] == "succeeded", run
    assert [(t["action"], t["status"]) for t in run["tasks"]] == [("power", "succeeded")]
    assert run["started_at"][17:19] in {f"{s:02d}" for s in range(0, 20)}  # within seconds of its minute
    listed = http.get(base, headers=owner, timeout=30).json()["items"][0]
    assert listed["last_run"]["status"] in ("succeeded", "running")
    # Disabled, it fires no more: its EventBridge schedule is disabled
    off = http.patch(f"{base}/{schedule_id}", json={"enabled": False}, headers=owner, timeout=30)
    assert off.status_code == 200 and off.json()["next_runs"] == []
    assert http.delete(f"{base}/{schedule_id}", headers=owner, timeout=30).status_code == 204
