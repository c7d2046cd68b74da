"""/v1/admin/servers and the node fleet actions: servers across tenants, a node's servers with
their live state, drain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.domain import fleet as fleet_records
    from mamba.domain.fleet import FleetServer
    from mamba.services import fleet
else:
    fleet = lazy_import("mamba.services.fleet")
    fleet_records = lazy_import("mamba.domain.fleet")

bp = Blueprint(__name__)


def _server(entry: FleetServer) -> dict[str, Any]:
    s = entry.server
    return {
        "uuid": s.uuid,
        "name": s.name,
        "status": s.status,
        "tenant": {"id": s.tenant_id, "name": entry.tenant_name},
        "node": {"id": s.node_id, "name": entry.node_name},
        "memory_mb": s.limits.memory_mb,
        "disk_mb": s.limits.disk_mb,
        "allocation": f"{s.allocation[0]}:{s.allocation[1]}",
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


@route(bp, "/v1/admin/servers", "GET", permission="admin.servers", tags=("admin: servers",),
       summary="Servers across tenants, with their tenant and node", response_model="fleet:AdminServerList",
       query=("limit", "cursor", "status", "node_id", "tenant_id", "q"))  # fmt: skip
def list_servers(ctx: Ctx) -> dict[str, Any]:
    found = fleet.list_servers(
        bootstrap.fleet_reader(), fleet_records.ServerFilter.from_query(ctx.query), PageRequest.from_query(ctx.query)
    )
    return {"items": [_server(e) for e in found.items], "next_cursor": found.next_cursor}


@route(bp, "/v1/admin/servers/{server_id}", "GET", permission="admin.servers", tags=("admin: servers",),
       summary="Any tenant's server, with its tenant and node and why it failed",
       response_model="fleet:AdminServerDetailOut")  # fmt: skip
def get_server(ctx: Ctx, server_id: str) -> dict[str, Any]:
    entry = fleet.server_detail(bootstrap.fleet_reader(), server_id)
    s = entry.server
    return {
        **_server(entry),
        "description": s.description,
        "status_reason": s.status_reason,
        "blueprint_id": s.blueprint_id,
        "docker_image": s.docker_image,
        "cpu_percent": s.limits.cpu_percent,
        "allocations": [f"{ip}:{port}" for ip, port in s.allocations],
        "installed_at": s.installed_at,
    }


@route(bp, "/v1/admin/nodes/{node_id}/servers", "GET", permission="admin.nodes", tags=("admin: nodes",),
       summary="A node's servers with their live state (live is null when the node does not answer)",
       response_model="fleet:NodeServerList", query=("limit", "cursor"))  # fmt: skip
def node_servers(ctx: Ctx, node_id: str) -> dict[str, Any]:
    found = fleet.node_servers(
        bootstrap.node_repository(), bootstrap.fleet_reader(), bootstrap.agent_for, node_id,
        PageRequest.from_query(ctx.query),
    )  # fmt: skip
    items = [
        {**_server(n.entry), "live": {"state": n.live.state, "is_suspended": n.live.is_suspended} if n.live else None}
        for n in found.page.items
    ]
    return {"node_reachable": found.reachable, "items": items, "next_cursor": found.page.next_cursor}


@route(bp, "/v1/admin/nodes/{node_id}/drain", "POST", permission="admin.nodes", tags=("admin: nodes",),
       summary="Drain a node: maintenance on, so no new server is placed on it",
       response_model="fleet:DrainOut")  # fmt: skip
def drain_node(ctx: Ctx, node_id: str) -> dict[str, Any]:
    drained = fleet.drain(bootstrap.node_repository(), bootstrap.fleet_reader(), node_id)
    return {"node": drained.node, "servers_left": drained.servers_left}
