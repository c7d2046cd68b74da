"""0017: count the servers that use each blueprint (``BLUEPRINT#<id>/USAGE``, docs/data-model.md N11).

From this version on the server reservation ADDs 1 to the counter and the removal of a server's
records takes 1 back, and a blueprint is deleted only while its counter is 0 (issue 12: "delete
refused while servers use it"). Servers created before it have no share in any counter, so up
counts them: a Scan of the servers, allowed here and only here (a migration runs from the ops
CLI, never on a request path), then one PutItem per blueprint that has servers. Re-running
writes the same figures. A server created or deleted while the Scan runs can make a count one
off; run it in a quiet moment (as the other counting migrations).

Down deletes the counters (the code before this migration neither writes nor reads them).
"""

from __future__ import annotations

from collections import Counter

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import BlueprintItem, BlueprintUsageItem, ServerItem
from mamba.migrations.model import MigrationContext

version = "0017"
description = "Count the servers that use each blueprint"

RENEW_EVERY = 200


def up(ctx: MigrationContext) -> None:
    counts: Counter[str] = Counter()
    for seen, server in enumerate(ServerItem.scan(ServerItem.kind == "server"), start=1):
        counts[server.blueprint_id] += 1
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
    for blueprint_id, servers in counts.items():
        BlueprintUsageItem(*keys.blueprint_usage(blueprint_id), kind="blueprint_usage", servers=servers).save()
    ctx.log(f"  counted {sum(counts.values())} servers on {len(counts)} blueprints")


def down(ctx: MigrationContext) -> None:
    removed = 0
    for blueprint in BlueprintItem.gsi1.query(keys.ALL_BLUEPRINTS):
        BlueprintUsageItem(*keys.blueprint_usage(blueprint.pk.removeprefix("BLUEPRINT#"))).delete()
        removed += 1
    ctx.log(f"  removed the usage counters of {removed} blueprints")
