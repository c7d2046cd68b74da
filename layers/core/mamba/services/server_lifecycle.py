"""A server's lifecycle after provisioning: change its build, reinstall, suspend, unsuspend,
delete; and the reconcile schedule that keeps the list page truthful (docs/server-lifecycle.md).

The API side (``update_server``, ``delete_server``, ``reinstall_server``, ``suspend_server``,
``unsuspend_server``, ``force_delete_server``) checks the request, takes the server's lock
and starts a workflow; it returns at once with the operation (202). The workflows call
``run_action`` through the ``task_servers`` Lambda, one action per step; each action is
idempotent, so a retried step repeats safely.

Errors: NotFoundError (another tenant's server, or none), ConflictError (the status does not
allow the operation, or another operation holds the server), ValidationError (limits),
QuotaExceededError (a bigger build than the plan allows), WingsUnavailableError /
WingsRejectedError from the node (the workflows retry the first and catch both).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from mamba.auth.context import TenantContext
from mamba.domain import server_lifecycle as life
from mamba.domain import servers as srv
from mamba.domain.blueprints import Blueprint
from mamba.domain.clock import iso, new_id, now_epoch, utcnow
from mamba.domain.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    TenantServersChangedError,
    ValidationError,
    WingsNotFoundError,
    WingsRejectedError,
    WingsUnavailableError,
)
from mamba.domain.nodes import Node
from mamba.domain.operations import Operation
from mamba.domain.servers import Limits, Server
from mamba.observability import logger
from mamba.ports import (
    AgentFor,
    EventPublisher,
    OperationRepository,
    PlacementStore,
    QuotasOf,
    ServerLifecycleStore,
    ServerLocks,
    Workflows,
)
from mamba.services import emit, operations
from mamba.services import servers as servers_service

if TYPE_CHECKING:
    from mamba.services.backups import BackupPorts
    from mamba.services.schedules import SchedulePorts
    from mamba.services.task_waits import WaitPorts


class BlueprintSource(Protocol):
    def get(self, blueprint_id: str) -> Blueprint: ...


class ServerReader(servers_service.ServerRepository, Protocol):
    def on_node(self, node_id: str) -> list[Server]: ...
    def of_tenant(self, tenant_id: str) -> list[Server]: ...


# The lifecycle's store and locks are ports (mamba.ports.ServerLifecycleStore, ServerLocks).
LifecycleStore = ServerLifecycleStore


class Nodes(Protocol):
    def get(self, node_id: str) -> Node: ...
    def list(self, limit: int = ..., cursor: str | None = None) -> tuple[list[Node], str | None]: ...


class Allocations(Protocol):
    def release(self, node_id: str, ip: str, port: int, server_id: str) -> None: ...


@dataclass(frozen=True)
class Lifecycle:
    """Everything the lifecycle needs, built by ``bootstrap.server_lifecycle()``."""

    servers: ServerReader
    store: ServerLifecycleStore
    locks: ServerLocks
    nodes: Nodes
    allocations: Allocations
    agent_for: AgentFor
    operations: OperationRepository
    workflows: Workflows
    blueprints: BlueprintSource | None = None  # for the environment's rules
    backups: BackupPorts | None = None  # a deleted server's backups go too
    # A deleted server's schedules go too; a suspended one's are paused (mamba.services.schedules).
    schedules: SchedulePorts | None = None
    quotas: QuotasOf | None = None
    # tenant id → the tenant-level suspensions that hold now (``tenant_admin``, ``billing``)
    tenant_holds: Callable[[str], frozenset[str]] | None = None
    reinstall_timeout_seconds: int = 600  # how long a reinstall waits for the install callback
    waits: WaitPorts | None = None  # the install's task token (mamba.services.task_waits)
    # What the reconcile read, handed on as (node id, the node's servers, Wings' observations)
    # to the metrics history and crash detection (services/metrics.py); its counts join the
    # node's row. None: not recorded.
    observed: Callable[[str, list[Any], dict[str, life.Observation]], dict[str, int]] | None = None
    # The tenant's quota guard, shared with creates (a bigger build takes it as a create does).
    placement: PlacementStore | None = None
    pause: Callable[[float], None] = time.sleep
    events: EventPublisher | None = None  # server.deleted, server.suspended (docs/notifications.md)


def _now() -> str:
    return iso(utcnow())


def _wired[T](port: T | None, name: str) -> T:
    """An optional port an action needs (a unit test may leave out what it does not use)."""
    if port is None:
        raise RuntimeError(f"this Lifecycle was built without {name}")
    return port


# --- reading a tenant's server ---


def find_server(deps: Lifecycle, tenant: TenantContext, server_id: str) -> Server:
    """The tenant's server (``mamba.services.servers.get_server``: another tenant's, a
    malformed id, or one outside a member's server scope is NotFoundError)."""
    return servers_service.get_server(deps.servers, tenant, server_id)


