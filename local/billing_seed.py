"""The local stack's billing catalogue, created once per stack: a RAM GB-hours meter, the
"Pro" product with a monthly flat price and a metered price in the local Stripe, and the
panel's ``pro`` plan on those prices (the same steps docs/billing.md describes for a real
Stripe account, through the same StripeClient calls)."""

from __future__ import annotations

from typing import Any

from mamba import bootstrap
from mamba.domain import billing as b
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import ConflictError
from mamba.domain.quotas import Quotas

PLAN_ID = "pro"
EVENT_NAME = "gs_ram_gb_hours"
CURRENCY = "usd"
MONTHLY_CENTS = 1500
INTERVAL = "month"


def seed() -> dict[str, Any]:
    client = bootstrap.stripe_gateway().client
    meter = client.v1.billing.meters.create(
        params={"display_name": "RAM GB-hours", "event_name": EVENT_NAME, "default_aggregation": {"formula": "sum"}}
    )
    product = client.v1.products.create(params={"name": "Mamba Pro"})
    flat = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": CURRENCY,
            "unit_amount": MONTHLY_CENTS,
            "recurring": {"interval": INTERVAL},
            "lookup_key": "pro_monthly",
        }
    )
    ram = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": CURRENCY,
            "unit_amount": 1,
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
            "lookup_key": "pro_ram_gb_hours",
        }
    )
    now = iso(utcnow())
    plan = b.Plan(
        id=PLAN_ID,
        name="Pro",
        quotas=Quotas(servers=5, memory_mb=16384, disk_mb=102400, backup_bytes=20 * 1024**3, backups_per_server=5),
        grace_days=3,
        price_id=str(flat.id),
        # The pricing page shows the same flat fee Stripe charges.
        amount_cents=MONTHLY_CENTS,
        currency=CURRENCY,
        interval=INTERVAL,
        metered=(b.MeteredPrice("ram_gb_hours", str(ram.id), EVENT_NAME),),
        created_at=now,
        updated_at=now,
    )
    try:
        bootstrap.billing_repository().add_plan(plan)
    except ConflictError:
        pass  # a plan from an earlier run of this stack's table
    return {"plan": PLAN_ID, "price": flat.id, "metered_price": ram.id, "meter": meter.id}
