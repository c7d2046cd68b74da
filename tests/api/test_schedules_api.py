"""The schedules routes through the real guard on moto, with EventBridge Scheduler on moto: each
schedule's EventBridge schedule is created, updated and deleted with it (no workflow runs here:
the runs execute in tests/statemachines/test_run_schedule.py)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain.schedules import LastRun
from tests.backup_support import BackupWorld, add_member, build_world, set_plan
from tests.schedule_support import NIGHTLY, TARGET_ARN, eventbridge_schedules, scheduler_configured


@pytest.fixture
def world(client: Any) -> Iterator[BackupWorld]:
    w = build_world(client.http)
    with scheduler_configured():
        yield w


def base(world: BackupWorld) -> str:
    return f"/v1/tenants/{world.tenant_id}/servers/{world.server.uuid}/schedules"


def post(world: BackupWorld, path: str, body: dict[str, Any] | None = None, headers: Any = None) -> Any:
    return world.http.post(path, headers={**(headers or world.owner_headers), "Content-Type": "application/json"},
                           body=json.dumps(body or {}))  # fmt: skip


def create(world: BackupWorld, **changes: Any) -> dict[str, Any]:
    response = post(world, base(world), {**copy.deepcopy(NIGHTLY), **changes})
    assert response.status_code == 201, response.json_body
    return dict(response.json_body)


def test_create_answers_the_schedule_with_its_next_runs_and_creates_its_eventbridge_schedule(
    world: BackupWorld,
) -> None:
    created = create(world)

    assert created["id"].startswith("sch_")
    assert len(created["next_runs"]) == 5
    assert created["next_run_at"] == created["next_runs"][0]
    assert created["next_runs"][0].endswith(":00:00Z") and created["tasks"][0]["payload"] == "say hi"
    held = eventbridge_schedules()
    assert list(held) == [f"{created['id']}-0"]
    one = held[f"{created['id']}-0"]
    assert one["ScheduleExpression"] == "cron(0 4 * * ? *)"
    assert one["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert one["State"] == "ENABLED"
    assert one["Target"]["Arn"] == TARGET_ARN
    assert one["Target"]["Input"] == {
        "tenant_id": world.tenant_id,
        "server_id": world.server.uuid,
        "schedule_id": created["id"],
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }


def test_list_shows_next_run_and_last_outcome_and_get_shows_one(world: BackupWorld) -> None:
    created = create(world)

    listed = world.http.get(base(world), headers=world.owner_headers)
    one = world.http.get(f"{base(world)}/{created['id']}", headers=world.owner_headers)

    assert listed.status_code == 200
    assert [(s["id"], s["next_run_at"], s["last_run"]) for s in listed.json_body["items"]] == [
        (created["id"], created["next_run_at"], None)
    ]
    assert listed.json_body["next_cursor"] is None
    assert one.status_code == 200 and one.json_body["name"] == "Nightly restart"


def test_invalid_cron_is_a_400_naming_the_field(world: BackupWorld) -> None:
    body = copy.deepcopy(NIGHTLY)
    body["cron"]["hour"] = "25"

    response = post(world, base(world), body)

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "VALIDATION_ERROR"
    assert response.json_body["error"]["message"] == "cron.hour: 25 is outside 0-23"
    assert response.json_body["error"]["details"]["fields"][0]["field"] == "cron.hour"
    assert eventbridge_schedules() == {}


def test_unknown_timezone_and_too_many_tasks_are_400(world: BackupWorld) -> None:
    bad_zone = post(world, base(world), {**copy.deepcopy(NIGHTLY), "timezone": "Mars/Olympus"})
    many = post(world, base(world), {**copy.deepcopy(NIGHTLY), "tasks": NIGHTLY["tasks"] * 11})
    offset = copy.deepcopy(NIGHTLY)
    offset["tasks"][0]["time_offset_seconds"] = 901

    assert bad_zone.status_code == 400
    assert bad_zone.json_body["error"]["details"]["fields"][0]["field"] == "timezone"
    assert many.status_code == 400
    assert post(world, base(world), offset).status_code == 400


def test_plan_limit_refuses_the_next_schedule_with_quota_exceeded(world: BackupWorld) -> None:
    set_plan(world.tenant_id, servers=5, memory_mb=8192, disk_mb=10240, backup_bytes=10**9, backups_per_server=2,
             schedules_per_server=2)  # fmt: skip
    create(world)
    create(world)

    third = post(world, base(world), copy.deepcopy(NIGHTLY))

    assert third.status_code == 403
    assert third.json_body["error"]["code"] == "QUOTA_EXCEEDED"
    assert len(eventbridge_schedules()) == 2


def test_patch_changes_the_eventbridge_schedule_and_disabling_empties_the_next_runs(world: BackupWorld) -> None:
    created = create(world)
    path = f"{base(world)}/{created['id']}"

    changed = world.http.patch(
        path,
        headers={**world.owner_headers, "Content-Type": "application/json"},
        body=json.dumps(
            {
                "cron": {"minute": "30", "hour": "5", "day_of_month": "1", "month": "*", "day_of_week": "MON"},
                "timezone": "UTC",
            }
        ),
    )
    assert changed.status_code == 200, changed.json_body
    held = eventbridge_schedules()
    assert {n: (h["ScheduleExpression"], h["ScheduleExpressionTimezone"]) for n, h in held.items()} == {
        f"{created['id']}-0": ("cron(30 5 1 * ? *)", "UTC"),
        f"{created['id']}-1": ("cron(30 5 ? * MON *)", "UTC"),
    }

    disabled = world.http.patch(
        path, headers={**world.owner_headers, "Content-Type": "application/json"}, body=json.dumps({"enabled": False})
    )
    assert disabled.status_code == 200
    assert disabled.json_body["next_runs"] == [] and disabled.json_body["next_run_at"] is None
    assert {h["State"] for h in eventbridge_schedules().values()} == {"DISABLED"}
    assert disabled.json_body["name"] == "Nightly restart"  # what was not sent stays


def test_delete_removes_the_schedule_and_its_eventbridge_schedules(world: BackupWorld) -> None:
    created = create(world, cron={"minute": "0", "hour": "4", "day_of_month": "1", "month": "*", "day_of_week": "0"})
    assert len(eventbridge_schedules()) == 2

    deleted = world.http.delete(f"{base(world)}/{created['id']}", headers=world.owner_headers)

    assert deleted.status_code == 204
    assert eventbridge_schedules() == {}
    assert world.http.get(f"{base(world)}/{created['id']}", headers=world.owner_headers).status_code == 404


def test_run_now_answers_202_with_the_run_and_the_history_pages_newest_first(world: BackupWorld) -> None:
    created = create(world)
    recorder: list[tuple[str, str]] = []

    class Recorder:
        def start(self, workflow: str, operation_id: str, payload: dict[str, Any], attempt: int = 1) -> str:
            recorder.append((workflow, operation_id))
            return "arn"

    ports = bootstrap.schedule_ports()
    from dataclasses import replace

    repo = bootstrap.schedule_repository()
    started = []
    with bootstrap.override(schedule_ports=replace(ports, workflows=Recorder())):  # type: ignore[arg-type]
        for _ in range(3):
            started.append(post(world, f"{base(world)}/{created['id']}/run"))
            busy = post(world, f"{base(world)}/{created['id']}/run")  # one run at a time
            assert busy.status_code == 409 and busy.json_body["error"]["code"] == "CONFLICT"
            recorded = repo.get_run(started[-1].json_body["run"]["id"])
            assert recorded is not None
            repo.save_run(replace(recorded, status="succeeded"))
            repo.set_last_run(world.server.uuid, created["id"], LastRun(recorded.id, "succeeded", recorded.started_at))
    assert [r.status_code for r in started] == [202, 202, 202]
    run = started[0].json_body["run"]
    assert run["status"] == "running" and run["id"].startswith("run_")  # as answered
    assert recorder[0] == ("run_schedule", run["id"])

    page = world.http.get(f"{base(world)}/{created['id']}/runs?limit=2", headers=world.owner_headers)
    assert page.status_code == 200
    assert len(page.json_body["items"]) == 2 and page.json_body["next_cursor"]
    assert page.json_body["items"][-1]["tasks"] == [
        {
            "action": "command",
            "status": "pending",
            "error": None,
            "started_at": None,
            "finished_at": None,
            "backup_id": None,
        }
    ]
    rest = world.http.get(
        f"{base(world)}/{created['id']}/runs?limit=2&cursor={page.json_body['next_cursor']}",
        headers=world.owner_headers,
    )
    seen = [r["id"] for r in page.json_body["items"] + rest.json_body["items"]]
    assert sorted(seen) == sorted(r.json_body["run"]["id"] for r in started)
    assert rest.json_body["next_cursor"] is None
    listed = world.http.get(base(world), headers=world.owner_headers).json_body["items"][0]
    assert listed["last_run"]["status"] == "succeeded"


def test_viewer_reads_but_cannot_write_and_another_tenant_gets_404(world: BackupWorld) -> None:
    created = create(world)
    viewer = add_member(world.tenant_id, f"usr_v_{uuid.uuid4().hex[:6]}", "viewer")
    outsider = add_member(f"tn_{uuid.uuid4().hex[:8]}", f"usr_o_{uuid.uuid4().hex[:6]}", "owner")

    assert world.http.get(base(world), headers=viewer).status_code == 200
    assert post(world, base(world), copy.deepcopy(NIGHTLY), headers=viewer).status_code == 403
    assert post(world, f"{base(world)}/{created['id']}/run", headers=viewer).status_code == 403
    assert world.http.get(f"{base(world)}/{created['id']}", headers=outsider).status_code == 404


def test_operator_without_console_cannot_schedule_a_command(world: BackupWorld) -> None:
    member = add_member(world.tenant_id, f"usr_c_{uuid.uuid4().hex[:6]}", "custom",
                        permissions=["servers.read", "schedules.read", "schedules.write", "servers.power"])  # fmt: skip

    refused = post(world, base(world), copy.deepcopy(NIGHTLY), headers=member)
    power = copy.deepcopy(NIGHTLY)
    power["tasks"] = [{"action": "power", "payload": "restart"}]
    allowed = post(world, base(world), power, headers=member)

    assert refused.status_code == 403
    assert refused.json_body["error"]["details"]["permission"] == "servers.console"
    assert allowed.status_code == 201, allowed.json_body
