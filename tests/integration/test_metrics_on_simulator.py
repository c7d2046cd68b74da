"""The metrics history and crash detection through the real reconcile schedule, on moto, against
the Wings simulator over real HTTP: a running server has points at 1-minute resolution; a game
process killed on the node is exactly one ``server.crashed``; three within ten minutes are a
``server.crash_loop``; a stop the panel asked for is no crash.

The schedule's clock (``MetricsPorts.clock``) is moved a minute per run, so a few simulated
minutes take seconds; the node's answers are real."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from functions.schedules import reconcile
from mamba import bootstrap
from mamba.domain import metrics as m
from mamba.services import metrics as service
from mamba.services import server_control
from tests.statemachines.lifecycle_support import LifecycleWorld, SimNode, build_world, sim_node, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("metrics-simulator")]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNode]:
    with sim_node(tmp_path_factory.mktemp("metrics-sim")) as node:
        yield node


class Clock:
    def __init__(self) -> None:
        self.now = int(time.time())

    def __call__(self) -> int:
        return self.now

    def tick(self, seconds: int = 60) -> None:
        self.now += seconds


@dataclasses.dataclass
class World:
    life: LifecycleWorld
    clock: Clock
    ports: service.MetricsPorts

    def reconcile(self) -> dict[str, Any]:
        """One run of the real schedule at the simulated time; this node's row."""
        with bootstrap.override(metrics_ports=self.ports):
            result = reconcile.handler({}, None)
        return next(r for r in result["nodes"] if r["node_id"] == self.life.node.id)

    def events(self, server_uuid: str) -> list[str]:
        page = self.ports.events.page(server_uuid, bootstrap_page())
        return [e.type for e in reversed(page.items)]  # oldest first

    def kill_game(self, server_uuid: str) -> None:
        """Kill the game process from outside, as the kernel's OOM killer or a crash would."""
        directory = str(self.life.sim.base / "data" / server_uuid)
        root = psutil.Process(self.life.sim.process.pid)
        game = [p for p in root.children(recursive=True) if _cwd(p) == directory]
        assert game, "the game process was not found"
        for proc in game:
            os.kill(proc.pid, signal.SIGKILL)
        wait_for(lambda: self.life.wings_state(server_uuid) == "offline", what="the node to see the exit")


def _cwd(proc: psutil.Process) -> str | None:
    try:
        return str(proc.cwd())
    except psutil.Error:
        return None


def bootstrap_page() -> Any:
    from mamba.domain.pages import PageRequest

    return PageRequest(limit=100)


@pytest.fixture
def world(sim: SimNode, client: Any) -> Iterator[World]:
    life = build_world(sim, client)
    clock = Clock()
    yield World(life, clock, dataclasses.replace(bootstrap.metrics_ports(), clock=clock))
    sim.bridge.client = None


def test_a_server_running_for_a_few_minutes_has_points_at_1m(world: World) -> None:
    # Given a server running on the node
    server = world.life.create_installed(memory_mb=512)
    world.life.start(server.uuid)
    start = world.clock.now - world.clock.now % 60

    # When the schedule runs once a minute for five minutes
    for _ in range(5):
        row = world.reconcile()
        assert row["samples"] == 1 and row["minute_writes"] == 1, row
        world.clock.tick()

    # Then its history has five 1-minute points with the node's numbers
    series = service.server_metrics(world.ports, world.life.tenant, server.uuid, start=start, end=world.clock.now)
    assert series.resolution == "1m"
    assert [p.t for p in series.points] == [start + 60 * i for i in range(5)]
    assert {p.state for p in series.points} == {"running"}
    assert all(p.memory_bytes > 0 and p.memory_limit_bytes == 512 * 1024 * 1024 for p in series.points)
    assert all(p.disk_bytes > 0 for p in series.points)  # the install wrote a file
    # and the node's totals are the same, one server being all it runs
    node = service.node_metrics(world.ports, world.life.node.id, start=start, end=world.clock.now)
    assert [(p.t, p.memory_bytes) for p in node.points] == [(p.t, p.memory_bytes) for p in series.points]


def test_a_killed_process_is_exactly_one_crash(world: World) -> None:
    # Given a running server the schedule has seen running
    server = world.life.create_installed()
    world.life.start(server.uuid)
    world.reconcile()
    world.clock.tick()

    # When its process is killed on the node and the schedule runs, then again in the same minute and the next
    world.kill_game(server.uuid)
    rows = [world.reconcile()]
    world.clock.tick(10)
    rows.append(world.reconcile())
    world.clock.tick(60)
    rows.append(world.reconcile())

    # Then exactly one server.crashed is in its history (small memory: no OOM suspicion)
    assert world.events(server.uuid) == [m.CRASHED]
    assert [r["events"] for r in rows] == [1, 0, 0]
    assert world.life.server(server.uuid).status == "offline"


def test_three_crashes_within_ten_minutes_are_a_crash_loop(world: World) -> None:
    server = world.life.create_installed()
    for _ in range(3):
        # Given the server running and seen running
        world.life.start(server.uuid)
        world.reconcile()
        world.clock.tick(120)
        # When it dies and the schedule sees it
        world.kill_game(server.uuid)
        world.reconcile()
        world.clock.tick(60)

    # Then three crashes and, with the third, one crash loop
    assert world.events(server.uuid) == [m.CRASHED, m.CRASHED, m.CRASHED, m.CRASH_LOOP]
    loop = world.ports.events.page(server.uuid, bootstrap_page()).items[0]
    assert loop.details == {"crashes": 3, "window_seconds": 600}


def test_a_stop_the_panel_asked_for_is_no_crash(world: World) -> None:
    # Given a running server the schedule has seen running
    server = world.life.create_installed()
    world.life.start(server.uuid)
    world.reconcile()
    world.clock.tick(30)

    # When its owner stops it through the panel and the schedule sees it offline
    server_control.power(bootstrap.server_control_ports(), world.life.tenant, server.uuid, "stop")
    wait_for(lambda: world.life.wings_state(server.uuid) == "offline", what="the server to stop")
    row = world.reconcile()

    # Then nothing is reported
    assert row["events"] == 0
    assert world.events(server.uuid) == []
    assert world.life.server(server.uuid).status == "offline"


def test_the_hour_rolled_up_on_the_simulator_matches_its_minutes(world: World) -> None:
    # Given a server running on the node, and the schedule ten minutes before an hour ends
    server = world.life.create_installed()
    world.life.start(server.uuid)
    hour = world.clock.now - world.clock.now % 3600 - 3600
    world.clock.now = hour + 50 * 60 + 5

    # When the schedule runs once a minute across the hour's end
    rolled = []
    for _ in range(12):
        rolled.append(world.reconcile()["rolled_hours"])
        world.clock.tick()

    # Then the hour was rolled up once, by the first run after it (the node's first run rolled up
    # the hour before, with nothing in it), and its 5-minute and hourly points are its minutes rolled up
    assert rolled == [1] + [0] * 9 + [1, 0]
    minutes = service.server_metrics(
        world.ports, world.life.tenant, server.uuid, start=hour, end=hour + 3600, resolution="1m"
    ).points
    assert [p.t for p in minutes] == [hour + 60 * i for i in range(50, 60)]
    five, hourly = world.ports.store.rollups(world.ports.server_partition(server.uuid), hour, hour + 3600)
    assert five == m.aggregate(minutes, 300) and len(five) == 2
    assert hourly == m.aggregate(minutes, 3600)
