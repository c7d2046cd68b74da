"""``mamba stripe smoke``: the panel's Stripe calls against a real Stripe **test** account.

The local Stripe and the contract tests can only be as right as our reading of Stripe; this
check asks Stripe itself. It runs the product's own ``StripeGateway`` calls (the same
parameters production sends) and checks every answer: a customer (twice with one idempotency
key: one customer), a Checkout Session in each mode, a trialing subscription with a flat and a
metered item read back through ``subscription_facts``, a portal session with each shortcut, a
meter event and a balance credit (twice with one key: one credit). Then it removes what it
made: sessions expired, the customer deleted (which cancels its subscription), prices and the
product archived, the meter deactivated (Stripe deletes none of those three).

Opt-in and by hand only (docs/billing.md, "Smoke test against Stripe"): it needs the network
and an ``sk_test_`` key, and refuses any other key. Never in CI; its unit tests run it over a
fake HTTP layer.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import stripe

from mamba.adapters.stripe_client import StripeGateway, meter_event_params

TEST_KEY_PREFIX = "sk_test_"
KNOWN_PREFIXES = ("sk_live_", "rk_live_", "rk_test_", "pk_live_", "pk_test_", "sk_test_")
RETURN_URL = "https://example.com/mamba-smoke"
PORTAL_SHORTCUTS = (None, "payment_method_update", "subscription_cancel", "subscription_update")


class SmokeRefused(Exception):
    """The key is not a secret test-mode key: the smoke test never touches live data."""


class SmokeCheckFailed(Exception):
    """Stripe answered, but not as the panel expects."""


def check_test_key(key: str) -> None:
    if not key.startswith(TEST_KEY_PREFIX) or len(key) <= len(TEST_KEY_PREFIX):
        # Never echo the key: name only its prefix when it has a known one.
        prefix = next((p for p in KNOWN_PREFIXES if key.startswith(p)), "an unrecognised")
        raise SmokeRefused(f"refusing {prefix} key: the smoke test takes only a non-empty sk_test_ key")


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise SmokeCheckFailed(what)


def _text(exc: BaseException) -> str:
    """A one-line reason: Stripe's own message when the gateway wrapped a Stripe error."""
    cause = exc.__cause__ if isinstance(exc.__cause__, stripe.StripeError) else exc
    if isinstance(cause, stripe.StripeError):
        return f"{type(cause).__name__} {cause.http_status}: {cause.user_message or cause.code or 'no message'}"
    return str(exc) or type(exc).__name__


@dataclass
class _Made:
    """What the run created, for the cleanup (newest last)."""

    sessions: list[str] = field(default_factory=list)
    customer: str | None = None
    prices: list[str] = field(default_factory=list)
    product: str | None = None
    meter: str | None = None


@dataclass
class SmokeResult:
    passed: list[str] = field(default_factory=list)
    failed: str | None = None  # the first check that failed (the run stops there)
    left_behind: list[str] = field(default_factory=list)  # cleanup that failed

    @property
    def ok(self) -> bool:
        return self.failed is None and not self.left_behind


def run_smoke(
    secret_key: str,
    *,
    log: Callable[[str], None] = print,
    http_client: stripe.HTTPClient | None = None,
    clock: Callable[[], float] = time.time,
) -> SmokeResult:
    """Run every check in order, stop at the first failure, always clean up."""
    check_test_key(secret_key)
    gateway = StripeGateway(secret_key, max_network_retries=1, http_client=http_client)
    client = gateway.client
    run = secrets.token_hex(6)
    made, result = _Made(), SmokeResult()
    step = "start"
    try:
        for step, check in _checks(gateway, client, run, made, clock):
            detail = check()
            result.passed.append(step)
            log(f"ok    {step}: {detail}")
    except Exception as exc:  # noqa: BLE001 (any failure is reported as the step's, then the cleanup runs)
        result.failed = f"{step}: {_text(exc)}"
        log(f"FAIL  {result.failed}")
    finally:
        result.left_behind = _clean_up(client, made, log)
    return result


Check = Callable[[], str]


