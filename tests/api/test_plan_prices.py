"""A plan's Stripe prices are checked when the plan is written (issue 19, item 6): the real app,
guard and moto, with the real Stripe gateway talking to the local Stripe stand-in
(local/stripe_standin.py, in this process, on loopback). A plan Checkout could not sell is
refused with 422 PLAN_PRICE_INVALID naming the field and the reason, and nothing is written.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mamba import bootstrap
from tests.api.billing_world import billing_world
from tests.api.tenancy_helpers import Api, make_world
from tests.billing_support import STRIPE_KEY, running_standin

QUOTAS = {"servers": 2, "memory_mb": 4096, "disk_mb": 20480, "backup_bytes": 0, "backups_per_server": 0}


@dataclass
class Prices:
    api: Api
    gateway: Any
    meter_id: str

    def make(self, currency: str = "eur", interval: str | None = "month", *, metered: bool = False) -> str:
        params: dict[str, Any] = {"currency": currency, "unit_amount": 1500, "product_data": {"name": "Plan"}}
        if interval is not None:
            params["recurring"] = {"interval": interval}
            if metered:
                params["recurring"].update(usage_type="metered", meter=self.meter_id)
        return str(self.gateway.client.v1.prices.create(params=params).id)

    def archive(self, price_id: str) -> None:
        self.gateway.client.v1.prices.update(price_id, params={"active": False})


@pytest.fixture
def prices(client) -> Iterator[Prices]:
    from mamba.adapters.stripe_client import StripeGateway

    with running_standin() as base, billing_world(client) as world:
        gateway = StripeGateway(STRIPE_KEY, base, max_network_retries=0)
        meter = gateway.client.v1.billing.meters.create(
            params={
                "display_name": "RAM",
                "event_name": f"plans_{secrets.token_hex(4)}",
                "default_aggregation": {"formula": "sum"},
            }
        )
        with bootstrap.override(stripe_gateway=gateway):
            yield Prices(world.api, gateway, str(meter.id))


def plan(price_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": f"p{secrets.token_hex(3)}",
        "name": "Pro",
        "price_id": price_id,
        "quotas": QUOTAS,
        "currency": "eur",
        "interval": "month",
        "amount_cents": 1500,
        **changes,
    }


def test_a_plan_is_created_when_stripe_holds_its_prices_as_the_plan_says(prices: Prices) -> None:
    # Given a recurring monthly EUR price and a metered EUR price at Stripe
    flat, ram = prices.make(), prices.make(metered=True)
    # When the admin creates a plan on them
    body = plan(flat, metered=[{"metric": "ram_gb_hours", "price_id": ram, "event_name": "gs_ram_gb_hours"}])
    created = prices.api.post("/v1/admin/plans", "usr_root", body)
    # Then it is stored
    assert created.status_code == 201, created.json_body
    assert prices.api.get(f"/v1/admin/plans/{body['id']}", "usr_root").status_code == 200


@pytest.mark.parametrize(
    ("price", "reason"),
    [
        ({"missing": True}, "missing"),
        ({"interval": None}, "not_recurring"),
        ({"currency": "usd"}, "currency"),
        ({"interval": "year"}, "interval"),
        ({"metered": True}, "metered"),
        ({"archived": True}, "inactive"),
    ],
)
def test_a_plan_checkout_could_not_sell_is_422_naming_the_reason_and_is_not_stored(
    prices: Prices, price: dict[str, Any], reason: str
) -> None:
    # Given a flat-fee price that does not fit a monthly EUR plan
    if price.get("missing"):
        price_id = f"price_{secrets.token_hex(8)}"
    else:
        price_id = prices.make(
            price.get("currency", "eur"), price.get("interval", "month"), metered=price.get("metered", False)
        )
        if price.get("archived"):
            prices.archive(price_id)
    body = plan(price_id)
    # When the admin creates the plan
    refused = prices.api.post("/v1/admin/plans", "usr_root", body)
    # Then it is refused with the reason, on the price_id field, and nothing is written
    assert refused.status_code == 422, refused.json_body
    error = refused.json_body["error"]
    assert error["code"] == "PLAN_PRICE_INVALID"
    assert error["details"]["reason"] == reason
    assert error["details"]["fields"][0]["field"] == "price_id"
    assert price_id in error["message"]
    assert prices.api.get(f"/v1/admin/plans/{body['id']}", "usr_root").status_code == 404


def test_a_metered_entry_that_is_a_flat_price_is_422_on_its_field(prices: Prices) -> None:
    flat, other_flat = prices.make(), prices.make()
    body = plan(flat, metered=[{"metric": "ram_gb_hours", "price_id": other_flat, "event_name": "gs_ram_gb_hours"}])
    refused = prices.api.post("/v1/admin/plans", "usr_root", body)
    assert refused.status_code == 422
    assert refused.json_body["error"]["details"]["fields"][0]["field"] == "metered.ram_gb_hours"
    assert refused.json_body["error"]["details"]["reason"] == "not_metered"


def test_changing_a_plans_currency_away_from_its_prices_is_422_and_leaves_it_as_it_was(prices: Prices) -> None:
    # Given a monthly EUR plan on a monthly EUR price
    body = plan(prices.make())
    assert prices.api.post("/v1/admin/plans", "usr_root", body).status_code == 201
    # When the admin changes its currency (its price stays EUR) or points it at a missing price
    currency = prices.api.patch(f"/v1/admin/plans/{body['id']}", "usr_root", {"currency": "usd"})
    missing = prices.api.patch(f"/v1/admin/plans/{body['id']}", "usr_root", {"price_id": "price_gone"})
    # Then both are refused and the plan is unchanged
    assert (currency.status_code, currency.json_body["error"]["details"]["reason"]) == (422, "currency")
    assert (missing.status_code, missing.json_body["error"]["details"]["reason"]) == (422, "missing")
    stored = prices.api.get(f"/v1/admin/plans/{body['id']}", "usr_root").json_body
    assert (stored["currency"], stored["price_id"]) == ("eur", body["price_id"])
    # and a change that keeps the prices fitting (its name) needs no Stripe price check to pass
    assert prices.api.patch(f"/v1/admin/plans/{body['id']}", "usr_root", {"name": "Pro+"}).status_code == 200


def test_prices_are_not_checked_while_billing_is_off(client) -> None:
    # Billing off: the panel has no Stripe key to ask with, so the plan is stored as given
    # (docs/billing.md: the prices are checked at the plan's next change with billing on).
    api = make_world(client)
    created = api.post("/v1/admin/plans", "usr_root", plan("price_not_at_stripe_yet"))
    assert created.status_code == 201, created.json_body
