"""Schedules and their runs in the main table (docs/data-model.md, docs/schedules.md).

* a schedule: ``SCHEDULES#<server uuid>`` / ``SCHEDULE#<schedule id>``; a server's schedules are
  one Query on the partition;
* the server's count of schedules: ``SCHEDULES#<server uuid>`` / ``COUNT``, changed in the same
  transaction as the schedule's put or delete, with the plan's limit as its condition, so two
  concurrent creations cannot pass the limit together;
* a run: ``SCHEDULERUN#<run id>`` / ``RUN`` (a scheduled run's id is derived from its scheduled
  time, so the conditional put makes a repeated EventBridge delivery one run), listed newest
  first through gsi1 (``SCHEDULE#<schedule id>#RUNS``, ``<started_at>#<run id>``); ``ttl`` drops
  it 90 days after its start.

The partition is not ``SERVER#<uuid>``, so the server's own items and purges never touch these;
a schedule is deleted through the service, which deletes its EventBridge schedules first.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import positions
from mamba.adapters.dynamo.errors import SKIP, get_or_none, translate
from mamba.adapters.dynamo.items import MainItem
from mamba.adapters.dynamo.users import connection
from mamba.domain import schedules as sch
from mamba.domain.errors import NotFoundError, QuotaExceededError

COUNT_SORT = "COUNT"
SCHEDULE_PREFIX = "SCHEDULE#"


def schedules_of_server(server_id: str) -> str:
    return f"SCHEDULES#{server_id}"


def schedule_key(server_id: str, schedule_id: str) -> tuple[str, str]:
    return schedules_of_server(server_id), f"{SCHEDULE_PREFIX}{schedule_id}"


def count_key(server_id: str) -> tuple[str, str]:
    return schedules_of_server(server_id), COUNT_SORT


def run_key(run_id: str) -> tuple[str, str]:
    return f"SCHEDULERUN#{run_id}", "RUN"


def runs_of_schedule(schedule_id: str) -> str:
    return f"SCHEDULE#{schedule_id}#RUNS"


def run_sort(started_at: str, run_id: str) -> str:
    return f"{started_at}#{run_id}"


class ScheduleItem(MainItem):
    schedule_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    server_id = UnicodeAttribute()
    name = UnicodeAttribute()
    cron = UnicodeAttribute()  # JSON: the five fields as written
    timezone = UnicodeAttribute()
    enabled = BooleanAttribute()
    only_when_online = BooleanAttribute()
    paused = BooleanAttribute(default=False)
    tasks = UnicodeAttribute()  # JSON list of tasks
    last_run = UnicodeAttribute(null=True)  # JSON LastRun
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class ScheduleCountItem(MainItem):
    schedules = NumberAttribute(default=0)


class ScheduleRunItem(MainItem):
    run_id = UnicodeAttribute()
    schedule_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    server_id = UnicodeAttribute()
    status = UnicodeAttribute()
    trigger = UnicodeAttribute()
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    tasks = UnicodeAttribute()  # JSON list of task outcomes


def _schedule(item: ScheduleItem) -> sch.Schedule:
    fields = json.loads(item.cron)
    last = json.loads(item.last_run) if item.last_run else None
    return sch.Schedule(
        id=item.schedule_id,
        tenant_id=item.tenant_id,
        server_id=item.server_id,
        name=item.name,
        cron=sch.parse_cron(**{n: str(fields[n]) for n in sch.FIELD_NAMES}),
        timezone=item.timezone,
        enabled=bool(item.enabled),
        only_when_online=bool(item.only_when_online),
        paused=bool(item.paused),
        tasks=tuple(sch.Task(**t) for t in json.loads(item.tasks)),
        created_at=item.created_at,
        updated_at=item.updated_at,
        last_run=sch.LastRun(**last) if last else None,
    )


def _schedule_item(schedule: sch.Schedule) -> ScheduleItem:
    return ScheduleItem(
        *schedule_key(schedule.server_id, schedule.id),
        kind="schedule",
        schedule_id=schedule.id,
        tenant_id=schedule.tenant_id,
        server_id=schedule.server_id,
        name=schedule.name,
        cron=json.dumps(schedule.cron.fields(), sort_keys=True),
        timezone=schedule.timezone,
        enabled=schedule.enabled,
        only_when_online=schedule.only_when_online,
        paused=schedule.paused,
        tasks=json.dumps([asdict(t) for t in schedule.tasks]),
        last_run=json.dumps(asdict(schedule.last_run)) if schedule.last_run else None,
        created_at=schedule.created_at,
        updated_at=schedule.updated_at,
    )


def _run(item: ScheduleRunItem) -> sch.Run:
    return sch.Run(
        id=item.run_id,
        schedule_id=item.schedule_id,
        tenant_id=item.tenant_id,
        server_id=item.server_id,
        status=item.status,
        started_at=item.started_at,
        trigger=item.trigger,
        tasks=tuple(sch.TaskOutcome(**t) for t in json.loads(item.tasks)),
        finished_at=item.finished_at,
        reason=item.reason,
        expires_at=int(item.ttl or 0),
    )


def _run_item(run: sch.Run) -> ScheduleRunItem:
    return ScheduleRunItem(
        *run_key(run.id),
        kind="schedule_run",
        gsi1pk=runs_of_schedule(run.schedule_id),
        gsi1sk=run_sort(run.started_at, run.id),
        ttl=run.expires_at or None,
        run_id=run.id,
        schedule_id=run.schedule_id,
        tenant_id=run.tenant_id,
        server_id=run.server_id,
        status=run.status,
        trigger=run.trigger,
        started_at=run.started_at,
        finished_at=run.finished_at,
        reason=run.reason,
        tasks=json.dumps([asdict(t) for t in run.tasks]),
    )


class DynamoScheduleRepository:
    def add(self, schedule: sch.Schedule, limit: int) -> None:
        """Put the schedule and count it, in one transaction whose condition is the plan's limit
        (a negative limit: no condition). QuotaExceededError at the limit."""
        count = ScheduleCountItem(*count_key(schedule.server_id))
        under_limit = ScheduleCountItem.schedules.does_not_exist() | (ScheduleCountItem.schedules < limit)
        with translate(
            on_condition=QuotaExceededError(
                f"This server has its plan's {limit} schedule(s); delete one first.",
                {"quota": "schedules_per_server", "limit": limit},
            ),
            unavailable="The schedule could not be saved; try again.",
        ):
            with TransactWrite(connection=connection()) as tx:
                tx.save(_schedule_item(schedule), condition=ScheduleItem.pk.does_not_exist())
                tx.update(
                    count,
                    actions=[ScheduleCountItem.kind.set("schedule_count"), ScheduleCountItem.schedules.add(1)],
                    condition=under_limit if limit >= 0 else None,
                )

    def get(self, server_id: str, schedule_id: str) -> sch.Schedule | None:
        with translate(unavailable="The schedule could not be read; try again."):
            item = get_or_none(ScheduleItem, *schedule_key(server_id, schedule_id), consistent_read=True)
        return _schedule(item) if item is not None else None

    def of_server(self, server_id: str) -> list[sch.Schedule]:
        """Every schedule of the server (bounded by the plan's limit), oldest id first."""
        with translate(unavailable="The schedules could not be listed; try again."):
            found = list(
                ScheduleItem.query(
                    schedules_of_server(server_id), ScheduleItem.sk.startswith(SCHEDULE_PREFIX), consistent_read=True
                )
            )
        return sorted((_schedule(i) for i in found), key=lambda s: (s.created_at, s.id))

    def save(self, schedule: sch.Schedule) -> None:
        """Overwrite an existing schedule (NotFoundError when it was deleted meanwhile)."""
        with translate(
            on_condition=NotFoundError("Schedule not found.", {"schedule_id": schedule.id}),
            unavailable="The schedule could not be saved; try again.",
        ):
            _schedule_item(schedule).save(condition=ScheduleItem.pk.exists())

    def set_last_run(self, server_id: str, schedule_id: str, last_run: sch.LastRun) -> None:
        """Record the latest run's outcome on the schedule (the list shows it)."""
        item = ScheduleItem(*schedule_key(server_id, schedule_id))
        # A failed condition: the schedule was deleted, or a later run is recorded already.
        with translate(on_condition=SKIP, unavailable="The schedule's last run could not be saved."):
            item.update(
                actions=[ScheduleItem.last_run.set(json.dumps(asdict(last_run)))],
                condition=ScheduleItem.pk.exists(),
            )

    def delete(self, server_id: str, schedule_id: str) -> bool:
        """Delete the schedule and uncount it in one transaction; False when it was gone already."""
        count = ScheduleCountItem(*count_key(server_id))
        with translate(on_condition=SKIP, unavailable="The schedule could not be deleted; try again.") as outcome:
            with TransactWrite(connection=connection()) as tx:
                tx.delete(ScheduleItem(*schedule_key(server_id, schedule_id)), condition=ScheduleItem.pk.exists())
                tx.update(count, actions=[ScheduleCountItem.schedules.add(-1)])
        return not outcome.condition_failed

    # --- runs ---

    def add_run(self, run: sch.Run) -> bool:
        """Record a new run; False when a run with this id exists (a repeated delivery)."""
        with translate(on_condition=SKIP, unavailable="The run could not be recorded; try again.") as outcome:
            _run_item(run).save(condition=ScheduleRunItem.pk.does_not_exist())
        return not outcome.condition_failed

    def get_run(self, run_id: str) -> sch.Run | None:
        with translate(unavailable="The run could not be read; try again."):
            item = get_or_none(ScheduleRunItem, *run_key(run_id), consistent_read=True)
        return _run(item) if item is not None else None

    def save_run(self, run: sch.Run) -> None:
        with translate(
            on_condition=NotFoundError("Run not found.", {"run_id": run.id}),
            unavailable="The run could not be saved; try again.",
        ):
            _run_item(run).save(condition=ScheduleRunItem.pk.exists())

    def runs(self, schedule_id: str, limit: int, cursor: str | None) -> sch.RunPage:
        """One page of the schedule's runs, newest first; the cursor holds the last run's sort values."""
        gsi1pk = runs_of_schedule(schedule_id)
        start: dict[str, Any] | None = None
        position = positions.decode(cursor, 2)
        if position is not None:
            started_at, run_id = position
            pk, sk = run_key(run_id)
            start = {
                "pk": {"S": pk},
                "sk": {"S": sk},
                "gsi1pk": {"S": gsi1pk},
                "gsi1sk": {"S": run_sort(started_at, run_id)},
            }
        with translate(unavailable="The runs could not be listed; try again."):
            results = ScheduleRunItem.gsi1.query(
                gsi1pk,
                scan_index_forward=False,
                page_size=max(1, min(limit, positions.MAX_LIMIT)),
                last_evaluated_key=start,
            )
            raw, last = positions.first_page(results)
        items = [_run(ScheduleRunItem.from_raw_data(r)) for r in raw]
        next_cursor = positions.encode([items[-1].started_at, items[-1].id]) if last and items else None
        return sch.RunPage(items=items, next_cursor=next_cursor)
