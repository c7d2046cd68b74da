"""The metrics history over the real app on moto: what the reconcile stores (one write per node
per minute, rollups per hour), the metrics routes of a server and a node (JSON and CSV, resolution
choice, at most 3 Query pages) and a server's event history (cursor-paginated)."""

from __future__ import annotations

import csv
import dataclasses
import io
import time
import uuid as uuid_mod
from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain import metrics as m
from mamba.domain.metrics import Point, ServerEvent
from mamba.domain.server_lifecycle import Observation
from mamba.services import metrics as service
from tests.api.server_world import TENANT_A, TENANT_B, _user, add_server
from tests.support import DynamoCounter

HOUR = 3600
H0 = int(time.time()) // HOUR * HOUR - 3 * HOUR  # three hours ago, on the hour
MINUTES = 150  # two full hours and half of a third
NODE = "node_metrics"


class Clock:
    def __init__(self) -> None:
        self.now = H0

    def __call__(self) -> int:
        return self.now


@dataclasses.dataclass
class World:
    client: Any
    clock: Clock
    ports: service.MetricsPorts
    servers: dict[str, str]
    tokens: dict[str, str]

    def get(self, who: str, path: str) -> Any:
        with bootstrap.override(metrics_ports=self.ports):
            return self.client.http.get(path, headers={"Authorization": f"Bearer {self.tokens[who]}"})

    def server_path(self, label: str, query: str = "", tenant: str = TENANT_A, tail: str = "/metrics") -> str:
        return f"/v1/tenants/{tenant}/servers/{self.servers[label]}{tail}{query}"


def utilization(i: int, label: str) -> dict[str, Any]:
    """What Wings says about server ``label`` at minute ``i``."""
    if label == "one":
        return {
            "cpu_absolute": float(i % 7),
            "memory_bytes": 1000 * i,
            "memory_limit_bytes": 10**9,
            "network": {"rx_bytes": 100 * i, "tx_bytes": 10 * i},
            "uptime": 60_000 * i,
            "disk_bytes": 5000 + i,
        }
    return {"cpu_absolute": 1.0, "memory_bytes": 500, "memory_limit_bytes": 10**6, "disk_bytes": 7}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.auth.tokens import issue_access
    from mamba.domain.nodes import Node
    from mamba.domain.tenancy import Membership, Tenant
    from tests.support import app_on_moto

    with app_on_moto() as client:
        bootstrap.dynamo_tables()
        for user_id in ("usr_alice", "usr_bob"):
            _user(user_id)
        _user("usr_root", is_admin=True)
        for tenant_id, owner in ((TENANT_A, "usr_alice"), (TENANT_B, "usr_bob")):
            DynamoTenantRepository().add_with_owner(
                Tenant(id=tenant_id, name=tenant_id, created_at="2026-11-25T10:00:00Z"),
                Membership(tenant_id=tenant_id, user_id=owner, role="owner", created_at="2026-11-25T10:00:00Z"),
            )
        node = Node(
            id=NODE, uuid=str(uuid_mod.uuid4()), name=NODE, fqdn="127.0.0.1", token_id="N" * 16,
            created_at="2026-11-25T10:00:00Z", updated_at="2026-11-25T10:00:00Z",
        )  # fmt: skip
        bootstrap.node_repository().add(node, "t" * 64)
        servers = {"one": str(uuid_mod.uuid4()), "two": str(uuid_mod.uuid4()), "theirs": str(uuid_mod.uuid4())}
        for label, server_uuid in servers.items():
            add_server(server_uuid, TENANT_B if label == "theirs" else TENANT_A, status="running", node_id=NODE)
        clock = Clock()
        ports = dataclasses.replace(bootstrap.metrics_ports(), clock=clock)
        records = [bootstrap.server_repository().get(u) for u in servers.values()]
        # Given the reconcile schedule reading the node every minute for two and a half hours
        for i in range(MINUTES):
            clock.now = H0 + 60 * i + 5
            seen = {
                servers[label]: Observation(servers[label], "running", utilization(i, label))
                for label in ("one", "two")
            }
            service.record_node(ports, NODE, records, seen)
        clock.now = H0 + 60 * MINUTES + 30
        secret = bootstrap.settings().jwt_secret
        tokens = {name: issue_access(f"usr_{name}", secret) for name in ("alice", "bob", "root")}
        yield World(client, clock, ports, servers, tokens)


def expected_minutes(label: str) -> list[Point]:
    samples = [(H0 + 60 * i, m.sample_from_utilization(utilization(i, label), "running")) for i in range(MINUTES)]
    return m.minute_points(samples)


def points(response: Any) -> list[Point]:
    assert response.status_code == 200, response.body
    return [Point(**p, n=1) for p in response.json_body["points"]]


def same_values(a: list[Point], b: list[Point]) -> bool:
    """Equal but for ``n`` (the API does not show it)."""
    return [dataclasses.replace(p, n=1) for p in a] == [dataclasses.replace(p, n=1) for p in b]


