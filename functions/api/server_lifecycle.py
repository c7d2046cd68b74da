"""A server's lifecycle: change (PATCH), delete, reinstall; admin suspend, unsuspend and
force-delete. Each long step runs as a workflow; the answer is 202 with the operation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import Ctx, Reply, route

if TYPE_CHECKING:
    from mamba.services import server_lifecycle as lifecycle
else:
    lifecycle = lazy_import("mamba.services.server_lifecycle")

bp = Blueprint(__name__)
TAGS = ("servers",)
ADMIN_TAGS = ("admin: servers",)
SERVER = "/v1/tenants/{tenant_id}/servers/{server_id}"


def accepted(op: Any) -> dict[str, Any]:
    return {"operation": op}


@route(bp, SERVER, "PATCH", permission="servers.update", tags=TAGS, request_model="server_lifecycle:ServerPatch",
       response_model="server_lifecycle:ServerUpdatedOut", status=202, also=(200,),
       summary="Rename a server or change its limits (limits run update_server_build)")  # fmt: skip
def update_server(ctx: Ctx, tenant_id: str, server_id: str) -> Any:
    changes = ctx.body.model_dump(exclude_unset=True, exclude_none=True)
    server, op = lifecycle.update_server(bootstrap.server_lifecycle(), ctx.tenant, server_id, changes)
    return Reply({"server": server, "operation": op}, status=202 if op else 200)


@route(bp, SERVER, "DELETE", permission="servers.delete", tags=TAGS,
       response_model="server_lifecycle:OperationAcceptedOut",
       status=202, summary="Delete a server (kill, delete on the node, free its allocations)")  # fmt: skip
def delete_server(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, Any]:
    return accepted(lifecycle.delete_server(bootstrap.server_lifecycle(), ctx.tenant, server_id))


@route(bp, SERVER + "/reinstall", "POST", permission="servers.reinstall", tags=TAGS,
       response_model="server_lifecycle:OperationAcceptedOut", status=202,
       summary="Reinstall a server (stop it and run its install script again)")  # fmt: skip
def reinstall_server(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, Any]:
    return accepted(lifecycle.reinstall_server(bootstrap.server_lifecycle(), ctx.tenant, server_id))


@route(bp, "/v1/admin/servers/{server_id}/suspend", "POST", permission="admin.servers", tags=ADMIN_TAGS,
       response_model="server_lifecycle:OperationAcceptedOut", status=202,
       summary="Suspend a server (it is killed and cannot start)")  # fmt: skip
def suspend_server(ctx: Ctx, server_id: str) -> dict[str, Any]:
    return accepted(lifecycle.suspend_server(bootstrap.server_lifecycle(), server_id))


@route(bp, "/v1/admin/servers/{server_id}/unsuspend", "POST", permission="admin.servers", tags=ADMIN_TAGS,
       response_model="server_lifecycle:OperationAcceptedOut", status=202, summary="Unsuspend a server")  # fmt: skip
def unsuspend_server(ctx: Ctx, server_id: str) -> dict[str, Any]:
    return accepted(lifecycle.unsuspend_server(bootstrap.server_lifecycle(), server_id))


@route(bp, "/v1/admin/servers/{server_id}/force-delete", "POST", permission="admin.servers", tags=ADMIN_TAGS,
       response_model="server_lifecycle:OperationAcceptedOut", status=202,
       summary="Finish the delete of a server whose node stayed down (node failures are skipped)")  # fmt: skip
def force_delete_server(ctx: Ctx, server_id: str) -> dict[str, Any]:
    return accepted(lifecycle.force_delete_server(bootstrap.server_lifecycle(), server_id))
