"""/api/application/servers: list, get (by id, by external id), create, details, build, startup,
suspend, unsuspend, reinstall, delete and force delete (docs/pterodactyl-api.md, "Servers")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.pterodactyl_web import PteroCtx, ptero_route
from mamba.web import Reply

if TYPE_CHECKING:
    from mamba.schemas.pterodactyl_servers import ServerBuildIn, ServerStoreIn
    from mamba.services.pterodactyl import servers as service
else:
    service = lazy_import("mamba.services.pterodactyl.servers")

bp = Blueprint(__name__)
BASE = "/api/application/servers"
SERVER = BASE + "/{server}"


def ports() -> Any:
    return service.AppServerPorts(
        ids=bootstrap.ptero_ids(),
        fleet=bootstrap.fleet_reader(),
        tenants=bootstrap.tenancy_repository(),
        users=bootstrap.user_repository(),
        blueprints=bootstrap.blueprint_repository(),
        nodes=bootstrap.node_repository(),
        allocations=bootstrap.allocation_repository(),
        free=bootstrap.placement_store(),
        plans=bootstrap.billing_repository(),
        create=bootstrap.server_ports(),
        lifecycle=bootstrap.server_lifecycle(),
        tenant_plan=bootstrap.settings().pterodactyl_tenant_plan,
        settle_seconds=bootstrap.settings().pterodactyl_settle_seconds,
        network=bootstrap.server_network_store(),
        user_area=bootstrap.ptero_user_ports(),
        node_area=bootstrap.ptero_node_ports(),
        nest_area=bootstrap.ptero_nest_ports(),
    )


def _base_url() -> str:
    return f"{bootstrap.settings().public_url}{BASE}"


@ptero_route(bp, BASE, "GET", permission="admin.servers", resource="servers",
             summary="Every server (filter[uuid|uuidShort|name|description|image|external_id], sort)")  # fmt: skip
def list_servers(ctx: PteroCtx) -> Any:
    return service.list_servers(ports(), ctx.query, _base_url(), ctx.may_read)


@ptero_route(bp, SERVER, "GET", permission="admin.servers", resource="servers",
             summary="A server by its integer id")  # fmt: skip
def get_server(ctx: PteroCtx, server: str) -> Any:
    return service.get_server(ports(), server, ctx.query, ctx.may_read)


@ptero_route(bp, BASE + "/external/{external_id}", "GET", permission="admin.servers", resource="servers",
             summary="A server by its external id")  # fmt: skip
def get_server_by_external(ctx: PteroCtx, external_id: str) -> Any:
    return service.get_server_by_external(ports(), external_id, ctx.query, ctx.may_read)


@ptero_route(bp, BASE, "POST", permission="admin.servers", resource="servers", status=201,
             request_model="pterodactyl_servers:ServerStoreIn",
             summary="Create a server for a user (in their personal tenant) through provision_server")  # fmt: skip
def create_server(ctx: PteroCtx) -> Any:
    body: ServerStoreIn = ctx.body
    limits = body.limits
    new = service.NewServer(
        name=body.name,
        description=body.description or "",
        user=body.user,
        egg=body.egg,
        docker_image=body.docker_image,
        startup=body.startup,
        environment=dict(body.environment),
        memory=limits.memory,
        swap=limits.swap,
        disk=limits.disk,
        io=limits.io,
        cpu=limits.cpu,
        threads=limits.threads,
        external_id=body.external_id,
        oom_disabled=body.oom_disabled if body.oom_disabled is not None else limits.oom_disabled is not False,
        start_on_completion=body.start_on_completion,
        skip_scripts=body.skip_scripts,
        allocation=body.allocation.default if body.allocation else None,
        additional_allocations=tuple(body.allocation.additional or ()) if body.allocation else (),
        deploy_locations=tuple(body.deploy.locations) if body.deploy else None,
        deploy_port_range=tuple(str(r) for r in body.deploy.port_range) if body.deploy else (),
        dedicated_ip=bool(body.deploy and body.deploy.dedicated_ip),
        allocation_limit=body.feature_limits.allocations or 0,
        backup_limit=body.feature_limits.backups,
    )
    server, _op = service.create_server(ports(), new, correlation_id=ctx.request_id)
    return Reply(server, status=201)


@ptero_route(bp, SERVER + "/details", "PATCH", permission="admin.servers", resource="servers",
             request_model="pterodactyl_servers:ServerDetailsIn",
             summary="Rename a server, set its description or external id")  # fmt: skip
def update_details(ctx: PteroCtx, server: str) -> Any:
    return service.update_details(ports(), server, ctx.body.model_dump(exclude_unset=True))


@ptero_route(bp, SERVER + "/build", "PATCH", permission="admin.servers", resource="servers",
             request_model="pterodactyl_servers:ServerBuildIn",
             summary="Change a server's limits (update_server_build)")  # fmt: skip
def update_build(ctx: PteroCtx, server: str) -> Any:
    body: ServerBuildIn = ctx.body
    limits = {**(body.limits.model_dump(exclude_unset=True) if body.limits else {}), "oom_disabled": body.oom_disabled}
    allocations = {
        "allocation": body.allocation,
        "add_allocations": body.add_allocations,
        "remove_allocations": body.remove_allocations,
    }
    feature_limits = body.feature_limits.model_dump() if body.feature_limits else None
    return service.update_build(ports(), server, limits, allocations, feature_limits)


@ptero_route(bp, SERVER + "/startup", "PATCH", permission="admin.servers", resource="servers",
             request_model="pterodactyl_servers:ServerStartupIn",
             summary="Change a server's environment (update_server_build)")  # fmt: skip
def update_startup(ctx: PteroCtx, server: str) -> Any:
    return service.update_startup(ports(), server, ctx.body.model_dump())


@ptero_route(bp, SERVER + "/suspend", "POST", permission="admin.servers", resource="servers",
             summary="Suspend a server (suspend_server)")  # fmt: skip
def suspend_server(ctx: PteroCtx, server: str) -> None:
    service.suspend(ports(), server)


@ptero_route(bp, SERVER + "/unsuspend", "POST", permission="admin.servers", resource="servers",
             summary="Unsuspend a server (unsuspend_server)")  # fmt: skip
def unsuspend_server(ctx: PteroCtx, server: str) -> None:
    service.unsuspend(ports(), server)


@ptero_route(bp, SERVER + "/reinstall", "POST", permission="admin.servers", resource="servers",
             summary="Reinstall a server (reinstall_server)")  # fmt: skip
def reinstall_server(ctx: PteroCtx, server: str) -> None:
    service.reinstall(ports(), server)


@ptero_route(bp, SERVER, "DELETE", permission="admin.servers", resource="servers",
             summary="Delete a server (delete_server)")  # fmt: skip
def delete_server(ctx: PteroCtx, server: str) -> None:
    service.delete(ports(), server)


@ptero_route(bp, SERVER + "/force", "DELETE", permission="admin.servers", resource="servers",
             summary="Delete a server, skipping a node that does not answer")  # fmt: skip
def force_delete_server(ctx: PteroCtx, server: str) -> None:
    service.delete(ports(), server, force=True)