def test_a_server_that_ran_for_minutes_has_its_points_at_1m_oldest_first(world: World) -> None:
    # When its owner asks for the whole run at 1-minute resolution
    response = world.get("alice", world.server_path("one", f"?from={H0}&to={world.clock.now}&resolution=1m"))

    # Then every minute is there with Wings' numbers, network as increases
    assert response.json_body["resolution"] == "1m"
    assert same_values(points(response), expected_minutes("one"))
    first, second = response.json_body["points"][:2]
    assert first == {
        "t": H0, "cpu_percent": 0.0, "memory_bytes": 0, "memory_limit_bytes": 10**9, "rx_bytes": 0, "tx_bytes": 0,
        "disk_bytes": 5000, "state": "running",
    }  # fmt: skip
    assert (second["rx_bytes"], second["tx_bytes"]) == (100, 10)


def test_the_last_hour_by_default_answers_at_1m(world: World) -> None:
    response = world.get("alice", world.server_path("one"))
    assert response.json_body["resolution"] == "1m"
    got = points(response)
    assert got and got[-1].t == H0 + 60 * (MINUTES - 1) and got[0].t >= world.clock.now - HOUR - 60


def test_rollups_are_written_once_per_server_per_finished_hour_and_match_the_raw_points(world: World) -> None:
    # Then the two finished hours are rolled up (one item per server and per node each)
    store = world.ports.store
    for partition in (world.ports.server_partition(world.servers["one"]), world.ports.node_partition(NODE)):
        five, hourly = store.rollups(partition, H0, H0 + 2 * HOUR)
        assert [p.t for p in hourly] == [H0, H0 + HOUR]
        assert len(five) == 24
    five, hourly = store.rollups(world.ports.server_partition(world.servers["one"]), H0, H0 + 2 * HOUR)
    raw = expected_minutes("one")
    assert five == m.aggregate([p for p in raw if p.t < H0 + 2 * HOUR], 300)
    assert hourly == m.aggregate([p for p in raw if p.t < H0 + 2 * HOUR], HOUR)


@pytest.mark.parametrize("resolution", ["5m", "1h"])
def test_coarser_resolutions_match_the_minutes_rolled_up(world: World, resolution: str) -> None:
    # When the run is asked for at 5 minutes or an hour (rollups for two hours, the minutes for the rest)
    response = world.get("alice", world.server_path("one", f"?from={H0}&to={world.clock.now}&resolution={resolution}"))

    # Then the points are those of the minutes rolled up
    assert response.json_body["resolution"] == resolution
    assert same_values(points(response), m.aggregate(expected_minutes("one"), m.RESOLUTIONS[resolution]))


def test_auto_answers_a_day_at_5m(world: World) -> None:
    response = world.get("alice", world.server_path("one", f"?from={world.clock.now - 86400}&to={world.clock.now}"))
    assert response.json_body["resolution"] == "5m"
    assert same_values(points(response), m.aggregate(expected_minutes("one"), 300))


def test_the_csv_matches_the_json(world: World) -> None:
    query = f"?from={H0}&to={world.clock.now}&resolution=5m"
    as_json = world.get("alice", world.server_path("one", query)).json_body["points"]

    response = world.get("alice", world.server_path("one", query + "&format=csv"))

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert [{k: str(v) for k, v in p.items()} for p in as_json] == rows


