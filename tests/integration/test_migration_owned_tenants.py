"""Migration 0012 on moto: accounts that owned tenants before the per-account cap are counted."""

from __future__ import annotations

import pytest

from mamba import bootstrap
from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import MembershipItem, UserItem
from mamba.migrations.runner import MigrationContext
from mamba.migrations.versions import m0012_owned_tenants_count as m0012

T0 = "2026-12-01T10:00:00Z"


def context(log: list[str], action: str = "up") -> MigrationContext:
    return MigrationContext(version="0012", action=action, now=T0, log=log.append, renew_lease=lambda: None)


def user(user_id: str, owned: int | None = None) -> None:
    UserItem(
        *keys.user(user_id),
        kind="user",
        user_id=user_id,
        email=f"{user_id}@example.org",
        created_at=T0,
        owned_tenants=owned,
    ).save()


def binding(tenant_id: str, user_id: str, role: str) -> None:
    MembershipItem(
        *keys.membership(tenant_id, user_id),
        kind="membership",
        tenant_id=tenant_id,
        user_id=user_id,
        role=role,
        created_at=T0,
    ).save()


def owned(user_id: str) -> int | None:
    value = UserItem.get(*keys.user(user_id), consistent_read=True).owned_tenants
    return None if value is None else int(value)


@pytest.fixture
def tables(aws):
    bootstrap.dynamo_tables()


def test_accounts_that_owned_tenants_before_the_cap_cannot_create_beyond_it(tables):
    # Given an account owning five tenants from before the count, one counted live at 4, and a member
    user("us_old")
    for n in range(5):
        binding(f"tn_old{n}", "us_old", "owner")
    user("us_live", owned=4)
    binding("tn_live", "us_live", "owner")
    user("us_member")
    binding("tn_old0", "us_member", "admin")
    log: list[str] = []

    # When the migration runs (twice: a re-run changes nothing)
    m0012.up(context(log))
    m0012.up(context([]))

    # Then the old owner's five tenants count, a higher live count is never lowered, a member counts nothing
    assert owned("us_old") == 5
    assert owned("us_live") == 4
    assert owned("us_member") is None
    assert log == ["  counted the owned tenants of 1 accounts"]

    # And down removes the count the code before it never read
    m0012.down(context([], "down"))
    assert owned("us_old") is None
