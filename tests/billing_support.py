"""Billing test support: a Stripe stand-in at the gateway's boundary, signed events, and
billing switched on for the app under test.

``FakeStripe`` (tests/fakes.py) has the ``StripeGateway`` methods and keeps Stripe's objects in
memory, so a test can change a subscription "at Stripe" and check that the panel re-fetches it.
tests/contract/test_stripe_gateway.py runs it and the real gateway (against the
local stand-in, ``running_standin``) through one contract.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from tests import stripe_objects
from tests.fakes import FakeStripe

__all__ = ["FakeStripe", "invoice_object", "subscription_object"]

WEBHOOK_SECRET = "whsec_" + secrets.token_urlsafe(32)
OLD_WEBHOOK_SECRET = "whsec_" + secrets.token_urlsafe(32)
STRIPE_KEY = "sk_test_" + secrets.token_urlsafe(32)
API_VERSION = "2026-10-28.endive"
PRO_PRICE = "price_pro_monthly"
RAM_PRICE = "price_ram_gb_hours"


# --- events --------------------------------------------------------------------------------


def event(
    event_type: str, obj: dict[str, Any], *, livemode: bool = False, created: int | None = None, **extra: Any
) -> dict[str, Any]:
    """A snapshot event envelope as Stripe sends it (stripe-events.md)."""
    return {
        "id": extra.pop("event_id", f"evt_{secrets.token_hex(12)}"),
        "object": "event",
        "api_version": extra.pop("api_version", API_VERSION),
        "created": created or int(time.time()),
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": obj, **extra},
    }


def subscription_object(
    sub_id: str, customer: str, status: str, price: str, tenant_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A current-shape subscription (tests/stripe_objects.py): the flat ``price`` and the
    metered RAM price as two items, each with its own period."""
    fields.setdefault("metered", (RAM_PRICE,))
    return stripe_objects.subscription_object(sub_id, customer, status, price, tenant_id, **fields)


invoice_object = stripe_objects.invoice_object


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """``Stripe-Signature`` for exactly ``payload`` (the manual form of stripe's helper)."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def signed(
    evt: dict[str, Any], secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[str, dict[str, str]]:
    body = json.dumps(evt, indent=2)
    return body, {"Content-Type": "application/json", "Stripe-Signature": sign(body, secret, timestamp)}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- the local Stripe (local/stripe_standin.py), no internet -----------------------------------


@dataclass
class _LocalStripe:
    base: str
    relay_to: list[str]  # where the relay forwards webhooks now ([] drops them)
    task: Any = None  # the stand-in's serving task (runs until the process exits)
    standin: Any = None  # the StandIn itself (its ``records``, for the contract test)


_LOCAL_STRIPE: list[_LocalStripe] = []


def _start_local_stripe() -> _LocalStripe:
    """One local Stripe runs per test process (starting one per test would cost time for
    nothing). Its webhooks go to a relay that forwards them (raw body and signature) to
    whichever receiver the current ``running_standin`` names."""
    import socket
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from local import stripe_standin

    state = _LocalStripe(base="", relay_to=[])

    class Relay(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            for target in list(state.relay_to):
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "stripe-signature")}
                requests.post(target, data=body, headers=headers, timeout=10)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    relay = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    threading.Thread(target=relay.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{relay.server_address[1]}/webhooks/stripe"
    port = free_port()
    state.base = f"http://127.0.0.1:{port}"
    state.standin = stripe_standin.StandIn(state.base, hook, WEBHOOK_SECRET)
    loop = asyncio.new_event_loop()
    state.task = loop.create_task(stripe_standin.start(state.standin, port))
    threading.Thread(target=loop.run_forever, daemon=True).start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            requests.get(f"{state.base}/_standin/events", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    return state


@contextlib.contextmanager
def running_standin(webhook_url: str | None = None) -> Iterator[str]:
    """The local Stripe (started on first use, on free loopback ports, in this process); its
    signed webhooks go to ``webhook_url`` while the block runs. Yields the API base address."""
    if not _LOCAL_STRIPE:
        _LOCAL_STRIPE.append(_start_local_stripe())
    local = _LOCAL_STRIPE[0]
    local.relay_to[:] = [webhook_url] if webhook_url else []
    try:
        yield local.base
    finally:
        local.relay_to.clear()
