"""A tenant's billing: the summary, Checkout, the Stripe portal, invoices and credits."""

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain.errors import ForbiddenError
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.services import billing
else:
    billing = lazy_import("mamba.services.billing")

bp = Blueprint(__name__)
TAGS = ("billing",)


@route(
    bp,
    "/v1/tenants/{tenant_id}/billing",
    "GET",
    permission="billing.read",
    summary="Plan, subscription status, period end, grace period, quotas and usage so far",
    tags=TAGS,
    response_model="billing:BillingOut",
    billing=True,
)
def get_billing(ctx: Ctx, tenant_id: str) -> object:
    return billing.summary(bootstrap.billing_ports(), ctx.tenant)


def _buyer(ctx: Ctx, tenant_id: str) -> tuple[str, str]:
    """The tenant's name and the caller's email, which Checkout shows and pre-fills. A Checkout
    is paid by a person in a browser: a service account has no email and answers 403."""
    if ctx.principal is not None and ctx.principal.via == "service_account":
        raise ForbiddenError(
            "Checkout is for people: a service account cannot pay.",
            {"permission": "billing.manage", "reason": "service_account"},
        )
    tenant = bootstrap.tenancy_repository().get_tenant(tenant_id)
    return tenant.name, bootstrap.user_repository().get(ctx.user_id).email


@route(
    bp,
    "/v1/tenants/{tenant_id}/billing/checkout",
    "POST",
    permission="billing.manage",
    summary="A Stripe Checkout Session URL subscribing the tenant to a plan",
    tags=TAGS,
    request_model="billing:CheckoutIn",
    response_model="billing:CheckoutOut",
    status=201,
    billing=True,
)
def checkout(ctx: Ctx, tenant_id: str) -> object:
    name, email = _buyer(ctx, tenant_id)
    return billing.checkout(bootstrap.billing_ports(), ctx.tenant, ctx.body.plan_id, name, email)


@route(
    bp,
    "/v1/tenants/{tenant_id}/billing/portal",
    "POST",
    permission="billing.manage",
    summary="A short-lived Stripe customer portal URL (cards, invoices, plan changes)",
    tags=TAGS,
    request_model="billing:PortalIn",
    response_model="billing:PortalOut",
    status=201,
    billing=True,
)
def portal(ctx: Ctx, tenant_id: str) -> object:
    return billing.portal(bootstrap.billing_ports(), ctx.tenant, ctx.body.flow)


@route(
    bp,
    "/v1/tenants/{tenant_id}/billing/invoices",
    "GET",
    permission="billing.read",
    summary="The tenant's invoices from Stripe, newest first, with hosted and PDF links once finalized",
    tags=TAGS,
    response_model="billing:InvoiceList",
    query=("limit", "cursor"),
    billing=True,
)
def list_invoices(ctx: Ctx, tenant_id: str) -> object:
    page = PageRequest.from_query(ctx.query, default=12, maximum=100)
    return billing.invoices(bootstrap.billing_ports(), ctx.tenant, page.limit, page.cursor)


@route(
    bp,
    "/v1/tenants/{tenant_id}/billing/credits",
    "GET",
    permission="billing.read",
    summary="The tenant's credit balance and history",
    tags=TAGS,
    response_model="billing:CreditList",
    query=("limit", "cursor"),
    billing=True,
)
def list_credits(ctx: Ctx, tenant_id: str) -> object:
    return billing.credits(bootstrap.billing_ports(), ctx.tenant, PageRequest.from_query(ctx.query))


@route(
    bp,
    "/v1/tenants/{tenant_id}/billing/credits/checkout",
    "POST",
    permission="billing.manage",
    summary="A Stripe Checkout URL to buy credit; the credit is added when Stripe reports it paid",
    tags=TAGS,
    request_model="billing:CreditPurchaseIn",
    response_model="billing:CheckoutOut",
    status=201,
    billing=True,
)
def buy_credit(ctx: Ctx, tenant_id: str) -> object:
    name, email = _buyer(ctx, tenant_id)
    return billing.buy_credit(
        bootstrap.billing_ports(), ctx.tenant, ctx.body.amount_cents, ctx.body.currency, name, email
    )
