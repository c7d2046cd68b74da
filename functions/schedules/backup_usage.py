"""The backup-usage reconciliation: check every tenant's storage counter against S3
(services/backups.py ``reconcile_usage``) and correct a drift. The same schedule then sends the
service-account keys' 7-day expiry notices (functions/schedules/key_expiry.py)."""

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
    from functions.schedules import key_expiry

    try:
        notices: dict[str, int] | None = key_expiry.handler(event, context)
    except Exception:  # noqa: BLE001 - the notices are retried next run; the reconciliation still runs
        logger.exception("service-account key expiry notices failed")
        notices = None
    reports = backups.reconcile_usage(bootstrap.backup_ports())
    drifted = [r.tenant_id for r in reports if r.drift]
    logger.info("backup usage reconciled", extra={"tenants": len(reports), "corrected": drifted})
    return {
        "key_expiry_notices": notices,
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