# --- starting an operation under the server's lock ---


def _start(deps: Lifecycle, tenant: TenantContext, server: Server, op_type: str, payload: dict[str, Any]) -> Operation:
    life.require_allowed(server, op_type)
    op_id = new_id("op")
    deps.locks.acquire(server.uuid, op_id, op_type, now=_now(), now_epoch=now_epoch(), seconds=life.LOCK_SECONDS)
    try:
        return operations.start_operation(
            deps.operations,
            deps.workflows,
            tenant,
            op_type=op_type,
            workflow=op_type,
            steps=life.STEPS[op_type],
            payload={"server_uuid": server.uuid, "lock": True, **payload},
            target=server.uuid,
            op_id=op_id,
        )
    except Exception:
        deps.locks.release(server.uuid, op_id)
        raise


def _tenant_of(server: Server) -> TenantContext:
    """The operation of an admin action belongs to the server's tenant, so its members see it."""
    return TenantContext(tenant_id=server.tenant_id, role="platform", permissions=frozenset())


def _check_quota(deps: Lifecycle, server: Server, limits: Limits) -> bool:
    """A bigger build is checked against the plan under the tenant's quota guard, the same one
    a create takes (``PlacementStore.reserve_build``): read the guard, check the other servers'
    usage plus the new limits, move the guard on from the version read. A create or another
    build change of the tenant that committed meanwhile makes the write fail and the check runs
    again on fresh usage, so racing requests never pass the quota together. True when the new
    limits were reserved in the guard (``_release_build`` undoes it). Raises
    QuotaExceededError, ConflictError (the tenant's changes kept colliding)."""
    if deps.quotas is None or (limits.memory_mb <= server.limits.memory_mb and limits.disk_mb <= server.limits.disk_mb):
        return False
    quotas = deps.quotas(server.tenant_id)
    if deps.placement is None:  # without the guard (unit tests of other actions): the plain check
        others = life.totals_without(deps.servers.of_tenant(server.tenant_id), server.uuid)
        life.check_build_quota(limits, others, int(quotas.memory_mb), int(quotas.disk_mb))
        return False
    for attempt in range(servers_service.MAX_ATTEMPTS):
        if attempt:
            deps.pause(random.uniform(0.01, 0.05 * min(attempt, 6)))  # noqa: S311 - jitter, not crypto
        guard = deps.placement.guard(server.tenant_id)
        usage = deps.placement.usage(server.tenant_id, guard, exclude=server.uuid)
        others = life.TenantTotals(usage.memory_mb, usage.disk_mb)
        life.check_build_quota(limits, others, int(quotas.memory_mb), int(quotas.disk_mb))
        try:
            deps.placement.reserve_build(replace(server, limits=limits), guard)
        except TenantServersChangedError:
            continue
        return True
    raise ConflictError("Too many servers of this tenant are changing at once; try again.")


def _release_build(deps: Lifecycle, server: Server, limits: Limits) -> None:
    """Compensation of ``_check_quota``: the guard forgets the reservation of ``limits``, which
    never applied (the workflow could not start, or it restored the previous build), so the
    tenant's next create or build change is not refused for quota it does not use."""
    if deps.placement is not None:
        deps.placement.release_build(replace(server, limits=limits))


