"""mamba.domain.billing: plan rules, the subscription → tenant state table, grace, metering
arithmetic; and the gateway's reading of subscription objects (both shapes)."""

from __future__ import annotations

import pytest

from mamba.domain import billing as b
from mamba.domain.errors import ValidationError
from mamba.domain.quotas import Quotas

NOW = 1_764_590_400  # 2025-12-01T12:00:00Z
PRO = b.Plan(
    id="pro",
    name="Pro",
    quotas=Quotas(servers=5, memory_mb=8192),
    grace_days=3,
    price_id="price_pro",
    metered=(b.MeteredPrice("ram_gb_hours", "price_ram", "gs_ram_gb_hours"),),
)
FREE = b.free_plan()


def sub(status: str, prices: tuple[str, ...] = ("price_pro", "price_ram")) -> b.SubscriptionFacts:
    return b.SubscriptionFacts(
        id="sub_1", customer="cus_1", status=status, price_ids=prices, current_period_end=NOW + 99
    )


def test_a_valid_plan_passes_and_its_price_ids_are_listed():
    assert b.check_plan(PRO) is PRO
    assert PRO.price_ids() == ("price_pro", "price_ram")
    assert PRO.event_name("ram_gb_hours") == "gs_ram_gb_hours" and PRO.event_name("backup_gb_hours") is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "Pro"}, "id"),
        ({"price_id": None}, "price_id"),
        ({"price_id": "prod_1"}, "price_id"),
        ({"metered": (b.MeteredPrice("ram_gb_hours", "price_pro", "x"),)}, "metered"),
        ({"metered": (b.MeteredPrice("cpu", "price_cpu", "x"),)}, "metered"),
        ({"grace_days": 61}, "grace_days"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field(changes, field):
    from dataclasses import replace

    with pytest.raises(ValidationError) as raised:
        b.check_plan(replace(PRO, **changes))
    assert raised.value.details["fields"][0]["field"].startswith(field)


def test_the_free_plan_has_no_prices():
    from dataclasses import replace

    assert b.check_plan(FREE).price_ids() == ()
    with pytest.raises(ValidationError):
        b.check_plan(replace(FREE, price_id="price_x"))


def test_plan_for_uses_the_flat_fee_price_only():
    by_price = {"price_pro": PRO, "price_ram": PRO}
    assert b.plan_for(("price_ram", "price_pro"), by_price) is PRO
    assert b.plan_for(("price_ram",), by_price) is None  # a metered price alone is not the plan
    assert b.plan_for(("price_x",), by_price) is None


@pytest.mark.parametrize(
    ("status", "plan_id", "desired"),
    [
        ("active", "pro", "active"),
        ("trialing", "pro", "active"),
        ("past_due", "pro", "active"),  # in grace
        ("unpaid", "free", "suspended"),
        ("paused", "free", "suspended"),
        ("canceled", "free", "suspended"),
        ("incomplete", "free", "active"),
        ("incomplete_expired", "free", "active"),
    ],
)
def test_the_status_table(status, plan_id, desired):
    state = b.synced_state(b.BillingState("tn_1"), sub(status), PRO, FREE, NOW, 30)

    assert state.plan_id == plan_id
    assert state.quotas == (PRO.quotas if plan_id == "pro" else FREE.quotas)
    assert b.desired_billing_state(state, PRO.grace_days, NOW) == desired


def test_past_due_keeps_the_first_past_due_since_and_suspends_after_grace():
    first = b.synced_state(b.BillingState("tn_1"), sub("past_due"), PRO, FREE, NOW, 30)
    later = b.synced_state(first, sub("past_due"), PRO, FREE, NOW + 500, 30)

    assert later.past_due_since == NOW
    assert b.grace_ends_at(later, 3) == NOW + 3 * 86400
    assert b.desired_billing_state(later, 3, NOW + 3 * 86400 - 1) == "active"
    assert b.desired_billing_state(later, 3, NOW + 3 * 86400) == "suspended"


def test_active_clears_past_due_and_canceled_schedules_deletion_once():
    past_due = b.synced_state(b.BillingState("tn_1"), sub("past_due"), PRO, FREE, NOW, 30)
    assert b.synced_state(past_due, sub("active"), PRO, FREE, NOW + 1, 30).past_due_since is None

    canceled = b.synced_state(b.BillingState("tn_1"), sub("canceled"), PRO, FREE, NOW, 30)
    again = b.synced_state(canceled, sub("canceled"), PRO, FREE, NOW + 999, 30)
    assert canceled.deletion_due_at == again.deletion_due_at == NOW + 30 * 86400


def test_a_suspended_tenant_stays_suspended_while_incomplete():
    suspended = b.BillingState("tn_1", status="incomplete", billing_state="suspended")
    assert b.desired_billing_state(suspended, 3, NOW) == "suspended"


# --- metering ------------------------------------------------------------------------------


def test_seconds_in_hour_clips_intervals_to_the_hour():
    hour = b.hour_start(NOW)
    intervals = [(hour - 600, hour + 600), (hour + 1800, hour + 2400), (hour + 3000, None)]

    assert b.seconds_in_hour(intervals, hour) == 600 + 600 + 600
    assert b.seconds_in_hour([(hour - 10, None)], hour) == 3600
    assert b.seconds_in_hour([(hour + 3600, None)], hour) == 0


def test_gb_hours_and_the_value_string():
    assert b.gb_hours(2048, 1800) == 1.0
    assert b.format_value(1.0) == "1" and b.format_value(0.0) == "0" and b.format_value(0.125) == "0.125"


def test_meter_identifiers_are_deterministic_and_short():
    hour = b.hour_start(NOW)
    first = b.meter_identifier("5f0c7b9e-1c7a-4b1e-9a3e-0c1d2e3f4a5b", "ram_gb_hours", hour)

    assert first == b.meter_identifier("5f0c7b9e-1c7a-4b1e-9a3e-0c1d2e3f4a5b", "ram_gb_hours", hour)
    assert first == "5f0c7b9e-1c7a-4b1e-9a3e-0c1d2e3f4a5b:ram_gb_hours:2025-12-01T12"
    assert len(first) <= 100


# --- reading Stripe's subscription objects ---------------------------------------------------


def test_subscription_facts_read_the_current_shape_with_flat_and_metered_items():
    import stripe

    from mamba.adapters.stripe_client import subscription_facts
    from tests.stripe_objects import subscription_object

    shape = subscription_object(
        "sub_1", "cus_1", "active", "price_pro", "tn_1", metered=("price_ram",), cancel_at_period_end=True
    )
    shape["items"]["data"][1]["current_period_end"] = 1767225700  # the metered item's period ends later
    current = stripe.StripeObject.construct_from(shape, "sk_test")
    expanded = {**shape, "customer": {"id": "cus_2"}, "default_payment_method": "pm_1"}

    a, c = subscription_facts(current), subscription_facts(expanded)

    assert (a.price_ids, a.current_period_end, a.cancel_at_period_end, a.tenant_hint, a.has_payment_method) == (
        ("price_pro", "price_ram"),
        1767225700,
        True,
        "tn_1",
        False,
    )
    assert (c.customer, c.has_payment_method) == ("cus_2", True)


def test_subscription_facts_do_not_read_the_removed_pre_basil_fields():
    from mamba.adapters.stripe_client import subscription_facts

    legacy = {  # the 2017 shape: item plan, period at the top level (gone since 2025-03-31.basil)
        "id": "sub_2",
        "customer": "cus_2",
        "status": "active",
        "current_period_end": 1767225601,
        "items": {"data": [{"plan": {"id": "price_pro"}}]},
    }

    facts = subscription_facts(legacy)

    assert (facts.price_ids, facts.current_period_end) == ((), None)


# --- credits per currency (issue 10) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "pinned", "expected"),
    [("usd", None, "usd"), ("EUR", None, "eur"), (" usd ", "usd", "usd"), ("eur", "usd", "mismatch"),
     ("us", None, "invalid"), ("u$d", None, "invalid"), ("usdd", "usd", "invalid")],
)  # fmt: skip
def test_a_credit_keeps_to_the_tenants_currency(currency, pinned, expected):
    from mamba.domain import billing as b
    from mamba.domain.errors import CurrencyMismatchError, ValidationError

    if expected == "mismatch":
        with pytest.raises(CurrencyMismatchError) as caught:
            b.credit_currency(currency, pinned)
        assert (caught.value.status, caught.value.code) == (409, "CURRENCY_MISMATCH")
        assert caught.value.details == {"currency": currency.strip().lower(), "credit_currency": pinned}
    elif expected == "invalid":
        with pytest.raises(ValidationError):
            b.credit_currency(currency, pinned)
    else:
        assert b.credit_currency(currency, pinned) == expected


