"""mamba.services.schedules on fakes: the tenant's use cases (limits, permissions, the scheduler
kept in step, nothing half-made) and the run_schedule workflow's steps, driven here in the order
statemachines/run_schedule.asl.json takes them (the same steps run on moto in
tests/statemachines/test_run_schedule.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from mamba.auth.context import TenantContext
from mamba.domain import schedules as sch
from mamba.domain.errors import (
    ConflictError,
    DependencyUnavailableError,
    DomainError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    ValidationError,
)
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.domain.quotas import Quotas
from mamba.domain.servers import Limits, Server
from mamba.services import schedules as svc
from mamba.workflow_errors import readable_error
from tests.fakes import FakeEventPublisher, FakeServerRepository, FakeWorkflows
from tests.fakes_schedules import FakeScheduleRepository, FakeScheduleTrigger, FakeTaskRunner, node_down

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
OWNER = TenantContext(tenant_id="tn_a", role="owner", permissions=BUILTIN_ROLES["owner"])
VIEWER = TenantContext(tenant_id="tn_a", role="viewer", permissions=BUILTIN_ROLES["viewer"])
OTHER = TenantContext(tenant_id="tn_b", role="owner", permissions=BUILTIN_ROLES["owner"])


def make_server(status: str = "running", tenant_id: str = "tn_a") -> Server:
    return Server(
        uuid=str(uuid.uuid4()),
        name="Survival",
        tenant_id=tenant_id,
        node_id="node_1",
        blueprint_id="bp",
        allocation=("127.0.0.1", 25565),
        docker_image="img",
        startup="run",
        limits=Limits(memory_mb=512, disk_mb=1024),
        status=status,
        created_at="2026-12-01T00:00:00Z",
        updated_at="2026-12-01T00:00:00Z",
    )


class World:
    def __init__(self, limit: int = 10) -> None:
        self.repo = FakeScheduleRepository()
        self.trigger = FakeScheduleTrigger()
        self.servers = FakeServerRepository()
        self.workflows = FakeWorkflows()
        self.events = FakeEventPublisher()
        self.runner = FakeTaskRunner()
        self.limit = limit
        self.server = make_server()
        self.servers.add(self.server)
        self.ports = svc.SchedulePorts(
            schedules=self.repo,
            trigger=self.trigger,
            servers=self.servers,
            workflows=self.workflows,
            quotas=lambda tenant_id: Quotas(schedules_per_server=self.limit),
            events=self.events,
            now=lambda: NOW,
            runner=self.runner,
        )

    def create(self, tenant: TenantContext = OWNER, **changes: Any) -> svc.ScheduleView:
        body = {
            "name": "Nightly",
            "cron": {"minute": "0", "hour": "4", "day_of_month": "*", "month": "*", "day_of_week": "*"},
            "timezone": "Europe/Berlin",
            "enabled": True,
            "only_when_online": False,
            "tasks": [sch.Task("command", "say restarting"), sch.Task("power", "restart", time_offset_seconds=30)],
        } | changes
        return svc.create_schedule(self.ports, tenant, self.server.uuid, svc.ScheduleInput(**body))

    def drive(self, run: sch.Run) -> list[str]:
        """The ASL's path: Begin → (Wait offset → RunTask [→ CheckBackup...]) → Finish; a raised error
        goes to TaskFailed as the Catch would. Returns the waits taken, as "offset:<s>"/"poll"."""
        payload = self.workflows.started[-1][2]
        tasks, waits = payload["tasks"], []
        cursor = svc.task_begin(self.ports, run.id, tasks)
        while not cursor["done"]:
            waits.append(f"offset:{cursor['offset']}")
            try:
                cursor = svc.task_run(self.ports, run.id, tasks, cursor["index"])
                while cursor["await_backup"]:
                    waits.append("poll")
                    self.on_poll(cursor)
                    cursor = svc.task_check_backup(self.ports, run.id, tasks, cursor["index"])
            except DomainError as exc:
                error = {"Error": type(exc).__name__, "Cause": exc.message}
                cursor = svc.task_failed(self.ports, run.id, tasks, cursor["index"], readable_error(error))
        svc.task_finish(self.ports, run.id)
        return waits

    def on_poll(self, cursor: dict[str, Any]) -> None:
        for backup_id, (state, _) in self.runner.backups.items():
            if state == "running":
                self.runner.backups[backup_id] = ("completed", None)


@pytest.fixture
def world() -> World:
    return World()


# --- writing schedules ---------------------------------------------------------------------


def test_create_returns_the_next_five_runs_and_registers_the_scheduler_when_valid(world: World) -> None:
    created = world.create()
    assert [r.isoformat() for r in created.next_runs[:2]] == ["2026-12-06T03:00:00+00:00", "2026-12-07T03:00:00+00:00"]
    assert len(created.next_runs) == 5
    assert world.trigger.held[created.schedule.id] == (["cron(0 4 * * ? *)"], "Europe/Berlin", True)
    assert created.schedule.id.startswith("sch_")


def test_create_is_refused_at_the_plan_limit_when_the_server_has_its_schedules() -> None:
    world = World(limit=2)
    world.create()
    world.create()
    with pytest.raises(QuotaExceededError):
        world.create()
    assert len(world.trigger.held) == 2


def test_create_keeps_nothing_when_the_scheduler_refuses(world: World) -> None:
    world.trigger.fail = True
    with pytest.raises(DependencyUnavailableError):
        world.create()
    assert world.repo.schedules == {}


def test_create_is_refused_when_a_task_needs_a_permission_the_caller_lacks(world: World) -> None:
    no_console = replace(OWNER, permissions=OWNER.permissions - {"servers.console"})
    with pytest.raises(ForbiddenError) as caught:
        world.create(tenant=no_console)
    assert caught.value.details["permission"] == "servers.console"


def test_create_names_the_field_when_the_cron_is_invalid(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        world.create(cron={"minute": "61", "hour": "4", "day_of_month": "*", "month": "*", "day_of_week": "*"})
    assert caught.value.details["fields"][0]["field"] == "cron.minute"


def test_another_tenants_schedule_is_not_found_when_asked_for(world: World) -> None:
    created = world.create()
    with pytest.raises(NotFoundError):
        svc.get_schedule(world.ports, OTHER, world.server.uuid, created.schedule.id)
    with pytest.raises(NotFoundError):
        svc.run_now(world.ports, OTHER, world.server.uuid, created.schedule.id)


def test_disabling_disables_the_scheduler_and_empties_the_next_runs_when_patched(world: World) -> None:
    created = world.create()
    updated = svc.update_schedule(world.ports, OWNER, world.server.uuid, created.schedule.id, {"enabled": False})
    assert updated.next_runs == []
    assert world.trigger.held[created.schedule.id][2] is False


def test_update_puts_the_schedule_back_when_the_scheduler_refuses(world: World) -> None:
    created = world.create()
    world.trigger.fail = True
    with pytest.raises(DependencyUnavailableError):
        svc.update_schedule(world.ports, OWNER, world.server.uuid, created.schedule.id, {"name": "Renamed"})
    assert world.repo.get(world.server.uuid, created.schedule.id).name == "Nightly"  # type: ignore[union-attr]


def test_a_schedule_without_tasks_is_made_changed_and_run_only_when_allowed(world: World) -> None:
    # /v1 still needs a task; Pterodactyl's door makes the schedule first (allow_no_tasks)
    with pytest.raises(ValidationError):
        world.create(tasks=[])
    created = world.create(tasks=[], allow_no_tasks=True)
    assert created.schedule.tasks == () and created.schedule.id in world.trigger.held
    # Its other fields change without tasks; emptying a schedule's tasks needs the allowance
    renamed = svc.update_schedule(world.ports, OWNER, world.server.uuid, created.schedule.id, {"name": "Renamed"})
    assert renamed.schedule.name == "Renamed"
    full = world.create()
    with pytest.raises(ValidationError):
        svc.update_schedule(world.ports, OWNER, world.server.uuid, full.schedule.id, {"tasks": []})
    emptied = svc.update_schedule(
        world.ports, OWNER, world.server.uuid, full.schedule.id, {"tasks": []}, allow_no_tasks=True
    )
    assert emptied.schedule.tasks == ()
    # A run of a schedule without tasks starts and finishes at once, succeeded
    run = svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    assert world.drive(run) == []
    assert world.repo.get_run(run.id).status == sch.SUCCEEDED  # type: ignore[union-attr]


def test_delete_removes_the_scheduler_first_when_asked(world: World) -> None:
    created = world.create()
    svc.delete_schedule(world.ports, OWNER, world.server.uuid, created.schedule.id)
    assert world.trigger.held == {} and world.repo.schedules == {}


# --- runs --------------------------------------------------------------------------------------


def test_run_executes_the_tasks_in_order_with_their_offsets_when_all_succeed(world: World) -> None:
    created = world.create(
        tasks=[
            sch.Task("command", "say restarting"),
            sch.Task("power", "restart", time_offset_seconds=30),
            sch.Task("backup", "", time_offset_seconds=60),
        ]
    )
    run = svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    assert world.drive(run) == ["offset:0", "offset:30", "offset:60", "poll"]
    assert [c[0] for c in world.runner.calls] == ["command", "power", "backup"]
    done = world.repo.get_run(run.id)
    assert done is not None and done.status == "succeeded"
    assert [t.status for t in done.tasks] == ["succeeded", "succeeded", "succeeded"]
    assert done.tasks[2].backup_id == "bk-1"
    assert world.repo.get(world.server.uuid, created.schedule.id).last_run.status == "succeeded"  # type: ignore[union-attr]
    assert world.events.published == []


def test_run_stops_at_a_failed_task_and_emits_schedule_failed_once_when_it_fails(world: World) -> None:
    world.runner.failing["command"] = node_down()
    created = world.create()
    run = svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    world.drive(run)
    done = world.repo.get_run(run.id)
    assert done is not None and done.status == "failed"
    assert [(t.status, t.error) for t in done.tasks] == [("failed", "The node did not answer."), ("skipped", None)]
    assert world.runner.calls == [("command", "say restarting")]
    # The Catch's step retried: the same event id, so channels drop the repeat.
    tasks = world.workflows.started[-1][2]["tasks"]
    svc.task_failed(world.ports, run.id, tasks, 0, {"message": "The node did not answer."})
    failed = world.events.of_type("schedule.failed")
    assert len({e.id for e in failed}) == 1
    assert failed[0].payload == {
        "server_name": "Survival",
        "schedule_name": "Nightly",
        "task": "1: command",
        "reason": "The node did not answer.",
    }
    assert failed[0].tenant_id == "tn_a" and failed[0].server_id == world.server.uuid


def test_run_goes_on_after_a_failed_task_when_it_continues_on_failure(world: World) -> None:
    world.runner.failing["command"] = node_down()
    created = world.create(
        tasks=[sch.Task("command", "say hi", continue_on_failure=True), sch.Task("power", "restart")]
    )
    run = svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    world.drive(run)
    done = world.repo.get_run(run.id)
    assert done is not None and done.status == "failed"
    assert [t.status for t in done.tasks] == ["failed", "succeeded"]
    assert [c[0] for c in world.runner.calls] == ["command", "power"]


def test_backup_task_fails_the_run_when_its_backup_fails(world: World) -> None:
    created = world.create(tasks=[sch.Task("backup", "nightly")])
    run = svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    world.on_poll = lambda cursor: world.runner.backups.update({"bk-1": ("failed", "The node ran out of disk.")})  # type: ignore[method-assign]
    world.drive(run)
    done = world.repo.get_run(run.id)
    assert done is not None and done.tasks[0].status == "failed"
    assert done.tasks[0].error == "The node ran out of disk."
    assert world.events.of_type("schedule.failed")[0].payload["task"] == "1: backup"


def test_run_is_skipped_not_failed_when_the_server_is_offline_and_it_runs_only_when_online(world: World) -> None:
    world.runner.is_online = False
    created = world.create(only_when_online=True)
    run = svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    world.drive(run)
    done = world.repo.get_run(run.id)
    assert done is not None and done.status == "skipped"
    assert "offline" in (done.reason or "")
    assert world.runner.calls == [] and world.events.published == []


def test_run_never_starts_when_the_server_is_suspended(world: World) -> None:
    created = world.create()
    world.servers.save(replace(world.server, status="suspended"))
    run = svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    assert run.status == "skipped" and run.reason == "The server is suspended."
    assert world.workflows.started == []


def test_repeated_scheduled_delivery_starts_one_run_when_eventbridge_retries(world: World) -> None:
    created = world.create()
    args = (world.ports, "tn_a", world.server.uuid, created.schedule.id, "2026-12-06T03:00:00Z")
    first, second = svc.start_scheduled_run(*args), svc.start_scheduled_run(*args)
    assert first is not None and second is not None and first.id == second.id
    assert len(world.workflows.started) == 1
    assert first.trigger == "schedule"


def test_scheduled_delivery_starts_nothing_when_the_schedule_is_disabled_or_of_another_tenant(world: World) -> None:
    created = world.create(enabled=False)
    assert svc.start_scheduled_run(world.ports, "tn_a", world.server.uuid, created.schedule.id, "t") is None
    other = world.create()
    assert svc.start_scheduled_run(world.ports, "tn_b", world.server.uuid, other.schedule.id, "t") is None
    assert world.workflows.started == []


def test_retried_run_step_does_not_act_twice_when_its_outcome_is_recorded(world: World) -> None:
    created = world.create()
    run = svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    tasks = world.workflows.started[-1][2]["tasks"]
    svc.task_run(world.ports, run.id, tasks, 0)
    svc.task_run(world.ports, run.id, tasks, 0)
    assert world.runner.calls == [("command", "say restarting")]


def test_runs_are_paged_newest_first_when_listed(world: World) -> None:
    created = world.create()
    for i in range(3):
        world.ports = replace(world.ports, now=lambda i=i: datetime(2026, 12, 5, 10, i, tzinfo=UTC))
        world.drive(svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id))
    page = svc.list_runs(world.ports, OWNER, world.server.uuid, created.schedule.id, 2, None)
    assert [r.started_at for r in page.items] == ["2026-12-05T10:02:00Z", "2026-12-05T10:01:00Z"]
    rest = svc.list_runs(world.ports, OWNER, world.server.uuid, created.schedule.id, 2, page.next_cursor)
    assert [r.started_at for r in rest.items] == ["2026-12-05T10:00:00Z"] and rest.next_cursor is None


# --- the server's lifecycle -------------------------------------------------------------------


def test_server_suspension_pauses_and_unsuspension_resumes_its_schedules(world: World) -> None:
    created = world.create()
    assert svc.pause_with_server(world.ports, world.server.uuid, True) == 1
    assert world.trigger.held[created.schedule.id][2] is False
    assert svc.get_schedule(world.ports, OWNER, world.server.uuid, created.schedule.id).next_runs == []
    assert svc.pause_with_server(world.ports, world.server.uuid, True) == 0
    svc.pause_with_server(world.ports, world.server.uuid, False)
    assert world.trigger.held[created.schedule.id][2] is True


def test_server_deletion_deletes_its_schedules_and_their_scheduler_entries(world: World) -> None:
    world.create()
    world.create()
    assert svc.delete_with_server(world.ports, world.server.uuid) == 2
    assert world.trigger.held == {} and world.repo.schedules == {}
    assert svc.delete_with_server(world.ports, world.server.uuid) == 0


def test_viewer_cannot_write_schedule_tasks_when_the_role_lacks_them(world: World) -> None:
    with pytest.raises(ForbiddenError):
        world.create(tenant=VIEWER)


def test_run_now_is_a_conflict_while_the_last_run_is_under_way(world: World) -> None:
    created = world.create()
    first = svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    with pytest.raises(ConflictError):
        svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    world.drive(first)
    assert svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id).status == "running"


def test_a_scheduled_run_is_skipped_not_overlapped_when_the_previous_one_still_runs(world: World) -> None:
    created = world.create()
    running = svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    skipped = svc.start_scheduled_run(world.ports, "tn_a", world.server.uuid, created.schedule.id, "2026-12-06T03:00Z")
    assert skipped is not None and skipped.status == "skipped"
    assert skipped.reason == "The previous run was still running."
    assert len(world.workflows.started) == 1
    # The schedule still shows the run that is under way as its last run
    assert world.repo.get(world.server.uuid, created.schedule.id).last_run.id == running.id  # type: ignore[union-attr]


def test_a_run_left_running_for_hours_no_longer_blocks_the_next(world: World) -> None:
    created = world.create()
    svc.run_now(world.ports, OWNER, world.server.uuid, created.schedule.id)
    later = replace(world.ports, now=lambda: datetime(2026, 12, 5, 16, 0, tzinfo=UTC))
    assert svc.run_now(later, OWNER, world.server.uuid, created.schedule.id).status == "running"


def test_scheduled_delivery_starts_nothing_when_the_server_is_gone(world: World) -> None:
    created = world.create()
    world.servers.delete(world.server.uuid)
    assert svc.start_scheduled_run(world.ports, "tn_a", world.server.uuid, created.schedule.id, "t") is None
    assert world.workflows.started == [] and world.repo.run_records == {}
