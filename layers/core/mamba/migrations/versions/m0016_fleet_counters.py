"""0016: compute the fleet overview's counters once for existing data (issue 12).

``GET /v1/admin/overview`` reads tenants and servers by status, and what each node's servers
commit, from the ``STATS`` items (docs/data-model.md F2), never from a Scan. The reconcile
schedule recomputes them after every run; this migration computes them right away, so the
overview is complete from the deploy on rather than from the first reconcile run. Up reads
the tenants' and nodes' indexes and each node's servers (Queries, no Scan) and writes the
three items; re-running recomputes the same figures. Down deletes them (nothing before this
migration reads them).
"""

from __future__ import annotations

from datetime import UTC, datetime

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import MainItem
from mamba.adapters.dynamo.overview import STATS_KINDS, DynamoFleetStats
from mamba.migrations.model import MigrationContext

version = "0016"
description = "Compute the fleet overview's tenant, server and node-load counters"


def up(ctx: MigrationContext) -> None:
    import boto3

    # The client of the table the items are bound to (the ops CLI binds them before it runs us).
    dynamodb = boto3.client("dynamodb", region_name=MainItem.Meta.region, endpoint_url=MainItem.Meta.host)
    DynamoFleetStats(dynamodb).refresh(datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    ctx.log("  counted tenants and servers by status and each node's committed resources")


def down(ctx: MigrationContext) -> None:
    for kind in STATS_KINDS:
        MainItem(*keys.stats(kind)).delete()
    ctx.log("  removed the fleet counters")
