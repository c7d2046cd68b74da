"""Schedules: a cron expression with a time zone and an ordered list of tasks (docs/schedules.md).

Pure (standard library only): the cron parser, the next run times, the records and the rules
the service applies. The cron dialect is Pterodactyl's (five fields: minute, hour, day of month,
month, day of week, each ``*``, a number, a range ``a-b``, a step ``*/n`` or ``a-b/n`` or ``a/n``,
or a comma list of these; month and weekday names ``JAN``..``DEC``, ``SUN``..``SAT``; weekday 7
is Sunday like 0). When both the day of month and the day of week are restricted (neither is
``*``) a day matching either runs, as in Vixie cron and Pterodactyl's cron library.

Time zones follow EventBridge Scheduler, which starts the runs in production: a local time
that does not exist (the hour skipped when clocks go forward) is skipped; a local time that
happens twice (clocks go back) runs once, at its first occurrence.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mamba.domain.errors import QuotaExceededError, ValidationError

MAX_TASKS: Final = 10
MAX_OFFSET_SECONDS: Final = 900
NEXT_RUNS: Final = 5
RUN_RETENTION_DAYS: Final = 90
# A run still "running" after this long has died (its longest path: 10 tasks of 15 minutes'
# offsets plus a backup's timeout); it no longer blocks the next one.
STALE_RUN_SECONDS: Final = 6 * 3600
ACTIONS: Final = ("command", "power", "backup")
POWER_ACTIONS: Final = ("start", "stop", "restart", "kill")

# Run statuses (the API's), and a task's.
RUNNING, SUCCEEDED, FAILED, SKIPPED = "running", "succeeded", "failed", "skipped"
PENDING = "pending"  # a task not reached yet
RUN_STATUSES: Final = (RUNNING, SUCCEEDED, FAILED, SKIPPED)

# How many days ahead the next runs are searched: Feb 29 on a given weekday can be years away,
# and an expression that matches nothing in that span (``0 0 31 2 *``) is refused on write.
_HORIZON_DAYS: Final = 366 * 8

FIELD_NAMES: Final = ("minute", "hour", "day_of_month", "month", "day_of_week")
_BOUNDS: Final = {"minute": (0, 59), "hour": (0, 23), "day_of_month": (1, 31), "month": (1, 12), "day_of_week": (0, 7)}
_MONTHS: Final = {n: i + 1 for i, n in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_WEEKDAYS: Final = {n: i for i, n in enumerate("SUN MON TUE WED THU FRI SAT".split())}
_NAMES: Final = {"month": _MONTHS, "day_of_week": _WEEKDAYS}
_PART: Final = re.compile(r"^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(\d+))?$")


def _field_error(name: str, message: str) -> ValidationError:
    return ValidationError(
        f"cron.{name}: {message}",
        {"fields": [{"field": f"cron.{name}", "message": message, "type": "cron"}]},
    )


def _value(name: str, token: str) -> int:
    names = _NAMES.get(name, {})
    if token.upper() in names:
        return names[token.upper()]
    if not token.isdigit():
        raise _field_error(name, f"{token!r} is not a number" + (" or a name" if names else ""))
    value = int(token)
    low, high = _BOUNDS[name]
    if not low <= value <= high:
        raise _field_error(name, f"{value} is outside {low}-{high}")
    return value


def parse_field(name: str, text: str) -> frozenset[int]:
    """The values ``text`` selects in field ``name``; ValidationError naming the field otherwise."""
    text = text.strip()
    if not text:
        raise _field_error(name, "is empty")
    if len(text) > 100:
        raise _field_error(name, "is too long")
    low, high = _BOUNDS[name]
    values: set[int] = set()
    for part in text.split(","):
        match = _PART.match(part.strip())
        if match is None:
            raise _field_error(name, f"{part!r} is not cron syntax (use *, 5, 1-5, */15, 1-30/2 or a list)")
        base, step_text = match.group(1), match.group(2)
        step = 1 if step_text is None else int(step_text)
        if step < 1 or step > high:
            raise _field_error(name, f"step {step} must be between 1 and {high}")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _value(name, first), _value(name, last)
            if start > end:
                raise _field_error(name, f"range {base} runs backwards")
        else:
            start = _value(name, base)
            # ``5/15`` means from 5 to the end in steps of 15, as in Vixie cron.
            end = high if step_text is not None else start
        values.update(range(start, end + 1, step))
    if name == "day_of_week" and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """A parsed expression; the five source strings are kept as the user wrote them."""

    minute: str
    hour: str
    day_of_month: str
    month: str
    day_of_week: str
    minutes: frozenset[int] = field(compare=False, repr=False, default=frozenset())
    hours: frozenset[int] = field(compare=False, repr=False, default=frozenset())
    days: frozenset[int] = field(compare=False, repr=False, default=frozenset())
    months: frozenset[int] = field(compare=False, repr=False, default=frozenset())
    weekdays: frozenset[int] = field(compare=False, repr=False, default=frozenset())

    @property
    def days_restricted(self) -> bool:
        return self.day_of_month.strip() != "*"

    @property
    def weekdays_restricted(self) -> bool:
        return self.day_of_week.strip() != "*"

    def fields(self) -> dict[str, str]:
        return {n: getattr(self, n) for n in FIELD_NAMES}

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days
        # Python: Monday is 0; cron: Sunday is 0.
        in_week = (day.weekday() + 1) % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or in_week
        return in_month and in_week


def parse_cron(minute: str, hour: str, day_of_month: str, month: str, day_of_week: str) -> Cron:
    """The expression, validated field by field (ValidationError names ``cron.<field>``)."""
    texts = {"minute": minute, "hour": hour, "day_of_month": day_of_month, "month": month, "day_of_week": day_of_week}
    parsed = {n: parse_field(n, str(t)) for n, t in texts.items()}
    return Cron(
        **{n: str(t).strip() for n, t in texts.items()},
        minutes=parsed["minute"],
        hours=parsed["hour"],
        days=parsed["day_of_month"],
        months=parsed["month"],
        weekdays=parsed["day_of_week"],
    )


_NOT_ZONES: Final = frozenset({"localtime", "Factory", "posixrules", "posix", "right"})


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValidationError for an unknown one."""
    # The files of the zone database that are not zones (the host's own zone, a placeholder).
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name or name in _NOT_ZONES:
        raise ValidationError(
            "timezone must be an IANA time zone such as Europe/Berlin.",
            {"fields": [{"field": "timezone", "message": "unknown time zone", "type": "timezone"}]},
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"timezone {name!r} is not an IANA time zone such as Europe/Berlin.",
            {"fields": [{"field": "timezone", "message": "unknown time zone", "type": "timezone"}]},
        ) from exc