def _checks(
    gateway: StripeGateway, client: stripe.StripeClient, run: str, made: _Made, clock: Callable[[], float]
) -> list[tuple[str, Check]]:
    tenant = f"tn_smoke_{run}"
    event_name = f"mamba_smoke_{run}"
    state: dict[str, Any] = {}

    def catalogue() -> str:
        meter = client.v1.billing.meters.create(
            params={
                "display_name": f"Mamba smoke {run}",
                "event_name": event_name,
                "default_aggregation": {"formula": "sum"},
                "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
                "value_settings": {"event_payload_key": "value"},
            }
        )
        made.meter = meter.id
        expect(meter.status == "active" and meter.event_name == event_name, "the meter is active with our event name")
        product = client.v1.products.create(params={"name": f"Mamba smoke {run}", "metadata": {"smoke": run}})
        made.product = product.id
        flat = client.v1.prices.create(
            params={"product": product.id, "currency": "usd", "unit_amount": 100, "recurring": {"interval": "month"}}
        )
        made.prices.append(flat.id)
        metered = client.v1.prices.create(
            params={
                "product": product.id,
                "currency": "usd",
                "unit_amount": 1,
                "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
            }
        )
        made.prices.append(metered.id)
        recurring = metered.recurring
        expect(
            recurring is not None and recurring.usage_type == "metered" and recurring.meter == meter.id,
            "the metered price names the meter",
        )
        # What the plan check reads of a price (POST /v1/admin/plans refuses a plan otherwise).
        for price_id, usage in ((flat.id, "licensed"), (metered.id, "metered")):
            facts = gateway.retrieve_price(price_id)
            expect(
                facts.active and facts.currency == "usd" and facts.interval == "month" and facts.usage_type == usage,
                f"the panel reads {price_id} as an active monthly {usage} USD price",
            )
        state.update(flat=flat.id, metered=metered.id)
        return f"meter {meter.id}, prices {flat.id} and {metered.id}"

    def customer() -> str:
        first = gateway.create_customer(tenant, f"Mamba smoke {run}", None)
        made.customer = first
        again = gateway.create_customer(tenant, f"Mamba smoke {run}", None)
        expect(again == first, f"the same idempotency key gave one customer (got {first} and {again})")
        read = client.v1.customers.retrieve(first)
        expect(getattr(read.metadata, "tenant_id", None) == tenant, "the customer carries metadata.tenant_id")
        state["customer"] = first
        return f"{first} (idempotency key honoured)"

    def checkout_subscription() -> str:
        session_id, url = gateway.create_checkout_session(
            customer_id=state["customer"],
            tenant_id=tenant,
            price_id=state["flat"],
            metered_price_ids=(state["metered"],),
            success_url=f"{RETURN_URL}?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=RETURN_URL,
        )
        made.sessions.append(session_id)
        expect(url.startswith("https://checkout.stripe.com/"), "the session has a checkout.stripe.com URL")
        read = gateway.retrieve_checkout_session(session_id)
        expect(
            (read["mode"], read["status"], read["customer"], read["client_reference_id"])
            == ("subscription", "open", state["customer"], tenant),
            f"the session reads back as an open subscription Checkout of our customer: {read}",
        )
        expect(read["amount_total"] == 100, f"amount_total is the flat price (got {read['amount_total']})")
        return session_id

    def checkout_payment() -> str:
        session_id, url = gateway.create_credit_checkout(
            customer_id=state["customer"],
            tenant_id=tenant,
            amount_cents=500,
            currency="usd",
            success_url=RETURN_URL,
            cancel_url=RETURN_URL,
        )
        made.sessions.append(session_id)
        expect(url.startswith("https://checkout.stripe.com/"), "the session has a checkout.stripe.com URL")
        read = gateway.retrieve_checkout_session(session_id)
        expect(
            (read["mode"], read["purpose"], read["amount_total"], read["currency"], read["payment_status"])
            == ("payment", "credit", 500, "usd", "unpaid"),
            f"the credit Checkout reads back as an unpaid 5.00 USD credit purchase: {read}",
        )
        return session_id

    def subscription() -> str:
        # A trial needs no card, so the portal's cancel and update flows have a live subscription.
        sub = client.v1.subscriptions.create(
            params={
                "customer": state["customer"],
                "items": [{"price": state["flat"]}, {"price": state["metered"]}],
                "trial_period_days": 7,
                "trial_settings": {"end_behavior": {"missing_payment_method": "cancel"}},
                "metadata": {"tenant_id": tenant},
            }
        )
        facts = gateway.retrieve_subscription(sub.id)
        expect(facts.status == "trialing", f"the subscription is trialing (got {facts.status})")
        expect(
            set(facts.price_ids) == {state["flat"], state["metered"]},
            f"items[].price names both prices (got {facts.price_ids})",
        )
        expect(facts.current_period_end is not None, "items[].current_period_end is set")
        expect(facts.tenant_hint == tenant, "metadata.tenant_id comes back")
        state["subscription"] = sub.id
        return f"{sub.id} (flat and metered items, periods on the items)"

    def portal() -> str:
        for flow in PORTAL_SHORTCUTS:
            url = gateway.create_portal_session(state["customer"], RETURN_URL, flow, state["subscription"])
            expect(url.startswith("https://billing.stripe.com/"), f"the {flow or 'plain'} portal URL")
        return "plain, " + ", ".join(f for f in PORTAL_SHORTCUTS if f)

    def meter_event() -> str:
        params = meter_event_params(event_name, state["customer"], "1", f"smoke:{run}", int(clock()))
        answer = client.v1.billing.meter_events.create(params=params)  # type: ignore[arg-type]
        payload = answer.payload.to_dict() if isinstance(answer.payload, stripe.StripeObject) else answer.payload
        expect(
            (answer.event_name, answer.identifier, payload) == (event_name, f"smoke:{run}", params["payload"]),
            "the meter event echoes its name, identifier and payload",
        )
        return f"{event_name} = 1"

    def balance_credit() -> str:
        key = f"credit:smoke_{run}"
        first = gateway.credit_customer_balance(state["customer"], 1, "usd", "Mamba smoke credit", key)
        again = gateway.credit_customer_balance(state["customer"], 1, "usd", "Mamba smoke credit", key)
        expect(again == first, f"the same idempotency key gave one credit (got {first} and {again})")
        txn = client.v1.customers.balance_transactions.retrieve(state["customer"], first)
        expect(
            (txn.amount, txn.currency, txn.type) == (-1, "usd", "adjustment"),
            f"the credit is a -1 usd adjustment (got {txn.amount} {txn.currency} {txn.type})",
        )
        return f"{first} (idempotency key honoured)"

    return [
        ("catalogue", catalogue),
        ("customer", customer),
        ("checkout (subscription)", checkout_subscription),
        ("checkout (payment)", checkout_payment),
        ("subscription", subscription),
        ("portal shortcuts", portal),
        ("meter event", meter_event),
        ("balance credit", balance_credit),
    ]


def _clean_up(client: stripe.StripeClient, made: _Made, log: Callable[[str], None]) -> list[str]:
    """Undo what the run made; what could not be undone is named so the operator can."""
    left: list[str] = []

    def attempt(what: str, fn: Callable[[], object]) -> None:
        try:
            fn()
            log(f"clean {what}")
        except stripe.StripeError as exc:
            left.append(what)
            log(f"LEFT  {what}: {_text(exc)}")

    for session in made.sessions:
        attempt(f"expire {session}", partial(client.v1.checkout.sessions.expire, session))
    if made.customer:
        customer = made.customer
        attempt(f"delete {customer}", lambda: client.v1.customers.delete(customer))
    for price in made.prices:
        attempt(f"archive {price}", partial(client.v1.prices.update, price, params={"active": False}))
    if made.product:
        product = made.product
        attempt(f"archive {product}", lambda: client.v1.products.update(product, params={"active": False}))
    if made.meter:
        meter = made.meter
        attempt(f"deactivate {meter}", lambda: client.v1.billing.meters.deactivate(meter))
    return left
