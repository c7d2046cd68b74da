"""The local Stripe (local/stripe_standin.py) as Stripe behaves: idempotency keys, the current
object shapes of the pinned API version, events, the portal flows' required subscription and
the recording hook the contract test reads. Over HTTP on loopback, through stripe-python where
the product goes through it; no internet."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

from local import stripe_standin
from mamba.adapters.stripe_client import API_VERSION, StripeGateway
from tests.billing_support import STRIPE_KEY

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {STRIPE_KEY}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(standin_factory: Any) -> tuple[stripe_standin.StandIn, str]:
    """A fresh local Stripe on a free port, served from its own loop thread."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    standin = standin_factory(base)
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    asyncio.run_coroutine_threadsafe(stripe_standin.start(standin, port), loop).result(timeout=10)
    return standin, base


@pytest.fixture(scope="module")
def local() -> Iterator[tuple[stripe_standin.StandIn, str]]:
    yield start(lambda base: stripe_standin.StandIn(base, None, None))


@pytest.fixture(scope="module")
def gateway(local: tuple[stripe_standin.StandIn, str]) -> StripeGateway:
    return StripeGateway(STRIPE_KEY, local[1], max_network_retries=0)


@pytest.fixture(scope="module")
def catalogue(gateway: StripeGateway) -> dict[str, str]:
    client = gateway.client
    product = client.v1.products.create(params={"name": "Pro"})
    meter = client.v1.billing.meters.create(
        params={"display_name": "RAM", "event_name": "ram", "default_aggregation": {"formula": "sum"}}
    )
    flat = client.v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"}}
    )
    ram = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 2,
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
        }
    )
    return {"flat": flat.id, "ram": ram.id, "meter": meter.id}


def subscribe(gateway: StripeGateway, catalogue: dict[str, str], tenant: str) -> tuple[str, dict[str, Any]]:
    customer = gateway.create_customer(tenant, tenant, f"{tenant}@example.org")
    _, url = gateway.create_checkout_session(
        customer_id=customer,
        tenant_id=tenant,
        price_id=catalogue["flat"],
        metered_price_ids=(catalogue["ram"],),
        success_url="http://x/ok",
        cancel_url="http://x/no",
    )
    session = requests.post(f"{url}/pay", headers={"Accept": "application/json"}, timeout=10).json()
    return customer, session


# --- idempotency -------------------------------------------------------------------------------


def test_the_same_idempotency_key_creates_one_customer_and_replays_the_first_answer(local):
    standin, base = local
    headers = {**AUTH, "Idempotency-Key": "customer:tn_idem"}
    before = len(standin.customers)

    first = requests.post(f"{base}/v1/customers", data={"name": "A"}, headers=headers, timeout=5)
    again = requests.post(f"{base}/v1/customers", data={"name": "A"}, headers=headers, timeout=5)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert len(standin.customers) == before + 1


def test_the_same_idempotency_key_with_other_parameters_is_an_idempotency_error(local):
    _, base = local
    headers = {**AUTH, "Idempotency-Key": "customer:tn_other"}
    requests.post(f"{base}/v1/customers", data={"name": "A"}, headers=headers, timeout=5).raise_for_status()

    answer = requests.post(f"{base}/v1/customers", data={"name": "B"}, headers=headers, timeout=5)

    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "idempotency_error"


def test_a_request_that_fails_validation_does_not_keep_its_key(local):
    _, base = local
    headers = {**AUTH, "Idempotency-Key": "price:retry"}
    refused = requests.post(f"{base}/v1/prices", data={"unit_amount": "5"}, headers=headers, timeout=5)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "currency"

    fixed = requests.post(f"{base}/v1/prices", data={"unit_amount": "5"}, headers=headers, timeout=5)

    assert fixed.status_code == 400  # the same parameters run again (nothing was saved)
    assert "Idempotent-Replayed" not in fixed.headers