def _exists(local: datetime, tz: ZoneInfo) -> bool:
    """False for a wall-clock time inside a forward jump (it never happens in ``tz``)."""
    aware = local.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local


def next_runs(cron: Cron, tz_name: str, after: datetime, count: int = NEXT_RUNS) -> list[datetime]:
    """The next ``count`` run times strictly after ``after`` (an aware datetime), in UTC.

    A local time skipped by a forward jump is skipped; a repeated one runs once (its first
    occurrence, ``fold=0``), as EventBridge Scheduler does. Fewer than ``count`` (maybe none)
    when the expression matches nothing within eight years."""
    tz = zone(tz_name)
    after_utc = after.astimezone(UTC)
    first_day = after_utc.astimezone(tz).date()
    found: list[datetime] = []
    hours = sorted(cron.hours)
    minutes = sorted(cron.minutes)
    for offset in range(_HORIZON_DAYS):
        day = first_day + timedelta(days=offset)
        if not cron.day_matches(day):
            continue
        for hour in hours:
            for minute in minutes:
                local = datetime.combine(day, time(hour, minute))
                if not _exists(local, tz):
                    continue
                at = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
                if at <= after_utc:
                    continue
                found.append(at)
                if len(found) >= count:
                    return found
    return found


def matches(cron: Cron, tz_name: str, at: datetime) -> bool:
    """Whether ``at`` (aware; seconds ignored) is one of the expression's run times."""
    minute = at.astimezone(UTC).replace(second=0, microsecond=0)
    runs = next_runs(cron, tz_name, minute - timedelta(seconds=1), 1)
    return bool(runs) and runs[0] == minute


