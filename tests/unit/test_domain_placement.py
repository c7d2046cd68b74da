"""Placement: filters (location, tag, tenant, maintenance, memory, disk) and least-committed order."""

from __future__ import annotations

from typing import Any

import pytest

from mamba.domain.errors import NoCapacityError, WingsUnavailableError
from mamba.domain.nodes import Node
from mamba.domain.placement import NodeLoad, PlacementRequest, place, why_not

T0 = "2026-11-25T10:00:00Z"


def node(node_id: str, **extra: Any) -> Node:
    values: dict[str, Any] = {"memory_mb": 8192, "disk_mb": 100_000, "location": "fra"}
    values.update(extra)
    return Node(id=node_id, uuid=node_id, name=node_id, fqdn="n.example.org", token_id="t" * 16,
                created_at=T0, updated_at=T0, **values)  # fmt: skip


REQUEST = PlacementRequest(tenant_id="tn_a", memory_mb=1024, disk_mb=2048)


@pytest.mark.parametrize(
    ("load", "request_", "reason"),
    [
        (NodeLoad(node("a")), REQUEST, None),
        (NodeLoad(node("a", location="nyc")), PlacementRequest("tn_a", 1024, 2048, location="fra"), "location"),
        (NodeLoad(node("a", tags=("ssd",))), PlacementRequest("tn_a", 1024, 2048, tag="nvme"), "tag"),
        (NodeLoad(node("a", tags=("ssd", "nvme"))), PlacementRequest("tn_a", 1024, 2048, tag="nvme"), None),
        (NodeLoad(node("a", allowed_tenants=("tn_b",))), REQUEST, "tenant_not_allowed"),
        (NodeLoad(node("a", allowed_tenants=("tn_a",))), REQUEST, None),
        (NodeLoad(node("a", maintenance=True)), REQUEST, "maintenance"),
        (NodeLoad(node("a"), memory_mb=7200), REQUEST, "memory"),
        (NodeLoad(node("a"), memory_mb=7168), REQUEST, None),  # exactly full is allowed
        (NodeLoad(node("a", memory_overallocate_percent=50), memory_mb=7200), REQUEST, None),
        (NodeLoad(node("a", memory_overallocate_percent=-1), memory_mb=10**6), REQUEST, None),
        (NodeLoad(node("a"), disk_mb=99_000), REQUEST, "disk"),
        (NodeLoad(node("a", disk_overallocate_percent=-1), disk_mb=10**7), REQUEST, None),
        (NodeLoad(node("a"), unavailable="offline"), REQUEST, "offline"),
        (NodeLoad(node("a"), unavailable="circuit_open"), REQUEST, "circuit_open"),
        # a node that would not fit anyway says so first: its health does not turn a 409 into a 503
        (NodeLoad(node("a", maintenance=True), unavailable="offline"), REQUEST, "maintenance"),
        (NodeLoad(node("a"), memory_mb=7200, unavailable="offline"), REQUEST, "memory"),
    ],
)
def test_why_not_names_the_first_reason_a_node_cannot_take_the_server(load, request_, reason):
    assert why_not(load, request_) == reason


def test_place_orders_nodes_least_committed_first():
    loads = [
        NodeLoad(node("busy"), memory_mb=6000),
        NodeLoad(node("idle"), memory_mb=0),
        NodeLoad(node("half", memory_mb=16384), memory_mb=8192),
    ]

    assert [n.id for n in place(REQUEST, loads)] == ["idle", "half", "busy"]


def test_place_counts_disk_commitment_too():
    loads = [NodeLoad(node("memory-light-disk-full"), disk_mb=90_000), NodeLoad(node("balanced"), memory_mb=2048)]

    assert [n.id for n in place(REQUEST, loads)] == ["balanced", "memory-light-disk-full"]


def test_place_breaks_ties_by_node_id():
    assert [n.id for n in place(REQUEST, [NodeLoad(node("b")), NodeLoad(node("a"))])] == ["a", "b"]


def test_no_fitting_node_raises_no_capacity_with_reasons_counted():
    loads = [
        NodeLoad(node("a", maintenance=True)),
        NodeLoad(node("b"), memory_mb=8000),
        NodeLoad(node("c"), memory_mb=8000),
    ]

    with pytest.raises(NoCapacityError) as caught:
        place(REQUEST, loads)

    assert caught.value.code == "NO_CAPACITY"
    assert caught.value.details == {"nodes_considered": 3, "ruled_out": {"maintenance": 1, "memory": 2}}


def test_no_node_at_all_raises_no_capacity():
    with pytest.raises(NoCapacityError):
        place(REQUEST, [])


def test_place_skips_an_offline_or_circuit_open_node_when_another_node_is_healthy():
    loads = [
        NodeLoad(node("down"), unavailable="offline"),
        NodeLoad(node("tripped"), unavailable="circuit_open"),
        NodeLoad(node("healthy"), memory_mb=6000),
    ]

    assert [n.id for n in place(REQUEST, loads)] == ["healthy"]


def test_place_is_node_unavailable_when_every_node_that_would_fit_is_unreachable():
    loads = [NodeLoad(node("down"), unavailable="offline"), NodeLoad(node("full"), memory_mb=8000)]

    with pytest.raises(WingsUnavailableError) as raised:
        place(REQUEST, loads)

    assert raised.value.status == 503 and raised.value.code == "NODE_UNAVAILABLE"
    assert raised.value.details == {"nodes_considered": 2, "ruled_out": {"offline": 1, "memory": 1}}


def test_place_is_no_capacity_when_no_node_would_fit_even_if_one_is_also_offline():
    loads = [NodeLoad(node("full-and-down"), memory_mb=8000, unavailable="offline")]

    with pytest.raises(NoCapacityError):
        place(REQUEST, loads)
