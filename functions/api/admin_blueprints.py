"""/v1/admin/blueprints: blueprints (eggs), egg import and export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.domain import blueprints as domain
    from mamba.services import blueprints as service
    from mamba.services import nodes as nodes_service
else:
    service = lazy_import("mamba.services.blueprints")
    nodes_service = lazy_import("mamba.services.nodes")

bp = Blueprint(__name__)
TAGS = ("admin: blueprints",)
PERMISSION = "admin.blueprints"


@route(bp, "/v1/admin/blueprints", "POST", permission=PERMISSION, summary="Create a blueprint", tags=TAGS,
       request_model="blueprints:BlueprintIn", response_model="blueprints:BlueprintOut", status=201)  # fmt: skip
def create_blueprint(ctx: Ctx) -> domain.Blueprint:
    return service.create_blueprint(bootstrap.blueprint_repository(), ctx.body.model_dump())


@route(bp, "/v1/admin/blueprints/import", "POST", permission=PERMISSION, tags=TAGS,
       summary="Import a Pterodactyl egg (PTDL_v1 or PTDL_v2 JSON)", request_model="blueprints:EggIn",
       response_model="blueprints:BlueprintOut", status=201)  # fmt: skip
def import_egg(ctx: Ctx) -> domain.Blueprint:
    return service.import_egg(bootstrap.blueprint_repository(), ctx.body.model_dump())


@route(bp, "/v1/admin/blueprints/import/preview", "POST", permission=PERMISSION, tags=TAGS,
       summary="Check a Pterodactyl egg and show what the import would store, without storing it",
       request_model="blueprints:EggIn", response_model="blueprints:BlueprintPreview")  # fmt: skip
def preview_egg(ctx: Ctx) -> domain.Blueprint:
    return service.preview_egg(ctx.body.model_dump())


@route(bp, "/v1/admin/blueprints", "GET", permission=PERMISSION, summary="List blueprints", tags=TAGS,
       response_model="blueprints:BlueprintList", query=("limit", "cursor"))  # fmt: skip
def list_blueprints(ctx: Ctx) -> dict[str, Any]:
    found, cursor = service.list_blueprints(
        bootstrap.blueprint_repository(),
        nodes_service.page_limit(ctx.query.get("limit")),
        ctx.query.get("cursor"),
    )
    return {"items": found, "next_cursor": cursor}


@route(bp, "/v1/admin/blueprints/{blueprint_id}", "GET", permission=PERMISSION, summary="Get a blueprint",
       tags=TAGS, response_model="blueprints:BlueprintOut")  # fmt: skip
def get_blueprint(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    return service.get_blueprint(bootstrap.blueprint_repository(), blueprint_id)


@route(bp, "/v1/admin/blueprints/{blueprint_id}", "PATCH", permission=PERMISSION, summary="Change a blueprint",
       tags=TAGS, request_model="blueprints:BlueprintPatch", response_model="blueprints:BlueprintOut")  # fmt: skip
def update_blueprint(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    changes = ctx.body.model_dump(exclude_unset=True, exclude_none=True)
    return service.update_blueprint(bootstrap.blueprint_repository(), blueprint_id, changes)


@route(bp, "/v1/admin/blueprints/{blueprint_id}", "DELETE", permission=PERMISSION, tags=TAGS, status=204,
       summary="Delete a blueprint (409 BLUEPRINT_IN_USE while servers use it)")  # fmt: skip
def delete_blueprint(ctx: Ctx, blueprint_id: str) -> Response:
    service.delete_blueprint(bootstrap.blueprint_repository(), blueprint_id)
    return Response(body="", status_code=204)


@route(bp, "/v1/admin/blueprints/{blueprint_id}/export", "GET", permission=PERMISSION, tags=TAGS,
       summary="Export a blueprint as a PTDL_v2 egg")  # fmt: skip
def export_egg(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    return service.export_egg(bootstrap.blueprint_repository(), blueprint_id)
