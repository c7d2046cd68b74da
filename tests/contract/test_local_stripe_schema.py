"""The local Stripe held to the pinned API version (issue 20, item 3).

A local Stripe (``local/stripe_standin.py``) is started in its own process with
``STRIPE_STANDIN_RECORD`` naming a file: it appends one JSON line per response body it serves and
per event it sends (the agreed recording hook). The test drives it through the calls the product
makes (the product's ``StripeGateway``, the catalogue steps of ``local/billing_seed.py``, the local
Pay page and the dunning helpers the e2e billing flow uses), then checks every recorded body, and
every event that reached the webhook, against the schema of ``2026-10-28.endive`` built from the
pinned stripe-python (tests/stripe_schema.py). A failure names the first wrong field.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import stripe_schema
from tests.billing_support import STRIPE_KEY, WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # a local Stripe process: about two seconds

PRODUCT_OBJECTS = stripe_schema.PRODUCT_OBJECTS
PRODUCT_EVENTS = {"checkout.session.completed", "invoice.payment_failed", "invoice.paid"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Recorded:
    base: str
    record_file: Path
    webhooks: list[dict[str, Any]] = field(default_factory=list)  # the event bodies the panel would get

    def records(self) -> list[dict[str, Any]]:
        if not self.record_file.exists():
            return []
        return [json.loads(line) for line in self.record_file.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def local_stripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    """The local Stripe in its own process (a fresh one: nothing recorded before this module),
    recording into a file, its webhooks to a receiver here."""
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0")))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    record_file = tmp_path_factory.mktemp("stripe") / "records.jsonl"
    port = free_port()
    args = [sys.executable, "-m", "local.stripe_standin", "--port", str(port)]
    args += ["--webhook", f"http://127.0.0.1:{hook.server_address[1]}/webhooks/stripe"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_STANDIN_RECORD": str(record_file),
    }
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else "exited"
            assert time.monotonic() < deadline, "the local Stripe did not start"
            time.sleep(0.05)
        recorded = Recorded(f"http://127.0.0.1:{port}", record_file, received)
        _drive(recorded.base)
        time.sleep(0.2)  # the last webhook deliveries
        yield recorded
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        hook.shutdown()


def _drive(base: str) -> None:
    """What the product does with Stripe, in the order a tenant's life does it."""
    from mamba.adapters.stripe_client import StripeGateway

    gateway = StripeGateway(STRIPE_KEY, base, max_network_retries=0)
    client = gateway.client
    # the catalogue (local/billing_seed.py)
    event_name = f"gs_ram_{secrets.token_hex(3)}"
    meter = client.v1.billing.meters.create(
        params={"display_name": "RAM GB-hours", "event_name": event_name, "default_aggregation": {"formula": "sum"}}
    )
    product = client.v1.products.create(params={"name": "Mamba Pro"})
    flat = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
            "lookup_key": f"pro_monthly_{secrets.token_hex(3)}",
        }
    )
    ram = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 1,
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
            "lookup_key": f"pro_ram_{secrets.token_hex(3)}",
        }
    )
    # a tenant: its customer (twice, one key), Checkout with the flat and the metered price, Pay
    tenant = f"tn_{secrets.token_hex(4)}"
    customer = gateway.create_customer(tenant, "Games Ltd", "owner@example.org")
    gateway.create_customer(tenant, "Games Ltd", "owner@example.org")
    session_id, url = gateway.create_checkout_session(
        customer_id=customer,
        tenant_id=tenant,
        price_id=flat.id,
        metered_price_ids=(ram.id,),
        success_url="http://127.0.0.1:8000/ok",
        cancel_url="http://127.0.0.1:8000/cancel",
    )
    gateway.retrieve_checkout_session(session_id)
    paid = requests.post(f"{url}/pay", headers={"Accept": "application/json"}, timeout=30)
    paid.raise_for_status()
    sub_id = paid.json()["subscription"]
    gateway.retrieve_subscription(sub_id)
    gateway.customer_has_payment_method(customer)
    # the portal, usage, credit, invoices
    gateway.create_portal_session(customer, "http://127.0.0.1:8000/billing")
    for flow in ("payment_method_update", "subscription_cancel", "subscription_update"):  # the shortcuts
        gateway.create_portal_session(customer, "http://127.0.0.1:8000/billing", flow, sub_id)
    gateway.send_meter_event(event_name, customer, "3", f"usage:{secrets.token_hex(4)}", int(time.time()) - 60)
    gateway.credit_customer_balance(customer, 500, "usd", "Goodwill", f"credit:{secrets.token_hex(4)}")
    credit_id, credit_url = gateway.create_credit_checkout(
        customer_id=customer,
        tenant_id=tenant,
        amount_cents=2500,
        currency="usd",
        success_url="http://127.0.0.1:8000/ok",
        cancel_url="http://127.0.0.1:8000/cancel",
    )
    requests.post(f"{credit_url}/pay", headers={"Accept": "application/json"}, timeout=30).raise_for_status()
    gateway.retrieve_checkout_session(credit_id)
    # dunning (tests/e2e/test_billing_flow.py): a failed renewal, then a paid one
    for step in ("payment_failed", "pay"):
        requests.post(f"{base}/_standin/subscriptions/{sub_id}/{step}", timeout=30).raise_for_status()
        gateway.retrieve_subscription(sub_id)
    gateway.list_invoices(customer, 10, None)