@pytest.mark.parametrize(
    "query",
    [f"?from={H0}&to={H0 + 60 * MINUTES}&resolution={r}" for r in ("1m", "5m", "1h", "auto")]
    + [f"?from={H0 - 390 * 86400}&to={H0 + 60 * MINUTES}&resolution=1h", f"?from={H0 - 29 * 86400}&resolution=5m"],
)
def test_a_range_query_never_takes_more_than_3_query_pages(
    world: World, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = DynamoCounter(monkeypatch)
    response = world.get("alice", world.server_path("one", query))
    assert response.status_code == 200, response.body
    assert counter.actions.count("Query") <= 3, counter.actions
    assert "Scan" not in counter.actions

    counter.actions.clear()
    response = world.get("root", f"/v1/admin/nodes/{NODE}/metrics{query}")
    assert response.status_code == 200, response.body
    assert counter.actions.count("Query") <= 3, counter.actions


def test_another_tenants_server_answers_404(world: World) -> None:
    assert world.get("bob", world.server_path("one", tenant=TENANT_B)).status_code == 404
    assert world.get("alice", world.server_path("theirs")).status_code == 404
    assert world.get("alice", world.server_path("theirs", tail="/events")).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?resolution=10s", "resolution"),
        (f"?from={H0 - 86400}&resolution=1m", "resolution"),
        ("?from=yesterday", "from"),
        (f"?from={H0}&to={H0 - 60}", "from"),
        ("?format=xml", "format"),
        ("?to=0", "from"),  # the hour before 1970
        ("?from=1960-01-01T00:00:00Z&to=1960-01-02T00:00:00Z", "from"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter(world: World, query: str, field: str) -> None:
    response = world.get("alice", world.server_path("one", query))
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "VALIDATION_ERROR"
    assert field in str(response.json_body["error"]["details"])


def test_a_nodes_metrics_are_its_servers_totals_for_admins_only(world: World) -> None:
    query = f"?from={H0}&to={world.clock.now}&resolution=5m"
    response = world.get("root", f"/v1/admin/nodes/{NODE}/metrics{query}")

    total = m.totals([expected_minutes("one"), expected_minutes("two")])
    assert same_values(points(response), m.aggregate(total, 300))
    assert {p["state"] for p in response.json_body["points"]} == {"online"}
    assert world.get("alice", f"/v1/admin/nodes/{NODE}/metrics{query}").status_code == 403
    assert world.get("root", f"/v1/admin/nodes/nd_nope/metrics{query}").status_code == 404
    as_csv = world.get("root", f"/v1/admin/nodes/{NODE}/metrics{query}&format=csv")
    assert as_csv.status_code == 200 and as_csv.body.decode().startswith("t,cpu_percent,")


def test_the_schedule_writes_a_nodes_minute_once_however_often_it_runs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a minute already stored (the run above at H0+149m)
    records = [bootstrap.server_repository().get(world.servers["one"])]
    seen = {world.servers["one"]: Observation(world.servers["one"], "running", utilization(MINUTES, "one"))}
    ports = dataclasses.replace(world.ports, clock=lambda: H0 + 60 * MINUTES + 10)
    counter = DynamoCounter(monkeypatch)

    # When the schedule runs three times in the next minute
    results = [service.record_node(ports, NODE, records, seen) for _ in range(3)]

    # Then the minute is written once, and nothing else is (the rollups are up to date)
    assert [r["minute_writes"] for r in results] == [1, 0, 0]
    assert counter.actions.count("PutItem") == 1
    assert "BatchWriteItem" not in counter.actions


def test_events_are_listed_newest_first_with_a_cursor(world: World) -> None:
    events = world.ports.events
    server_uuid = world.servers["two"]
    for at, kind in ((H0 + 60, m.CRASHED), (H0 + 120, m.OOM_SUSPECTED), (H0 + 180, m.CRASH_LOOP)):
        events.add(ServerEvent(id=f"ev_{at}", server_uuid=server_uuid, type=kind, at=at, details={"x": 1}), TENANT_A)

    first = world.get("alice", world.server_path("two", "?limit=2", tail="/events"))
    assert first.status_code == 200, first.body
    assert [e["type"] for e in first.json_body["items"]] == [m.CRASH_LOOP, m.OOM_SUSPECTED]
    assert first.json_body["items"][0]["at"].endswith("Z") and first.json_body["items"][0]["details"] == {"x": 1}
    cursor = first.json_body["next_cursor"]
    assert cursor

    second = world.get("alice", world.server_path("two", f"?limit=2&cursor={cursor}", tail="/events"))
    assert [e["type"] for e in second.json_body["items"]] == [m.CRASHED]
    assert second.json_body["next_cursor"] is None
    # A cursor of one server's history is no good for another's
    other = world.get("alice", world.server_path("one", f"?limit=2&cursor={cursor}", tail="/events"))
    assert other.status_code == 400


def test_a_node_too_big_for_the_page_budget_keeps_its_latest_minutes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random

    # Given a node of 250 servers (minute items of ~15 KB: 500 of them are ~7 MB) and one of them ours
    rng = random.Random(13)
    ours = str(uuid_mod.uuid4())
    add_server(ours, TENANT_A, status="running", node_id="node_big")
    others = [str(uuid_mod.uuid4()) for _ in range(249)]
    end = world.clock.now - world.clock.now % 60
    for i in range(500):
        t = end - 60 * (500 - i)
        samples = {
            u: m.Sample(rng.uniform(0, 400), rng.randrange(10**9), 2**33, rng.randrange(10**11), 0, 7, 0, "running")
            for u in [ours, *others]
        }
        world.ports.store.put_minute("node_big", t, samples)
    counter = DynamoCounter(monkeypatch)

    # When its owner asks for the 500 minutes at 1m
    response = world.get("alice", f"/v1/tenants/{TENANT_A}/servers/{ours}/metrics?from={end - 30000}&to={end}")

    # Then at most 3 Query pages were read, and the points kept are the latest ones, contiguous
    assert counter.actions.count("Query") <= 3, counter.actions
    got = points(response)
    assert response.json_body["resolution"] == "1m"
    assert got[-1].t == end - 60
    assert [p.t for p in got] == list(range(got[0].t, end, 60))
    assert 100 < len(got) < 500  # cut at its oldest end, not empty