def test_the_gateway_gets_one_customer_per_tenant_and_one_credit_per_key(gateway, local):
    standin, _ = local

    first = gateway.create_customer("tn_once", "Once", None)
    again = gateway.create_customer("tn_once", "Once", None)
    credit = gateway.credit_customer_balance(first, 500, "usd", "Outage", "credit:cr_once")
    credit_again = gateway.credit_customer_balance(first, 500, "usd", "Outage", "credit:cr_once")

    assert again == first and credit_again == credit
    assert gateway.client.v1.customers.retrieve(first).balance == -500
    assert [t["id"] for t in standin.balance_transactions if t["customer"] == first] == [credit]
    created = [e for e in standin.sent_events if e["type"] == "customer.created"]
    assert [e["data"]["object"]["id"] for e in created].count(first) == 1


def test_a_request_without_a_secret_key_is_unauthorised(local):
    _, base = local

    answer = requests.post(f"{base}/v1/customers", data={"name": "A"}, timeout=5)

    assert answer.status_code == 401 and answer.json()["error"]["type"] == "invalid_request_error"


# --- the current shapes ------------------------------------------------------------------------


def test_a_subscription_has_its_items_with_price_and_their_own_periods_and_no_top_level_period(gateway, catalogue):
    _, session = subscribe(gateway, catalogue, "tn_shape")

    sub = gateway.client.v1.subscriptions.retrieve(session["subscription"]).to_dict()

    assert "current_period_end" not in sub and "current_period_start" not in sub and "plan" not in sub
    assert sub["billing_cycle_anchor"] == sub["start_date"] and sub["billing_mode"]["type"] == "flexible"
    items = sub["items"]["data"]
    assert [i["price"]["id"] for i in items] == [catalogue["flat"], catalogue["ram"]]
    assert [i["price"]["recurring"]["usage_type"] for i in items] == ["licensed", "metered"]
    assert items[1]["price"]["recurring"]["meter"] == catalogue["meter"]
    for item in items:
        assert item["current_period_end"] > item["current_period_start"] > 0
        assert item["subscription"] == sub["id"] and item["object"] == "subscription_item"
    assert items[0]["quantity"] == 1 and "quantity" not in items[1]


def test_a_subscription_session_has_the_required_fields_and_its_amount(gateway, catalogue):
    customer, session = subscribe(gateway, catalogue, "tn_cs")

    found = gateway.client.v1.checkout.sessions.retrieve(session["id"]).to_dict()

    assert found["amount_total"] == found["amount_subtotal"] == 1500  # the flat fee; usage bills later
    for field in ("automatic_tax", "custom_fields", "custom_text", "payment_method_types", "shipping_options"):
        assert field in found
    assert found["expires_at"] == found["created"] + 24 * 3600
    assert (found["status"], found["payment_status"], found["customer"]) == ("complete", "paid", customer)


def test_the_first_invoice_is_paid_through_its_parent_with_current_lines(gateway, catalogue):
    customer, session = subscribe(gateway, catalogue, "tn_inv")

    invoices = gateway.client.v1.invoices.list(params={"customer": customer}).to_dict()["data"]

    assert len(invoices) == 1
    invoice = invoices[0]
    assert not {"charge", "subscription", "date", "paid"} & invoice.keys()
    assert invoice["parent"]["type"] == "subscription_details"
    assert invoice["parent"]["subscription_details"]["subscription"] == session["subscription"]
    assert invoice["parent"]["subscription_details"]["metadata"] == {"tenant_id": "tn_inv"}
    assert (invoice["status"], invoice["amount_paid"], invoice["attempt_count"]) == ("paid", 1500, 1)
    lines = invoice["lines"]["data"]
    assert [line["pricing"]["price_details"]["price"] for line in lines] == [catalogue["flat"], catalogue["ram"]]
    assert {line["parent"]["subscription_item_details"]["subscription"] for line in lines} == {session["subscription"]}
    assert gateway.list_invoices(customer, 10, None)[0][0]["amount_paid"] == 1500


