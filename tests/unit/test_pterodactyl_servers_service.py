"""mamba.services.pterodactyl.servers on fakes. A server created through the application API for
``user: N`` lives in that user's personal tenant: created once (the user its owner, the host's
plan), found again by one read, and a race for the first one ends in one tenant. The routes
Pterodactyl answers once done wait, bounded, for their workflow."""

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


def test_a_plan_setting_that_names_no_plan_refuses_before_any_tenant_is_made(world):
    tenants, plans = world

    from mamba.domain.errors import DependencyUnavailableError

    with pytest.raises(DependencyUnavailableError) as caught:
        service.ensure_personal_tenant(ports(tenants, plans, plan="gone"), ALICE)

    assert "PTERODACTYL_TENANT_PLAN" in caught.value.message
    assert tenants.tenants == {}


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


# --- settling: the routes Pterodactyl answers once done wait (bounded) for their workflow ---


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def settling(ops: Any, seconds: float, on_sleep: Any = None) -> tuple[service.AppServerPorts, Clock]:
    from dataclasses import replace as copy

    from tests.fakes import FakeWorkflows

    clock = Clock()
    create = copy(_server_ports(), operations=ops, workflows=FakeWorkflows())

    def sleep(step: float) -> None:
        clock.sleep(step)
        if on_sleep is not None:
            on_sleep(clock.now)

    made = service.AppServerPorts(
        create=create, settle_seconds=seconds, clock=clock, sleep=sleep, **dict.fromkeys(SETTLE_UNUSED)
    )  # type: ignore[arg-type]
    return made, clock


SETTLE_UNUSED = ("ids", "fleet", "tenants", "users", "blueprints", "nodes", "allocations", "free", "plans", "lifecycle")


def _server_ports() -> Any:
    from mamba.services.servers import ServerPorts

    return ServerPorts(
        **dict.fromkeys(
            ("servers", "placement", "blueprints", "operations", "workflows", "quotas", "validate_environment", "now")
        )
    )  # type: ignore[arg-type]


def _operation(ops: Any, status: str = "pending") -> Any:
    from dataclasses import replace as copy

    from mamba.domain.operations import new_operation

    op = copy(new_operation("op_1", "tn_a", "suspend_server", ["suspend"], "2026-01-01T00:00:00Z"), status=status)
    ops.add(op)
    return op


def test_settling_returns_once_the_workflow_succeeded():
    from dataclasses import replace as copy

    from tests.fakes import FakeOperationRepository

    ops = FakeOperationRepository()
    op = _operation(ops)

    def finish(now: float) -> None:
        if now >= 1.0:
            ops.ops[op.id] = copy(op, status="succeeded")

    ports_, clock = settling(ops, 10.0, finish)
    service.settle(ports_, op)

    assert 1.0 <= clock.now < 1.5  # it stopped polling when the workflow ended, long before 10 s


def test_settling_gives_up_at_the_deadline_and_answers_started():
    from tests.fakes import FakeOperationRepository

    ops = FakeOperationRepository()
    op = _operation(ops)
    ports_, clock = settling(ops, 2.0)

    service.settle(ports_, op)

    assert 2.0 <= clock.now < 2.5


def test_a_failed_workflow_is_the_nodes_503():
    from mamba.domain.errors import WingsUnavailableError
    from tests.fakes import FakeOperationRepository

    ops = FakeOperationRepository()
    op = _operation(ops, status="failed")
    ports_, _clock = settling(ops, 2.0)

    with pytest.raises(WingsUnavailableError) as caught:
        service.settle(ports_, op)

    assert caught.value.details["operation_id"] == op.id


def test_no_settling_time_answers_at_once():
    from tests.fakes import FakeOperationRepository

    ops = FakeOperationRepository()
    op = _operation(ops)
    ports_, clock = settling(ops, 0.0)

    service.settle(ports_, op)

    assert clock.now == 0.0


# --- delete: the external id goes at once, the integer id once the server is gone ---

SERVER = "0000000a-0000-4000-8000-000000000000"


def delete_world(finishes: bool) -> tuple[service.AppServerPorts, Any, Any]:
    from dataclasses import replace as copy

    from mamba.services import server_lifecycle as lifecycle
    from tests.fakes import (
        FakeAllocationRepository,
        FakeNodeRepository,
        FakeOperationRepository,
        FakePteroIds,
        FakeServerLifecycleStore,
        FakeWorkflows,
        server_entity,
    )

    store = FakeServerLifecycleStore()
    store.servers.add(server_entity(SERVER, "nd_a", tenant_id="tn_pt-usr_alice"))
    nodes = FakeNodeRepository()
    operations = FakeOperationRepository()
    deps = lifecycle.Lifecycle(
        servers=store.servers,
        store=store,
        locks=store.locks,
        nodes=nodes,
        allocations=FakeAllocationRepository(nodes),
        agent_for=lambda n: None,
        operations=operations,
        workflows=FakeWorkflows(),
    )
    ids = FakePteroIds()
    ref = ids.set_external(ids.number("server", SERVER, "tn_pt-usr_alice"), "whmcs-9")
    clock = Clock()

    def sleep(step: float) -> None:
        # the delete workflow ends after a second: the record goes, the operation succeeds
        clock.sleep(step)
        if finishes and clock.now >= 1.0 and SERVER in store.servers.servers:
            store.remove(SERVER)
            for op_id, op in list(operations.ops.items()):
                operations.ops[op_id] = copy(op, status="succeeded")

    create = copy(_server_ports(), servers=store.servers, operations=operations)
    made = service.AppServerPorts(
        ids=ids,
        lifecycle=deps,
        create=create,
        settle_seconds=5.0,
        clock=clock,
        sleep=sleep,
        **dict.fromkeys(("fleet", "tenants", "users", "blueprints", "nodes", "allocations", "free", "plans")),
    )  # type: ignore[arg-type]
    return made, ids, ref


def test_a_delete_done_in_time_forgets_every_id_of_the_server():
    made, ids, ref = delete_world(finishes=True)

    service.delete(made, str(ref.number))

    assert ids.by_number("server", ref.number) is None
    assert ids.by_external("server", "whmcs-9") is None
    assert ids.by_identifier(SERVER[:8]) is None


def test_a_delete_still_running_keeps_the_integer_id_and_frees_the_external_one():
    made, ids, ref = delete_world(finishes=False)

    service.delete(made, str(ref.number))

    assert ids.by_number("server", ref.number).ref == SERVER  # a retried delete still finds it
    assert ids.by_external("server", "whmcs-9") is None
