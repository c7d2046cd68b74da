"""Schedules (issue 14; docs/schedules.md): the tenant's use cases, the start of a run (by
EventBridge Scheduler, the local timer or "run now") and the ``run_schedule`` workflow's steps.

A run is a workflow: ``begin`` (skip an offline server when ``only_when_online``), then per task
a wait of its offset and ``run_task``; a backup task starts the backup through the same use case
as the API (``backups.create_backup``: its quota, its lock, its own workflow and compensation)
and the run follows that backup until it ends (``check_backup``). A failed task is recorded with
its error (``task_failed``), emits ``schedule.failed`` and stops the run unless the task says
``continue_on_failure``; ``finish`` records the outcome. Every step is idempotent: a retried
step finds its task's outcome recorded and does not act twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from mamba.auth.context import TenantContext
from mamba.domain import schedules as sch
from mamba.domain import servers as srv
from mamba.domain.clock import iso, new_id
from mamba.domain.errors import (
    BackupFailedError,
    ConflictError,
    DomainError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from mamba.domain.events import make_event
from mamba.domain.servers import Server
from mamba.observability import logger
from mamba.ports import EventPublisher, QuotasOf, ServerRepository, Workflows

if TYPE_CHECKING:
    from mamba.services.backups import BackupPorts
    from mamba.services.server_control import Ports as ControlPorts

WORKFLOW = "run_schedule"
# The permission each task's action needs, checked when a schedule is written: holding
# ``schedules.write`` must not let a member do by schedule what they may not do by hand.
ACTION_PERMISSIONS = {"command": "servers.console", "power": "servers.power", "backup": "backups.create"}
# What a run may do on the tenant's behalf: exactly what its tasks can ask for.
RUN_PERMISSIONS = frozenset({"servers.read", "backups.read", *ACTION_PERMISSIONS.values()})
# A schedule exists for a server that exists; these statuses are leaving or never arrived.
WRITABLE_FROM = tuple(s for s in srv.STATUSES if s not in (srv.DELETING, srv.FAILED))
ONLINE = (srv.RUNNING, srv.STARTING)


class ScheduleRepository(Protocol):
    """``DynamoScheduleRepository``: schedules (with a per-server count) and their runs."""

    def add(self, schedule: sch.Schedule, limit: int) -> None: ...
    def get(self, server_id: str, schedule_id: str) -> sch.Schedule | None: ...
    def of_server(self, server_id: str) -> list[sch.Schedule]: ...
    def save(self, schedule: sch.Schedule) -> None: ...
    def set_last_run(self, server_id: str, schedule_id: str, last_run: sch.LastRun) -> None: ...
    def delete(self, server_id: str, schedule_id: str) -> bool: ...
    def add_run(self, run: sch.Run) -> bool: ...
    def get_run(self, run_id: str) -> sch.Run | None: ...
    def save_run(self, run: sch.Run) -> None: ...
    def runs(self, schedule_id: str, limit: int, cursor: str | None) -> sch.RunPage: ...


class ScheduleTrigger(Protocol):
    """``EventBridgeScheduleTrigger``: what starts a schedule's runs in production."""

    def put(self, schedule: sch.Schedule) -> None:
        """Create or update (enabled or not); DependencyUnavailableError when the scheduler refuses."""

    def delete(self, schedule_id: str) -> None:
        """Delete; a schedule that is not there is deleted already."""


class TaskRunner(Protocol):
    """What a task does on the server: the same use cases as the API's power, console and backup routes."""

    def command(self, tenant: TenantContext, server_id: str, command: str) -> None: ...
    def power(self, tenant: TenantContext, server_id: str, action: str) -> None: ...
    def online(self, tenant: TenantContext, server_id: str) -> bool: ...
    def start_backup(self, tenant: TenantContext, server_id: str, name: str) -> str:
        """Start a backup (quota, lock and workflow as the API's); returns its id."""

    def backup_outcome(self, backup_id: str) -> tuple[str, str | None]:
        """``("running"|"completed"|"failed", error)``; a vanished backup is failed."""


@dataclass(frozen=True)
class SchedulePorts:
    schedules: ScheduleRepository
    trigger: ScheduleTrigger
    servers: ServerRepository
    workflows: Workflows
    quotas: QuotasOf
    events: EventPublisher
    now: Callable[[], datetime]  # aware, UTC
    runner: TaskRunner | None = None  # the workflow's steps only
    # How long the workflow waits between two looks at a running backup (seconds).
    backup_poll_seconds: int = 15