def test_events_carry_the_pinned_version_pending_webhooks_and_the_request(local, gateway, catalogue):
    standin, _ = local
    subscribe(gateway, catalogue, "tn_events")

    types = [e["type"] for e in standin.sent_events]

    assert {"customer.subscription.created", "invoice.paid", "checkout.session.completed"} <= set(types)
    for event in standin.sent_events:
        assert event["api_version"] == API_VERSION == stripe_standin.API_VERSION
        assert event["pending_webhooks"] == 0  # no endpoint here; 1 when the panel's is set
        assert set(event["request"]) == {"id", "idempotency_key"}
    created = next(e for e in standin.sent_events if e["type"] == "customer.created")
    assert created["request"]["id"].startswith("req_")
    assert created["request"]["idempotency_key"] and created["request"]["idempotency_key"].startswith("customer:")


# --- the portal flows --------------------------------------------------------------------------


def test_a_cancel_or_update_flow_must_name_the_customers_subscription(gateway, catalogue):
    customer, session = subscribe(gateway, catalogue, "tn_portal")
    other, _ = subscribe(gateway, catalogue, "tn_portal_other")
    portal = gateway.client.v1.billing_portal.sessions

    for flow in ("subscription_cancel", "subscription_update"):
        with pytest.raises(stripe.InvalidRequestError) as missing:
            portal.create(params={"customer": customer, "flow_data": {"type": flow}})
        assert missing.value.param == f"flow_data[{flow}][subscription]"
        with pytest.raises(stripe.InvalidRequestError):  # another customer's subscription
            portal.create(
                params={"customer": other, "flow_data": {"type": flow, flow: {"subscription": session["subscription"]}}}
            )
        made = portal.create(
            params={"customer": customer, "flow_data": {"type": flow, flow: {"subscription": session["subscription"]}}}
        )
        assert made.flow is not None and made.flow.type == flow
        assert getattr(made.flow, flow).subscription == session["subscription"]


# --- recording ---------------------------------------------------------------------------------


def test_every_response_and_event_is_recorded_in_process_and_to_the_named_file(tmp_path: Path, monkeypatch):
    record = tmp_path / "stripe.jsonl"
    monkeypatch.setenv(stripe_standin.RECORD_ENV, str(record))
    standin, base = start(lambda b: stripe_standin.StandIn(b, None, None))
    gateway = StripeGateway(STRIPE_KEY, base, max_network_retries=0)

    customer = gateway.create_customer("tn_rec", "Rec", None)
    gateway.create_customer("tn_rec", "Rec", None)  # replayed: served again, recorded again
    with pytest.raises(Exception):  # noqa: B017 (an error body is not a resource: not recorded)
        gateway.retrieve_subscription("sub_missing")

    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert lines == standin.records
    assert [(r["source"], r["method"], r["path"]) for r in lines] == [
        ("event", "POST", "/webhooks/stripe"),
        ("response", "POST", "/v1/customers"),
        ("response", "POST", "/v1/customers"),
    ]
    assert lines[0]["body"]["type"] == "customer.created" and lines[0]["body"]["object"] == "event"
    assert lines[1]["body"]["id"] == lines[2]["body"]["id"] == customer


def test_the_local_pages_still_pay_and_cancel(gateway, catalogue, local):
    _, base = local
    customer, session = subscribe(gateway, catalogue, "tn_pages")
    url = gateway.create_portal_session(customer, "http://x/back")
    assert session["subscription"] in requests.get(url, timeout=5).text

    requests.post(f"{url}/cancel/{session['subscription']}", timeout=5, allow_redirects=False)

    assert gateway.retrieve_subscription(session["subscription"]).status == "canceled"
    assert requests.get(f"{base}/invoices/missing", timeout=5).status_code == 404


