"""0018: canceled tenants from before the retention job get its warnings (issue 12).

Before this release a canceled tenant's scheduled look was its ``deletion_due_at`` itself, and
the dunning schedule only logged a due deletion, then took the tenant off the ``DUNNING`` index.
The retention job now deletes the data, after mailing the owners 7 days and 1 day before. So:

* a canceled tenant whose look is its due date (or that was taken off the index) is put back on
  it at its first warning (``retention.first_look``);
* and its ``deletion_due_at`` is moved to at least 7 days after this run: no tenant loses its
  data without the two warnings, because it was canceled under the old code. A later date stays.

Up reads the tenants' index (``TENANTS``, pattern 8: a Query, filtered on canceled tenants) and
writes each one with a condition on the values it read, so a tenant that subscribed again or
changed meanwhile is left alone; a re-run finds nothing left to move (its look is no longer its
due date). Down changes nothing: the code before this release reads the moved date and the
look as it reads its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import TenantItem
from mamba.domain import retention
from mamba.migrations.model import MigrationContext

version = "0018"
description = "Canceled tenants get the retention job's warnings before their data is deleted"

RENEW_EVERY = 200


def _epoch(iso_time: str) -> int:
    return int(datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp())


def up(ctx: MigrationContext) -> None:
    earliest = _epoch(ctx.now) + max(retention.WARNING_DAYS) * retention.DAY
    moved = 0
    canceled = cast(
        "Iterable[TenantItem]",
        TenantItem.gsi1.query(keys.ALL_TENANTS, filter_condition=TenantItem.subscription_status == "canceled"),
    )
    for seen, item in enumerate(canceled, start=1):
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
        if item.deletion_due_at is None:
            continue
        due = int(item.deletion_due_at)
        old_look = keys.dunning_sort(due, item.tenant_id)
        if item.gsi2pk == keys.DUNNING and item.gsi2sk != old_look:
            continue  # looked after by the retention job already
        new_due = max(due, earliest)
        # A failed condition: the tenant subscribed again, or its billing changed, meanwhile.
        with translate(on_condition=SKIP) as update:
            TenantItem(*keys.tenant(item.tenant_id)).update(
                actions=[
                    TenantItem.deletion_due_at.set(new_due),
                    TenantItem.gsi2pk.set(keys.DUNNING),
                    TenantItem.gsi2sk.set(keys.dunning_sort(retention.first_look(new_due), item.tenant_id)),
                ],
                condition=(TenantItem.subscription_status == "canceled") & (TenantItem.deletion_due_at == due),
            )
        moved += 0 if update.condition_failed else 1
    ctx.log(f"  put {moved} canceled tenants on the retention schedule")


def down(ctx: MigrationContext) -> None:
    ctx.log("  nothing to undo: the code before 0018 reads the moved dates as its own")
