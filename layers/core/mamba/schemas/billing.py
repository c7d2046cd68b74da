"""Request and response models of the billing API (plans, checkout, portal, invoices, credits)."""

from typing import Literal

from pydantic import Field

from mamba.schemas.common import Schema

Metric = Literal["ram_gb_hours", "backup_gb_hours"]
Interval = Literal["month", "year"]


class QuotasModel(Schema):
    """A negative value (-1) means unlimited (mamba.domain.quotas)."""

    servers: int = Field(ge=-1, le=10_000)
    memory_mb: int = Field(ge=-1, le=100_000_000)
    disk_mb: int = Field(ge=-1, le=1_000_000_000)
    backup_bytes: int = Field(ge=-1, le=10**15)
    backups_per_server: int = Field(ge=-1, le=1000)
    schedules_per_server: int = Field(default=10, ge=-1, le=1000)


class MeteredPriceModel(Schema):
    metric: Metric
    price_id: str = Field(pattern=r"^price_[A-Za-z0-9_]{1,120}$")
    event_name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,99}$", examples=["gs_ram_gb_hours"])


class PlanCreate(Schema):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$", examples=["pro"])
    name: str = Field(min_length=1, max_length=80)
    price_id: str | None = Field(default=None, pattern=r"^price_[A-Za-z0-9_]{1,120}$")
    metered: list[MeteredPriceModel] = Field(default_factory=list, max_length=len(("ram", "backup")))
    quotas: QuotasModel
    grace_days: int = Field(default=7, ge=0, le=60)
    active: bool = True
    amount_cents: int = Field(default=0, ge=0, le=10**9, description="The flat fee as shown, in minor units")
    currency: str = Field(default="usd", pattern=r"^[a-z]{3}$", description="ISO 4217, lowercase")
    interval: Interval = "month"


class PlanUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    price_id: str | None = Field(default=None, pattern=r"^price_[A-Za-z0-9_]{1,120}$")
    metered: list[MeteredPriceModel] | None = Field(default=None, max_length=2)
    quotas: QuotasModel | None = None
    grace_days: int | None = Field(default=None, ge=0, le=60)
    active: bool | None = None
    amount_cents: int | None = Field(default=None, ge=0, le=10**9)
    currency: str | None = Field(default=None, pattern=r"^[a-z]{3}$")
    interval: Interval | None = None


class PlanOut(Schema):
    id: str
    name: str
    price_id: str | None
    metered: list[MeteredPriceModel]
    quotas: QuotasModel
    grace_days: int
    active: bool
    amount_cents: int
    currency: str
    interval: Interval
    created_at: str
    updated_at: str


class PlanList(Schema):
    items: list[PlanOut]
    next_cursor: str | None = None


class CheckoutIn(Schema):
    plan_id: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")


class CheckoutOut(Schema):
    session_id: str
    url: str


class PortalIn(Schema):
    flow: Literal["payment_method_update", "subscription_cancel", "subscription_update"] | None = None


class PortalOut(Schema):
    url: str


class PlanRef(Schema):
    id: str
    name: str


class UsageOut(Schema):
    since: int
    metrics: dict[str, float]
    source: str


class BillingOut(Schema):
    plan: PlanRef
    status: str = Field(examples=["active", "past_due", "none"])
    billing_state: Literal["active", "suspended"]
    current_period_end: int | None
    cancel_at_period_end: bool
    past_due_since: int | None
    grace_ends_at: int | None
    deletion_due_at: int | None = Field(
        default=None, description="Canceled: when the tenant's data is deleted unless it subscribes again (epoch)"
    )
    quotas: QuotasModel
    usage: UsageOut
    credit_balance_cents: int = Field(description="The balance in credit_currency (never a sum over currencies)")
    credit_currency: str | None = None
    credit_balances: dict[str, int] = Field(default_factory=dict, description="Currency → balance in cents")


class InvoiceOut(Schema):
    id: str
    number: str | None
    status: str | None
    amount_due: int
    amount_paid: int
    currency: str
    created: int
    period_start: int | None = None
    period_end: int | None = None
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None


class InvoiceList(Schema):
    items: list[InvoiceOut]
    next_cursor: str | None = None


class CreditGrantIn(Schema):
    amount_cents: int = Field(gt=0, le=100_000_000)
    currency: str = Field(default="usd", pattern=r"^[a-z]{3}$")
    reason: str = Field(default="", max_length=200)


class CreditPurchaseIn(Schema):
    amount_cents: int = Field(ge=100, le=1_000_000)
    currency: str = Field(default="usd", pattern=r"^[a-z]{3}$")


class CreditOut(Schema):
    id: str
    amount_cents: int
    currency: str
    source: str
    reason: str
    created_at: str


class CreditList(Schema):
    balance_cents: int = Field(description="The balance in currency (never a sum over currencies)")
    currency: str | None = Field(default=None, description="The tenant's credit currency, set by its first credit")
    balances: dict[str, int] = Field(default_factory=dict, description="Currency → balance in cents")
    items: list[CreditOut]
    next_cursor: str | None = None


class WebhookAck(Schema):
    received: bool
    duplicate: bool | None = None
    ignored: str | None = None