def update_server(
    deps: Lifecycle, tenant: TenantContext, server_id: str, changes: dict[str, Any]
) -> tuple[Server, Operation | None]:
    """PATCH: ``name``/``description`` are saved at once; ``limits`` and ``environment`` start
    update_server_build (build → DB → Wings sync, with the old build restored if the node
    cannot be synced)."""
    server = find_server(deps, tenant, server_id)
    limit_changes = changes.get("limits") or {}
    env_changes = changes.get("environment") or {}
    name, description = changes.get("name"), changes.get("description")
    if not limit_changes and not env_changes and name is None and description is None:
        raise ValidationError("Nothing to change: send name, description, limits or environment.")
    if server.status == srv.DELETING:
        srv.require_status(server, *sorted(life.ALLOWED[life.UPDATE_BUILD]))
    limits = life.merge_limits(server.limits, limit_changes) if limit_changes else server.limits
    environment = server.environment
    if env_changes:
        blueprint = _wired(deps.blueprints, "blueprints").get(server.blueprint_id)
        environment = life.merge_environment(
            tuple(blueprint.variables), server.environment, env_changes, blueprint.variable_max_length
        )
    op: Operation | None = None
    if limits != server.limits or environment != server.environment:
        reserved = _check_quota(deps, server, limits)
        payload: dict[str, Any] = {
            "limits": life.limits_to_dict(limits),
            "previous_limits": life.limits_to_dict(server.limits),
            "environment": environment if environment != server.environment else None,
            "previous_environment": server.environment if environment != server.environment else None,
        }
        try:
            op = _start(deps, tenant, server, life.UPDATE_BUILD, payload)
        except Exception:
            # Nothing changed (the lock is held, or the workflow did not start): neither may the quota.
            if reserved:
                _release_build(deps, server, limits)
            raise
    if name is not None or description is not None:
        deps.store.set_profile(server.uuid, name=name, description=description, now=_now())
    return deps.servers.get(server.uuid), op


def delete_server(deps: Lifecycle, tenant: TenantContext, server_id: str, *, force: bool = False) -> Operation:
    """``force`` (Pterodactyl's force delete): a node that does not answer is skipped."""
    server = find_server(deps, tenant, server_id)
    return _start(deps, tenant, server, life.DELETE, {"force": force})


def reinstall_server(deps: Lifecycle, tenant: TenantContext, server_id: str) -> Operation:
    server = find_server(deps, tenant, server_id)
    return _start(
        deps,
        tenant,
        server,
        life.REINSTALL,
        {
            "previous_status": server.status,
            "install_timeout_seconds": deps.reinstall_timeout_seconds,
        },
    )


def _admin_server(deps: Lifecycle, server_id: str) -> Server:
    if not srv.UUID_V4.match(server_id):
        raise NotFoundError("Server not found.", {"server_id": server_id})
    return deps.servers.get(server_id)


def suspend_server(deps: Lifecycle, server_id: str) -> Operation:
    server = _admin_server(deps, server_id)
    return _start(deps, _tenant_of(server), server, life.SUSPEND, {"by": life.BY_ADMIN})


def unsuspend_server(deps: Lifecycle, server_id: str) -> Operation:
    server = _admin_server(deps, server_id)
    return _start(deps, _tenant_of(server), server, life.UNSUSPEND, {"by": life.BY_ADMIN})


def force_delete_server(deps: Lifecycle, server_id: str) -> Operation:
    """An admin removes a server whose delete failed because its node stayed down: the node
    calls are tried once and their failure ignored; allocations and records are removed."""
    server = _admin_server(deps, server_id)
    srv.require_status(server, srv.DELETING, srv.FAILED)
    return _start(deps, _tenant_of(server), server, life.DELETE, {"force": True})


# --- workflow actions (functions/tasks/servers.py) ---


def _agent(deps: Lifecycle, server: Server) -> Any:
    return deps.agent_for(deps.nodes.get(server.node_id))


def _server_or_none(deps: Lifecycle, server_uuid: str) -> Server | None:
    try:
        return deps.servers.get(server_uuid)
    except NotFoundError:
        return None


