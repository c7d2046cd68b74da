"""Power, console, logs, live resources and the console websocket of a tenant's server."""

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.domain.errors import ValidationError
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.services import server_control as control
else:
    control = lazy_import("mamba.services.server_control")

bp = Blueprint(__name__)
TAGS = ("servers",)
SERVER = "/v1/tenants/{tenant_id}/servers/{server_id}"


@route(
    bp,
    f"{SERVER}/power",
    "POST",
    permission="servers.power",
    summary="Start, stop, restart or kill the server (accepted at once; follow the status)",
    tags=TAGS,
    request_model="server_control:PowerIn",
    response_model="server_control:PowerOut",
    status=202,
)
def power(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    result: dict[str, object] = control.power(bootstrap.server_control_ports(), ctx.tenant, server_id, ctx.body.action)
    return result


@route(
    bp,
    f"{SERVER}/commands",
    "POST",
    permission="servers.console",
    summary="Send one command line to the running server's console",
    tags=TAGS,
    request_model="server_control:CommandIn",
    status=204,
)
def send_command(ctx: Ctx, tenant_id: str, server_id: str) -> object:
    control.send_command(bootstrap.server_control_ports(), ctx.tenant, server_id, ctx.body.command)
    return Response(body="", status_code=204)


@route(
    bp,
    f"{SERVER}/logs",
    "GET",
    permission="servers.read",
    summary="The last console lines (size 1..100, default 100)",
    tags=TAGS,
    response_model="server_control:LogsOut",
    query=("size",),
)
def get_logs(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    raw = ctx.query.get("size", str(control.LOG_LINES_DEFAULT))
    if not raw.isdigit():
        raise ValidationError("size must be a number.", {"fields": [{"field": "size", "message": "not a number"}]})
    return {"lines": control.logs(bootstrap.server_control_ports(), ctx.tenant, server_id, int(raw))}


@route(
    bp,
    f"{SERVER}/resources",
    "GET",
    permission="servers.read",
    summary="What the node reports now: state, suspension and utilization",
    tags=TAGS,
    response_model="server_control:ResourcesOut",
)
def get_resources(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    result: dict[str, object] = control.resources(bootstrap.server_control_ports(), ctx.tenant, server_id)
    return result


@route(
    bp,
    f"{SERVER}/websocket",
    "GET",
    permission="servers.console",
    summary="A console token and the node's socket URL (token valid 10 minutes)",
    tags=TAGS,
    response_model="server_control:WebsocketOut",
)
def get_websocket(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    principal = ctx.principal
    assert principal is not None  # a guarded route
    result: dict[str, object] = control.websocket(
        bootstrap.server_control_ports(),
        ctx.tenant,
        principal.user_id,
        server_id,
        permissions=principal.allowed(ctx.tenant.permissions),
        platform_admin=principal.is_admin and principal.scopes is None,
    )
    return result
