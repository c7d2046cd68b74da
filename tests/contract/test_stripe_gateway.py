"""The Stripe gateway port over FakeStripe and StripeGateway against the local Stripe
(local/stripe_standin.py, in this process, on loopback: no internet).

Tenants are unique per test; the local Stripe lives for the module. Both sides honour Stripe's
idempotency keys: one customer per tenant, one balance credit per key.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mamba.domain.errors import DependencyUnavailableError, NotFoundError
from tests.billing_support import STRIPE_KEY, running_standin
from tests.fakes import FakeStripe


def tenant() -> str:
    return f"tn_{secrets.token_hex(4)}"


@dataclass
class Stripe:
    gateway: Any
    down: Any  # a gateway whose Stripe does not answer
    meter: str = "gs_ram_gb_hours"  # an active meter's event name
    # Makes a price in the account: (currency, interval or None for one-time, metered) -> its id.
    make_price: Any = None


class StripeGatewayContract:
    @pytest.fixture
    def stripe(self) -> Stripe:
        raise NotImplementedError

    def test_create_customer_returns_a_customer_per_tenant(self, stripe):
        first = stripe.gateway.create_customer(tenant(), "Games Ltd", "owner@example.org")
        other = stripe.gateway.create_customer(tenant(), "Other Ltd", None)

        assert first.startswith("cus_") and other.startswith("cus_")
        assert other != first
        assert stripe.gateway.list_invoices(first, 10, None) == ([], False)

    def test_a_customer_created_twice_for_one_tenant_is_one_customer(self, stripe):
        tenant_id = tenant()

        first = stripe.gateway.create_customer(tenant_id, "Games Ltd", "owner@example.org")
        again = stripe.gateway.create_customer(tenant_id, "Games Ltd", "owner@example.org")

        assert again == first

    def test_a_balance_credit_sent_twice_with_one_key_is_one_credit(self, stripe):
        customer = stripe.gateway.create_customer(tenant(), "Games Ltd", None)
        key = f"credit:{tenant()}"

        first = stripe.gateway.credit_customer_balance(customer, 500, "usd", "Goodwill", key)
        again = stripe.gateway.credit_customer_balance(customer, 500, "usd", "Goodwill", key)

        assert again == first

    def test_retrieve_subscription_is_not_found_when_stripe_has_none(self, stripe):
        with pytest.raises(NotFoundError):
            stripe.gateway.retrieve_subscription(f"sub_{secrets.token_hex(8)}")

    def test_a_balance_credit_is_a_customer_balance_transaction(self, stripe):
        customer = stripe.gateway.create_customer(tenant(), "Games Ltd", None)

        first = stripe.gateway.credit_customer_balance(customer, 500, "usd", "Goodwill", f"credit:{tenant()}")
        second = stripe.gateway.credit_customer_balance(customer, 300, "usd", "Goodwill", f"credit:{tenant()}")

        assert first.startswith("cbtxn_") and second.startswith("cbtxn_") and second != first

    def test_a_credit_checkout_is_an_open_unpaid_payment_for_the_tenant(self, stripe):
        tenant_id = tenant()
        customer = stripe.gateway.create_customer(tenant_id, "Games Ltd", None)

        session_id, url = stripe.gateway.create_credit_checkout(
            customer_id=customer,
            tenant_id=tenant_id,
            amount_cents=2500,
            currency="usd",
            success_url="http://127.0.0.1:8000/ok",
            cancel_url="http://127.0.0.1:8000/cancel",
        )
        session = stripe.gateway.retrieve_checkout_session(session_id)

        assert session_id.startswith("cs_") and url.startswith("http")
        assert (session["mode"], session["status"], session["payment_status"]) == ("payment", "open", "unpaid")
        assert (session["customer"], session["client_reference_id"], session["purpose"]) == (
            customer,
            tenant_id,
            "credit",
        )
        assert (session["amount_total"], session["currency"]) == (2500, "usd")

    def test_a_portal_session_is_a_url(self, stripe):
        customer = stripe.gateway.create_customer(tenant(), "Games Ltd", None)

        url = stripe.gateway.create_portal_session(customer, "http://127.0.0.1:8000/billing")

        assert url.startswith("http")

    def test_a_meter_event_sent_twice_with_one_identifier_is_accepted(self, stripe):
        customer = stripe.gateway.create_customer(tenant(), "Games Ltd", None)
        identifier = f"usage:{secrets.token_hex(6)}"

        stripe.gateway.send_meter_event(stripe.meter, customer, "3", identifier, 1_800_000_000)
        stripe.gateway.send_meter_event(stripe.meter, customer, "3", identifier, 1_800_000_000)

    @pytest.mark.parametrize(
        ("currency", "interval", "metered", "usage"),
        [("usd", "month", False, "licensed"), ("eur", "year", False, "licensed"), ("usd", "month", True, "metered")],
    )
    def test_retrieve_price_tells_currency_interval_and_usage(self, stripe, currency, interval, metered, usage):
        price_id = stripe.make_price(currency, interval, metered)

        found = stripe.gateway.retrieve_price(price_id)

        assert (found.id, found.active, found.currency, found.interval, found.usage_type) == (
            price_id,
            True,
            currency,
            interval,
            usage,
        )

    def test_a_one_time_price_has_no_interval(self, stripe):
        found = stripe.gateway.retrieve_price(stripe.make_price("usd", None, False))

        assert found.interval is None and found.usage_type is None

    def test_retrieve_price_is_not_found_when_stripe_has_none(self, stripe):
        with pytest.raises(NotFoundError):
            stripe.gateway.retrieve_price(f"price_{secrets.token_hex(8)}")

    def test_every_call_is_dependency_unavailable_when_stripe_does_not_answer(self, stripe):
        with pytest.raises(DependencyUnavailableError):
            stripe.down.create_customer(tenant(), "Games Ltd", None)
        with pytest.raises(DependencyUnavailableError):
            stripe.down.retrieve_subscription("sub_1")


class TestStripeGatewayOnFake(StripeGatewayContract):
    @pytest.fixture
    def stripe(self) -> Stripe:
        fake = FakeStripe()

        def make_price(currency: str, interval: str | None, metered: bool) -> str:
            price_id = f"price_{secrets.token_hex(6)}"
            fake.add_price(price_id, currency=currency, interval=interval, metered=metered)
            return price_id

        return Stripe(fake, FakeStripe(down=True), make_price=make_price)


@pytest.fixture(scope="module")
def local_stripe() -> Iterator[tuple[str, str, str]]:
    """(the API base, the event name of a meter made for this module: the local Stripe is
    shared by the test process, and a meter's event name is unique in it, and the meter's id)."""
    from mamba.adapters.stripe_client import StripeGateway

    meter = f"contract_{secrets.token_hex(4)}"
    with running_standin() as base:
        made = StripeGateway(STRIPE_KEY, base, max_network_retries=0).client.v1.billing.meters.create(
            params={"display_name": "Contract", "event_name": meter, "default_aggregation": {"formula": "sum"}}
        )
        yield base, meter, str(made.id)


class TestStripeGatewayOnLocalStripe(StripeGatewayContract):
    @pytest.fixture
    def stripe(self, local_stripe: tuple[str, str]) -> Stripe:
        from mamba.adapters.stripe_client import StripeGateway

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
        base, meter, meter_id = local_stripe
        gateway = StripeGateway(STRIPE_KEY, base, max_network_retries=0)

        def make_price(currency: str, interval: str | None, metered: bool) -> str:
            params: dict[str, Any] = {"currency": currency, "unit_amount": 900, "product_data": {"name": "Contract"}}
            if interval is not None:
                params["recurring"] = {"interval": interval}
                if metered:
                    params["recurring"].update(usage_type="metered", meter=meter_id)
            return str(gateway.client.v1.prices.create(params=params).id)

        return Stripe(gateway, StripeGateway(STRIPE_KEY, closed, max_network_retries=0), meter, make_price)


# --- the webhook signature check ---------------------------------------------------------------


class WebhookVerifierContract:
    @pytest.fixture
    def verify(self) -> Any:
        raise NotImplementedError

    def test_a_body_signed_with_a_configured_secret_is_valid(self, verify):
        from tests.billing_support import WEBHOOK_SECRET, sign

        body = '{"id": "evt_1", "object": "event"}'

        assert verify(body.encode(), sign(body), (WEBHOOK_SECRET,), 300) is True
        assert verify(body.encode(), sign(body), ("whsec_old", WEBHOOK_SECRET), 300) is True  # rolling secrets

    def test_another_secret_a_changed_body_or_a_stale_stamp_is_invalid(self, verify):
        import time

        from tests.billing_support import WEBHOOK_SECRET, sign

        body = '{"id": "evt_1", "object": "event"}'

        assert verify(body.encode(), sign(body, "whsec_other"), (WEBHOOK_SECRET,), 300) is False
        assert verify(body.replace("1", "2").encode(), sign(body), (WEBHOOK_SECRET,), 300) is False
        stale = sign(body, timestamp=int(time.time()) - 301)
        assert verify(body.encode(), stale, (WEBHOOK_SECRET,), 300) is False
        assert verify(body.encode(), "t=1,v1=00", (WEBHOOK_SECRET,), 300) is False

    def test_a_body_that_is_not_utf8_is_invalid(self, verify):
        from tests.billing_support import WEBHOOK_SECRET

        assert verify(b"\xff\xfe", "t=1,v1=00", (WEBHOOK_SECRET,), 300) is False


class TestWebhookVerifierOnFake(WebhookVerifierContract):
    @pytest.fixture
    def verify(self) -> Any:
        from tests.fakes import FakeWebhookVerifier

        return FakeWebhookVerifier()


class TestWebhookVerifierOnStripe(WebhookVerifierContract):
    @pytest.fixture
    def verify(self) -> Any:
        from mamba.adapters.stripe_client import signature_valid

        return signature_valid
