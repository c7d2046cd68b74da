"""/v1/tenants/{tenant_id}/servers: create (202 + operation), list, get one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.domain import servers as server_records
    from mamba.schemas.servers import ServerIn
    from mamba.services import servers as service
else:
    service = lazy_import("mamba.services.servers")
    server_records = lazy_import("mamba.domain.servers")

bp = Blueprint(__name__)
TAGS = ("servers",)
BASE = "/v1/tenants/{tenant_id}/servers"


def ports() -> Any:
    return bootstrap.server_ports()


@route(bp, BASE, "POST", permission="servers.create", summary="Create a server (placement, quotas, provisioning)",
       tags=TAGS, request_model="servers:ServerIn", response_model="servers:ServerCreated", status=202)  # fmt: skip
def create_server(ctx: Ctx, tenant_id: str) -> dict[str, Any]:
    body: ServerIn = ctx.body
    limits = body.limits
    cmd = server_records.CreateServer(
        name=body.name,
        description=body.description,
        blueprint_id=body.blueprint_id,
        memory_mb=limits.memory_mb,
        disk_mb=limits.disk_mb,
        cpu_percent=limits.cpu_percent,
        swap_mb=limits.swap_mb,
        io_weight=limits.io_weight,
        threads=limits.threads,
        oom_disabled=limits.oom_disabled,
        environment=dict(body.environment),
        docker_image=body.docker_image,
        location=body.location,
        tag=body.tag,
        start_on_completion=body.start_on_completion,
    )
    server, op = service.create_server(ports(), ctx.tenant, cmd, correlation_id=ctx.request_id)
    return {"server": server, "operation": op}


@route(bp, BASE, "GET", permission="servers.read", summary="List servers (cursor pages, ?status= filter)",
       tags=TAGS, response_model="servers:ServerList", query=("limit", "cursor", "status"))  # fmt: skip
def list_servers(ctx: Ctx, tenant_id: str) -> Any:
    return service.list_servers(
        bootstrap.server_repository(), ctx.tenant, PageRequest.from_query(ctx.query), ctx.query.get("status") or None
    )


@route(bp, BASE + "/{server_id}", "GET", permission="servers.read", summary="Get a server", tags=TAGS,
       response_model="servers:ServerOut")  # fmt: skip
def get_server(ctx: Ctx, tenant_id: str, server_id: str) -> Any:
    return service.get_server(bootstrap.server_repository(), ctx.tenant, server_id)
