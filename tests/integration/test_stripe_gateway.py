"""The real StripeGateway (stripe-python 16, StripeClient) over HTTP against the local Stripe
(local/stripe_standin.py): customers, prices, Checkout with the local Pay,
subscription re-fetch, portal, invoices, meters, balance; and the stand-in's events verify
with the webhook secret through the panel's own verification."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import requests

from mamba.adapters.stripe_client import StripeGateway, verify_event
from mamba.domain.errors import NotFoundError
from tests.billing_support import STRIPE_KEY, WEBHOOK_SECRET, running_standin

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver(BaseHTTPRequestHandler):
    """Records what the local Stripe POSTs to the webhook (raw bytes, header)."""

    received: list[tuple[bytes, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Receiver.received.append((body, self.headers.get("Stripe-Signature", "")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def standin() -> Iterator[str]:
    hook_port = free_port()
    hook = HTTPServer(("127.0.0.1", hook_port), Receiver)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    with running_standin(f"http://127.0.0.1:{hook_port}/webhooks/stripe") as base:
        yield base
    hook.shutdown()


@pytest.fixture(scope="module")
def gateway(standin: str) -> StripeGateway:
    return StripeGateway(STRIPE_KEY, standin, max_network_retries=0)


@pytest.fixture(scope="module")
def catalogue(gateway: StripeGateway) -> dict[str, str]:
    client = gateway.client
    product = client.v1.products.create(params={"name": "Pro"})
    meter = client.v1.billing.meters.create(
        params={
            "display_name": "RAM GB-hours",
            "event_name": "gs_ram_gb_hours",
            "default_aggregation": {"formula": "sum"},
        }
    )
    flat = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
            "lookup_key": "pro_monthly",
        }
    )
    ram = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 1,
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
            "lookup_key": "pro_ram",
        }
    )
    return {"flat": flat.id, "ram": ram.id, "meter": meter.id}


def test_a_customer_is_created_and_checkout_subscribes_it_on_the_local_pay_page(gateway, catalogue, standin):
    customer = gateway.create_customer("tn_gw", "Gateway Games", "owner@example.org")
    session_id, url = gateway.create_checkout_session(
        customer_id=customer,
        tenant_id="tn_gw",
        price_id=catalogue["flat"],
        metered_price_ids=(catalogue["ram"],),
        success_url="http://127.0.0.1:8000/ok?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://127.0.0.1:8000/cancel",
    )
    assert url == f"{standin}/checkout/{session_id}"
    assert "Pay" in requests.get(url, timeout=5).text

    paid = requests.post(f"{url}/pay", headers={"Accept": "application/json"}, timeout=10).json()

    assert paid["status"] == "complete" and paid["subscription"].startswith("sub_")
    sub = gateway.retrieve_subscription(paid["subscription"])
    # both items, flat and metered, each with its price (Stripe's current shape)
    assert (sub.customer, sub.status, sub.price_ids, sub.tenant_hint) == (
        customer,
        "active",
        (catalogue["flat"], catalogue["ram"]),
        "tn_gw",
    )
    assert sub.current_period_end is not None and sub.has_payment_method
    # the completed session went to the webhook, signed with the secret
    events = [json.loads(body) for body, _ in Receiver.received]
    completed = [e for e in events if e["type"] == "checkout.session.completed"]
    assert completed and completed[-1]["data"]["object"]["client_reference_id"] == "tn_gw"
    body, header = next((b, h) for b, h in Receiver.received if json.loads(b)["id"] == completed[-1]["id"])
    verify_event(body, header, (WEBHOOK_SECRET,))


def test_dunning_helpers_change_the_status_the_gateway_reads_and_send_signed_invoice_events(
    gateway, catalogue, standin
):
    customer = gateway.create_customer("tn_dun", "Dunning", None)
    _, url = gateway.create_checkout_session(
        customer_id=customer,
        tenant_id="tn_dun",
        price_id=catalogue["flat"],
        metered_price_ids=(),
        success_url="http://x/ok",
        cancel_url="http://x/no",
    )
    sub_id = requests.post(f"{url}/pay", headers={"Accept": "application/json"}, timeout=10).json()["subscription"]

    requests.post(f"{standin}/_standin/subscriptions/{sub_id}/payment_failed", timeout=10).raise_for_status()
    assert gateway.retrieve_subscription(sub_id).status == "past_due"
    requests.post(f"{standin}/_standin/subscriptions/{sub_id}/pay", timeout=10).raise_for_status()
    assert gateway.retrieve_subscription(sub_id).status == "active"

    types = [json.loads(b)["type"] for b, _ in Receiver.received]
    assert "invoice.payment_failed" in types and "invoice.paid" in types
    for body, header in Receiver.received:
        if json.loads(body).get("api_version") == "2026-10-28.endive":
            verify_event(body, header, (WEBHOOK_SECRET,))


def test_portal_invoices_balance_and_meter_events(gateway, catalogue, standin):
    customer = gateway.create_customer("tn_misc", "Misc", None)

    portal = gateway.create_portal_session(customer, "http://127.0.0.1:8000/back", "payment_method_update")
    assert portal.startswith(f"{standin}/portal/") and "portal" in requests.get(portal, timeout=5).text
    rows, more = gateway.list_invoices(customer, 10, None)
    assert rows == [] and more is False
    assert gateway.credit_customer_balance(customer, 500, "usd", "Outage", "credit:cr_1").startswith("cbtxn_")

    for _ in range(3):
        gateway.send_meter_event(
            "gs_ram_gb_hours", customer, "1.5", "srv-1:ram_gb_hours:2026-12-01T12", int(time.time()) - 3600
        )
    events = requests.get(f"{standin}/_standin/meter_events", timeout=5).json()["data"]
    mine = [e for e in events if e["payload"].get("stripe_customer_id") == customer]
    assert [(e["identifier"], e["payload"]["value"]) for e in mine] == [("srv-1:ram_gb_hours:2026-12-01T12", "1.5")]


def test_a_missing_subscription_is_not_found(gateway):
    with pytest.raises(NotFoundError):
        gateway.retrieve_subscription("sub_does_not_exist")


def test_a_credit_checkout_is_a_one_time_payment_that_reads_back_paid(gateway, standin):
    customer = gateway.create_customer("tn_credit", "Credit", None)
    session_id, url = gateway.create_credit_checkout(
        customer_id=customer,
        tenant_id="tn_credit",
        amount_cents=2500,
        currency="usd",
        success_url="http://x/ok",
        cancel_url="http://x/no",
    )
    assert gateway.retrieve_checkout_session(session_id)["payment_status"] == "unpaid"

    requests.post(f"{url}/pay", headers={"Accept": "application/json"}, timeout=10).raise_for_status()

    session = gateway.retrieve_checkout_session(session_id)
    assert (session["mode"], session["payment_status"], session["amount_total"], session["purpose"]) == (
        "payment",
        "paid",
        2500,
        "credit",
    )
    assert (session["customer"], session["client_reference_id"]) == (customer, "tn_credit")
