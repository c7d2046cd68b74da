"""Response models of the fleet overview and the dead letters (issue 12)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamba.schemas.common import Schema

if TYPE_CHECKING:
    from mamba.services.overview import Overview


class NodeOverview(Schema):
    id: str
    name: str
    status: str  # online | offline | unauthorized | unknown (not probed yet)
    memory_mb: int
    committed_memory_mb: int
    disk_mb: int
    committed_disk_mb: int


class NodesOverview(Schema):
    online: int
    offline: int
    unauthorized: int
    unknown: int
    memory_mb: int
    committed_memory_mb: int
    disk_mb: int
    committed_disk_mb: int
    items: list[NodeOverview]


class ReconcileRun(Schema):
    at: str
    nodes: int
    failed_nodes: int
    changed: int


class FleetOverview(Schema):
    tenants: dict[str, int]
    servers: dict[str, int]
    counted_at: str | None
    nodes: NodesOverview
    failed_operations_24h: int
    dead_letters: int
    last_reconcile: ReconcileRun | None


class DeadLetterOut(Schema):
    message_id: str
    event_id: str | None
    type: str | None
    receive_count: int
    first_received_at: str | None
    first_error: str | None


class DeadLetterList(Schema):
    items: list[DeadLetterOut]


class RedriveOut(Schema):
    moved: int


# --- presenters ---


def overview_out(view: Overview) -> FleetOverview:
    nodes = view.counts.nodes
    by_status = {s: sum(1 for n in nodes if n.status == s) for s in ("online", "offline", "unauthorized")}
    return FleetOverview(
        tenants=view.counts.tenants_by_status,
        servers=view.counts.servers_by_status,
        counted_at=view.counts.counted_at,
        nodes=NodesOverview(
            **by_status,
            unknown=len(nodes) - sum(by_status.values()),
            memory_mb=sum(n.memory_mb for n in nodes),
            committed_memory_mb=sum(n.committed_memory_mb for n in nodes),
            disk_mb=sum(n.disk_mb for n in nodes),
            committed_disk_mb=sum(n.committed_disk_mb for n in nodes),
            items=[
                NodeOverview(
                    id=n.node_id,
                    name=n.name,
                    status=n.status,
                    memory_mb=n.memory_mb,
                    committed_memory_mb=n.committed_memory_mb,
                    disk_mb=n.disk_mb,
                    committed_disk_mb=n.committed_disk_mb,
                )
                for n in nodes
            ],
        ),
        failed_operations_24h=view.counts.failed_operations_24h,
        dead_letters=view.dead_letters,
        last_reconcile=ReconcileRun.model_validate(view.counts.last_reconcile) if view.counts.last_reconcile else None,
    )
