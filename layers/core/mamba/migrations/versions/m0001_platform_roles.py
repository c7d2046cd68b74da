"""0001: write the built-in role catalogue (owner, admin, operator, viewer) to the table.

Why: tenants pick a member's role from this catalogue, and the roles API lists it next to
the tenant's custom roles (``DynamoTenantRepository.builtin_roles``, one Query on
``ROLES#BUILTIN``). The guard does not read these items: it authorizes from
``mamba.domain.permissions.BUILTIN_ROLES`` in code, so a request never pays for them.

Up puts one ``RoleItem`` per built-in role (overwriting is harmless, so re-running is safe).
Down deletes every item under ``ROLES#BUILTIN``. When ``BUILTIN_ROLES`` changes, add a
migration that calls ``write_catalogue`` again so the stored copy follows the code.
"""

from __future__ import annotations

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import RoleItem
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.migrations.model import MigrationContext

version = "0001"
description = "Built-in role catalogue (owner, admin, operator, viewer) for listing"

DESCRIPTIONS = {
    "owner": "Everything in the tenant, including billing and the tenant's settings",
    "admin": "Everything except billing changes and the tenant's settings",
    "operator": "Run servers: power, console, files, backups; read the rest",
    "viewer": "Read servers, files, backups and operations",
}


def write_catalogue(ctx: MigrationContext) -> None:
    with RoleItem.batch_write() as batch:
        for name, granted in BUILTIN_ROLES.items():
            pk, sk = keys.builtin_role(name)
            batch.save(
                RoleItem(
                    pk,
                    sk,
                    kind="role",
                    name=name,
                    description=DESCRIPTIONS.get(name),
                    permissions=sorted(granted),
                    builtin=True,
                    created_at=ctx.now,
                )
            )
    ctx.log(f"  wrote {len(BUILTIN_ROLES)} built-in roles: {', '.join(BUILTIN_ROLES)}")


def up(ctx: MigrationContext) -> None:
    write_catalogue(ctx)


def down(ctx: MigrationContext) -> None:
    stored = list(RoleItem.query(keys.BUILTIN_ROLES, RoleItem.sk.startswith(keys.ROLE_PREFIX), consistent_read=True))
    with RoleItem.batch_write() as batch:
        for item in stored:
            batch.delete(item)
    ctx.log(f"  deleted {len(stored)} built-in roles")
