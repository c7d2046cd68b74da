"""services.servers with fakes: the reservation loop (guard races, taken allocations), scope."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from mamba.auth.context import TenantContext
from mamba.domain.blueprints import Blueprint
from mamba.domain.errors import (
    AllocationTakenError,
    ConflictError,
    DependencyUnavailableError,
    NoCapacityError,
    NotFoundError,
    TenantServersChangedError,
    ValidationError,
)
from mamba.domain.nodes import Allocation, Node
from mamba.domain.pages import Page, PageRequest
from mamba.domain.placement import NodeLoad
from mamba.domain.quotas import Quotas, Usage
from mamba.domain.servers import CreateServer, Server
from mamba.services import servers as service

T0 = "2026-11-25T10:00:00Z"
TENANT = TenantContext(tenant_id="tn_a", role="owner", permissions=frozenset())
BLUEPRINT = Blueprint(name="bp", startup="run", docker_images={"Py": "img:1", "Py2": "img:2"}, id="bp_1")


def node(node_id: str) -> Node:
    return Node(id=node_id, uuid=node_id, name=node_id, fqdn="n.example.org", token_id="t" * 16,
                created_at=T0, updated_at=T0, memory_mb=8192, disk_mb=100_000)  # fmt: skip


@dataclass
class FakePlacement:
    nodes: list[Node]
    free: dict[str, list[int]]
    races: list[Exception] = field(default_factory=list)  # raised by the next reserve calls, in order
    reserved: list[Server] = field(default_factory=list)
    unreserved: list[Server] = field(default_factory=list)
    version: int = 0

    def node_loads(self) -> list[NodeLoad]:
        return [NodeLoad(n) for n in self.nodes]

    def free_allocations(self, node_id: str, limit: int = 25) -> list[Allocation]:
        return [Allocation(node_id=node_id, ip="10.0.0.1", port=p, created_at=T0) for p in self.free[node_id][:limit]]

    def guard(self, tenant_id: str) -> int:
        return self.version

    def usage(self, tenant_id: str, guard: Any = None) -> Usage:
        return Usage(servers=len(self.reserved))

    def reserve(self, server: Server, guard: Any) -> None:
        if self.races:
            raise self.races.pop(0)
        self.reserved.append(server)
        self.free[server.node_id].remove(server.allocation[1])

    def unreserve(self, server: Server) -> None:
        self.unreserved.append(server)


@dataclass
class FakeServers:
    items: dict[str, Server] = field(default_factory=dict)

    def get(self, server_uuid: str) -> Server:
        if server_uuid not in self.items:
            raise NotFoundError("Server not found.")
        return self.items[server_uuid]

    def page_of_tenant(self, tenant_id: str, page: PageRequest, status: str | None = None) -> Page[Server]:
        return Page(items=[s for s in self.items.values() if s.tenant_id == tenant_id])


class Blueprints:
    def get(self, blueprint_id: str) -> Blueprint:
        if blueprint_id != BLUEPRINT.id:
            raise NotFoundError("Blueprint not found.")
        return BLUEPRINT


class Operations:
    def __init__(self) -> None:
        self.ops: dict[str, Any] = {}

    def add(self, op: Any) -> None:
        self.ops[op.id] = op

    def save(self, op: Any) -> None:
        self.ops[op.id] = op

    def get(self, tenant_id: str, op_id: str) -> Any:
        return self.ops[op_id]

    def find(self, op_id: str) -> Any:
        return self.ops[op_id]


class Workflows:
    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.started: list[dict[str, Any]] = []

    def start(self, workflow: str, operation_id: str, payload: dict[str, Any]) -> str:
        if self.refuse:
            raise DependencyUnavailableError("no")
        self.started.append(payload)
        return "arn"


def ports(placement: FakePlacement, quotas: Quotas | None = None, workflows: Workflows | None = None) -> Any:
    counter = iter(range(1000))
    return service.ServerPorts(
        servers=FakeServers(),
        placement=placement,
        blueprints=Blueprints(),
        operations=Operations(),
        workflows=workflows or Workflows(),
        quotas=lambda tenant_id: quotas or Quotas(10, -1, -1, -1, 3),
        validate_environment=lambda blueprint, env: {k: str(v) for k, v in env.items()},
        now=lambda: T0,
        new_uuid=lambda: f"00000000-0000-4000-8000-{next(counter):012d}",
        pause=lambda seconds: None,
    )


CMD = CreateServer(name="s", blueprint_id="bp_1", memory_mb=512, disk_mb=1024)


def test_reserve_takes_the_first_free_allocation_of_the_least_committed_node():
    placement = FakePlacement([node("a"), node("b")], {"a": [25565, 25566], "b": [25570]})

    server = service.reserve_server(ports(placement), TENANT, CMD)

    assert (server.node_id, server.allocation, server.status) == ("a", ("10.0.0.1", 25565), "provisioning")
    assert server.feature_limits.backups == 3 and server.docker_image == "img:1"


def test_reserve_moves_on_when_an_allocation_was_taken_meanwhile():
    placement = FakePlacement([node("a")], {"a": [25565, 25566]}, races=[AllocationTakenError("taken")])

    server = service.reserve_server(ports(placement), TENANT, CMD)

    assert server.allocation == ("10.0.0.1", 25566)


def test_reserve_starts_over_when_another_create_of_the_tenant_committed():
    placement = FakePlacement([node("a")], {"a": [25565]}, races=[TenantServersChangedError("busy")] * 3)

    server = service.reserve_server(ports(placement), TENANT, CMD)

    assert placement.reserved == [server]


def test_reserve_gives_up_with_409_when_the_tenant_stays_busy():
    placement = FakePlacement([node("a")], {"a": [25565]}, races=[TenantServersChangedError("busy")] * 100)

    with pytest.raises(ConflictError) as caught:
        service.reserve_server(ports(placement), TENANT, CMD)

    assert caught.value.code == "CONFLICT"


def test_reserve_without_a_free_allocation_anywhere_is_no_capacity():
    placement = FakePlacement([node("a"), node("b")], {"a": [], "b": []})

    with pytest.raises(NoCapacityError):
        service.reserve_server(ports(placement), TENANT, CMD)


def test_a_docker_image_outside_the_blueprint_is_refused_and_one_inside_is_used():
    placement = FakePlacement([node("a")], {"a": [25565, 25566]})

    with pytest.raises(ValidationError):
        service.reserve_server(ports(placement), TENANT, replace(CMD, docker_image="evil:latest"))
    assert service.reserve_server(ports(placement), TENANT, replace(CMD, docker_image="img:2")).docker_image == "img:2"


def test_create_undoes_the_reservation_when_the_workflow_does_not_start():
    placement = FakePlacement([node("a")], {"a": [25565]})

    with pytest.raises(DependencyUnavailableError):
        service.create_server(ports(placement, workflows=Workflows(refuse=True)), TENANT, CMD)

    assert placement.unreserved == placement.reserved and len(placement.reserved) == 1


def test_a_member_bound_to_one_server_lists_and_gets_only_that_server():
    repo = FakeServers()
    placement = FakePlacement([node("a")], {"a": [25565, 25566]})
    p = ports(placement)
    mine, other = (service.reserve_server(p, TENANT, CMD) for _ in range(2))
    repo.items = {mine.uuid: mine, other.uuid: other}
    scoped = TenantContext(tenant_id="tn_a", role="custom", permissions=frozenset(), server_scope=mine.uuid)

    assert [s.uuid for s in service.list_servers(repo, scoped, PageRequest()).items] == [mine.uuid]
    assert service.list_servers(repo, scoped, PageRequest(), status="running").items == []
    with pytest.raises(NotFoundError):
        service.get_server(repo, scoped, other.uuid)
    assert service.get_server(repo, TENANT, other.uuid.upper()) == other
