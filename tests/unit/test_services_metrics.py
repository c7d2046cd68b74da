"""mamba.services.metrics on fakes: one minute write per node, rollups once per server per
hour (caught up after missed runs, the day's hourly points on its last hour), the series from
rollups and minutes, crash events and the panel's power requests."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from mamba.auth.context import TenantContext
from mamba.domain import metrics as m
from mamba.domain.errors import NotFoundError
from mamba.domain.nodes import Node
from mamba.domain.server_lifecycle import Observation
from mamba.domain.servers import Limits, Server
from mamba.services import metrics as service
from tests.fakes import FakeMetricsStore, FakeNodeRepository, FakeServerEvents, FakeServerRepository

DAY0 = 1_764_028_800  # 2025-11-25T00:00:00Z
NODE = "nd_a"
TENANT = TenantContext(tenant_id="tn_a", role="owner", permissions=frozenset())
UUIDS = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"]


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def server(uuid: str, status: str = "running") -> Server:
    return Server(
        uuid=uuid, name="s", tenant_id="tn_a", node_id=NODE, blueprint_id="bp", allocation=("10.0.0.1", 25565),
        docker_image="img", startup="run", limits=Limits(memory_mb=1024, disk_mb=1024, cpu_percent=100),
        status=status, created_at="2025-11-25T00:00:00Z", updated_at="2025-11-25T00:00:00Z",
    )  # fmt: skip


def world(now: int) -> tuple[service.MetricsPorts, FakeMetricsStore, FakeServerEvents, Clock]:
    store, events, clock = FakeMetricsStore(), FakeServerEvents(), Clock(now)
    servers = FakeServerRepository()
    for uuid in UUIDS:
        servers.add(server(uuid))
    nodes = FakeNodeRepository()
    nodes.add(
        Node(id=NODE, uuid="n", name="n", fqdn="n.example.org", token_id="T" * 16, created_at="", updated_at=""), "t"
    )
    ids = itertools.count()
    ports = service.MetricsPorts(
        store=store, events=events, servers=servers, nodes=nodes, clock=clock, new_id=lambda: f"ev_{next(ids):04d}",
        server_partition=lambda u: f"SERVER#{u}", node_partition=lambda n: f"NODE#{n}",
    )  # fmt: skip
    return ports, store, events, clock


def util(i: int, memory: int = 100) -> dict[str, Any]:
    return {"cpu_absolute": float(i % 5), "memory_bytes": memory, "memory_limit_bytes": 1000, "disk_bytes": i,
            "network": {"rx_bytes": 10 * i, "tx_bytes": i}, "uptime": 60_000 * (i + 1)}  # fmt: skip


def seen(i: int, state: str = "running", memory: int = 100) -> dict[str, Observation]:
    return {u: Observation(u, state, util(i, memory)) for u in UUIDS}


def run(ports: service.MetricsPorts, clock: Clock, minutes: range, start: int) -> None:
    for i in minutes:
        clock.now = start + 60 * i + 3
        service.record_node(ports, NODE, [server(u) for u in UUIDS], seen(i))


def test_rollups_are_one_write_per_server_per_hour_and_a_missed_run_is_caught_up() -> None:
    # Given three hours of minutes, whose first two hours were rolled up as they ended
    ports, store, _, clock = world(DAY0)
    run(ports, clock, range(180), DAY0)
    assert store.writes.count("minute") == 180
    assert store.markers[NODE] == DAY0 + 3600
    # ... and then lost, as if those runs had failed
    store.rollup_items.clear()
    del store.markers[NODE]
    store.markers[NODE] = DAY0 - 3600

    # When the next run comes three hours on (two runs were missed)
    clock.now = DAY0 + 3 * 3600 + 5
    rolled = service.roll_up(ports, NODE, clock.now)

    # Then every hour that ended is rolled up, once per server (and once for the node's totals)
    assert rolled == 3
    keys = sorted(store.rollup_items)
    assert keys == sorted(
        (p, DAY0 + 3600 * h) for p in [f"SERVER#{u}" for u in UUIDS] + [f"NODE#{NODE}"] for h in range(3)
    )
    five, hourly, day = store.rollup_items[(f"SERVER#{UUIDS[0]}", DAY0)]
    assert len(five) == 12 and hourly.n == 60 and day is None


def test_the_last_hour_of_a_day_carries_the_days_hourly_points() -> None:
    # Given a whole day of minutes
    ports, store, _, clock = world(DAY0)
    run(ports, clock, range(24 * 60 + 2), DAY0)

    # Then the 23:00 rollup carries 24 hourly points, and no other hour does
    days = {key: day for key, (_, _, day) in store.rollup_items.items() if day is not None}
    assert sorted(days) == sorted((p, DAY0 + 23 * 3600) for p in [f"SERVER#{u}" for u in UUIDS] + [f"NODE#{NODE}"])
    assert [p.t for p in days[(f"SERVER#{UUIDS[0]}", DAY0 + 23 * 3600)]] == [DAY0 + 3600 * h for h in range(24)]

    # When the five-minute items have expired (30 days later) but the day's last hour has not
    for key in [k for k, (_, _, day) in store.rollup_items.items() if day is None]:
        del store.rollup_items[key]
    clock.now = DAY0 + 40 * 86400
    series = service.server_metrics(ports, TENANT, UUIDS[0], start=DAY0, end=DAY0 + 86400, resolution="1h")

    # Then the day is still there hour by hour, as the minutes made it
    minutes = m.minute_points([(DAY0 + 60 * i, m.sample_from_utilization(util(i), "running")) for i in range(24 * 60)])
    assert series.points == m.aggregate(minutes, 3600)


def test_a_series_joins_stored_rollups_and_the_minutes_not_rolled_up_yet() -> None:
    ports, _, _, clock = world(DAY0)
    run(ports, clock, range(150), DAY0)
    clock.now = DAY0 + 150 * 60

    series = service.server_metrics(ports, TENANT, UUIDS[1], start=DAY0, end=clock.now, resolution="5m")

    minutes = m.minute_points([(DAY0 + 60 * i, m.sample_from_utilization(util(i), "running")) for i in range(150)])
    assert series.resolution == "5m" and series.points == m.aggregate(minutes, 300)
    node = service.node_metrics(ports, NODE, start=DAY0, end=clock.now, resolution="1h")
    assert node.points == m.aggregate(m.totals([minutes, minutes]), 3600)


def test_another_tenants_server_and_an_unknown_node_are_not_found() -> None:
    ports, _, _, _ = world(DAY0)
    other = TenantContext(tenant_id="tn_b", role="owner", permissions=frozenset())
    with pytest.raises(NotFoundError):
        service.server_metrics(ports, other, UUIDS[0], start=None, end=None)
    with pytest.raises(NotFoundError):
        service.list_events(ports, other, UUIDS[0], m_page())
    with pytest.raises(NotFoundError):
        service.node_metrics(ports, "nd_nope", start=None, end=None)


def m_page() -> Any:
    from mamba.domain.pages import PageRequest

    return PageRequest(limit=10)


@pytest.mark.parametrize(
    ("action", "asked_ago", "expected"),
    [
        (None, None, [m.CRASHED]),
        ("stop", 20, []),
        ("kill", 59, []),
        ("restart", 61, [m.CRASHED]),
        ("start", 5, [m.CRASHED]),
    ],
)
def test_an_exit_is_a_crash_unless_the_panel_asked_for_it(
    action: str | None, asked_ago: int | None, expected: list[str]
) -> None:
    # Given a server seen running
    ports, _, events, clock = world(DAY0)
    run(ports, clock, range(1), DAY0)
    clock.now = DAY0 + 63
    if action is not None and asked_ago is not None:
        service.mark_power(events, UUIDS[0], action, clock.now - asked_ago)

    # When the next run sees it offline (the other server still running)
    observed = seen(1)
    observed[UUIDS[0]] = Observation(UUIDS[0], "offline", util(1))
    result = service.record_node(ports, NODE, [server(u) for u in UUIDS], observed)

    # Then a crash is reported unless a stop, restart or kill was asked in the last 60 s
    assert [e.type for e in events.since(UUIDS[0], 0)] == expected
    assert events.since(UUIDS[1], 0) == []
    assert result["events"] == len(expected)


def test_a_crash_at_the_memory_limit_is_also_suspected_out_of_memory() -> None:
    ports, _, events, clock = world(DAY0)
    clock.now = DAY0 + 3
    service.record_node(ports, NODE, [server(u) for u in UUIDS], seen(0, memory=990))
    clock.now = DAY0 + 63

    service.record_node(ports, NODE, [server(u) for u in UUIDS], seen(1, "offline"))

    found = events.since(UUIDS[0], 0)
    assert [e.type for e in found] == [m.CRASHED, m.OOM_SUSPECTED]
    assert found[0].details == {"state": "offline", "memory_bytes": 990, "memory_limit_bytes": 1000}


def test_a_failing_power_mark_never_refuses_the_power_action() -> None:
    from mamba.domain.errors import DependencyUnavailableError

    class Broken(FakeServerEvents):
        def mark_power(self, server_uuid: str, action: str, at: int) -> None:
            raise DependencyUnavailableError("down")

    service.mark_power(Broken(), UUIDS[0], "stop", DAY0)  # no exception


def test_a_node_with_no_servers_shows_zeros_not_a_gap() -> None:
    # Given a node that answered for three minutes with no server on it
    ports, store, _, clock = world(DAY0)
    for i in range(3):
        clock.now = DAY0 + 60 * i + 3
        service.record_node(ports, NODE, [], {})
    clock.now = DAY0 + 3 * 60

    # Then its series has three zero points, online
    series = service.node_metrics(ports, NODE, start=DAY0, end=clock.now)
    assert [(p.t, p.cpu_percent, p.memory_bytes, p.state) for p in series.points] == [
        (DAY0 + 60 * i, 0.0, 0, "online") for i in range(3)
    ]
    assert store.writes.count("minute") == 3


@pytest.mark.parametrize(("event", "ago", "crash"), [("server:power.stop", 10, False), ("server:power.stop", 90, True),
                                                      ("server:power.start", 10, True)])  # fmt: skip
def test_a_stop_from_the_console_reported_in_wings_activity_is_no_crash(event: str, ago: int, crash: bool) -> None:
    from datetime import UTC, datetime

    from mamba.domain.servers import ActivityEntry

    # Given a server seen running, then Wings' activity log reporting a power action from the console
    ports, _, events, clock = world(DAY0)
    run(ports, clock, range(1), DAY0)
    clock.now = DAY0 + 63
    at = datetime.fromtimestamp(clock.now - ago, UTC).isoformat().replace("+00:00", ".123456789Z")
    ports.servers.add_activity([ActivityEntry(UUIDS[0], "tn_a", event, at, {})])  # type: ignore[attr-defined]

    # When the next run sees it offline
    observed = seen(1)
    observed[UUIDS[0]] = Observation(UUIDS[0], "offline", util(1))
    service.record_node(ports, NODE, [server(u) for u in UUIDS], observed)

    # Then it is a crash only when the console's action does not explain the exit
    assert [e.type for e in events.since(UUIDS[0], 0)] == ([m.CRASHED] if crash else [])


def test_a_day_whose_last_hour_the_node_missed_keeps_its_hourly_points() -> None:
    # Given a day of minutes but for its last hour (the node did not answer from 23:00)
    ports, store, _, clock = world(DAY0)
    run(ports, clock, range(23 * 60), DAY0)

    # When the node answers again the next morning
    run(ports, clock, range(24 * 60 + 5, 24 * 60 + 6), DAY0)

    # Then the day's last hour carries the 23 hours it had, for each server and the node
    _, _, day = store.rollup_items[(f"SERVER#{UUIDS[0]}", DAY0 + 23 * 3600)]
    assert day is not None and [p.t for p in day] == [DAY0 + 3600 * h for h in range(23)]
    assert store.rollup_items[(f"NODE#{NODE}", DAY0 + 23 * 3600)][2] is not None
