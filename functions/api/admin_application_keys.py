"""/v1/admin/application-keys: a platform admin's Pterodactyl application keys (ptla_), shown once
at creation, with per-resource rights (docs/pterodactyl-api.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.domain.pterodactyl import APPLICATION_RESOURCES
from mamba.lazy import lazy_import
from mamba.web import Ctx, route, with_fields

if TYPE_CHECKING:
    from mamba.domain.api_keys import ApiKey
    from mamba.schemas.application_keys import ApplicationKeyCreate
    from mamba.services import api_keys
else:
    api_keys = lazy_import("mamba.services.api_keys")

bp = Blueprint(__name__)
BASE = "/v1/admin/application-keys"
TAGS = ("admin",)


def _shown(record: ApiKey, **more: Any) -> Any:
    rights = dict(record.rights)
    return with_fields(record, permissions={r: rights.get(r, "none") for r in APPLICATION_RESOURCES}, **more)


@route(bp, BASE, "POST", permission="admin.application_keys", summary="Create a Pterodactyl application key",
       tags=TAGS, request_model="application_keys:ApplicationKeyCreate",
       response_model="application_keys:ApplicationKeyCreated", status=201)  # fmt: skip
def create_application_key(ctx: Ctx) -> Any:
    body: ApplicationKeyCreate = ctx.body
    principal = ctx.principal
    assert principal is not None
    created = api_keys.create_application_key(
        bootstrap.api_key_repository(),
        principal.user_id,
        name=body.name,
        rights=body.permissions.model_dump(),
        is_admin=principal.is_admin,
        via=principal.via,
        email_verified=principal.email_verified,
        allowed_ips=body.allowed_ips,
        events=bootstrap.events_or_none(),
        directory=bootstrap.tenancy_repository(),
    )
    return _shown(created.key, key=created.plaintext)


@route(bp, BASE, "GET", permission="admin.application_keys", summary="List your application keys, newest first",
       tags=TAGS, response_model="application_keys:ApplicationKeyList")  # fmt: skip
def list_application_keys(ctx: Ctx) -> Any:
    found = api_keys.list_application_keys(bootstrap.api_key_repository(), ctx.user_id)
    return {"items": [_shown(k) for k in found]}


@route(bp, BASE + "/{key_id}", "DELETE", permission="admin.application_keys",
       summary="Revoke an application key; it stops working at once", tags=TAGS, status=204)  # fmt: skip
def revoke_application_key(ctx: Ctx, key_id: str) -> Response:
    api_keys.revoke_key(bootstrap.api_key_repository(), ctx.user_id, key_id)
    return Response(body="", status_code=204)
