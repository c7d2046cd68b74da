"""/api/application/users: Pterodactyl users as Mamba accounts (docs/pterodactyl-api.md, "Users")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from functions.pterodactyl.app_includes import asked, refusing
from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.pterodactyl_web import PteroCtx, ptero_route
from mamba.web import Reply

if TYPE_CHECKING:
    from mamba.services.pterodactyl import users as service
else:
    service = lazy_import("mamba.services.pterodactyl.users")

bp = Blueprint(__name__)
BASE = "/api/application/users"
PERMISSION = "admin.users"


def _url(path: str = "") -> str:
    return f"{bootstrap.settings().public_url}{BASE}{path}"


@ptero_route(bp, BASE, "GET", permission=PERMISSION, resource="users",
             summary="Users, filtered (email, uuid, username, external_id), sorted (id, uuid) and paged")  # fmt: skip
def list_users(ctx: PteroCtx) -> Any:
    wanted, refused = asked(ctx, service.INCLUDES)
    return refusing(service.list_users(bootstrap.ptero_user_ports(), ctx.query, _url(), wanted), refused)


@ptero_route(bp, f"{BASE}/{{user_id}}", "GET", permission=PERMISSION, resource="users",
             summary="A user by integer id")  # fmt: skip
def get_user(ctx: PteroCtx, user_id: str) -> Any:
    ports = bootstrap.ptero_user_ports()
    user, ref = service.find(ports, user_id)
    wanted, refused = asked(ctx, service.INCLUDES)
    return refusing(service.user_object(ports, user, ref, wanted), refused)


@ptero_route(bp, f"{BASE}/external/{{external_id}}", "GET", permission=PERMISSION, resource="users",
             summary="A user by external id")  # fmt: skip
def get_external_user(ctx: PteroCtx, external_id: str) -> Any:
    ports = bootstrap.ptero_user_ports()
    user, ref = service.find_external(ports, external_id)
    wanted, refused = asked(ctx, service.INCLUDES)
    return refusing(service.user_object(ports, user, ref, wanted), refused)


@ptero_route(bp, BASE, "POST", permission=PERMISSION, resource="users", status=201,
             request_model="pterodactyl_users:PteroUserIn", summary="Create a user (a Mamba account)")  # fmt: skip
def create_user(ctx: PteroCtx) -> Any:
    created = service.create_user(bootstrap.ptero_user_ports(), ctx.body.model_dump())
    return Reply({**created, "meta": {"resource": _url(f"/{created['attributes']['id']}")}}, 201)


@ptero_route(bp, f"{BASE}/{{user_id}}", "PATCH", permission=PERMISSION, resource="users",
             request_model="pterodactyl_users:PteroUserPatch", summary="Change a user")  # fmt: skip
def update_user(ctx: PteroCtx, user_id: str) -> Any:
    fields = ctx.body.model_dump(exclude_unset=True)
    return service.update_user(bootstrap.ptero_user_ports(), ctx.user_id, user_id, fields)


@ptero_route(bp, f"{BASE}/{{user_id}}", "DELETE", permission=PERMISSION, resource="users", status=204,
             summary="Delete a user (as DELETE /v1/me: refused for an admin or the last owner of servers)")  # fmt: skip
def delete_user(ctx: PteroCtx, user_id: str) -> None:
    service.delete_user(bootstrap.ptero_user_ports(), ctx.user_id, user_id)
