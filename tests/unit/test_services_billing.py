"""Billing use cases (mamba.services.billing) over FakeBillingRepository and FakeStripe:
plans, the customer, Checkout and the portal, the summary, invoices and credits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.auth.context import TenantContext
from mamba.domain import billing as b
from mamba.domain.errors import (
    ConflictError,
    CurrencyMismatchError,
    DependencyUnavailableError,
    NotFoundError,
    ValidationError,
)
from mamba.domain.pages import PageRequest
from mamba.services import billing
from tests.fakes import FakeBillingRepository, FakeStripe

NOW = 1_800_000_000
TENANT = TenantContext(tenant_id="tn_a", role="owner", permissions=frozenset())
PRO = b.Plan(
    id="pro",
    name="Pro",
    quotas=b.Quotas(servers=5, memory_mb=8192, disk_mb=50_000, backup_bytes=10, backups_per_server=2),
    price_id="price_pro",
    metered=(b.MeteredPrice("ram_gb_hours", "price_ram", "gs_ram_gb_hours"),),
)


@pytest.fixture
def world() -> tuple[billing.BillingPorts, FakeBillingRepository, FakeStripe]:
    repo, stripe = FakeBillingRepository(), FakeStripe()
    repo.add_tenant("tn_a")
    ports = billing.BillingPorts(
        repo=repo,
        stripe=lambda: stripe,
        public_url="https://panel.example/",
        free_quotas=b.FREE_QUOTAS,
        clock=lambda: NOW,
    )
    return ports, repo, stripe


# --- plans ---


def test_create_plan_stamps_and_stores_it_and_update_plan_changes_it(world):
    _, repo, _ = world

    created = billing.create_plan(repo, PRO, now=lambda: "2026-11-25T10:00:00Z")
    updated = billing.update_plan(repo, "pro", {"name": "Pro+", "grace_days": None}, now=lambda: "2026-11-26T10:00:00Z")

    assert created.created_at == "2026-11-25T10:00:00Z"
    assert (updated.name, updated.grace_days, updated.updated_at) == ("Pro+", PRO.grace_days, "2026-11-26T10:00:00Z")
    assert billing.get_plan(repo, "pro", b.FREE_QUOTAS) == updated


def test_create_plan_is_refused_for_a_bad_price_id(world):
    _, repo, _ = world

    with pytest.raises(ValidationError):
        billing.create_plan(repo, replace(PRO, price_id="not-a-price"))
    assert repo.plans == {}


def test_the_free_plan_comes_from_settings_until_one_is_stored(world):
    _, repo, _ = world

    default = billing.get_plan(repo, b.FREE_PLAN_ID, b.FREE_QUOTAS)
    repo.add_plan(b.free_plan(quotas=b.Quotas(servers=9)))

    assert default.id == b.FREE_PLAN_ID and default.price_id is None
    assert billing.get_plan(repo, b.FREE_PLAN_ID, b.FREE_QUOTAS).quotas.servers == 9
    with pytest.raises(NotFoundError):
        billing.get_plan(repo, "gold", b.FREE_QUOTAS)


# --- the customer, Checkout and the portal ---


def test_ensure_customer_creates_and_links_the_customer_once(world):
    ports, repo, stripe = world

    first = billing.ensure_customer(ports, "tn_a", "Games", "owner@example.org")
    again = billing.ensure_customer(ports, "tn_a", "Games", "owner@example.org")

    assert first == again and len(stripe.customers) == 1
    assert repo.tenant_of_customer(first) == "tn_a"


def test_on_tenant_created_does_nothing_when_billing_is_off_and_never_raises(world):
    ports, repo, stripe = world

    billing.on_tenant_created(lambda: ports, False, "tn_a", "Games", lambda: None)
    stripe.down = True
    billing.on_tenant_created(lambda: ports, True, "tn_a", "Games", lambda: None)

    assert stripe.customers == {} and repo.get_state("tn_a").customer_id is None


def test_checkout_sends_the_plans_prices_and_tenant_urls(world):
    ports, repo, stripe = world
    repo.add_plan(PRO)

    answer = billing.checkout(ports, TENANT, "pro", "Games", None)

    [session] = stripe.checkout_sessions
    assert answer["session_id"] == session["id"]
    assert (session["price_id"], session["metered_price_ids"]) == ("price_pro", ("price_ram",))
    assert session["success_url"].startswith("https://panel.example/tenants/tn_a/billing?checkout=success")
    assert session["customer_id"] == repo.get_state("tn_a").customer_id


@pytest.mark.parametrize(
    ("plan_id", "error"),
    [("free", ValidationError), ("retired", ValidationError), ("gold", NotFoundError)],
)
def test_checkout_is_refused_for_the_free_a_retired_or_an_unknown_plan(world, plan_id, error):
    ports, repo, stripe = world
    repo.add_plan(replace(PRO, id="retired", price_id="price_old", metered=(), active=False))

    with pytest.raises(error):
        billing.checkout(ports, TENANT, plan_id, "Games", None)
    assert stripe.checkout_sessions == []


def test_checkout_conflicts_when_the_tenant_already_subscribes(world):
    ports, repo, stripe = world
    repo.add_plan(PRO)
    repo.save_state(replace(repo.get_state("tn_a"), subscription_id="sub_1", status="past_due"), dunning_due_at=None)

    with pytest.raises(ConflictError):
        billing.checkout(ports, TENANT, "pro", "Games", None)
    assert stripe.customers == {}


def test_checkout_is_dependency_unavailable_when_stripe_is_down(world):
    ports, repo, stripe = world
    repo.add_plan(PRO)
    stripe.down = True

    with pytest.raises(DependencyUnavailableError):
        billing.checkout(ports, TENANT, "pro", "Games", None)


def test_portal_needs_a_customer_and_a_known_flow(world):
    ports, repo, stripe = world

    with pytest.raises(NotFoundError):
        billing.portal(ports, TENANT, None)
    repo.link_customer("tn_a", "cus_a")
    with pytest.raises(ValidationError):
        billing.portal(ports, TENANT, "delete_everything")
    answer = billing.portal(ports, TENANT, "payment_method_update")

    assert answer["url"].endswith("cus_a")
    assert stripe.portal_sessions == [
        {
            "customer": "cus_a",
            "return_url": "https://panel.example/tenants/tn_a/billing",
            "flow": "payment_method_update",
            "subscription": None,
        }
    ]


@pytest.mark.parametrize("flow", ["subscription_cancel", "subscription_update"])
def test_the_subscription_shortcuts_name_the_tenants_subscription_or_conflict(world, flow):
    ports, repo, stripe = world
    repo.link_customer("tn_a", "cus_a")

    with pytest.raises(ConflictError) as caught:
        billing.portal(ports, TENANT, flow)
    assert caught.value.details == {"flow": flow, "status": "none"}
    assert stripe.portal_sessions == []

    repo.save_state(replace(repo.get_state("tn_a"), subscription_id="sub_a", status="past_due"), dunning_due_at=None)
    billing.portal(ports, TENANT, flow)
    assert stripe.portal_sessions[-1]["flow"] == flow and stripe.portal_sessions[-1]["subscription"] == "sub_a"

    repo.save_state(replace(repo.get_state("tn_a"), status="canceled"), dunning_due_at=None)
    with pytest.raises(ConflictError):
        billing.portal(ports, TENANT, flow)


# --- the billing page ---


def test_summary_shows_the_plan_quotas_grace_and_usage_so_far(world):
    ports, repo, _ = world
    repo.add_plan(PRO)
    state = replace(
        repo.get_state("tn_a"), plan_id="pro", status="past_due", past_due_since=NOW - 86400, quotas=PRO.quotas
    )
    repo.save_state(state, dunning_due_at=None)
    hour = b.hour_start(NOW)
    for n, value in enumerate(("1.5", "2.25")):
        repo.record_usage(b.UsageRow("tn_a", f"srv-{n}", "ram_gb_hours", hour, value, 3600, f"id{n}"))

    view = billing.summary(ports, TENANT)

    assert (view["plan"], view["status"]) == ({"id": "pro", "name": "Pro"}, "past_due")
    assert view["quotas"] == PRO.quotas.to_dict()
    assert view["grace_ends_at"] == NOW - 86400 + PRO.grace_days * 86400
    assert view["usage"]["metrics"] == {"ram_gb_hours": 3.75, "backup_gb_hours": 0.0}


def test_summary_of_a_never_synced_tenant_shows_the_free_plans_quotas(world):
    ports, _, _ = world

    view = billing.summary(ports, TENANT)

    assert view["plan"]["id"] == "free" and view["status"] == "none"
    assert view["quotas"] == billing.free_plan(ports.repo, b.FREE_QUOTAS).quotas.to_dict()
    assert (view["credit_balance_cents"], view["credit_currency"]) == (0, None)


def test_invoices_hide_a_drafts_links_and_page_by_invoice_id(world):
    ports, repo, stripe = world
    repo.link_customer("tn_a", "cus_a")
    stripe.invoices = [
        {"id": f"in_{n}", "customer": "cus_a", "status": s, "hosted_invoice_url": "u", "invoice_pdf": "p"}
        for n, s in enumerate(("paid", "draft", "open"))
    ]

    first = billing.invoices(ports, TENANT, 2, None)
    rest = billing.invoices(ports, TENANT, 2, first["next_cursor"])

    assert [i["id"] for i in first["items"]] == ["in_0", "in_1"] and first["next_cursor"] == "in_1"
    assert first["items"][1]["hosted_invoice_url"] is None and first["items"][0]["invoice_pdf"] == "p"
    assert ([i["id"] for i in rest["items"]], rest["next_cursor"]) == (["in_2"], None)
    with pytest.raises(ValidationError):
        billing.invoices(ports, TENANT, 2, "cus_a")


def test_invoices_are_empty_without_a_customer(world):
    ports, _, _ = world

    assert billing.invoices(ports, TENANT, 10, None) == {"items": [], "next_cursor": None}


# --- credits ---


def test_grant_credit_mirrors_to_stripe_then_writes_the_ledger(world):
    ports, repo, stripe = world
    repo.link_customer("tn_a", "cus_a")

    entry = billing.grant_credit(ports, "tn_a", 500, "USD", "goodwill", actor_id="usr_root", entry_id="cr_1")

    assert (entry.currency, entry.stripe_transaction_id) == ("usd", stripe.balance_transactions[0]["id"])
    assert stripe.balance_transactions[0]["idempotency_key"] == "credit:cr_1"
    assert repo.credit_balances("tn_a") == {"usd": 500}
    listed = billing.credits(ports, TENANT, PageRequest(limit=10))
    assert (listed["balance_cents"], listed["currency"], listed["items"]) == (500, "usd", [entry])


def test_grant_credit_is_refused_for_a_bad_amount_source_or_another_currency(world):
    ports, repo, _ = world
    billing.grant_credit(ports, "tn_a", 500, "usd", "first")

    with pytest.raises(ValidationError):
        billing.grant_credit(ports, "tn_a", 0, "usd", "nothing")
    with pytest.raises(ValidationError):
        billing.grant_credit(ports, "tn_a", 5, "usd", "x", source="gift")
    with pytest.raises(CurrencyMismatchError):
        billing.grant_credit(ports, "tn_a", 5, "eur", "x")
    assert repo.credit_balances("tn_a") == {"usd": 500}


def test_grant_credit_writes_nothing_when_stripe_is_down(world):
    ports, repo, stripe = world
    repo.link_customer("tn_a", "cus_a")
    stripe.down = True

    with pytest.raises(DependencyUnavailableError):
        billing.grant_credit(ports, "tn_a", 500, "usd", "goodwill")
    assert repo.credit_balances("tn_a") == {}


def test_buy_credit_opens_a_payment_and_the_paid_session_credits_once(world):
    ports, repo, stripe = world

    answer = billing.buy_credit(ports, TENANT, 2500, "usd", "Games", None)
    stripe.pay_session(answer["session_id"])
    session = stripe.retrieve_checkout_session(answer["session_id"])
    first = billing.credit_purchased(ports, "tn_a", session)
    again = billing.credit_purchased(ports, "tn_a", session)

    assert (first, again) == ("credit recorded", "credit already recorded")
    assert repo.credit_balances("tn_a") == {"usd": 2500}
    assert stripe.checkout_sessions[0]["mode"] == "payment"


def test_buy_credit_is_refused_in_another_currency_before_any_payment(world):
    ports, _repo, stripe = world
    billing.grant_credit(ports, "tn_a", 100, "usd", "first")

    with pytest.raises(CurrencyMismatchError):
        billing.buy_credit(ports, TENANT, 2500, "eur", "Games", None)
    assert stripe.checkout_sessions == []


def test_period_start_hour_is_the_first_of_the_utc_month():
    assert billing.period_start_hour(1_800_000_000) == 1_798_761_600  # 2027-01-01T00:00:00Z
