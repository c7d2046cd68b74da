"""Node health judgement and the probe loop, with fakes (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from mamba.domain.errors import ValidationError, WingsRejectedError, WingsUnavailableError
from mamba.domain.nodes import Node, NodeEvent, NodeHealth
from mamba.services import node_health as nh


class FakeStore:
    def __init__(self) -> None:
        self.health: dict[str, NodeHealth] = {}
        self.events: list[NodeEvent] = []

    def get(self, node_id: str) -> NodeHealth | None:
        return self.health.get(node_id)

    def save(self, health: NodeHealth) -> None:
        self.health[health.node_id] = health

    def add_event(self, event: NodeEvent) -> None:
        self.events.append(event)


class FakeNodes:
    def __init__(self, nodes: list[Node], page: int = 1) -> None:
        self.nodes, self.page = nodes, page

    def list(self, limit: int = 100, cursor: str | None = None) -> tuple[list[Node], str | None]:
        start = int(cursor or 0)
        chunk = self.nodes[start : start + self.page]
        more = start + self.page < len(self.nodes)
        return chunk, str(start + self.page) if more else None


class Agent:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.calls: list[bool] = []

    def system(self, *, probe: bool = False, extended: bool = False) -> dict[str, Any]:
        self.calls.append(probe)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return dict(self.outcome)


def node(node_id: str) -> Node:
    return Node(id=node_id, uuid="u", name=node_id, fqdn="n.test", token_id="t" * 16, created_at="", updated_at="")


DOWN = WingsUnavailableError("down", {"reason": "unreachable"})


def test_online_probe_records_version_and_last_seen_when_the_node_answers():
    health, event = nh.judge("n1", None, {"version": "1.11.11"}, "T1")

    assert (health.status, health.version, health.last_seen_at, health.consecutive_failures) == (
        "online",
        "1.11.11",
        "T1",
        0,
    )
    assert event is None


def test_alert_is_raised_once_when_the_third_consecutive_probe_fails():
    # Given a node that was seen, then fails three and four times
    store = FakeStore()
    agent = Agent({"version": "1.11.11"})
    nh.probe_node(node("n1"), agent, store, "T0")
    agent.outcome = DOWN
    for t in ("T1", "T2"):
        nh.probe_node(node("n1"), agent, store, t)
    assert store.events == []

    # When the third and a fourth probe fail
    nh.probe_node(node("n1"), agent, store, "T3")
    nh.probe_node(node("n1"), agent, store, "T4")

    # Then exactly one node.down event, carrying the last-seen time, and the node is offline
    assert [e.type for e in store.events] == ["node.down"]
    assert store.events[0].detail["last_seen_at"] == "T0"
    assert store.health["n1"].status == "offline"
    assert store.health["n1"].consecutive_failures == 4
    assert agent.calls == [True] * 5  # always the short probe timeouts


def test_recovery_event_is_raised_when_an_alerted_node_answers_again():
    store = FakeStore()
    agent = Agent(DOWN)
    for t in ("T1", "T2", "T3"):
        nh.probe_node(node("n1"), agent, store, t)

    agent.outcome = {"version": "1.11.12"}
    nh.probe_node(node("n1"), agent, store, "T4")

    assert [e.type for e in store.events] == ["node.down", "node.recovered"]
    assert (store.health["n1"].status, store.health["n1"].alerted, store.health["n1"].version) == (
        "online",
        False,
        "1.11.12",
    )


def test_success_resets_the_count_when_failures_were_not_consecutive():
    store = FakeStore()
    agent = Agent(DOWN)
    nh.probe_node(node("n1"), agent, store, "T1")
    nh.probe_node(node("n1"), agent, store, "T2")
    agent.outcome = {"version": "1"}
    nh.probe_node(node("n1"), agent, store, "T3")
    agent.outcome = DOWN
    nh.probe_node(node("n1"), agent, store, "T4")
    nh.probe_node(node("n1"), agent, store, "T5")

    assert store.events == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (WingsRejectedError("no", {"wings_status": 403}), "unauthorized"),
        (WingsRejectedError("no", {"wings_status": 401}), "unauthorized"),
        (WingsUnavailableError("open", {"reason": "circuit_open"}), "offline"),
        (ValidationError("odd"), "offline"),
    ],
)
def test_failure_status_names_the_cause_when_a_probe_fails(error, status):
    health, _ = nh.judge("n1", None, error, "T1")

    assert health.status == status
    assert health.last_error == error.message


def test_probe_all_walks_every_page_and_survives_a_node_whose_agent_cannot_be_built():
    # Given three nodes over three pages; n2's token cannot be decrypted
    store = FakeStore()
    nodes = FakeNodes([node("n1"), node("n2"), node("n3")], page=1)

    def agent_for(n: Node) -> Agent:
        if n.id == "n2":
            raise WingsUnavailableError("no token", {})
        return Agent({"version": "1"})

    # When the schedule runs
    statuses = nh.probe_all(nodes, agent_for, store, lambda: "T1")

    # Then every node has a status
    assert statuses == {"n1": "online", "n2": "offline", "n3": "online"}
