"""0019: the built-in roles' stored copy gains ``schedules.read`` and ``schedules.write`` (issue 14).

Why: the roles API lists the stored catalogue (0001), and the code's ``BUILTIN_ROLES`` now grants
the schedule permissions (owner and admin both, operator ``schedules.write``, every role the
read). The guard authorizes from the code, so this only keeps the listing true.

Up rewrites the catalogue from the code (overwriting is harmless, so re-running is safe). Down
rewrites it without the two schedule permissions, as the code before this version had it.
"""

from __future__ import annotations

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import RoleItem
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.migrations.model import MigrationContext
from mamba.migrations.versions.m0001_platform_roles import DESCRIPTIONS, write_catalogue

version = "0019"
description = "Built-in roles: schedules.read and schedules.write"

SCHEDULE_PERMISSIONS = frozenset({"schedules.read", "schedules.write"})


def up(ctx: MigrationContext) -> None:
    write_catalogue(ctx)


def down(ctx: MigrationContext) -> None:
    with RoleItem.batch_write() as batch:
        for name, granted in BUILTIN_ROLES.items():
            batch.save(
                RoleItem(
                    *keys.builtin_role(name),
                    kind="role",
                    name=name,
                    description=DESCRIPTIONS.get(name),
                    permissions=sorted(granted - SCHEDULE_PERMISSIONS),
                    builtin=True,
                    created_at=ctx.now,
                )
            )
    ctx.log(f"  wrote {len(BUILTIN_ROLES)} built-in roles without the schedule permissions")
