"""The state-reconciliation schedule: read every node's ``GET /api/servers`` and write each
server status the node's state changes in one batch per node, and every reading in the
node's metrics minute (services/server_lifecycle.py, services/metrics.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mamba import bootstrap, observability
from mamba.lazy import lazy_import
from mamba.observability import logger

if TYPE_CHECKING:
    from mamba.services import metering, overview
    from mamba.services import server_lifecycle as lifecycle
else:
    lifecycle = lazy_import("mamba.services.server_lifecycle")
    overview = lazy_import("mamba.services.overview")
    metering = lazy_import("mamba.services.metering")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with observability.timed("ReconcileDuration"):
        results = lifecycle.reconcile_all(bootstrap.server_lifecycle())
    observability.emit_metric("ReconcileNodeErrors", sum(1 for r in results if r.get("error")))
    # The metrics history's writes (services/metrics.record_node): the samples of the minutes
    # written in this run (a run within an already written minute writes none), and the nodes
    # whose history could not be written (docs/observability.md).
    written = sum(int(r.get("samples") or 0) for r in results if r.get("minute_writes"))
    observability.emit_metric("MetricSamplesWritten", written)
    observability.emit_metric("MetricWriteErrors", sum(1 for r in results if r.get("metrics_error")))
    observability.emit_metric("ServerCrashEvents", sum(r.get("events", 0) for r in results))
    logger.info("servers reconciled", extra={"nodes": len(results), "results": results})
    # The overview's last run and its counters, recomputed from the statuses just written.
    overview.record_reconcile(bootstrap.fleet_stats(), results, datetime.now(UTC))
    if bootstrap.settings().billing_enabled:
        # Billing's run intervals follow the statuses just written (docs/billing.md "Usage metering").
        import time

        metering.observe_nodes(
            bootstrap.billing_ports(),
            [r["node_id"] for r in results if not r.get("error")],
            bootstrap.server_repository().on_node,
            int(time.time()),
        )
    from functions.schedules import sweep  # stranded provisioning/deleting records (issue 18)

    # Stranded servers are older than the sweeper's 5-minute grace anyway: looking for them
    # every 5 minutes instead of every minute saves reading every server again (docs/cost.md).
    servers_too = datetime.now(UTC).minute % SWEEP_SERVERS_EVERY_MINUTES == 0
    return {"nodes": results, "sweep": sweep.run(servers_too=servers_too)}


SWEEP_SERVERS_EVERY_MINUTES = 5
