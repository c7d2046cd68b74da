"""Platform admin: plans (quotas, Stripe prices, grace period) and credit grants."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.domain import billing as domain
    from mamba.domain import quotas
    from mamba.ports import PaymentGateway
    from mamba.services import billing
else:
    billing = lazy_import("mamba.services.billing")
    domain = lazy_import("mamba.domain.billing")
    quotas = lazy_import("mamba.domain.quotas")

bp = Blueprint(__name__)
TAGS = ("admin", "billing")


def _stripe() -> "Callable[[], PaymentGateway] | None":
    """The Stripe gateway that checks a plan's prices; None while billing is off (no key to ask
    with: the prices are checked when the plan is next changed with billing on)."""
    return bootstrap.stripe_gateway if bootstrap.settings().billing_enabled else None


def _metered(items: list) -> tuple:  # type: ignore[type-arg]
    return tuple(domain.MeteredPrice(metric=m.metric, price_id=m.price_id, event_name=m.event_name) for m in items)


@route(
    bp,
    "/v1/admin/plans",
    "POST",
    permission="admin.plans",
    summary="Create a plan: its Stripe prices, quotas and grace period",
    tags=TAGS,
    errors=(422,),  # PLAN_PRICE_INVALID: Stripe cannot sell the named price as the plan says
    request_model="billing:PlanCreate",
    response_model="billing:PlanOut",
    status=201,
)
def create_plan(ctx: Ctx) -> object:
    body = ctx.body
    plan = domain.Plan(
        id=body.id,
        name=body.name,
        quotas=quotas.Quotas(**body.quotas.model_dump()),
        grace_days=body.grace_days,
        price_id=body.price_id,
        metered=_metered(body.metered),
        active=body.active,
        amount_cents=body.amount_cents,
        currency=body.currency,
        interval=body.interval,
    )
    return billing.create_plan(bootstrap.billing_repository(), plan, stripe=_stripe())


@route(
    bp,
    "/v1/admin/plans",
    "GET",
    permission="admin.plans",
    summary="Every plan, oldest first",
    tags=TAGS,
    response_model="billing:PlanList",
    query=("limit", "cursor"),
)
def list_plans(ctx: Ctx) -> object:
    return billing.list_plans(bootstrap.billing_repository(), PageRequest.from_query(ctx.query))


@route(
    bp,
    "/v1/admin/plans/{plan_id}",
    "GET",
    permission="admin.plans",
    summary="A plan",
    tags=TAGS,
    response_model="billing:PlanOut",
)
def get_plan(ctx: Ctx, plan_id: str) -> object:
    return billing.get_plan(bootstrap.billing_repository(), plan_id, bootstrap.free_quotas())


@route(
    bp,
    "/v1/admin/plans/{plan_id}",
    "PATCH",
    permission="admin.plans",
    summary="Change a plan (tenants on it get the new quotas at their next subscription sync)",
    tags=TAGS,
    errors=(422,),  # PLAN_PRICE_INVALID: Stripe cannot sell the named price as the plan says
    request_model="billing:PlanUpdate",
    response_model="billing:PlanOut",
)
def update_plan(ctx: Ctx, plan_id: str) -> object:
    body = ctx.body
    changes = {
        "name": body.name,
        "price_id": body.price_id,
        "metered": _metered(body.metered) if body.metered is not None else None,
        "quotas": quotas.Quotas(**body.quotas.model_dump()) if body.quotas is not None else None,
        "grace_days": body.grace_days,
        "active": body.active,
        "amount_cents": body.amount_cents,
        "currency": body.currency,
        "interval": body.interval,
    }
    return billing.update_plan(bootstrap.billing_repository(), plan_id, changes, stripe=_stripe())


@route(
    bp,
    "/v1/admin/tenants/{tenant_id}/credits",
    "POST",
    permission="admin.tenants",
    summary="Grant a tenant credit (mirrored to its Stripe customer balance)",
    tags=TAGS,
    request_model="billing:CreditGrantIn",
    response_model="billing:CreditOut",
    status=201,
    billing=True,
)
def grant_credit(ctx: Ctx, tenant_id: str) -> object:
    body = ctx.body
    entry = billing.grant_credit(
        bootstrap.billing_ports(),
        tenant_id,
        body.amount_cents,
        body.currency,
        body.reason,
        source="admin",
        actor_id=ctx.user_id,
    )
    return entry