def _on_node(call: Callable[[], None], *, force: bool) -> str | None:
    """Run a node call; a server the node does not know is done already. With ``force`` a
    node that does not answer is skipped (returned as the step's detail)."""
    try:
        call()
    except WingsNotFoundError:
        return "the node did not know the server"
    except WingsUnavailableError as exc:
        if not force:
            raise
        return f"skipped: {exc.message}"
    return None


def action_kill(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    """Mark the server ``deleting`` and kill it on its node."""
    server = _server_or_none(deps, event["server_uuid"])
    if server is None:
        return "the server record is already gone"
    if server.status != srv.DELETING:
        deps.store.set_status(server.uuid, srv.DELETING, life.ALLOWED[life.DELETE], now=_now())
    agent = _agent(deps, server)
    return _on_node(lambda: agent.power(server.uuid, "kill"), force=bool(event.get("force")))


def action_delete_on_node(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    server = _server_or_none(deps, event["server_uuid"])
    if server is None:
        return "the server record is already gone"
    agent = _agent(deps, server)
    return _on_node(lambda: agent.delete_server(server.uuid), force=bool(event.get("force")))


def action_release_allocations(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    server = _server_or_none(deps, event["server_uuid"])
    if server is None:
        return "the server record is already gone"
    for ip, port in server.allocations:
        deps.allocations.release(server.node_id, ip, port, server.uuid)
    return f"released {len(server.allocations)}"


def action_delete_backups(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    """Delete the server's backups: S3 object (and any open upload), share of the tenant's
    storage counter, record (with a ``backup.deleted`` audit event). Locked, completed backups
    outlive the server: they stay, marked orphaned, listed under the tenant
    (``GET /v1/tenants/{tid}/backups?orphaned=true``), until unlocked and deleted or the tenant
    is deleted (``mamba.services.backups.keep_or_delete_with_server``). Idempotent."""
    from mamba.services import backups as backups_service

    kept, deleted = backups_service.keep_or_delete_with_server(_wired(deps.backups, "backups"), event["server_uuid"])
    return f"deleted {deleted}, kept {kept} locked"


def action_remove_records(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    if deps.schedules is not None:
        from mamba.services import schedules

        # Their EventBridge schedules first, so no run starts for a server that is gone.
        schedules.delete_with_server(deps.schedules, event["server_uuid"])
    server = _server_or_none(deps, event["server_uuid"])
    removed = deps.store.remove(event["server_uuid"])
    if server is not None:
        # A retried step finds no server and publishes nothing more; the first one's event stands.
        emit.server_event(
            deps.events,
            "server.deleted",
            server,
            dedupe_key=f"{event.get('operation_id') or server.uuid}:deleted",
            occurred_at=_now(),
        )
    return f"removed {removed} items"


def action_mark_installing(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    server = deps.servers.get(event["server_uuid"])
    if server.status != srv.INSTALLING:
        deps.store.set_status(server.uuid, srv.INSTALLING, life.ALLOWED[life.REINSTALL], now=_now())
    return None


def action_reinstall_on_node(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    server = deps.servers.get(event["server_uuid"])
    _agent(deps, server).reinstall(server.uuid)
    return None


def action_revert_install(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    """Compensation of a reinstall the node refused or never got: the previous status."""
    previous = life.status_after_refused_reinstall(str(event.get("previous_status") or srv.OFFLINE))
    try:
        deps.store.set_status(event["server_uuid"], previous, [srv.INSTALLING], now=_now())
    except (ConflictError, NotFoundError):
        return "left as it is: the server changed meanwhile"
    if event.get("operation_id"):
        operations.record_step(deps.operations, event["operation_id"], "mark_installing", "compensated", previous)
    return f"back to {previous}"


def action_await_install(deps: Lifecycle, event: dict[str, Any]) -> dict[str, Any]:
    """The ``.waitForTaskToken`` task: mark ``wait_for_install`` running and park the task token
    until Wings' install callback resumes the workflow (mamba.services.remote_install)."""
    from mamba.services.remote_install import await_install

    op_id = event.get("operation_id")
    if op_id:
        operations.record_step(deps.operations, op_id, "wait_for_install", "running")
    return await_install(
        _wired(deps.waits, "waits"),
        deps.servers.get,
        event["server_uuid"],
        str(event.get("task_token") or ""),
        int(event["install_timeout_seconds"]),
    )


def action_install_timed_out(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    try:
        deps.store.set_status(
            event["server_uuid"],
            srv.INSTALL_FAILED,
            [srv.INSTALLING],
            now=_now(),
            reason="The node did not report the end of the reinstall in time.",
        )
    except ConflictError:
        return "the install finished meanwhile"
    return None


def action_save_build(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    limits = life.limits_from_dict(event["limits"])
    deps.store.set_build(
        event["server_uuid"],
        limits,
        life.ALLOWED[life.UPDATE_BUILD],
        now=_now(),
        environment=event.get("environment"),
    )
    return None


def action_restore_build(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    """Compensation when the node could not be synced: the DB keeps what the node runs."""
    limits = life.limits_from_dict(event["previous_limits"])
    try:
        deps.store.set_build(
            event["server_uuid"], limits, srv.STATUSES, now=_now(), environment=event.get("previous_environment")
        )
        server = deps.servers.get(event["server_uuid"])
    except NotFoundError:
        return "the server is gone"
    if event.get("limits"):  # the new limits never applied: the quota guard forgets them
        _release_build(deps, server, life.limits_from_dict(event["limits"]))
    if event.get("operation_id"):
        operations.record_step(deps.operations, event["operation_id"], "save_build", "compensated", "previous limits")
    return "previous limits restored"


def action_sync_node(deps: Lifecycle, event: dict[str, Any]) -> str | None:
    server = deps.servers.get(event["server_uuid"])
    return _on_node(lambda: _agent(deps, server).sync(server.uuid), force=False)


def _suspender(event: dict[str, Any]) -> str:
    by = str(event.get("by") or life.BY_BILLING)
    if by not in life.SUSPENDERS:
        raise ValidationError(f"by must be one of {sorted(life.SUSPENDERS)}", {"by": by})
    return by


def _pause_schedules(deps: Lifecycle, server_uuid: str, paused: bool) -> None:
    """A suspended server's schedules are paused (no run would start anyway), resumed with it."""
    if deps.schedules is not None:
        from mamba.services import schedules

        schedules.pause_with_server(deps.schedules, server_uuid, paused)


def action_suspend(deps: Lifecycle, event: dict[str, Any]) -> dict[str, Any]:
    """Set the suspended status (and who set it: ``by``, ``billing`` unless said otherwise),
    sync the node (Wings then refuses starts) and kill the server if it runs. Idempotent; a
    missing server is skipped, and so is one that cannot be suspended now (provisioning,
    deleting, failed: its own workflow owns it, or nothing runs)."""
    by = _suspender(event)
    server = _server_or_none(deps, event["server_uuid"])
    if server is None:
        return {"server_uuid": event["server_uuid"], "skipped": "not_found"}
    if server.status not in life.ALLOWED[life.SUSPEND]:
        return {"server_uuid": server.uuid, "skipped": server.status}
    current = deps.store.suspended_by(server.uuid) if server.status == srv.SUSPENDED else None
    holder = life.suspender_after_suspend(server.status, current, by)
    if server.status != srv.SUSPENDED or holder != current:
        deps.store.set_suspension(server.uuid, srv.SUSPENDED, life.ALLOWED[life.SUSPEND], by=holder, now=_now())
    _pause_schedules(deps, server.uuid, True)
    if server.status != srv.SUSPENDED:
        emit.server_event(
            deps.events,
            "server.suspended",
            server,
            dedupe_key=f"{event.get('operation_id') or server.uuid + ':' + server.updated_at}:suspended",
            occurred_at=_now(),
            reason=by,
        )
    agent = _agent(deps, server)
    killed = False
    try:
        agent.sync(server.uuid)
        if agent.get_server(server.uuid).get("state") in (srv.STARTING, srv.RUNNING, srv.STOPPING):
            agent.power(server.uuid, "kill")
            killed = True
    except WingsNotFoundError:
        pass  # the node never got the server (its install had not started): nothing runs
    return {"server_uuid": server.uuid, "status": srv.SUSPENDED, "killed": killed}


def action_unsuspend(deps: Lifecycle, event: dict[str, Any]) -> dict[str, Any]:
    """Clear the suspended status and sync the node. Idempotent. Billing (the default ``by``)
    does not lift a suspension an admin set: that answers ``skipped: suspended_by_admin``. A
    tenant-level lift (billing, or an admin's tenant unsuspend) leaves the server suspended
    while the tenant's other suspension still holds: ``skipped: tenant_suspended``."""
    by = _suspender(event)
    server = _server_or_none(deps, event["server_uuid"])
    if server is None:
        return {"server_uuid": event["server_uuid"], "skipped": "not_found"}
    status = server.status
    if server.status == srv.SUSPENDED:
        if not life.may_unsuspend(deps.store.suspended_by(server.uuid), by):
            return {"server_uuid": server.uuid, "status": srv.SUSPENDED, "skipped": "suspended_by_admin"}
        holds = deps.tenant_holds(server.tenant_id) if deps.tenant_holds is not None else frozenset()
        other = life.other_tenant_hold(by, holds)
        if other is not None:
            # Keep the stronger reason as the holder, so the other lift finds it.
            deps.store.set_suspension(server.uuid, srv.SUSPENDED, [srv.SUSPENDED], by=other, now=_now())
            return {"server_uuid": server.uuid, "status": srv.SUSPENDED, "skipped": "tenant_suspended"}
        status = life.status_after_unsuspend(server)
        deps.store.set_suspension(server.uuid, status, [srv.SUSPENDED], by=None, now=_now())
    if status != srv.SUSPENDED:
        _pause_schedules(deps, server.uuid, False)
    try:
        _agent(deps, server).sync(server.uuid)
    except WingsNotFoundError:
        pass
    return {"server_uuid": server.uuid, "status": status}


def action_finish(deps: Lifecycle, event: dict[str, Any]) -> dict[str, Any]:
    """Close the operation (a failed one names the failed step) and release the server's lock.
    A step still running ends with the operation: a wait a callback resumed (``wait_for_install``)
    succeeded with it, or failed with it."""
    op_id = event["operation_id"]
    status = event["status"]
    error = event.get("error")
    op = deps.operations.find(op_id)
    for step in op.steps:
        if step.status == "running":
            detail = (error or {}).get("message") if status == "failed" else None
            operations.record_step(deps.operations, op_id, step.name, status, detail)
    op = operations.finish_operation(deps.operations, op_id, status, error)
    if event.get("lock") and event.get("server_uuid"):
        deps.locks.release(event["server_uuid"], op_id)
    return {"operation_id": op.id, "status": op.status}


ACTIONS: dict[str, Callable[[Lifecycle, dict[str, Any]], Any]] = {
    "kill": action_kill,
    "delete_on_node": action_delete_on_node,
    "release_allocations": action_release_allocations,
    "delete_backups": action_delete_backups,
    "remove_records": action_remove_records,
    "mark_installing": action_mark_installing,
    "reinstall_on_node": action_reinstall_on_node,
    "revert_install": action_revert_install,
    "await_install": action_await_install,
    "install_timed_out": action_install_timed_out,
    "save_build": action_save_build,
    "restore_build": action_restore_build,
    "sync_node": action_sync_node,
    "suspend": action_suspend,
    "unsuspend": action_unsuspend,
}


def run_action(deps: Lifecycle, event: dict[str, Any]) -> Any:
    """Run one workflow action. With ``step`` in the event, the operation's step is marked
    running before and succeeded after (repeating a step is harmless)."""
    action = event.get("action")
    if action == "finish":
        return action_finish(deps, event)
    handler = ACTIONS.get(str(action))
    if handler is None:
        raise ValidationError(f"unknown server action {action!r}")
    step, op_id = event.get("step"), event.get("operation_id")
    if step and op_id:
        operations.record_step(deps.operations, op_id, step, "running")
    result = handler(deps, event)
    if step and op_id:
        detail = result.get("detail") if isinstance(result, dict) else result
        operations.record_step(deps.operations, op_id, step, "succeeded", detail)
    return result if isinstance(result, dict) else {"detail": result}


# --- the reconcile schedule ---


def reconcile_node(deps: Lifecycle, node: Any, store: LifecycleStore) -> dict[str, Any]:
    """Read the node's ``GET /api/servers`` once and write every server's state and
    utilization in one batch. A node that does not answer is reported and skipped.

    A server the node holds but the panel has no record of at all (a delete an admin forced
    while the node was unreachable, or a provision that was rolled back) is deleted on the
    node, so that nothing stays orphaned there. The panel commits a server's record before
    creating it on a node, and the record is read with a consistent GetItem first, so a
    server being created is never taken for a stray."""
    servers = deps.servers.on_node(node.id)
    agent = deps.agent_for(node)
    try:
        listing = agent.list_servers()
    except (WingsUnavailableError, WingsRejectedError) as exc:
        logger.warning("reconcile: node did not list its servers", extra={"node_id": node.id, "error": str(exc)})
        return {"node_id": node.id, "servers": len(servers), "observed": 0, "changed": 0, "error": exc.code}
    seen = life.observations(listing)
    rows = []
    observed = 0
    for server in servers:
        observation = seen.get(server.uuid)
        if observation is None:
            continue
        observed += 1
        status = life.reconciled_status(server, observation)
        # Only a server whose status changed is written (with its utilization then): every
        # server's readings are stored once a minute per node by the metrics history below,
        # and a write per server per minute would cost about $0.60 a server a month (docs/cost.md).
        if status != server.status:
            rows.append(life.ObservedServer(server.uuid, server.status, status, observation.utilization))
    if rows:
        store.record_observations(rows, now=_now())
    known = {server.uuid for server in servers}
    removed = sum(_remove_stray(deps, agent, node, uuid) for uuid in seen if uuid not in known)
    result = {"node_id": node.id, "servers": len(servers), "observed": observed, "changed": len(rows)}
    if removed:
        result["removed_strays"] = removed
    if deps.observed is not None:
        try:
            result.update(deps.observed(node.id, servers, seen))
        except DomainError as exc:
            # The history is worth less than the statuses just written: log and go on.
            logger.warning("reconcile: metrics not recorded", extra={"node_id": node.id, "error": exc.message})
            result["metrics_error"] = exc.code
    return result


def _remove_stray(deps: Lifecycle, agent: Any, node: Any, server_uuid: str) -> bool:
    if _server_or_none(deps, server_uuid) is not None:
        return False  # the panel knows it (a record the node index has not caught up with)
    try:
        agent.delete_server(server_uuid)
    except (WingsUnavailableError, WingsRejectedError, WingsNotFoundError) as exc:
        logger.warning("reconcile: stray server not removed", extra={"node_id": node.id, "error": exc.message})
        return False
    logger.info("reconcile: removed a server the panel does not know", extra={"node_id": node.id, "uuid": server_uuid})
    return True


RECONCILE_WORKERS = 8  # nodes read at once: a slow node must not use up the Lambda's time


def reconcile_all(deps: Lifecycle) -> list[dict[str, Any]]:
    """Every node, up to ``RECONCILE_WORKERS`` at a time; one node's failure (the node or its
    writes) never stops the others and is reported in its row."""
    nodes: list[Any] = []
    cursor: str | None = None
    while True:
        page, cursor = deps.nodes.list(limit=100, cursor=cursor)
        nodes.extend(page)
        if not cursor:
            break

    def one(node: Any) -> dict[str, Any]:
        try:
            return reconcile_node(deps, node, deps.store)
        except DomainError as exc:
            logger.warning("reconcile: node skipped", extra={"node_id": node.id, "error": exc.message})
            return {"node_id": node.id, "servers": 0, "observed": 0, "changed": 0, "error": exc.code}

    if not nodes:
        return []
    with ThreadPoolExecutor(max_workers=min(RECONCILE_WORKERS, len(nodes))) as pool:
        return list(pool.map(one, nodes))
