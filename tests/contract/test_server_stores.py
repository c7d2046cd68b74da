"""Servers, nodes, allocations and placement: each port's behaviour is one base class, run
by two subclasses, over the fakes of tests/fakes.py and over the DynamoDB adapters on moto.

Every id is unique per test: a worker's moto may hold other tests' items, so listings are
read for this test's tenant or node only, never assumed empty.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

import pytest

from mamba.domain.blueprints import Blueprint
from mamba.domain.errors import (
    AllocationTakenError,
    ConflictError,
    NotFoundError,
    TenantServersChangedError,
    ValidationError,
)
from mamba.domain.fleet import ServerFilter
from mamba.domain.nodes import Allocation, Node
from mamba.domain.pages import PageRequest
from mamba.domain.servers import ActivityEntry, Limits, Server
from tests.fakes import (
    FakeAllocationRepository,
    FakeBlueprintRepository,
    FakeFleetReader,
    FakeNodeRepository,
    FakePlacementStore,
    FakeServerRepository,
)

T0, T1, T2 = "2026-11-25T10:00:00Z", "2026-11-25T10:00:01Z", "2026-11-25T10:00:02Z"


def uid() -> str:
    return secrets.token_hex(4)


def server(
    tenant_id: str, node_id: str, *, port: int = 25565, status: str = "offline", created_at: str = T0, memory: int = 512
) -> Server:
    uuid = f"{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}"
    return Server(
        uuid=uuid,
        name=f"srv {uuid[:8]}",
        tenant_id=tenant_id,
        node_id=node_id,
        blueprint_id="bp_1",
        allocation=("10.0.0.5", port),
        docker_image="img:1",
        startup="run",
        limits=Limits(memory_mb=memory, disk_mb=1024),
        status=status,
        created_at=created_at,
        updated_at=created_at,
        environment={"A": "1"},
    )


def node(node_id: str | None = None, created_at: str = T0) -> Node:
    node_id = node_id or f"nd_{uid()}"
    return Node(
        id=node_id,
        uuid=node_id,
        name=node_id,
        fqdn="n1.example.org",
        token_id=f"tok{secrets.token_hex(8)}"[:16],
        created_at=created_at,
        updated_at=created_at,
        memory_mb=8192,
        disk_mb=100_000,
    )


def allocation(node_id: str, port: int, ip: str = "10.0.0.5") -> Allocation:
    return Allocation(node_id=node_id, ip=ip, port=port, created_at=T0)


def _dynamo(request: pytest.FixtureRequest) -> Any:
    request.getfixturevalue("aws")
    from mamba import bootstrap

    bootstrap.dynamo_tables()
    return bootstrap


# --- servers ---------------------------------------------------------------------------------


class ServerRepositoryContract:
    @pytest.fixture
    def repo(self) -> Any:
        raise NotImplementedError

    def test_get_returns_the_server_when_added(self, repo):
        added = server(f"tn_{uid()}", "n1")

        repo.add(added)

        assert repo.get(added.uuid) == added

    def test_add_conflicts_when_the_uuid_exists(self, repo):
        added = server(f"tn_{uid()}", "n1")
        repo.add(added)

        with pytest.raises(ConflictError):
            repo.add(replace(added, name="again"))
        assert repo.get(added.uuid).name == added.name

    def test_get_is_not_found_when_the_uuid_is_unknown(self, repo):
        with pytest.raises(NotFoundError):
            repo.get(server("tn_x", "n1").uuid)

    def test_save_replaces_the_server_and_refuses_an_unknown_one(self, repo):
        added = server(f"tn_{uid()}", "n1")
        repo.add(added)

        repo.save(replace(added, status="running", status_reason="ok", updated_at=T1))

        assert (repo.get(added.uuid).status, repo.get(added.uuid).status_reason) == ("running", "ok")
        with pytest.raises(NotFoundError):
            repo.save(server("tn_x", "n1"))

    def test_delete_forgets_the_server_and_is_quiet_when_it_is_gone(self, repo):
        added = server(f"tn_{uid()}", "n1")
        repo.add(added)

        repo.delete(added.uuid)
        repo.delete(added.uuid)

        with pytest.raises(NotFoundError):
            repo.get(added.uuid)

    def test_on_node_lists_the_nodes_servers_by_uuid_and_pages_them(self, repo):
        node_id, tenant = f"nd_{uid()}", f"tn_{uid()}"
        mine = [server(tenant, node_id) for _ in range(3)]
        for each in [*mine, server(tenant, f"nd_{uid()}")]:
            repo.add(each)

        listed = repo.on_node(node_id)
        first, total = repo.page_on_node(node_id, 1, 2)
        second, _ = repo.page_on_node(node_id, 2, 2)

        assert [s.uuid for s in listed] == sorted(s.uuid for s in mine)
        assert total == 3 and first + second == listed

    def test_of_tenant_lists_oldest_first_and_pages_with_a_status_filter(self, repo):
        tenant = f"tn_{uid()}"
        old = server(tenant, "n1", created_at=T0, status="running")
        mid = server(tenant, "n1", created_at=T1)
        new = server(tenant, "n1", created_at=T2, status="running")
        for each in (new, old, mid, server(f"tn_{uid()}", "n1")):
            repo.add(each)

        everything = repo.of_tenant(tenant)
        first = repo.page_of_tenant(tenant, PageRequest(limit=2))
        rest = repo.page_of_tenant(tenant, PageRequest(limit=2, cursor=first.next_cursor))
        running = repo.page_of_tenant(tenant, PageRequest(limit=10), status="running")

        assert [s.uuid for s in everything] == [old.uuid, mid.uuid, new.uuid]
        assert [s.uuid for s in first.items + rest.items] == [old.uuid, mid.uuid, new.uuid]
        assert first.next_cursor and rest.next_cursor is None
        assert [s.uuid for s in running.items] == [old.uuid, new.uuid]

    def test_activity_is_newest_first_and_a_resent_entry_overwrites_itself(self, repo):
        uuid = server("tn_x", "n1").uuid
        entries = [
            ActivityEntry(server_uuid=uuid, tenant_id="tn_x", event=f"server:power.{n}", timestamp=t, metadata={})
            for n, t in (("start", T0), ("stop", T1), ("kill", T2))
        ]

        assert repo.add_activity(entries) == 3
        repo.add_activity(entries[:1])

        got = repo.activity(uuid)
        assert [e.event for e in got] == ["server:power.kill", "server:power.stop", "server:power.start"]
        assert all(e.entry_id for e in got)
        assert [e.event for e in repo.activity(uuid, limit=1)] == ["server:power.kill"]


class TestServerRepositoryOnFake(ServerRepositoryContract):
    @pytest.fixture
    def repo(self) -> Any:
        return FakeServerRepository()


class TestServerRepositoryOnDynamo(ServerRepositoryContract):
    @pytest.fixture
    def repo(self, request: pytest.FixtureRequest) -> Any:
        return _dynamo(request).server_repository()


# --- nodes and allocations ---------------------------------------------------------------------


class NodeStoresContract:
    @pytest.fixture
    def stores(self) -> tuple[Any, Any]:
        raise NotImplementedError

    def test_get_and_token_return_what_was_added(self, stores):
        nodes, _ = stores
        added = node()

        nodes.add(added, "secret-token")

        assert nodes.get(added.id) == added
        assert nodes.token(added) == "secret-token"
        assert nodes.find_by_token_id(added.token_id) == added

    def test_add_conflicts_when_the_id_or_the_token_id_exists(self, stores):
        nodes, _ = stores
        added = node()
        nodes.add(added, "t")

        with pytest.raises(ConflictError):
            nodes.add(replace(node(), token_id=added.token_id), "t")
        with pytest.raises(ConflictError):
            nodes.add(replace(added, token_id=node().token_id), "t")

    def test_get_is_not_found_and_find_by_token_id_is_none_when_unknown(self, stores):
        nodes, _ = stores
        with pytest.raises(NotFoundError):
            nodes.get(f"nd_{uid()}")
        assert nodes.find_by_token_id(node().token_id) is None
        assert nodes.find_by_token_id("") is None

    def test_update_changes_the_fields_but_keeps_the_token_id(self, stores):
        nodes, _ = stores
        added = node()
        nodes.add(added, "t")

        nodes.update(replace(added, name="renamed", maintenance=True, token_id="ignoredtokenid00"))

        got = nodes.get(added.id)
        assert (got.name, got.maintenance, got.token_id) == ("renamed", True, added.token_id)

    def test_rotate_token_retires_the_old_token_id_at_once(self, stores):
        nodes, _ = stores
        added = node()
        nodes.add(added, "old")
        fresh = node().token_id

        rotated = nodes.rotate_token(added.id, fresh, "new", T1)

        assert rotated.token_id == fresh and nodes.token(rotated) == "new"
        assert nodes.find_by_token_id(added.token_id) is None
        assert nodes.find_by_token_id(fresh).id == added.id

    def test_list_pages_the_nodes_in_creation_order(self, stores):
        nodes, _ = stores
        # Given three nodes created in the far future, so they come last in any shared table
        made = [node(created_at=f"2999-01-01T00:00:0{n}Z") for n in range(3)]
        for each in made:
            nodes.add(each, "t")
        seen: list[str] = []
        cursor = None
        while True:
            page, cursor = nodes.list(limit=2, cursor=cursor)
            seen += [n.id for n in page]
            if cursor is None:
                break

        assert [i for i in seen if i in {n.id for n in made}] == [n.id for n in made]

    def test_allocations_are_added_once_and_listed_by_ip_then_port(self, stores):
        nodes, allocations = stores
        added = node()
        nodes.add(added, "t")

        first = allocations.add_many([allocation(added.id, 25566), allocation(added.id, 25565)])
        again = allocations.add_many([allocation(added.id, 25565), allocation(added.id, 25567, "10.0.0.4")])

        assert (len(first.created), first.conflicts) == (2, [])
        assert ([a.port for a in again.created], again.conflicts) == ([25567], ["10.0.0.5:25565"])
        listed, cursor = allocations.list(added.id, limit=2)
        rest, last = allocations.list(added.id, limit=2, cursor=cursor)
        assert [(a.ip, a.port) for a in listed + rest] == [
            ("10.0.0.4", 25567),
            ("10.0.0.5", 25565),
            ("10.0.0.5", 25566),
        ]
        assert last is None

    def test_assign_and_release_hold_an_allocation_for_one_server(self, stores):
        nodes, allocations = stores
        added = node()
        nodes.add(added, "t")
        allocations.add_many([allocation(added.id, 25565)])

        allocations.assign(added.id, "10.0.0.5", 25565, "srv_a")
        with pytest.raises(ConflictError):
            allocations.assign(added.id, "10.0.0.5", 25565, "srv_b")
        allocations.release(added.id, "10.0.0.5", 25565, "srv_b")  # not the holder: a no-op
        held = allocations.get(added.id, "10.0.0.5", 25565).server_id
        allocations.release(added.id, "10.0.0.5", 25565, "srv_a")

        assert held == "srv_a"
        assert allocations.get(added.id, "10.0.0.5", 25565).server_id is None
        with pytest.raises(NotFoundError):
            allocations.assign(added.id, "10.0.0.5", 1, "srv_a")

    def test_delete_refuses_a_held_allocation_and_a_node_whose_allocation_is_held(self, stores):
        nodes, allocations = stores
        added = node()
        nodes.add(added, "t")
        allocations.add_many([allocation(added.id, 25565), allocation(added.id, 25566)])
        allocations.assign(added.id, "10.0.0.5", 25565, "srv_a")

        with pytest.raises(ConflictError):
            allocations.delete(added.id, "10.0.0.5", 25565)
        with pytest.raises(ConflictError):
            nodes.delete(added.id)
        allocations.delete(added.id, "10.0.0.5", 25566)
        with pytest.raises(NotFoundError):
            allocations.delete(added.id, "10.0.0.5", 25566)

    def test_delete_removes_the_node_its_token_and_its_free_allocations(self, stores):
        nodes, allocations = stores
        added = node()
        nodes.add(added, "t")
        allocations.add_many([allocation(added.id, 25565)])

        nodes.delete(added.id)

        with pytest.raises(NotFoundError):
            nodes.get(added.id)
        assert nodes.find_by_token_id(added.token_id) is None
        assert allocations.list(added.id) == ([], None)


class TestNodeStoresOnFake(NodeStoresContract):
    @pytest.fixture
    def stores(self) -> tuple[Any, Any]:
        nodes = FakeNodeRepository()
        return nodes, FakeAllocationRepository(nodes)


class TestNodeStoresOnDynamo(NodeStoresContract):
    @pytest.fixture
    def stores(self, request: pytest.FixtureRequest) -> tuple[Any, Any]:
        bootstrap = _dynamo(request)
        return bootstrap.node_repository(), bootstrap.allocation_repository()


# --- the admin's fleet listing -----------------------------------------------------------------


class FleetReaderContract:
    """(server repository, node repository, fleet reader) over the same storage."""

    @pytest.fixture
    def fleet(self) -> tuple[Any, Any, Any]:
        raise NotImplementedError

    @staticmethod
    def walk(reader: Any, wanted: ServerFilter, limit: int = 2) -> list[Any]:
        entries: list[Any] = []
        cursor = None
        for _ in range(50):
            found = reader.servers(wanted, PageRequest(limit=limit, cursor=cursor))
            assert len(found.items) <= limit
            entries += found.items
            cursor = found.next_cursor
            if cursor is None:
                return entries
        raise AssertionError("the cursor never ended")

    def test_a_node_or_tenant_filter_with_the_others_selects_exactly_its_servers(self, fleet):
        servers, nodes, reader = fleet
        here, there = node(), node()
        nodes.add(here, "token-here")
        nodes.add(there, "token-there")
        tenant, other = f"tn_{uid()}", f"tn_{uid()}"
        mine = [server(tenant, here.id, created_at=at) for at in (T0, T1, T2)]
        suspended = server(tenant, here.id, status="suspended")
        elsewhere = server(tenant, there.id)
        theirs = server(other, here.id)
        for each in [*mine, suspended, elsewhere, theirs]:
            servers.add(each)

        on_node = self.walk(reader, ServerFilter(node_id=here.id))
        assert sorted(e.server.uuid for e in on_node) == sorted(s.uuid for s in [*mine, suspended, theirs])
        assert {e.node_name for e in on_node} == {here.name}
        assert {e.tenant_name for e in on_node} == {None}  # no tenant record stored
        of_tenant = self.walk(reader, ServerFilter(tenant_id=tenant, status="offline"))
        assert [e.server.uuid for e in of_tenant] == [s.uuid for s in sorted([*mine, elsewhere], key=_created)]
        both = self.walk(reader, ServerFilter(tenant_id=tenant, node_id=here.id, status="suspended"))
        assert [e.server.uuid for e in both] == [suspended.uuid]

    def test_q_is_a_case_insensitive_prefix_of_name_or_uuid(self, fleet):
        servers, _, reader = fleet
        tenant = f"tn_{uid()}"
        first, second = server(tenant, "n1"), server(tenant, "n1")
        servers.add(first)
        servers.add(second)

        by_uuid = self.walk(reader, ServerFilter(tenant_id=tenant, q=first.uuid[:6]))
        by_name = self.walk(reader, ServerFilter(tenant_id=tenant, q=second.name.lower()))
        nothing = self.walk(reader, ServerFilter(tenant_id=tenant, q="zz"))

        assert [e.server.uuid for e in by_uuid] == [first.uuid]
        assert [e.server.uuid for e in by_name] == [second.uuid]
        assert nothing == []

    def test_server_is_one_server_with_its_node_name_or_not_found(self, fleet):
        servers, nodes, reader = fleet
        here = node()
        nodes.add(here, "token-here")
        added = server(f"tn_{uid()}", here.id)
        servers.add(added)

        found = reader.server(added.uuid)

        assert (found.server, found.node_name, found.tenant_name) == (added, here.name, None)
        with pytest.raises(NotFoundError):
            reader.server(server(f"tn_{uid()}", here.id).uuid)

    def test_every_server_is_listed_without_filters(self, fleet):
        servers, _, reader = fleet
        added = server(f"tn_{uid()}", "n1")
        servers.add(added)

        found = self.walk(reader, ServerFilter(q=added.uuid), limit=100)

        assert [e.server.uuid for e in found] == [added.uuid]

    def test_a_cursor_of_another_filter_is_refused(self, fleet):
        servers, _, reader = fleet
        tenant = f"tn_{uid()}"
        for _ in range(3):
            servers.add(server(tenant, "n1"))
        cursor = reader.servers(ServerFilter(tenant_id=tenant), PageRequest(limit=1)).next_cursor
        assert cursor

        with pytest.raises(ValidationError):
            reader.servers(ServerFilter(tenant_id=tenant, status="offline"), PageRequest(limit=1, cursor=cursor))


def _created(s: Server) -> tuple[str, str]:
    return (s.created_at, s.uuid)


class TestFleetReaderOnFake(FleetReaderContract):
    @pytest.fixture
    def fleet(self) -> tuple[Any, Any, Any]:
        servers, nodes = FakeServerRepository(), FakeNodeRepository()
        return servers, nodes, FakeFleetReader(servers, nodes)


class TestFleetReaderOnDynamo(FleetReaderContract):
    @pytest.fixture
    def fleet(self, request: pytest.FixtureRequest) -> tuple[Any, Any, Any]:
        bootstrap = _dynamo(request)
        return bootstrap.server_repository(), bootstrap.node_repository(), bootstrap.fleet_reader()


# --- placement ---------------------------------------------------------------------------------


class PlacementStoreContract:
    @pytest.fixture
    def world(self) -> tuple[Any, Any, Any]:
        """(placement, nodes, allocations)"""
        raise NotImplementedError

    @pytest.fixture
    def write_plan_quotas(self) -> Any:
        """What billing writes on the tenant record: (tenant id, quotas) -> None."""
        raise NotImplementedError

    def _node_with_ports(self, world: Any, *ports: int) -> Node:
        _, nodes, allocations = world
        added = node()
        nodes.add(added, "t")
        allocations.add_many([allocation(added.id, port) for port in ports])
        return added

    def test_reserve_writes_the_server_takes_the_allocation_and_bumps_the_guard(self, world):
        placement, _, allocations = world
        added = self._node_with_ports(world, 25565, 25566)
        tenant = f"tn_{uid()}"
        guard = placement.guard(tenant)

        placement.reserve(server(tenant, added.id, port=25565), guard)

        assert guard.version == 0 and placement.guard(tenant).version == 1
        assert [a.port for a in placement.free_allocations(added.id)] == [25566]
        assert allocations.get(added.id, "10.0.0.5", 25565).server_id
        assert placement.usage(tenant, placement.guard(tenant)).servers == 1

    def test_reserve_refuses_a_stale_guard_and_writes_nothing(self, world):
        placement, _, _ = world
        added = self._node_with_ports(world, 25565, 25566)
        tenant = f"tn_{uid()}"
        stale = placement.guard(tenant)
        placement.reserve(server(tenant, added.id, port=25565), stale)

        with pytest.raises(TenantServersChangedError):
            placement.reserve(server(tenant, added.id, port=25566), stale)

        assert [a.port for a in placement.free_allocations(added.id)] == [25566]
        assert placement.usage(tenant, placement.guard(tenant)).servers == 1

    def test_reserve_refuses_a_taken_or_unknown_allocation(self, world):
        placement, _, _ = world
        added = self._node_with_ports(world, 25565)
        tenant, other = f"tn_{uid()}", f"tn_{uid()}"
        placement.reserve(server(other, added.id, port=25565), placement.guard(other))

        with pytest.raises(AllocationTakenError):
            placement.reserve(server(tenant, added.id, port=25565), placement.guard(tenant))
        with pytest.raises(AllocationTakenError):
            placement.reserve(server(tenant, added.id, port=1), placement.guard(tenant))
        assert placement.guard(tenant).version == 0

    def test_reserve_conflicts_when_the_uuid_exists(self, world):
        placement, _, _ = world
        added = self._node_with_ports(world, 25565, 25566)
        tenant = f"tn_{uid()}"
        first = server(tenant, added.id, port=25565)
        placement.reserve(first, placement.guard(tenant))

        with pytest.raises(ConflictError):
            placement.reserve(replace(first, allocation=("10.0.0.5", 25566)), placement.guard(tenant))
        assert [a.port for a in placement.free_allocations(added.id)] == [25566]

    def test_unreserve_frees_a_provisioning_server_and_is_a_no_op_otherwise(self, world):
        placement, _, _ = world
        added = self._node_with_ports(world, 25565, 25566)
        tenant = f"tn_{uid()}"
        provisioning = server(tenant, added.id, port=25565, status="provisioning")
        running = server(tenant, added.id, port=25566, status="running")
        placement.reserve(provisioning, placement.guard(tenant))
        placement.reserve(running, placement.guard(tenant))

        placement.unreserve(provisioning)
        placement.unreserve(provisioning)
        placement.unreserve(running)

        # (usage may count the undone server a while longer: the guard's recent list errs high)
        assert [a.port for a in placement.free_allocations(added.id)] == [25565]

    def test_reserve_counts_the_server_in_its_blueprints_usage_and_unreserve_takes_it_back(self, world, blueprints):
        placement, _, _ = world
        added = self._node_with_ports(world, 25565, 25566)
        tenant = f"tn_{uid()}"
        first = server(tenant, added.id, port=25565, status="provisioning")
        placement.reserve(first, placement.guard(tenant))
        placement.reserve(server(tenant, added.id, port=25566), placement.guard(tenant))
        assert blueprints.usage(["bp_1"]) == {"bp_1": 2}

        placement.unreserve(first)
        placement.unreserve(first)

        assert blueprints.usage(["bp_1"]) == {"bp_1": 1}

    def test_reserve_refuses_an_unknown_blueprint_and_writes_nothing(self, world):
        placement, _, _ = world
        added = self._node_with_ports(world, 25565)
        tenant = f"tn_{uid()}"

        with pytest.raises(NotFoundError):
            placement.reserve(replace(server(tenant, added.id), blueprint_id="bp_gone"), placement.guard(tenant))

        assert [a.port for a in placement.free_allocations(added.id)] == [25565]
        assert placement.guard(tenant).version == 0

    def test_node_loads_and_usage_count_what_non_failed_servers_hold(self, world):
        placement, _, _ = world
        added = self._node_with_ports(world, 25565, 25566, 25567)
        tenant = f"tn_{uid()}"
        for port, status, memory in ((25565, "running", 512), (25566, "failed", 1024), (25567, "offline", 256)):
            made = server(tenant, added.id, port=port, status=status, memory=memory)
            placement.reserve(made, placement.guard(tenant))

        load = next(load for load in placement.node_loads() if load.node.id == added.id)
        usage = placement.usage(tenant, placement.guard(tenant))

        assert (load.memory_mb, load.disk_mb) == (768, 2048)
        assert (usage.servers, usage.memory_mb, usage.disk_mb) == (3, 768, 2048)

    def test_free_allocations_stops_at_the_limit(self, world):
        placement, _, _ = world
        added = self._node_with_ports(world, 25565, 25566, 25567)

        assert [a.port for a in placement.free_allocations(added.id, limit=2)] == [25565, 25566]

    def test_plan_quotas_is_none_for_a_tenant_without_a_plan(self, world):
        placement, _, _ = world

        assert placement.plan_quotas(f"tn_{uid()}") is None

    def test_plan_quotas_is_the_json_billing_wrote_on_the_tenant(self, world, write_plan_quotas):
        import json

        placement, _, _ = world
        tenant = f"tn_{uid()}"
        write_plan_quotas(tenant, {"servers": 3, "memory_mb": 4096})

        assert json.loads(placement.plan_quotas(tenant)) == {"servers": 3, "memory_mb": 4096}

    def _failed(self, world: Any, *ports: int, hold: bool = False) -> tuple[Node, Server, str]:
        """A ``failed`` server on the first of ``ports``; it still holds its port when ``hold``."""
        placement, _, allocations = world
        added = self._node_with_ports(world, *ports)
        tenant = f"tn_{uid()}"
        failed = server(tenant, added.id, port=ports[0], status="failed")
        placement.reserve(failed, placement.guard(tenant))
        if not hold:
            allocations.release(added.id, "10.0.0.5", ports[0], failed.uuid)
        return added, failed, tenant

    def test_rearm_puts_a_failed_server_back_on_its_own_held_port(self, world):
        placement, _, allocations = world
        added, failed, tenant = self._failed(world, 25565, hold=True)

        placement.rearm(replace(failed, status="provisioning"), failed, placement.guard(tenant))

        assert allocations.get(added.id, "10.0.0.5", 25565).server_id == failed.uuid
        assert placement.guard(tenant).version == 2
        assert placement.usage(tenant, placement.guard(tenant)).memory_mb == failed.limits.memory_mb

    def test_rearm_on_another_port_frees_the_port_the_failed_server_held(self, world):
        placement, _, allocations = world
        added, failed, tenant = self._failed(world, 25565, 25566, hold=True)

        moved = replace(failed, status="provisioning", allocation=("10.0.0.5", 25566))
        placement.rearm(moved, failed, placement.guard(tenant))

        assert allocations.get(added.id, "10.0.0.5", 25566).server_id == failed.uuid
        assert [a.port for a in placement.free_allocations(added.id)] == [25565]

    def test_rearm_refuses_to_move_a_server_holding_a_port_on_another_node(self, world):
        placement, _, allocations = world
        added, failed, tenant = self._failed(world, 25565, hold=True)
        other = self._node_with_ports(world, 25570)

        moved = replace(failed, status="provisioning", node_id=other.id, allocation=("10.0.0.5", 25570))
        with pytest.raises(ConflictError) as refused:
            placement.rearm(moved, failed, placement.guard(tenant))

        assert refused.value.details["reason"] == "held_on_node"
        assert allocations.get(other.id, "10.0.0.5", 25570).server_id is None
        assert allocations.get(added.id, "10.0.0.5", 25565).server_id == failed.uuid

    def test_rearm_refuses_a_taken_port_a_stale_guard_and_a_server_no_longer_failed(self, world):
        placement, _, allocations = world
        added, failed, tenant = self._failed(world, 25565, 25566)
        other = f"tn_{uid()}"
        placement.reserve(server(other, added.id, port=25566), placement.guard(other))
        stale = placement.guard(tenant)
        rearmed = replace(failed, status="provisioning")

        with pytest.raises(AllocationTakenError):
            placement.rearm(replace(rearmed, allocation=("10.0.0.5", 25566)), failed, stale)
        placement.reserve(server(tenant, added.id, port=25565, status="failed"), stale)  # another create wins
        with pytest.raises(TenantServersChangedError):
            placement.rearm(replace(rearmed, allocation=("10.0.0.5", 25565)), failed, stale)
        with pytest.raises(ConflictError):
            placement.rearm(replace(rearmed, uuid=server(tenant, added.id).uuid), failed, placement.guard(tenant))
        assert allocations.get(added.id, "10.0.0.5", 25566).server_id != failed.uuid


class TestPlacementStoreOnFake(PlacementStoreContract):
    @pytest.fixture
    def blueprints(self) -> FakeBlueprintRepository:
        return FakeBlueprintRepository(Blueprint(id="bp_1", name="b", startup="run", docker_images={"a": "img:1"}))

    @pytest.fixture
    def world(self, blueprints: FakeBlueprintRepository) -> tuple[Any, Any, Any]:
        placement = FakePlacementStore(blueprints=blueprints)
        return placement, placement.nodes, placement.allocations

    @pytest.fixture
    def write_plan_quotas(self, world: tuple[Any, Any, Any]) -> Any:
        import json

        def write(tenant_id: str, quotas: dict[str, int]) -> None:
            world[0].plans[tenant_id] = json.dumps(quotas)

        return write


class TestPlacementStoreOnDynamo(PlacementStoreContract):
    @pytest.fixture
    def blueprints(self, request: pytest.FixtureRequest) -> Any:
        from tests.server_world import add_blueprint

        bootstrap = _dynamo(request)
        add_blueprint("bp_1")
        return bootstrap.blueprint_repository()

    @pytest.fixture
    def world(self, request: pytest.FixtureRequest, blueprints: Any) -> tuple[Any, Any, Any]:
        bootstrap = _dynamo(request)
        return bootstrap.placement_store(), bootstrap.node_repository(), bootstrap.allocation_repository()

    @pytest.fixture
    def write_plan_quotas(self) -> Any:
        from tests.server_world import set_plan_quotas

        return set_plan_quotas


# --- node health ---------------------------------------------------------------------------------


class NodeHealthStoreContract:
    @pytest.fixture
    def store(self) -> Any:
        raise NotImplementedError

    def test_health_is_none_until_saved_and_then_replaced(self, store):
        from mamba.domain.nodes import NodeHealth

        node_id = f"nd_{uid()}"
        before = store.get(node_id)
        store.save(NodeHealth(node_id, "offline", T0, consecutive_failures=1, last_error="down"))
        store.save(NodeHealth(node_id, "online", T1, version="1.11.11", last_seen_at=T1))

        assert before is None
        assert store.get(node_id) == NodeHealth(node_id, "online", T1, version="1.11.11", last_seen_at=T1)
        assert store.health_of([node_id, f"nd_{uid()}", node_id]) == {node_id: store.get(node_id)}

    def test_events_are_listed_newest_first_per_node(self, store):
        from mamba.domain.nodes import NodeEvent

        node_id = f"nd_{uid()}"
        down = NodeEvent(node_id, "node.down", T0, {"last_seen_at": None})
        back = NodeEvent(node_id, "node.recovered", T1, {})
        store.add_event(down)
        store.add_event(back)
        store.add_event(NodeEvent(f"nd_{uid()}", "node.down", T2, {}))

        assert store.events(node_id) == [back, down]
        assert store.events(node_id, limit=1) == [back]


class TestNodeHealthStoreOnFake(NodeHealthStoreContract):
    @pytest.fixture
    def store(self) -> Any:
        from tests.fakes import FakeNodeHealthStore

        return FakeNodeHealthStore()


class TestNodeHealthStoreOnDynamo(NodeHealthStoreContract):
    @pytest.fixture
    def store(self, request: pytest.FixtureRequest) -> Any:
        return _dynamo(request).node_health_store()


# --- blueprints ------------------------------------------------------------------------------------


def blueprint(created_at: str = T0) -> Any:
    from mamba.domain.blueprints import Blueprint

    return Blueprint(
        name="Line server",
        startup="run {{PORT}}",
        docker_images={"Python": "img:1"},
        id=f"bp_{uid()}",
        created_at=created_at,
        updated_at=created_at,
    )


class BlueprintRepositoryContract:
    @pytest.fixture
    def repo(self) -> Any:
        raise NotImplementedError

    def test_a_blueprint_round_trips_and_its_id_is_taken_once(self, repo):
        made = blueprint()
        repo.add(made)

        with pytest.raises(ConflictError):
            repo.add(made)
        assert repo.get(made.id) == made

    def test_save_replaces_and_delete_removes_and_both_need_the_blueprint(self, repo):
        made = blueprint()
        repo.add(made)

        repo.save(replace(made, name="Renamed"))
        renamed = repo.get(made.id).name
        repo.delete(made.id)

        assert renamed == "Renamed"
        with pytest.raises(NotFoundError):
            repo.get(made.id)
        with pytest.raises(NotFoundError):
            repo.save(made)
        with pytest.raises(NotFoundError):
            repo.delete(made.id)

    def test_list_pages_in_creation_order(self, repo):
        made = [blueprint(created_at=f"2999-01-01T00:00:0{n}Z") for n in range(3)]
        for each in made:
            repo.add(each)
        seen, cursor = [], None
        while True:
            page, cursor = repo.list(limit=2, cursor=cursor)
            seen += [b.id for b in page]
            if cursor is None:
                break

        assert [i for i in seen if i in {b.id for b in made}] == [b.id for b in made]


class TestBlueprintRepositoryOnFake(BlueprintRepositoryContract):
    @pytest.fixture
    def repo(self) -> Any:
        from tests.fakes import FakeBlueprintRepository

        return FakeBlueprintRepository()


class TestBlueprintRepositoryOnDynamo(BlueprintRepositoryContract):
    @pytest.fixture
    def repo(self, request: pytest.FixtureRequest) -> Any:
        return _dynamo(request).blueprint_repository()


# --- a server's lifecycle writes and lock ----------------------------------------------------------


class ServerLifecycleStoreContract:
    @pytest.fixture
    def world(self) -> tuple[Any, Any, Any]:
        """(lifecycle store, server repository, locks)"""
        raise NotImplementedError

    def _server(self, world: Any, status: str = "offline") -> Server:
        _, servers, _ = world
        made = server(f"tn_{uid()}", "n1", status=status)
        servers.add(made)
        return made

    def test_set_status_moves_from_an_expected_status_with_its_reason(self, world):
        store, servers, _ = world
        made = self._server(world)

        store.set_status(made.uuid, "failed", ["offline", "running"], now=T1, reason="the node is gone")
        failed = servers.get(made.uuid)
        store.set_status(made.uuid, "offline", ["failed"], now=T2)

        assert (failed.status, failed.status_reason, failed.updated_at) == ("failed", "the node is gone", T1)
        assert (servers.get(made.uuid).status, servers.get(made.uuid).status_reason) == ("offline", None)

    def test_set_status_conflicts_naming_the_status_and_is_not_found_when_gone(self, world):
        store, servers, _ = world
        made = self._server(world, status="deleting")

        with pytest.raises(ConflictError) as refused:
            store.set_status(made.uuid, "offline", ["running"], now=T1)
        with pytest.raises(NotFoundError):
            store.set_status(server("tn_x", "n1").uuid, "offline", ["running"], now=T1)
        assert refused.value.details == {"uuid": made.uuid, "status": "deleting"}
        assert servers.get(made.uuid).status == "deleting"

    def test_set_suspension_records_and_forgets_who_suspended(self, world):
        store, servers, _ = world
        made = self._server(world)

        store.set_suspension(made.uuid, "suspended", ["offline"], by="billing", now=T1)
        by = store.suspended_by(made.uuid)
        store.set_suspension(made.uuid, "offline", ["suspended"], by=None, now=T2)

        assert by == "billing"
        assert (store.suspended_by(made.uuid), servers.get(made.uuid).status) == (None, "offline")
        with pytest.raises(ConflictError):
            store.set_suspension(made.uuid, "offline", ["suspended"], by=None, now=T2)

    def test_set_build_writes_limits_and_environment_in_an_expected_status(self, world):
        store, servers, _ = world
        made = self._server(world)
        bigger = Limits(memory_mb=2048, disk_mb=4096, cpu_percent=150, threads="0-1")

        store.set_build(made.uuid, bigger, ["offline"], now=T1, environment={"A": "2"})
        store.set_build(made.uuid, replace(bigger, memory_mb=1024), ["offline"], now=T2)

        got = servers.get(made.uuid)
        assert (got.limits, got.environment) == (replace(bigger, memory_mb=1024), {"A": "2"})
        with pytest.raises(ConflictError):
            store.set_build(made.uuid, bigger, ["running"], now=T2)

    def test_set_profile_renames_any_status_but_a_gone_server(self, world):
        store, servers, _ = world
        made = self._server(world, status="suspended")

        store.set_profile(made.uuid, name="renamed", description=None, now=T1)

        assert (servers.get(made.uuid).name, servers.get(made.uuid).description) == ("renamed", made.description)
        with pytest.raises(NotFoundError):
            store.set_profile(server("tn_x", "n1").uuid, name="x", description=None, now=T1)

    def test_set_profile_sets_feature_limits_and_the_startup_command_keeping_the_rest(self, world):
        from mamba.domain.servers import FeatureLimits

        store, servers, _ = world
        made = self._server(world)

        store.set_profile(made.uuid, name=None, description=None, now=T1, feature_limits=FeatureLimits(5, 2))
        store.set_profile(made.uuid, name=None, description=None, now=T2, startup="run --fast")

        got = servers.get(made.uuid)
        assert (got.feature_limits, got.startup, got.name) == (
            FeatureLimits(backups=5, allocations=2),
            "run --fast",
            made.name,
        )
        assert got.limits == made.limits and got.updated_at == T2

    def test_observations_write_utilization_and_status_only_where_the_status_held(self, world):
        from mamba.domain.server_lifecycle import ObservedServer

        store, servers, _ = world
        held, moved = self._server(world), self._server(world, status="deleting")
        rows = [
            ObservedServer(held.uuid, "offline", "running", {"state": "running", "memory_bytes": 1}),
            ObservedServer(moved.uuid, "offline", "running", {"state": "running"}),
        ]

        written = store.record_observations(rows, now=T1)

        assert written == 1
        assert servers.get(held.uuid).status == "running" and servers.get(moved.uuid).status == "deleting"
        assert store.utilization(held.uuid) == ({"state": "running", "memory_bytes": 1}, T1)
        assert store.utilization(moved.uuid) == (None, None)

    def test_remove_deletes_the_record_its_lock_and_suspension(self, world):
        store, servers, locks = world
        made = self._server(world)
        locks.acquire(made.uuid, "op_1", "server.delete", now=T0, now_epoch=1000, seconds=60)
        store.set_suspension(made.uuid, "suspended", ["offline"], by="admin", now=T1)

        store.remove(made.uuid)
        store.remove(made.uuid)

        with pytest.raises(NotFoundError):
            servers.get(made.uuid)
        assert (locks.holder(made.uuid), store.suspended_by(made.uuid)) == (None, None)

    def test_a_lock_is_held_by_one_operation_until_released_or_expired(self, world):
        _, _, locks = world
        uuid = server("tn_x", "n1").uuid

        locks.acquire(uuid, "op_1", "server.reinstall", now=T0, now_epoch=1000, seconds=60)
        with pytest.raises(ConflictError) as refused:
            locks.acquire(uuid, "op_2", "server.delete", now=T0, now_epoch=1030, seconds=60)
        locks.release(uuid, "op_2")  # not the holder: nothing happens
        held = locks.holder(uuid)
        locks.acquire(uuid, "op_3", "server.delete", now=T0, now_epoch=1061, seconds=60)  # op_1's ran out

        assert refused.value.details == {"uuid": uuid, "operation_id": "op_1", "operation_type": "server.reinstall"}
        assert held == ("op_1", "server.reinstall")
        locks.release(uuid, "op_3")
        assert locks.holder(uuid) is None


class TestServerLifecycleStoreOnFake(ServerLifecycleStoreContract):
    @pytest.fixture
    def world(self) -> tuple[Any, Any, Any]:
        from tests.fakes import FakeServerLifecycleStore

        store = FakeServerLifecycleStore()
        return store, store.servers, store.locks


class TestServerLifecycleStoreOnDynamo(ServerLifecycleStoreContract):
    @pytest.fixture
    def world(self, request: pytest.FixtureRequest) -> tuple[Any, Any, Any]:
        from mamba.adapters.dynamo.server_lifecycle import DynamoServerLifecycleStore, DynamoServerLocks

        bootstrap = _dynamo(request)
        return DynamoServerLifecycleStore(), bootstrap.server_repository(), DynamoServerLocks()


# --- the quota page's reads --------------------------------------------------------------------------


class TenantUsageReaderContract:
    @pytest.fixture
    def world(self) -> dict[str, Any]:
        """reader, placement, nodes, allocations, backups, billing, write_plan_quotas"""
        raise NotImplementedError

    def test_a_tenant_without_a_plan_reads_free_with_no_usage(self, world):
        facts = world["reader"].read(f"tn_{uid()}")

        assert (facts.plan_id, facts.plan_quotas, facts.backup_bytes) == ("free", None, 0)
        assert (facts.servers.servers, facts.servers.memory_mb) == (0, 0)

    def test_usage_counts_the_servers_reserved_and_the_backup_counter(self, world):
        tenant = f"tn_{uid()}"
        added = node()
        world["nodes"].add(added, "t")
        world["allocations"].add_many([allocation(added.id, 25565), allocation(added.id, 25566)])
        placement = world["placement"]
        for port in (25565, 25566):
            placement.reserve(server(tenant, added.id, port=port, memory=256), placement.guard(tenant))
        world["backups"].set_usage(tenant, 4096, T1)
        world["write_plan_quotas"](tenant, {"servers": 5})

        facts = world["reader"].read(tenant)

        assert (facts.servers.servers, facts.servers.memory_mb, facts.backup_bytes) == (2, 512, 4096)
        assert facts.plan_quotas is not None and '"servers": 5' in facts.plan_quotas

    def test_the_stored_free_plan_is_read_when_there_is_one(self, world):
        from mamba.domain import billing as b

        billing = world["billing"]
        try:
            billing.add_plan(b.free_plan(quotas=b.Quotas(servers=2, memory_mb=2048, disk_mb=1, backup_bytes=0)))
        except ConflictError:
            pass  # a migration or another test of this worker stored it

        facts = world["reader"].read(f"tn_{uid()}")

        assert facts.stored_free_quotas == billing.get_plan("free").quotas


class TestTenantUsageReaderOnFake(TenantUsageReaderContract):
    @pytest.fixture
    def world(self) -> dict[str, Any]:
        import json

        from tests.fakes import FakeTenantUsageReader

        reader = FakeTenantUsageReader()
        placement = reader.placement
        return {
            "reader": reader,
            "placement": placement,
            "nodes": placement.nodes,
            "allocations": placement.allocations,
            "backups": reader.backups,
            "billing": reader.billing,
            "write_plan_quotas": lambda t, q: placement.plans.__setitem__(t, json.dumps(q)),
        }


class TestTenantUsageReaderOnDynamo(TenantUsageReaderContract):
    @pytest.fixture
    def world(self, request: pytest.FixtureRequest) -> dict[str, Any]:
        from tests.server_world import add_blueprint, set_plan_quotas

        bootstrap = _dynamo(request)
        add_blueprint("bp_1")  # the reservation checks that the servers' blueprint exists
        return {
            "reader": bootstrap.tenant_usage_reader(),
            "placement": bootstrap.placement_store(),
            "nodes": bootstrap.node_repository(),
            "allocations": bootstrap.allocation_repository(),
            "backups": bootstrap.backup_repository(),
            "billing": bootstrap.billing_repository(),
            "write_plan_quotas": set_plan_quotas,
        }
