"""services.servers with fakes: the reservation loop (guard races, taken allocations), scope."""

from __future__ import annotations

from dataclasses import replace
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
from mamba.domain.pages import PageRequest
from mamba.domain.quotas import Quotas
from mamba.domain.servers import CreateServer
from mamba.services import servers as service
from tests.fakes import FakeBlueprintRepository, FakeOperationRepository, FakePlacementStore, FakeWorkflows

T0 = "2026-11-25T10:00:00Z"
TENANT = TenantContext(tenant_id="tn_a", role="owner", permissions=frozenset())
BLUEPRINT = Blueprint(name="bp", startup="run", docker_images={"Py": "img:1", "Py2": "img:2"}, id="bp_1")


def node(node_id: str) -> Node:
    return Node(id=node_id, uuid=node_id, name=node_id, fqdn="n.example.org", token_id=node_id.ljust(16, "t"),
                created_at=T0, updated_at=T0, memory_mb=8192, disk_mb=100_000)  # fmt: skip


def placement_with(free: dict[str, list[int]], races: list[Exception] | None = None) -> FakePlacementStore:
    """The nodes named in ``free``, each with those ports free on 10.0.0.1."""
    placement = FakePlacementStore()
    for node_id, ports in free.items():
        placement.nodes.add(node(node_id), f"token-{node_id}")
        placement.allocations.add_many(
            [Allocation(node_id=node_id, ip="10.0.0.1", port=p, created_at=T0) for p in ports]
        )
    placement.races = list(races or [])
    return placement


def ports(placement: FakePlacementStore, quotas: Quotas | None = None, workflows: FakeWorkflows | None = None) -> Any:
    counter = iter(range(1000))
    return service.ServerPorts(
        servers=placement.servers,
        placement=placement,
        blueprints=FakeBlueprintRepository(BLUEPRINT),
        operations=FakeOperationRepository(),
        workflows=workflows or FakeWorkflows(),
        quotas=lambda tenant_id: quotas or Quotas(10, -1, -1, -1, 3),
        validate_environment=lambda blueprint, env: {k: str(v) for k, v in env.items()},
        now=lambda: T0,
        new_uuid=lambda: f"00000000-0000-4000-8000-{next(counter):012d}",
        pause=lambda seconds: None,
    )


CMD = CreateServer(name="s", blueprint_id="bp_1", memory_mb=512, disk_mb=1024)


def test_reserve_takes_the_first_free_allocation_of_the_least_committed_node():
    placement = placement_with({"a": [25565, 25566], "b": [25570]})

    server = service.reserve_server(ports(placement), TENANT, CMD)

    assert (server.node_id, server.allocation, server.status) == ("a", ("10.0.0.1", 25565), "provisioning")
    assert server.feature_limits.backups == 3 and server.docker_image == "img:1"


def test_reserve_moves_on_when_an_allocation_was_taken_meanwhile():
    placement = placement_with({"a": [25565, 25566]}, races=[AllocationTakenError("taken")])

    server = service.reserve_server(ports(placement), TENANT, CMD)

    assert server.allocation == ("10.0.0.1", 25566)


def test_reserve_starts_over_when_another_create_of_the_tenant_committed():
    placement = placement_with({"a": [25565]}, races=[TenantServersChangedError("busy")] * 3)

    server = service.reserve_server(ports(placement), TENANT, CMD)

    assert placement.servers.of_tenant("tn_a") == [server] and placement.races == []


def test_reserve_gives_up_with_409_when_the_tenant_stays_busy():
    placement = placement_with({"a": [25565]}, races=[TenantServersChangedError("busy")] * 100)

    with pytest.raises(ConflictError) as caught:
        service.reserve_server(ports(placement), TENANT, CMD)

    assert caught.value.code == "CONFLICT"


def test_reserve_without_a_free_allocation_anywhere_is_no_capacity():
    placement = placement_with({"a": [], "b": []})

    with pytest.raises(NoCapacityError):
        service.reserve_server(ports(placement), TENANT, CMD)


def test_a_pinned_create_takes_exactly_the_named_port_with_its_startup_and_install_choice():
    placement = placement_with({"a": [25565, 25566], "b": [25570, 25571]})
    pinned = replace(CMD, node_id="b", allocation=("10.0.0.1", 25571), startup="run --fast", skip_install_script=True)

    server = service.reserve_server(ports(placement), TENANT, pinned)

    assert (server.node_id, server.allocation) == ("b", ("10.0.0.1", 25571))
    assert server.startup == "run --fast" and server.skip_install_script is True


def test_a_pinned_port_taken_meanwhile_is_refused_not_replaced_by_another():
    placement = placement_with({"a": [25565, 25566]}, races=[AllocationTakenError("taken")])

    with pytest.raises(AllocationTakenError):
        service.reserve_server(ports(placement), TENANT, replace(CMD, node_id="a", allocation=("10.0.0.1", 25566)))

    assert placement.servers.servers == {}  # not placed on 25565 instead


