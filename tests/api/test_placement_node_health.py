"""Fault: a node that is down is not chosen for a new server (issue 18, item 5).

Placement reads each node's last health probe and its circuit breaker with the loads: an
``offline`` node or one whose breaker is open is skipped; with another healthy node the create
goes there, and with none the answer is 503 NODE_UNAVAILABLE at once, with nothing written (no
server, no port taken, no workflow, the tenant's guard untouched).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import NodeBreakerItem
from mamba.domain.nodes import NodeHealth
from tests.api.tenancy_helpers import Api, make_world
from tests.fakes import FakeWorkflows
from tests.server_world import add_blueprint, add_node, create_body, set_plan_quotas

BASE = "/v1/tenants/tn_a/servers"


@pytest.fixture
def world(client: Any) -> Iterator[tuple[Api, FakeWorkflows]]:
    api = make_world(client)
    add_blueprint()
    recorder = FakeWorkflows()
    set_plan_quotas("tn_a", {"servers": 10, "memory_mb": 8192, "disk_mb": 50_000})
    with bootstrap.override(workflows=recorder):
        yield api, recorder


def mark_offline(node_id: str) -> None:
    """What the node-health schedule writes after a failed probe."""
    bootstrap.node_health_store().save(
        NodeHealth(node_id=node_id, status="offline", checked_at="2026-12-05T06:00:00Z", consecutive_failures=3)
    )


def open_breaker(node_id: str) -> None:
    """What the Wings client's breaker writes after its threshold of failed calls."""
    NodeBreakerItem(*keys.node_breaker(node_id), node_id=node_id, failures=5, opened_at=time.time()).save()


def holders(node_id: str) -> set[str | None]:
    items, _ = bootstrap.allocation_repository().list(node_id)
    return {a.server_id for a in items}


def test_node_unavailable_503_writing_nothing_when_the_only_node_is_offline(world):
    # Given the tenant's only node failed its health probe
    api, recorder = world
    add_node("alpha")
    mark_offline("nd_alpha")
    guard_before = bootstrap.placement_store().guard_version("tn_a")

    # When a server is created
    response = api.post(BASE, "usr_alice", create_body())

    # Then 503 NODE_UNAVAILABLE at once, and nothing was written or started
    assert response.status_code == 503, response.json_body
    error = response.json_body["error"]
    assert error["code"] == "NODE_UNAVAILABLE"
    assert "ruled_out" not in error["details"]  # placement counts stay in the log (mamba.redaction)
    assert holders("nd_alpha") == {None}
    assert recorder.started == []
    assert api.get(BASE, "usr_alice").json_body["items"] == []
    assert bootstrap.placement_store().guard_version("tn_a") == guard_before


def test_node_unavailable_503_writing_nothing_when_the_only_nodes_breaker_is_open(world):
    api, recorder = world
    add_node("alpha")
    open_breaker("nd_alpha")

    response = api.post(BASE, "usr_alice", create_body())

    assert response.status_code == 503 and response.json_body["error"]["code"] == "NODE_UNAVAILABLE"
    assert holders("nd_alpha") == {None} and recorder.started == []


def test_create_goes_to_the_healthy_node_when_another_is_offline_or_circuit_open(world):
    # Given two unreachable nodes that would otherwise be chosen first (emptier) and a busier healthy one
    api, recorder = world
    add_node("down", memory_mb=65536)
    add_node("tripped", memory_mb=65536, ip="10.0.0.2")
    add_node("healthy", ip="10.0.0.3")
    mark_offline("nd_down")
    open_breaker("nd_tripped")

    # When a server is created
    response = api.post(BASE, "usr_alice", create_body())

    # Then it is placed on the healthy node, and the others' ports stay free
    assert response.status_code == 202, response.json_body
    assert response.json_body["server"]["node_id"] == "nd_healthy"
    assert holders("nd_down") == {None} and holders("nd_tripped") == {None}
    assert len(recorder.started) == 1


def test_a_breaker_past_its_cooldown_lets_placement_try_the_node_again(world):
    # Given a breaker that opened long ago (half-open: the next call is its probe)
    api, _ = world
    add_node("alpha")
    NodeBreakerItem(*keys.node_breaker("nd_alpha"), node_id="nd_alpha", failures=5, opened_at=time.time() - 3600).save()

    response = api.post(BASE, "usr_alice", create_body())

    assert response.status_code == 202, response.json_body


def test_a_node_back_online_is_chosen_again(world):
    api, _ = world
    add_node("alpha")
    mark_offline("nd_alpha")
    assert api.post(BASE, "usr_alice", create_body()).status_code == 503

    bootstrap.node_health_store().save(NodeHealth(node_id="nd_alpha", status="online", checked_at="2026-12-05T06:01Z"))

    assert api.post(BASE, "usr_alice", create_body()).status_code == 202
