"""Placement: which node takes a new server. Pure (standard library only).

``place`` filters the nodes a server may go to and orders them least committed first; the
service then reserves a free allocation on the first node that still has one (a conditional
write), trying the next node when a concurrent create took the last one.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamba.domain.errors import ConflictError, NoCapacityError, WingsUnavailableError
from mamba.domain.nodes import Node

UNLIMITED = -1  # an over-allocation percentage of -1 means "never full" (as in Pterodactyl)

# Why a node that would fit cannot be reached right now (``NodeLoad.unavailable``): the
# node-health schedule's last probe failed (``offline``) or the node refused the panel's token
# (``unauthorized``), or its circuit breaker is open. A create sent there would answer 202 and
# fail in the workflow while holding a port; skipping it costs nothing.
UNAVAILABLE_REASONS = frozenset({"offline", "unauthorized", "circuit_open"})


@dataclass(frozen=True)
class NodeLoad:
    """A node and what its current servers already commit (memory and disk, MiB)."""

    node: Node
    memory_mb: int = 0
    disk_mb: int = 0
    unavailable: str | None = None  # one of UNAVAILABLE_REASONS, or None when reachable (or unknown)


@dataclass(frozen=True)
class PlacementRequest:
    tenant_id: str
    memory_mb: int
    disk_mb: int
    location: str | None = None
    tag: str | None = None


def _fits(committed: int, requested: int, total: int, overallocate_percent: int) -> bool:
    if overallocate_percent == UNLIMITED:
        return True
    capacity = total * (100 + max(overallocate_percent, 0)) // 100
    return committed + requested <= capacity


def _commitment(load: NodeLoad, request: PlacementRequest) -> float:
    """How full the node would be with the new server: the larger of its memory and disk
    ratios against the physical totals (over-allocation lets a node pass 1.0)."""
    node = load.node
    memory = (load.memory_mb + request.memory_mb) / node.memory_mb if node.memory_mb else 0.0
    disk = (load.disk_mb + request.disk_mb) / node.disk_mb if node.disk_mb else 0.0
    return max(memory, disk)


def why_not(load: NodeLoad, request: PlacementRequest) -> str | None:
    """The first reason ``load.node`` cannot take the server, or None when it can."""
    node = load.node
    if request.location and node.location != request.location:
        return "location"
    if request.tag and request.tag not in node.tags:
        return "tag"
    if not node.allows_tenant(request.tenant_id):
        return "tenant_not_allowed"
    if node.maintenance:
        return "maintenance"
    if not _fits(load.memory_mb, request.memory_mb, node.memory_mb, node.memory_overallocate_percent):
        return "memory"
    if not _fits(load.disk_mb, request.disk_mb, node.disk_mb, node.disk_overallocate_percent):
        return "disk"
    # Last: a node ruled out only for being unreachable is one that would take the server once
    # it is back, which decides between 409 NO_CAPACITY and 503 NODE_UNAVAILABLE in ``place``.
    if load.unavailable:
        return load.unavailable
    return None


def place(request: PlacementRequest, loads: list[NodeLoad]) -> list[Node]:
    """The nodes that can take the server, least committed first (ties: by node id).

    Raises NoCapacityError when none can; its details count the nodes ruled out per reason,
    so an operator sees whether memory, maintenance or a location filter is the cause. When
    some node would take the server but is unreachable (offline, circuit breaker open), it
    raises WingsUnavailableError (503 NODE_UNAVAILABLE) instead: retrying later may work.
    """
    fitting: list[NodeLoad] = []
    reasons: dict[str, int] = {}
    for load in loads:
        reason = why_not(load, request)
        if reason is None:
            fitting.append(load)
        else:
            reasons[reason] = reasons.get(reason, 0) + 1
    if not fitting and UNAVAILABLE_REASONS & reasons.keys():
        raise WingsUnavailableError(
            "No node that could take this server is reachable right now; nothing was created. "
            "Try again in a few minutes.",
            {"nodes_considered": len(loads), "ruled_out": reasons},
        )
    if not fitting:
        raise NoCapacityError(
            "No node has room for this server right now; try smaller limits, another location, or later.",
            {"nodes_considered": len(loads), "ruled_out": reasons},
        )
    fitting.sort(key=lambda load: (_commitment(load, request), load.node.id))
    return [load.node for load in fitting]


@dataclass(frozen=True)
class TenantGuard:
    """The tenant's guard as read before the quota check: its version and the servers it
    reserved recently, as (uuid, memory_mb, disk_mb, epoch seconds)."""

    version: int = 0
    recent: tuple[tuple[str, int, int, float], ...] = ()


def held_elsewhere(server_uuid: str, node_id: str) -> ConflictError:
    """Why a failed server that still holds a port on ``node_id`` is not placed on another node:
    its failed run could not reach that node to remove it, so it may still be there, and moving
    it would leave that copy behind (an admin's retry, ``DynamoPlacementStore.rearm``)."""
    return ConflictError(
        f"The server may still be on node {node_id}: its failed run could not reach the node to remove it. "
        "Bring the node back (or end its maintenance) and retry, or delete the server.",
        {"server_id": server_uuid, "node_id": node_id, "reason": "held_on_node"},
    )
