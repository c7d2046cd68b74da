"""mamba.services.server_lifecycle with in-memory fakes: the reconcile loop's isolation of
failing nodes and the workflow actions' idempotent edges (the real adapters and the Wings
simulator are exercised in tests/statemachines)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from mamba.domain import servers as srv
from mamba.domain.errors import DependencyUnavailableError, ValidationError, WingsNotFoundError, WingsUnavailableError
from mamba.domain.servers import Server
from mamba.services import server_lifecycle as lifecycle
from tests.fakes import FakeOperationRepository, FakeWorkflows, server_entity

T0 = "2026-12-01T10:00:00Z"


def make(uuid: str, node_id: str, status: str = srv.OFFLINE) -> Server:
    return server_entity(uuid, node_id, status, ip="10.0.0.5", created_at=T0)


@dataclass
class FakeNode:
    id: str


@dataclass
class FakeAgent:
    listing: list[dict[str, Any]] | Exception
    calls: list[tuple[str, str]] = field(default_factory=list)

    def list_servers(self) -> list[dict[str, Any]]:
        if isinstance(self.listing, Exception):
            raise self.listing
        return self.listing

    def power(self, uuid: str, action: str, **kw: Any) -> None:
        self.calls.append(("power", action))
        raise WingsUnavailableError("The node could not be reached.")

    def delete_server(self, uuid: str) -> None:
        self.calls.append(("delete", uuid))
        raise WingsNotFoundError("The requested resource does not exist on this instance.")


@dataclass
class FakeStore:
    rows: list[Any] = field(default_factory=list)
    fail_for: set[str] = field(default_factory=set)

    def record_observations(self, rows: list[Any], *, now: str) -> int:
        if any(r.server_uuid in self.fail_for for r in rows):
            raise DependencyUnavailableError("The server's observation could not be written; try again.")
        self.rows.extend(rows)
        return len(rows)


@dataclass
class FakeServers:
    servers: dict[str, Server]

    def on_node(self, node_id: str) -> list[Server]:
        return [s for s in self.servers.values() if s.node_id == node_id]

    def get(self, uuid: str) -> Server:
        if uuid not in self.servers:
            from mamba.domain.errors import NotFoundError

            raise NotFoundError("Server not found.")
        return self.servers[uuid]


@dataclass
class FakeNodes:
    nodes: list[FakeNode]

    def list(self, limit: int = 100, cursor: str | None = None) -> tuple[list[FakeNode], str | None]:
        start = int(cursor or 0)
        page = self.nodes[start : start + 1]
        nxt = str(start + 1) if start + 1 < len(self.nodes) else None
        return page, nxt

    def get(self, node_id: str) -> FakeNode:
        return next(n for n in self.nodes if n.id == node_id)


def deps(servers: dict[str, Server], agents: dict[str, FakeAgent], store: FakeStore) -> lifecycle.Lifecycle:
    nodes = sorted({FakeNode(s.node_id).id for s in servers.values()} | set(agents))
    return lifecycle.Lifecycle(
        servers=FakeServers(servers),  # type: ignore[arg-type]
        store=store,  # type: ignore[arg-type]
        locks=None,  # type: ignore[arg-type]
        nodes=FakeNodes([FakeNode(n) for n in nodes]),
        allocations=None,  # type: ignore[arg-type]
        agent_for=lambda node: agents[node.id],
        operations=FakeOperationRepository(),
        workflows=FakeWorkflows(),
    )


def listing(uuid: str, state: str) -> dict[str, Any]:
    return {"state": state, "configuration": {"uuid": uuid}, "utilization": {"state": state, "memory_bytes": 1}}


def test_reconcile_reads_every_node_page_and_isolates_failing_nodes():
    a1, a2, b1, c1 = (f"0000000{i}-0000-4000-8000-000000000000" for i in range(4))
    servers = {
        a1: make(a1, "nd_a"),
        a2: make(a2, "nd_a", srv.SUSPENDED),
        b1: make(b1, "nd_b"),
        c1: make(c1, "nd_c"),
    }
    agents = {
        "nd_a": FakeAgent([listing(a1, "running"), listing(a2, "running"), listing("unknown", "running")]),
        "nd_b": FakeAgent(WingsUnavailableError("The node could not be reached.")),
        "nd_c": FakeAgent([listing(c1, "offline")]),
    }
    store = FakeStore(fail_for={c1})

    results = {r["node_id"]: r for r in lifecycle.reconcile_all(deps(servers, agents, store))}

    assert results["nd_a"] == {"node_id": "nd_a", "servers": 2, "observed": 2, "changed": 1}
    assert results["nd_b"]["error"] == "NODE_UNAVAILABLE"
    assert results["nd_c"]["error"] == "SERVICE_UNAVAILABLE"
    rows = {r.server_uuid: r for r in store.rows}
    assert (rows[a1].expected_status, rows[a1].new_status) == (srv.OFFLINE, srv.RUNNING)
    assert (rows[a2].expected_status, rows[a2].new_status) == (srv.SUSPENDED, None)
    assert rows[a1].utilization == {"state": "running", "memory_bytes": 1}


def test_reconcile_with_no_nodes_does_nothing():
    assert lifecycle.reconcile_all(deps({}, {}, FakeStore())) == []


def test_forced_node_calls_skip_a_down_node_and_treat_an_unknown_server_as_done():
    uuid = "00000000-0000-4000-8000-000000000001"
    agent = FakeAgent([])
    d = deps({uuid: make(uuid, "nd_a", srv.DELETING)}, {"nd_a": agent}, FakeStore())

    killed = lifecycle.action_kill(d, {"server_uuid": uuid, "force": True})
    deleted = lifecycle.action_delete_on_node(d, {"server_uuid": uuid, "force": True})

    assert killed is not None and killed.startswith("skipped:")
    assert deleted == "the node did not know the server"
    with pytest.raises(WingsUnavailableError):
        lifecycle.action_kill(d, {"server_uuid": uuid, "force": False})


def test_actions_on_a_server_that_is_already_gone_are_done():
    d = deps({}, {}, FakeStore())
    gone = {"server_uuid": "00000000-0000-4000-8000-000000000009"}
    assert lifecycle.action_kill(d, gone) == "the server record is already gone"
    assert lifecycle.action_delete_on_node(d, gone) == "the server record is already gone"
    assert lifecycle.action_release_allocations(d, gone) == "the server record is already gone"
    assert lifecycle.action_unsuspend(d, gone)["skipped"] == "not_found"


@pytest.mark.parametrize("status", [srv.PROVISIONING, srv.DELETING, srv.FAILED])
def test_suspend_skips_servers_it_cannot_suspend(status):
    uuid = "00000000-0000-4000-8000-000000000001"
    d = deps({uuid: make(uuid, "nd_a", status)}, {"nd_a": FakeAgent([])}, FakeStore())
    assert lifecycle.action_suspend(d, {"server_uuid": uuid}) == {"server_uuid": uuid, "skipped": status}


def test_an_unknown_action_is_a_validation_error():
    with pytest.raises(ValidationError):
        lifecycle.run_action(deps({}, {}, FakeStore()), {"action": "explode"})


@dataclass
class DeletingAgent(FakeAgent):
    def delete_server(self, uuid: str) -> None:
        self.calls.append(("delete", uuid))


def test_reconcile_deletes_servers_the_panel_has_no_record_of_but_not_ones_on_another_node():
    mine = "00000000-0000-4000-8000-00000000000a"
    elsewhere = "00000000-0000-4000-8000-00000000000b"  # recorded on nd_b (the index lags, say)
    stray = "00000000-0000-4000-8000-00000000000c"
    agent = DeletingAgent([listing(mine, "offline"), listing(elsewhere, "offline"), listing(stray, "offline")])
    servers = {mine: make(mine, "nd_a"), elsewhere: make(elsewhere, "nd_b")}
    d = deps(servers, {"nd_a": agent, "nd_b": DeletingAgent([])}, FakeStore())

    results = {r["node_id"]: r for r in lifecycle.reconcile_all(d)}

    assert results["nd_a"]["removed_strays"] == 1
    assert agent.calls == [("delete", stray)]
    assert "removed_strays" not in results["nd_b"]
