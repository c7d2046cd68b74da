"""A server's schedules and their tasks through Pterodactyl's client API
(``/api/client/servers/{server}/schedules``).

Every change is ``mamba.services.schedules``, the use cases /v1's schedule routes call: cron
validation, the plan's schedules per server, the scheduler registration (with its rollback),
the rule that a task may do only what its author may do by hand, and "run now". What is
Pterodactyl's here:

* **Integer ids.** A schedule's id is handed out by ``PteroIds`` (kind ``schedule``, scoped to
  its server), a task's by kind ``task`` scoped to its schedule; a task made through this door
  keeps its own id inside the schedule (``Task.id``), so its number survives its neighbours'
  changes. A task made on /v1 (which replaces the whole list) is known by its place.
* **Tasks one at a time.** Pterodactyl makes a schedule first and adds its tasks after, so a
  schedule may have none here (its run does nothing; ``execute`` refuses it, as Pterodactyl).
  ``sequence_id`` is the task's place (from 1); a task given one is put there.
* **The time zone** of a schedule made here is UTC (Pterodactyl runs cron in the panel's zone,
  UTC by default); a schedule keeps the zone it has when it is changed here.
* **A backup task's payload** is, on Pterodactyl, the files the backup ignores; Mamba's backup
  task takes a name instead, so it is not kept (the backup ignores what the server's own
  settings say) and the task answers ``""``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from mamba.auth.context import TenantContext
from mamba.domain import schedules as sch
from mamba.domain.clock import new_id
from mamba.domain.errors import DomainError, NotFoundError
from mamba.domain.pterodactyl import iso, item, plain_list
from mamba.ports import PteroIds
from mamba.services import schedules as service
from mamba.services.schedules import SchedulePorts, ScheduleView

TIMEZONE = "UTC"
NOT_FOUND = "The requested resource could not be found on the server."


class ScheduleRefusedError(DomainError):
    """What Pterodactyl answers 400 for: a task beyond the schedule's 10, or running a schedule
    that is inactive or has no tasks."""

    status = 400
    code = "SCHEDULE_REFUSED"


@dataclass(frozen=True)
class ScheduleChange:
    """Pterodactyl's schedule body: every field is sent on create and on update."""

    name: str
    minute: str
    hour: str
    day_of_month: str
    month: str
    day_of_week: str
    is_active: bool
    only_when_online: bool

    def cron(self) -> dict[str, str]:
        return {
            "minute": self.minute,
            "hour": self.hour,
            "day_of_month": self.day_of_month,
            "month": self.month,
            "day_of_week": self.day_of_week,
        }


@dataclass(frozen=True)
class TaskChange:
    action: str
    payload: str | None
    time_offset: int
    sequence_id: int | None
    continue_on_failure: bool


# --- shapes -----------------------------------------------------------------------------------


def _task_ref(schedule: sch.Schedule, index: int, task: sch.Task) -> str:
    """A task's id for ``PteroIds``: its own, or (made on /v1) its place in the schedule."""
    return task.id or f"{schedule.id}#{index}"


def _processing(schedule: sch.Schedule, now: datetime) -> bool:
    last = schedule.last_run
    if last is None or last.status != sch.RUNNING:
        return False
    started = datetime.fromisoformat(last.started_at.replace("Z", "+00:00"))
    return (now - started).total_seconds() < sch.STALE_RUN_SECONDS


def _task_object(schedule: sch.Schedule, index: int, task: sch.Task, number: int) -> dict[str, Any]:
    return item(
        "schedule_task",
        {
            "id": number,
            "sequence_id": index + 1,
            "action": task.action,
            "payload": "" if task.action == "backup" else task.payload,
            "time_offset": int(task.time_offset_seconds),
            "is_queued": False,
            "continue_on_failure": bool(task.continue_on_failure),
            "created_at": iso(schedule.created_at),
            "updated_at": iso(schedule.updated_at),
        },
    )