@dataclass(frozen=True)
class ScheduleInput:
    name: str
    cron: dict[str, str]
    timezone: str
    enabled: bool
    only_when_online: bool
    tasks: list[sch.Task]
    # Pterodactyl's API makes a schedule before its tasks (mamba.services.pterodactyl.schedules).
    allow_no_tasks: bool = False


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as the API shows it: the record plus its next runs."""

    schedule: sch.Schedule
    next_runs: list[datetime]


def _now(ports: SchedulePorts) -> str:
    return iso(ports.now())


def _epoch(ports: SchedulePorts) -> int:
    return int(ports.now().timestamp())


def view(ports: SchedulePorts, schedule: sch.Schedule) -> ScheduleView:
    runs = sch.next_runs(schedule.cron, schedule.timezone, ports.now()) if schedule.active else []
    return ScheduleView(schedule, runs)


# --- the tenant's use cases ------------------------------------------------------------------


def _server(ports: SchedulePorts, tenant: TenantContext, server_id: str) -> Server:
    from mamba.services.servers import get_server

    return get_server(ports.servers, tenant, server_id)


def _find(ports: SchedulePorts, tenant: TenantContext, server_id: str, schedule_id: str) -> sch.Schedule:
    server = _server(ports, tenant, server_id)
    schedule = ports.schedules.get(server.uuid, schedule_id) if schedule_id.startswith("sch_") else None
    if schedule is None or schedule.tenant_id != tenant.tenant_id:
        raise NotFoundError("Schedule not found.", {"schedule_id": schedule_id})
    return schedule


def _check_may_run(tenant: TenantContext, tasks: tuple[sch.Task, ...]) -> None:
    for index, task in enumerate(tasks):
        needed = ACTION_PERMISSIONS[task.action]
        if needed not in tenant.permissions:
            raise ForbiddenError(
                f"A {task.action} task needs the {needed} permission, which you do not have.",
                {"permission": needed, "field": f"tasks.{index}.action"},
            )


def _validated(ports: SchedulePorts, body: ScheduleInput) -> tuple[sch.Cron, tuple[sch.Task, ...]]:
    name = body.name.strip()
    if not name or len(name) > 100:
        raise ValidationError(
            "name must be 1 to 100 characters.", {"fields": [{"field": "name", "message": "1 to 100 characters"}]}
        )
    missing = [n for n in sch.FIELD_NAMES if n not in body.cron]
    if missing:
        raise ValidationError(
            f"cron needs {', '.join(missing)}.",
            {"fields": [{"field": f"cron.{n}", "message": "is required"} for n in missing]},
        )
    cron = sch.parse_cron(**{n: str(body.cron[n]) for n in sch.FIELD_NAMES})
    sch.zone(body.timezone)
    sch.require_runs(cron, body.timezone, ports.now())
    return cron, sch.check_tasks(body.tasks, allow_empty=body.allow_no_tasks)


def create_schedule(ports: SchedulePorts, tenant: TenantContext, server_id: str, body: ScheduleInput) -> ScheduleView:
    """Validate, store within the plan's schedules per server, then register it with the scheduler.

    Raises NotFoundError (server), ValidationError (cron, time zone, tasks), ForbiddenError (a
    task the caller may not do by hand), QuotaExceededError, ConflictError (server leaving),
    DependencyUnavailableError (scheduler: nothing is kept)."""
    server = _server(ports, tenant, server_id)
    srv.require_status(server, *WRITABLE_FROM)
    cron, tasks = _validated(ports, body)
    _check_may_run(tenant, tasks)
    now = _now(ports)
    schedule = sch.Schedule(
        id=new_id("sch"),
        tenant_id=tenant.tenant_id,
        server_id=server.uuid,
        name=body.name.strip(),
        cron=cron,
        timezone=body.timezone,
        enabled=body.enabled,
        only_when_online=body.only_when_online,
        tasks=tasks,
        created_at=now,
        updated_at=now,
        paused=server.suspended,
    )
    limit = ports.quotas(tenant.tenant_id).schedules_per_server
    sch.check_count(limit, len(ports.schedules.of_server(server.uuid)))
    ports.schedules.add(schedule, limit)
    try:
        ports.trigger.put(schedule)
    except Exception:
        # Nothing half-made: a schedule the scheduler does not know would never run.
        ports.schedules.delete(server.uuid, schedule.id)
        raise
    return view(ports, schedule)


def list_schedules(ports: SchedulePorts, tenant: TenantContext, server_id: str) -> list[ScheduleView]:
    server = _server(ports, tenant, server_id)
    return [view(ports, s) for s in ports.schedules.of_server(server.uuid) if s.tenant_id == tenant.tenant_id]


def get_schedule(ports: SchedulePorts, tenant: TenantContext, server_id: str, schedule_id: str) -> ScheduleView:
    return view(ports, _find(ports, tenant, server_id, schedule_id))


def update_schedule(
    ports: SchedulePorts,
    tenant: TenantContext,
    server_id: str,
    schedule_id: str,
    changes: dict[str, Any],
    *,
    allow_no_tasks: bool = False,
) -> ScheduleView:
    """Apply the given fields (the others stay); the scheduler follows. When the scheduler
    refuses, the stored schedule is put back (DependencyUnavailableError). A schedule left
    without tasks (made through Pterodactyl's API) may change its other fields; setting the
    tasks to none needs ``allow_no_tasks``."""
    current = _find(ports, tenant, server_id, schedule_id)
    merged = ScheduleInput(
        name=str(changes.get("name", current.name)),
        cron=dict(changes.get("cron") or current.cron.fields()),
        timezone=str(changes.get("timezone", current.timezone)),
        enabled=bool(changes.get("enabled", current.enabled)),
        only_when_online=bool(changes.get("only_when_online", current.only_when_online)),
        tasks=list(changes["tasks"]) if "tasks" in changes else list(current.tasks),
        allow_no_tasks=allow_no_tasks or "tasks" not in changes,
    )
    cron, tasks = _validated(ports, merged)
    if "tasks" in changes:
        _check_may_run(tenant, tasks)
    updated = replace(
        current,
        name=merged.name.strip(),
        cron=cron,
        timezone=merged.timezone,
        enabled=merged.enabled,
        only_when_online=merged.only_when_online,
        tasks=tasks,
        updated_at=_now(ports),
    )
    ports.schedules.save(updated)
    try:
        ports.trigger.put(updated)
    except Exception:
        ports.schedules.save(current)
        raise
    return view(ports, updated)


def delete_schedule(ports: SchedulePorts, tenant: TenantContext, server_id: str, schedule_id: str) -> None:
    """The scheduler's schedules first, so no run starts for a schedule that is going; a run
    under way finishes (its record stays until its TTL)."""
    schedule = _find(ports, tenant, server_id, schedule_id)
    ports.trigger.delete(schedule.id)
    ports.schedules.delete(schedule.server_id, schedule.id)


def _busy(ports: SchedulePorts, schedule: sch.Schedule) -> bool:
    """Whether the schedule's last run is still running (and not so old that it must have died)."""
    last = schedule.last_run
    if last is None or last.status != sch.RUNNING:
        return False
    started = datetime.fromisoformat(last.started_at.replace("Z", "+00:00"))
    return (ports.now() - started).total_seconds() < sch.STALE_RUN_SECONDS


def run_now(ports: SchedulePorts, tenant: TenantContext, server_id: str, schedule_id: str) -> sch.Run:
    """Start a run at once, whatever the cron and ``enabled`` say (202 with the run). One run of
    a schedule at a time: ConflictError while the last one runs."""
    schedule = _find(ports, tenant, server_id, schedule_id)
    if _busy(ports, schedule):
        raise ConflictError(
            "A run of this schedule is under way; run it again once it has finished.",
            {"schedule_id": schedule.id, "run_id": schedule.last_run.id if schedule.last_run else None},
        )
    return start_run(ports, schedule, new_id("run"), "manual")


def list_runs(
    ports: SchedulePorts, tenant: TenantContext, server_id: str, schedule_id: str, limit: int, cursor: str | None
) -> sch.RunPage:
    """One page of the schedule's runs, newest first. The schedule itself is read only when the
    page shows nothing of this server's (to answer 404 for a schedule that is not there): a
    history page costs the guard (which brings the server) and the Query."""
    server = _server(ports, tenant, server_id)
    page = ports.schedules.runs(schedule_id, limit, cursor) if schedule_id.startswith("sch_") else sch.RunPage([], None)
    now = _epoch(ports)
    items = [
        r
        for r in page.items
        if r.server_id == server.uuid
        and r.tenant_id == tenant.tenant_id
        # DynamoDB deletes expired items late (up to days): a run past its 90 days is not shown.
        and (not r.expires_at or r.expires_at > now)
    ]
    if not items:
        _find(ports, tenant, server_id, schedule_id)
        return sch.RunPage(items=[], next_cursor=page.next_cursor if page.items else None)
    return sch.RunPage(items=items, next_cursor=page.next_cursor)


# --- starting a run --------------------------------------------------------------------------


def _summary(run: sch.Run) -> sch.LastRun:
    return sch.LastRun(id=run.id, status=run.status, started_at=run.started_at, finished_at=run.finished_at)


def start_run(ports: SchedulePorts, schedule: sch.Schedule, run_id: str, trigger: str) -> sch.Run:
    """Record the run and start its workflow (named after the run). A repeated start of the
    same run id returns the recorded run. A suspended server's run is recorded as skipped and
    no workflow starts."""
    existing = ports.schedules.get_run(run_id)
    if existing is not None:
        return existing
    # The server first: a run is recorded only for a server that exists.
    server = ports.servers.get(schedule.server_id)
    run = sch.new_run(run_id, schedule, trigger, _now(ports), _epoch(ports))
    if not ports.schedules.add_run(run):
        return ports.schedules.get_run(run_id) or run
    if server.suspended:
        return _end(ports, run, sch.SKIPPED, "The server is suspended.")
    if trigger == "schedule" and _busy(ports, schedule):
        # Runs never overlap (a restart in the middle of a backup): this one is recorded as skipped.
        return _end(ports, run, sch.SKIPPED, "The previous run was still running.", last=False)
    payload = {
        "run_id": run.id,
        "tenant_id": schedule.tenant_id,
        "server_id": schedule.server_id,
        "schedule_id": schedule.id,
        "poll_seconds": ports.backup_poll_seconds,
        "tasks": [
            {
                "index": i,
                "action": t.action,
                "payload": t.payload,
                "time_offset_seconds": t.time_offset_seconds,
                "continue_on_failure": t.continue_on_failure,
            }
            for i, t in enumerate(schedule.tasks)
        ],
    }
    try:
        ports.workflows.start(WORKFLOW, run.id, payload)
    except DomainError as exc:
        _end(ports, run, sch.FAILED, f"The run could not be started: {exc.message}")
        raise
    ports.schedules.set_last_run(schedule.server_id, schedule.id, _summary(run))
    return run


def start_scheduled_run(
    ports: SchedulePorts, tenant_id: str, server_id: str, schedule_id: str, scheduled_time: str
) -> sch.Run | None:
    """EventBridge's (or the local timer's) invocation. None when there is nothing to run: the
    schedule is gone, disabled or paused, or names another tenant (a stale target)."""
    schedule = ports.schedules.get(server_id, schedule_id)
    if schedule is None or schedule.tenant_id != tenant_id or not schedule.active:
        logger.info("scheduled run not started", extra={"schedule_id": schedule_id, "found": schedule is not None})
        return None
    try:
        return start_run(ports, schedule, sch.scheduled_run_id(schedule_id, scheduled_time), "schedule")
    except NotFoundError:
        # The server is gone and its schedules with it (delete_server): nothing to retry.
        logger.info("scheduled run not started: the server is gone", extra={"schedule_id": schedule_id})
        return None


# --- the run_schedule workflow's steps -------------------------------------------------------


def _run(ports: SchedulePorts, run_id: str) -> sch.Run:
    run = ports.schedules.get_run(run_id)
    if run is None:
        raise NotFoundError("Run not found.", {"run_id": run_id})
    return run


def _tenant(run: sch.Run) -> TenantContext:
    """The run acts for its tenant with only what its tasks need, on its server only."""
    return TenantContext(
        tenant_id=run.tenant_id, role="schedule", permissions=RUN_PERMISSIONS, server_scope=run.server_id
    )


def _runner(ports: SchedulePorts) -> TaskRunner:
    if ports.runner is None:
        raise RuntimeError("the workflow's steps need a TaskRunner")
    return ports.runner


def _end(ports: SchedulePorts, run: sch.Run, status: str, reason: str | None = None, *, last: bool = True) -> sch.Run:
    """Record the run's end; ``last`` False leaves the schedule's last run alone (a run skipped
    because another one runs must not hide that one)."""
    ended = sch.finished(run, status, _now(ports), reason)
    ports.schedules.save_run(ended)
    if last:
        ports.schedules.set_last_run(run.server_id, run.schedule_id, _summary(ended))
    return ended


def _cursor(tasks: list[dict[str, Any]], index: int, done: bool = False) -> dict[str, Any]:
    """Where the workflow goes next: the task at ``index`` after its offset, or the end."""
    if done or index >= len(tasks):
        return {"done": True, "index": index, "offset": 0, "await_backup": False}
    return {"done": False, "index": index, "offset": int(tasks[index]["time_offset_seconds"]), "await_backup": False}


def task_begin(ports: SchedulePorts, run_id: str, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """Skip (recorded as skipped, not failed) a suspended server, or an offline one when the
    schedule runs only when online; otherwise go to the first task."""
    run = _run(ports, run_id)
    if run.status != sch.RUNNING:
        return _cursor(tasks, len(tasks), done=True)
    server = ports.servers.get(run.server_id)
    if server.suspended:
        _end(ports, run, sch.SKIPPED, "The server is suspended.")
        return _cursor(tasks, len(tasks), done=True)
    schedule = ports.schedules.get(run.server_id, run.schedule_id)
    if schedule is not None and schedule.only_when_online and not _runner(ports).online(_tenant(run), run.server_id):
        _end(ports, run, sch.SKIPPED, "The server was offline and the schedule runs only when it is online.")
        return _cursor(tasks, len(tasks), done=True)
    return _cursor(tasks, 0)


def task_run(ports: SchedulePorts, run_id: str, tasks: list[dict[str, Any]], index: int) -> dict[str, Any]:
    """Run task ``index``; a backup task only starts its backup (``check_backup`` follows it).
    A task already recorded (a retried step) is not run again."""
    run = _run(ports, run_id)
    task = tasks[index]
    outcome = run.tasks[index]
    runner = _runner(ports)
    if outcome.status in (sch.SUCCEEDED, sch.FAILED):
        return _cursor(tasks, index + 1)
    if outcome.backup_id:
        return {**_cursor(tasks, index), "await_backup": True}
    started = _now(ports)
    run = sch.with_task(run, index, status=sch.RUNNING, started_at=outcome.started_at or started)
    ports.schedules.save_run(run)
    tenant = _tenant(run)
    if task["action"] == "command":
        runner.command(tenant, run.server_id, str(task["payload"]))
    elif task["action"] == "power":
        runner.power(tenant, run.server_id, str(task["payload"]))
    else:
        name = str(task["payload"] or "").strip() or f"Scheduled {started[:16].replace('T', ' ')}"
        backup_id = runner.start_backup(tenant, run.server_id, name)
        ports.schedules.save_run(sch.with_task(run, index, backup_id=backup_id))
        return {**_cursor(tasks, index), "await_backup": True}
    ports.schedules.save_run(sch.with_task(run, index, status=sch.SUCCEEDED, finished_at=_now(ports)))
    return _cursor(tasks, index + 1)


def task_check_backup(ports: SchedulePorts, run_id: str, tasks: list[dict[str, Any]], index: int) -> dict[str, Any]:
    """The backup task's backup: still running (look again later), completed (next task) or
    failed (BackupFailedError, caught by the workflow as the task's failure)."""
    run = _run(ports, run_id)
    outcome = run.tasks[index]
    if outcome.status in (sch.SUCCEEDED, sch.FAILED) or not outcome.backup_id:
        return _cursor(tasks, index + 1)
    state, error = _runner(ports).backup_outcome(outcome.backup_id)
    if state == "running":
        return {**_cursor(tasks, index), "await_backup": True}
    if state == "failed":
        raise BackupFailedError(error or "The backup failed.", {"backup_id": outcome.backup_id})
    ports.schedules.save_run(sch.with_task(run, index, status=sch.SUCCEEDED, finished_at=_now(ports)))
    return _cursor(tasks, index + 1)


def task_failed(
    ports: SchedulePorts, run_id: str, tasks: list[dict[str, Any]], index: int, error: dict[str, str]
) -> dict[str, Any]:
    """Record task ``index`` as failed with its readable error, emit ``schedule.failed`` (one
    per run and task, whatever the retries), and go on only when the task says so."""
    run = _run(ports, run_id)
    message = error.get("message") or "The task failed."
    if run.tasks[index].status != sch.FAILED:
        run = sch.with_task(run, index, status=sch.FAILED, error=message, finished_at=_now(ports))
        ports.schedules.save_run(run)
    schedule = ports.schedules.get(run.server_id, run.schedule_id)
    try:
        server_name = ports.servers.get(run.server_id).name
    except NotFoundError:
        server_name = run.server_id
    event = make_event(
        "schedule.failed",
        dedupe_key=f"{run.id}:{index}",
        occurred_at=_now(ports),
        tenant_id=run.tenant_id,
        server_id=run.server_id,
        payload={
            "server_name": server_name,
            "schedule_name": schedule.name if schedule else run.schedule_id,
            "task": f"{index + 1}: {tasks[index]['action']}",
            "reason": message,
        },
    )
    try:
        ports.events.publish([event])
    except DomainError:
        # The run's history holds the failure; a lost notification must not fail the run twice.
        logger.warning("schedule.failed not queued", extra={"run_id": run.id})
    return _cursor(tasks, index + 1, done=not bool(tasks[index].get("continue_on_failure")))


def task_finish(ports: SchedulePorts, run_id: str) -> dict[str, Any]:
    """The outcome: failed when a task failed, otherwise succeeded (a run already ended stays)."""
    run = _run(ports, run_id)
    if run.status == sch.RUNNING:
        run = _end(ports, run, sch.outcome_status(run))
    return {"status": run.status}


def task_abort(ports: SchedulePorts, run_id: str, error: dict[str, str]) -> dict[str, Any]:
    """A step itself failed (not a task): the run is failed with the reason, never left running."""
    run = _run(ports, run_id)
    if run.status == sch.RUNNING:
        run = _end(ports, run, sch.FAILED, error.get("message") or "The run failed.")
    return {"status": run.status}


# --- the server's lifecycle ------------------------------------------------------------------


def delete_with_server(ports: SchedulePorts, server_id: str) -> int:
    """A deleted server's schedules go with it (the scheduler's first). Idempotent."""
    removed = 0
    for schedule in ports.schedules.of_server(server_id):
        ports.trigger.delete(schedule.id)
        ports.schedules.delete(server_id, schedule.id)
        removed += 1
    return removed


def pause_with_server(ports: SchedulePorts, server_id: str, paused: bool) -> int:
    """A suspended server's schedules are paused (their EventBridge schedules disabled), and
    resumed when it is unsuspended. Idempotent."""
    changed = 0
    for schedule in ports.schedules.of_server(server_id):
        if schedule.paused == paused:
            continue
        updated = replace(schedule, paused=paused)
        ports.trigger.put(updated)
        ports.schedules.save(updated)
        changed += 1
    return changed


# --- the real task runner ----------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceTaskRunner:
    """Tasks through the API's own use cases: power and console (``server_control``) and backups
    (``backups.create_backup``, so a scheduled backup counts against the same quota and lock,
    and runs the same ``backup_server`` workflow with its compensation)."""

    control: ControlPorts
    backups: BackupPorts

    def command(self, tenant: TenantContext, server_id: str, command: str) -> None:
        from mamba.services import server_control

        server_control.send_command(self.control, tenant, server_id, command)

    def power(self, tenant: TenantContext, server_id: str, action: str) -> None:
        from mamba.services import server_control

        server_control.power(self.control, tenant, server_id, action)

    def online(self, tenant: TenantContext, server_id: str) -> bool:
        from mamba.services import server_control

        server = server_control.tenant_server(self.control, tenant, server_id)
        if server.status not in server_control.ON_NODE:
            return False
        # What Wings reports now, not the last reconciled status (a minute old at worst).
        return server_control.resources(self.control, tenant, server_id)["state"] in ONLINE

    def start_backup(self, tenant: TenantContext, server_id: str, name: str) -> str:
        from mamba.services import backups

        backup, _ = backups.create_backup(self.backups, tenant, server_id, name, None)
        return str(backup.uuid)

    def backup_outcome(self, backup_id: str) -> tuple[str, str | None]:
        from mamba.domain import backups as bk

        try:
            backup = self.backups.backups.get(backup_id)
        except NotFoundError:
            return "failed", "The backup was deleted before it completed."
        if backup.status == bk.COMPLETED:
            return "completed", None
        if backup.status in bk.RUNNING:
            return "running", None
        return "failed", backup.error or f"The backup ended {backup.status}."
