"""The local Stripe: localstripe, plus a stand-in for what localstripe lacks (docs/billing.md
"Local mode"). Local only; production talks to api.stripe.com.

One process, one asyncio loop, two listeners on 127.0.0.1:

* **localstripe** (``--localstripe-port``): customers, plans, subscriptions, invoices,
  payment methods and its own signed webhooks. Its state is kept in memory only (the
  ``/tmp/localstripe.pickle`` dump is switched off, so parallel stacks never share it).
* **the stand-in** (``--port``), the panel's ``STRIPE_API_BASE``. It serves, in Stripe's
  documented object shapes:

  - ``/v1/prices``: a price is also created in localstripe as a legacy plan *with the same
    id*, so a subscription's item names the price id the panel maps to its plan;
  - ``/v1/checkout/sessions`` with a local page (``/checkout/<id>``) where you press **Pay**:
    the card ``pm_card_visa`` is attached, the subscription is created in localstripe (its
    flat price), and a signed ``checkout.session.completed`` goes to the panel;
  - ``/v1/billing_portal/sessions`` with a local page (``/portal/<id>``) that can cancel;
  - ``/v1/billing/meters`` and ``/v1/billing/meter_events`` (identifiers deduplicated as
    Stripe does); ``/v1/customers/<id>/balance_transactions``;
  - dunning, which localstripe cannot do (no renewals, no test clocks):
    ``POST /_standin/subscriptions/<id>/payment_failed`` (the subscription becomes
    ``past_due`` and ``invoice.payment_failed`` is sent), ``.../pay`` (``active`` and
    ``invoice.paid``) and ``.../status`` (any status, ``customer.subscription.updated``).
    The status is an overlay on localstripe's subscription, applied when it is retrieved.

  Everything else is forwarded to localstripe. Every event the stand-in sends is signed with
  the webhook secret exactly as Stripe signs (``t=<ts>,v1=<hmac-sha256>``).

Run: ``python -m local.stripe_standin --port P --localstripe-port L --webhook URL`` with the
secret in ``STRIPE_WEBHOOK_SECRET``; ``local.launcher`` does this for ``make run``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import html
import json
import os
import secrets
import time
from typing import Any

import aiohttp
from aiohttp import web

API_VERSION = "2026-10-28.endive"
HOST = "127.0.0.1"


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _form(data: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in data.items()}


def nested(flat: dict[str, str], prefix: str) -> dict[str, str]:
    """``a[b][c]=v`` keys under ``prefix`` as ``{"b][c": v}`` → ``{"b": ..}`` (one level)."""
    found: dict[str, str] = {}
    for key, value in flat.items():
        if key.startswith(prefix + "["):
            found[key[len(prefix) + 1 :].split("]", 1)[0]] = value
    return found


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class StandIn:
    def __init__(self, localstripe: str, public: str, webhook_url: str | None, secret: str | None) -> None:
        self.localstripe = localstripe.rstrip("/")
        self.public = public.rstrip("/")
        self.webhook_url = webhook_url
        self.secret = secret
        self.prices: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.meters: dict[str, dict[str, Any]] = {}
        self.meter_events: list[dict[str, Any]] = []
        self.balance_transactions: list[dict[str, Any]] = []
        self.status_overlay: dict[str, str] = {}
        self.sent_events: list[dict[str, Any]] = []
        self.http: aiohttp.ClientSession | None = None

    # --- plumbing ------------------------------------------------------------------------

    async def ls(self, method: str, path: str, auth: str | None, data: dict[str, str] | None = None) -> Any:
        """Call localstripe; return its JSON (raise on an error answer)."""
        assert self.http is not None
        headers = {"Authorization": auth or "Bearer sk_test_standin"}
        async with self.http.request(method, f"{self.localstripe}{path}", data=data, headers=headers) as r:
            body = await r.json(content_type=None)
            if r.status >= 400:  # the same status and body as localstripe gave
                upstream = type("Upstream", (web.HTTPException,), {"status_code": r.status})
                raise upstream(text=json.dumps(body), content_type="application/json")
            return body

    async def emit(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Send one signed snapshot event to the panel (as Stripe does: one POST, raw JSON)."""
        event = {
            "id": _id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": obj},
        }
        self.sent_events.append(event)
        if self.webhook_url and self.secret and self.http is not None:
            payload = json.dumps(event, indent=2).encode()
            headers = {
                "Content-Type": "application/json",
                "Stripe-Signature": sign(payload, self.secret, event["created"]),
            }
            try:
                async with self.http.post(self.webhook_url, data=payload, headers=headers) as r:
                    event["delivery_status"] = r.status
            except aiohttp.ClientError as exc:
                event["delivery_status"] = f"failed: {type(exc).__name__}"
        return event

    # --- prices ----------------------------------------------------------------------------

    async def create_price(self, request: web.Request) -> web.Response:
        form = _form(await request.post())
        # A lookup key gives a stable id (price_<lookup_key>), so a re-run of the setup finds it.
        price_id = f"price_{form['lookup_key']}" if form.get("lookup_key") else _id("price")
        if price_id in self.prices:
            return _error(400, f"A price with lookup_key {form.get('lookup_key')!r} exists.")
        recurring = nested(form, "recurring")
        product = (
            form.get("product")
            or (
                await self.ls(
                    "POST",
                    "/v1/products",
                    request.headers.get("Authorization"),
                    {"name": form.get("product_data[name]", price_id)},
                )
            )["id"]
        )
        price = {
            "id": price_id,
            "object": "price",
            "active": True,
            "currency": form.get("currency", "usd"),
            "unit_amount": int(form.get("unit_amount", "0")),
            "product": product,
            "lookup_key": form.get("lookup_key"),
            "type": "recurring" if recurring else "one_time",
            "recurring": {
                "interval": recurring.get("interval", "month"),
                "usage_type": recurring.get("usage_type", "licensed"),
                "meter": recurring.get("meter"),
            }
            if recurring
            else None,
            "livemode": False,
        }
        if recurring.get("usage_type", "licensed") == "licensed":
            await self.ls(
                "POST",
                "/v1/plans",
                request.headers.get("Authorization"),
                {
                    "id": price_id,
                    "amount": str(price["unit_amount"]),
                    "currency": price["currency"],
                    "interval": price["recurring"]["interval"] if price["recurring"] else "month",
                    "product": product,
                },
            )
        self.prices[price_id] = price
        return web.json_response(price)

    async def get_price(self, request: web.Request) -> web.Response:
        price = self.prices.get(request.match_info["id"])
        if price is None:
            return _missing("price", request.match_info["id"])
        return web.json_response(price)

    async def list_prices(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"object": "list", "data": list(self.prices.values()), "has_more": False, "url": "/v1/prices"}
        )

    # --- Checkout -------------------------------------------------------------------------

    async def create_session(self, request: web.Request) -> web.Response:
        form = _form(await request.post())
        items = []
        amount_total = 0
        n = 0
        while f"line_items[{n}][price]" in form or f"line_items[{n}][price_data][unit_amount]" in form:
            quantity = form.get(f"line_items[{n}][quantity]")
            if f"line_items[{n}][price]" in form:
                items.append({"price": form[f"line_items[{n}][price]"], "quantity": quantity})
            else:  # inline price_data (a one-time payment, e.g. buying credit)
                unit = int(form[f"line_items[{n}][price_data][unit_amount]"])
                amount_total += unit * int(quantity or 1)
                items.append(
                    {
                        "price": f"inline {unit} {form.get(f'line_items[{n}][price_data][currency]', 'usd')}",
                        "quantity": quantity,
                    }
                )
            n += 1
        session_id = _id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
            "customer": form.get("customer"),
            "client_reference_id": form.get("client_reference_id"),
            "metadata": nested(form, "metadata"),
            "subscription": None,
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "url": f"{self.public}/checkout/{session_id}",
            "amount_total": amount_total or None,
            "currency": form.get("line_items[0][price_data][currency]", "usd"),
            "livemode": False,
            "ui_mode": "hosted_page",
            "_line_items": items,
            "_subscription_metadata": {
                k.split("][", 1)[1].rstrip("]"): v
                for k, v in form.items()
                if k.startswith("subscription_data[metadata][")
            },
            "_auth": request.headers.get("Authorization"),
        }
        self.sessions[session_id] = session
        return web.json_response(_public(session))

    async def get_session(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return _missing("checkout.session", request.match_info["id"])
        return web.json_response(_public(session))

    async def checkout_page(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            raise web.HTTPNotFound(text="no such checkout session")
        rows = "".join(
            f"<li>{html.escape(i['price'])} x {html.escape(str(i['quantity'] or 'metered'))}</li>"
            for i in session["_line_items"]
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
            "<p><small>The panel's local Stripe stand-in; card pm_card_visa.</small></p>"
        )
        return web.Response(text=body, content_type="text/html")

    async def checkout_pay(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            raise web.HTTPNotFound(text="no such checkout session")
        if session["status"] != "complete" and session["mode"] == "payment":
            session.update(status="complete", payment_status="paid")
            await self.emit("checkout.session.completed", _public(session))
        if session["status"] != "complete":
            auth = session["_auth"]
            customer = session["customer"]
            await self.ls("POST", "/v1/payment_methods/pm_card_visa/attach", auth, {"customer": customer})
            await self.ls(
                "POST", f"/v1/customers/{customer}", auth, {"invoice_settings[default_payment_method]": "pm_card_visa"}
            )
            flat = [i["price"] for i in session["_line_items"] if i["quantity"]]
            data = {"customer": customer, "items[0][plan]": flat[0]}
            data.update({f"metadata[{k}]": v for k, v in session["_subscription_metadata"].items()})
            sub = await self.ls("POST", "/v1/subscriptions", auth, data)
            session.update(status="complete", payment_status="paid", subscription=sub["id"])
            await self.emit("checkout.session.completed", _public(session))
        if request.headers.get("Accept", "").startswith("application/json"):
            return web.json_response(_public(session))
        raise web.HTTPSeeOther(location=f"/checkout/{session['id']}")

    # --- portal ---------------------------------------------------------------------------

    async def create_portal(self, request: web.Request) -> web.Response:
        form = _form(await request.post())
        portal_id = _id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "customer": form.get("customer"),
            "return_url": form.get("return_url"),
            "flow": {"type": form["flow_data[type]"]} if "flow_data[type]" in form else None,
            "created": int(time.time()),
            "livemode": False,
            "url": f"{self.public}/portal/{portal_id}",
            "_auth": request.headers.get("Authorization"),
        }
        self.portal_sessions[portal_id] = portal
        return web.json_response(_public(portal))

    async def portal_page(self, request: web.Request) -> web.Response:
        portal = self.portal_sessions.get(request.match_info["id"])
        if portal is None:
            raise web.HTTPNotFound(text="no such portal session")
        subs = await self.ls("GET", f"/v1/customers/{portal['customer']}/subscriptions", portal["_auth"])
        rows = "".join(
            f"<li>{html.escape(s['id'])}: {html.escape(self.status_overlay.get(s['id'], s['status']))} "
            f"<form method='post' action='/portal/{portal['id']}/cancel/{html.escape(s['id'])}' style='display:inline'>"
            "<button>Cancel</button></form></li>"
            for s in subs.get("data", [])
        )
        body = (
            "<!doctype html><title>Local billing portal</title><h1>Billing portal (test mode)</h1>"
            f"<ul>{rows or '<li>No subscription</li>'}</ul>"
            f"<p><a href='{html.escape(portal['return_url'] or '/')}'>Return to the panel</a></p>"
        )
        return web.Response(text=body, content_type="text/html")

    async def portal_cancel(self, request: web.Request) -> web.Response:
        portal = self.portal_sessions.get(request.match_info["id"])
        if portal is None:
            raise web.HTTPNotFound(text="no such portal session")
        await self.ls("DELETE", f"/v1/subscriptions/{request.match_info['sub']}", portal["_auth"])
        raise web.HTTPSeeOther(location=f"/portal/{portal['id']}")

    # --- meters, balance ------------------------------------------------------------------

    async def create_meter(self, request: web.Request) -> web.Response:
        form = _form(await request.post())
        meter = {
            "id": _id("mtr"),
            "object": "billing.meter",
            "display_name": form.get("display_name"),
            "event_name": form.get("event_name"),
            "default_aggregation": {"formula": form.get("default_aggregation[formula]", "sum")},
            "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
            "value_settings": {"event_payload_key": "value"},
            "status": "active",
            "livemode": False,
        }
        if any(m["event_name"] == meter["event_name"] for m in self.meters.values()):
            return _error(400, "A meter with this event_name exists.")
        self.meters[meter["id"]] = meter
        return web.json_response(meter)

    async def list_meters(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": list(self.meters.values()), "has_more": False})

    async def create_meter_event(self, request: web.Request) -> web.Response:
        form = _form(await request.post())
        event = {
            "object": "billing.meter_event",
            "event_name": form.get("event_name"),
            "identifier": form.get("identifier") or _id("mev"),
            "payload": nested(form, "payload"),
            "timestamp": int(form.get("timestamp") or time.time()),
            "created": int(time.time()),
            "livemode": False,
        }
        if not any(m["event_name"] == event["event_name"] for m in self.meters.values()):
            return _error(400, "No active meter has this event_name.")
        if event["timestamp"] < time.time() - 35 * 86400:
            return _error(400, "timestamp_too_far_in_past")
        first = next((e for e in self.meter_events if e["identifier"] == event["identifier"]), None)
        if first is not None:  # Stripe deduplicates by identifier (asynchronously): one event counts
            return web.json_response(first)
        self.meter_events.append(event)
        return web.json_response(event)

    async def list_meter_events(self, request: web.Request) -> web.Response:
        return web.json_response({"data": self.meter_events})

    async def create_balance_transaction(self, request: web.Request) -> web.Response:
        form = _form(await request.post())
        txn = {
            "id": _id("cbtxn"),
            "object": "customer_balance_transaction",
            "customer": request.match_info["id"],
            "amount": int(form.get("amount", "0")),
            "currency": form.get("currency", "usd"),
            "description": form.get("description"),
            "type": "adjustment",
            "created": int(time.time()),
            "livemode": False,
        }
        self.balance_transactions.append(txn)
        return web.json_response(txn)

    # --- subscriptions: the status overlay and dunning --------------------------------------

    async def get_subscription(self, request: web.Request) -> web.Response:
        sub = await self.ls(
            "GET", f"/v1/subscriptions/{request.match_info['id']}", request.headers.get("Authorization")
        )
        if sub["id"] in self.status_overlay:
            sub["status"] = self.status_overlay[sub["id"]]
        return web.json_response(sub)

    async def _subscription(self, sub_id: str) -> dict[str, Any]:
        sub: dict[str, Any] = await self.ls("GET", f"/v1/subscriptions/{sub_id}", None)
        if sub_id in self.status_overlay:
            sub["status"] = self.status_overlay[sub_id]
        return sub

    def _invoice(self, sub: dict[str, Any], status: str, **extra: Any) -> dict[str, Any]:
        invoice_id = _id("in")
        return {
            "id": invoice_id,
            "object": "invoice",
            "customer": sub["customer"],
            "status": status,
            "billing_reason": "subscription_cycle",
            "hosted_invoice_url": f"{self.public}/invoices/{invoice_id}",
            "invoice_pdf": f"{self.public}/invoices/{invoice_id}.pdf",
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": sub["id"], "metadata": sub.get("metadata") or {}},
            },
            "livemode": False,
            **extra,
        }

    async def payment_failed(self, request: web.Request) -> web.Response:
        sub_id = request.match_info["id"]
        self.status_overlay[sub_id] = "past_due"
        sub = await self._subscription(sub_id)
        await self.emit("customer.subscription.updated", sub)
        event = await self.emit(
            "invoice.payment_failed",
            self._invoice(sub, "open", attempt_count=1, next_payment_attempt=int(time.time()) + 86400),
        )
        return web.json_response({"subscription": sub, "event": event["id"]})

    async def pay(self, request: web.Request) -> web.Response:
        sub_id = request.match_info["id"]
        self.status_overlay[sub_id] = "active"
        sub = await self._subscription(sub_id)
        event = await self.emit("invoice.paid", self._invoice(sub, "paid"))
        await self.emit("customer.subscription.updated", sub)
        return web.json_response({"subscription": sub, "event": event["id"]})

    async def set_status(self, request: web.Request) -> web.Response:
        sub_id = request.match_info["id"]
        body = await request.json()
        self.status_overlay[sub_id] = str(body["status"])
        sub = await self._subscription(sub_id)
        event = await self.emit("customer.subscription.updated", sub)
        return web.json_response({"subscription": sub, "event": event["id"]})

    async def list_sent_events(self, request: web.Request) -> web.Response:
        return web.json_response({"data": self.sent_events})

    # --- everything else: localstripe ------------------------------------------------------

    async def forward(self, request: web.Request) -> web.Response:
        assert self.http is not None
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "content-type", "idempotency-key", "stripe-version")
        }
        body = await request.read()
        url = f"{self.localstripe}{request.path_qs}"
        async with self.http.request(request.method, url, data=body or None, headers=headers) as r:
            payload = await r.read()
            return web.Response(body=payload, status=r.status, content_type="application/json")

    def app(self) -> web.Application:
        app = web.Application()
        app.cleanup_ctx.append(self._client)
        r = app.router
        r.add_post("/v1/prices", self.create_price)
        r.add_get("/v1/prices", self.list_prices)
        r.add_get("/v1/prices/{id}", self.get_price)
        r.add_post("/v1/checkout/sessions", self.create_session)
        r.add_get("/v1/checkout/sessions/{id}", self.get_session)
        r.add_get("/checkout/{id}", self.checkout_page)
        r.add_post("/checkout/{id}/pay", self.checkout_pay)
        r.add_post("/v1/billing_portal/sessions", self.create_portal)
        r.add_get("/portal/{id}", self.portal_page)
        r.add_post("/portal/{id}/cancel/{sub}", self.portal_cancel)
        r.add_post("/v1/billing/meters", self.create_meter)
        r.add_get("/v1/billing/meters", self.list_meters)
        r.add_post("/v1/billing/meter_events", self.create_meter_event)
        r.add_post("/v1/customers/{id}/balance_transactions", self.create_balance_transaction)
        r.add_get("/v1/subscriptions/{id}", self.get_subscription)
        r.add_post("/_standin/subscriptions/{id}/payment_failed", self.payment_failed)
        r.add_post("/_standin/subscriptions/{id}/pay", self.pay)
        r.add_post("/_standin/subscriptions/{id}/status", self.set_status)
        r.add_get("/_standin/meter_events", self.list_meter_events)
        r.add_get("/_standin/events", self.list_sent_events)
        r.add_route("*", "/{tail:.*}", self.forward)
        return app

    async def _client(self, app: web.Application) -> Any:
        self.http = aiohttp.ClientSession()
        yield
        await self.http.close()


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _error(status: int, message: str, code: str | None = None) -> web.Response:
    return web.json_response(
        {"error": {"type": "invalid_request_error", "message": message, "code": code}}, status=status
    )