def _schedule_objects(ids: PteroIds, ports: SchedulePorts, views: list[ScheduleView]) -> list[dict[str, Any]]:
    """Each schedule with its tasks (Pterodactyl's default include): two batch reads of ids."""
    schedule_ids = ids.numbers("schedule", {v.schedule.id: v.schedule.server_id for v in views}) if views else {}
    refs = {_task_ref(v.schedule, i, t): v.schedule.id for v in views for i, t in enumerate(v.schedule.tasks)}
    task_ids = ids.numbers("task", refs) if refs else {}
    now = ports.now()
    shaped = []
    for view in views:
        schedule = view.schedule
        tasks = [
            _task_object(schedule, i, t, task_ids[_task_ref(schedule, i, t)].number)
            for i, t in enumerate(schedule.tasks)
        ]
        shaped.append(
            item(
                "server_schedule",
                {
                    "id": schedule_ids[schedule.id].number,
                    "name": schedule.name,
                    "cron": {
                        "day_of_week": schedule.cron.day_of_week,
                        "day_of_month": schedule.cron.day_of_month,
                        "month": schedule.cron.month,
                        "hour": schedule.cron.hour,
                        "minute": schedule.cron.minute,
                    },
                    "is_active": schedule.enabled,
                    "is_processing": _processing(schedule, now),
                    "only_when_online": schedule.only_when_online,
                    "last_run_at": iso(schedule.last_run.started_at) if schedule.last_run else None,
                    "next_run_at": iso(view.next_runs[0]) if view.next_runs else None,
                    "created_at": iso(schedule.created_at),
                    "updated_at": iso(schedule.updated_at),
                },
                {"tasks": plain_list(tasks)},
            )
        )
    return shaped


def _one(ids: PteroIds, ports: SchedulePorts, view: ScheduleView) -> dict[str, Any]:
    return _schedule_objects(ids, ports, [view])[0]


# --- look-ups ---------------------------------------------------------------------------------


def _schedule_id(ids: PteroIds, server_uuid: str, number: str) -> str:
    """The schedule behind Pterodactyl's integer id, if it belongs to this server (404 otherwise)."""
    found = ids.by_number("schedule", int(number)) if number.isdigit() else None
    if found is None or found.scope != server_uuid:
        raise NotFoundError(NOT_FOUND, {"schedule": number})
    return found.ref


def _task_index(ids: PteroIds, schedule: sch.Schedule, number: str) -> int:
    found = ids.by_number("task", int(number)) if number.isdigit() else None
    if found is not None and found.scope == schedule.id:
        for index, task in enumerate(schedule.tasks):
            if _task_ref(schedule, index, task) == found.ref:
                return index
    raise NotFoundError(NOT_FOUND, {"task": number})


def _with_own_ids(schedule: sch.Schedule) -> list[sch.Task]:
    """The tasks, each with an id of its own: a task made on /v1 takes its place's, so the
    integer id it has been shown stays its own when its neighbours move."""
    return [t if t.id else replace(t, id=_task_ref(schedule, i, t)) for i, t in enumerate(schedule.tasks)]


# --- use cases --------------------------------------------------------------------------------


def list_schedules(ids: PteroIds, ports: SchedulePorts, tenant: TenantContext, server_uuid: str) -> dict[str, Any]:
    views = service.list_schedules(ports, tenant, server_uuid)
    views.sort(key=lambda v: v.schedule.created_at)
    return plain_list(_schedule_objects(ids, ports, views))


def get_schedule(
    ids: PteroIds, ports: SchedulePorts, tenant: TenantContext, server_uuid: str, number: str
) -> dict[str, Any]:
    view = service.get_schedule(ports, tenant, server_uuid, _schedule_id(ids, server_uuid, number))
    return _one(ids, ports, view)


def create_schedule(
    ids: PteroIds, ports: SchedulePorts, tenant: TenantContext, server_uuid: str, body: ScheduleChange
) -> dict[str, Any]:
    made = service.create_schedule(
        ports,
        tenant,
        server_uuid,
        service.ScheduleInput(
            name=body.name,
            cron=body.cron(),
            timezone=TIMEZONE,
            enabled=body.is_active,
            only_when_online=body.only_when_online,
            tasks=[],
            allow_no_tasks=True,
        ),
    )
    return _one(ids, ports, made)


def update_schedule(
    ids: PteroIds, ports: SchedulePorts, tenant: TenantContext, server_uuid: str, number: str, body: ScheduleChange
) -> dict[str, Any]:
    changes = {
        "name": body.name,
        "cron": body.cron(),
        "enabled": body.is_active,
        "only_when_online": body.only_when_online,
    }
    schedule_id = _schedule_id(ids, server_uuid, number)
    return _one(ids, ports, service.update_schedule(ports, tenant, server_uuid, schedule_id, changes))


def delete_schedule(ids: PteroIds, ports: SchedulePorts, tenant: TenantContext, server_uuid: str, number: str) -> None:
    schedule_id = _schedule_id(ids, server_uuid, number)
    service.delete_schedule(ports, tenant, server_uuid, schedule_id)
    found = ids.by_number("schedule", int(number))
    if found is not None:
        ids.forget(found)


