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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from mamba.auth.context import TenantContext
from mamba.domain import servers as srv
from mamba.domain.errors import (
    AllocationTakenError,
    ConflictError,
    NoCapacityError,
    NotFoundError,
    TenantServersChangedError,
    ValidationError,
)
from mamba.domain.pages import Page, PageRequest
from mamba.domain.servers import CreateServer, ProvisionTiming
from mamba.lazy import lazy_import

if TYPE_CHECKING:
    from mamba.domain import placement
    from mamba.domain import quotas as quota_rules
    from mamba.domain.blueprints import Blueprint
    from mamba.domain.nodes import Allocation
    from mamba.domain.operations import Operation
    from mamba.domain.quotas import Quotas
    from mamba.ports import EventPublisher, OperationRepository, PlacementStore, PteroIds, Workflows
else:
    # Placement and quotas serve creates only: a read of a server or a page never loads them.
    placement = lazy_import("mamba.domain.placement")
    quota_rules = lazy_import("mamba.domain.quotas")

PROVISION_WORKFLOW = "provision_server"
PROVISION_STEPS = ["reserve", "persist", "create_on_wings", "install", "start"]
MAX_ATTEMPTS = 40  # concurrent creates of one tenant retry after the one that committed
ALLOCATIONS_PER_NODE = 10  # free allocations tried on a node before moving to the next


class ServerGetter(Protocol):
    def get(self, server_uuid: str) -> srv.Server: ...


class ServerRepository(ServerGetter, Protocol):
    def page_of_tenant(self, tenant_id: str, page: PageRequest, status: str | None = None) -> Page[srv.Server]: ...
    def save(self, server: srv.Server) -> None: ...


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
    events: EventPublisher | None = None  # quota.warning (docs/notifications.md)
    # Pterodactyl's integer id and 8-character identifier, claimed at creation so that a server made
    # here is found by its identifier on the client API at once (docs/pterodactyl-api.md).
    ids: PteroIds | None = None


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
        startup=cmd.startup or blueprint.startup,
        skip_install_script=cmd.skip_install_script,
        additional_allocations=cmd.additional_allocations if cmd.allocation is not None else (),
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
        feature_limits=srv.FeatureLimits(
            backups=quotas.backups_per_server if cmd.backup_limit is None else cmd.backup_limit,
            allocations=cmd.allocation_limit,
        ),
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
        usage = ports.placement.usage(tenant.tenant_id, guard)
        quota_rules.check_new_server(quotas, usage, cmd.memory_mb, cmd.disk_mb)
        nodes = placement.place(request, ports.placement.node_loads())
        if cmd.allocation is not None:
            nodes = _pinned_node(nodes, cmd)
        try:
            for node in nodes:
                for allocation in _candidates(ports, node.id, cmd):
                    server = _new_server(ports, tenant.tenant_id, cmd, blueprint, env, quotas, node.id, allocation)
                    try:
                        ports.placement.reserve(server, guard)
                    except AllocationTakenError:
                        if cmd.allocation is not None:
                            raise
                        continue
                    _warn_quotas(ports, server, quotas, usage, cmd)
                    return server
        except TenantServersChangedError:
            continue
        raise NoCapacityError(
            "No node has a free port for this server right now; try again later or contact support.",
            {"nodes_considered": len(nodes), "ruled_out": {"allocations": len(nodes)}},
        )
    raise ConflictError("Too many servers are being created at once for this tenant; try again.")


def _pinned_node(nodes: list[Any], cmd: CreateServer) -> list[Any]:
    """The named node, when placement says it can take the server (memory, disk, maintenance,
    reachability: the same rules as a placed create); NoCapacityError otherwise."""
    pinned = [node for node in nodes if node.id == cmd.node_id]
    if not pinned:
        raise NoCapacityError(
            "The node of this allocation cannot take the server now (room, maintenance or reachability).",
            {"node_id": cmd.node_id},
        )
    return pinned


def _candidates(ports: ServerPorts, node_id: str, cmd: CreateServer) -> list[Allocation]:
    if cmd.allocation is None:
        return ports.placement.free_allocations(node_id, ALLOCATIONS_PER_NODE)
    from mamba.domain import nodes as node_records

    ip, port = cmd.allocation
    return [node_records.Allocation(node_id=node_id, ip=ip, port=port, created_at="")]


def _warn_quotas(
    ports: ServerPorts, server: srv.Server, quotas: Quotas, usage: quota_rules.Usage, cmd: CreateServer
) -> None:
    """``quota.warning`` for each quota this server takes past 80 % (after its reservation
    committed: a refused send is logged, never undoes the server)."""
    if ports.events is None:
        return
    from mamba.domain.events import make_event
    from mamba.services.emit import emit_after_commit

    crossed = [
        (name, before + added, limit)
        for name, limit, before, added in (
            ("servers", quotas.servers, usage.servers, 1),
            ("memory_mb", quotas.memory_mb, usage.memory_mb, cmd.memory_mb),
            ("disk_mb", quotas.disk_mb, usage.disk_mb, cmd.disk_mb),
        )
        if quota_rules.crossed_warning(limit, before, before + added)
    ]
    emit_after_commit(
        ports.events,
        *(
            make_event(
                "quota.warning",
                dedupe_key=f"{server.uuid}:{name}",
                occurred_at=server.created_at,
                tenant_id=server.tenant_id,
                payload={"quota": name, "used": used, "limit": limit},
            )
            for name, used, limit in crossed
        ),
    )


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
        "install_timeout_seconds": timing.install_timeout_seconds,
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
    if ports.ids is not None:
        _claim_ids(ports.ids, server)
    return server, op