def _missing(kind: str, object_id: str) -> web.Response:
    return _error(404, f"No such {kind}: '{object_id}'", "resource_missing")


def localstripe_app(webhook_url: str | None, secret: str | None) -> web.Application:
    """localstripe's app, state in memory only, its webhooks pointed at the panel."""
    from localstripe import resources, server
    from localstripe.webhooks import register_webhook

    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    if webhook_url and secret:
        register_webhook("panel", webhook_url, secret, None)
    return server.app


async def serve(
    port: int, localstripe_port: int, webhook_url: str | None, secret: str | None, exit_with_parent: bool = False
) -> None:
    standin = StandIn(f"http://{HOST}:{localstripe_port}", f"http://{HOST}:{port}", webhook_url, secret)
    runners = []
    for app, bind_port in ((localstripe_app(webhook_url, secret), localstripe_port), (standin.app(), port)):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, HOST, bind_port).start()
        runners.append(runner)
    print(f"stripe stand-in on http://{HOST}:{port} (localstripe on {localstripe_port})", flush=True)
    parent = os.getppid()
    try:
        # Exit when the launcher is gone (even SIGKILLed): its re-parented child must not linger.
        while not exit_with_parent or os.getppid() == parent:
            await asyncio.sleep(0.5)
    finally:
        for runner in runners:
            await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--localstripe-port", type=int, required=True)
    parser.add_argument("--webhook", default=None, help="the panel's /webhooks/stripe URL")
    parser.add_argument("--exit-with-parent", action="store_true", help="stop when the parent process is gone")
    args = parser.parse_args()
    secret = os.environ.get("STRIPE_WEBHOOK_SECRET")
    asyncio.run(serve(args.port, args.localstripe_port, args.webhook, secret, args.exit_with_parent))


if __name__ == "__main__":
    main()
