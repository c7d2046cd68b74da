"""0003: once seeded the local Wings simulator's two blueprints; now does nothing.

Until issue 15 this migration added ``bp_line_server`` and ``bp_command_runner``. They are the
simulator's blueprints, and a migration runs in every deployment, so the local stack seeds
them now (``local.blueprints.seed``). The version stays because deployments have it in their
ledger, and the runner refuses a ledger naming a version the code does not have.

Up and down change nothing: in a deployment that applied the old 0003 the two blueprints stay
(they are ordinary blueprints, and servers may use them), and a new deployment never gets them.
"""

from __future__ import annotations

from mamba.migrations.model import MigrationContext

version = "0003"
description = "(retired) the simulator's blueprints are seeded by the local stack"


def up(ctx: MigrationContext) -> None:
    ctx.log("  nothing to do: the local stack seeds the simulator's blueprints (local.blueprints)")


def down(ctx: MigrationContext) -> None:
    ctx.log("  nothing to undo")
