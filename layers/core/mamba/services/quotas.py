"""A tenant's effective quotas: its plan's (written by billing) or the free plan's.

``effective_quotas(tenant_id, source, free, plans)``; ``mamba.bootstrap.effective_quotas``
binds the sources (the tenant record, Settings' FREE_PLAN_* defaults, billing's stored plans)
and is what services receive as their ``quotas`` port.
"""

from __future__ import annotations

from typing import Protocol

from mamba.domain import billing as b
from mamba.domain.errors import NotFoundError
from mamba.domain.quotas import Quotas, parse_quotas


class PlanQuotaSource(Protocol):
    def plan_quotas(self, tenant_id: str) -> str | None: ...


class FreePlanSource(Protocol):
    def get_plan(self, plan_id: str) -> b.Plan:
        """Raises NotFoundError."""


def stored_free_plan(plans: FreePlanSource, defaults: Quotas) -> Quotas:
    """The ``free`` plan as billing stores it (migration 0007; an admin may edit it with
    ``PATCH /v1/admin/plans/free``), else ``defaults`` (Settings', before the migration ran)."""
    try:
        plan = plans.get_plan(b.FREE_PLAN_ID)
    except NotFoundError:
        return defaults
    return plan.quotas


def effective_quotas(
    tenant_id: str, source: PlanQuotaSource, free: Quotas, plans: FreePlanSource | None = None
) -> Quotas:
    """The tenant record's ``plan_quotas`` (each missing key from ``free``, Settings' free-plan
    defaults), else the free plan: the stored ``free`` plan billing shows (``plans``), else
    ``free``. Raises DependencyUnavailableError when the tenant cannot be read."""
    raw = source.plan_quotas(tenant_id)
    defaults = stored_free_plan(plans, free) if not raw and plans is not None else free
    return parse_quotas(raw, defaults)
