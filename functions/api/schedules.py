"""/v1/tenants/{tenant_id}/servers/{server_id}/schedules: timed tasks with their history (docs/schedules.md).

The server comes from the path (the guard checks server-scoped memberships and API keys against
it); another tenant's server or schedule answers 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import Ctx, parse_query, route

if TYPE_CHECKING:
    from mamba.domain import schedules as domain
    from mamba.schemas import schedules as schemas
    from mamba.schemas.schedules import ScheduleIn, SchedulePatch
    from mamba.services import schedules as service
else:
    # Models by name: the schemas are built on a route's first use, not at import (cold start).
    service = lazy_import("mamba.services.schedules")
    domain = lazy_import("mamba.domain.schedules")
    schemas = lazy_import("mamba.schemas.schedules")

bp = Blueprint(__name__)
TAGS = ("schedules",)
BASE = "/v1/tenants/{tenant_id}/servers/{server_id}/schedules"
ONE = BASE + "/{schedule_id}"


def _tasks(models: list[Any]) -> list[Any]:
    return [domain.Task(**m.model_dump()) for m in models]


def _input(body: ScheduleIn) -> Any:
    return service.ScheduleInput(
        name=body.name,
        cron=body.cron.model_dump(),
        timezone=body.timezone,
        enabled=body.enabled,
        only_when_online=body.only_when_online,
        tasks=_tasks(body.tasks),
    )


@route(bp, BASE, "POST", permission="schedules.write", summary="Create a schedule (returns its next 5 runs)",
       tags=TAGS, request_model="schedules:ScheduleIn", response_model="schedules:ScheduleOut", status=201)  # fmt: skip
def create_schedule(ctx: Ctx, tenant_id: str, server_id: str) -> Any:
    return service.create_schedule(bootstrap.schedule_ports(), ctx.tenant, server_id, _input(ctx.body))


@route(bp, BASE, "GET", permission="schedules.read", summary="List a server's schedules with their next run",
       tags=TAGS, response_model="schedules:ScheduleList")  # fmt: skip
def list_schedules(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, Any]:
    # One page: the plan's schedules per server bounds the list.
    return {"items": service.list_schedules(bootstrap.schedule_ports(), ctx.tenant, server_id), "next_cursor": None}


@route(bp, ONE, "GET", permission="schedules.read", summary="One schedule", tags=TAGS,
       response_model="schedules:ScheduleOut")  # fmt: skip
def get_schedule(ctx: Ctx, tenant_id: str, server_id: str, schedule_id: str) -> Any:
    return service.get_schedule(bootstrap.schedule_ports(), ctx.tenant, server_id, schedule_id)


@route(bp, ONE, "PATCH", permission="schedules.write", summary="Change a schedule (only the fields sent)",
       tags=TAGS, request_model="schedules:SchedulePatch", response_model="schedules:ScheduleOut")  # fmt: skip
def update_schedule(ctx: Ctx, tenant_id: str, server_id: str, schedule_id: str) -> Any:
    body: SchedulePatch = ctx.body
    changes: dict[str, Any] = {n: getattr(body, n) for n in body.model_fields_set}
    if "cron" in changes:
        changes["cron"] = body.cron.model_dump() if body.cron else None
    if "tasks" in changes:
        changes["tasks"] = _tasks(body.tasks or [])
    return service.update_schedule(bootstrap.schedule_ports(), ctx.tenant, server_id, schedule_id, changes)


@route(bp, ONE, "DELETE", permission="schedules.write", summary="Delete a schedule", tags=TAGS, status=204)
def delete_schedule(ctx: Ctx, tenant_id: str, server_id: str, schedule_id: str) -> Response:
    service.delete_schedule(bootstrap.schedule_ports(), ctx.tenant, server_id, schedule_id)
    return Response(body="", status_code=204)


@route(bp, ONE + "/run", "POST", permission="schedules.write", summary="Run a schedule now", tags=TAGS,
       response_model="schedules:RunStartedOut", status=202)  # fmt: skip
def run_schedule(ctx: Ctx, tenant_id: str, server_id: str, schedule_id: str) -> dict[str, Any]:
    return {"run": service.run_now(bootstrap.schedule_ports(), ctx.tenant, server_id, schedule_id)}


@route(bp, ONE + "/runs", "GET", permission="schedules.read", summary="A schedule's runs, newest first (90 days)",
       tags=TAGS, response_model="schedules:RunList", query="schedules:RunQuery")  # fmt: skip
def list_runs(ctx: Ctx, tenant_id: str, server_id: str, schedule_id: str) -> Any:
    query = parse_query(ctx.request, schemas.RunQuery)
    return service.list_runs(bootstrap.schedule_ports(), ctx.tenant, server_id, schedule_id, query.limit, query.cursor)
