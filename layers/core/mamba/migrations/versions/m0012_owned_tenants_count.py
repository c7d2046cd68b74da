"""0012: count the tenants each account already owns (issue 10, finding 5).

An account may own at most ``MAX_TENANTS_PER_ACCOUNT`` tenants, counted by ``owned_tenants``
on the user item in the same transaction that creates a tenant. Accounts that owned tenants
before the count existed start at no count at all, so without this migration an account with
ten tenants could still create three more.

Up counts the owner bindings of each user (a Scan of the bindings: allowed here and only here,
since a migration runs from the ops CLI, never on a request path) and raises ``owned_tenants``
to that count, never lowering one already counted, so re-running is harmless. Down removes
the attribute, which the code before this migration never reads.
"""

from __future__ import annotations

from collections import Counter

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import MembershipItem, UserItem
from mamba.domain.tenancy import OWNER
from mamba.migrations.model import MigrationContext

version = "0012"
description = "Count the tenants each account owns (the per-account tenant cap)"

RENEW_EVERY = 200


def _owners() -> Counter[str]:
    bindings = MembershipItem.scan((MembershipItem.kind == "membership") & (MembershipItem.role == OWNER))
    return Counter(binding.user_id for binding in bindings)


def up(ctx: MigrationContext) -> None:
    counted = 0
    for seen, (user_id, owned) in enumerate(sorted(_owners().items()), start=1):
        # A failed condition: an account deleted since, or already counted at least this high.
        with translate(on_condition=SKIP) as update:
            UserItem(*keys.user(user_id)).update(
                actions=[UserItem.owned_tenants.set(owned)],
                # Never lower a count: tenants created since (counted live) stay counted.
                condition=UserItem.pk.exists()
                & (UserItem.owned_tenants.does_not_exist() | (UserItem.owned_tenants < owned)),
            )
        counted += 0 if update.condition_failed else 1
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
    ctx.log(f"  counted the owned tenants of {counted} accounts")


def down(ctx: MigrationContext) -> None:
    removed = 0
    for seen, user_id in enumerate(sorted(_owners()), start=1):
        with translate(on_condition=SKIP) as update:  # a failed condition: the account is gone
            UserItem(*keys.user(user_id)).update(
                actions=[UserItem.owned_tenants.remove()], condition=UserItem.pk.exists()
            )
        removed += 0 if update.condition_failed else 1
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
    ctx.log(f"  removed the owned-tenant count of {removed} accounts")
