"""Stripe through ``stripe.StripeClient`` (stripe-python 16, API ``2026-10-28.endive``).

Imported only by billing code (``mamba.bootstrap.stripe_gateway``), never on the API's cold
path: ``make bench`` checks that ``stripe`` is absent after ``import app``.

Every call goes to the real Stripe API; locally ``STRIPE_API_BASE`` points the client at the
local Stripe in ``local/stripe_standin.py`` (only the base address and the keys differ).
Stripe's error bodies are logged, never returned to callers. ``mamba stripe smoke``
(``stripe_smoke.py``) runs these calls against a real test account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import stripe

from mamba.domain.billing import PriceFacts, SubscriptionFacts
from mamba.domain.errors import ConflictError, DependencyUnavailableError, NotFoundError, ValidationError
from mamba.observability import logger

API_VERSION = "2026-10-28.endive"
# Portal flows that act on one subscription: Stripe requires ``flow_data.<flow>.subscription``.
SUBSCRIPTION_FLOWS = frozenset({"subscription_cancel", "subscription_update"})
T = TypeVar("T")


def _get(obj: Any, *path: str) -> Any:
    """Walk attributes or keys (StripeObject is not a dict since stripe-python 15)."""
    for name in path:
        if obj is None:
            return None
        if isinstance(obj, dict):
            obj = obj.get(name)
        else:
            obj = getattr(obj, name, None)
    return obj


def _id(value: Any) -> str | None:
    """An expandable field: an id string, or an object with ``id``."""
    if value is None or isinstance(value, str):
        return value
    found = _get(value, "id")
    return str(found) if found else None


def subscription_facts(sub: Any) -> SubscriptionFacts:
    """The fields the panel uses, from a subscription in the pinned version's shape (basil and
    later): each item names its ``price`` and carries its own period. Items without a period
    (none in this version) are skipped; the period end is the latest of the items'. The
    pre-basil fields (item ``plan``, top-level ``current_period_end``) are not read: every
    subscription comes from ``retrieve_subscription``, which pins ``2026-10-28.endive``."""
    items = _get(sub, "items", "data") or []
    prices: list[str] = []
    period_ends: list[int] = []
    for item in items:
        price = _id(_get(item, "price"))
        if price:
            prices.append(price)
        end = _get(item, "current_period_end")
        if end:
            period_ends.append(int(end))
    period_end = max(period_ends) if period_ends else None
    metadata = _get(sub, "metadata") or {}
    hint = _get(metadata, "tenant_id")
    return SubscriptionFacts(
        id=str(_get(sub, "id")),
        customer=str(_id(_get(sub, "customer"))),
        status=str(_get(sub, "status")),
        price_ids=tuple(prices),
        current_period_end=period_end,
        cancel_at_period_end=bool(_get(sub, "cancel_at_period_end")),
        tenant_hint=str(hint) if hint else None,
        has_payment_method=bool(_get(sub, "default_payment_method") or _get(sub, "default_source")),
    )


def meter_event_params(
    event_name: str, customer_id: str, value: str, identifier: str, timestamp: int
) -> dict[str, Any]:
    """A v1 meter event: ``identifier`` makes a replay a no-op at Stripe; the payload is strings."""
    return {
        "event_name": event_name,
        "identifier": identifier,
        "timestamp": timestamp,
        "payload": {"stripe_customer_id": customer_id, "value": value},
    }


class StripeGateway:
    """The panel's Stripe operations."""

    def __init__(
        self,
        secret_key: str,
        api_base: str | None = None,
        *,
        max_network_retries: int = 2,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        base_addresses: dict[str, str] = {}
        if api_base:
            base_addresses = {"api": api_base, "meter_events": api_base}
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=base_addresses,  # type: ignore[arg-type]
            max_network_retries=max_network_retries,
            stripe_version=API_VERSION,
            http_client=http_client,  # tests and the smoke check's unit tests pass a fake transport
        )

    @property
    def client(self) -> stripe.StripeClient:
        return self._client

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except stripe.InvalidRequestError as exc:
            logger.warning("stripe refused", extra={"call": what, "status": exc.http_status, "code": exc.code})
            if exc.http_status == 404:
                raise NotFoundError("The billing record was not found at Stripe.", {"call": what}) from exc
            raise ValidationError("Stripe refused the request.", {"call": what}) from exc
        except stripe.StripeError as exc:
            logger.warning("stripe unavailable", extra={"call": what, "error": type(exc).__name__})
            raise DependencyUnavailableError("Billing is unavailable; try again shortly.", {"call": what}) from exc

    # --- customers ----------------------------------------------------------------------

    def create_customer(self, tenant_id: str, name: str, email: str | None) -> str:
        """One customer per tenant: the idempotency key makes a retried creation return the first."""
        params: dict[str, Any] = {"name": name, "metadata": {"tenant_id": tenant_id}}
        if email:
            params["email"] = email
        customer = self._call(
            "customers.create",
            lambda: self._client.v1.customers.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"customer:{tenant_id}"},
            ),
        )
        return str(customer.id)

    def credit_customer_balance(
        self, customer_id: str, amount_cents: int, currency: str, description: str, idempotency_key: str
    ) -> str:
        """Mirror a credit to the customer balance (negative amount = credit on invoices)."""
        txn = self._call(
            "customers.balance_transactions.create",
            lambda: self._client.v1.customers.balance_transactions.create(
                customer_id,
                params={"amount": -amount_cents, "currency": currency, "description": description},
                options={"idempotency_key": idempotency_key},
            ),
        )
        return str(txn.id)

    # --- subscriptions ------------------------------------------------------------------

    def retrieve_subscription(self, subscription_id: str) -> SubscriptionFacts:
        sub = self._call("subscriptions.retrieve", lambda: self._client.v1.subscriptions.retrieve(subscription_id))
        return subscription_facts(sub)

    def retrieve_price(self, price_id: str) -> PriceFacts:
        price = self._call("prices.retrieve", lambda: self._client.v1.prices.retrieve(price_id))
        recurring = _get(price, "recurring")
        return PriceFacts(
            id=str(_get(price, "id")),
            active=bool(_get(price, "active")),
            currency=str(_get(price, "currency") or ""),
            interval=str(_get(recurring, "interval")) if recurring else None,
            usage_type=str(_get(recurring, "usage_type") or "licensed") if recurring else None,
        )

    def customer_has_payment_method(self, customer_id: str) -> bool:
        customer = self._call("customers.retrieve", lambda: self._client.v1.customers.retrieve(customer_id))
        return bool(_get(customer, "invoice_settings", "default_payment_method") or _get(customer, "default_source"))

    # --- checkout and portal ------------------------------------------------------------

    def create_checkout_session(
        self,
        *,
        customer_id: str,
        tenant_id: str,
        price_id: str,
        metered_price_ids: tuple[str, ...],
        success_url: str,
        cancel_url: str,
    ) -> tuple[str, str]:
        line_items: list[dict[str, Any]] = [{"price": price_id, "quantity": 1}]
        line_items += [{"price": p} for p in metered_price_ids]
        params: dict[str, Any] = {
            "mode": "subscription",
            "customer": customer_id,
            "line_items": line_items,
            "client_reference_id": tenant_id,
            "subscription_data": {"metadata": {"tenant_id": tenant_id}},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        return self._checkout(params)

    def create_credit_checkout(
        self, *, customer_id: str, tenant_id: str, amount_cents: int, currency: str, success_url: str, cancel_url: str
    ) -> tuple[str, str]:
        """A one-time Checkout payment that buys panel credit (``metadata.purpose=credit``)."""
        params: dict[str, Any] = {
            "mode": "payment",
            "customer": customer_id,
            "line_items": [
                {
                    "price_data": {
                        "currency": currency,
                        "unit_amount": amount_cents,
                        "product_data": {"name": "Panel credit"},
                    },
                    "quantity": 1,
                }
            ],
            "client_reference_id": tenant_id,
            "metadata": {"tenant_id": tenant_id, "purpose": "credit"},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        return self._checkout(params)

    def _checkout(self, params: dict[str, Any]) -> tuple[str, str]:
        """Create a Checkout Session; (its id, its URL)."""
        session = self._call(
            "checkout.sessions.create",
            lambda: self._client.v1.checkout.sessions.create(params=params),  # type: ignore[arg-type]
        )
        return str(session.id), str(session.url)

    def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]:
        session = self._call(
            "checkout.sessions.retrieve", lambda: self._client.v1.checkout.sessions.retrieve(session_id)
        )
        metadata = _get(session, "metadata")
        return {
            "id": str(_get(session, "id")),
            "mode": _get(session, "mode"),
            "status": _get(session, "status"),
            "payment_status": _get(session, "payment_status"),
            "amount_total": int(_get(session, "amount_total") or 0),
            "currency": str(_get(session, "currency") or "usd"),
            "customer": _id(_get(session, "customer")),
            "client_reference_id": _get(session, "client_reference_id"),
            "purpose": _get(metadata, "purpose") if metadata is not None else None,
        }

    def create_portal_session(
        self, customer_id: str, return_url: str, flow: str | None = None, subscription_id: str | None = None
    ) -> str:
        """A portal session; ``flow`` deep-links into one of its pages. Stripe requires the
        cancel and update flows to name the subscription they act on (``flow_data.<flow>.subscription``)."""
        params: dict[str, Any] = {"customer": customer_id, "return_url": return_url}
        if flow:
            flow_data: dict[str, Any] = {"type": flow}
            if flow in SUBSCRIPTION_FLOWS:
                if not subscription_id:
                    raise ConflictError("This portal flow needs the tenant's subscription.", {"flow": flow})
                flow_data[flow] = {"subscription": subscription_id}
            params["flow_data"] = flow_data
        session = self._call(
            "billing_portal.sessions.create",
            lambda: self._client.v1.billing_portal.sessions.create(params=params),  # type: ignore[arg-type]
        )
        return str(session.url)

    # --- invoices -----------------------------------------------------------------------

    def list_invoices(
        self, customer_id: str, limit: int, starting_after: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        params: dict[str, Any] = {"customer": customer_id, "limit": limit}
        if starting_after:
            params["starting_after"] = starting_after
        found = self._call(
            "invoices.list",
            lambda: self._client.v1.invoices.list(params=params),  # type: ignore[arg-type]
        )
        rows = []
        for inv in found.data:
            rows.append(
                {
                    "id": str(inv.id),
                    "number": _get(inv, "number"),
                    "status": _get(inv, "status"),
                    "amount_due": int(_get(inv, "amount_due") or 0),
                    "amount_paid": int(_get(inv, "amount_paid") or 0),
                    "currency": str(_get(inv, "currency") or "usd"),
                    "created": int(_get(inv, "created") or 0),
                    "period_start": _get(inv, "period_start"),
                    "period_end": _get(inv, "period_end"),
                    "hosted_invoice_url": _get(inv, "hosted_invoice_url"),
                    "invoice_pdf": _get(inv, "invoice_pdf"),
                }
            )
        return rows, bool(found.has_more)

    # --- meters -------------------------------------------------------------------------

    def send_meter_event(self, event_name: str, customer_id: str, value: str, identifier: str, timestamp: int) -> None:
        params = meter_event_params(event_name, customer_id, value, identifier, timestamp)
        self._call(
            "billing.meter_events.create",
            lambda: self._client.v1.billing.meter_events.create(params=params),  # type: ignore[arg-type]
        )


def verify_event(payload: bytes, signature: str, secrets: tuple[str, ...], tolerance: int = 300) -> None:
    """Raise ``stripe.SignatureVerificationError`` unless one of ``secrets`` signed ``payload``
    (the raw bytes as received) within ``tolerance`` seconds. Several secrets allow rolling."""
    text = payload.decode("utf-8")
    last: Exception | None = None
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, signature, secret, tolerance)
            return
        except stripe.SignatureVerificationError as exc:
            last = exc
    raise last or stripe.SignatureVerificationError("no webhook secret configured", signature)


SignatureVerificationError = stripe.SignatureVerificationError


def signature_valid(payload: bytes, signature: str, secrets: tuple[str, ...], tolerance: int = 300) -> bool:
    """``verify_event`` as a yes or no (``mamba.ports.WebhookVerifier``): False for a bad,
    stale or foreign signature, or a body that is not UTF-8."""
    try:
        verify_event(payload, signature, secrets, tolerance)
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        return False
    return True
