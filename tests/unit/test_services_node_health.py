"""Node health judgement and the probe loop, with fakes (no I/O)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.domain.errors import ValidationError, WingsRejectedError, WingsUnauthorizedError, WingsUnavailableError
from mamba.domain.nodes import Node
from mamba.services import node_health as nh
from tests.fakes import FakeNodeAgent, FakeNodeHealthStore, FakeNodeRepository


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
    store = FakeNodeHealthStore()
    agent = FakeNodeAgent()
    agent.info["version"] = "1.11.11"
    nh.probe_node(node("n1"), agent, store, "T0")
    agent.fail_with = DOWN
    for t in ("T1", "T2"):
        nh.probe_node(node("n1"), agent, store, t)
    assert store.log == []

    # When the third and a fourth probe fail
    nh.probe_node(node("n1"), agent, store, "T3")
    nh.probe_node(node("n1"), agent, store, "T4")

    # Then exactly one node.down event, carrying the last-seen time, and the node is offline
    assert [e.type for e in store.log] == ["node.down"]
    assert store.log[0].detail["last_seen_at"] == "T0"
    assert store.health["n1"].status == "offline"
    assert store.health["n1"].consecutive_failures == 4
    assert agent.probes == [True] * 5  # always the short probe timeouts


def test_recovery_event_is_raised_when_an_alerted_node_answers_again():
    store = FakeNodeHealthStore()
    agent = FakeNodeAgent(fail_with=DOWN)
    for t in ("T1", "T2", "T3"):
        nh.probe_node(node("n1"), agent, store, t)

    agent.fail_with, agent.info["version"] = None, "1.11.12"
    nh.probe_node(node("n1"), agent, store, "T4")

    assert [e.type for e in store.log] == ["node.down", "node.recovered"]
    assert (store.health["n1"].status, store.health["n1"].alerted, store.health["n1"].version) == (
        "online",
        False,
        "1.11.12",
    )


def test_success_resets_the_count_when_failures_were_not_consecutive():
    store = FakeNodeHealthStore()
    agent = FakeNodeAgent(fail_with=DOWN)
    nh.probe_node(node("n1"), agent, store, "T1")
    nh.probe_node(node("n1"), agent, store, "T2")
    agent.fail_with = None
    nh.probe_node(node("n1"), agent, store, "T3")
    agent.fail_with = DOWN
    nh.probe_node(node("n1"), agent, store, "T4")
    nh.probe_node(node("n1"), agent, store, "T5")

    assert store.log == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (WingsUnauthorizedError("no", {"wings_status": 403}), "unauthorized"),
        (WingsUnauthorizedError("no", {"wings_status": 401}), "unauthorized"),
        (WingsRejectedError("no", {"wings_status": 409}), "offline"),
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
    store = FakeNodeHealthStore()
    nodes = FakeNodeRepository(page_cap=1)
    for n in ("n1", "n2", "n3"):
        nodes.add(replace(node(n), token_id=f"tok_{n}".ljust(16, "0")), "token")

    def agent_for(n: Node) -> FakeNodeAgent:
        if n.id == "n2":
            raise WingsUnavailableError("no token", {})
        return FakeNodeAgent()

    # When the schedule runs
    statuses = nh.probe_all(nodes, agent_for, store, lambda: "T1")

    # Then every node has a status
    assert statuses == {"n1": "online", "n2": "offline", "n3": "online"}
