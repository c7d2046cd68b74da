"""A server created through the application API for ``user: N`` lives in that user's personal
tenant: created once (the user its owner, the host's plan), found again by one read, and a race
for the first one ends in one tenant (mamba.services.pterodactyl.servers)."""

from __future__ import annotations

from typing import Any

import pytest

from mamba.domain.accounts import User
from mamba.domain.billing import Plan
from mamba.domain.errors import NotFoundError
from mamba.domain.quotas import Quotas
from mamba.services.pterodactyl import servers as service
from tests.fakes import FakeBillingRepository, FakeTenancyRepository, FakeUserRepository

ALICE = User(id="usr_alice", email="alice@example.org", created_at="2026-01-01T00:00:00Z", email_verified=True)
HOSTING = Plan(id="hosting", name="Hosting", quotas=Quotas(servers=20, memory_mb=65536, disk_mb=100_000))


class Plans(FakeBillingRepository):
    """Billing's state lives on the tenant record: a tenant the tenancy fake created has one."""

    def get_state(self, tenant_id: str) -> Any:
        self.add_tenant(tenant_id)
        return super().get_state(tenant_id)


def ports(tenants: Any, plans: FakeBillingRepository, plan: str = "hosting") -> service.AppServerPorts:
    # Only the personal tenant's ports are used here.
    return service.AppServerPorts(tenants=tenants, plans=plans, tenant_plan=plan, **dict.fromkeys(UNUSED))  # type: ignore[arg-type]


UNUSED = ("ids", "fleet", "users", "blueprints", "nodes", "allocations", "free", "create", "lifecycle")


@pytest.fixture
def world() -> tuple[FakeTenancyRepository, Plans]:
    users = FakeUserRepository()
    users.add(ALICE)
    plans = Plans()
    plans.add_plan(HOSTING)
    return FakeTenancyRepository(users), plans


def test_the_first_server_creates_the_tenant_owned_by_the_user_on_the_hosts_plan(world):
    tenants, plans = world

    tenant_id = service.ensure_personal_tenant(ports(tenants, plans), ALICE)

    assert tenant_id == "tn_pt-usr_alice"
    assert tenants.get(tenant_id).name == "alice's servers"
    assert tenants.get_member(tenant_id, "usr_alice").role == "owner"
    assert plans.get_state(tenant_id).plan_id == "hosting"
    assert plans.get_state(tenant_id).quotas == HOSTING.quotas


def test_the_next_server_finds_the_tenant_and_leaves_its_plan_alone(world):
    tenants, plans = world
    first = service.ensure_personal_tenant(ports(tenants, plans), ALICE)
    # the host moved alice to another plan meanwhile (billing, an admin)
    state = plans.get_state(first)
    plans.states[first] = type(state)(tenant_id=first, plan_id="pro")

    again = service.ensure_personal_tenant(ports(tenants, plans), ALICE)

    assert again == first
    assert plans.get_state(first).plan_id == "pro"
    assert [m.tenant_id for m in tenants.memberships_of_user("usr_alice")] == [first]


def test_the_free_plan_writes_no_billing_state(world):
    tenants, plans = world

    tenant_id = service.ensure_personal_tenant(ports(tenants, plans, plan="free"), ALICE)

    assert tenant_id not in plans.states


def test_a_race_for_the_first_tenant_ends_in_the_winners_and_the_loser_sets_no_plan(world):
    tenants, plans = world

    class LateReader:
        """The loser read "no tenant", then the winner created it before the loser's create."""

        def __init__(self) -> None:
            self.reads = 0

        def get(self, tenant_id: str) -> Any:
            self.reads += 1
            if self.reads == 1:
                raise NotFoundError("Tenant not found.", {"tenant_id": tenant_id})
            return tenants.get(tenant_id)

        def __getattr__(self, name: str) -> Any:
            return getattr(tenants, name)

    winner = service.ensure_personal_tenant(ports(tenants, plans), ALICE)
    plans.states[winner] = type(plans.states[winner])(tenant_id=winner, plan_id="pro")

    loser = service.ensure_personal_tenant(ports(LateReader(), plans), ALICE)

    assert loser == winner
    assert plans.get_state(winner).plan_id == "pro"  # the loser did not write its plan over it
    assert len([t for t in tenants.tenants if t.startswith("tn_pt-")]) == 1


def test_owner_of_a_personal_tenant_needs_no_read_and_of_another_is_its_first_owner(world):
    tenants, plans = world
    from mamba.services import accounts

    accounts.create_tenant(tenants, "Team", "usr_alice", tenant_id="tn_team")

    assert service.owner_of(ports(object(), plans), "tn_pt-usr_bob") == "usr_bob"
    assert service.owner_of(ports(tenants, plans), "tn_team") == "usr_alice"