def test_credits_in_different_currencies_are_never_added_in_the_domain():
    from mamba.domain import billing as b

    balances = b.add_to_balances(b.add_to_balances({}, "usd", 500), "eur", 300)

    assert balances == {"usd": 500, "eur": 300}
    assert b.add_to_balances(balances, "usd", 1) == {"usd": 501, "eur": 300}
    assert (b.balance_in(balances, "usd"), b.balance_in(balances, None), b.balance_in(balances, "gbp")) == (500, 0, 0)


# --- a plan's prices as Stripe holds them (issue 19, item 6) ---

_PLAN = b.Plan(
    id="pro",
    name="Pro",
    quotas=Quotas(servers=1, memory_mb=1, disk_mb=1, backup_bytes=0, backups_per_server=0),
    price_id="price_flat",
    metered=(b.MeteredPrice("ram_gb_hours", "price_ram", "gs_ram_gb_hours"),),
    currency="eur",
    interval="month",
)
_GOOD = {
    "price_flat": b.PriceFacts("price_flat", True, "eur", "month", "licensed"),
    "price_ram": b.PriceFacts("price_ram", True, "eur", "month", "metered"),
}


def test_a_plan_whose_prices_stripe_holds_as_it_says_passes():
    b.check_plan_prices(_PLAN, dict(_GOOD))


