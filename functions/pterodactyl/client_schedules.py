"""/api/client/servers/{server}/schedules: a server's schedules and tasks through the same use
cases as /v1's schedule routes (mamba.services.pterodactyl.schedules). Pterodactyl updates
with POST and answers 200 with the object; ``execute`` answers 202 with ``[]``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.pterodactyl_web import PteroCtx, ptero_route
from mamba.web import Reply

if TYPE_CHECKING:
    from mamba.auth.context import TenantContext
    from mamba.services.pterodactyl import schedules as service
else:
    service = lazy_import("mamba.services.pterodactyl.schedules")

bp = Blueprint(__name__)
SCHEDULES = "/api/client/servers/{server}/schedules"
ONE = SCHEDULES + "/{schedule}"
TASK = ONE + "/tasks/{task}"
M = "pterodactyl_files:"


def _on(ctx: PteroCtx) -> tuple[TenantContext, str]:
    """The path server's tenant as the guard verified it, and the server's uuid."""
    tenant = ctx.principal.tenant
    assert tenant is not None and ctx.server is not None  # a {server} route: the guard resolved both
    return tenant, ctx.server.ref


def _schedule(body: Any) -> Any:
    return service.ScheduleChange(
        name=body.name,
        minute=body.minute,
        hour=body.hour,
        day_of_month=body.day_of_month,
        month=body.month,
        day_of_week=body.day_of_week,
        is_active=body.is_active,
        only_when_online=body.only_when_online,
    )


def _task(body: Any) -> Any:
    return service.TaskChange(
        action=body.action,
        payload=body.payload,
        time_offset=body.time_offset,
        sequence_id=body.sequence_id,
        continue_on_failure=body.continue_on_failure,
    )


@ptero_route(bp, SCHEDULES, "GET", permission="schedules.read", summary="The server's schedules with their tasks")
def list_schedules(ctx: PteroCtx, server: str) -> Any:
    tenant, server_id = _on(ctx)
    return service.list_schedules(bootstrap.ptero_ids(), bootstrap.schedule_ports(), tenant, server_id)


@ptero_route(bp, SCHEDULES, "POST", permission="schedules.write", summary="Create a schedule (tasks come after)",
             request_model=M + "ScheduleIn")  # fmt: skip
def create_schedule(ctx: PteroCtx, server: str) -> Any:
    tenant, server_id = _on(ctx)
    ids, ports = bootstrap.ptero_ids(), bootstrap.schedule_ports()
    return service.create_schedule(ids, ports, tenant, server_id, _schedule(ctx.body))


@ptero_route(bp, ONE, "GET", permission="schedules.read", summary="One schedule with its tasks")
def get_schedule(ctx: PteroCtx, server: str, schedule: str) -> Any:
    tenant, server_id = _on(ctx)
    return service.get_schedule(bootstrap.ptero_ids(), bootstrap.schedule_ports(), tenant, server_id, schedule)


@ptero_route(bp, ONE, "POST", permission="schedules.write", summary="Change a schedule",
             request_model=M + "ScheduleIn")  # fmt: skip
def update_schedule(ctx: PteroCtx, server: str, schedule: str) -> Any:
    tenant, server_id = _on(ctx)
    ids, ports = bootstrap.ptero_ids(), bootstrap.schedule_ports()
    return service.update_schedule(ids, ports, tenant, server_id, schedule, _schedule(ctx.body))


@ptero_route(bp, ONE, "DELETE", permission="schedules.write", summary="Delete a schedule", status=204)
def delete_schedule(ctx: PteroCtx, server: str, schedule: str) -> None:
    tenant, server_id = _on(ctx)
    service.delete_schedule(bootstrap.ptero_ids(), bootstrap.schedule_ports(), tenant, server_id, schedule)


@ptero_route(bp, ONE + "/execute", "POST", permission="schedules.write", summary="Run a schedule now", status=202)
def execute_schedule(ctx: PteroCtx, server: str, schedule: str) -> Any:
    tenant, server_id = _on(ctx)
    service.execute(bootstrap.ptero_ids(), bootstrap.schedule_ports(), tenant, server_id, schedule)
    return Reply([], 202)


@ptero_route(bp, ONE + "/tasks", "POST", permission="schedules.write", summary="Add a task to a schedule",
             request_model=M + "TaskIn")  # fmt: skip
def create_task(ctx: PteroCtx, server: str, schedule: str) -> Any:
    tenant, server_id = _on(ctx)
    ids, ports = bootstrap.ptero_ids(), bootstrap.schedule_ports()
    return service.create_task(ids, ports, tenant, server_id, schedule, _task(ctx.body))


@ptero_route(bp, TASK, "POST", permission="schedules.write", summary="Change a task", request_model=M + "TaskIn")
def update_task(ctx: PteroCtx, server: str, schedule: str, task: str) -> Any:
    tenant, server_id = _on(ctx)
    ids, ports = bootstrap.ptero_ids(), bootstrap.schedule_ports()
    return service.update_task(ids, ports, tenant, server_id, schedule, task, _task(ctx.body))


@ptero_route(bp, TASK, "DELETE", permission="schedules.write", summary="Delete a task", status=204)
def delete_task(ctx: PteroCtx, server: str, schedule: str, task: str) -> None:
    tenant, server_id = _on(ctx)
    service.delete_task(bootstrap.ptero_ids(), bootstrap.schedule_ports(), tenant, server_id, schedule, task)
