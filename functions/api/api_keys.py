"""API keys of the calling user: create (shown once), list, revoke, rotate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import Ctx, parse_query, route, with_fields

if TYPE_CHECKING:
    from mamba.schemas import api_keys as schemas
    from mamba.schemas.api_keys import ApiKeyCreate
    from mamba.services import api_keys
else:
    api_keys = lazy_import("mamba.services.api_keys")
    schemas = lazy_import("mamba.schemas.api_keys")

bp = Blueprint(__name__)


@route(
    bp,
    "/v1/me/api-keys",
    "POST",
    permission="api_keys.manage",
    summary="Create an API key; the key is in this response only",
    tags=("api-keys",),
    request_model="api_keys:ApiKeyCreate",
    response_model="api_keys:ApiKeyCreated",
    status=201,
)
def create_api_key(ctx: Ctx) -> object:
    body: ApiKeyCreate = ctx.body
    principal = ctx.principal
    assert principal is not None
    created = api_keys.create_key(
        bootstrap.api_key_repository(),
        principal.user_id,
        name=body.name,
        scopes=body.scopes,
        server_ids=body.server_ids,
        allowed_ips=body.allowed_ips,
        expires_at=int(body.expires_at.timestamp()) if body.expires_at else None,
        is_admin=principal.is_admin,
        via=principal.via,
        email_verified=principal.email_verified,
        events=bootstrap.events_or_none(),
        directory=bootstrap.tenancy_repository(),
        spelled=body.format,
    )
    return with_fields(created.key, key=created.plaintext)


@route(
    bp,
    "/v1/me/api-keys",
    "GET",
    permission="api_keys.manage",
    summary="List your API keys (never their secrets), newest first",
    tags=("api-keys",),
    response_model="api_keys:ApiKeyList",
    query="api_keys:ApiKeyQuery",
)
def list_api_keys(ctx: Ctx) -> object:
    assert ctx.principal is not None
    query = parse_query(ctx.request, schemas.ApiKeyQuery)
    return api_keys.list_keys(
        bootstrap.api_key_repository(), ctx.principal.user_id, limit=query.limit, cursor=query.cursor
    )


@route(
    bp,
    "/v1/me/api-keys/{key_id}",
    "DELETE",
    permission="api_keys.manage",
    summary="Revoke an API key; it stops working at once",
    tags=("api-keys",),
    status=204,
)
def revoke_api_key(ctx: Ctx, key_id: str) -> Response:
    assert ctx.principal is not None
    api_keys.revoke_key(bootstrap.api_key_repository(), ctx.principal.user_id, key_id)
    return Response(body="", status_code=204)


@route(
    bp,
    "/v1/me/api-keys/{key_id}/rotate",
    "POST",
    permission="api_keys.manage",
    summary="Replace a key with a new secret; the old one keeps working for the grace period (at most 24 h)",
    tags=("api-keys",),
    request_model="api_keys:ApiKeyRotate",
    response_model="api_keys:ApiKeyRotated",
    status=201,
)
def rotate_api_key(ctx: Ctx, key_id: str) -> object:
    principal = ctx.principal
    assert principal is not None
    rotated = api_keys.rotate_key(
        bootstrap.api_key_repository(),
        principal.user_id,
        key_id,
        grace_seconds=ctx.body.grace_seconds,
        via=principal.via,
        email_verified=principal.email_verified,
        events=bootstrap.events_or_none(),
        directory=bootstrap.tenancy_repository(),
    )
    return with_fields(
        rotated.new.key,
        key=rotated.new.plaintext,
        replaces=rotated.previous.id,
        previous_expires_at=rotated.previous.expires_at,
    )
