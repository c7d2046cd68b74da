"""Pterodactyl's client API for a server's schedules and tasks through the real guard on moto,
with EventBridge Scheduler on moto (the same use cases as /v1: each schedule's EventBridge
schedule follows it). Every answer with a body is checked against Pterodactyl's own shape."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from mamba import bootstrap
from tests.backup_support import BackupWorld, add_member, build_world
from tests.contract.pterodactyl_shapes import assert_shape
from tests.schedule_support import eventbridge_schedules, scheduler_configured

NIGHTLY = {"name": "Nightly restart", "minute": "0", "hour": "4", "day_of_month": "*", "month": "*",
           "day_of_week": "*", "is_active": True, "only_when_online": False}  # fmt: skip


@pytest.fixture
def world(client: Any) -> Iterator[BackupWorld]:
    w = build_world(client.http)
    with scheduler_configured():
        yield w


def base(world: BackupWorld) -> str:
    return f"/api/client/servers/{world.server.uuid}/schedules"


def post(world: BackupWorld, path: str, body: Any = None, headers: Any = None) -> Any:
    return world.http.post(path, headers={**(headers or world.owner_headers), "Content-Type": "application/json"},
                           body=json.dumps(body if body is not None else {}))  # fmt: skip


def create(world: BackupWorld, **changes: Any) -> dict[str, Any]:
    made = post(world, base(world), {**NIGHTLY, **changes})
    assert made.status_code == 200, made.body[:300]
    return dict(made.json_body)


def add_task(world: BackupWorld, schedule: int, **body: Any) -> Any:
    return post(world, f"{base(world)}/{schedule}/tasks", {"action": "command", "payload": "say hi",
                                                             "time_offset": 0, **body})  # fmt: skip


def test_a_schedule_is_made_without_tasks_then_tasks_are_added_in_order(world: BackupWorld) -> None:
    # Given a schedule made the Pterodactyl way: no tasks yet (200, as Pterodactyl)
    made = create(world)
    assert_shape("client_schedule", made)
    attrs = made["attributes"]
    assert isinstance(attrs["id"], int) and attrs["relationships"]["tasks"]["data"] == []
    assert attrs["cron"] == {"day_of_week": "*", "day_of_month": "*", "month": "*", "hour": "4", "minute": "0"}
    assert attrs["next_run_at"].endswith("T04:00:00+00:00")  # UTC, as Pterodactyl's panel zone
    schedule = attrs["id"]
    # The same EventBridge schedule /v1 makes exists for it
    (held,) = eventbridge_schedules().values()
    assert held["ScheduleExpression"] == "cron(0 4 * * ? *)" and held["ScheduleExpressionTimezone"] == "UTC"
    # When three tasks are added, the last one placed first by its sequence_id
    first = add_task(world, schedule)
    second = add_task(world, schedule, action="power", payload="restart", time_offset=60, continue_on_failure=True)
    third = add_task(world, schedule, action="backup", payload="*.log", time_offset=5, sequence_id=1)
    for response in (first, second, third):
        assert response.status_code == 200, response.body[:300]
        assert_shape("client_task", response.json_body)
    assert third.json_body["attributes"]["sequence_id"] == 1 and third.json_body["attributes"]["payload"] == ""
    # Then the schedule lists them in that order, each keeping its id
    got = world.http.get(f"{base(world)}/{schedule}", headers=world.owner_headers)
    assert got.status_code == 200
    assert_shape("client_schedule", got.json_body)
    tasks = [t["attributes"] for t in got.json_body["attributes"]["relationships"]["tasks"]["data"]]
    assert [(t["sequence_id"], t["action"], t["id"]) for t in tasks] == [
        (1, "backup", third.json_body["attributes"]["id"]),
        (2, "command", first.json_body["attributes"]["id"]),
        (3, "power", second.json_body["attributes"]["id"]),
    ]
    assert (tasks[2]["payload"], tasks[2]["time_offset"], tasks[2]["continue_on_failure"]) == ("restart", 60, True)
    # And /v1 sees the same schedule with the same tasks
    v1 = world.http.get(f"/v1/tenants/{world.tenant_id}/servers/{world.server.uuid}/schedules",
                        headers=world.owner_headers).json_body["items"]  # fmt: skip
    assert [t["action"] for t in v1[0]["tasks"]] == ["backup", "command", "power"]


def test_update_and_delete_a_task_keep_the_others_ids(world: BackupWorld) -> None:
    schedule = create(world)["attributes"]["id"]
    a = add_task(world, schedule, payload="say a").json_body["attributes"]["id"]
    b = add_task(world, schedule, payload="say b").json_body["attributes"]["id"]

    changed = post(world, f"{base(world)}/{schedule}/tasks/{b}",
                   {"action": "command", "payload": "say B", "time_offset": 30, "sequence_id": 1})  # fmt: skip
    assert changed.status_code == 200, changed.body[:300]
    assert_shape("client_task", changed.json_body)
    assert (changed.json_body["attributes"]["id"], changed.json_body["attributes"]["sequence_id"]) == (b, 1)

    gone = world.http.delete(f"{base(world)}/{schedule}/tasks/{b}", headers=world.owner_headers)
    assert gone.status_code == 204
    tasks = world.http.get(f"{base(world)}/{schedule}", headers=world.owner_headers).json_body["attributes"][
        "relationships"
    ]["tasks"]["data"]
    assert [(t["attributes"]["id"], t["attributes"]["payload"]) for t in tasks] == [(a, "say a")]
    assert world.http.delete(f"{base(world)}/{schedule}/tasks/{b}", headers=world.owner_headers).status_code == 404


def test_update_list_execute_and_delete_a_schedule(world: BackupWorld) -> None:
    schedule = create(world)["attributes"]["id"]
    # Executing a schedule without tasks is refused, as Pterodactyl
    empty = post(world, f"{base(world)}/{schedule}/execute")
    assert empty.status_code == 400 and "no tasks" in empty.json_body["errors"][0]["detail"]
    add_task(world, schedule)

    updated = post(world, f"{base(world)}/{schedule}", {**NIGHTLY, "name": "Hourly", "minute": "15", "hour": "*"})
    assert updated.status_code == 200, updated.body[:300]
    assert_shape("client_schedule", updated.json_body)
    assert updated.json_body["attributes"]["name"] == "Hourly"
    assert updated.json_body["attributes"]["relationships"]["tasks"]["data"][0]["attributes"]["payload"] == "say hi"
    (held,) = eventbridge_schedules().values()
    assert held["ScheduleExpression"] == "cron(15 * * * ? *)"

    listed = world.http.get(base(world), headers=world.owner_headers)
    assert listed.status_code == 200 and "meta" not in listed.json_body
    assert [s["attributes"]["id"] for s in listed.json_body["data"]] == [schedule]
    for entry in listed.json_body["data"]:
        assert_shape("client_schedule", entry)

    started: list[tuple[str, str]] = []

    class Recorder:
        def start(self, workflow: str, operation_id: str, payload: dict[str, Any], attempt: int = 1) -> str:
            started.append((workflow, operation_id))
            return "arn"

    ports = replace(bootstrap.schedule_ports(), workflows=Recorder())
    with bootstrap.override(schedule_ports=ports):  # type: ignore[arg-type]
        ran = post(world, f"{base(world)}/{schedule}/execute")
    assert ran.status_code == 202 and ran.json_body == []
    assert [w for w, _ in started] == ["run_schedule"]
    after = world.http.get(f"{base(world)}/{schedule}", headers=world.owner_headers).json_body["attributes"]
    assert after["is_processing"] is True and after["last_run_at"] is not None

    inactive = create(world, name="Off", is_active=False)["attributes"]["id"]
    assert post(world, f"{base(world)}/{inactive}/execute").status_code == 400

    deleted = world.http.delete(f"{base(world)}/{schedule}", headers=world.owner_headers)
    assert deleted.status_code == 204
    assert world.http.get(f"{base(world)}/{schedule}", headers=world.owner_headers).status_code == 404
    assert len(eventbridge_schedules()) == 1  # only the inactive one's


def test_bad_cron_and_bad_tasks_are_refused_with_pterodactyls_statuses(world: BackupWorld) -> None:
    bad = post(world, base(world), {**NIGHTLY, "hour": "25"})
    assert bad.status_code == 422
    assert bad.json_body["errors"][0]["meta"]["source_field"] == "cron.hour"
    missing = post(world, base(world), {"name": "x"})
    assert missing.status_code == 422
    assert {e["meta"]["source_field"] for e in missing.json_body["errors"]} == {
        "minute",
        "hour",
        "day_of_month",
        "day_of_week",
    }
    schedule = create(world)["attributes"]["id"]
    assert add_task(world, schedule, action="power", payload="dance").status_code == 422
    assert add_task(world, schedule, time_offset=901).status_code == 422
    for _ in range(10):
        assert add_task(world, schedule).status_code == 200
    eleventh = add_task(world, schedule)
    assert eleventh.status_code == 400 and "10 tasks" in eleventh.json_body["errors"][0]["detail"]


def test_permissions_and_tenancy_hold(world: BackupWorld) -> None:
    schedule = create(world)["attributes"]["id"]
    viewer = add_member(world.tenant_id, f"usr_view_{uuid.uuid4().hex[:6]}", "viewer")
    assert world.http.get(base(world), headers=viewer).status_code == 200
    assert post(world, base(world), NIGHTLY, headers=viewer).status_code == 403
    assert post(world, f"{base(world)}/{schedule}/execute", headers=viewer).status_code == 403
    # An operator without the console may schedule no command (the same rule as /v1)
    no_console = add_member(world.tenant_id, f"usr_op_{uuid.uuid4().hex[:6]}", "custom",
                            ["servers.read", "schedules.read", "schedules.write"])  # fmt: skip
    refused = post(world, f"{base(world)}/{schedule}/tasks", {"action": "command", "payload": "op", "time_offset": 0},
                   headers=no_console)  # fmt: skip
    assert refused.status_code == 403
    # Another tenant's member sees neither the server nor the schedule; a schedule id of another
    # server is not found through this one
    stranger = add_member(f"tn_{uuid.uuid4().hex[:8]}", f"usr_x_{uuid.uuid4().hex[:6]}", "owner")
    assert world.http.get(f"{base(world)}/{schedule}", headers=stranger).status_code == 404
    assert world.http.get(f"{base(world)}/{schedule + 1000}", headers=world.owner_headers).status_code == 404
    assert world.http.get(f"{base(world)}/abc", headers=world.owner_headers).status_code == 404
