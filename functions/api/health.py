"""Liveness and readiness."""

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import PUBLIC, Ctx, Reply, route

if TYPE_CHECKING:
    from mamba.services import health as health_service
else:
    health_service = lazy_import("mamba.services.health")

bp = Blueprint(__name__)


@route(
    bp,
    "/health/live",
    "GET",
    permission=PUBLIC,
    summary="The process is up",
    tags=("ops",),
    response_model="common:LiveOut",
)
def live(ctx: Ctx) -> dict[str, str]:
    return {"status": "ok"}


@route(
    bp,
    "/health/ready",
    "GET",
    permission=PUBLIC,
    summary="DynamoDB, S3 and Step Functions answer (503 names the failing check)",
    tags=("ops",),
    response_model="common:ReadyOut",
    also=(503,),
)
def ready(ctx: Ctx) -> object:
    ok, checks = health_service.readiness(bootstrap.health_probes())
    return Reply({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)
