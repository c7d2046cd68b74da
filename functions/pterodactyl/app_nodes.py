"""/api/application/nodes and /locations: nodes (with their Wings configuration and
allocations) and locations, through the same node registry as /v1/admin/nodes
(docs/pterodactyl-api.md, "Nodes, locations and allocations")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain.pterodactyl import includes
from mamba.lazy import lazy_import
from mamba.pterodactyl_web import PteroCtx, ptero_route
from mamba.web import Reply

if TYPE_CHECKING:
    from mamba.services.pterodactyl import common
    from mamba.services.pterodactyl import nodes as service
else:
    common = lazy_import("mamba.services.pterodactyl.common")
    service = lazy_import("mamba.services.pterodactyl.nodes")

bp = Blueprint(__name__)
NODES = "/api/application/nodes"
LOCATIONS = "/api/application/locations"
PERMISSION = "admin.nodes"


def _url(path: str) -> str:
    return f"{bootstrap.settings().public_url}{path}"


# --- nodes ----------------------------------------------------------------------------------


@ptero_route(bp, NODES, "GET", permission=PERMISSION, resource="nodes",
             summary="Nodes, filtered (uuid, name, fqdn, daemon_token_id), sorted, paged")  # fmt: skip
def list_nodes(ctx: PteroCtx) -> Any:
    wanted = includes(ctx.query, service.NODE_INCLUDES)
    return service.list_nodes(bootstrap.ptero_node_ports(), ctx.query, _url(NODES), wanted)


@ptero_route(bp, f"{NODES}/deployable", "GET", permission=PERMISSION, resource="nodes",
             summary="Nodes with room for a server of the given memory and disk (and locations)")  # fmt: skip
def deployable_nodes(ctx: PteroCtx) -> Any:
    params = ctx.request.query_params
    raw_locations = params.getlist("location_ids[]") if params is not None and "location_ids[]" in params else []
    memory, disk = (_whole(ctx.query.get(name), name) for name in ("memory", "disk"))
    locations = [_whole(value, "location_ids") for value in raw_locations]
    return service.deployable_nodes(
        bootstrap.ptero_node_ports(), ctx.query, _url(f"{NODES}/deployable"), memory, disk, locations
    )


def _whole(value: str | None, name: str) -> int:
    if value is None or not value.strip().isdigit():
        raise common.invalid(name, "must be a whole number of 0 or more", "integer")
    return int(value)


@ptero_route(bp, f"{NODES}/{{node_id}}", "GET", permission=PERMISSION, resource="nodes", summary="A node")
def get_node(ctx: PteroCtx, node_id: str) -> Any:
    return service.get_node(bootstrap.ptero_node_ports(), node_id, includes(ctx.query, service.NODE_INCLUDES))


@ptero_route(bp, f"{NODES}/{{node_id}}/configuration", "GET", permission=PERMISSION, resource="nodes",
             summary="The node's Wings configuration as JSON (with its token)")  # fmt: skip
def node_configuration(ctx: PteroCtx, node_id: str) -> Any:
    return Reply(service.node_configuration(bootstrap.ptero_node_ports(), node_id), 200, {"Cache-Control": "no-store"})


@ptero_route(bp, NODES, "POST", permission=PERMISSION, resource="nodes", status=201,
             request_model="pterodactyl_nodes:PteroNodeIn", summary="Register a node")  # fmt: skip
def create_node(ctx: PteroCtx) -> Any:
    created = service.create_node(bootstrap.ptero_node_ports(), ctx.body.model_dump(), frozenset())
    return Reply({**created, "meta": {"resource": _url(f"{NODES}/{created['attributes']['id']}")}}, 201)


@ptero_route(bp, f"{NODES}/{{node_id}}", "PATCH", permission=PERMISSION, resource="nodes",
             request_model="pterodactyl_nodes:PteroNodePatch",
             summary="Change a node (reset_secret: a new token)")  # fmt: skip
def update_node(ctx: PteroCtx, node_id: str) -> Any:
    return service.update_node(bootstrap.ptero_node_ports(), node_id, ctx.body.model_dump(exclude_unset=True))


@ptero_route(bp, f"{NODES}/{{node_id}}", "DELETE", permission=PERMISSION, resource="nodes", status=204,
             summary="Delete a node that no server uses")  # fmt: skip
def delete_node(ctx: PteroCtx, node_id: str) -> None:
    service.delete_node(bootstrap.ptero_node_ports(), node_id)


# --- allocations ----------------------------------------------------------------------------


@ptero_route(bp, f"{NODES}/{{node_id}}/allocations", "GET", permission=PERMISSION, resource="allocations",
             summary="A node's allocations, filtered (ip, port, ip_alias, server_id) and paged")  # fmt: skip
def list_allocations(ctx: PteroCtx, node_id: str) -> Any:
    wanted = includes(ctx.query, service.ALLOCATION_INCLUDES)
    base = _url(f"{NODES}/{node_id}/allocations")
    return service.list_allocations(bootstrap.ptero_node_ports(), node_id, ctx.query, base, wanted)


@ptero_route(bp, f"{NODES}/{{node_id}}/allocations", "POST", permission=PERMISSION, resource="allocations",
             status=204, request_model="pterodactyl_nodes:PteroAllocationsIn",
             summary="Add an IP with ports and ranges (at most 1,000)")  # fmt: skip
def add_allocations(ctx: PteroCtx, node_id: str) -> None:
    body = ctx.body
    service.add_allocations(bootstrap.ptero_node_ports(), node_id, body.ip, [str(p) for p in body.ports], body.alias)


@ptero_route(bp, f"{NODES}/{{node_id}}/allocations/{{allocation_id}}", "DELETE", permission=PERMISSION,
             resource="allocations", status=204, summary="Delete an allocation no server holds")  # fmt: skip
def delete_allocation(ctx: PteroCtx, node_id: str, allocation_id: str) -> None:
    service.delete_allocation(bootstrap.ptero_node_ports(), node_id, allocation_id)


# --- locations ------------------------------------------------------------------------------


@ptero_route(bp, LOCATIONS, "GET", permission=PERMISSION, resource="locations",
             summary="Locations (the nodes' locations and those made here), filtered (short, long), paged")  # fmt: skip
def list_locations(ctx: PteroCtx) -> Any:
    wanted = includes(ctx.query, service.LOCATION_INCLUDES)
    return service.list_locations(bootstrap.ptero_node_ports(), ctx.query, _url(LOCATIONS), wanted)


@ptero_route(bp, f"{LOCATIONS}/{{location_id}}", "GET", permission=PERMISSION, resource="locations",
             summary="A location")  # fmt: skip
def get_location(ctx: PteroCtx, location_id: str) -> Any:
    wanted = includes(ctx.query, service.LOCATION_INCLUDES)
    return service.get_location(bootstrap.ptero_node_ports(), location_id, wanted)


@ptero_route(bp, LOCATIONS, "POST", permission=PERMISSION, resource="locations", status=201,
             request_model="pterodactyl_nodes:PteroLocationIn", summary="Create a location")  # fmt: skip
def create_location(ctx: PteroCtx) -> Any:
    created = service.create_location(bootstrap.ptero_node_ports(), ctx.body.short, ctx.body.long)
    return Reply({**created, "meta": {"resource": _url(f"{LOCATIONS}/{created['attributes']['id']}")}}, 201)


@ptero_route(bp, f"{LOCATIONS}/{{location_id}}", "PATCH", permission=PERMISSION, resource="locations",
             request_model="pterodactyl_nodes:PteroLocationPatch", summary="Change a location's long name")  # fmt: skip
def update_location(ctx: PteroCtx, location_id: str) -> Any:
    fields = ctx.body.model_dump(exclude_unset=True)
    return service.update_location(bootstrap.ptero_node_ports(), location_id, fields)


@ptero_route(bp, f"{LOCATIONS}/{{location_id}}", "DELETE", permission=PERMISSION, resource="locations",
             status=204, summary="Delete a location without nodes")  # fmt: skip
def delete_location(ctx: PteroCtx, location_id: str) -> None:
    service.delete_location(bootstrap.ptero_node_ports(), location_id)
