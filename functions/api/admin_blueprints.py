"""/v1/admin/blueprints: blueprints (eggs), egg import and export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.schemas.blueprints import BlueprintIn, BlueprintList, BlueprintOut, BlueprintPatch, EggIn
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.domain import blueprints as domain
    from mamba.services import blueprints as service
    from mamba.services import nodes as nodes_service
else:
    service = lazy_import("mamba.services.blueprints")
    nodes_service = lazy_import("mamba.services.nodes")
    domain = lazy_import("mamba.domain.blueprints")

bp = Blueprint(__name__)
TAGS = ("admin: blueprints",)
PERMISSION = "admin.blueprints"


@route(bp, "/v1/admin/blueprints", "POST", permission=PERMISSION, summary="Create a blueprint", tags=TAGS,
       request_model=BlueprintIn, response_model=BlueprintOut, status=201)  # fmt: skip
def create_blueprint(ctx: Ctx) -> dict[str, Any]:
    return domain.blueprint_to_dict(service.create_blueprint(bootstrap.blueprint_repository(), ctx.body.model_dump()))


@route(bp, "/v1/admin/blueprints/import", "POST", permission=PERMISSION, tags=TAGS,
       summary="Import a Pterodactyl egg (PTDL_v1 or PTDL_v2 JSON)", request_model=EggIn,
       response_model=BlueprintOut, status=201)  # fmt: skip
def import_egg(ctx: Ctx) -> dict[str, Any]:
    imported = service.import_egg(bootstrap.blueprint_repository(), ctx.body.model_dump())
    return domain.blueprint_to_dict(imported)


@route(bp, "/v1/admin/blueprints", "GET", permission=PERMISSION, summary="List blueprints", tags=TAGS,
       response_model=BlueprintList, query=("limit", "cursor"))  # fmt: skip
def list_blueprints(ctx: Ctx) -> dict[str, Any]:
    found, cursor = service.list_blueprints(
        bootstrap.blueprint_repository(),
        nodes_service.page_limit(ctx.query.get("limit")),
        ctx.query.get("cursor"),
    )
    return {"items": [domain.blueprint_to_dict(b) for b in found], "next_cursor": cursor}


@route(bp, "/v1/admin/blueprints/{blueprint_id}", "GET", permission=PERMISSION, summary="Get a blueprint",
       tags=TAGS, response_model=BlueprintOut)  # fmt: skip
def get_blueprint(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    return domain.blueprint_to_dict(service.get_blueprint(bootstrap.blueprint_repository(), blueprint_id))


@route(bp, "/v1/admin/blueprints/{blueprint_id}", "PATCH", permission=PERMISSION, summary="Change a blueprint",
       tags=TAGS, request_model=BlueprintPatch, response_model=BlueprintOut)  # fmt: skip
def update_blueprint(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    changes = ctx.body.model_dump(exclude_unset=True, exclude_none=True)
    return domain.blueprint_to_dict(service.update_blueprint(bootstrap.blueprint_repository(), blueprint_id, changes))


@route(bp, "/v1/admin/blueprints/{blueprint_id}", "DELETE", permission=PERMISSION, summary="Delete a blueprint",
       tags=TAGS, status=204)  # fmt: skip
def delete_blueprint(ctx: Ctx, blueprint_id: str) -> Response:
    service.delete_blueprint(bootstrap.blueprint_repository(), blueprint_id)
    return Response(body="", status_code=204)


@route(bp, "/v1/admin/blueprints/{blueprint_id}/export", "GET", permission=PERMISSION, tags=TAGS,
       summary="Export a blueprint as a PTDL_v2 egg")  # fmt: skip
def export_egg(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    return service.export_egg(bootstrap.blueprint_repository(), blueprint_id)
