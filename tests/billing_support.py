"""Billing test support: a Stripe stand-in at the gateway's boundary, signed events, and
billing switched on for the app under test.

``FakeStripe`` has the ``StripeGateway`` methods and keeps Stripe's objects in memory, so a
test can change a subscription "at Stripe" and check that the panel re-fetches it. The
gateway itself is tested against localstripe and the local stand-in over HTTP
(tests/integration/test_stripe_gateway.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Any

from mamba.domain.billing import SubscriptionFacts
from mamba.domain.errors import DependencyUnavailableError, NotFoundError

WEBHOOK_SECRET = "whsec_" + secrets.token_urlsafe(32)
OLD_WEBHOOK_SECRET = "whsec_" + secrets.token_urlsafe(32)
STRIPE_KEY = "sk_test_" + secrets.token_urlsafe(32)
API_VERSION = "2026-10-28.endive"
PRO_PRICE = "price_pro_monthly"
RAM_PRICE = "price_ram_gb_hours"
_ids = itertools.count(1)


@dataclass
class FakeStripe:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, SubscriptionFacts] = field(default_factory=dict)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    checkout_sessions: list[dict[str, Any]] = field(default_factory=list)
    portal_sessions: list[dict[str, Any]] = field(default_factory=list)
    meter_events: list[dict[str, Any]] = field(default_factory=list)
    balance_transactions: list[dict[str, Any]] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)
    down: bool = False
    payment_methods: set[str] = field(default_factory=set)
    fail_meter_events: int = 0

    def _check(self) -> None:
        if self.down:
            raise DependencyUnavailableError("Billing is unavailable; try again shortly.")

    def create_customer(self, tenant_id: str, name: str, email: str | None) -> str:
        self._check()
        for cid, c in self.customers.items():  # Stripe's idempotency key customer:<tenant_id>
            if c["idempotency_key"] == f"customer:{tenant_id}":
                return cid
        cid = f"cus_{next(_ids):06d}"
        self.customers[cid] = {"name": name, "email": email, "idempotency_key": f"customer:{tenant_id}"}
        return cid

    def set_subscription(self, sub_id: str, customer: str, status: str, prices: tuple[str, ...], **extra: Any) -> None:
        self.subscriptions[sub_id] = SubscriptionFacts(
            id=sub_id, customer=customer, status=status, price_ids=prices, **extra
        )

    def update_subscription(self, sub_id: str, **changes: Any) -> None:
        self.subscriptions[sub_id] = replace(self.subscriptions[sub_id], **changes)

    def retrieve_subscription(self, subscription_id: str) -> SubscriptionFacts:
        self._check()
        self.retrieved.append(subscription_id)
        if subscription_id not in self.subscriptions:
            raise NotFoundError("The billing record was not found at Stripe.", {})
        return self.subscriptions[subscription_id]

    def customer_has_payment_method(self, customer_id: str) -> bool:
        return customer_id in self.payment_methods

    def create_checkout_session(self, **params: Any) -> tuple[str, str]:
        self._check()
        session_id = f"cs_test_{next(_ids):06d}"
        self.checkout_sessions.append({"id": session_id, **params})
        return session_id, f"https://checkout.example/{session_id}"

    def create_credit_checkout(self, **params: Any) -> tuple[str, str]:
        self._check()
        session_id = f"cs_test_{next(_ids):06d}"
        self.checkout_sessions.append({"id": session_id, "mode": "payment", "payment_status": "unpaid", **params})
        return session_id, f"https://checkout.example/{session_id}"

    def pay_session(self, session_id: str) -> None:
        next(s for s in self.checkout_sessions if s["id"] == session_id)["payment_status"] = "paid"

    def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]:
        self._check()
        s = next(s for s in self.checkout_sessions if s["id"] == session_id)
        return {
            "id": session_id,
            "mode": s.get("mode", "subscription"),
            "status": "complete" if s.get("payment_status") == "paid" else "open",
            "payment_status": s.get("payment_status", "paid"),
            "amount_total": s.get("amount_cents", 0),
            "currency": s.get("currency", "usd"),
            "customer": s["customer_id"],
            "client_reference_id": s["tenant_id"],
            "purpose": "credit" if s.get("mode") == "payment" else None,
        }

    def create_portal_session(self, customer_id: str, return_url: str, flow: str | None = None) -> str:
        self._check()
        self.portal_sessions.append({"customer": customer_id, "return_url": return_url, "flow": flow})
        return f"https://portal.example/{customer_id}"

    def list_invoices(
        self, customer_id: str, limit: int, starting_after: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        mine = [i for i in self.invoices if i["customer"] == customer_id]
        if starting_after:
            index = next(n for n, i in enumerate(mine) if i["id"] == starting_after)
            mine = mine[index + 1 :]
        rows = [{k: v for k, v in i.items() if k != "customer"} for i in mine[:limit]]
        return rows, len(mine) > limit

    def send_meter_event(self, event_name: str, customer_id: str, value: str, identifier: str, timestamp: int) -> None:
        if self.fail_meter_events > 0:
            self.fail_meter_events -= 1
            raise DependencyUnavailableError("Billing is unavailable; try again shortly.")
        if any(e["identifier"] == identifier for e in self.meter_events):
            return  # Stripe ignores a repeated identifier
        self.meter_events.append(
            {
                "event_name": event_name,
                "customer": customer_id,
                "value": value,
                "identifier": identifier,
                "timestamp": timestamp,
            }
        )

    def credit_customer_balance(
        self, customer_id: str, amount_cents: int, currency: str, description: str, idempotency_key: str
    ) -> str:
        self._check()
        for txn in self.balance_transactions:
            if txn["idempotency_key"] == idempotency_key:
                return str(txn["id"])
        txn_id = f"cbtxn_{next(_ids):06d}"
        self.balance_transactions.append(
            {
                "id": txn_id,
                "customer": customer_id,
                "amount": -amount_cents,
                "currency": currency,
                "idempotency_key": idempotency_key,
            }
        )
        return txn_id


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
    sub_id: str, customer: str, status: str, price: str, tenant_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": False,
        "metadata": {"tenant_id": tenant_id} if tenant_id else {},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_1",
                    "object": "subscription_item",
                    "price": {"id": price, "object": "price"},
                    "current_period_start": 1764547200,
                    "current_period_end": 1767225600,
                    "quantity": 1,
                }
            ],
        },
    }


def invoice_object(invoice_id: str, customer: str, sub_id: str, status: str = "open", **extra: Any) -> dict[str, Any]:
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": customer,
        "status": status,
        "billing_reason": extra.pop("billing_reason", "subscription_cycle"),
        "attempt_count": extra.pop("attempt_count", 1),
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
        "parent": {"type": "subscription_details", "subscription_details": {"subscription": sub_id, "metadata": {}}},
        **extra,
    }


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
