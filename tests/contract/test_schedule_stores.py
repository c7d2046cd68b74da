"""The schedule ports (mamba.services.schedules), each over its fake and its real adapter:
``ScheduleRepository`` (FakeScheduleRepository, DynamoScheduleRepository on moto) and
``ScheduleTrigger`` (FakeScheduleTrigger, EventBridgeScheduleTrigger on moto's EventBridge
Scheduler), so the service tests on fakes say what the adapters do."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from mamba.domain import schedules as sch
from mamba.domain.errors import QuotaExceededError
from tests.fakes_schedules import FakeScheduleRepository, FakeScheduleTrigger

T0 = "2026-12-05T09:00:00Z"


def schedule(server_id: str, created_at: str = T0, **changes: Any) -> sch.Schedule:
    base = sch.Schedule(
        id=f"sch_{uuid.uuid4().hex[:12]}",
        tenant_id="tn_a",
        server_id=server_id,
        name="Nightly",
        cron=sch.parse_cron("0", "4", "*", "*", "*"),
        timezone="Europe/Berlin",
        enabled=True,
        only_when_online=False,
        tasks=(sch.Task("command", "say hi"), sch.Task("backup", "", time_offset_seconds=30)),
        created_at=created_at,
        updated_at=created_at,
    )
    return replace(base, **changes)


# --- ScheduleRepository ---


class RepositoryContract:
    @pytest.fixture
    def repo(self) -> Any:
        raise NotImplementedError

    def test_a_schedule_reads_back_as_written_under_its_server_only(self, repo):
        server = str(uuid.uuid4())
        written = schedule(server)

        repo.add(written, 10)

        assert repo.get(server, written.id) == written
        assert repo.get(str(uuid.uuid4()), written.id) is None
        assert repo.of_server(server) == [written]

    def test_the_plans_limit_refuses_one_more_and_a_delete_makes_room(self, repo):
        server = str(uuid.uuid4())
        first, second = schedule(server), schedule(server, created_at="2026-12-05T09:01:00Z")
        repo.add(first, 2)
        repo.add(second, 2)

        with pytest.raises(QuotaExceededError):
            repo.add(schedule(server), 2)
        assert repo.delete(server, first.id) is True
        assert repo.delete(server, first.id) is False
        repo.add(schedule(server), 2)
        assert len(repo.of_server(server)) == 2

    def test_save_and_last_run_change_the_stored_schedule(self, repo):
        server = str(uuid.uuid4())
        written = schedule(server)
        repo.add(written, -1)

        repo.save(replace(written, name="Renamed", enabled=False, paused=True))
        repo.set_last_run(server, written.id, sch.LastRun("run_1", "failed", T0, T0))

        found = repo.get(server, written.id)
        assert (found.name, found.enabled, found.paused) == ("Renamed", False, True)
        assert found.last_run == sch.LastRun("run_1", "failed", T0, T0)

    def test_a_run_is_recorded_once_and_pages_newest_first(self, repo):
        written = schedule(str(uuid.uuid4()))
        runs = [
            sch.new_run(f"run_{i}", written, "schedule", f"2026-12-0{i + 1}T03:00:00Z", 1_800_000_000) for i in range(3)
        ]
        for run in runs:
            assert repo.add_run(run) is True
        assert repo.add_run(runs[0]) is False
        changed = sch.with_task(runs[0], 0, status="failed", error="The node did not answer.")
        repo.save_run(changed)

        assert repo.get_run("run_0") == changed
        first = repo.runs(written.id, 2, None)
        assert [r.id for r in first.items] == ["run_2", "run_1"] and first.next_cursor
        rest = repo.runs(written.id, 2, first.next_cursor)
        assert [r.id for r in rest.items] == ["run_0"] and rest.next_cursor is None
        assert repo.runs("sch_other", 2, None).items == []


class TestRepositoryOnFake(RepositoryContract):
    @pytest.fixture
    def repo(self) -> Any:
        return FakeScheduleRepository()


class TestRepositoryOnDynamo(RepositoryContract):
    @pytest.fixture
    def repo(self, aws: None) -> Any:
        from mamba import bootstrap

        return bootstrap.schedule_repository()


# --- ScheduleTrigger ---


class TriggerContract:
    """What the scheduler holds is read back through ``held(schedule_id)``: (expressions, zone, enabled)."""

    @pytest.fixture
    def trigger(self) -> Any:
        raise NotImplementedError

    def held(self, trigger: Any, schedule_id: str) -> tuple[list[str], str, bool] | None:
        raise NotImplementedError

    def test_put_creates_then_updates_and_delete_removes(self, trigger):
        written = schedule(str(uuid.uuid4()))

        trigger.put(written)
        assert self.held(trigger, written.id) == (["cron(0 4 * * ? *)"], "Europe/Berlin", True)
        both = replace(written, cron=sch.parse_cron("30", "5", "1", "*", "MON"), timezone="UTC", paused=True)
        trigger.put(both)
        assert self.held(trigger, written.id) == (["cron(30 5 1 * ? *)", "cron(30 5 ? * MON *)"], "UTC", False)
        trigger.put(written)
        assert self.held(trigger, written.id) == (["cron(0 4 * * ? *)"], "Europe/Berlin", True)

        trigger.delete(written.id)
        trigger.delete(written.id)  # again: nothing there, no error
        assert self.held(trigger, written.id) is None


class TestTriggerOnFake(TriggerContract):
    @pytest.fixture
    def trigger(self) -> Any:
        return FakeScheduleTrigger()

    def held(self, trigger: Any, schedule_id: str) -> tuple[list[str], str, bool] | None:
        found: tuple[list[str], str, bool] | None = trigger.held.get(schedule_id)
        return found


class TestTriggerOnEventBridge(TriggerContract):
    @pytest.fixture
    def trigger(self, aws: None) -> Any:
        from mamba.adapters.eventbridge_scheduler import EventBridgeScheduleTrigger
        from tests.schedule_support import GROUP, ROLE_ARN, TARGET_ARN, scheduler

        scheduler().create_schedule_group(Name=GROUP)
        return EventBridgeScheduleTrigger(scheduler(), GROUP, TARGET_ARN, ROLE_ARN)

    def held(self, trigger: Any, schedule_id: str) -> tuple[list[str], str, bool] | None:
        from tests.schedule_support import GROUP, scheduler

        names = sorted(
            s["Name"]
            for s in scheduler().list_schedules(GroupName=GROUP)["Schedules"]
            if s["Name"].startswith(f"{schedule_id}-")
        )
        if not names:
            return None
        parts = [scheduler().get_schedule(Name=n, GroupName=GROUP) for n in names]
        states = {p["State"] for p in parts}
        assert len(states) == 1 and len({p["ScheduleExpressionTimezone"] for p in parts}) == 1
        return [p["ScheduleExpression"] for p in parts], parts[0]["ScheduleExpressionTimezone"], states == {"ENABLED"}
