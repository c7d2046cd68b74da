"""Game servers for tenant members: create (placement, quotas, reservation, the provision
workflow), read one, list a page.

Errors: ValidationError (body, environment), NotFoundError (server of another tenant, unknown
blueprint), QuotaExceededError (403, the limit named), NoCapacityError (409), ConflictError
(too many concurrent creates), DependencyUnavailableError (DynamoDB or Step Functions).
"""

from __future__ import annotations

import random
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from mamba.auth.context import TenantContext
from mamba.domain import placement
from mamba.domain import servers as srv
from mamba.domain.blueprints import Blueprint
from mamba.domain.errors import (
    AllocationTakenError,
    ConflictError,
    NoCapacityError,
    NotFoundError,
    TenantServersChangedError,
    ValidationError,
)
from mamba.domain.nodes import Allocation
from mamba.domain.operations import Operation
from mamba.domain.pages import Page, PageRequest
from mamba.domain.quotas import Quotas, check_new_server
from mamba.domain.servers import CreateServer, ProvisionTiming
from mamba.ports import OperationRepository, PlacementStore, Workflows

PROVISION_WORKFLOW = "provision_server"
PROVISION_STEPS = ["reserve", "persist", "create_on_wings", "install", "start"]
MAX_ATTEMPTS = 40  # concurrent creates of one tenant retry after the one that committed
ALLOCATIONS_PER_NODE = 10  # free allocations tried on a node before moving to the next


class ServerGetter(Protocol):
    def get(self, server_uuid: str) -> srv.Server: ...


class ServerRepository(ServerGetter, Protocol):
    def page_of_tenant(self, tenant_id: str, page: PageRequest, status: str | None = None) -> Page[srv.Server]: ...


class BlueprintSource(Protocol):
    def get(self, blueprint_id: str) -> Blueprint: ...


@dataclass
class ServerPorts:
    servers: ServerRepository
    placement: PlacementStore
    blueprints: BlueprintSource
    operations: OperationRepository
    workflows: Workflows
    quotas: Callable[[str], Quotas]
    validate_environment: Callable[[Blueprint, dict[str, object]], dict[str, str]]
    now: Callable[[], str]
    epoch: Callable[[], float] = time.time
    new_uuid: Callable[[], str] = lambda: str(uuidlib.uuid4())
    pause: Callable[[float], None] = time.sleep
    timing: ProvisionTiming = field(default_factory=ProvisionTiming)


def get_server(repo: ServerGetter, tenant: TenantContext, server_id: str) -> srv.Server:
    """The tenant's server (one GetItem). NotFoundError for an unknown id, another tenant's
    server, or (for a member bound to one server) any other server."""
    server_id = server_id.lower()
    if not srv.UUID_V4.match(server_id):
        raise NotFoundError("Server not found.", {"server_id": server_id})
    server = repo.get(server_id)
    if server.tenant_id != tenant.tenant_id or (tenant.server_scope and tenant.server_scope != server.uuid):
        raise NotFoundError("Server not found.", {"server_id": server_id})
    return server


def list_servers(
    repo: ServerRepository, tenant: TenantContext, page: PageRequest, status: str | None = None
) -> Page[srv.Server]:
    """One page of the tenant's servers, oldest first (one Query), optionally of one status.
    A member bound to one server sees only that server."""
    if status is not None and status not in srv.STATUSES:
        raise ValidationError(
            f"status must be one of {', '.join(srv.STATUSES)}.",
            {"fields": [{"field": "status", "message": "unknown status"}]},
        )
    if tenant.server_scope:
        try:
            only = get_server(repo, tenant, tenant.server_scope)
        except NotFoundError:
            return Page(items=[])
        return Page(items=[only] if status in (None, only.status) else [])
    return repo.page_of_tenant(tenant.tenant_id, page, status)


def _image(blueprint: Blueprint, wanted: str | None) -> str:
    if wanted is None:
        return blueprint.default_image
    if wanted not in blueprint.docker_images.values():
        raise ValidationError(
            "docker_image must be one of the blueprint's images.",
            {"fields": [{"field": "docker_image", "message": "not an image of this blueprint"}]},
        )
    return wanted


