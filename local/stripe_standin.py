"""The local Stripe (docs/billing.md "Local mode"). Local only; production talks to
api.stripe.com. One aiohttp app on 127.0.0.1, the panel's ``STRIPE_API_BASE``.

It owns every resource the panel uses and answers in the shapes of the pinned API version
(``2026-10-28.endive``, the version stripe-python 16.1.0 pins): customers, products, prices,
meters and meter events, Checkout Sessions, portal sessions, subscriptions with their items
(each item with its ``price`` and its own ``current_period_start``/``current_period_end``; no
top-level period), invoices (``parent.subscription_details``, lines with ``parent`` and
``pricing``; no ``charge``/``subscription``/``date``), customer balance transactions, payment
methods and events. localstripe is not used: its objects are from 2017 and patching them was
a losing game (issue 20).

As Stripe does:

* a POST with an ``Idempotency-Key`` is done once: the same key with the same parameters
  answers the first response again with ``Idempotent-Replayed: true``; with other parameters,
  400 ``idempotency_error``; while the first is still running, 409 ``idempotency_error``;
* events carry ``api_version``, ``pending_webhooks`` and ``request`` and are signed with the
  webhook secret (``Stripe-Signature: t=<ts>,v1=<hmac-sha256>``), one POST each;
* a request without a ``Bearer sk_...`` key is 401; an unknown object is 404 ``resource_missing``;
  a ``Stripe-Version`` other than the pinned one is 400 (the stand-in has no other shapes);
  a portal ``subscription_cancel``/``subscription_update`` flow must name the customer's
  subscription.

Local pages: ``/checkout/<id>`` (press **Pay**: a test card is attached, the subscription and
its first invoice are created, the events are sent) and ``/portal/<id>`` (cancel). Stripe has
no renewals here, so dunning has helpers: ``POST /_standin/subscriptions/<id>/payment_failed``
(``past_due`` and ``invoice.payment_failed``), ``.../pay`` (``active`` and ``invoice.paid``),
``.../status`` (any status, ``customer.subscription.updated``). ``GET /_standin/events`` and
``GET /_standin/meter_events`` read back what was sent.

Recording (for the contract test, tests/): when ``STRIPE_STANDIN_RECORD`` names a file, one
JSON line is appended per successful API response body served and per event sent:
``{"source": "response"|"event", "method": "POST", "path": "/v1/customers", "body": {...}}``
(an event's ``body`` is its whole envelope). In-process, ``StandIn.records`` holds the same.

Run: ``python -m local.stripe_standin --port P --webhook URL`` with the secret in
``STRIPE_WEBHOOK_SECRET``; ``local.launcher`` does this for ``make run``.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import contextvars
import datetime as dt
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

API_VERSION = "2026-10-28.endive"
HOST = "127.0.0.1"
RECORD_ENV = "STRIPE_STANDIN_RECORD"
CHECKOUT_TTL = 24 * 3600  # Stripe's default Checkout Session expiry
TEST_CARD = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034, "funding": "credit"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PARAMS = web.RequestKey("params", dict[str, Any])  # the decoded form and query of an API request
_REQUEST: contextvars.ContextVar[dict[str, str | None]] = contextvars.ContextVar("stripe_request")


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _now() -> int:
    return int(time.time())


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            following = None if last else parts[i + 1]
            child: Any = value if last else ([] if following == "" or str(following).isdigit() else {})
            if isinstance(node, list):
                index = len(node) if part == "" else int(part)
                while len(node) <= index:
                    node.append(None)
                if node[index] is None or last:
                    node[index] = child
                node = node[index]
            else:
                if part not in node or last:
                    node[part] = child
                node = node[part]
    return root


def add_interval(ts: int, interval: str, count: int = 1) -> int:
    """``ts`` plus ``count`` intervals, calendar months as Stripe bills them."""
    if interval in ("day", "week"):
        return ts + count * (86400 if interval == "day" else 7 * 86400)
    start = dt.datetime.fromtimestamp(ts, dt.UTC)
    months = count * (12 if interval == "year" else 1)
    year, month = divmod(start.month - 1 + months, 12)
    day = min(start.day, calendar.monthrange(start.year + year, month + 1)[1])
    return int(start.replace(year=start.year + year, month=month + 1, day=day).timestamp())


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error", **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **extra}}


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def required(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise StripeError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
    return value


def _list(data: list[dict[str, Any]], url: str, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _page(rows: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
    """A Stripe list page: newest first (``rows`` come oldest first, in creation order: ``created``
    has one-second resolution), ``limit`` (default 10), ``starting_after``."""
    rows = rows[::-1]
    after = params.get("starting_after")
    if after:
        ids = [r["id"] for r in rows]
        rows = rows[ids.index(after) + 1 :] if after in ids else []
    limit = int(params.get("limit") or 10)
    return _list(rows[:limit], url, len(rows) > limit)


class StandIn:
    def __init__(self, public: str, webhook_url: str | None, secret: str | None) -> None:
        self.public = public.rstrip("/")
        self.webhook_url = webhook_url
        self.secret = secret
        self.record_file = os.environ.get(RECORD_ENV) or None
        self.records: list[dict[str, Any]] = []
        self.customers: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}
        self.meters: dict[str, dict[str, Any]] = {}
        self.meter_events: list[dict[str, Any]] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.balance_transactions: list[dict[str, Any]] = []
        self.sent_events: list[dict[str, Any]] = []
        self.idempotent: dict[tuple[str, str], dict[str, Any]] = {}
        # what a Checkout Session needs at payment that is not part of its Stripe object
        self.session_state: dict[str, dict[str, Any]] = {}
        self.portal_configuration = _id("bpc")
        self.http: aiohttp.ClientSession | None = None

    # --- plumbing ------------------------------------------------------------------------

    def record(self, source: str, method: str, path: str, body: dict[str, Any]) -> None:
        # a snapshot: the resource dicts change later (a subscription's status), a record must not
        entry = {"source": source, "method": method, "path": path, "body": json.loads(json.dumps(body))}
        self.records.append(entry)
        if self.record_file:
            with open(self.record_file, "a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")

    async def emit(
        self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send one signed snapshot event to the panel (as Stripe does: one POST, raw JSON)."""
        request = _REQUEST.get({"id": None, "idempotency_key": None})
        data: dict[str, Any] = {"object": json.loads(json.dumps(obj))}
        if previous is not None:
            data["previous_attributes"] = previous
        event: dict[str, Any] = {
            "id": _id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": _now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1 if self.webhook_url and self.secret else 0,
            "request": {"id": request["id"], "idempotency_key": request["idempotency_key"]},
            "type": event_type,
        }
        self.sent_events.append(event)
        self.record("event", "POST", "/webhooks/stripe", event)
        if self.webhook_url and self.secret and self.http is not None:
            payload = json.dumps(event, indent=2).encode()
            headers = {
                "Content-Type": "application/json",
                "Stripe-Signature": sign(payload, self.secret, event["created"]),
            }
            try:
                async with self.http.post(self.webhook_url, data=payload, headers=headers) as r:
                    await r.read()
            except aiohttp.ClientError:
                pass  # Stripe would retry; locally the event stays readable at /_standin/events
        return event

    @web.middleware
    async def api(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Stripe's request layer for ``/v1``: the key, idempotency, errors, recording."""
        if not request.path.startswith("/v1/"):
            return await handler(request)
        request_id = _id("req")
        auth = request.headers.get("Authorization", "")
        if not re.fullmatch(r"Bearer sk_(test|live)_\S+", auth):
            return _json(
                401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}, request_id
            )
        version = request.headers.get("Stripe-Version")
        if version and version != API_VERSION:
            # Stripe would answer in the asked version's shapes; this one knows only the pinned one.
            message = f"The local Stripe speaks only {API_VERSION}, not {version}."
            return _json(400, {"error": {"type": "invalid_request_error", "message": message}}, request_id)
        pairs = [(k, v) for k, v in (await request.post()).items() if isinstance(v, str)]
        pairs += [(k, v) for k, v in request.query.items()]
        request[PARAMS] = decode_form(pairs)
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        slot = (auth, key) if key else None
        fingerprint = json.dumps([request.method, request.path, sorted(pairs)])
        if slot is not None and slot in self.idempotent:
            saved = self.idempotent[slot]
            if saved["fingerprint"] != fingerprint:
                return _json(400, _idempotency_error(key, "different"), request_id)
            if saved.get("body") is None:
                return _json(409, _idempotency_error(key, "running"), request_id)
            response = _json(saved["status"], saved["body"], request_id)
            response.headers["Idempotent-Replayed"] = "true"
            response.headers["Original-Request"] = saved["request_id"]
            self._record_response(request, saved["status"], saved["body"])
            return response
        if slot is not None:
            self.idempotent[slot] = {"fingerprint": fingerprint, "request_id": request_id}
        token = _REQUEST.set({"id": request_id, "idempotency_key": key})
        body: Any
        try:
            status, body = 200, await handler(request)
        except StripeError as exc:
            status, body = exc.status, exc.body
        except BaseException:
            if slot is not None:  # a crash saves nothing: the key may be used again
                del self.idempotent[slot]
            raise
        finally:
            _REQUEST.reset(token)
        if slot is not None:
            if status == 400 or status == 404:  # a request that failed validation is not saved
                del self.idempotent[slot]
            else:  # the first answer as it was then, not the resource as it is at the replay
                self.idempotent[slot].update(status=status, body=json.loads(json.dumps(body)))
        self._record_response(request, status, body)
        response = _json(status, body, request_id)
        if key:
            response.headers["Idempotency-Key"] = key
        return response

    def _record_response(self, request: web.Request, status: int, body: Any) -> None:
        if 200 <= status < 300:
            self.record("response", request.method, request.path, body)

    # --- objects --------------------------------------------------------------------------

    def customer(self, customer_id: str, param: str = "customer") -> dict[str, Any]:
        found = self.customers.get(customer_id)
        if found is None or found.get("deleted"):
            raise missing("customer", customer_id, param)
        return found

    def price(self, price_id: str, param: str = "price") -> dict[str, Any]:
        found = self.prices.get(price_id)
        if found is None:
            raise missing("price", price_id, param)
        return found

    def subscription(self, sub_id: str) -> dict[str, Any]:
        found = self.subscriptions.get(sub_id)
        if found is None:
            raise missing("subscription", sub_id)
        return found

    def new_product(self, params: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        product = {
            "id": params.get("id") or _id("prod"),
            "object": "product",
            "active": params.get("active", "true") != "false",
            "created": now,
            "default_price": None,
            "description": params.get("description"),
            "images": [],
            "livemode": False,
            "marketing_features": [],
            "metadata": params.get("metadata") or {},
            "name": required(params, "name"),
            "package_dimensions": None,
            "shippable": None,
            "statement_descriptor": None,
            "tax_code": None,
            "type": "service",
            "unit_label": None,
            "updated": now,
            "url": None,
        }
        self.products[product["id"]] = product
        return product

    def new_price(self, params: dict[str, Any], *, active: bool = True) -> dict[str, Any]:
        currency = str(required(params, "currency")).lower()
        if params.get("product"):
            product = params["product"]
            if product not in self.products:
                raise missing("product", product, "product")
        else:
            product = self.new_product(params.get("product_data") or {"name": "Price"})["id"]
        recurring_in = params.get("recurring")
        recurring = None
        if recurring_in is not None:
            usage = recurring_in.get("usage_type", "licensed")
            meter = recurring_in.get("meter")
            if usage == "metered" and not meter:
                # basil removed legacy metered prices: a metered price needs a meter
                raise StripeError(400, "A metered price needs recurring[meter].", param="recurring[meter]")
            if meter and meter not in self.meters:
                raise missing("billing.meter", meter, "recurring[meter]")
            recurring = {
                "interval": required(recurring_in, "interval"),
                "interval_count": int(recurring_in.get("interval_count") or 1),
                "meter": meter,
                "trial_period_days": None,
                "usage_type": usage,
            }
        lookup_key = params.get("lookup_key")
        # A lookup key gives a stable id (price_<lookup_key>), so a re-run of the setup finds it.
        price_id = f"price_{lookup_key}" if lookup_key else _id("price")
        if price_id in self.prices:
            raise StripeError(400, f"A price with lookup_key {lookup_key!r} exists.", param="lookup_key")
        unit_amount = int(params.get("unit_amount") or 0)
        price = {
            "id": price_id,
            "object": "price",
            "active": active,
            "billing_scheme": "per_unit",
            "created": _now(),
            "currency": currency,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": lookup_key,
            "metadata": params.get("metadata") or {},
            "nickname": params.get("nickname"),
            "product": product,
            "recurring": recurring,
            "tax_behavior": "unspecified",
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "recurring" if recurring else "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        }
        self.prices[price_id] = price
        return price

    @staticmethod
    def plan_of(price: dict[str, Any]) -> dict[str, Any]:
        """The legacy ``plan`` Stripe still puts on a subscription item, beside its ``price``."""
        recurring = price["recurring"]
        return {
            "id": price["id"],
            "object": "plan",
            "active": price["active"],
            "amount": price["unit_amount"],
            "amount_decimal": price["unit_amount_decimal"],
            "billing_scheme": price["billing_scheme"],
            "created": price["created"],
            "currency": price["currency"],
            "interval": recurring["interval"],
            "interval_count": recurring["interval_count"],
            "livemode": False,
            "metadata": price["metadata"],
            "meter": recurring["meter"],
            "nickname": price["nickname"],
            "product": price["product"],
            "tiers_mode": None,
            "transform_usage": None,
            "trial_period_days": None,
            "usage_type": recurring["usage_type"],
        }

    def new_payment_method(self, customer_id: str) -> dict[str, Any]:
        pm: dict[str, Any] = {
            "id": _id("pm"),
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": {"address": None, "email": None, "name": None, "phone": None, "tax_id": None},
            "card": {
                **TEST_CARD,
                "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
                "country": "US",
                "display_brand": "visa",
                "fingerprint": secrets.token_hex(8),
                "generated_from": None,
                "networks": {"available": ["visa"], "preferred": None},
                "regulated_status": "unregulated",
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
            "created": _now(),
            "customer": customer_id,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }
        self.payment_methods[pm["id"]] = pm
        return pm

    def new_subscription(
        self,
        customer_id: str,
        prices: list[tuple[dict[str, Any], int | None]],
        metadata: dict[str, Any],
        pm: str | None,
    ) -> dict[str, Any]:
        now = _now()
        sub_id = _id("sub")
        items = []
        for price, quantity in prices:
            recurring = price["recurring"]
            item: dict[str, Any] = {
                "id": _id("si"),
                "object": "subscription_item",
                "billing_thresholds": None,
                "created": now,
                "current_period_end": add_interval(now, recurring["interval"], recurring["interval_count"]),
                "current_period_start": now,
                "discounts": [],
                "metadata": {},
                "plan": self.plan_of(price),
                "price": price,
                "subscription": sub_id,
                "tax_rates": [],
            }
            if recurring["usage_type"] == "licensed":  # a metered item has no quantity
                item["quantity"] = quantity or 1
            items.append(item)
        sub = {
            "id": sub_id,
            "object": "subscription",
            "application": None,
            "application_fee_percent": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": now,
            "billing_cycle_anchor_config": None,
            "billing_mode": {"flexible": None, "type": "flexible", "updated_at": now},
            "billing_schedules": [],
            "billing_thresholds": None,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "created": now,
            "currency": prices[0][0]["currency"],
            "customer": customer_id,
            "days_until_due": None,
            "default_payment_method": pm,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "ended_at": None,
            "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
            "items": {
                "object": "list",
                "data": items,
                "has_more": False,
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": metadata,
            "next_pending_invoice_item_invoice": None,
            "on_behalf_of": None,
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": None,
            "pending_setup_intent": None,
            "pending_update": None,
            "schedule": None,
            "start_date": now,
            "status": "active",
            "test_clock": None,
            "transfer_data": None,
            "trial_end": None,
            "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
            "trial_start": None,
        }
        self.subscriptions[sub_id] = sub
        return sub

    def new_invoice(self, sub: dict[str, Any], billing_reason: str) -> dict[str, Any]:
        """A finalized (open) invoice for the subscription's current period: the flat items'
        amounts; a metered item bills its usage in arrears, so it is 0 here."""
        now = _now()
        invoice_id = _id("in")
        lines = []
        for item in sub["items"]["data"]:
            price = item["price"]
            amount = price["unit_amount"] * item.get("quantity", 0)
            lines.append(
                {
                    "id": _id("il"),
                    "object": "line_item",
                    "amount": amount,
                    "currency": price["currency"],
                    "description": f"{item.get('quantity', 0)} x {self.products[price['product']]['name']}",
                    "discount_amounts": [],
                    "discountable": True,
                    "discounts": [],
                    "invoice": invoice_id,
                    "livemode": False,
                    "metadata": {},
                    "parent": {
                        "invoice_item_details": None,
                        "subscription_item_details": {
                            "invoice_item": None,
                            "proration": False,
                            "proration_details": {"credited_items": None},
                            "subscription": sub["id"],
                            "subscription_item": item["id"],
                        },
                        "type": "subscription_item_details",
                    },
                    "period": {"end": item["current_period_end"], "start": item["current_period_start"]},
                    "pretax_credit_amounts": [],
                    "pricing": {
                        "price_details": {"price": price["id"], "product": price["product"]},
                        "type": "price_details",
                        "unit_amount_decimal": price["unit_amount_decimal"],
                    },
                    "quantity": item.get("quantity", 0),
                    "subtotal": amount,
                    "taxes": [],
                }
            )
        total = sum(line["amount"] for line in lines)
        customer = self.customers[sub["customer"]]
        first = sub["items"]["data"][0]
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "account_country": "US",
            "account_name": "Mamba local Stripe",
            "account_tax_ids": None,
            "amount_due": total,
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_remaining": total,
            "amount_shipping": 0,
            "application": None,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": True,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "automatically_finalizes_at": None,
            "billing_reason": billing_reason,
            "collection_method": "charge_automatically",
            "created": now,
            "currency": sub["currency"],
            "custom_fields": None,
            "customer": sub["customer"],
            "customer_address": None,
            "customer_email": customer["email"],
            "customer_name": customer["name"],
            "customer_phone": None,
            "customer_shipping": None,
            "customer_tax_exempt": "none",
            "customer_tax_ids": [],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "due_date": None,
            "effective_at": now,
            "ending_balance": 0,
            "footer": None,
            "from_invoice": None,
            "hosted_invoice_url": f"{self.public}/invoices/{invoice_id}",
            "invoice_pdf": f"{self.public}/invoices/{invoice_id}.pdf",
            "issuer": {"type": "self"},
            "last_finalization_error": None,
            "latest_revision": None,
            "lines": {
                "object": "list",
                "data": lines,
                "has_more": False,
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None,
            "number": f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}",
            "on_behalf_of": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {"metadata": sub["metadata"], "subscription": sub["id"]},
                "type": "subscription_details",
            },
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            "period_end": first["current_period_start"],
            "period_start": first["current_period_start"],
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": None,
            "rendering": None,
            "shipping_cost": None,
            "shipping_details": None,
            "starting_balance": 0,
            "statement_descriptor": None,
            "status": "open",
            "status_transitions": {
                "finalized_at": now,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subtotal": total,
            "subtotal_excluding_tax": total,
            "test_clock": None,
            "total": total,
            "total_discount_amounts": [],
            "total_excluding_tax": total,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": now,
        }
        customer["next_invoice_sequence"] += 1
        self.invoices[invoice_id] = invoice
        sub["latest_invoice"] = invoice_id
        return invoice

    @staticmethod
    def mark_paid(invoice: dict[str, Any]) -> None:
        invoice.update(
            status="paid",
            attempted=True,
            attempt_count=invoice["attempt_count"] + 1,
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = _now()

    # --- customers ------------------------------------------------------------------------

    async def create_customer(self, request: web.Request) -> dict[str, Any]:
        return await self.new_customer(request[PARAMS])

    async def new_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer: dict[str, Any] = {
            "id": _id("cus"),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": _now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description"),
            "discount": None,
            "email": params.get("email"),
            "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "name": params.get("name"),
            "next_invoice_sequence": 1,
            "phone": params.get("phone"),
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self.customers[customer["id"]] = customer
        await self.emit("customer.created", customer)
        return customer

    async def get_customer(self, request: web.Request) -> dict[str, Any]:
        return self.customer(request.match_info["id"], "id")

    async def update_customer(self, request: web.Request) -> dict[str, Any]:
        customer = self.customer(request.match_info["id"], "id")
        params = request[PARAMS]
        previous: dict[str, Any] = {}
        for field in ("name", "email", "description", "phone"):
            if field in params:
                previous[field] = customer[field]
                customer[field] = params[field] or None
        if "metadata" in params:
            previous["metadata"] = dict(customer["metadata"])
            customer["metadata"].update(params["metadata"] or {})
        pm = (params.get("invoice_settings") or {}).get("default_payment_method")
        if pm is not None:
            if pm and pm not in self.payment_methods:
                raise missing("payment_method", pm, "invoice_settings[default_payment_method]")
            previous["invoice_settings"] = dict(customer["invoice_settings"])
            customer["invoice_settings"]["default_payment_method"] = pm or None
        await self.emit("customer.updated", customer, previous)
        return customer

    async def delete_customer(self, request: web.Request) -> dict[str, Any]:
        customer = self.customer(request.match_info["id"], "id")
        customer["deleted"] = True
        await self.emit("customer.deleted", {k: v for k, v in customer.items() if k != "deleted"})
        return {"id": customer["id"], "object": "customer", "deleted": True}

    async def list_customers(self, request: web.Request) -> dict[str, Any]:
        rows = [c for c in self.customers.values() if not c.get("deleted")]
        if request[PARAMS].get("email"):
            rows = [c for c in rows if c["email"] == request[PARAMS]["email"]]
        return _page(rows, request[PARAMS], "/v1/customers")

    async def create_balance_transaction(self, request: web.Request) -> dict[str, Any]:
        customer = self.customer(request.match_info["id"], "id")
        params = request[PARAMS]
        amount = int(required(params, "amount"))
        currency = str(required(params, "currency")).lower()
        if customer["currency"] not in (None, currency):
            raise StripeError(400, f"The customer's currency is {customer['currency']}.", param="currency")
        customer["currency"] = currency
        customer["balance"] += amount
        txn = {
            "id": _id("cbtxn"),
            "object": "customer_balance_transaction",
            "amount": amount,
            "checkout_session": None,
            "created": _now(),
            "credit_note": None,
            "currency": currency,
            "customer": customer["id"],
            "description": params.get("description"),
            "ending_balance": customer["balance"],
            "invoice": None,
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "type": "adjustment",
        }
        self.balance_transactions.append(txn)
        return txn

    async def list_balance_transactions(self, request: web.Request) -> dict[str, Any]:
        customer = self.customer(request.match_info["id"], "id")
        rows = [t for t in self.balance_transactions if t["customer"] == customer["id"]]
        return _page(rows, request[PARAMS], f"/v1/customers/{customer['id']}/balance_transactions")

    async def list_customer_payment_methods(self, request: web.Request) -> dict[str, Any]:
        customer = self.customer(request.match_info["id"], "id")
        rows = [p for p in self.payment_methods.values() if p["customer"] == customer["id"]]
        return _page(rows, request[PARAMS], f"/v1/customers/{customer['id']}/payment_methods")

    async def get_payment_method(self, request: web.Request) -> dict[str, Any]:
        pm = self.payment_methods.get(request.match_info["id"])
        if pm is None:
            raise missing("payment_method", request.match_info["id"])
        return pm

    # --- products, prices, meters --------------------------------------------------------

    async def create_product(self, request: web.Request) -> dict[str, Any]:
        product = self.new_product(request[PARAMS])
        await self.emit("product.created", product)
        return product

    async def get_product(self, request: web.Request) -> dict[str, Any]:
        product = self.products.get(request.match_info["id"])
        if product is None:
            raise missing("product", request.match_info["id"])
        return product

    async def create_price(self, request: web.Request) -> dict[str, Any]:
        price = self.new_price(request[PARAMS])
        await self.emit("price.created", price)
        return price

    async def get_price(self, request: web.Request) -> dict[str, Any]:
        return self.price(request.match_info["id"], "id")

    async def update_price(self, request: web.Request) -> dict[str, Any]:
        """Stripe lets a price's ``active``, ``nickname`` and ``metadata`` change; never its amount,
        currency or interval (a new price is made instead)."""
        price = self.price(request.match_info["id"], "id")
        params = request[PARAMS]
        if "active" in params:
            price["active"] = str(params["active"]).lower() == "true"
        if "nickname" in params:
            price["nickname"] = params["nickname"] or None
        if isinstance(params.get("metadata"), dict):
            price["metadata"] = {**price["metadata"], **params["metadata"]}
        await self.emit("price.updated", price)
        return price

    async def list_prices(self, request: web.Request) -> dict[str, Any]:
        rows = list(self.prices.values())
        lookup = request[PARAMS].get("lookup_keys")
        if lookup:
            rows = [p for p in rows if p["lookup_key"] in lookup]
        return _page(rows, request[PARAMS], "/v1/prices")

    async def create_meter(self, request: web.Request) -> dict[str, Any]:
        params = request[PARAMS]
        event_name = required(params, "event_name")
        if any(m["event_name"] == event_name for m in self.meters.values()):
            raise StripeError(400, "A meter with this event_name exists.", param="event_name")
        now = _now()
        mapping = params.get("customer_mapping") or {}
        meter = {
            "id": _id("mtr"),
            "object": "billing.meter",
            "created": now,
            "customer_mapping": {
                "event_payload_key": mapping.get("event_payload_key", "stripe_customer_id"),
                "type": "by_id",
            },
            "default_aggregation": {"formula": required(params.get("default_aggregation") or {}, "formula")},
            "display_name": required(params, "display_name"),
            "event_name": event_name,
            "event_time_window": params.get("event_time_window"),
            "livemode": False,
            "status": "active",
            "status_transitions": {"deactivated_at": None},
            "updated": now,
            "value_settings": {
                "event_payload_key": (params.get("value_settings") or {}).get("event_payload_key", "value")
            },
        }
        self.meters[meter["id"]] = meter
        return meter

    async def get_meter(self, request: web.Request) -> dict[str, Any]:
        meter = self.meters.get(request.match_info["id"])
        if meter is None:
            raise missing("billing.meter", request.match_info["id"])
        return meter

    async def list_meters(self, request: web.Request) -> dict[str, Any]:
        return _page(list(self.meters.values()), request[PARAMS], "/v1/billing/meters")

    async def create_meter_event(self, request: web.Request) -> dict[str, Any]:
        params = request[PARAMS]
        now = _now()
        event = {
            "object": "billing.meter_event",
            "created": now,
            "event_name": required(params, "event_name"),
            "identifier": params.get("identifier") or _id("mev"),
            "livemode": False,
            "payload": required(params, "payload"),
            "timestamp": int(params.get("timestamp") or now),
        }
        if not any(m["event_name"] == event["event_name"] and m["status"] == "active" for m in self.meters.values()):
            raise StripeError(400, "No active meter has this event_name.", param="event_name")
        if event["timestamp"] < now - 35 * 86400:
            raise StripeError(400, "The timestamp is too far in the past.", code="timestamp_too_far_in_past")
        first = next((e for e in self.meter_events if e["identifier"] == event["identifier"]), None)
        if first is not None:  # Stripe deduplicates by identifier (asynchronously): one event counts
            return first
        self.meter_events.append(event)
        return event

    # --- Checkout -------------------------------------------------------------------------

    async def create_session(self, request: web.Request) -> dict[str, Any]:
        params = request[PARAMS]
        mode = required(params, "mode")
        if mode not in ("payment", "setup", "subscription"):
            raise StripeError(400, f"Invalid mode: {mode}", param="mode")
        customer_id = params.get("customer")
        if customer_id:
            self.customer(customer_id)
        lines: list[tuple[dict[str, Any], int | None]] = []
        for n, line in enumerate(params.get("line_items") or []):
            if line.get("price"):
                price = self.price(line["price"], f"line_items[{n}][price]")
            else:  # inline price_data: Stripe makes a one-off, inactive price
                price = self.new_price(line.get("price_data") or {}, active=False)
            quantity = int(line["quantity"]) if line.get("quantity") else None
            metered = price["recurring"] is not None and price["recurring"]["usage_type"] == "metered"
            if metered and quantity is not None:
                raise StripeError(400, "A metered price takes no quantity.", param=f"line_items[{n}][quantity]")
            if mode == "payment" and price["recurring"] is not None:
                raise StripeError(400, "A payment session takes one-time prices.", param=f"line_items[{n}][price]")
            if mode == "subscription" and price["recurring"] is None:
                raise StripeError(400, "A subscription session takes recurring prices.", param=f"line_items[{n}]")
            lines.append((price, None if metered else (quantity or 1)))
        if mode != "setup" and not lines:
            raise StripeError(400, "Missing required param: line_items.", code="parameter_missing", param="line_items")
        now = _now()
        amount = sum(price["unit_amount"] * (quantity or 0) for price, quantity in lines)
        session_id = _id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "adaptive_pricing": None,
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": amount,
            "amount_total": amount,
            "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
            "billing_address_collection": None,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "client_secret": None,
            "consent": None,
            "consent_collection": None,
            "created": now,
            "currency": lines[0][0]["currency"] if lines else None,
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": customer_id,
            "customer_creation": None if customer_id else "if_required",
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "discounts": [],
            "expires_at": now + CHECKOUT_TTL,
            "invoice": None,
            "invoice_creation": None,
            "livemode": False,
            "locale": None,
            "metadata": params.get("metadata") or {},
            "mode": mode,
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "always",
            "payment_method_configuration_details": None,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "payment_status": "no_payment_required" if mode == "setup" else "unpaid",
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "saved_payment_method_options": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": None,
            "subscription": None,
            "success_url": params.get("success_url"),
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted_page",
            "url": f"{self.public}/checkout/{session_id}",
            "wallet_options": None,
        }
        self.sessions[session_id] = session
        self.session_state[session_id] = {
            "lines": lines,
            "subscription_metadata": (params.get("subscription_data") or {}).get("metadata") or {},
        }
        return session

    async def get_session(self, request: web.Request) -> dict[str, Any]:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            raise missing("checkout.session", request.match_info["id"])
        return session

    async def checkout_page(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            raise web.HTTPNotFound(text="no such checkout session")
        rows = "".join(
            f"<li>{html.escape(price['id'])} x {html.escape(str(quantity or 'metered'))}</li>"
            for price, quantity in self.session_state[session["id"]]["lines"]
        )
        done = session["status"] == "complete"
        form = (
            "<p>Paid. <a href='{}'>Back to the panel</a></p>".format(html.escape(session["success_url"] or "/"))
            if done
            else f"<form method='post' action='/checkout/{session['id']}/pay'><button type='submit'>Pay</button></form>"
        )
        body = (
            "<!doctype html><title>Local Checkout</title><h1>Local Checkout (test mode)</h1>"
            f"<p>Customer {html.escape(session['customer'] or '')}</p><ul>{rows}</ul>{form}"
            "<p><small>The panel's local Stripe; test card visa 4242.</small></p>"
        )
        return web.Response(text=body, content_type="text/html")

    async def checkout_pay(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            raise web.HTTPNotFound(text="no such checkout session")
        if session["status"] == "open":
            await self.complete(session)
        if request.headers.get("Accept", "").startswith("application/json"):
            return web.json_response(session)
        raise web.HTTPSeeOther(location=f"/checkout/{session['id']}")

    async def complete(self, session: dict[str, Any]) -> None:
        """What Stripe does when the customer pays: a card, then (subscription mode) the
        subscription and its first invoice, paid; the events in Stripe's order."""
        state = self.session_state[session["id"]]
        customer_id = session["customer"]
        if customer_id is None:
            customer_id = (await self.new_customer({"email": session["customer_email"]}))["id"]
            session["customer"] = customer_id
        pm = self.new_payment_method(customer_id)
        customer = self.customers[customer_id]
        previous = {"invoice_settings": dict(customer["invoice_settings"])}
        customer["invoice_settings"]["default_payment_method"] = pm["id"]
        await self.emit("payment_method.attached", pm)
        await self.emit("customer.updated", customer, previous)
        session["customer_details"] = {
            "address": None,
            "business_name": None,
            "email": customer["email"],
            "individual_name": None,
            "name": customer["name"],
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        if session["mode"] == "subscription":
            sub = self.new_subscription(customer_id, state["lines"], dict(state["subscription_metadata"]), pm["id"])
            invoice = self.new_invoice(sub, "subscription_create")
            self.mark_paid(invoice)
            session.update(status="complete", payment_status="paid", subscription=sub["id"], invoice=invoice["id"])
            await self.emit("customer.subscription.created", sub)
            await self.emit("invoice.created", invoice)
            await self.emit("invoice.finalized", invoice)
            await self.emit("invoice.paid", invoice)
        elif session["mode"] == "payment":
            session.update(status="complete", payment_status="paid", payment_intent=_id("pi"))
        else:  # setup: the card is saved, nothing is paid
            session.update(status="complete", setup_intent=_id("seti"))
        await self.emit("checkout.session.completed", session)

    # --- portal ---------------------------------------------------------------------------

    async def create_portal(self, request: web.Request) -> dict[str, Any]:
        params = request[PARAMS]
        customer = self.customer(required(params, "customer"))
        flow = None
        flow_data = params.get("flow_data")
        if flow_data is not None:
            kind = required(flow_data, "type")
            known = (
                "payment_method_update",
                "subscription_cancel",
                "subscription_update",
                "subscription_update_confirm",
            )
            if kind not in known:
                raise StripeError(400, f"Invalid flow_data[type]: {kind}", param="flow_data[type]")
            flow = {
                "after_completion": {"hosted_confirmation": None, "redirect": None, "type": "portal_homepage"},
                "subscription_cancel": None,
                "subscription_update": None,
                "subscription_update_confirm": None,
                "type": kind,
            }
            if kind in ("subscription_cancel", "subscription_update"):
                # Stripe requires the subscription the flow acts on, and it must be the customer's.
                param = f"flow_data[{kind}][subscription]"
                sub_id = (flow_data.get(kind) or {}).get("subscription")
                if not sub_id:
                    raise StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)
                sub = self.subscriptions.get(sub_id)
                if sub is None or sub["customer"] != customer["id"]:
                    raise missing("subscription", sub_id, param)
                if sub["status"] == "canceled":
                    raise StripeError(400, "The subscription is canceled.", param=param)
                flow[kind] = (
                    {"retention": None, "subscription": sub_id}
                    if kind == "subscription_cancel"
                    else {"subscription": sub_id}
                )
        portal_id = _id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "configuration": params.get("configuration") or self.portal_configuration,
            "created": _now(),
            "customer": customer["id"],
            "flow": flow,
            "livemode": False,
            "locale": params.get("locale"),
            "on_behalf_of": None,
            "return_url": params.get("return_url"),
            "url": f"{self.public}/portal/{portal_id}",
        }
        self.portal_sessions[portal_id] = portal
        return portal

    async def portal_page(self, request: web.Request) -> web.Response:
        portal = self.portal_sessions.get(request.match_info["id"])
        if portal is None:
            raise web.HTTPNotFound(text="no such portal session")
        subs = [s for s in self.subscriptions.values() if s["customer"] == portal["customer"]]
        rows = "".join(
            f"<li>{html.escape(s['id'])}: {html.escape(s['status'])} "
            f"<form method='post' action='/portal/{portal['id']}/cancel/{html.escape(s['id'])}' style='display:inline'>"
            "<button>Cancel</button></form></li>"
            for s in subs
            if s["status"] != "canceled"
        )
        body = (
            "<!doctype html><title>Local billing portal</title><h1>Billing portal (test mode)</h1>"
            f"<ul>{rows or '<li>No subscription</li>'}</ul>"
            f"<p><a href='{html.escape(portal['return_url'] or '/')}'>Return to the panel</a></p>"
        )
        return web.Response(text=body, content_type="text/html")

    async def portal_cancel(self, request: web.Request) -> web.Response:
        portal = self.portal_sessions.get(request.match_info["id"])
        sub = self.subscriptions.get(request.match_info["sub"])
        if portal is None or sub is None or sub["customer"] != portal["customer"]:
            raise web.HTTPNotFound(text="no such portal session or subscription")
        await self.cancel(sub)
        raise web.HTTPSeeOther(location=f"/portal/{portal['id']}")

    # --- subscriptions and invoices -------------------------------------------------------

    async def get_subscription(self, request: web.Request) -> dict[str, Any]:
        return self.subscription(request.match_info["id"])

    async def list_subscriptions(self, request: web.Request) -> dict[str, Any]:
        params = request[PARAMS]
        rows = list(self.subscriptions.values())
        if params.get("customer"):
            rows = [s for s in rows if s["customer"] == params["customer"]]
        status = params.get("status")
        if status != "all":  # Stripe lists the not-canceled ones unless asked
            rows = [s for s in rows if (s["status"] == status if status else s["status"] != "canceled")]
        return _page(rows, params, "/v1/subscriptions")

    async def update_subscription(self, request: web.Request) -> dict[str, Any]:
        sub = self.subscription(request.match_info["id"])
        params = request[PARAMS]
        if sub["status"] == "canceled":
            raise StripeError(400, "A canceled subscription can only update its metadata.")
        previous: dict[str, Any] = {}
        if "cancel_at_period_end" in params:
            wanted = params["cancel_at_period_end"] == "true"
            previous["cancel_at_period_end"] = sub["cancel_at_period_end"]
            previous["cancel_at"] = sub["cancel_at"]
            end = max(i["current_period_end"] for i in sub["items"]["data"])
            sub.update(cancel_at_period_end=wanted, cancel_at=end if wanted else None)
        if "metadata" in params:
            previous["metadata"] = dict(sub["metadata"])
            sub["metadata"].update(params["metadata"] or {})
        await self.emit("customer.subscription.updated", sub, previous)
        return sub

    async def delete_subscription(self, request: web.Request) -> dict[str, Any]:
        sub = self.subscription(request.match_info["id"])
        if sub["status"] == "canceled":
            raise StripeError(400, "The subscription is already canceled.")
        return await self.cancel(sub)

    async def cancel(self, sub: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        sub.update(status="canceled", canceled_at=now, ended_at=now)
        sub["cancellation_details"]["reason"] = "cancellation_requested"
        await self.emit("customer.subscription.deleted", sub)
        return sub

    async def list_invoices(self, request: web.Request) -> dict[str, Any]:
        params = request[PARAMS]
        rows = list(self.invoices.values())
        for field in ("customer", "status"):
            if params.get(field):
                rows = [i for i in rows if i[field] == params[field]]
        if params.get("subscription"):
            rows = [i for i in rows if i["parent"]["subscription_details"]["subscription"] == params["subscription"]]
        return _page(rows, params, "/v1/invoices")

    async def get_invoice(self, request: web.Request) -> dict[str, Any]:
        invoice = self.invoices.get(request.match_info["id"])
        if invoice is None:
            raise missing("invoice", request.match_info["id"])
        return invoice

    async def invoice_page(self, request: web.Request) -> web.Response:
        invoice = self.invoices.get(request.match_info["id"].removesuffix(".pdf"))
        if invoice is None:
            raise web.HTTPNotFound(text="no such invoice")
        body = (
            f"<!doctype html><title>Invoice {html.escape(invoice['number'])}</title>"
            f"<h1>Invoice {html.escape(invoice['number'])} (test mode)</h1>"
            f"<p>{invoice['amount_due'] / 100:.2f} {html.escape(invoice['currency'].upper())}: "
            f"{html.escape(invoice['status'])}</p>"
        )
        return web.Response(text=body, content_type="text/html")

    # --- dunning helpers (no renewals or test clocks here) ---------------------------------

    async def _set_status(self, sub: dict[str, Any], status: str) -> dict[str, Any]:
        previous = {"status": sub["status"]}
        sub["status"] = status
        if status == "canceled":
            sub.update(canceled_at=sub["canceled_at"] or _now(), ended_at=sub["ended_at"] or _now())
        return previous

    async def payment_failed(self, request: web.Request) -> web.Response:
        sub = self._helper_subscription(request)
        invoice = self.new_invoice(sub, "subscription_cycle")
        invoice.update(attempted=True, attempt_count=1, next_payment_attempt=_now() + 86400)
        previous = await self._set_status(sub, "past_due")
        await self.emit("invoice.created", invoice)
        await self.emit("invoice.finalized", invoice)
        event = await self.emit("invoice.payment_failed", invoice)
        await self.emit("customer.subscription.updated", sub, previous)
        return web.json_response({"subscription": sub, "invoice": invoice, "event": event["id"]})

    async def pay(self, request: web.Request) -> web.Response:
        sub = self._helper_subscription(request)
        open_ = [
            i
            for i in self.invoices.values()
            if i["status"] == "open" and i["parent"]["subscription_details"]["subscription"] == sub["id"]
        ]
        if open_:
            invoice = max(open_, key=lambda i: i["created"])
        else:
            invoice = self.new_invoice(sub, "subscription_cycle")
            await self.emit("invoice.created", invoice)
            await self.emit("invoice.finalized", invoice)
        self.mark_paid(invoice)
        previous = await self._set_status(sub, "active")
        event = await self.emit("invoice.paid", invoice)
        await self.emit("customer.subscription.updated", sub, previous)
        return web.json_response({"subscription": sub, "invoice": invoice, "event": event["id"]})

    async def set_status(self, request: web.Request) -> web.Response:
        sub = self._helper_subscription(request)
        status = str((await request.json())["status"])
        allowed = ("active", "canceled", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid")
        if status not in allowed:
            raise web.HTTPBadRequest(text=f"status is one of {', '.join(allowed)}")
        previous = await self._set_status(sub, status)
        kind = "customer.subscription.deleted" if status == "canceled" else "customer.subscription.updated"
        event = await self.emit(kind, sub, None if status == "canceled" else previous)
        return web.json_response({"subscription": sub, "event": event["id"]})

    def _helper_subscription(self, request: web.Request) -> dict[str, Any]:
        sub = self.subscriptions.get(request.match_info["id"])
        if sub is None:
            raise web.HTTPNotFound(text="no such subscription")
        return sub

    async def list_sent_events(self, request: web.Request) -> web.Response:
        return web.json_response({"data": self.sent_events})

    async def list_meter_events(self, request: web.Request) -> web.Response:
        return web.json_response({"data": self.meter_events})

    async def list_events(self, request: web.Request) -> dict[str, Any]:
        params = request[PARAMS]
        rows = self.sent_events
        if params.get("type"):
            rows = [e for e in rows if e["type"] == params["type"]]
        return _page(rows, params, "/v1/events")

    async def get_event(self, request: web.Request) -> dict[str, Any]:
        found = next((e for e in self.sent_events if e["id"] == request.match_info["id"]), None)
        if found is None:
            raise missing("event", request.match_info["id"])
        return found

    async def unknown(self, request: web.Request) -> dict[str, Any]:
        raise StripeError(404, f"Unrecognized request URL ({request.method}: {request.path}).")

    # --- the app ----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.api])
        app.cleanup_ctx.append(self._client)
        r = app.router
        api: list[tuple[str, str, Callable[[web.Request], Awaitable[dict[str, Any]]]]] = [
            ("POST", "/v1/customers", self.create_customer),
            ("GET", "/v1/customers", self.list_customers),
            ("GET", "/v1/customers/{id}", self.get_customer),
            ("POST", "/v1/customers/{id}", self.update_customer),
            ("DELETE", "/v1/customers/{id}", self.delete_customer),
            ("POST", "/v1/customers/{id}/balance_transactions", self.create_balance_transaction),
            ("GET", "/v1/customers/{id}/balance_transactions", self.list_balance_transactions),
            ("GET", "/v1/customers/{id}/payment_methods", self.list_customer_payment_methods),
            ("GET", "/v1/payment_methods/{id}", self.get_payment_method),
            ("POST", "/v1/products", self.create_product),
            ("GET", "/v1/products/{id}", self.get_product),
            ("POST", "/v1/prices", self.create_price),
            ("GET", "/v1/prices", self.list_prices),
            ("GET", "/v1/prices/{id}", self.get_price),
            ("POST", "/v1/prices/{id}", self.update_price),
            ("POST", "/v1/billing/meters", self.create_meter),
            ("GET", "/v1/billing/meters", self.list_meters),
            ("GET", "/v1/billing/meters/{id}", self.get_meter),
            ("POST", "/v1/billing/meter_events", self.create_meter_event),
            ("POST", "/v1/checkout/sessions", self.create_session),
            ("GET", "/v1/checkout/sessions/{id}", self.get_session),
            ("POST", "/v1/billing_portal/sessions", self.create_portal),
            ("GET", "/v1/subscriptions", self.list_subscriptions),
            ("GET", "/v1/subscriptions/{id}", self.get_subscription),
            ("POST", "/v1/subscriptions/{id}", self.update_subscription),
            ("DELETE", "/v1/subscriptions/{id}", self.delete_subscription),
            ("GET", "/v1/invoices", self.list_invoices),
            ("GET", "/v1/invoices/{id}", self.get_invoice),
            ("GET", "/v1/events", self.list_events),
            ("GET", "/v1/events/{id}", self.get_event),
        ]
        for method, path, handler in api:
            r.add_route(method, path, handler)  # type: ignore[arg-type]  # the middleware shapes the reply
        r.add_route("*", "/v1/{tail:.*}", self.unknown)  # type: ignore[arg-type]
        r.add_get("/checkout/{id}", self.checkout_page)
        r.add_post("/checkout/{id}/pay", self.checkout_pay)
        r.add_get("/portal/{id}", self.portal_page)
        r.add_post("/portal/{id}/cancel/{sub}", self.portal_cancel)
        r.add_get("/invoices/{id}", self.invoice_page)
        r.add_post("/_standin/subscriptions/{id}/payment_failed", self.payment_failed)
        r.add_post("/_standin/subscriptions/{id}/pay", self.pay)
        r.add_post("/_standin/subscriptions/{id}/status", self.set_status)
        r.add_get("/_standin/meter_events", self.list_meter_events)
        r.add_get("/_standin/events", self.list_sent_events)
        return app

    async def _client(self, app: web.Application) -> Any:
        self.http = aiohttp.ClientSession()
        yield
        await self.http.close()


def _json(status: int, body: Any, request_id: str) -> web.Response:
    response = web.json_response(body, status=status)
    response.headers["Request-Id"] = request_id
    response.headers["Stripe-Version"] = API_VERSION
    return response


def _idempotency_error(key: str | None, why: str) -> dict[str, Any]:
    message = (
        f"Keys for idempotent requests can only be used with the same parameters they were first used with. "
        f"Try using a key other than '{key}' if you meant to execute a different request."
        if why == "different"
        else f"There is currently another in-progress request using this Idempotent Key: '{key}'. Try again later."
    )
    return {"error": {"type": "idempotency_error", "message": message}}


async def start(standin: StandIn, port: int) -> web.AppRunner:
    """Serve ``standin`` on 127.0.0.1:``port``; the caller cleans up the runner."""
    runner = web.AppRunner(standin.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, port).start()
    return runner


async def serve(port: int, webhook_url: str | None, secret: str | None, exit_with_parent: bool = False) -> None:
    standin = StandIn(f"http://{HOST}:{port}", webhook_url, secret)
    runner = await start(standin, port)
    print(f"stripe stand-in on http://{HOST}:{port} (API {API_VERSION})", flush=True)
    parent = os.getppid()
    try:
        # Exit when the launcher is gone (even SIGKILLed): its re-parented child must not linger.
        while not exit_with_parent or os.getppid() == parent:
            await asyncio.sleep(0.5)
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webhook", default=None, help="the panel's /webhooks/stripe URL")
    parser.add_argument("--exit-with-parent", action="store_true", help="stop when the parent process is gone")
    args = parser.parse_args()
    secret = os.environ.get("STRIPE_WEBHOOK_SECRET")
    asyncio.run(serve(args.port, args.webhook, secret, args.exit_with_parent))


if __name__ == "__main__":
    main()
