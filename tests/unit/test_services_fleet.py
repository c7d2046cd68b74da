"""services/fleet and domain/fleet on fakes: filters, live state and its failures, drain."""

from __future__ import annotations

import pytest

from mamba.domain.errors import (
    NotFoundError,
    ValidationError,
    WingsRejectedError,
    WingsUnauthorizedError,
    WingsUnavailableError,
)
from mamba.domain.fleet import ServerFilter, live_states
from mamba.domain.nodes import Node
from mamba.domain.pages import PageRequest
from mamba.domain.servers import Limits, Server
from mamba.services import fleet
from tests.fakes import FakeFleetReader, FakeNodeAgent, FakeNodeRepository, FakeServerRepository

U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"


def node(node_id: str = "n1") -> Node:
    return Node(id=node_id, uuid="u", name=node_id, fqdn="n.test", token_id="t" * 16, created_at="", updated_at="")


def server(uuid: str, name: str = "Alpha", status: str = "offline", tenant: str = "tn_a") -> Server:
    return Server(
        uuid=uuid, name=name, tenant_id=tenant, node_id="n1", blueprint_id="bp", allocation=("10.0.0.1", 25565),
        docker_image="img", startup="run", limits=Limits(memory_mb=1, disk_mb=1, cpu_percent=1), status=status,
        created_at="T0", updated_at="T0",
    )  # fmt: skip


def reader_of(servers: list[Server], nodes: FakeNodeRepository) -> FakeFleetReader:
    repo = FakeServerRepository()
    for each in servers:
        repo.add(each)
    return FakeFleetReader(repo, nodes, {"tn_a": "Team A"})


def test_filter_from_query_lowercases_q_and_refuses_blank_or_long_values():
    assert ServerFilter.from_query({"q": " AlPh ", "status": "offline"}) == ServerFilter(status="offline", q="alph")
    with pytest.raises(ValidationError):
        ServerFilter.from_query({"q": "x" * 65})
    with pytest.raises(ValidationError):
        ServerFilter.from_query({"node_id": "  "})


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (ServerFilter(q="alp"), True),
        (ServerFilter(q="1111"), True),
        (ServerFilter(q="lph"), False),  # a prefix, not a substring
        (ServerFilter(status="running"), False),
        (ServerFilter(tenant_id="tn_b"), False),
        (ServerFilter(node_id="n1", tenant_id="tn_a", status="offline"), True),
    ],
)
def test_filter_matches(wanted, expected):
    assert wanted.matches(server(U1)) is expected


def test_live_states_by_uuid_skip_documents_without_one():
    states = live_states(
        [
            {"state": "running", "is_suspended": False, "configuration": {"uuid": U1.upper()}},
            {"state": "offline"},
            "junk",  # type: ignore[list-item]
        ]
    )
    assert set(states) == {U1}
    assert states[U1].state == "running"


def test_node_servers_join_the_live_state_and_ask_with_the_probe_timeouts():
    nodes = FakeNodeRepository()
    nodes.add(node(), "token")
    agent = FakeNodeAgent()
    agent.servers[U1] = {"state": "running", "suspended": False}
    reader = reader_of([server(U1), server(U2)], nodes)

    found = fleet.node_servers(nodes, reader, lambda n: agent, "n1", PageRequest())

    assert found.reachable is True
    live = {n.entry.server.uuid: n.live for n in found.page.items}
    assert live[U1] is not None and live[U1].state == "running"
    assert live[U2] is None  # the node does not know it
    assert agent.probes == [True]
    assert {n.entry.tenant_name for n in found.page.items} == {"Team A"}


@pytest.mark.parametrize(
    "failure",
    [
        WingsUnavailableError("down", {"reason": "unreachable"}),
        WingsUnauthorizedError("bad token", {}),
        WingsRejectedError("no", {}),
    ],
)
def test_node_servers_give_the_stored_state_when_the_node_fails(failure):
    nodes = FakeNodeRepository()
    nodes.add(node(), "token")
    reader = reader_of([server(U1, status="suspended")], nodes)

    found = fleet.node_servers(nodes, reader, lambda n: FakeNodeAgent(fail_with=failure), "n1", PageRequest())

    assert found.reachable is False
    [only] = found.page.items
    assert (only.entry.server.status, only.live) == ("suspended", None)


def test_node_servers_of_an_unknown_node_is_not_found():
    with pytest.raises(NotFoundError):
        fleet.node_servers(
            FakeNodeRepository(), reader_of([], FakeNodeRepository()), lambda n: FakeNodeAgent(), "nx", PageRequest()
        )


def test_drain_turns_maintenance_on_once_and_counts_the_servers_left():
    nodes = FakeNodeRepository()
    nodes.add(node(), "token")
    reader = reader_of([server(U1), server(U2)], nodes)

    drained = fleet.drain(nodes, reader, "n1")
    again = fleet.drain(nodes, reader, "n1")

    assert drained.node.maintenance is True and nodes.get("n1").maintenance is True
    assert drained.servers_left == again.servers_left == 2
    with pytest.raises(NotFoundError):
        fleet.drain(nodes, reader, "nx")
