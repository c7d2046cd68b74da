"""A server's schedules follow its lifecycle (docs/schedules.md): the real delete_server,
suspend_server and unsuspend_server workflows on moto, against the Wings simulator, with
EventBridge Scheduler on moto. Suspension pauses the schedules (their EventBridge schedules
disabled), unsuspension resumes them, deletion removes them and their EventBridge schedules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain import schedules as sch
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.services import schedules as schedules_service
from mamba.services import server_lifecycle as lifecycle
from tests.schedule_support import eventbridge_schedules, scheduler_configured
from tests.statemachines.conftest import Deployed
from tests.statemachines.lifecycle_support import LifecycleWorld, SimNode, build_world, sim_node

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lifecycle-workflows")]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNode]:
    with sim_node(tmp_path_factory.mktemp("schedule-lifecycle-sim")) as node:
        yield node


@pytest.fixture
def world(sim: SimNode, client: Any, deployed_workflows: Deployed) -> Iterator[LifecycleWorld]:
    built = build_world(sim, client)
    with scheduler_configured():
        yield built
    sim.bridge.client = None


def add_schedules(world: LifecycleWorld, server_uuid: str, count: int) -> list[str]:
    owner = replace(world.tenant, permissions=BUILTIN_ROLES["owner"])
    body = schedules_service.ScheduleInput(
        name="Nightly",
        cron={"minute": "0", "hour": "4", "day_of_month": "*", "month": "*", "day_of_week": "*"},
        timezone="UTC",
        enabled=True,
        only_when_online=False,
        tasks=[sch.Task("power", "restart")],
    )
    return [
        schedules_service.create_schedule(bootstrap.schedule_ports(), owner, server_uuid, body).schedule.id
        for _ in range(count)
    ]


def run(deployed: Deployed, workflow: str, op: Any) -> None:
    execution = deployed.wait(deployed.execution_arn(workflow, op.id), timeout_s=60)
    assert execution["status"] == "SUCCEEDED", execution


def states() -> dict[str, str]:
    return {name: held["State"] for name, held in eventbridge_schedules().items()}


def test_suspension_pauses_the_schedules_and_unsuspension_resumes_them(
    world: LifecycleWorld, deployed_workflows: Deployed
) -> None:
    server = world.create_installed()
    ids = add_schedules(world, server.uuid, 2)
    assert set(states().values()) == {"ENABLED"}

    run(deployed_workflows, "suspend_server", lifecycle.suspend_server(world.deps, server.uuid))

    assert states() == {f"{i}-0": "DISABLED" for i in ids}
    stored = bootstrap.schedule_repository().of_server(server.uuid)
    assert [s.paused for s in stored] == [True, True]

    run(deployed_workflows, "unsuspend_server", lifecycle.unsuspend_server(world.deps, server.uuid))

    assert states() == {f"{i}-0": "ENABLED" for i in ids}
    assert [s.paused for s in bootstrap.schedule_repository().of_server(server.uuid)] == [False, False]


def test_deletion_removes_the_schedules_and_their_eventbridge_schedules(
    world: LifecycleWorld, deployed_workflows: Deployed
) -> None:
    server = world.create_installed()
    kept = world.create_installed()
    add_schedules(world, server.uuid, 2)
    [other] = add_schedules(world, kept.uuid, 1)

    run(deployed_workflows, "delete_server", lifecycle.delete_server(world.deps, world.tenant, server.uuid))

    assert bootstrap.schedule_repository().of_server(server.uuid) == []
    assert list(eventbridge_schedules()) == [f"{other}-0"]
