"""What a tenant's quota page reads, in two DynamoDB calls.

``DynamoTenantUsageReader.read`` gets the tenant profile (``plan_id``, ``plan_quotas``), the
servers' quota guard (recent reservations gsi2 may not list yet), the backup storage counter
and the stored ``free`` plan in one consistent BatchGetItem, then counts the servers with one
gsi2 Query (``DynamoPlacementStore.usage``). With the guard's own BatchGetItem a
``GET .../usage`` costs three calls: the server count is a Query and cannot join a batch.
"""

from __future__ import annotations

import json

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import translate
from mamba.adapters.dynamo.identity import DynamoIdentityRepository
from mamba.adapters.dynamo.items import PlanItem, ServerGuardItem, TenantBackupsItem, TenantItem
from mamba.adapters.dynamo.placement import DynamoPlacementStore, _recent
from mamba.domain.placement import TenantGuard
from mamba.domain.quotas import QUOTA_KEYS, BackupSettingsFacts, Quotas, UsageFacts, tenant_quotas
from mamba.ports import PlacementStore


def _stored_quotas(item: PlanItem) -> Quotas | None:
    try:
        data = json.loads(item.quotas)
        # A plan stored before schedules existed has no schedules_per_server: from_dict's default.
        if any(k not in data for k in QUOTA_KEYS if k != "schedules_per_server"):
            return None
        return Quotas.from_dict(data)
    except (ValueError, KeyError, TypeError):
        return None


class DynamoTenantUsageReader:
    def __init__(self, placement: PlacementStore | None = None) -> None:
        self._placement = placement or DynamoPlacementStore()

    def read(self, tenant_id: str) -> UsageFacts:
        """Raises DependencyUnavailableError when DynamoDB does not answer."""
        wanted = {
            "tenant": keys.tenant(tenant_id),
            "guard": keys.server_guard(tenant_id),
            "backups": keys.tenant_backups(tenant_id),
            "free": keys.plan("free"),
        }
        with translate(unavailable="The tenant's usage could not be read; try again."):
            found = DynamoIdentityRepository._batch_get(list(wanted.values()))
        tenant = TenantItem.from_raw_data(found[wanted["tenant"]]) if wanted["tenant"] in found else None
        guard = TenantGuard()
        if wanted["guard"] in found:
            guard_item = ServerGuardItem.from_raw_data(found[wanted["guard"]])
            guard = TenantGuard(version=int(guard_item.version or 0), recent=_recent(guard_item.recent))
        backup_bytes = 0
        if wanted["backups"] in found:
            backup_bytes = int(TenantBackupsItem.from_raw_data(found[wanted["backups"]]).usage_bytes or 0)
        free = _stored_quotas(PlanItem.from_raw_data(found[wanted["free"]])) if wanted["free"] in found else None
        return UsageFacts(
            plan_id=(tenant.plan_id if tenant is not None else None) or "free",
            plan_quotas=tenant.plan_quotas if tenant is not None else None,
            stored_free_quotas=free,
            servers=self._placement.usage(tenant_id, guard),
            backup_bytes=backup_bytes,
        )

    def backup_settings(self, tenant_id: str, settings_free: Quotas) -> BackupSettingsFacts:
        """``GET .../backup-settings`` in one consistent BatchGetItem: the tenant profile (its
        quotas), the backup storage counter (usage and the rotation choice) and the stored ``free``
        plan. Raises DependencyUnavailableError when DynamoDB does not answer."""
        wanted = {
            "tenant": keys.tenant(tenant_id),
            "backups": keys.tenant_backups(tenant_id),
            "free": keys.plan("free"),
        }
        with translate(unavailable="The tenant's backup settings could not be read; try again."):
            found = DynamoIdentityRepository._batch_get(list(wanted.values()))
        tenant = TenantItem.from_raw_data(found[wanted["tenant"]]) if wanted["tenant"] in found else None
        backups = TenantBackupsItem.from_raw_data(found[wanted["backups"]]) if wanted["backups"] in found else None
        free = _stored_quotas(PlanItem.from_raw_data(found[wanted["free"]])) if wanted["free"] in found else None
        return BackupSettingsFacts(
            rotate=bool(backups.rotate) if backups is not None else False,
            usage_bytes=int(backups.usage_bytes or 0) if backups is not None else 0,
            quotas=tenant_quotas(tenant.plan_quotas if tenant is not None else None, free, settings_free),
        )


__all__ = ["DynamoTenantUsageReader"]
