"""The portal shortcuts from the panel's use case (mamba.services.billing.portal) through the real
StripeGateway to the local Stripe, which, like Stripe, refuses a cancel or update flow that does
not name the customer's subscription. What the local Stripe answered is read from its
recording (``StandIn.records``). Loopback only, no internet."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from mamba.adapters.stripe_client import StripeGateway
from mamba.auth.context import TenantContext
from mamba.domain import billing as b
from mamba.domain.errors import ConflictError
from mamba.services import billing
from tests import billing_support
from tests.billing_support import STRIPE_KEY, running_standin
from tests.fakes import FakeBillingRepository

pytestmark = pytest.mark.slow

TENANT = TenantContext(tenant_id="tn_portal_flows", role="owner", permissions=frozenset())


@pytest.fixture(scope="module")
def gateway() -> Iterator[StripeGateway]:
    with running_standin() as base:
        yield StripeGateway(STRIPE_KEY, base, max_network_retries=0)


def portal_answers() -> list[dict[str, Any]]:
    standin = billing_support._LOCAL_STRIPE[0].standin
    return [
        r["body"] for r in standin.records if r["source"] == "response" and r["path"] == "/v1/billing_portal/sessions"
    ]


def subscribe(gateway: StripeGateway, customer: str) -> str:
    client = gateway.client
    product = client.v1.products.create(params={"name": "Pro (portal flows)"})
    flat = client.v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"}}
    )
    _, url = gateway.create_checkout_session(
        customer_id=customer,
        tenant_id=TENANT.tenant_id,
        price_id=flat.id,
        metered_price_ids=(),
        success_url="http://127.0.0.1:8000/ok",
        cancel_url="http://127.0.0.1:8000/no",
    )
    paid = requests.post(f"{url}/pay", headers={"Accept": "application/json"}, timeout=10).json()
    return str(paid["subscription"])


@pytest.mark.parametrize("flow", ["subscription_cancel", "subscription_update"])
def test_the_panels_cancel_and_update_shortcuts_are_accepted_and_name_the_subscription(gateway, flow):
    repo = FakeBillingRepository()
    repo.add_tenant(TENANT.tenant_id)
    ports = billing.BillingPorts(
        repo=repo, stripe=lambda: gateway, public_url="http://127.0.0.1:8000", free_quotas=b.FREE_QUOTAS
    )
    customer = gateway.create_customer(f"{TENANT.tenant_id}_{flow}", "Portal Flows", None)
    repo.link_customer(TENANT.tenant_id, customer)

    with pytest.raises(ConflictError):  # no subscription yet: refused before Stripe is asked
        billing.portal(ports, TENANT, flow)
    before = len(portal_answers())

    sub_id = subscribe(gateway, customer)
    state = repo.get_state(TENANT.tenant_id)
    repo.save_state(replace(state, subscription_id=sub_id, status="active"), dunning_due_at=None)
    answer = billing.portal(ports, TENANT, flow)

    made = portal_answers()[before:]
    assert len(made) == 1 and answer["url"] == made[0]["url"]
    assert made[0]["customer"] == customer
    assert made[0]["flow"]["type"] == flow and made[0]["flow"][flow]["subscription"] == sub_id
