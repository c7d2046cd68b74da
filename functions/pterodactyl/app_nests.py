"""/api/application/nests: blueprint categories as nests, blueprints as eggs (read only, as in
Pterodactyl; docs/pterodactyl-api.md, "Nests and eggs")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from functions.pterodactyl.app_includes import asked, refusing
from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.pterodactyl_web import PteroCtx, ptero_route

if TYPE_CHECKING:
    from mamba.services.pterodactyl import nests as service
else:
    service = lazy_import("mamba.services.pterodactyl.nests")

bp = Blueprint(__name__)
NESTS = "/api/application/nests"
PERMISSION = "admin.blueprints"


@ptero_route(bp, NESTS, "GET", permission=PERMISSION, resource="nests", summary="Nests (blueprint categories)")
def list_nests(ctx: PteroCtx) -> Any:
    wanted, refused = asked(ctx, service.NEST_INCLUDES)
    base = f"{bootstrap.settings().public_url}{NESTS}"
    return refusing(service.list_nests(bootstrap.ptero_nest_ports(), ctx.query, base, wanted), refused)


@ptero_route(bp, f"{NESTS}/{{nest_id}}", "GET", permission=PERMISSION, resource="nests", summary="A nest")
def get_nest(ctx: PteroCtx, nest_id: str) -> Any:
    wanted, refused = asked(ctx, service.NEST_INCLUDES)
    return refusing(service.get_nest(bootstrap.ptero_nest_ports(), nest_id, wanted), refused)


@ptero_route(bp, f"{NESTS}/{{nest_id}}/eggs", "GET", permission=PERMISSION, resource="eggs",
             summary="A nest's eggs (blueprints), not paged")  # fmt: skip
def list_eggs(ctx: PteroCtx, nest_id: str) -> Any:
    wanted, refused = asked(ctx, service.EGG_INCLUDES)
    return refusing(service.list_eggs(bootstrap.ptero_nest_ports(), nest_id, wanted), refused)


@ptero_route(bp, f"{NESTS}/{{nest_id}}/eggs/{{egg_id}}", "GET", permission=PERMISSION, resource="eggs",
             summary="An egg (a blueprint), with ?include=variables")  # fmt: skip
def get_egg(ctx: PteroCtx, nest_id: str, egg_id: str) -> Any:
    wanted, refused = asked(ctx, service.EGG_INCLUDES)
    return refusing(service.get_egg(bootstrap.ptero_nest_ports(), nest_id, egg_id, wanted), refused)
