"""/v1/admin/nodes: the node registry, token rotation, Wings config.yml and allocations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import Ctx, route, with_fields

if TYPE_CHECKING:
    from mamba.services import node_health
    from mamba.services import nodes as service
else:
    node_health = lazy_import("mamba.services.node_health")
    service = lazy_import("mamba.services.nodes")

bp = Blueprint(__name__)
TAGS = ("admin: nodes",)
PERMISSION = "admin.nodes"
YAML = "application/x-yaml"


@route(bp, "/v1/admin/nodes", "POST", permission=PERMISSION, summary="Register a node", tags=TAGS,
       request_model="nodes:NodeIn", response_model="nodes:NodeOut", status=201)  # fmt: skip
def create_node(ctx: Ctx) -> Any:
    return service.create_node(bootstrap.node_repository(), ctx.body.model_dump())


@route(bp, "/v1/admin/nodes", "GET", permission=PERMISSION, summary="List nodes", tags=TAGS,
       response_model="nodes:NodeList", query=("limit", "cursor"))  # fmt: skip
def list_nodes(ctx: Ctx) -> dict[str, Any]:
    found, cursor = service.list_nodes(
        bootstrap.node_repository(),
        service.page_limit(ctx.query.get("limit")),
        ctx.query.get("cursor"),
    )
    healths = bootstrap.node_health_store().health_of([n.id for n in found]) if found else {}
    items = [with_fields(n, health=node_health.describe(healths.get(n.id))) for n in found]
    return {"items": items, "next_cursor": cursor}


@route(bp, "/v1/admin/nodes/{node_id}", "GET", permission=PERMISSION, summary="Get a node", tags=TAGS,
       response_model="nodes:NodeOut")  # fmt: skip
def get_node(ctx: Ctx, node_id: str) -> object:
    node = service.get_node(bootstrap.node_repository(), node_id)
    return with_fields(node, health=node_health.describe(bootstrap.node_health_store().get(node.id)))


@route(bp, "/v1/admin/nodes/{node_id}", "PATCH", permission=PERMISSION, summary="Change a node", tags=TAGS,
       request_model="nodes:NodePatch", response_model="nodes:NodeOut")  # fmt: skip
def update_node(ctx: Ctx, node_id: str) -> object:
    changes = ctx.body.model_dump(exclude_unset=True, exclude_none=True)
    return service.update_node(bootstrap.node_repository(), node_id, changes)


@route(bp, "/v1/admin/nodes/{node_id}", "DELETE", permission=PERMISSION, summary="Delete a node", tags=TAGS,
       status=204)  # fmt: skip
def delete_node(ctx: Ctx, node_id: str) -> Response:
    service.delete_node(bootstrap.node_repository(), node_id)
    return Response(body="", status_code=204)


@route(bp, "/v1/admin/nodes/{node_id}/rotate-token", "POST", permission=PERMISSION, tags=TAGS,
       summary="Issue a new node token (the old one stops working at once)",
       response_model="nodes:NodeOut")  # fmt: skip
def rotate_token(ctx: Ctx, node_id: str) -> Any:
    return service.rotate_token(bootstrap.node_repository(), node_id)


@route(bp, "/v1/admin/nodes/{node_id}/configuration", "GET", permission=PERMISSION, tags=TAGS,
       summary="The node's Wings config.yml", content_type=YAML)  # fmt: skip
def node_configuration(ctx: Ctx, node_id: str) -> Response:
    text = service.node_configuration(bootstrap.node_repository(), node_id, bootstrap.settings().public_url)
    return Response(body=text, status_code=200, headers={"Content-Type": YAML, "Cache-Control": "no-store"})


@route(bp, "/v1/admin/nodes/{node_id}/allocations", "POST", permission=PERMISSION, tags=TAGS,
       summary="Add an IP with ports or ranges (up to 1,000)", request_model="nodes:AllocationsIn",
       response_model="nodes:AllocationsCreated", status=201)  # fmt: skip
def add_allocations(ctx: Ctx, node_id: str) -> dict[str, Any]:
    body = ctx.body
    result = service.add_allocations(
        bootstrap.node_repository(),
        bootstrap.allocation_repository(),
        node_id,
        body.ip,
        body.ports,
        alias=body.alias,
        notes=body.notes,
    )
    return {"items": result.created, "conflicts": result.conflicts}


@route(bp, "/v1/admin/nodes/{node_id}/allocations", "GET", permission=PERMISSION, tags=TAGS,
       summary="List a node's allocations", response_model="nodes:AllocationList",
       query=("limit", "cursor"))  # fmt: skip
def list_allocations(ctx: Ctx, node_id: str) -> dict[str, Any]:
    found, cursor = service.list_allocations(
        bootstrap.node_repository(),
        bootstrap.allocation_repository(),
        node_id,
        service.page_limit(ctx.query.get("limit")),
        ctx.query.get("cursor"),
    )
    return {"items": found, "next_cursor": cursor}


@route(bp, "/v1/admin/nodes/{node_id}/allocations/{allocation_id}", "DELETE", permission=PERMISSION, tags=TAGS,
       summary="Delete an allocation that no server holds", status=204)  # fmt: skip
def delete_allocation(ctx: Ctx, node_id: str, allocation_id: str) -> Response:
    service.delete_allocation(bootstrap.allocation_repository(), node_id, allocation_id)
    return Response(body="", status_code=204)
