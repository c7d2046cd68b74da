"""0014: every server gets ``gsi3pk = SERVERS`` and ``gsi3sk = <created_at>#<uuid>``.

``/v1/admin/servers`` without a node or tenant filter Queries that gsi3 partition
(``mamba.adapters.dynamo.fleet``); servers written by the current code already carry the keys.

Up reads the servers with a Scan: allowed here and only here (a migration runs from the ops
CLI, never on a request path). Each write is an UpdateItem conditional on the server still
existing, so a server deleted since the Scan read it is skipped and re-running is harmless.

Down removes the gsi3 keys (the code before this migration neither writes nor reads them).
"""

from __future__ import annotations

from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import ServerItem
from mamba.migrations.model import MigrationContext

version = "0014"
description = "Admin listing key (gsi3) on every server"

RENEW_EVERY = 200


def _update(item: ServerItem, actions: list[Any]) -> bool:
    with translate(on_condition=SKIP) as update:  # a failed condition: deleted since the scan read it
        item.update(actions=actions, condition=ServerItem.pk.exists())
    return not update.condition_failed


def up(ctx: MigrationContext) -> None:
    indexed = 0
    for seen, server in enumerate(ServerItem.scan(ServerItem.kind == "server"), start=1):
        if server.gsi3pk != keys.ALL_SERVERS and _update(
            server,
            [
                ServerItem.gsi3pk.set(keys.ALL_SERVERS),
                ServerItem.gsi3sk.set(keys.created_sort(server.created_at, server.server_uuid)),
            ],
        ):
            indexed += 1
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
    ctx.log(f"  indexed {indexed} servers for the admin listing")


def down(ctx: MigrationContext) -> None:
    cleared = 0
    for server in ServerItem.scan(ServerItem.kind == "server"):
        if server.gsi3pk is not None and _update(server, [ServerItem.gsi3pk.remove(), ServerItem.gsi3sk.remove()]):
            cleared += 1
    ctx.log(f"  removed the admin listing key from {cleared} servers")
