"""Request and response models of the schedules API (docs/schedules.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from mamba.schemas.common import Schema

Action = Literal["command", "power", "backup"]
RunStatus = Literal["running", "succeeded", "failed", "skipped"]
TaskStatus = Literal["pending", "running", "succeeded", "failed", "skipped"]


class CronModel(Schema):
    """Five cron fields as Pterodactyl has them (each ``*``, ``5``, ``1-5``, ``*/15``, ``1-30/2``
    or a comma list; month and weekday names allowed). Checked field by field on write."""

    minute: str = Field(min_length=1, max_length=100, examples=["0"])
    hour: str = Field(min_length=1, max_length=100, examples=["4"])
    day_of_month: str = Field(min_length=1, max_length=100, examples=["*"])
    month: str = Field(min_length=1, max_length=100, examples=["*"])
    day_of_week: str = Field(min_length=1, max_length=100, examples=["*"])


class TaskModel(Schema):
    action: Action
    payload: str = Field(
        default="",
        max_length=1024,
        description="command: the console line; power: start, stop, restart or kill; "
        "backup: the backup's name (optional)",
        examples=["say hi"],
    )
    time_offset_seconds: int = Field(default=0, ge=0, le=900, description="Wait this long before the task runs")
    continue_on_failure: bool = False


class ScheduleIn(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["Nightly restart"])
    cron: CronModel
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
    enabled: bool = True
    only_when_online: bool = False
    tasks: list[TaskModel] = Field(min_length=1, max_length=10)


class SchedulePatch(Schema):
    """Only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    cron: CronModel | None = None
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    enabled: bool | None = None
    only_when_online: bool | None = None
    tasks: list[TaskModel] | None = Field(default=None, min_length=1, max_length=10)

    @model_validator(mode="after")
    def _no_nulls(self) -> SchedulePatch:
        sent_null = [n for n in self.model_fields_set if getattr(self, n) is None]
        if sent_null:
            raise ValueError(f"{', '.join(sorted(sent_null))} cannot be null")
        return self


class LastRunOut(Schema):
    id: str
    status: RunStatus
    started_at: str
    finished_at: str | None = None


class ScheduleOut(Schema):
    id: str
    server_id: str
    name: str
    cron: CronModel
    timezone: str
    enabled: bool
    only_when_online: bool
    paused: bool = Field(description="Paused with its suspended server; runs resume when it is unsuspended")
    tasks: list[TaskModel]
    next_runs: list[str] = Field(description="The next 5 run times (ISO 8601, UTC); empty while disabled or paused")
    next_run_at: str | None
    last_run: LastRunOut | None = None
    created_at: str
    updated_at: str

    @model_validator(mode="before")
    @classmethod
    def _from_view(cls, value: Any) -> Any:
        """A ``ScheduleView`` (the record and its next runs) as the wire shows it."""
        schedule = getattr(value, "schedule", None)
        if schedule is None:
            return value
        from mamba.domain.clock import iso

        runs = [iso(r) for r in value.next_runs]
        return {
            "id": schedule.id,
            "server_id": schedule.server_id,
            "name": schedule.name,
            "cron": schedule.cron.fields(),
            "timezone": schedule.timezone,
            "enabled": schedule.enabled,
            "only_when_online": schedule.only_when_online,
            "paused": schedule.paused,
            # A task's own id is Pterodactyl's business (its integer id); /v1 lists tasks by place.
            "tasks": [{k: v for k, v in vars(t).items() if k != "id"} for t in schedule.tasks],
            "next_runs": runs,
            "next_run_at": runs[0] if runs else None,
            "last_run": vars(schedule.last_run) if schedule.last_run else None,
            "created_at": schedule.created_at,
            "updated_at": schedule.updated_at,
        }


class ScheduleList(Schema):
    items: list[ScheduleOut]
    next_cursor: str | None = None


class TaskOutcomeOut(Schema):
    action: Action
    status: TaskStatus
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    backup_id: str | None = None


class RunOut(Schema):
    id: str
    schedule_id: str
    status: RunStatus
    trigger: Literal["schedule", "manual"]
    started_at: str
    finished_at: str | None = None
    reason: str | None = Field(default=None, description="Why the run was skipped or could not run")
    tasks: list[TaskOutcomeOut]


class RunStartedOut(Schema):
    run: RunOut


class RunList(Schema):
    items: list[RunOut]
    next_cursor: str | None = None


class RunQuery(Schema):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512)
