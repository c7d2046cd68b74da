"""/api/client: the servers a user may read, and one server's details, resources, console
websocket, power, commands, activity, settings (rename, reinstall, docker image), startup
variables and network allocations (mamba.services.pterodactyl.client_servers;
docs/pterodactyl-api.md)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.domain import clock
from mamba.lazy import lazy_import
from mamba.pterodactyl_web import PteroCtx, ptero_route

if TYPE_CHECKING:
    from mamba.services import server_control as control
    from mamba.services import server_lifecycle as lifecycle
    from mamba.services.pterodactyl import client_account as account_service
    from mamba.services.pterodactyl import client_servers as service
else:
    control = lazy_import("mamba.services.server_control")
    lifecycle = lazy_import("mamba.services.server_lifecycle")
    service = lazy_import("mamba.services.pterodactyl.client_servers")
    account_service = lazy_import("mamba.services.pterodactyl.client_account")

bp = Blueprint(__name__)
SERVER = "/api/client/servers/{server}"


@ptero_route(bp, "/api/client", "GET", permission="servers.read",
             summary="The servers of every tenant where you may read them (?type=, ?filter[], ?include=)")  # fmt: skip
def list_servers(ctx: PteroCtx) -> Any:
    base = bootstrap.settings().public_url.rstrip("/") + "/api/client"
    return service.list_servers(
        bootstrap.ptero_client_ports(), ctx.principal, ctx.query, now=time.time(), base_url=base
    )


@ptero_route(bp, SERVER, "GET", permission="servers.read",
             summary="A server, with your permission keys on it")  # fmt: skip
def get_server(ctx: PteroCtx, server: str) -> Any:
    return service.details(bootstrap.ptero_client_ports(), ctx.principal, ctx.server, ctx.query)


@ptero_route(bp, SERVER + "/resources", "GET", permission="servers.read",
             summary="What the node reports now: state and utilization")  # fmt: skip
def get_resources(ctx: PteroCtx, server: str) -> Any:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    return service.stats_item(control.resources(bootstrap.server_control_ports(), tenant, uuid))


@ptero_route(bp, SERVER + "/websocket", "GET", permission="servers.console",
             summary="A console token and the node's socket URL")  # fmt: skip
def get_websocket(ctx: PteroCtx, server: str) -> Any:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    minted = control.websocket(
        bootstrap.server_control_ports(),
        tenant,
        ctx.principal.user_id,
        uuid,
        permissions=ctx.principal.allowed(tenant.permissions),
        platform_admin=ctx.principal.is_admin and ctx.principal.scopes is None,
    )
    return {"data": {"token": minted["token"], "socket": minted["socket"]}}


@ptero_route(bp, SERVER + "/power", "POST", permission="servers.power", status=204,
             request_model="pterodactyl_client:PowerIn", summary="Start, stop, restart or kill the server")  # fmt: skip
def send_power(ctx: PteroCtx, server: str) -> None:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    control.power(bootstrap.server_control_ports(), tenant, uuid, ctx.body.signal)


@ptero_route(bp, SERVER + "/command", "POST", permission="servers.console", status=204,
             request_model="pterodactyl_client:CommandIn", summary="Send one line to the server's console")  # fmt: skip
def send_command(ctx: PteroCtx, server: str) -> None:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    service.send_command(bootstrap.server_control_ports(), tenant, uuid, ctx.body.command)


@ptero_route(bp, SERVER + "/activity", "GET", permission="servers.read",
             summary="The server's activity log (?filter[event]=, ?sort=, paged)")  # fmt: skip
def server_activity(ctx: PteroCtx, server: str) -> Any:
    ports = bootstrap.ptero_client_ports()
    tenant, uuid = service.access(ctx.principal, ctx.server)
    record = service.load(ports.servers, tenant, uuid)
    entries = service.server_activity(bootstrap.server_repository(), record)
    if "audit.read" in service.held(ctx.principal, tenant):
        entries += service.panel_activity(bootstrap.audit_log(), tenant, record, clock.utcnow())
    base = bootstrap.settings().public_url.rstrip("/") + f"/api/client/servers/{server}/activity"
    return account_service.activity_page(entries, ctx.query, ctx.user_id, ctx.principal.is_admin, base)


@ptero_route(bp, SERVER + "/settings/rename", "POST", permission="servers.update", status=204,
             request_model="pterodactyl_client:RenameIn",
             summary="Rename the server (and change its description)")  # fmt: skip
def rename_server(ctx: PteroCtx, server: str) -> None:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    changes = {"name": ctx.body.name}
    if ctx.body.description is not None:
        changes["description"] = ctx.body.description
    lifecycle.update_server(bootstrap.server_lifecycle(), tenant, uuid, changes)


@ptero_route(bp, SERVER + "/settings/reinstall", "POST", permission="servers.reinstall", status=202,
             summary="Reinstall the server (its install script runs again; follow the status)")  # fmt: skip
def reinstall_server(ctx: PteroCtx, server: str) -> Response:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    lifecycle.reinstall_server(bootstrap.server_lifecycle(), tenant, uuid)
    return Response(body=[], status_code=202, headers={"Content-Type": "application/json"})


@ptero_route(bp, SERVER + "/startup", "GET", permission="servers.read",
             summary="The startup variables you may see, and the startup command")  # fmt: skip
def get_startup(ctx: PteroCtx, server: str) -> Any:
    ports = bootstrap.ptero_client_ports()
    tenant, uuid = service.access(ctx.principal, ctx.server)
    record = service.load(ports.servers, tenant, uuid)
    return service.startup_list(record, ports.blueprints.get(record.blueprint_id))


@ptero_route(bp, SERVER + "/startup/variable", "PUT", permission="servers.update",
             request_model="pterodactyl_client:VariableIn",
             summary="Change one startup variable (checked against its rules; applied by a build change)")  # fmt: skip
def update_variable(ctx: PteroCtx, server: str) -> Any:
    ports = bootstrap.ptero_client_ports()
    tenant, uuid = service.access(ctx.principal, ctx.server)
    record = service.load(ports.servers, tenant, uuid)
    blueprint = ports.blueprints.get(record.blueprint_id)
    variable = service.editable_variable(blueprint, ctx.body.key)
    value = ctx.body.value
    if record.environment.get(variable.env_variable) != value:
        lifecycle.update_server(
            bootstrap.server_lifecycle(), tenant, uuid, {"environment": {variable.env_variable: value}}
        )
    return service.variable_answer(record, blueprint, variable, value)


@ptero_route(bp, SERVER + "/network/allocations", "GET", permission="servers.read",
             summary="The server's allocations, the primary first")  # fmt: skip
def list_allocations(ctx: PteroCtx, server: str) -> Any:
    ports = bootstrap.ptero_client_ports()
    tenant, uuid = service.access(ctx.principal, ctx.server)
    return service.allocation_list(ports, service.load(ports.servers, tenant, uuid))


@ptero_route(bp, SERVER + "/network/allocations/{allocation}", "POST", permission="servers.update",
             request_model="pterodactyl_client:AllocationNotesIn", summary="Set an allocation's notes")  # fmt: skip
def set_allocation_notes(ctx: PteroCtx, server: str, allocation: str) -> Any:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    return service.set_allocation_notes(
        bootstrap.ptero_client_ports(), tenant, uuid, service.number_of(allocation), ctx.body.notes
    )


@ptero_route(bp, SERVER + "/network/allocations", "POST", permission="servers.update",
             summary="Give the server one more free port of its node (within its allocation limit)")  # fmt: skip
def assign_allocation(ctx: PteroCtx, server: str) -> Any:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    return service.assign_allocation(bootstrap.ptero_client_ports(), tenant, uuid)


@ptero_route(bp, SERVER + "/network/allocations/{allocation}/primary", "POST", permission="servers.update",
             summary="Make one of the server's ports its primary one (from its next start)")  # fmt: skip
def set_primary_allocation(ctx: PteroCtx, server: str, allocation: str) -> Any:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    return service.set_primary_allocation(bootstrap.ptero_client_ports(), tenant, uuid, service.number_of(allocation))


@ptero_route(bp, SERVER + "/network/allocations/{allocation}", "DELETE", permission="servers.update", status=204,
             summary="Free one of the server's extra ports (never the primary one)")  # fmt: skip
def delete_allocation(ctx: PteroCtx, server: str, allocation: str) -> None:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    service.delete_allocation(bootstrap.ptero_client_ports(), tenant, uuid, service.number_of(allocation))


@ptero_route(bp, SERVER + "/settings/docker-image", "PUT", permission="servers.update", status=204,
             request_model="pterodactyl_client:DockerImageIn",
             summary="Switch to another image the server's egg offers (from its next start)")  # fmt: skip
def set_docker_image(ctx: PteroCtx, server: str) -> None:
    tenant, uuid = service.access(ctx.principal, ctx.server)
    service.set_docker_image(bootstrap.ptero_client_ports(), tenant, uuid, ctx.body.docker_image)
