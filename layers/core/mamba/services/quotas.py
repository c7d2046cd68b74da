"""A tenant's effective quotas: its plan's (``TenantItem.plan_quotas``, written by billing),
else the free-plan defaults from Settings (``FREE_*``)."""

from __future__ import annotations

import json

from mamba import bootstrap
from mamba.domain.quotas import Quotas, from_mapping


def free_plan() -> Quotas:
    s = bootstrap.settings()
    return Quotas(
        servers=s.free_servers,
        memory_mb=s.free_memory_mb,
        disk_mb=s.free_disk_mb,
        backup_bytes=s.free_backup_bytes,
        backups_per_server=s.free_backups_per_server,
    )


def effective_quotas(tenant_id: str) -> Quotas:
    """One GetItem of the tenant profile. An unknown tenant or no plan gets the free plan."""
    bootstrap.dynamo_tables()
    from pynamodb.exceptions import DoesNotExist

    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import TenantItem

    defaults = free_plan()
    try:
        item = TenantItem.get(*keys.tenant(tenant_id), attributes_to_get=["plan_quotas"])
    except DoesNotExist:
        return defaults
    if not item.plan_quotas:
        return defaults
    try:
        raw = json.loads(item.plan_quotas)
    except ValueError:
        return defaults
    return from_mapping(raw, defaults) if isinstance(raw, dict) else defaults
