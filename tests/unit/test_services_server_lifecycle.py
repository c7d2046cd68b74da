"""mamba.services.server_lifecycle with in-memory fakes: the reconcile loop's isolation of
failing nodes and the workflow actions' idempotent edges (the real adapters and the Wings
simulator are exercised in tests/statemachines)."""

from __future__ import annotations

import pytest

from mamba.domain import servers as srv
from mamba.domain.errors import ValidationError, WingsUnavailableError
from mamba.domain.nodes import Node
from mamba.domain.servers import Server
from mamba.services import server_lifecycle as lifecycle
from tests.fakes import (
    FakeAllocationRepository,
    FakeNodeAgent,
    FakeNodeRepository,
    FakeOperationRepository,
    FakeServerLifecycleStore,
    FakeWorkflows,
    server_entity,
)

T0 = "2026-12-01T10:00:00Z"
STRAY = "0000000f-0000-4000-8000-000000000000"  # on a node, unknown to the panel


def make(uuid: str, node_id: str, status: str = srv.OFFLINE) -> Server:
    return server_entity(uuid, node_id, status, ip="10.0.0.5", created_at=T0)


def node(node_id: str) -> Node:
    return Node(id=node_id, uuid=node_id, name=node_id, fqdn="n.example.org", token_id=node_id.ljust(16, "t"),
                created_at=T0, updated_at=T0)  # fmt: skip


def agent_with(*listed: tuple[str, str]) -> FakeNodeAgent:
    """A node whose daemon reports these (uuid, state) servers."""
    agent = FakeNodeAgent()
    for uuid, state in listed:
        agent.servers[uuid] = {"state": state, "suspended": False, "files": {}, "logs": []}
    return agent


def deps(
    servers: dict[str, Server], agents: dict[str, FakeNodeAgent], store: FakeServerLifecycleStore | None = None
) -> lifecycle.Lifecycle:
    store = store or FakeServerLifecycleStore()
    for server in servers.values():
        store.servers.add(server)
    nodes = FakeNodeRepository(page_cap=1)  # one node per page: the loop must follow the cursor
    for node_id in sorted({s.node_id for s in servers.values()} | set(agents)):
        nodes.add(node(node_id), "token")
    return lifecycle.Lifecycle(
        servers=store.servers,
        store=store,
        locks=store.locks,
        nodes=nodes,
        allocations=FakeAllocationRepository(nodes),
        agent_for=lambda n: agents[n.id],
        operations=FakeOperationRepository(),
        workflows=FakeWorkflows(),
    )


def test_reconcile_reads_every_node_page_and_isolates_failing_nodes():
    a1, a2, b1, c1 = (f"0000000{i}-0000-4000-8000-000000000000" for i in range(4))
    servers = {
        a1: make(a1, "nd_a"),
        a2: make(a2, "nd_a", srv.SUSPENDED),
        b1: make(b1, "nd_b"),
        c1: make(c1, "nd_c"),
    }
    agents = {
        "nd_a": agent_with((a1, "running"), (a2, "running"), (STRAY, "running")),
        "nd_b": FakeNodeAgent(down=True),
        "nd_c": agent_with((c1, "running")),  # a change, so a write, which fails
    }
    store = FakeServerLifecycleStore()
    store.unavailable = {c1}

    results = {r["node_id"]: r for r in lifecycle.reconcile_all(deps(servers, agents, store))}

    assert results["nd_a"] == {"node_id": "nd_a", "servers": 2, "observed": 2, "changed": 1, "removed_strays": 1}
    assert results["nd_b"]["error"] == "NODE_UNAVAILABLE"
    assert results["nd_c"]["error"] == "SERVICE_UNAVAILABLE"
    rows = {r.server_uuid: r for r in store.rows}
    assert (rows[a1].expected_status, rows[a1].new_status) == (srv.OFFLINE, srv.RUNNING)
    assert a2 not in rows  # unchanged: its readings go to the metrics history only, no write
    assert rows[a1].utilization == agents["nd_a"].get_server(a1)["utilization"]
    assert store.servers.get(a1).status == srv.RUNNING


def test_reconcile_with_no_nodes_does_nothing():
    assert lifecycle.reconcile_all(deps({}, {})) == []


def test_forced_node_calls_skip_a_down_node_and_treat_an_unknown_server_as_done():
    uuid = "00000000-0000-4000-8000-000000000001"
    agent = FakeNodeAgent(down=True)
    d = deps({uuid: make(uuid, "nd_a", srv.DELETING)}, {"nd_a": agent})

    killed = lifecycle.action_kill(d, {"server_uuid": uuid, "force": True})
    agent.down = False  # back, but it never knew the server
    deleted = lifecycle.action_delete_on_node(d, {"server_uuid": uuid, "force": True})

    assert killed is not None and killed.startswith("skipped:")
    assert deleted == "the node did not know the server"
    agent.down = True
    with pytest.raises(WingsUnavailableError):
        lifecycle.action_kill(d, {"server_uuid": uuid, "force": False})


def test_actions_on_a_server_that_is_already_gone_are_done():
    d = deps({}, {})
    gone = {"server_uuid": "00000000-0000-4000-8000-000000000009"}
    assert lifecycle.action_kill(d, gone) == "the server record is already gone"
    assert lifecycle.action_delete_on_node(d, gone) == "the server record is already gone"
    assert lifecycle.action_release_allocations(d, gone) == "the server record is already gone"
    assert lifecycle.action_unsuspend(d, gone)["skipped"] == "not_found"


@pytest.mark.parametrize("status", [srv.PROVISIONING, srv.DELETING, srv.FAILED])
def test_suspend_skips_servers_it_cannot_suspend(status):
    uuid = "00000000-0000-4000-8000-000000000001"
    d = deps({uuid: make(uuid, "nd_a", status)}, {"nd_a": FakeNodeAgent()})
    assert lifecycle.action_suspend(d, {"server_uuid": uuid}) == {"server_uuid": uuid, "skipped": status}


def test_an_unknown_action_is_a_validation_error():
    with pytest.raises(ValidationError):
        lifecycle.run_action(deps({}, {}), {"action": "explode"})


def test_reconcile_deletes_servers_the_panel_has_no_record_of_but_not_ones_on_another_node():
    mine = "00000000-0000-4000-8000-00000000000a"
    elsewhere = "00000000-0000-4000-8000-00000000000b"  # recorded on nd_b (the index lags, say)
    stray = "00000000-0000-4000-8000-00000000000c"
    agent = agent_with((mine, "offline"), (elsewhere, "offline"), (stray, "offline"))
    servers = {mine: make(mine, "nd_a"), elsewhere: make(elsewhere, "nd_b")}
    d = deps(servers, {"nd_a": agent, "nd_b": FakeNodeAgent()})

    results = {r["node_id"]: r for r in lifecycle.reconcile_all(d)}

    assert results["nd_a"]["removed_strays"] == 1
    assert [c for c in agent.calls if c[0] == "delete_server"] == [("delete_server", stray)]
    assert set(agent.servers) == {mine, elsewhere}
    assert "removed_strays" not in results["nd_b"]
