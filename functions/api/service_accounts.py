"""Service accounts of a tenant and their keys (docs/service-accounts.md).

Managing them needs ``members.manage`` (what issue 17 calls ``members.write``), reading them
``members.read``, like the members they stand next to in the tenant's access page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.domain.clock import now_epoch
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, parse_query, route, with_fields

# Models by name (mamba.routes.resolve_model): ``import app`` builds none of them.
if TYPE_CHECKING:
    from mamba.domain.service_accounts import ServiceAccount
    from mamba.schemas import api_keys as key_schemas
    from mamba.schemas import tenancy as tenancy_schemas
    from mamba.schemas.service_accounts import ServiceAccountCreate, ServiceAccountUpdate, ServiceKeyCreate
    from mamba.services import server_control as control
    from mamba.services import service_accounts
else:
    service_accounts = lazy_import("mamba.services.service_accounts")
    control = lazy_import("mamba.services.server_control")
    key_schemas = lazy_import("mamba.schemas.api_keys")
    tenancy_schemas = lazy_import("mamba.schemas.tenancy")

bp = Blueprint(__name__)
TAGS = ("service-accounts",)
BASE = "/v1/tenants/{tenant_id}/service-accounts"
ONE = BASE + "/{service_account_id}"


def _tell_nodes(tenant_id: str, before: ServiceAccount, after: ServiceAccount | None) -> None:
    """Committed; now best effort on the nodes, as for a member: access taken away ends the
    account's console tokens and open sockets where it lost them."""
    ports = bootstrap.server_control_ports()
    control.revoke_console_after_change(ports, tenant_id, before.id, before, after)
    control.deauthorize_after_change(ports, tenant_id, before.id, before, after)


def _out(account: ServiceAccount) -> object:
    return with_fields(account, permissions=account.effective_permissions, expired=account.expired(now_epoch()))


@route(
    bp,
    BASE,
    "POST",
    permission="members.manage",
    summary="Create a service account: a role binding for automation, used through its keys",
    tags=TAGS,
    request_model="service_accounts:ServiceAccountCreate",
    response_model="service_accounts:ServiceAccountOut",
    status=201,
)
def create_service_account(ctx: Ctx, tenant_id: str) -> object:
    body: ServiceAccountCreate = ctx.body
    assert ctx.principal is not None
    created = service_accounts.create_service_account(
        bootstrap.service_account_ports(),
        ctx.tenant,
        actor_id=ctx.principal.user_id,
        via=ctx.principal.via,
        name=body.name,
        role=body.role,
        server_id=body.server_id,
        expires_at=tenancy_schemas.to_epoch(body.expires_at),
        description=body.description,
    )
    return _out(created)


@route(
    bp,
    BASE,
    "GET",
    permission="members.read",
    summary="The tenant's service accounts and what each binding grants",
    tags=TAGS,
    response_model="service_accounts:ServiceAccountList",
    query=("limit", "cursor"),
)
def list_service_accounts(ctx: Ctx, tenant_id: str) -> object:
    page = service_accounts.list_service_accounts(
        bootstrap.service_account_ports(), ctx.tenant, PageRequest.from_query(ctx.query)
    )
    return {"items": [_out(a) for a in page.items], "next_cursor": page.next_cursor}


@route(
    bp,
    ONE,
    "GET",
    permission="members.read",
    summary="One service account",
    tags=TAGS,
    response_model="service_accounts:ServiceAccountOut",
)
def get_service_account(ctx: Ctx, tenant_id: str, service_account_id: str) -> object:
    return _out(service_accounts.get_service_account(bootstrap.service_account_ports(), ctx.tenant, service_account_id))


@route(
    bp,
    ONE,
    "PATCH",
    permission="members.manage",
    summary="Rename a service account or change its role, server scope or expiry (effective on its next request)",
    tags=TAGS,
    request_model="service_accounts:ServiceAccountUpdate",
    response_model="service_accounts:ServiceAccountOut",
)
def update_service_account(ctx: Ctx, tenant_id: str, service_account_id: str) -> object:
    body: ServiceAccountUpdate = ctx.body
    given = body.model_fields_set
    assert ctx.principal is not None
    ports = bootstrap.service_account_ports()
    before = service_accounts.get_service_account(ports, ctx.tenant, service_account_id)
    change = service_accounts.AccountChange(
        name=body.name,
        role=body.role,
        server_id=body.server_id,
        expires_at=tenancy_schemas.to_epoch(body.expires_at),
        description=body.description,
        set_server_id="server_id" in given,
        set_expires_at="expires_at" in given,
        set_description="description" in given,
    )
    updated = service_accounts.update_service_account(
        ports, ctx.tenant, service_account_id, change, via=ctx.principal.via
    )
    _tell_nodes(ctx.tenant.tenant_id, before, updated)
    return _out(updated)


@route(
    bp,
    ONE,
    "DELETE",
    permission="members.manage",
    summary="Delete a service account; its keys stop working at once",
    tags=TAGS,
    status=204,
)
def delete_service_account(ctx: Ctx, tenant_id: str, service_account_id: str) -> Response:
    assert ctx.principal is not None
    ports = bootstrap.service_account_ports()
    before = service_accounts.get_service_account(ports, ctx.tenant, service_account_id)
    service_accounts.delete_service_account(ports, ctx.tenant, service_account_id, via=ctx.principal.via)
    _tell_nodes(ctx.tenant.tenant_id, before, None)
    return Response(body="", status_code=204)


@route(
    bp,
    ONE + "/keys",
    "POST",
    permission="members.manage",
    summary="Create a key for a service account (at most two active); the key is in this response only",
    tags=TAGS,
    request_model="service_accounts:ServiceKeyCreate",
    response_model="service_accounts:ServiceKeyCreated",
    status=201,
)
def create_service_account_key(ctx: Ctx, tenant_id: str, service_account_id: str) -> object:
    body: ServiceKeyCreate = ctx.body
    assert ctx.principal is not None
    created = service_accounts.create_key(
        bootstrap.service_account_ports(),
        ctx.tenant,
        service_account_id,
        via=ctx.principal.via,
        name=body.name,
        scopes=body.scopes,
        server_ids=body.server_ids,
        allowed_ips=body.allowed_ips,
        expires_at=int(body.expires_at.timestamp()) if body.expires_at else None,
    )
    return with_fields(created.key, key=created.plaintext)


@route(
    bp,
    ONE + "/keys",
    "GET",
    permission="members.read",
    summary="A service account's keys (never their secrets), newest first",
    tags=TAGS,
    response_model="service_accounts:ServiceKeyList",
    query="api_keys:ApiKeyQuery",
)
def list_service_account_keys(ctx: Ctx, tenant_id: str, service_account_id: str) -> object:
    query = parse_query(ctx.request, key_schemas.ApiKeyQuery)
    return service_accounts.list_keys(
        bootstrap.service_account_ports(), ctx.tenant, service_account_id, limit=query.limit, cursor=query.cursor
    )


@route(
    bp,
    ONE + "/keys/{key_id}",
    "DELETE",
    permission="members.manage",
    summary="Revoke a service account's key; it stops working at once",
    tags=TAGS,
    status=204,
)
def revoke_service_account_key(ctx: Ctx, tenant_id: str, service_account_id: str, key_id: str) -> Response:
    service_accounts.revoke_key(bootstrap.service_account_ports(), ctx.tenant, service_account_id, key_id)
    return Response(body="", status_code=204)
