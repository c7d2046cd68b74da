"""Migration 0004 on moto: admin listing keys and owner counts for items written before it."""

from __future__ import annotations

import pytest

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import MembershipItem, TenantItem, UserItem
from mamba.migrations.runner import MigrationContext
from mamba.migrations.versions import m0004_tenancy_indexes as m0004

T0 = "2026-01-02T03:04:05Z"


@pytest.fixture
def legacy(aws):
    """A user and a tenant with two owners and a viewer, written as older code did: no gsi1
    keys on the profiles and no owner_count."""
    from mamba import bootstrap

    bootstrap.dynamo_tables()
    UserItem(*keys.user("usr_old"), kind="user", user_id="usr_old", email="old@example.org", created_at=T0).save()
    TenantItem(*keys.tenant("tn_old"), kind="tenant", tenant_id="tn_old", name="Old", created_at=T0).save()
    for user_id, role in (("usr_old", "owner"), ("usr_two", "owner"), ("usr_three", "viewer")):
        MembershipItem(
            *keys.membership("tn_old", user_id),
            kind="membership",
            tenant_id="tn_old",
            user_id=user_id,
            role=role,
            created_at=T0,
        ).save()


def context(log: list[str]) -> MigrationContext:
    return MigrationContext(version="0004", action="up", now=T0, log=log.append, renew_lease=lambda: None)


def test_up_indexes_profiles_and_counts_owners_when_they_lack_them(legacy):
    log: list[str] = []

    m0004.up(context(log))

    user = UserItem.get(*keys.user("usr_old"))
    tenant = TenantItem.get(*keys.tenant("tn_old"))
    assert (user.gsi1pk, user.gsi1sk) == (keys.ALL_USERS, f"{T0}#usr_old")
    assert (tenant.gsi1pk, tenant.gsi1sk, tenant.owner_count) == (keys.ALL_TENANTS, f"{T0}#tn_old", 2)
    assert [u.user_id for u in UserItem.gsi1.query(keys.ALL_USERS)] == ["usr_old"]
    assert log == ["  indexed 1 users; counted the owners of 1 tenants"]


def test_up_is_harmless_when_run_twice_and_down_removes_the_counts(legacy):
    m0004.up(context([]))
    m0004.up(context([]))
    assert TenantItem.get(*keys.tenant("tn_old")).owner_count == 2

    m0004.down(context([]))
    m0004.down(context([]))

    tenant = TenantItem.get(*keys.tenant("tn_old"))
    assert tenant.owner_count is None
    assert tenant.gsi1pk == keys.ALL_TENANTS  # the listing keys stay: older code uses them too


def test_last_owner_rule_holds_on_a_migrated_tenant(legacy):
    # Given the migrated tenant with two owners
    from mamba import bootstrap
    from mamba.domain.errors import ConflictError

    m0004.up(context([]))
    repo = bootstrap.tenancy_repository()

    # When both owners are removed in turn
    repo.remove_member(repo.get_member("tn_old", "usr_two"))

    # Then the second removal is refused
    with pytest.raises(ConflictError) as caught:
        repo.remove_member(repo.get_member("tn_old", "usr_old"))
    assert caught.value.details["reason"] == "last_owner"
    assert TenantItem.get(*keys.tenant("tn_old")).owner_count == 1
