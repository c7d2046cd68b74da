"""0007: seed the ``free`` plan (issue 7, docs/billing.md).

A tenant without a live subscription gets the free plan's quotas. The plan is seeded with
Settings' ``FREE_PLAN_*`` defaults (the same ones ``mamba.services.quotas`` falls back to);
afterwards an admin can change them with ``PATCH /v1/admin/plans/free``.

Up adds the plan unless it exists (a re-run leaves an edited free plan alone). Down deletes it.
"""

from __future__ import annotations

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.billing import DynamoBillingRepository
from mamba.adapters.dynamo.items import PlanItem
from mamba.domain.billing import FREE_PLAN_ID, free_plan
from mamba.domain.errors import ConflictError
from mamba.migrations.model import MigrationContext, MigrationError

version = "0007"
description = "Seed the free plan (the quotas of tenants without a subscription)"


def up(ctx: MigrationContext) -> None:
    if ctx.free_quotas is None:
        raise MigrationError("0007 needs Settings' free-plan defaults (MigrationContext.free_quotas).")
    try:
        DynamoBillingRepository().add_plan(free_plan(ctx.now, ctx.free_quotas))
        ctx.log(f"  added plan {FREE_PLAN_ID}")
    except ConflictError:
        ctx.log(f"  plan {FREE_PLAN_ID} exists; left as it is")


def down(ctx: MigrationContext) -> None:
    PlanItem(*keys.plan(FREE_PLAN_ID)).delete()
    ctx.log(f"  deleted plan {FREE_PLAN_ID}")
