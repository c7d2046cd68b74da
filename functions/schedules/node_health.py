"""The node-health schedule: probe every node's /api/system (services/node_health.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.domain.clock import iso, utcnow
from mamba.lazy import lazy_import
from mamba.observability import emit_metric, logger

if TYPE_CHECKING:
    from mamba.services import node_health
else:
    node_health = lazy_import("mamba.services.node_health")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    statuses = node_health.probe_all(
        bootstrap.node_repository(),
        bootstrap.agent_for,
        bootstrap.node_health_store(),
        lambda: iso(utcnow()),
        bootstrap.events_or_none(),
    )
    logger.info("node health probed", extra={"nodes": len(statuses), "statuses": statuses})
    # One figure for the fleet, not one per node (the alarm and the dashboard read it; the
    # admin's node page says which node and why).
    unhealthy = sum(1 for status in statuses.values() if status in (node_health.OFFLINE, node_health.UNAUTHORIZED))
    emit_metric("NodesUnhealthy", unhealthy)
    return {"nodes": statuses}
