"""0015: index every operation by status for ``GET /v1/admin/operations?status=`` (issue 12).

Operations written from now on carry ``gsi3pk = OPS#<status>`` / ``gsi3sk = <created_at>#<op_id>``
(rewritten with every status change), so the admin list Queries one status newest first.
Operations written before carry neither and would be missing from the filtered list.

Up reads the operations with a Scan (allowed here and only here: a migration runs from the ops
CLI, never on a request path) and sets both keys, on the condition that the status is still the
one the Scan read: an operation a workflow moved on meanwhile already carries its new key, and
a stale one must not overwrite it. Re-running is harmless. Down removes the keys (the code
before this migration never reads them). The gsi3 index itself comes with the stack update
(``adapters/dynamo/tables.py``), which runs before the migrations.
"""

from __future__ import annotations

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import OperationItem
from mamba.migrations.model import MigrationContext

version = "0015"
description = "Operations indexed by status (gsi3) for the admin operations list"

RENEW_EVERY = 200


def up(ctx: MigrationContext) -> None:
    indexed = 0
    for seen, op in enumerate(OperationItem.scan(OperationItem.kind == "operation"), start=1):
        wanted = keys.operations_by_status(op.status)
        if op.gsi3pk != wanted:
            with translate(on_condition=SKIP) as update:  # gone, or its status changed since the Scan
                op.update(
                    actions=[
                        OperationItem.gsi3pk.set(wanted),
                        OperationItem.gsi3sk.set(f"{op.created_at}#{op.operation_id}"),
                    ],
                    condition=OperationItem.pk.exists() & (OperationItem.status == op.status),
                )
            indexed += 0 if update.condition_failed else 1
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
    ctx.log(f"  indexed {indexed} operations by status")


def down(ctx: MigrationContext) -> None:
    removed = 0
    for seen, op in enumerate(OperationItem.scan(OperationItem.kind == "operation"), start=1):
        if op.gsi3pk is not None:
            with translate(on_condition=SKIP) as update:
                op.update(
                    actions=[OperationItem.gsi3pk.remove(), OperationItem.gsi3sk.remove()],
                    condition=OperationItem.pk.exists(),
                )
            removed += 0 if update.condition_failed else 1
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
    ctx.log(f"  removed the status index of {removed} operations")
