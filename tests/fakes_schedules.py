"""Fakes of the schedule ports (mamba.services.schedules): the repository, the scheduler and the
task runner. Kept apart from tests/fakes.py so the schedule tests carry their own world; each has
its PAIRS row in tests/unit/test_fakes_match_ports.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from mamba.auth.context import TenantContext
from mamba.domain import schedules as sch
from mamba.domain.errors import DependencyUnavailableError, QuotaExceededError, WingsUnavailableError


@dataclass
class FakeScheduleRepository:
    schedules: dict[tuple[str, str], sch.Schedule] = field(default_factory=dict)
    run_records: dict[str, sch.Run] = field(default_factory=dict)

    def add(self, schedule: sch.Schedule, limit: int) -> None:
        if limit >= 0 and len(self.of_server(schedule.server_id)) >= limit:
            raise QuotaExceededError("limit", {"quota": "schedules_per_server", "limit": limit})
        self.schedules[(schedule.server_id, schedule.id)] = schedule

    def get(self, server_id: str, schedule_id: str) -> sch.Schedule | None:
        return self.schedules.get((server_id, schedule_id))

    def of_server(self, server_id: str) -> list[sch.Schedule]:
        return sorted((s for (sid, _), s in self.schedules.items() if sid == server_id), key=lambda s: s.created_at)

    def save(self, schedule: sch.Schedule) -> None:
        self.schedules[(schedule.server_id, schedule.id)] = schedule

    def set_last_run(self, server_id: str, schedule_id: str, last_run: sch.LastRun) -> None:
        found = self.schedules.get((server_id, schedule_id))
        if found is not None:
            from dataclasses import replace

            self.schedules[(server_id, schedule_id)] = replace(found, last_run=last_run)

    def delete(self, server_id: str, schedule_id: str) -> bool:
        return self.schedules.pop((server_id, schedule_id), None) is not None

    def add_run(self, run: sch.Run) -> bool:
        if run.id in self.run_records:
            return False
        self.run_records[run.id] = run
        return True

    def get_run(self, run_id: str) -> sch.Run | None:
        return self.run_records.get(run_id)

    def save_run(self, run: sch.Run) -> None:
        self.run_records[run.id] = run

    def runs(self, schedule_id: str, limit: int, cursor: str | None) -> sch.RunPage:
        found = sorted(
            (r for r in self.run_records.values() if r.schedule_id == schedule_id),
            key=lambda r: (r.started_at, r.id),
            reverse=True,
        )
        start = int(cursor) if cursor else 0
        page = found[start : start + limit]
        more = start + limit < len(found)
        return sch.RunPage(items=page, next_cursor=str(start + limit) if more else None)


@dataclass
class FakeScheduleTrigger:
    """What EventBridge holds: schedule id → (expressions, time zone, enabled)."""

    held: dict[str, tuple[list[str], str, bool]] = field(default_factory=dict)
    fail: bool = False

    def put(self, schedule: sch.Schedule) -> None:
        if self.fail:
            raise DependencyUnavailableError("The scheduler refused.")
        self.held[schedule.id] = (sch.aws_expressions(schedule.cron), schedule.timezone, schedule.active)

    def delete(self, schedule_id: str) -> None:
        if self.fail:
            raise DependencyUnavailableError("The scheduler refused.")
        self.held.pop(schedule_id, None)


@dataclass
class FakeTaskRunner:
    """Records each action in order; ``failing`` names actions that raise, ``backups`` holds each
    started backup's state (``running`` until the test moves it on)."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    failing: dict[str, Exception] = field(default_factory=dict)
    is_online: bool = True
    backups: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def _act(self, kind: str, value: str) -> None:
        self.calls.append((kind, value))
        error = self.failing.get(kind)
        if error is not None:
            raise error

    def command(self, tenant: TenantContext, server_id: str, command: str) -> None:
        self._act("command", command)

    def power(self, tenant: TenantContext, server_id: str, action: str) -> None:
        self._act("power", action)

    def online(self, tenant: TenantContext, server_id: str) -> bool:
        return self.is_online

    def start_backup(self, tenant: TenantContext, server_id: str, name: str) -> str:
        self._act("backup", name)
        backup_id = f"bk-{len(self.backups) + 1}"
        self.backups[backup_id] = ("running", None)
        return backup_id

    def backup_outcome(self, backup_id: str) -> tuple[str, str | None]:
        return self.backups.get(backup_id, ("failed", "gone"))


def node_down() -> Exception:
    return WingsUnavailableError("The node did not answer.", {"node_id": "n1"})
