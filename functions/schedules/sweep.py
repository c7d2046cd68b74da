"""The sweeper, run on the reconcile schedule: finish or compensate records whose workflow is
not running (mamba.services.sweeper; docs/server-lifecycle.md "Stranded records")."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.observability import logger

if TYPE_CHECKING:
    from mamba.services import sweeper
else:
    sweeper = lazy_import("mamba.services.sweeper")


def ports() -> Any:
    from functions.tasks import provision
    from mamba.domain.clock import iso, utcnow

    return sweeper.SweepPorts(
        operations=bootstrap.operation_repository(),
        workflows=bootstrap.workflows(),
        nodes=bootstrap.node_repository(),
        servers=bootstrap.server_repository(),
        provisioning=provision.ports(),
        lifecycle=bootstrap.server_lifecycle(),
        backups=bootstrap.backup_ports(),
        epoch=time.time,
        now=lambda: iso(utcnow()),
        unreachable=_unreachable,
        tenants=bootstrap.admin_repository(),
    )


def _unreachable(node_ids: list[str]) -> set[str]:
    """The nodes whose last health probe failed (one BatchGetItem per 100 nodes)."""
    health = bootstrap.node_health_store().health_of(node_ids)
    return {node_id for node_id, h in health.items() if h.status in ("offline", "unauthorized")}


def run(*, servers_too: bool = True) -> dict[str, Any]:
    """One sweep; its failure is logged and reported, never the reconcile's failure."""
    try:
        return dict(sweeper.sweep(ports(), servers_too=servers_too).as_dict())
    except Exception as exc:  # noqa: BLE001 - the schedule goes on; the next run sweeps again
        logger.exception("sweep failed")
        return {"error": type(exc).__name__}