def execute(ids: PteroIds, ports: SchedulePorts, tenant: TenantContext, server_uuid: str, number: str) -> None:
    """Run now, as Pterodactyl: refused (400) for an inactive schedule or one without tasks."""
    schedule_id = _schedule_id(ids, server_uuid, number)
    schedule = service.get_schedule(ports, tenant, server_uuid, schedule_id).schedule
    if not schedule.enabled:
        raise ScheduleRefusedError(
            "Cannot trigger schedule execution for a schedule that is not currently active.", {"schedule": number}
        )
    if not schedule.tasks:
        raise ScheduleRefusedError(
            "Cannot process schedule for task execution: no tasks are registered.", {"schedule": number}
        )
    service.run_now(ports, tenant, server_uuid, schedule_id)


def _task(change: TaskChange, task_id: str) -> sch.Task:
    return sch.Task(
        action=change.action,
        # A backup task's Pterodactyl payload (ignored files) has no place in Mamba's (a name).
        payload="" if change.action == "backup" else (change.payload or ""),
        time_offset_seconds=change.time_offset,
        continue_on_failure=change.continue_on_failure,
        id=task_id,
    )


def _place(tasks: list[sch.Task], task: sch.Task, sequence_id: int | None) -> list[sch.Task]:
    at = len(tasks) if sequence_id is None else max(0, min(sequence_id - 1, len(tasks)))
    return [*tasks[:at], task, *tasks[at:]]


def _save_tasks(
    ports: SchedulePorts, tenant: TenantContext, server_uuid: str, schedule: sch.Schedule, tasks: list[sch.Task]
) -> sch.Schedule:
    """The whole list through /v1's update (its validation, the authors' rights, the scheduler)."""
    view = service.update_schedule(ports, tenant, server_uuid, schedule.id, {"tasks": tasks}, allow_no_tasks=True)
    return view.schedule


def create_task(
    ids: PteroIds, ports: SchedulePorts, tenant: TenantContext, server_uuid: str, number: str, change: TaskChange
) -> dict[str, Any]:
    """Add a task (at ``sequence_id`` when given); 400 beyond the schedule's ``MAX_TASKS``."""
    schedule_id = _schedule_id(ids, server_uuid, number)
    schedule = service.get_schedule(ports, tenant, server_uuid, schedule_id).schedule
    if len(schedule.tasks) >= sch.MAX_TASKS:
        raise ScheduleRefusedError(
            f"Schedules may not have more than {sch.MAX_TASKS} tasks associated with them.", {"schedule": number}
        )
    task_id = new_id("tsk")
    placed = _place(_with_own_ids(schedule), _task(change, task_id), change.sequence_id)
    saved = _save_tasks(ports, tenant, server_uuid, schedule, placed)
    index = next(i for i, t in enumerate(saved.tasks) if t.id == task_id)
    return _task_object(saved, index, saved.tasks[index], ids.number("task", task_id, schedule.id).number)


def update_task(
    ids: PteroIds,
    ports: SchedulePorts,
    tenant: TenantContext,
    server_uuid: str,
    number: str,
    task_number: str,
    change: TaskChange,
) -> dict[str, Any]:
    schedule_id = _schedule_id(ids, server_uuid, number)
    schedule = service.get_schedule(ports, tenant, server_uuid, schedule_id).schedule
    index = _task_index(ids, schedule, task_number)
    tasks = _with_own_ids(schedule)
    kept = tasks.pop(index)
    assert kept.id is not None
    task = _task(change, kept.id)
    saved = _save_tasks(ports, tenant, server_uuid, schedule, _place(tasks, task, change.sequence_id or index + 1))
    at = next(i for i, t in enumerate(saved.tasks) if t.id == task.id)
    return _task_object(saved, at, saved.tasks[at], int(task_number))


def delete_task(
    ids: PteroIds, ports: SchedulePorts, tenant: TenantContext, server_uuid: str, number: str, task_number: str
) -> None:
    schedule_id = _schedule_id(ids, server_uuid, number)
    schedule = service.get_schedule(ports, tenant, server_uuid, schedule_id).schedule
    index = _task_index(ids, schedule, task_number)
    tasks = _with_own_ids(schedule)
    tasks.pop(index)
    _save_tasks(ports, tenant, server_uuid, schedule, tasks)
    found = ids.by_number("task", int(task_number))
    if found is not None:
        ids.forget(found)
