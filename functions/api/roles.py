"""Roles of a tenant: the built-in ones (read-only) and custom roles over the tenant permissions."""

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.services import roles, service_accounts
    from mamba.services import server_control as control
else:
    roles = lazy_import("mamba.services.roles")
    control = lazy_import("mamba.services.server_control")
    service_accounts = lazy_import("mamba.services.service_accounts")

bp = Blueprint(__name__)
TAGS = ("roles",)


@route(
    bp,
    "/v1/tenants/{tenant_id}/roles",
    "GET",
    permission="roles.read",
    summary="Built-in roles (first page) and the tenant's custom roles",
    tags=TAGS,
    response_model="tenancy:RoleList",
    query=("limit", "cursor"),
)
def list_roles(ctx: Ctx, tenant_id: str) -> object:
    return roles.list_roles(bootstrap.tenancy_repository(), ctx.tenant, PageRequest.from_query(ctx.query))


@route(
    bp,
    "/v1/tenants/{tenant_id}/roles",
    "POST",
    permission="roles.manage",
    summary="Create a custom role from tenant permissions",
    tags=TAGS,
    request_model="tenancy:RoleCreate",
    response_model="tenancy:RoleOut",
    status=201,
)
def create_role(ctx: Ctx, tenant_id: str) -> object:
    body = ctx.body
    return roles.create_role(bootstrap.tenancy_repository(), ctx.tenant, body.name, body.permissions, body.description)


@route(
    bp,
    "/v1/tenants/{tenant_id}/roles/{role_id}",
    "GET",
    permission="roles.read",
    summary="One role, built-in (by name) or custom (by id)",
    tags=TAGS,
    response_model="tenancy:RoleOut",
)
def get_role(ctx: Ctx, tenant_id: str, role_id: str) -> object:
    return roles.get_role(bootstrap.tenancy_repository(), ctx.tenant, role_id)


@route(
    bp,
    "/v1/tenants/{tenant_id}/roles/{role_id}",
    "PATCH",
    permission="roles.manage",
    summary="Change a custom role; every member bound to it follows at once",
    tags=TAGS,
    request_model="tenancy:RoleUpdate",
    response_model="tenancy:RoleOut",
)
def update_role(ctx: Ctx, tenant_id: str, role_id: str) -> object:
    body = ctx.body
    repo = bootstrap.tenancy_repository()
    before = roles.get_role(repo, ctx.tenant, role_id)
    role = roles.update_role(
        repo,
        ctx.tenant,
        role_id,
        name=body.name,
        permissions=body.permissions,
        description=body.description,
        set_description="description" in body.model_fields_set,
    )
    if "servers.console" in before.permissions and "servers.console" not in role.permissions:
        # Every member bound to the role lost the console: Wings refuses their tokens from now on.
        control.revoke_console_for_role(
            bootstrap.server_control_ports(), repo, ctx.tenant.tenant_id, role_id, role.permissions
        )
        # And every service account bound to it (docs/service-accounts.md).
        control.revoke_console_for_role(
            bootstrap.server_control_ports(),
            service_accounts.AsMembers(bootstrap.service_account_repository()),
            ctx.tenant.tenant_id,
            role_id,
            role.permissions,
        )
    return role


@route(
    bp,
    "/v1/tenants/{tenant_id}/roles/{role_id}",
    "DELETE",
    permission="roles.manage",
    summary="Delete a custom role that no member is bound to",
    tags=TAGS,
    status=204,
)
def delete_role(ctx: Ctx, tenant_id: str, role_id: str) -> object:
    roles.delete_role(bootstrap.tenancy_repository(), ctx.tenant, role_id)
    return Response(body="", status_code=204)
