"""0013: blueprints lose the ``local_safe`` flag (issue 15: no simulator in the product).

``local_safe`` told the local Wings simulator which install scripts it might run. That choice
is the simulator's own now (an allowlist in ``local/``), so a stored blueprint no longer says
anything about it: up removes the ``local_safe`` attribute of every blueprint item and the
``local_safe`` key of its JSON document. One Query per page of the blueprints' gsi1 listing,
one conditional update per blueprint; re-running finds nothing left to remove.

Each update is conditional on the document read, so a blueprint changed meanwhile is left to
that write (which, from code of this version, stores no flag). Down changes nothing: the code
before this migration reads a missing flag as ``false``, and which blueprints were marked is
not kept anywhere to restore.
"""

from __future__ import annotations

import json
from typing import cast

from pynamodb.expressions.operand import Path

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import BlueprintItem
from mamba.migrations.model import MigrationContext

version = "0013"
description = "Blueprints lose the simulator's local_safe flag (the simulator keeps its own allowlist)"

FLAG = "local_safe"
RENEW_EVERY = 200


def up(ctx: MigrationContext) -> None:
    cleaned = 0
    for seen, found in enumerate(BlueprintItem.gsi1.query(keys.ALL_BLUEPRINTS), start=1):
        item = cast(BlueprintItem, found)  # the shared index is typed by the base item
        document = json.loads(item.document)
        document.pop(FLAG, None)
        # A failed condition: the blueprint was saved (or deleted) since it was read; that write stands.
        with translate(on_condition=SKIP) as update:
            item.update(
                actions=[Path(FLAG).remove(), BlueprintItem.document.set(json.dumps(document, separators=(",", ":")))],
                # Only over the document read here: a blueprint saved since keeps that save.
                condition=BlueprintItem.document == item.document,
            )
        cleaned += 0 if update.condition_failed else 1
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
    ctx.log(f"  removed {FLAG} from {cleaned} blueprints")


def down(ctx: MigrationContext) -> None:
    ctx.log(f"  nothing to restore: a missing {FLAG} reads as false")
