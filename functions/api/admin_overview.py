"""Platform admin: the fleet overview and the Stripe events dead letters (list, redrive)."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.schemas import overview as schemas
    from mamba.services import overview as fleet
else:
    fleet = lazy_import("mamba.services.overview")
    schemas = lazy_import("mamba.schemas.overview")

bp = Blueprint(__name__)
TAGS = ("admin",)


@route(
    bp,
    "/v1/admin/overview",
    "GET",
    permission="admin.operations",
    summary="Tenants and servers by status, nodes by health with committed capacity, failures, dead letters",
    tags=TAGS,
    response_model="overview:FleetOverview",
)
def get_overview(ctx: Ctx) -> object:
    view = fleet.overview(bootstrap.fleet_stats(), bootstrap.dead_letter_queue(), datetime.now(UTC))
    return schemas.overview_out(view)


@route(
    bp,
    "/v1/admin/dead-letters",
    "GET",
    permission="admin.operations",
    summary="The Stripe events waiting in the dead-letter queue (read, not consumed)",
    tags=TAGS,
    response_model="overview:DeadLetterList",
)
def list_dead_letters(ctx: Ctx) -> object:
    return {"items": fleet.list_dead_letters(bootstrap.dead_letter_queue(), bootstrap.dead_letter_errors())}


@route(
    bp,
    "/v1/admin/dead-letters/redrive",
    "POST",
    permission="admin.operations",
    summary="Send the dead letters back to the Stripe events queue (safe to repeat)",
    tags=TAGS,
    response_model="overview:RedriveOut",
)
def redrive_dead_letters(ctx: Ctx) -> object:
    return {"moved": fleet.redrive(bootstrap.dead_letter_queue())}
