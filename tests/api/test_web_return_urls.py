"""The web app's pages that Stripe sends people back to (docs/web-api.md#pages-the-app-must-serve):
the exact paths and query parameters, pinned, so the API and the app's router cannot drift."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mamba import bootstrap
from tests.api.billing_world import BillingWorld, add_pro_plan, billing_world, link_customer


@pytest.fixture
def world(client) -> Iterator[BillingWorld]:
    with billing_world(client) as w:
        yield w


def test_checkout_and_portal_return_to_the_tenants_billing_page_of_the_web_app(world):
    base = bootstrap.settings().billing_return_url or bootstrap.settings().public_url
    add_pro_plan(world)

    # When alice checks out a plan, buys credit and opens the portal
    assert world.api.post("/v1/tenants/tn_a/billing/checkout", "usr_alice", {"plan_id": "pro"}).status_code == 201
    credit = {"amount_cents": 1000, "currency": "usd"}
    assert world.api.post("/v1/tenants/tn_a/billing/credits/checkout", "usr_alice", credit).status_code == 201
    link_customer("tn_a", world.stripe.checkout_sessions[0]["customer_id"])
    assert world.api.post("/v1/tenants/tn_a/billing/portal", "usr_alice", {}).status_code == 201

    # Then Stripe gets the app's billing page of that tenant, with what happened in the query
    plan, buy = world.stripe.checkout_sessions[0], world.stripe.checkout_sessions[1]
    page = f"{base}/tenants/tn_a/billing"
    assert plan["success_url"] == f"{page}?checkout=success&session_id={{CHECKOUT_SESSION_ID}}"
    assert plan["cancel_url"] == f"{page}?checkout=canceled"
    assert buy["success_url"] == f"{page}?credit=success&session_id={{CHECKOUT_SESSION_ID}}"
    assert buy["cancel_url"] == f"{page}?credit=canceled"
    assert world.stripe.portal_sessions[-1]["return_url"] == page