def require_runs(cron: Cron, tz_name: str, now: datetime) -> list[datetime]:
    """The next runs; ValidationError for an expression that never runs (``0 0 31 2 *``)."""
    runs = next_runs(cron, tz_name, now)
    if not runs:
        raise ValidationError(
            "The cron expression never runs (for example day 31 of a month without one).",
            {"fields": [{"field": "cron", "message": "never runs", "type": "cron"}]},
        )
    return runs


# --- EventBridge Scheduler's dialect ------------------------------------------------------


def _ranges(values: frozenset[int], low: int, high: int, names: list[str] | None = None) -> str:
    if values == frozenset(range(low, high + 1)):
        return "*"
    ordered = sorted(values)
    parts: list[str] = []
    start = prev = ordered[0]

    def label(v: int) -> str:
        return names[v] if names else str(v)

    for v in [*ordered[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(label(start) if start == prev else f"{label(start)}-{label(prev)}")
        if v is not None:
            start = prev = v
    return ",".join(parts)


_AWS_WEEKDAYS: Final = "SUN MON TUE WED THU FRI SAT".split()


def aws_expressions(cron: Cron) -> list[str]:
    """The expression as EventBridge Scheduler's ``cron(min hour dom month dow year)``.

    EventBridge needs ``?`` in the day of month or the day of week, so it cannot say "either
    day": a schedule restricting both becomes two EventBridge schedules, one per day field,
    whose union is the cron rule (a day matching both starts two invocations with the same
    scheduled time, which the run's id makes one run). Values are spelt out as lists and
    ranges (weekdays by name, since EventBridge counts them from 1)."""
    minute = _ranges(cron.minutes, 0, 59)
    hour = _ranges(cron.hours, 0, 23)
    month = _ranges(cron.months, 1, 12)
    dom = _ranges(cron.days, 1, 31)
    dow = _ranges(cron.weekdays, 0, 6, _AWS_WEEKDAYS)
    if cron.days_restricted and cron.weekdays_restricted:
        return [f"cron({minute} {hour} {dom} {month} ? *)", f"cron({minute} {hour} ? {month} {dow} *)"]
    if cron.weekdays_restricted:
        return [f"cron({minute} {hour} ? {month} {dow} *)"]
    return [f"cron({minute} {hour} {dom} {month} ? *)"]


# --- records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    action: str
    payload: str
    time_offset_seconds: int = 0
    continue_on_failure: bool = False
    # Set when a task is made one at a time (Pterodactyl's API), so its integer id outlives a
    # change of its neighbours; /v1 replaces the whole list and leaves it None.
    id: str | None = None


@dataclass(frozen=True)
class LastRun:
    id: str
    status: str
    started_at: str
    finished_at: str | None = None


@dataclass(frozen=True)
class Schedule:
    id: str
    tenant_id: str
    server_id: str
    name: str
    cron: Cron
    timezone: str
    enabled: bool
    only_when_online: bool
    tasks: tuple[Task, ...]
    created_at: str
    updated_at: str
    # Paused with its server (suspension): EventBridge's schedules are disabled meanwhile.
    paused: bool = False
    last_run: LastRun | None = None

    @property
    def active(self) -> bool:
        """Whether EventBridge should start runs (enabled by the user and not paused)."""
        return self.enabled and not self.paused


@dataclass(frozen=True)
class TaskOutcome:
    action: str
    status: str = PENDING
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    # The backup a backup task started, so the run follows that backup to its end.
    backup_id: str | None = None


@dataclass(frozen=True)
class Run:
    id: str
    schedule_id: str
    tenant_id: str
    server_id: str
    status: str
    started_at: str
    trigger: str  # "schedule" (EventBridge, the local timer) or "manual" (run now)
    tasks: tuple[TaskOutcome, ...]
    finished_at: str | None = None
    reason: str | None = None  # why a run was skipped or failed, in words
    expires_at: int = 0  # epoch seconds: TTL, 90 days after the start


@dataclass(frozen=True)
class RunPage:
    items: list[Run]
    next_cursor: str | None


def new_run(run_id: str, schedule: Schedule, trigger: str, started_at: str, started_epoch: int) -> Run:
    return Run(
        id=run_id,
        schedule_id=schedule.id,
        tenant_id=schedule.tenant_id,
        server_id=schedule.server_id,
        status=RUNNING,
        started_at=started_at,
        trigger=trigger,
        tasks=tuple(TaskOutcome(action=t.action) for t in schedule.tasks),
        expires_at=started_epoch + RUN_RETENTION_DAYS * 86400,
    )


def scheduled_run_id(schedule_id: str, scheduled_time: str) -> str:
    """A scheduled run's id, derived from the schedule and the scheduled time: EventBridge
    delivers at least once (and a two-schedule rule may fire twice), so a repeat is one run."""
    digest = hashlib.sha256(f"{schedule_id}\x00{scheduled_time}".encode()).hexdigest()
    return f"run_{digest[:24]}"


def with_task(run: Run, index: int, **changes: object) -> Run:
    tasks = list(run.tasks)
    tasks[index] = replace(tasks[index], **changes)  # type: ignore[arg-type]
    return replace(run, tasks=tuple(tasks))


def finished(run: Run, status: str, at: str, reason: str | None = None) -> Run:
    """The run ended: a task it never reached (stopped by a failure, or the run skipped) is ``skipped``."""
    tasks = tuple(t if t.status != PENDING else replace(t, status=SKIPPED) for t in run.tasks)
    return replace(run, status=status, finished_at=at, reason=reason, tasks=tasks)


def outcome_status(run: Run) -> str:
    """A run whose every task ran is ``succeeded``; one with a failed task is ``failed``."""
    return FAILED if any(t.status == FAILED for t in run.tasks) else SUCCEEDED


def check_tasks(tasks: list[Task], *, allow_empty: bool = False) -> tuple[Task, ...]:
    """At most ``MAX_TASKS``; each action known, its payload valid, its offset within 0-900 s.
    At least one, unless ``allow_empty`` (Pterodactyl makes a schedule first and its tasks after;
    a run of a schedule without tasks does nothing)."""

    def bad(index: int, name: str, message: str) -> ValidationError:
        return ValidationError(
            f"tasks[{index}].{name}: {message}",
            {"fields": [{"field": f"tasks.{index}.{name}", "message": message}]},
        )

    if not tasks and not allow_empty:
        raise ValidationError(
            "A schedule needs at least one task.", {"fields": [{"field": "tasks", "message": "at least one task"}]}
        )
    if len(tasks) > MAX_TASKS:
        raise ValidationError(
            f"A schedule has at most {MAX_TASKS} tasks.",
            {"fields": [{"field": "tasks", "message": f"at most {MAX_TASKS} tasks"}]},
        )
    for i, task in enumerate(tasks):
        if task.action not in ACTIONS:
            raise bad(i, "action", "must be command, power or backup")
        if not 0 <= task.time_offset_seconds <= MAX_OFFSET_SECONDS:
            raise bad(i, "time_offset_seconds", f"must be between 0 and {MAX_OFFSET_SECONDS}")
        if task.action == "power" and task.payload not in POWER_ACTIONS:
            raise bad(i, "payload", "must be start, stop, restart or kill")
        if task.action == "command" and not task.payload.strip():
            raise bad(i, "payload", "is required")
        if task.action == "command" and (len(task.payload) > 1024 or any(c in task.payload for c in "\r\n\x00")):
            raise bad(i, "payload", "must be one line of at most 1024 characters")
        if task.action == "backup" and len(task.payload) > 100:
            raise bad(i, "payload", "a backup's name has at most 100 characters")
    return tuple(tasks)


def check_count(limit: int, existing: int) -> None:
    """The plan's schedules per server (negative: unlimited)."""
    if limit >= 0 and existing + 1 > limit:
        raise QuotaExceededError(
            f"This server has its plan's {limit} schedule(s); delete one first.",
            {"quota": "schedules_per_server", "limit": limit, "used": existing},
        )
