"""A tenant's effective quotas: its plan's (written by billing) or the free plan's.

The fixed interface other code relies on: ``effective_quotas(tenant_id) -> Quotas``.
"""

from __future__ import annotations

from typing import Protocol

from mamba.domain.quotas import Quotas, parse_quotas


class PlanQuotaSource(Protocol):
    def plan_quotas(self, tenant_id: str) -> str | None: ...


def free_plan() -> Quotas:
    """The free-plan defaults from Settings (FREE_PLAN_*)."""
    from mamba import bootstrap

    s = bootstrap.settings()
    return Quotas(
        servers=s.free_plan_servers,
        memory_mb=s.free_plan_memory_mb,
        disk_mb=s.free_plan_disk_mb,
        backup_bytes=s.free_plan_backup_bytes,
        backups_per_server=s.free_plan_backups_per_server,
    )


def stored_free_plan() -> Quotas:
    """The ``free`` plan as billing stores it (migration 0007; an admin may edit it with
    ``PATCH /v1/admin/plans/free``), else the Settings defaults (before the migration ran)."""
    from mamba import bootstrap
    from mamba.domain.errors import NotFoundError

    try:
        plan = bootstrap.billing_repository().get_plan("free")
    except NotFoundError:
        return free_plan()
    stored: Quotas = plan.quotas
    return stored


def effective_quotas(tenant_id: str, source: PlanQuotaSource | None = None, defaults: Quotas | None = None) -> Quotas:
    """The tenant record's ``plan_quotas`` (each missing key from the free plan), else the
    free plan: the stored ``free`` plan billing shows, else the Settings defaults. Raises
    DependencyUnavailableError when the tenant cannot be read."""
    if source is None:
        from mamba import bootstrap

        source = bootstrap.placement_store()
    raw = source.plan_quotas(tenant_id)
    if defaults is None:
        defaults = stored_free_plan() if not raw else free_plan()
    return parse_quotas(raw, defaults)