def test_every_response_and_event_of_the_local_stripe_matches_the_pinned_api(local_stripe: Recorded) -> None:
    # Given the recorded bodies, and the events that reached the webhook (the panel's view)
    records = local_stripe.records()
    recorded_events = {r["body"].get("id") for r in records if r["source"] == "event"}
    records += [
        {"source": "event", "method": "POST", "path": "(webhook, not recorded)", "body": event}
        for event in local_stripe.webhooks
        if event.get("id") not in recorded_events
    ]
    assert records, "the local Stripe served nothing"

    # When each is checked against the pinned version's schema
    wrong = stripe_schema.recorded_problems(records)

    # Then none has a missing, null-but-required, mistyped, unknown-enum or removed field
    if wrong:
        pytest.fail(stripe_schema.first_wrong(wrong, len(records)))


def test_the_recording_covers_every_object_and_event_the_product_uses(local_stripe: Recorded) -> None:
    # Given the recording hook's lines
    records = local_stripe.records()

    # Then every resource the product touches was served or sent, in a recorded line
    served = {r["body"].get("object") for r in records if isinstance(r.get("body"), dict)}
    served |= {
        r["body"]["data"]["object"].get("object")
        for r in records
        if r.get("source") == "event" and isinstance(r["body"].get("data", {}).get("object"), dict)
    }
    assert PRODUCT_OBJECTS <= served, f"never recorded: {sorted(PRODUCT_OBJECTS - served)}"
    # and every event that reached the webhook was recorded, whole (the envelope as sent)
    events = {r["body"]["id"]: r["body"] for r in records if r.get("source") == "event"}
    assert PRODUCT_EVENTS <= {e["type"] for e in events.values()}
    for sent in local_stripe.webhooks:
        assert events.get(sent["id"]) == sent, f"event {sent['id']} ({sent.get('type')}) not recorded as sent"


def test_the_same_idempotency_key_gives_the_first_response_again(local_stripe: Recorded) -> None:
    # Given a customer created with an idempotency key
    key = f"customer:tn_{secrets.token_hex(4)}"
    headers = {"Authorization": f"Bearer {STRIPE_KEY}", "Idempotency-Key": key}
    first = requests.post(f"{local_stripe.base}/v1/customers", data={"name": "Once"}, headers=headers, timeout=10)

    # When the same request is sent again, and then with other parameters
    again = requests.post(f"{local_stripe.base}/v1/customers", data={"name": "Once"}, headers=headers, timeout=10)
    other = requests.post(f"{local_stripe.base}/v1/customers", data={"name": "Twice"}, headers=headers, timeout=10)

    # Then the replay is the first customer, marked replayed, and the changed request is refused
    assert first.status_code == 200 and again.status_code == 200, (first.text, again.text)
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error", other.text