def _new_server(ports: ServerPorts, tenant_id: str, cmd: CreateServer, blueprint: Blueprint, env: dict[str, str],
                quotas: Quotas, node_id: str, allocation: Allocation) -> srv.Server:  # fmt: skip
    now = ports.now()
    return srv.Server(
        uuid=ports.new_uuid(),
        name=cmd.name,
        description=cmd.description,
        tenant_id=tenant_id,
        node_id=node_id,
        blueprint_id=blueprint.id,
        allocation=(allocation.ip, allocation.port),
        docker_image=_image(blueprint, cmd.docker_image),
        startup=blueprint.startup,
        environment=dict(env),
        limits=srv.Limits(
            memory_mb=cmd.memory_mb,
            disk_mb=cmd.disk_mb,
            cpu_percent=cmd.cpu_percent,
            swap_mb=cmd.swap_mb,
            io_weight=cmd.io_weight,
            threads=cmd.threads,
            oom_disabled=cmd.oom_disabled,
        ),
        feature_limits=srv.FeatureLimits(backups=quotas.backups_per_server, allocations=0),
        status=srv.PROVISIONING,
        created_at=now,
        updated_at=now,
    )


def reserve_server(ports: ServerPorts, tenant: TenantContext, cmd: CreateServer) -> srv.Server:
    """Check quotas, place the server and write it with its allocation (one transaction).

    Every attempt re-reads the tenant's guard (consistently), its usage and the node loads; a
    concurrent create of the same tenant that commits first makes this attempt's transaction
    fail (TenantServersChangedError) and the next attempt sees its server. An allocation taken
    by another tenant meanwhile moves on to the next free allocation.
    """
    blueprint = ports.blueprints.get(cmd.blueprint_id)
    env = ports.validate_environment(blueprint, cmd.environment)
    _image(blueprint, cmd.docker_image)
    quotas = ports.quotas(tenant.tenant_id)
    request = placement.PlacementRequest(
        tenant_id=tenant.tenant_id, memory_mb=cmd.memory_mb, disk_mb=cmd.disk_mb, location=cmd.location, tag=cmd.tag
    )
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            ports.pause(random.uniform(0.01, 0.05 * min(attempt, 6)))  # noqa: S311 - jitter, not crypto
        guard = ports.placement.guard(tenant.tenant_id)
        check_new_server(quotas, ports.placement.usage(tenant.tenant_id, guard), cmd.memory_mb, cmd.disk_mb)
        nodes = placement.place(request, ports.placement.node_loads())
        try:
            for node in nodes:
                for allocation in ports.placement.free_allocations(node.id, ALLOCATIONS_PER_NODE):
                    server = _new_server(ports, tenant.tenant_id, cmd, blueprint, env, quotas, node.id, allocation)
                    try:
                        ports.placement.reserve(server, guard)
                    except AllocationTakenError:
                        continue
                    return server
        except TenantServersChangedError:
            continue
        raise NoCapacityError(
            "No node has a free port for this server right now; try again later or contact support.",
            {"nodes_considered": len(nodes), "ruled_out": {"allocations": len(nodes)}},
        )
    raise ConflictError("Too many servers are being created at once for this tenant; try again.")


def create_server(ports: ServerPorts, tenant: TenantContext, cmd: CreateServer,
                  correlation_id: str | None = None) -> tuple[srv.Server, Operation]:  # fmt: skip
    """Reserve the server synchronously, then start ``provision_server`` (execution named after
    the operation). If the workflow cannot start, the reservation is undone before the error
    (DependencyUnavailableError) reaches the caller, so nothing is left half-created."""
    from mamba.services.operations import start_operation

    server = reserve_server(ports, tenant, cmd)
    timing = ports.timing
    payload = {
        "server_uuid": server.uuid,
        "node_id": server.node_id,
        "start_on_completion": cmd.start_on_completion,
        "poll_seconds": timing.poll_seconds,
        "watch_seconds": timing.watch_seconds,
        "install_deadline": int(ports.epoch()) + timing.install_timeout_seconds,
        "start_timeout_seconds": timing.start_timeout_seconds,
    }
    try:
        op = start_operation(
            ports.operations,
            ports.workflows,
            tenant,
            op_type=PROVISION_WORKFLOW,
            workflow=PROVISION_WORKFLOW,
            steps=PROVISION_STEPS,
            payload=payload,
            target=server.uuid,
            correlation_id=correlation_id,
        )
    except Exception:
        ports.placement.unreserve(server)
        raise
    return server, op
