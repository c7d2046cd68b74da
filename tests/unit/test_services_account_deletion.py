"""mamba.services.account_deletion with fakes: the order of its steps, and what a refusal
found late (another owner left meanwhile) leaves behind."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.domain.accounts import User
from mamba.domain.errors import ConflictError
from mamba.domain.tenancy import Membership, Tenant
from mamba.services import account_deletion
from tests.fakes import AccountWorld, FakeTenancyRepository

T0 = "2026-12-01T10:00:00Z"
NOW = 1_796_119_200


def world() -> tuple[AccountWorld, FakeTenancyRepository, list[tuple[str, str]]]:
    accounts = AccountWorld()
    for user_id in ("usr_ada", "usr_bob"):
        accounts.users.add(User(id=user_id, email=f"{user_id}@example.org", created_at=T0,
                                password_hash=accounts.hasher.hash("pw"), email_verified=True))  # fmt: skip
    tenancy = FakeTenancyRepository(accounts.users)
    return accounts, tenancy, []


def ports(accounts: AccountWorld, tenancy: FakeTenancyRepository, purged: list[tuple[str, str]]) -> object:
    return account_deletion.AccountDeletionPorts(
        accounts=accounts.ports,
        tenancy=tenancy,
        remover=accounts.users,
        servers_of=lambda tenant_id: 0,
        live_subscription=lambda tenant_id: False,
        delete_tenant_data=lambda tenant_id, actor: purged.append((tenant_id, actor)) is None,
    )


def test_owner_memberships_go_first_and_a_late_last_owner_refusal_keeps_the_account():
    accounts, tenancy, purged = world()
    # ada: viewer of tn_v; co-owner of tn_o with bob
    tenancy.add_with_owner(Tenant(id="tn_v", name="V", created_at=T0), Membership("tn_v", "usr_bob", "owner", T0))
    tenancy.members[("tn_v", "usr_ada")] = Membership("tn_v", "usr_ada", "viewer", T0)
    tenancy.add_with_owner(Tenant(id="tn_o", name="O", created_at=T0), Membership("tn_o", "usr_bob", "owner", T0))
    tenancy.members[("tn_o", "usr_ada")] = Membership("tn_o", "usr_ada", "owner", T0)
    # When bob leaves tn_o between ada's check and her removal (the fake reads the count late)
    original = tenancy.remove_member

    def bob_left_first(current: Membership) -> None:
        if current.tenant_id == "tn_o" and ("tn_o", "usr_bob") in tenancy.members:
            del tenancy.members[("tn_o", "usr_bob")]
        original(current)

    tenancy.remove_member = bob_left_first  # type: ignore[method-assign]
    checked = ports(accounts, tenancy, purged)
    checked = replace(checked, tenancy=_counts_two(tenancy))  # type: ignore[type-var]

    with pytest.raises(ConflictError) as refused:
        account_deletion.delete_account(checked, "usr_ada", "pw", None, via="token", now=NOW)  # type: ignore[arg-type]

    # Then she is refused as tn_o's last owner, and nothing else changed: still a viewer of tn_v
    assert refused.value.details["reason"] == "last_owner"
    assert refused.value.details["tenants"] == [{"id": "tn_o", "name": "O"}]
    assert ("tn_v", "usr_ada") in tenancy.members
    assert accounts.users.get("usr_ada").email == "usr_ada@example.org"


def _counts_two(tenancy: FakeTenancyRepository) -> FakeTenancyRepository:
    """The check reads tn_o with two owners (as it was when ada checked)."""
    real_get = tenancy.get

    def get(tenant_id: str) -> Tenant:
        tenant = real_get(tenant_id)
        return replace(tenant, owner_count=2) if tenant_id == "tn_o" else tenant

    tenancy.get = get  # type: ignore[method-assign]
    return tenancy


def test_the_account_goes_last_after_keys_and_sessions():
    accounts, tenancy, purged = world()
    tenancy.add_with_owner(Tenant(id="tn_e", name="Empty", created_at=T0), Membership("tn_e", "usr_ada", "owner", T0))

    done = account_deletion.delete_account(
        ports(accounts, tenancy, purged),
        "usr_ada",
        "pw",
        None,
        via="token",
        now=NOW,  # type: ignore[arg-type]
    )

    assert done == {"left": [], "deleted": ["tn_e"]}
    assert purged == [("tn_e", "usr_ada")]
    assert "usr_ada" not in accounts.users.users and "usr_bob" in accounts.users.users
