"""run_schedule runs for real on moto (the real ASL, the real task Lambda in-process), started
through the tenant API's "run now": tasks in order with their offsets, each outcome recorded, a
failed task stopping the run (or not, with continue_on_failure), only_when_online skipping an
offline server, and a backup task running the same backup_server workflow as the API, with
Wings' side of the S3 handshake played through the panel's remote routes (tests/backup_support.py)."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain.errors import WingsRejectedError
from tests.backup_support import BackupWorld, WingsS3Double, archive_bytes, build_world, upload_like_wings
from tests.fakes import FakeEventPublisher
from tests.schedule_support import NIGHTLY, scheduler_configured
from tests.statemachines.conftest import Deployed

pytestmark = pytest.mark.slow


@dataclass
class RecordingWings(WingsS3Double):
    """A node that records power and console calls with their time; ``refuse`` names the calls it refuses."""

    state: str = "running"
    calls: list[tuple[str, str, float]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    _calls_lock: threading.Lock = field(default_factory=threading.Lock)

    def _record(self, kind: str, value: str) -> None:
        with self._calls_lock:
            self.calls.append((kind, value, time.monotonic()))
        if kind in self.refuse:
            raise WingsRejectedError(f"The node refused the {kind}: server is not running.", {"status": 409})

    def power(self, server_uuid: str, action: str, *, wait_seconds: int | None = None) -> None:
        self._record("power", action)

    def send_commands(self, server_uuid: str, commands: list[str]) -> None:
        for command in commands:
            self._record("command", command)

    def get_server(self, server_uuid: str) -> dict[str, Any]:
        return {"state": self.state, "is_suspended": False, "utilization": {}}

    def create_backup(self, server_uuid: str, backup_uuid: str, *, adapter: str = "wings", ignore: str = "") -> None:
        self._record("backup", backup_uuid)
        super().create_backup(server_uuid, backup_uuid, adapter=adapter, ignore=ignore)


@pytest.fixture
def wings() -> RecordingWings:
    return RecordingWings()


@pytest.fixture
def events() -> FakeEventPublisher:
    return FakeEventPublisher()


@pytest.fixture
def world(
    client: Any, deployed_workflows: Deployed, wings: RecordingWings, events: FakeEventPublisher
) -> Iterator[BackupWorld]:
    w = build_world(client.http)
    with (
        scheduler_configured(schedule_backup_poll_seconds=1),
        bootstrap.override(agent_for=lambda node: wings, event_publisher=events),
    ):
        yield w


def base(world: BackupWorld) -> str:
    return f"/v1/tenants/{world.tenant_id}/servers/{world.server.uuid}/schedules"


def post(world: BackupWorld, path: str, body: dict[str, Any] | None = None) -> Any:
    headers = {**world.owner_headers, "Content-Type": "application/json"}
    return world.http.post(path, headers=headers, body=json.dumps(body or {}))


def schedule(world: BackupWorld, tasks: list[dict[str, Any]], **changes: Any) -> str:
    body = {**copy.deepcopy(NIGHTLY), "tasks": tasks, **changes}
    created = post(world, base(world), body)
    assert created.status_code == 201, created.json_body
    return str(created.json_body["id"])


def run_now(world: BackupWorld, schedule_id: str) -> str:
    started = post(world, f"{base(world)}/{schedule_id}/run")
    assert started.status_code == 202, started.json_body
    return str(started.json_body["run"]["id"])


def history(world: BackupWorld, schedule_id: str) -> list[dict[str, Any]]:
    listed = world.http.get(f"{base(world)}/{schedule_id}/runs", headers=world.owner_headers)
    assert listed.status_code == 200
    return list(listed.json_body["items"])


def finish(deployed: Deployed, run_id: str) -> dict[str, Any]:
    return deployed.wait(deployed.execution_arn("run_schedule", run_id), timeout_s=60)


def test_tasks_run_in_order_with_their_offsets_and_the_backup_through_the_backup_workflow(
    world: BackupWorld, deployed_workflows: Deployed, wings: RecordingWings, events: FakeEventPublisher
) -> None:
    schedule_id = schedule(
        world,
        [
            {"action": "command", "payload": "say restarting in 1 s"},
            {"action": "power", "payload": "restart", "time_offset_seconds": 1},
            {"action": "backup", "payload": "nightly", "time_offset_seconds": 2},
        ],
    )

    run_id = run_now(world, schedule_id)
    requested = wings.wait_backup(timeout=30)
    upload_like_wings(world, requested["uuid"], archive_bytes(1024))
    execution = finish(deployed_workflows, run_id)

    assert execution["status"] == "SUCCEEDED", execution
    assert [(k, v) for k, v, _ in wings.calls] == [
        ("command", "say restarting in 1 s"),
        ("power", "restart"),
        ("backup", requested["uuid"]),
    ]
    (_, _, t_command), (_, _, t_power), (_, _, t_backup) = wings.calls
    assert t_power - t_command >= 1.0 and t_backup - t_power >= 2.0
    [run] = history(world, schedule_id)
    assert (run["id"], run["status"], run["trigger"]) == (run_id, "succeeded", "manual")
    assert [(t["action"], t["status"], t["error"]) for t in run["tasks"]] == [
        ("command", "succeeded", None),
        ("power", "succeeded", None),
        ("backup", "succeeded", None),
    ]
    assert run["tasks"][2]["backup_id"] == requested["uuid"]
    assert run["started_at"] <= run["tasks"][0]["started_at"] <= run["finished_at"]
    backup = bootstrap.backup_repository().get(requested["uuid"])
    assert (backup.status, backup.name) == ("completed", "nightly")
    assert events.of_type("schedule.failed") == []
    listed = world.http.get(base(world), headers=world.owner_headers).json_body["items"][0]
    assert listed["last_run"]["status"] == "succeeded"


def test_a_failed_task_stops_the_run_and_emits_schedule_failed(
    world: BackupWorld, deployed_workflows: Deployed, wings: RecordingWings, events: FakeEventPublisher
) -> None:
    wings.refuse = {"command"}
    schedule_id = schedule(
        world, [{"action": "command", "payload": "say hi"}, {"action": "power", "payload": "restart"}]
    )

    run_id = run_now(world, schedule_id)
    execution = finish(deployed_workflows, run_id)

    assert execution["status"] == "SUCCEEDED"  # the workflow recorded the failure; it did not fail itself
    assert [k for k, _, _ in wings.calls] == ["command"]
    [run] = history(world, schedule_id)
    assert run["status"] == "failed"
    assert [(t["status"], t["error"]) for t in run["tasks"]] == [
        ("failed", "The node refused the command: server is not running."),
        ("skipped", None),
    ]
    [event] = events.of_type("schedule.failed")
    assert event.payload["task"] == "1: command" and event.payload["schedule_name"] == "Nightly restart"
    assert (event.tenant_id, event.server_id) == (world.tenant_id, world.server.uuid)


def test_the_run_goes_on_after_a_failed_task_when_it_continues_on_failure(
    world: BackupWorld, deployed_workflows: Deployed, wings: RecordingWings
) -> None:
    wings.refuse = {"command"}
    schedule_id = schedule(
        world,
        [
            {"action": "command", "payload": "say hi", "continue_on_failure": True},
            {"action": "power", "payload": "restart"},
        ],
    )

    finish(deployed_workflows, run_now(world, schedule_id))

    assert [k for k, _, _ in wings.calls] == ["command", "power"]
    [run] = history(world, schedule_id)
    assert run["status"] == "failed"
    assert [t["status"] for t in run["tasks"]] == ["failed", "succeeded"]


def test_an_offline_server_is_skipped_not_failed_when_the_schedule_runs_only_when_online(
    world: BackupWorld, deployed_workflows: Deployed, wings: RecordingWings, events: FakeEventPublisher
) -> None:
    wings.state = "offline"
    schedule_id = schedule(world, [{"action": "power", "payload": "restart"}], only_when_online=True)

    finish(deployed_workflows, run_now(world, schedule_id))

    assert wings.calls == []
    [run] = history(world, schedule_id)
    assert run["status"] == "skipped"
    assert run["reason"] == "The server was offline and the schedule runs only when it is online."
    assert [t["status"] for t in run["tasks"]] == ["skipped"]
    assert events.published == []


def test_a_backup_task_over_quota_fails_without_leaving_a_backup(
    world: BackupWorld, deployed_workflows: Deployed, wings: RecordingWings, events: FakeEventPublisher
) -> None:
    from tests.backup_support import set_plan

    set_plan(world.tenant_id, servers=5, memory_mb=8192, disk_mb=10240, backup_bytes=10**9, backups_per_server=0)
    schedule_id = schedule(world, [{"action": "backup", "payload": ""}])

    finish(deployed_workflows, run_now(world, schedule_id))

    [run] = history(world, schedule_id)
    assert run["status"] == "failed" and run["tasks"][0]["status"] == "failed"
    assert bootstrap.backup_repository().of_server(world.server.uuid) == []
    assert wings.backups == []
    assert len(events.of_type("schedule.failed")) == 1