def _claim_ids(ids: PteroIds, server: srv.Server) -> None:
    """Best effort: an id not claimed now is claimed on its first use by Pterodactyl's door
    (listed or fetched by uuid), so a refusal here is logged, never fails the create."""
    from mamba.observability import logger

    try:
        ids.number("server", server.uuid, server.tenant_id)
    except Exception:  # noqa: BLE001 - the server exists; its Pterodactyl id can wait for first use
        logger.warning("pterodactyl id not claimed at creation", extra={"server_uuid": server.uuid}, exc_info=True)


# --- an admin's retry of a failed provisioning (mamba.services.operations.retry_operation) ---


def _retry_candidates(
    ports: ServerPorts, server: srv.Server, request: placement.PlacementRequest
) -> list[tuple[str, tuple[str, int]]]:
    """Where the retried server may go, best first: its own node and port when the node can
    still take it (the failed run may have kept the port because it could not reach the node),
    then the free ports of the nodes placement orders, as for a new server."""
    loads = ports.placement.node_loads()
    own = next((load for load in loads if load.node.id == server.node_id), None)
    candidates: list[tuple[str, tuple[str, int]]] = []
    if own is not None and placement.why_not(own, request) is None:
        candidates.append((server.node_id, server.allocation))
    try:
        nodes = placement.place(request, loads)
    except NoCapacityError:
        if candidates:
            return candidates
        raise
    for node in nodes:
        for allocation in ports.placement.free_allocations(node.id, ALLOCATIONS_PER_NODE):
            spot = (node.id, (allocation.ip, allocation.port))
            if spot not in candidates:
                candidates.append(spot)
    return candidates


def rearm_provisioning(ports: ServerPorts, op: Operation) -> dict[str, Any]:
    """Reserve placement again for the server a failed ``provision_server`` left ``failed``, and
    answer the workflow input of the next attempt (the install timeout, the node it now has).

    The server is placed as a new one would be (node filters, memory and disk within the
    tenant's quotas, a free port), preferring its own node and port; it moves from ``failed``
    back to ``provisioning`` in one transaction with the port (and the tenant's guard), so two
    retries cannot both reserve. Raises ConflictError (the server was deleted or is no longer
    failed), QuotaExceededError, NoCapacityError, DependencyUnavailableError.
    """
    server_uuid = str((op.input or {}).get("server_uuid") or op.target or "")
    try:
        server = ports.servers.get(server_uuid)
    except NotFoundError as exc:
        raise ConflictError(
            "The server of this provisioning was deleted; create it again.",
            {"server_id": server_uuid, "reason": "server_deleted"},
        ) from exc
    if server.status != srv.FAILED or server.tenant_id != op.tenant_id:
        raise ConflictError(
            f"The server is {server.status}, not failed; only a failed server's provisioning is retried.",
            {"server_id": server.uuid, "status": server.status, "reason": "server_not_failed"},
        )
    quotas = ports.quotas(server.tenant_id)
    request = placement.PlacementRequest(
        tenant_id=server.tenant_id, memory_mb=server.limits.memory_mb, disk_mb=server.limits.disk_mb
    )
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            ports.pause(random.uniform(0.01, 0.05 * min(attempt, 6)))  # noqa: S311 - jitter, not crypto
        guard = ports.placement.guard(server.tenant_id)
        usage = ports.placement.usage(server.tenant_id, guard)
        # The failed server already counts as one of the tenant's servers, but holds no memory or disk.
        quota_rules.check_new_server(
            quotas, replace(usage, servers=max(usage.servers - 1, 0)), server.limits.memory_mb, server.limits.disk_mb
        )
        try:
            for node_id, allocation in _retry_candidates(ports, server, request):
                moved = (node_id, allocation) != (server.node_id, server.allocation)
                rearmed = replace(
                    server,
                    node_id=node_id,
                    allocation=allocation,
                    additional_allocations=() if moved else server.additional_allocations,
                    status=srv.PROVISIONING,
                    status_reason=None,
                    updated_at=ports.now(),
                )
                try:
                    ports.placement.rearm(rearmed, server, guard)
                except AllocationTakenError:
                    continue
                return {
                    **(op.input or {}),
                    "node_id": node_id,
                    "install_timeout_seconds": ports.timing.install_timeout_seconds,
                }
        except TenantServersChangedError:
            continue
        raise NoCapacityError(
            "No node has a free port for this server right now; add allocations or end a maintenance, then retry.",
            {"server_id": server.uuid},
        )
    raise ConflictError("Too many servers are being created at once for this tenant; try again.")


def abandon_provisioning(ports: ServerPorts, op: Operation, reason: str) -> None:
    """The retry's workflow could not start: the server goes back to ``failed`` with the reason.
    It keeps the port it was given (as after a compensation that could not finish), so the next
    retry takes the same one, and deleting the server frees it."""
    server = ports.servers.get(str((op.input or {}).get("server_uuid") or op.target))
    if server.status == srv.PROVISIONING:
        ports.servers.save(srv.transition(server, srv.FAILED, now=ports.now(), reason=reason))


@dataclass
class ProvisioningRetry:
    """The ``provision_server`` preparer of mamba.services.operations.retry_operation."""

    ports: ServerPorts

    def prepare(self, op: Operation) -> dict[str, Any]:
        return rearm_provisioning(self.ports, op)

    def abandon(self, op: Operation, reason: str) -> None:
        abandon_provisioning(self.ports, op, reason)
