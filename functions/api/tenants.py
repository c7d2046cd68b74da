"""Tenants: create one (you become its owner), list yours, read and change one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.domain import ratelimit
    from mamba.schemas import tenancy as schemas
    from mamba.schemas.tenancy import TenantList, TenantOut
    from mamba.services import billing, tenants
else:
    ratelimit = lazy_import("mamba.domain.ratelimit")
    tenants = lazy_import("mamba.services.tenants")
    billing = lazy_import("mamba.services.billing")
    schemas = lazy_import("mamba.schemas.tenancy")

bp = Blueprint(__name__)
TAGS = ("tenants",)


@route(
    bp,
    "/v1/tenants",
    "POST",
    permission="account.write",
    summary="Create a tenant; the caller becomes its owner (verified email; at most MAX_TENANTS_PER_ACCOUNT)",
    tags=TAGS,
    request_model="tenancy:TenantCreate",
    response_model="tenancy:TenantOut",
    status=201,
)
def create_tenant(ctx: Ctx) -> TenantOut:
    settings = bootstrap.settings()
    created = tenants.create_tenant(
        bootstrap.user_repository(),
        bootstrap.tenancy_repository(),
        ctx.user_id,
        ctx.body.name,
        max_owned=settings.max_tenants_per_account,
        limiter=bootstrap.rate_limiter(),
        rate=ratelimit.Limit(tenants.TENANT_CREATE_LIMIT, settings.rate_tenant_create, 3600),
    )
    # Its Stripe customer (idempotency key customer:<tenant_id>); never fails the creation.
    billing.on_tenant_created(
        bootstrap.billing_ports,
        bootstrap.settings().billing_enabled,
        created.tenant.id,
        created.tenant.name,
        lambda: bootstrap.user_repository().get(ctx.user_id).email,
    )
    return schemas.user_tenant_out(created)


@route(
    bp,
    "/v1/tenants",
    "GET",
    permission="account.read",
    summary="The caller's tenants, with the caller's role in each",
    tags=TAGS,
    response_model="tenancy:TenantList",
    query=("limit", "cursor"),
)
def list_tenants(ctx: Ctx) -> TenantList:
    page = tenants.list_my_tenants(bootstrap.tenancy_repository(), ctx.user_id, PageRequest.from_query(ctx.query))
    return schemas.TenantList(items=[schemas.user_tenant_out(t) for t in page.items], next_cursor=page.next_cursor)


@route(
    bp,
    "/v1/tenants/{tenant_id}",
    "GET",
    permission="tenant.read",
    summary="A tenant's profile and settings",
    tags=TAGS,
    response_model="tenancy:TenantOut",
)
def get_tenant(ctx: Ctx, tenant_id: str) -> TenantOut:
    info = tenants.get_tenant(bootstrap.tenancy_repository(), ctx.tenant)
    return schemas.tenant_out(info, role=ctx.tenant.role, server_id=ctx.tenant.server_scope)


@route(
    bp,
    "/v1/tenants/{tenant_id}",
    "PATCH",
    permission="tenant.update",
    summary="Rename the tenant or require two-factor authentication of its members",
    tags=TAGS,
    request_model="tenancy:TenantUpdate",
    response_model="tenancy:TenantOut",
)
def update_tenant(ctx: Ctx, tenant_id: str) -> TenantOut:
    info = tenants.update_tenant(
        bootstrap.tenancy_repository(),
        ctx.tenant,
        ctx.user_id,
        name=ctx.body.name,
        require_2fa=ctx.body.require_2fa,
    )
    return schemas.tenant_out(info, role=ctx.tenant.role, server_id=ctx.tenant.server_scope)