def test_a_pinned_create_reserves_its_extra_ports_with_the_primary_one_and_gives_all_back():
    placement = placement_with({"a": [25565, 25566, 25567]})
    pinned = replace(CMD, node_id="a", allocation=("10.0.0.1", 25565), additional_allocations=(("10.0.0.1", 25567),))

    server = service.reserve_server(ports(placement), TENANT, pinned)

    assert server.additional_allocations == (("10.0.0.1", 25567),)
    holders = {p: placement.allocations.rows[("a", "10.0.0.1", p)].server_id for p in (25565, 25566, 25567)}
    assert holders == {25565: server.uuid, 25566: None, 25567: server.uuid}
    placement.unreserve(server)
    assert all(placement.allocations.rows[("a", "10.0.0.1", p)].server_id is None for p in (25565, 25567))


def test_an_extra_port_taken_refuses_the_whole_create():
    placement = placement_with({"a": [25565, 25566]})
    placement.allocations.assign("a", "10.0.0.1", 25566, "someone-else")
    pinned = replace(CMD, node_id="a", allocation=("10.0.0.1", 25565), additional_allocations=(("10.0.0.1", 25566),))

    with pytest.raises(AllocationTakenError):
        service.reserve_server(ports(placement), TENANT, pinned)

    assert placement.allocations.rows[("a", "10.0.0.1", 25565)].server_id is None
    assert placement.servers.servers == {}


def test_a_pinned_node_placement_rules_out_is_no_capacity():
    placement = placement_with({"a": [25565]})
    placement.nodes.update(replace(placement.nodes.get("a"), maintenance=True))

    with pytest.raises(NoCapacityError):
        service.reserve_server(ports(placement), TENANT, replace(CMD, node_id="a", allocation=("10.0.0.1", 25565)))


def test_a_docker_image_outside_the_blueprint_is_refused_and_one_inside_is_used():
    placement = placement_with({"a": [25565, 25566]})

    with pytest.raises(ValidationError):
        service.reserve_server(ports(placement), TENANT, replace(CMD, docker_image="evil:latest"))
    assert service.reserve_server(ports(placement), TENANT, replace(CMD, docker_image="img:2")).docker_image == "img:2"


def test_create_undoes_the_reservation_when_the_workflow_does_not_start():
    placement = placement_with({"a": [25565]})

    with pytest.raises(DependencyUnavailableError):
        service.create_server(ports(placement, workflows=FakeWorkflows(fail=True)), TENANT, CMD)

    assert placement.servers.of_tenant("tn_a") == []
    assert [a.port for a in placement.free_allocations("a")] == [25565]
    assert placement.guard("tn_a").version == 1  # the guard moved on: a concurrent create retries


def test_create_claims_the_servers_pterodactyl_identifier_and_a_refused_claim_does_not_fail_it():
    from dataclasses import replace

    from mamba.domain.errors import DependencyUnavailableError as Busy
    from tests.fakes import FakePteroIds

    class RefusingIds(FakePteroIds):
        def number(self, kind: str, ref: str, scope: str | None = None) -> Any:
            raise Busy("busy")

    placement = placement_with({"a": [25565, 25566]})
    ids, base = FakePteroIds(), ports(placement)

    made, _op = service.create_server(replace(base, ids=ids), TENANT, CMD)
    kept, _op2 = service.create_server(replace(base, ids=RefusingIds()), TENANT, CMD)

    found = ids.by_identifier(made.uuid[:8])
    assert found is not None and (found.ref, found.scope) == (made.uuid, "tn_a")
    assert placement.servers.get(kept.uuid).status == "provisioning"  # the create stands; the id waits for first use


def test_a_member_bound_to_one_server_lists_and_gets_only_that_server():
    placement = placement_with({"a": [25565, 25566]})
    p = ports(placement)
    mine, other = (service.reserve_server(p, TENANT, CMD) for _ in range(2))
    repo = placement.servers
    scoped = TenantContext(tenant_id="tn_a", role="custom", permissions=frozenset(), server_scope=mine.uuid)

    assert [s.uuid for s in service.list_servers(repo, scoped, PageRequest()).items] == [mine.uuid]
    assert service.list_servers(repo, scoped, PageRequest(), status="running").items == []
    with pytest.raises(NotFoundError):
        service.get_server(repo, scoped, other.uuid)
    assert service.get_server(repo, TENANT, other.uuid.upper()) == other


# --- an admin's retry of a failed provisioning: placement reserved again ---


def failed_provisioning(placement: FakePlacementStore, workflows: FakeWorkflows | None = None,
                        quotas: Quotas | None = None) -> tuple[Any, Any, Any]:  # fmt: skip
    """A server created on node ``a``, then left ``failed`` by its workflow (port released, as
    after a completed compensation), and its operation failed."""
    from mamba.services import operations

    p = ports(placement, quotas=quotas, workflows=workflows)
    server, op = service.create_server(p, TENANT, CMD)
    placement.servers.save(replace(server, status="failed", status_reason="node down"))
    placement.allocations.release(server.node_id, *server.allocation, server.uuid)
    operations.finish_operation(p.operations, op.id, "failed", {"code": "X", "message": "node down"})
    return p, server, p.operations.find(op.id)


