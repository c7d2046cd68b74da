"""Platform admin: every tenant (with search); its members, billing, credits and invoices, read
through the tenant's own use cases; suspend (members keep read access, servers are suspended)
and unsuspend; export (a JSON archive in the export bucket, answered with a presigned link)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain.clock import now_epoch
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.schemas import tenancy as schemas
    from mamba.schemas.tenancy import MemberList
    from mamba.services import admin, billing, members, tenant_export
else:
    admin = lazy_import("mamba.services.admin")
    billing = lazy_import("mamba.services.billing")
    members = lazy_import("mamba.services.members")
    tenant_export = lazy_import("mamba.services.tenant_export")
    schemas = lazy_import("mamba.schemas.tenancy")

bp = Blueprint(__name__)
TAGS = ("admin",)


def _suspension() -> admin.TenantSuspension:
    return admin.TenantSuspension(operations=bootstrap.operation_repository(), workflows=bootstrap.workflows())


@route(
    bp,
    "/v1/admin/tenants",
    "GET",
    permission="admin.tenants",
    summary="Every tenant, oldest first; q narrows each page to a name or id containing it",
    tags=TAGS,
    response_model="tenancy:AdminTenantList",
    query=("limit", "cursor", "q"),
)
def list_tenants(ctx: Ctx) -> object:
    return admin.list_tenants(bootstrap.admin_repository(), PageRequest.from_query(ctx.query), ctx.query.get("q"))


@route(
    bp,
    "/v1/admin/tenants/{tenant_id}",
    "GET",
    permission="admin.tenants",
    summary="A tenant's profile, status and owner count",
    tags=TAGS,
    response_model="tenancy:AdminTenantOut",
)
def get_tenant(ctx: Ctx, tenant_id: str) -> object:
    return admin.get_tenant(bootstrap.admin_repository(), tenant_id)


@route(
    bp,
    "/v1/admin/tenants/{tenant_id}/suspend",
    "POST",
    permission="admin.tenants",
    summary="Suspend a tenant and its servers: members can still read, changes answer 403 TENANT_SUSPENDED",
    tags=TAGS,
    response_model="tenancy:AdminTenantOut",
)
def suspend_tenant(ctx: Ctx, tenant_id: str) -> object:
    return admin.suspend_tenant(bootstrap.admin_repository(), _suspension(), tenant_id)


@route(
    bp,
    "/v1/admin/tenants/{tenant_id}/unsuspend",
    "POST",
    permission="admin.tenants",
    summary="Lift a tenant's suspension (its servers come back unless billing still holds them)",
    tags=TAGS,
    response_model="tenancy:AdminTenantOut",
)
def unsuspend_tenant(ctx: Ctx, tenant_id: str) -> object:
    return admin.unsuspend_tenant(bootstrap.admin_repository(), _suspension(), tenant_id)


@route(
    bp,
    "/v1/admin/tenants/{tenant_id}/members",
    "GET",
    permission="admin.tenants",
    summary="A tenant's members and what each binding grants",
    tags=TAGS,
    response_model="tenancy:MemberList",
    query=("limit", "cursor"),
)
def list_members(ctx: Ctx, tenant_id: str) -> MemberList:
    view = admin.tenant_view(bootstrap.admin_repository(), tenant_id)
    page = members.list_members(bootstrap.tenancy_repository(), view, PageRequest.from_query(ctx.query))
    now = now_epoch()
    return schemas.MemberList(
        items=[schemas.member_out(m.member, now, m.contact) for m in page.items], next_cursor=page.next_cursor
    )


@route(
    bp,
    "/v1/admin/tenants/{tenant_id}/billing",
    "GET",
    permission="admin.tenants",
    summary="A tenant's plan, subscription status, quotas, usage so far and credit balance",
    tags=TAGS,
    response_model="billing:BillingOut",
    billing=True,
)
def get_billing(ctx: Ctx, tenant_id: str) -> object:
    return billing.summary(bootstrap.billing_ports(), admin.tenant_view(bootstrap.admin_repository(), tenant_id))


@route(
    bp,
    "/v1/admin/tenants/{tenant_id}/credits",
    "GET",
    permission="admin.tenants",
    summary="A tenant's credit balance and history",
    tags=TAGS,
    response_model="billing:CreditList",
    query=("limit", "cursor"),
    billing=True,
)
def list_credits(ctx: Ctx, tenant_id: str) -> object:
    view = admin.tenant_view(bootstrap.admin_repository(), tenant_id)
    return billing.credits(bootstrap.billing_ports(), view, PageRequest.from_query(ctx.query))


@route(
    bp,
    "/v1/admin/tenants/{tenant_id}/invoices",
    "GET",
    permission="admin.tenants",
    summary="A tenant's invoices from Stripe, newest first, with hosted and PDF links once finalized",
    tags=TAGS,
    response_model="billing:InvoiceList",
    query=("limit", "cursor"),
    billing=True,
)
def list_invoices(ctx: Ctx, tenant_id: str) -> object:
    view = admin.tenant_view(bootstrap.admin_repository(), tenant_id)
    page = PageRequest.from_query(ctx.query, default=12, maximum=100)
    return billing.invoices(bootstrap.billing_ports(), view, page.limit, page.cursor)


@route(
    bp,
    "/v1/admin/tenants/{tenant_id}/export",
    "POST",
    permission="admin.tenants",
    summary="Export a tenant's records as a JSON archive; answers a download link valid 15 minutes",
    tags=TAGS,
    response_model="tenancy:TenantExportOut",
    status=201,
)
def export_tenant(ctx: Ctx, tenant_id: str) -> object:
    return tenant_export.export_tenant(
        bootstrap.admin_repository(), bootstrap.tenant_records(), bootstrap.export_store(), tenant_id, ctx.user_id
    )
