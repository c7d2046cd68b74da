"""/api/client: the servers a user may read, one server's details, its resources, console
websocket, power and commands (mamba.services.pterodactyl.client_servers)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.pterodactyl_web import PteroCtx, ptero_route

if TYPE_CHECKING:
    from mamba.services import server_control as control
    from mamba.services.pterodactyl import client_servers as service
else:
    control = lazy_import("mamba.services.server_control")
    service = lazy_import("mamba.services.pterodactyl.client_servers")

bp = Blueprint(__name__)
SERVER = "/api/client/servers/{server}"
# Pterodactyl's kill needs control.stop; every signal is Mamba's servers.power.
SIGNALS = ("start", "stop", "restart", "kill")


@ptero_route(bp, "/api/client", "GET", permission="servers.read",
             summary="The servers of every tenant where you may read them (?type=, ?filter[], ?include=)")  # fmt: skip
def list_servers(ctx: PteroCtx) -> Any:
    base = bootstrap.settings().public_url.rstrip("/") + "/api/client"
    return service.list_servers(
        bootstrap.ptero_client_ports(), ctx.principal, ctx.query, now=time.time(), base_url=base
    )


@ptero_route(bp, SERVER, "GET", permission="servers.read",
             summary="A server, with your permission keys on it")  # fmt: skip
def get_server(ctx: PteroCtx, server: str) -> Any:
    return service.details(bootstrap.ptero_client_ports(), ctx.principal, ctx.server, ctx.query)


@ptero_route(bp, SERVER + "/resources", "GET", permission="servers.read",
             summary="What the node reports now: state and utilization")  # fmt: skip
def get_resources(ctx: PteroCtx, server: str) -> Any:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    return service.stats_item(control.resources(bootstrap.server_control_ports(), tenant, uuid))


@ptero_route(bp, SERVER + "/websocket", "GET", permission="servers.console",
             summary="A console token and the node's socket URL")  # fmt: skip
def get_websocket(ctx: PteroCtx, server: str) -> Any:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    minted = control.websocket(
        bootstrap.server_control_ports(),
        tenant,
        ctx.principal.user_id,
        uuid,
        permissions=ctx.principal.allowed(tenant.permissions),
        platform_admin=ctx.principal.is_admin and ctx.principal.scopes is None,
    )
    return {"data": {"token": minted["token"], "socket": minted["socket"]}}


@ptero_route(bp, SERVER + "/power", "POST", permission="servers.power", status=204,
             request_model="pterodactyl_client:PowerIn", summary="Start, stop, restart or kill the server")  # fmt: skip
def send_power(ctx: PteroCtx, server: str) -> None:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    control.power(bootstrap.server_control_ports(), tenant, uuid, ctx.body.signal)


@ptero_route(bp, SERVER + "/command", "POST", permission="servers.console", status=204,
             request_model="pterodactyl_client:CommandIn", summary="Send one line to the server's console")  # fmt: skip
def send_command(ctx: PteroCtx, server: str) -> None:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    control.send_command(bootstrap.server_control_ports(), tenant, uuid, ctx.body.command)
