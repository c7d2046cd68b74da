"""Platform admin: every tenant; suspend (members keep read access, servers are suspended) and unsuspend."""

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.schemas.tenancy import AdminTenantList, AdminTenantOut
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.services import admin
else:
    admin = lazy_import("mamba.services.admin")

bp = Blueprint(__name__)
TAGS = ("admin",)


def _suspension() -> admin.TenantSuspension:
    return admin.TenantSuspension(operations=bootstrap.operation_repository(), workflows=bootstrap.workflows())


@route(
    bp,
    "/v1/admin/tenants",
    "GET",
    permission="admin.tenants",
    summary="Every tenant, oldest first",
    tags=TAGS,
    response_model=AdminTenantList,
    query=("limit", "cursor"),
)
def list_tenants(ctx: Ctx) -> object:
    return admin.list_tenants(bootstrap.admin_repository(), PageRequest.from_query(ctx.query))


@route(
    bp,
    "/v1/admin/tenants/{tenant_id}",
    "GET",
    permission="admin.tenants",
    summary="A tenant's profile, status and owner count",
    tags=TAGS,
    response_model=AdminTenantOut,
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
    response_model=AdminTenantOut,
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
    response_model=AdminTenantOut,
)
def unsuspend_tenant(ctx: Ctx, tenant_id: str) -> object:
    return admin.unsuspend_tenant(bootstrap.admin_repository(), _suspension(), tenant_id)
