"""/api/client/servers/{server}/users: a server's subusers, i.e. the members of its tenant bound
to that server, through the same member and invitation use cases as /v1
(mamba.services.pterodactyl.subusers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.pterodactyl_web import PteroCtx, ptero_route

if TYPE_CHECKING:
    from mamba.auth.context import TenantContext
    from mamba.services.pterodactyl import subusers as service
else:
    service = lazy_import("mamba.services.pterodactyl.subusers")

bp = Blueprint(__name__)
USERS = "/api/client/servers/{server}/users"
ONE = USERS + "/{user}"
ACCEPT_PATH = "/invitations/accept"  # the page that takes the mailed token, as /v1's invitations


def _on(ctx: PteroCtx) -> tuple[TenantContext, str]:
    """The path server's tenant as the guard verified it, and the server's uuid."""
    tenant = ctx.principal.tenant
    assert tenant is not None and ctx.server is not None  # a {server} route: the guard resolved both
    return tenant, ctx.server.ref


def _ports() -> Any:
    return service.SubuserPorts(
        repo=bootstrap.tenancy_repository(),
        users=bootstrap.user_repository(),
        mailer=bootstrap.mailer(),
        control=bootstrap.server_control_ports(),
        accept_url=bootstrap.settings().public_url + ACCEPT_PATH,
        limiter=bootstrap.rate_limiter(),
        limits=bootstrap.invitation_limits(),
        events=bootstrap.events_or_none(),
    )


@ptero_route(bp, USERS, "GET", permission="members.read", summary="The server's subusers")
def list_subusers(ctx: PteroCtx, server: str) -> Any:
    tenant, server_id = _on(ctx)
    return service.list_subusers(_ports(), tenant, server_id)


@ptero_route(bp, USERS, "POST", permission="members.manage", summary="Invite a subuser with Pterodactyl permissions",
             request_model="pterodactyl_files:SubuserIn")  # fmt: skip
def create_subuser(ctx: PteroCtx, server: str) -> Any:
    tenant, server_id = _on(ctx)
    body = ctx.body
    return service.create_subuser(_ports(), tenant, ctx.user_id, server_id, body.email, body.permissions)


@ptero_route(bp, ONE, "GET", permission="members.read", summary="One subuser")
def get_subuser(ctx: PteroCtx, server: str, user: str) -> Any:
    tenant, server_id = _on(ctx)
    return service.get_subuser(_ports(), tenant, server_id, user)


@ptero_route(bp, ONE, "POST", permission="members.manage", summary="Change a subuser's permissions",
             request_model="pterodactyl_files:SubuserUpdate")  # fmt: skip
def update_subuser(ctx: PteroCtx, server: str, user: str) -> Any:
    tenant, server_id = _on(ctx)
    return service.update_subuser(_ports(), tenant, ctx.user_id, server_id, user, ctx.body.permissions)


@ptero_route(bp, ONE, "DELETE", permission="members.manage", summary="Remove a subuser", status=204)
def delete_subuser(ctx: PteroCtx, server: str, user: str) -> None:
    tenant, server_id = _on(ctx)
    service.delete_subuser(_ports(), tenant, server_id, user)
