"""The billing records over FakeBillingRepository and DynamoBillingRepository on moto: plans and
their one-plan-per-price rule, a tenant's billing state and dunning schedule, customer links,
webhook event and notice claims, the usage ledger, run intervals and credits.

Every id is unique per test (a worker's moto is shared), and listings are read for this
test's tenant, plans or window only.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

import pytest

from mamba.domain import billing as b
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.pages import PageRequest
from tests.fakes import FakeBillingRepository

T0, T1 = "2026-11-25T10:00:00Z", "2026-11-25T10:00:01Z"
HOUR = 1_800_000_000 - 1_800_000_000 % 3600


def uid() -> str:
    return secrets.token_hex(4)


def plan(created_at: str = T0, metered: bool = True) -> b.Plan:
    plan_id = f"pro_{uid()}"
    return b.Plan(
        id=plan_id,
        name="Pro",
        quotas=b.Quotas(servers=3, memory_mb=4096, disk_mb=20480, backup_bytes=10, backups_per_server=2),
        price_id=f"price_flat_{uid()}",
        metered=(b.MeteredPrice("ram_gb_hours", f"price_ram_{uid()}", "gs_ram"),) if metered else (),
        amount_cents=1500,
        created_at=created_at,
        updated_at=created_at,
    )


def usage_row(tenant_id: str, hour: int = HOUR, *, billable: bool = True, value: str = "1.5") -> b.UsageRow:
    subject = f"srv-{uid()}"
    return b.UsageRow(
        tenant_id=tenant_id,
        subject=subject,
        metric="ram_gb_hours",
        hour=hour,
        value=value,
        seconds=3600,
        identifier=b.meter_identifier(subject, "ram_gb_hours", hour),
        event_name="gs_ram" if billable else None,
        customer_id="cus_1" if billable else None,
    )


class BillingRepositoryContract:
    @pytest.fixture
    def world(self) -> tuple[Any, Any]:
        """(repository, add_tenant(tenant_id))"""
        raise NotImplementedError

    def _tenant(self, world: Any) -> str:
        _, add_tenant = world
        tenant_id = f"tn_{uid()}"
        add_tenant(tenant_id)
        return tenant_id

    # --- plans ---

    def test_a_plan_round_trips_and_is_found_by_each_of_its_prices(self, world):
        repo, _ = world
        made = plan()

        repo.add_plan(made)

        assert repo.get_plan(made.id) == made
        found = repo.plans_by_price((made.price_id, made.metered[0].price_id, "price_unknown"))
        assert found == {made.price_id: made, made.metered[0].price_id: made}

    def test_add_plan_conflicts_on_its_id_or_on_a_price_of_another_plan(self, world):
        repo, _ = world
        first = plan()
        repo.add_plan(first)

        with pytest.raises(ConflictError):
            repo.add_plan(replace(plan(), id=first.id))
        with pytest.raises(ConflictError):
            repo.add_plan(replace(plan(), price_id=first.price_id))

    def test_save_plan_moves_its_prices_and_refuses_a_stale_read(self, world):
        repo, _ = world
        made = plan()
        repo.add_plan(made)
        moved = replace(made, price_id=f"price_flat_{uid()}", updated_at=T1)

        repo.save_plan(made, moved)

        assert repo.plans_by_price((made.price_id,)) == {}
        assert repo.plans_by_price((moved.price_id,)) == {moved.price_id: moved}
        with pytest.raises(ConflictError):
            repo.save_plan(made, replace(moved, name="stale"))

    def test_get_plan_is_not_found_when_unknown(self, world):
        repo, _ = world
        with pytest.raises(NotFoundError):
            repo.get_plan(f"nope_{uid()}")

    def test_list_plans_pages_in_creation_order(self, world):
        repo, _ = world
        made = [plan(created_at=f"2999-01-01T00:00:0{n}Z", metered=False) for n in range(3)]
        for each in made:
            repo.add_plan(each)
        seen, cursor = [], None
        while True:
            page = repo.list_plans(PageRequest(limit=2, cursor=cursor))
            seen += [p.id for p in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break

        assert [i for i in seen if i in {p.id for p in made}] == [p.id for p in made]

    # --- state, dunning, customers ---

    def test_a_new_tenant_is_on_the_free_plan_and_an_unknown_one_is_not_found(self, world):
        repo, _ = world
        tenant_id = self._tenant(world)

        state = repo.get_state(tenant_id)

        assert (state.plan_id, state.status, state.billing_state, state.customer_id) == ("free", "none", "active", None)
        with pytest.raises(NotFoundError):
            repo.get_state(f"tn_{uid()}")
        with pytest.raises(NotFoundError):
            repo.set_billing_state(f"tn_{uid()}", "suspended")

    def test_save_state_writes_every_field_and_schedules_the_dunning_look(self, world):
        repo, _ = world
        tenant_id = self._tenant(world)
        state = b.BillingState(
            tenant_id=tenant_id,
            customer_id="cus_x",
            subscription_id="sub_x",
            plan_id="pro",
            status="past_due",
            current_period_end=HOUR + 86400,
            past_due_since=HOUR,
            quotas=b.Quotas(servers=3),
        )

        repo.save_state(state, dunning_due_at=HOUR + 60)

        assert repo.get_state(tenant_id) == state
        assert tenant_id in repo.dunning_due(HOUR + 60)
        assert tenant_id not in repo.dunning_due(HOUR + 59)
        repo.save_state(replace(state, status="active", past_due_since=None), dunning_due_at=None)
        assert tenant_id not in repo.dunning_due(HOUR + 3600)

    def test_set_billing_state_changes_only_that(self, world):
        repo, _ = world
        tenant_id = self._tenant(world)

        repo.set_billing_state(tenant_id, "suspended")

        assert repo.get_state(tenant_id) == replace(b.BillingState(tenant_id=tenant_id), billing_state="suspended")

    def test_a_customer_is_linked_to_one_tenant_once(self, world):
        repo, _ = world
        tenant_id, other = self._tenant(world), self._tenant(world)
        customer = f"cus_{uid()}"

        repo.link_customer(tenant_id, customer)
        repo.link_customer(tenant_id, customer)

        assert repo.tenant_of_customer(customer) == tenant_id
        assert repo.get_state(tenant_id).customer_id == customer
        with pytest.raises(ConflictError):
            repo.link_customer(other, customer)
        with pytest.raises(ConflictError):
            repo.link_customer(tenant_id, f"cus_{uid()}")
        assert repo.tenant_of_customer(f"cus_{uid()}") is None

    # --- claims ---

    def test_an_event_is_claimed_once_and_released_only_until_processed(self, world):
        repo, _ = world
        event, done = f"evt_{uid()}", f"evt_{uid()}"

        assert (repo.claim_event(event, "invoice.paid", T0), repo.claim_event(event, "invoice.paid", T0)) == (
            True,
            False,
        )
        repo.release_event(event)
        assert repo.event_status(event) is None and repo.claim_event(event, "invoice.paid", T0)
        repo.claim_event(done, "invoice.paid", T0)
        repo.event_processed(done)
        repo.release_event(done)
        assert (repo.event_status(event), repo.event_status(done)) == ("queued", "processed")

    def test_a_notice_is_claimed_once_until_released(self, world):
        repo, _ = world
        tenant_id = f"tn_{uid()}"

        first = repo.claim_notice(tenant_id, "past_due:1", T0)
        again = repo.claim_notice(tenant_id, "past_due:1", T0)
        repo.release_notice(tenant_id, "past_due:1")

        assert (first, again) == (True, False)
        assert repo.claim_notice(tenant_id, "past_due:1", T0) is True

    # --- usage and runs ---

    def test_record_usage_keeps_the_first_value_of_an_hour(self, world):
        repo, _ = world
        tenant_id = f"tn_{uid()}"
        row = usage_row(tenant_id)

        first = repo.record_usage(row)
        again = repo.record_usage(replace(row, value="9.9"))

        assert first == row and again == row
        assert repo.usage_between(tenant_id, HOUR, HOUR + 3600) == [row]
        assert repo.usage_between(tenant_id, HOUR + 3600, HOUR + 7200) == []

    def test_unsent_usage_lists_billable_rows_until_sent_and_counts_failures(self, world):
        repo, _ = world
        tenant_id = f"tn_{uid()}"
        hour = HOUR + 3600 * 100_000  # far ahead: no other test's rows are this late
        billable, free = usage_row(tenant_id, hour), usage_row(tenant_id, hour, billable=False)
        repo.record_usage(billable)
        repo.record_usage(free)

        waiting = [r for r in repo.unsent_usage(hour) if r.tenant_id == tenant_id]
        repo.usage_failed(billable, "Stripe said no")
        failed = [r for r in repo.unsent_usage(hour) if r.tenant_id == tenant_id]
        repo.usage_sent(billable, T1)

        assert waiting == [billable]
        assert [r.attempts for r in failed] == [1]
        assert [r for r in repo.unsent_usage(hour) if r.tenant_id == tenant_id] == []
        assert {r.sent_at for r in repo.usage_between(tenant_id, hour, hour + 3600)} == {T1, None}

    def test_observe_run_opens_and_closes_one_interval_idempotently(self, world):
        repo, _ = world
        server = f"srv-{uid()}"

        repo.observe_run(server, "tn_x", 512, True, HOUR)
        repo.observe_run(server, "tn_x", 512, True, HOUR + 60)
        open_runs = repo.runs(server, HOUR, HOUR + 3600)
        repo.observe_run(server, "tn_x", 512, False, HOUR + 600)
        repo.observe_run(server, "tn_x", 512, False, HOUR + 700)

        assert open_runs == [(HOUR, None)]
        assert repo.runs(server, HOUR, HOUR + 3600) == [(HOUR, HOUR + 600)]
        assert repo.runs(server, HOUR + 600, HOUR + 3600) == []

    # --- credits ---

    def test_credits_change_the_balance_once_and_pin_the_currency(self, world):
        repo, _ = world
        tenant_id = self._tenant(world)
        first = b.CreditEntry(f"cr_{uid()}", tenant_id, 500, "usd", "admin", "goodwill", T0, actor_id="usr_1")
        second = b.CreditEntry(f"cr_{uid()}", tenant_id, -200, "usd", "admin", "correction", T1)

        repo.add_credit(first)
        repo.add_credit(second)

        assert repo.credit_balances(tenant_id) == {"usd": 300}
        assert repo.get_state(tenant_id).credit_currency == "usd"
        assert repo.list_credits(tenant_id, PageRequest(limit=10)).items == [second, first]
        with pytest.raises(ConflictError):
            repo.add_credit(first)
        assert repo.credit_balances(tenant_id) == {"usd": 300}

    def test_a_credit_for_an_unknown_tenant_is_not_found(self, world):
        repo, _ = world
        tenant_id = f"tn_{uid()}"

        with pytest.raises(NotFoundError):
            repo.add_credit(b.CreditEntry(f"cr_{uid()}", tenant_id, 500, "usd", "admin", "x", T0))
        assert repo.credit_balances(tenant_id) == {}


class TestBillingRepositoryOnFake(BillingRepositoryContract):
    @pytest.fixture
    def world(self) -> tuple[Any, Any]:
        repo = FakeBillingRepository()
        return repo, repo.add_tenant


class TestBillingRepositoryOnDynamo(BillingRepositoryContract):
    @pytest.fixture
    def world(self, request: pytest.FixtureRequest) -> tuple[Any, Any]:
        request.getfixturevalue("aws")
        from mamba import bootstrap
        from mamba.adapters.dynamo.tenants import DynamoTenantRepository
        from mamba.adapters.dynamo.users import DynamoUserRepository
        from mamba.domain.accounts import User
        from mamba.domain.tenancy import Membership, Tenant

        bootstrap.dynamo_tables()

        def add_tenant(tenant_id: str) -> None:
            owner = f"usr_{uid()}"
            DynamoUserRepository().add(User(id=owner, email=f"{owner}@example.org", created_at=T0))
            DynamoTenantRepository().add_with_owner(
                Tenant(id=tenant_id, name=tenant_id, created_at=T0),
                Membership(tenant_id=tenant_id, user_id=owner, role="owner", created_at=T0),
            )

        return bootstrap.billing_repository(), add_tenant
