"""The backup-usage reconciliation: check every tenant's storage counter against S3
(services/backups.py ``reconcile_usage``) and correct a drift."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.observability import logger

if TYPE_CHECKING:
    from mamba.services import backups
else:
    backups = lazy_import("mamba.services.backups")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    reports = backups.reconcile_usage(bootstrap.backup_ports())
    drifted = [r.tenant_id for r in reports if r.drift]
    logger.info("backup usage reconciled", extra={"tenants": len(reports), "corrected": drifted})
    return {
        "tenants": len(reports),
        "corrected": drifted,
        "reports": [
            {
                "tenant_id": r.tenant_id,
                "counted": r.counted_bytes,
                "actual": r.actual_bytes,
                "missing": r.missing_objects,
            }
            for r in reports
        ],
    }