def test_every_resource_reads_back_and_updates_as_at_stripe(gateway, catalogue, local):
    standin, _ = local
    client = gateway.client
    customer, session = subscribe(gateway, catalogue, "tn_reads")
    sub_id = session["subscription"]

    found = client.v1.customers.retrieve(customer)
    pm = client.v1.payment_methods.retrieve(found.invoice_settings.default_payment_method)
    assert (pm.type, pm.customer, pm.card.last4) == ("card", customer, "4242")
    assert [p.id for p in client.v1.customers.payment_methods.list(customer).data] == [pm.id]
    invoice = client.v1.invoices.retrieve(session["invoice"])
    assert invoice.parent.subscription_details.subscription == sub_id
    assert client.v1.prices.retrieve(catalogue["flat"]).unit_amount == 1500
    assert client.v1.billing.meters.retrieve(catalogue["meter"]).event_name == "ram"
    client.v1.customers.balance_transactions.create(customer, params={"amount": -200, "currency": "usd"})
    assert [t.ending_balance for t in client.v1.customers.balance_transactions.list(customer).data] == [-200]

    updated = client.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    assert updated.cancel_at_period_end and updated.cancel_at == updated["items"].data[0].current_period_end
    changed = next(e for e in reversed(standin.sent_events) if e["type"] == "customer.subscription.updated")
    assert changed["data"]["previous_attributes"]["cancel_at_period_end"] is False
    assert client.v1.subscriptions.cancel(sub_id).status == "canceled"
    assert [s.id for s in client.v1.subscriptions.list(params={"customer": customer}).data] == []
    assert client.v1.events.list(params={"type": "customer.subscription.deleted"}).data[0].data.object.id == sub_id
    with pytest.raises(stripe.InvalidRequestError) as gone:
        client.v1.invoices.retrieve("in_missing")
    assert (gone.value.http_status, gone.value.code) == (404, "resource_missing")


def test_a_key_still_in_use_by_a_running_request_is_a_conflict():
    from concurrent.futures import ThreadPoolExecutor
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    release = threading.Event()

    class SlowHook(BaseHTTPRequestHandler):  # holds the first request inside its customer.created
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            release.wait(10)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    hook = ThreadingHTTPServer(("127.0.0.1", 0), SlowHook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{hook.server_address[1]}/hook"
    standin, base = start(lambda b: stripe_standin.StandIn(b, url, "whsec_test"))
    headers = {**AUTH, "Idempotency-Key": "customer:tn_busy"}

    def post() -> requests.Response:
        return requests.post(f"{base}/v1/customers", data={"name": "A"}, headers=headers, timeout=15)

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(post)
        while not standin.sent_events:  # the first is inside its handler, delivering its event
            time.sleep(0.01)
        busy = post()
        release.set()
        done = first.result()
    hook.shutdown()

    assert busy.status_code == 409 and busy.json()["error"]["type"] == "idempotency_error"
    assert done.status_code == 200 and len(standin.customers) == 1
    assert post().json()["id"] == done.json()["id"]


def test_another_api_version_is_refused_rather_than_answered_in_the_wrong_shape(local):
    _, base = local
    pinned = requests.get(f"{base}/v1/customers", headers={**AUTH, "Stripe-Version": API_VERSION}, timeout=5)
    old = requests.get(f"{base}/v1/customers", headers={**AUTH, "Stripe-Version": "2017-08-15"}, timeout=5)

    assert pinned.status_code == 200 and pinned.headers["Stripe-Version"] == API_VERSION
    assert old.status_code == 400 and API_VERSION in old.json()["error"]["message"]


def test_a_replay_answers_the_first_response_as_it_was_and_records_are_snapshots(local, gateway):
    standin, base = local
    headers = {**AUTH, "Idempotency-Key": "customer:tn_snapshot"}
    first = requests.post(f"{base}/v1/customers", data={"name": "Before"}, headers=headers, timeout=5).json()
    recorded = next(r for r in reversed(standin.records) if r["source"] == "response")
    gateway.client.v1.customers.update(first["id"], params={"name": "After"})

    again = requests.post(f"{base}/v1/customers", data={"name": "Before"}, headers=headers, timeout=5).json()

    assert again["name"] == recorded["body"]["name"] == "Before"
    assert gateway.client.v1.customers.retrieve(first["id"]).name == "After"
