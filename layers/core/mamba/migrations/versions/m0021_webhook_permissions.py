"""0021: the built-in roles' stored copy gains ``webhooks.read`` and ``webhooks.manage`` (issue 14).

Why: the roles API lists the stored catalogue (0001), and the web panel enables the webhook
controls from that listing; the code's ``BUILTIN_ROLES`` now grants the webhook permissions
(owner and admin both, operator ``webhooks.read``, viewer neither). The guard authorizes from
the code, so this only keeps the listing true.

Up rewrites the catalogue from the code (overwriting is harmless, so re-running is safe). Down
rewrites it from the code without the two webhook permissions.
"""

from __future__ import annotations

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import RoleItem
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.migrations.model import MigrationContext
from mamba.migrations.versions.m0001_platform_roles import DESCRIPTIONS, write_catalogue

version = "0021"
description = "Built-in roles: webhooks.read and webhooks.manage"

WEBHOOK_PERMISSIONS = frozenset({"webhooks.read", "webhooks.manage"})


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
                    permissions=sorted(granted - WEBHOOK_PERMISSIONS),
                    builtin=True,
                    created_at=ctx.now,
                )
            )
    ctx.log(f"  wrote {len(BUILTIN_ROLES)} built-in roles without the webhook permissions")