@pytest.mark.parametrize(
    ("price_id", "facts", "field", "reason"),
    [
        ("price_flat", None, "price_id", "missing"),
        ("price_flat", b.PriceFacts("price_flat", False, "eur", "month", "licensed"), "price_id", "inactive"),
        ("price_flat", b.PriceFacts("price_flat", True, "eur", None, None), "price_id", "not_recurring"),
        ("price_flat", b.PriceFacts("price_flat", True, "usd", "month", "licensed"), "price_id", "currency"),
        ("price_flat", b.PriceFacts("price_flat", True, "EUR", "year", "licensed"), "price_id", "interval"),
        ("price_flat", b.PriceFacts("price_flat", True, "eur", "month", "metered"), "price_id", "metered"),
        ("price_ram", None, "metered.ram_gb_hours", "missing"),
        (
            "price_ram",
            b.PriceFacts("price_ram", True, "eur", "month", "licensed"),
            "metered.ram_gb_hours",
            "not_metered",
        ),
        ("price_ram", b.PriceFacts("price_ram", True, "gbp", "month", "metered"), "metered.ram_gb_hours", "currency"),
    ],
)
def test_a_price_checkout_could_not_sell_as_the_plan_says_is_refused_naming_field_and_reason(
    price_id, facts, field, reason
):
    from mamba.domain.errors import PlanPriceInvalidError

    with pytest.raises(PlanPriceInvalidError) as refused:
        b.check_plan_prices(_PLAN, {**_GOOD, price_id: facts})

    assert refused.value.status == 422
    assert refused.value.details["reason"] == reason
    assert refused.value.details["price_id"] == price_id
    assert refused.value.details["fields"][0]["field"] == field
