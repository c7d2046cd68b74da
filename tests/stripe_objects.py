"""Stripe objects in the pinned API version's shape (2026-10-28.endive), for fakes and events.

Subscriptions carry their facts on the items (``items[].price``, ``items[].current_period_start``
and ``current_period_end``; no top-level period, no ``plan``), a flat and a metered item side by
side; invoices name their subscription through ``parent.subscription_details`` and their lines
through ``parent.subscription_item_details`` (no ``subscription``, ``charge`` or ``date``).
tests/fakes.py and tests/billing_support.py build from here, so the product's parsing runs on
the current shape only.
"""

from __future__ import annotations

from typing import Any

PERIOD_START = 1764547200  # 2025-12-01T00:00:00Z
PERIOD_END = 1767225600  # 2026-01-01T00:00:00Z
CREATED = PERIOD_START - 3600


def price_object(price_id: str, *, metered: bool = False, amount: int = 1900) -> dict[str, Any]:
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": CREATED,
        "currency": "usd",
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": f"prod_{price_id}",
        "recurring": {
            "interval": "month",
            "interval_count": 1,
            "meter": f"mtr_{price_id}" if metered else None,
            "usage_type": "metered" if metered else "licensed",
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": 1 if metered else amount,
        "unit_amount_decimal": "1" if metered else str(amount),
    }


def subscription_item(
    sub_id: str, price_id: str, *, metered: bool, period_end: int | None, index: int
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"si_{sub_id}_{index}",
        "object": "subscription_item",
        "created": CREATED,
        "discounts": [],
        "metadata": {},
        "price": price_object(price_id, metered=metered),
        "subscription": sub_id,
        "tax_rates": [],
    }
    if not metered:
        item["quantity"] = 1  # a metered item has no quantity: usage comes from the meter
    if period_end is not None:
        item["current_period_start"] = PERIOD_START
        item["current_period_end"] = period_end
    return item


def subscription_object(
    sub_id: str,
    customer: str,
    status: str,
    prices: str | tuple[str, ...],
    tenant_id: str | None = None,
    *,
    metered: tuple[str, ...] = (),
    current_period_end: int | None = PERIOD_END,
    cancel_at_period_end: bool = False,
    default_payment_method: str | None = None,
) -> dict[str, Any]:
    """A subscription with one item per flat price in ``prices`` and per price in ``metered``."""
    flat = (prices,) if isinstance(prices, str) else tuple(prices)
    items = [
        subscription_item(sub_id, price, metered=price in metered, period_end=current_period_end, index=i)
        for i, price in enumerate(flat + tuple(p for p in metered if p not in flat))
    ]
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "billing_cycle_anchor": PERIOD_START,
        "cancel_at": None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": CREATED,
        "currency": "usd",
        "customer": customer,
        "default_payment_method": default_payment_method,
        "default_source": None,
        "description": None,
        "discounts": [],
        "ended_at": None,
        "items": {
            "object": "list",
            "data": items,
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": {"tenant_id": tenant_id} if tenant_id else {},
        "start_date": CREATED,
        "status": status,
        "trial_end": None,
        "trial_start": None,
    }


def invoice_object(invoice_id: str, customer: str, sub_id: str, status: str = "open", **extra: Any) -> dict[str, Any]:
    """An invoice of ``sub_id``'s cycle; ``extra`` overrides any field."""
    billing_reason = extra.pop("billing_reason", "subscription_cycle")
    amount = extra.pop("amount_due", 1900)
    paid = amount if status == "paid" else 0
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": paid,
        "amount_remaining": amount - paid,
        "attempt_count": extra.pop("attempt_count", 1),
        "attempted": True,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": PERIOD_END,
        "currency": "usd",
        "customer": customer,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
        "invoice_pdf": f"https://pay.stripe.com/invoice/{invoice_id}/pdf",
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": f"il_{invoice_id}_0",
                    "object": "line_item",
                    "amount": amount,
                    "currency": "usd",
                    "description": "Pro (at $19.00 / month)",
                    "invoice": invoice_id,
                    "livemode": False,
                    "metadata": {},
                    "parent": {
                        "type": "subscription_item_details",
                        "subscription_item_details": {
                            "invoice_item": None,
                            "proration": False,
                            "proration_details": {"credited_items": None},
                            "subscription": sub_id,
                            "subscription_item": f"si_{sub_id}_0",
                        },
                        "invoice_item_details": None,
                    },
                    "period": {"start": PERIOD_START, "end": PERIOD_END},
                    "quantity": 1,
                }
            ],
            "has_more": False,
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "number": f"MAMBA-{invoice_id[-4:].upper()}",
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"subscription": sub_id, "metadata": {}},
        },
        "period_end": PERIOD_END,
        "period_start": PERIOD_START,
        "status": status,
        **extra,
    }
