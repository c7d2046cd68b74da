"""0004: backfill what the tenancy and admin APIs rely on, for items written before them.

* Every user profile gets ``gsi1pk = USERS`` and every tenant profile ``gsi1pk = TENANTS``
  (with ``gsi1sk = <created_at>#<id>``): ``/v1/admin/users`` and ``/v1/admin/tenants``
  Query those partitions. Profiles written by the current code already carry them.
* Every tenant gets ``owner_count``, the number of its owner memberships: the last-owner
  rule is a conditional decrement of that counter (``mamba.adapters.dynamo.tenants``), and
  a tenant without it would refuse every demotion of an owner.

Up reads the table with a Scan. That is allowed here and only here: a migration runs from
the ops CLI, never on a request path. Each write is an UpdateItem conditional on the item
still existing, and every value is recomputed from the table, so re-running is harmless.

Down removes ``owner_count`` (the code before this migration never wrote it). It keeps
the gsi1 keys: the code before this migration writes and reads them too.
"""

from __future__ import annotations

from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import MembershipItem, TenantItem, UserItem
from mamba.migrations.model import MigrationContext

version = "0004"
description = "Admin listing keys on users and tenants; tenants' owner_count"

RENEW_EVERY = 200


def _update(item: UserItem | TenantItem, actions: list[Any]) -> bool:
    with translate(on_condition=SKIP) as update:  # a failed condition: deleted since the scan read it
        item.update(actions=actions, condition=type(item).pk.exists())
    return not update.condition_failed


def _owners(tenant_id: str) -> int:
    found = MembershipItem.query(
        keys.tenant_partition(tenant_id),
        MembershipItem.sk.startswith(keys.MEMBER_PREFIX),
        filter_condition=MembershipItem.role == "owner",
        consistent_read=True,
    )
    return sum(1 for _ in found)


def up(ctx: MigrationContext) -> None:
    users = tenants = 0
    for seen, user in enumerate(UserItem.scan(UserItem.kind == "user"), start=1):
        if user.gsi1pk != keys.ALL_USERS and _update(
            user,
            [
                UserItem.gsi1pk.set(keys.ALL_USERS),
                UserItem.gsi1sk.set(keys.created_sort(user.created_at, user.user_id)),
            ],
        ):
            users += 1
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
    for seen, tenant in enumerate(TenantItem.scan(TenantItem.kind == "tenant"), start=1):
        actions: list[Any] = [TenantItem.owner_count.set(_owners(tenant.tenant_id))]
        if tenant.gsi1pk != keys.ALL_TENANTS:
            actions += [
                TenantItem.gsi1pk.set(keys.ALL_TENANTS),
                TenantItem.gsi1sk.set(keys.created_sort(tenant.created_at, tenant.tenant_id)),
            ]
        if _update(tenant, actions):
            tenants += 1
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
    ctx.log(f"  indexed {users} users; counted the owners of {tenants} tenants")


def down(ctx: MigrationContext) -> None:
    cleared = 0
    for tenant in TenantItem.scan(TenantItem.kind == "tenant"):
        if tenant.owner_count is not None and _update(tenant, [TenantItem.owner_count.remove()]):
            cleared += 1
    ctx.log(f"  removed owner_count from {cleared} tenants")
