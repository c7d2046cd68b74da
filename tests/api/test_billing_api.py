"""Plans (admin), Checkout, the portal, the billing summary, invoices and credits: the real
app, guard and moto; Stripe is the ``FakeStripe`` gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mamba import bootstrap
from mamba.schemas.billing import BillingOut, CreditList, InvoiceList, PlanList, PlanOut
from tests.api.billing_world import BillingWorld, add_pro_plan, billing_world, link_customer
from tests.billing_support import PRO_PRICE, RAM_PRICE


@pytest.fixture
def world(client) -> Iterator[BillingWorld]:
    with billing_world(client) as w:
        yield w


# --- plans ----------------------------------------------------------------------------------


def test_an_admin_creates_reads_lists_and_changes_a_plan(world):
    created = PlanOut.model_validate(add_pro_plan(world))
    assert (created.id, created.price_id, created.grace_days, created.quotas.servers) == ("pro", PRO_PRICE, 3, 5)
    assert created.metered[0].price_id == RAM_PRICE

    listed = PlanList.model_validate(world.api.get("/v1/admin/plans", "usr_root").json_body)
    assert [p.id for p in listed.items] == ["pro"]

    changed = world.api.patch(
        "/v1/admin/plans/pro",
        "usr_root",
        {"quotas": {"servers": 9, "memory_mb": 1, "disk_mb": 1, "backup_bytes": 0, "backups_per_server": 0}},
    )
    assert changed.status_code == 200, changed.json_body
    assert world.api.get("/v1/admin/plans/pro", "usr_root").json_body["quotas"]["servers"] == 9


def test_a_price_id_belongs_to_one_plan_only(world):
    add_pro_plan(world)

    again = world.api.post(
        "/v1/admin/plans",
        "usr_root",
        {
            "id": "pro2",
            "name": "Pro 2",
            "price_id": PRO_PRICE,
            "quotas": {"servers": 1, "memory_mb": 1, "disk_mb": 1, "backup_bytes": 0, "backups_per_server": 0},
        },
    )

    assert again.status_code == 409
    assert world.api.get("/v1/admin/plans/pro2", "usr_root").status_code == 404


def test_a_duplicate_plan_id_is_409_and_a_paid_plan_needs_a_price(world):
    add_pro_plan(world)
    world.stripe.add_price("price_other")
    quotas = {"servers": 1, "memory_mb": 1, "disk_mb": 1, "backup_bytes": 0, "backups_per_server": 0}

    duplicate = world.api.post(
        "/v1/admin/plans", "usr_root", {"id": "pro", "name": "X", "price_id": "price_other", "quotas": quotas}
    )
    no_price = world.api.post("/v1/admin/plans", "usr_root", {"id": "basic", "name": "Basic", "quotas": quotas})

    assert duplicate.status_code == 409
    assert no_price.status_code == 400 and no_price.json_body["error"]["code"] == "VALIDATION_ERROR"


def test_the_free_plan_is_readable_before_its_migration_ran(world):
    free = world.api.get("/v1/admin/plans/free", "usr_root")

    assert free.status_code == 200
    assert free.json_body["price_id"] is None


def test_plans_are_for_platform_admins_only(world):
    assert world.api.get("/v1/admin/plans", "usr_alice").status_code == 403


def test_an_archived_plan_leaves_the_pricing_page_and_checkout_until_it_is_offered_again(world):
    # Given the pro plan, offered
    add_pro_plan(world)
    assert "pro" in [p["id"] for p in world.api.get("/v1/plans", None).json_body["items"]]

    # When the admin console archives it (PATCH active=false)
    archived = world.api.patch("/v1/admin/plans/pro", "usr_root", {"active": False})

    # Then it is kept for the admin, but no longer offered or sold
    assert archived.status_code == 200 and archived.json_body["active"] is False
    assert world.api.get("/v1/admin/plans/pro", "usr_root").json_body["quotas"]["servers"] == 5
    assert "pro" not in [p["id"] for p in world.api.get("/v1/plans", None).json_body["items"]]
    refused = world.api.post("/v1/tenants/tn_a/billing/checkout", "usr_alice", {"plan_id": "pro"})
    assert refused.status_code == 400

    # And offering it again brings it back
    assert world.api.patch("/v1/admin/plans/pro", "usr_root", {"active": True}).json_body["active"] is True
    assert "pro" in [p["id"] for p in world.api.get("/v1/plans", None).json_body["items"]]


# --- customer on tenant creation ------------------------------------------------------------


def test_creating_a_tenant_creates_its_stripe_customer_once(world):
    created = world.api.post("/v1/tenants", "usr_carol", {"name": "Carol's Games"})

    assert created.status_code == 201
    tenant_id = created.json_body["id"]
    state = bootstrap.billing_repository().get_state(tenant_id)
    assert state.customer_id in world.stripe.customers
    assert world.stripe.customers[state.customer_id]["idempotency_key"] == f"customer:{tenant_id}"
    assert bootstrap.billing_repository().tenant_of_customer(state.customer_id) == tenant_id


def test_creating_a_tenant_succeeds_when_stripe_is_down(world):
    world.stripe.down = True

    created = world.api.post("/v1/tenants", "usr_carol", {"name": "Carol's Games"})

    assert created.status_code == 201
    assert bootstrap.billing_repository().get_state(created.json_body["id"]).customer_id is None


def test_creating_a_tenant_with_billing_disabled_touches_no_stripe(client):
    from tests.api.tenancy_helpers import make_world

    api = make_world(client)

    created = api.post("/v1/tenants", "usr_carol", {"name": "Carol's Games"})

    assert created.status_code == 201
    assert bootstrap.billing_repository().get_state(created.json_body["id"]).customer_id is None


# --- checkout and portal ----------------------------------------------------------------------


def test_checkout_returns_a_session_url_for_the_plans_allow_listed_prices(world):
    add_pro_plan(world)

    response = world.api.post("/v1/tenants/tn_a/billing/checkout", "usr_alice", {"plan_id": "pro"})

    assert response.status_code == 201, response.json_body
    assert response.json_body["url"].startswith("https://checkout.example/")
    session = world.stripe.checkout_sessions[-1]
    assert session["tenant_id"] == "tn_a" and session["price_id"] == PRO_PRICE
    assert session["metered_price_ids"] == (RAM_PRICE,)
    assert "{CHECKOUT_SESSION_ID}" in session["success_url"]
    # the customer was created on the way, and linked to the tenant
    assert bootstrap.billing_repository().get_state("tn_a").customer_id == session["customer_id"]


def test_checkout_of_an_unknown_plan_is_404_and_of_the_free_plan_400(world):
    assert world.api.post("/v1/tenants/tn_a/billing/checkout", "usr_alice", {"plan_id": "gold"}).status_code == 404
    assert world.api.post("/v1/tenants/tn_a/billing/checkout", "usr_alice", {"plan_id": "free"}).status_code == 400


def test_checkout_is_409_when_the_tenant_already_has_a_subscription(world):
    add_pro_plan(world)
    link_customer("tn_a", "cus_a")
    from dataclasses import replace

    repo = bootstrap.billing_repository()
    repo.save_state(replace(repo.get_state("tn_a"), subscription_id="sub_a", status="active"), dunning_due_at=None)

    response = world.api.post("/v1/tenants/tn_a/billing/checkout", "usr_alice", {"plan_id": "pro"})

    assert response.status_code == 409


def test_checkout_needs_billing_manage(world):
    add_pro_plan(world)
    from tests.api.tenancy_helpers import join

    join(world.api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "admin")

    # the built-in admin role has billing.read but not billing.manage
    assert world.api.post("/v1/tenants/tn_a/billing/checkout", "usr_carol", {"plan_id": "pro"}).status_code == 403
    assert world.api.get("/v1/tenants/tn_a/billing", "usr_carol").status_code == 200


def test_portal_returns_a_url_and_needs_a_customer(world):
    assert world.api.post("/v1/tenants/tn_a/billing/portal", "usr_alice", {}).status_code == 404
    link_customer("tn_a", "cus_a")

    response = world.api.post("/v1/tenants/tn_a/billing/portal", "usr_alice", {"flow": "payment_method_update"})

    assert response.status_code == 201
    assert world.stripe.portal_sessions[-1] == {
        "customer": "cus_a",
        "return_url": "http://127.0.0.1:8000/tenants/tn_a/billing",
        "flow": "payment_method_update",
        "subscription": None,
    }


def test_the_cancel_shortcut_names_the_subscription_and_is_409_without_one(world):
    from dataclasses import replace

    link_customer("tn_a", "cus_a")
    refused = world.api.post("/v1/tenants/tn_a/billing/portal", "usr_alice", {"flow": "subscription_cancel"})

    assert refused.status_code == 409
    assert refused.json_body["error"]["code"] == "CONFLICT"
    assert refused.json_body["error"]["details"] == {"flow": "subscription_cancel", "status": "none"}
    assert world.stripe.portal_sessions == []

    repo = bootstrap.billing_repository()
    repo.save_state(replace(repo.get_state("tn_a"), subscription_id="sub_a", status="active"), dunning_due_at=None)
    response = world.api.post("/v1/tenants/tn_a/billing/portal", "usr_alice", {"flow": "subscription_update"})

    assert response.status_code == 201
    assert world.stripe.portal_sessions[-1]["subscription"] == "sub_a"


# --- the summary, invoices, credits ------------------------------------------------------------


def test_the_summary_of_a_tenant_without_subscription_shows_the_free_plan(world):
    response = world.api.get("/v1/tenants/tn_a/billing", "usr_alice")

    assert response.status_code == 200, response.json_body
    summary = BillingOut.model_validate(response.json_body)
    assert (summary.plan.id, summary.status, summary.billing_state) == ("free", "none", "active")
    assert summary.usage.metrics == {"ram_gb_hours": 0.0, "backup_gb_hours": 0.0}


def test_the_summary_adds_up_the_usage_ledger_of_this_month(world):
    import time

    from mamba.domain import billing as b

    repo = bootstrap.billing_repository()
    hour = b.hour_start(int(time.time())) - b.HOUR
    for subject, value in (("srv1", "0.5"), ("srv2", "1.25")):
        repo.record_usage(
            b.UsageRow(
                tenant_id="tn_a",
                subject=subject,
                metric="ram_gb_hours",
                hour=hour,
                value=value,
                seconds=1800,
                identifier=b.meter_identifier(subject, "ram_gb_hours", hour),
            )
        )

    summary = BillingOut.model_validate(world.api.get("/v1/tenants/tn_a/billing", "usr_alice").json_body)

    if hour >= summary.usage.since:  # the previous hour may belong to last month on the 1st at 00:xx
        assert summary.usage.metrics["ram_gb_hours"] == 1.75


def test_invoices_are_listed_from_stripe_and_paginated(world):
    link_customer("tn_a", "cus_a")
    for n in range(3):
        world.stripe.invoices.append(
            {
                "id": f"in_{n}",
                "customer": "cus_a",
                "number": f"A-{n}",
                "status": "draft" if n == 2 else "paid",
                "amount_due": 1000,
                "amount_paid": 1000,
                "currency": "usd",
                "created": 1764547200 + n,
                "hosted_invoice_url": f"https://invoice.stripe.com/i/in_{n}",
                "invoice_pdf": f"https://pay.stripe.com/invoice/in_{n}/pdf",
            }
        )
    world.stripe.invoices.append({**world.stripe.invoices[0], "id": "in_other", "customer": "cus_b"})

    first = InvoiceList.model_validate(
        world.api.get("/v1/tenants/tn_a/billing/invoices?limit=2", "usr_alice").json_body
    )
    second = InvoiceList.model_validate(
        world.api.get(f"/v1/tenants/tn_a/billing/invoices?limit=2&cursor={first.next_cursor}", "usr_alice").json_body
    )

    assert [i.id for i in first.items] == ["in_0", "in_1"] and first.next_cursor == "in_1"
    assert [i.id for i in second.items] == ["in_2"] and second.next_cursor is None
    assert first.items[0].invoice_pdf and second.items[0].hosted_invoice_url is None  # a draft has no links yet


def test_an_admin_credit_is_mirrored_to_the_customer_balance_and_listed(world):
    link_customer("tn_a", "cus_a")

    granted = world.api.post("/v1/admin/tenants/tn_a/credits", "usr_root", {"amount_cents": 500, "reason": "Outage"})

    assert granted.status_code == 201, granted.json_body
    assert world.stripe.balance_transactions[-1]["amount"] == -500
    credits = CreditList.model_validate(world.api.get("/v1/tenants/tn_a/billing/credits", "usr_alice").json_body)
    assert credits.balance_cents == 500
    assert [(c.amount_cents, c.source, c.reason) for c in credits.items] == [(500, "admin", "Outage")]


def test_a_credit_is_not_written_when_stripe_refuses(world):
    link_customer("tn_a", "cus_a")
    world.stripe.down = True

    assert world.api.post("/v1/admin/tenants/tn_a/credits", "usr_root", {"amount_cents": 500}).status_code == 503
    assert bootstrap.billing_repository().credit_balances("tn_a") == {}


def test_billing_routes_answer_503_while_billing_is_off(client):
    from tests.api.tenancy_helpers import make_world

    api = make_world(client)

    response = api.get("/v1/tenants/tn_a/billing", "usr_alice")

    assert response.status_code == 503 and response.json_body["error"]["code"] == "BILLING_DISABLED"


def test_buying_credit_returns_a_payment_checkout_and_writes_nothing_yet(world):
    response = world.api.post("/v1/tenants/tn_a/billing/credits/checkout", "usr_alice", {"amount_cents": 2500})

    assert response.status_code == 201, response.json_body
    session = world.stripe.checkout_sessions[-1]
    assert (session["mode"], session["amount_cents"], session["tenant_id"]) == ("payment", 2500, "tn_a")
    assert bootstrap.billing_repository().credit_balances("tn_a") == {}


def test_credits_in_different_currencies_are_never_added(world):
    # Given a tenant whose first credit was in USD
    link_customer("tn_a", "cus_a")
    assert world.api.post("/v1/admin/tenants/tn_a/credits", "usr_root", {"amount_cents": 500}).status_code == 201
    stripe_calls = len(world.stripe.balance_transactions)
    # When an admin grants credit in EUR, and the tenant tries to buy EUR credit
    grant = world.api.post("/v1/admin/tenants/tn_a/credits", "usr_root", {"amount_cents": 300, "currency": "eur"})
    sessions = len(world.stripe.checkout_sessions)
    buy = world.api.post(
        "/v1/tenants/tn_a/billing/credits/checkout", "usr_alice", {"amount_cents": 2500, "currency": "eur"}
    )
    # Then both are 409 CURRENCY_MISMATCH, and neither reached Stripe
    for response in (grant, buy):
        assert response.status_code == 409, response.json_body
        assert response.json_body["error"]["code"] == "CURRENCY_MISMATCH"
        assert response.json_body["error"]["details"] == {"currency": "eur", "credit_currency": "usd"}
    assert len(world.stripe.balance_transactions) == stripe_calls
    assert len(world.stripe.checkout_sessions) == sessions
    # And a purchase Stripe already collected in EUR is kept in its own balance, never summed
    from mamba.services import billing

    billing.credit_purchased(
        bootstrap.billing_ports(), "tn_a", {"id": "cs_eur", "amount_total": 700, "currency": "EUR"}
    )
    credits = CreditList.model_validate(world.api.get("/v1/tenants/tn_a/billing/credits", "usr_alice").json_body)
    assert (credits.balance_cents, credits.currency, credits.balances) == (500, "usd", {"eur": 700, "usd": 500})
    summary = world.api.get("/v1/tenants/tn_a/billing", "usr_alice").json_body
    assert summary["credit_balance_cents"] == 500
    assert summary["credit_balances"] == {"eur": 700, "usd": 500}
    assert bootstrap.billing_repository().credit_balances("tn_a") == {"usd": 500, "eur": 700}