def test_rearm_places_the_failed_server_again_and_answers_fresh_input():
    placement = placement_with({"a": [25565], "b": [25570]})
    p, server, op = failed_provisioning(placement)
    placement.nodes.nodes["a"] = replace(placement.nodes.nodes["a"], maintenance=True)  # the cause, not fixed

    payload = service.rearm_provisioning(p, op)

    again = placement.servers.get(server.uuid)
    assert (again.status, again.node_id, again.allocation, again.status_reason) == (
        "provisioning", "b", ("10.0.0.1", 25570), None
    )  # fmt: skip
    assert placement.allocations.rows[("b", "10.0.0.1", 25570)].server_id == server.uuid
    assert payload["node_id"] == "b" and payload["server_uuid"] == server.uuid
    assert payload["install_timeout_seconds"] == op.input["install_timeout_seconds"] > 0


def test_rearm_keeps_the_port_the_server_still_holds_on_its_node():
    placement = placement_with({"a": [25565, 25566]})
    p, server, op = failed_provisioning(placement)
    placement.allocations.assign("a", "10.0.0.1", 25565, server.uuid)  # the compensation could not reach the node

    service.rearm_provisioning(p, op)

    again = placement.servers.get(server.uuid)
    assert (again.status, again.node_id, again.allocation) == ("provisioning", "a", ("10.0.0.1", 25565))
    assert placement.allocations.rows[("a", "10.0.0.1", 25566)].server_id is None


def test_rearm_does_not_move_a_server_that_may_still_be_on_its_node_elsewhere():
    placement = placement_with({"a": [25565], "b": [25570]})
    p, server, op = failed_provisioning(placement)
    placement.allocations.assign("a", "10.0.0.1", 25565, server.uuid)  # the compensation could not reach node a
    placement.nodes.nodes["a"] = replace(placement.nodes.nodes["a"], maintenance=True)

    with pytest.raises(ConflictError) as refused:
        service.rearm_provisioning(p, op)

    assert refused.value.details["reason"] == "held_on_node"
    assert placement.servers.get(server.uuid).status == "failed"
    assert placement.allocations.rows[("b", "10.0.0.1", 25570)].server_id is None


def test_rearm_refuses_with_no_capacity_while_no_node_can_take_it_and_the_server_stays_failed():
    placement = placement_with({"a": [25565]})
    p, server, op = failed_provisioning(placement)
    placement.nodes.nodes["a"] = replace(placement.nodes.nodes["a"], maintenance=True)

    with pytest.raises(NoCapacityError) as refused:
        service.rearm_provisioning(p, op)

    assert refused.value.details["ruled_out"] == {"maintenance": 1}
    assert placement.servers.get(server.uuid).status == "failed"


def test_rearm_counts_the_failed_server_once_against_the_server_quota():
    placement = placement_with({"a": [25565, 25566]})
    p, server, op = failed_provisioning(placement, quotas=Quotas(1, -1, -1, -1, 3))

    service.rearm_provisioning(p, op)

    assert placement.servers.get(server.uuid).status == "provisioning"


def test_rearm_refuses_a_server_that_is_no_longer_failed_or_was_deleted():
    placement = placement_with({"a": [25565, 25566]})
    p, server, op = failed_provisioning(placement)
    service.rearm_provisioning(p, op)

    with pytest.raises(ConflictError) as again:
        service.rearm_provisioning(p, op)
    placement.servers.delete(server.uuid)
    with pytest.raises(ConflictError) as deleted:
        service.rearm_provisioning(p, op)

    assert again.value.details["reason"] == "server_not_failed"
    assert deleted.value.details["reason"] == "server_deleted"


def test_rearm_retries_after_a_concurrent_create_of_the_tenant_and_a_taken_port():
    placement = placement_with({"a": [25565, 25566]})
    p, server, op = failed_provisioning(placement)
    placement.races = [TenantServersChangedError("raced"), AllocationTakenError("taken")]

    service.rearm_provisioning(p, op)

    assert placement.servers.get(server.uuid).allocation == ("10.0.0.1", 25566)


def test_abandon_puts_the_rearmed_server_back_to_failed_keeping_its_port():
    placement = placement_with({"a": [25565]})
    p, server, op = failed_provisioning(placement)
    service.rearm_provisioning(p, op)

    service.abandon_provisioning(p, op, "The retry could not start.")

    again = placement.servers.get(server.uuid)
    assert (again.status, again.status_reason) == ("failed", "The retry could not start.")
    assert placement.allocations.rows[("a", "10.0.0.1", 25565)].server_id == server.uuid
