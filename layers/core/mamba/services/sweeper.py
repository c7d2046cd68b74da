"""The sweeper: nothing stays stranded by a process that died (issue 18, docs/server-lifecycle.md).

Run on the reconcile schedule (``functions/schedules/sweep.py``, called by the reconcile
handler). Every record a workflow should move on, but whose workflow is not running, is
finished or compensated once it is older than ``GRACE_SECONDS`` (so a request or a workflow
that is just starting is never raced):

1. **An operation that never started** (``pending``, no execution: the API died between
   writing the operation and starting its workflow): its workflow is started now with the
   recorded input (the execution is named after the operation, so a start that did happen
   meanwhile is not doubled). Its waits are relative (timeouts in seconds), so a late start
   gets its full time.
2. **An operation whose execution ended without closing it** (``pending``/``running``, the
   execution FAILED/ABORTED/TIMED_OUT: an operator stopped it, or it hit its timeout): it is
   closed ``failed`` with a readable reason and the workflow's own compensation runs (a
   provisioning is undone on the node and its ports freed, a lifecycle workflow releases the
   server's lock and a reinstall puts the server back to its status, a build change puts the
   previous build back in the record and on the node and frees the quota it reserved, a backup
   workflow fails its backup or restore). A tenant workflow leaves the tenant's servers as the
   tenant's recorded state says: an admin's suspension is undone (the tenant's status put back,
   ``reactivate_tenant`` started for the servers it had suspended), billing's suspension stands
   (the customer has not paid: it is started again), and a reactivation is started again. An
   execution that SUCCEEDED but whose closing write was lost only has its operation closed
   ``succeeded`` (and its lock released).
3. **A server in ``provisioning`` that no live operation targets** (the API died between
   reserving the allocation and writing the operation, or the compensation's own write was
   lost): the node was never asked to create it (``create_on_wings`` moves it to
   ``installing`` first), so its ports are freed and it becomes ``failed`` with the reason.
   It still counts as one server of the tenant until deleted, and holds no memory or disk.
4. **A server in ``deleting`` that no live operation targets** (a delete whose node stayed
   down): the delete is started again, at most once every ``RETRY_SECONDS``, once the node's
   health probe no longer finds it offline.

Errors: one record's failure is logged and counted (``errors``); the others go on. A
DependencyUnavailableError reading the operations or nodes escapes (the next run tries again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from mamba.auth.context import TenantContext
from mamba.domain import server_lifecycle as life
from mamba.domain import servers as srv
from mamba.domain.errors import DomainError, WingsUnavailableError, WorkflowInterruptedError
from mamba.domain.nodes import Node
from mamba.domain.operations import Operation
from mamba.domain.pages import PageRequest
from mamba.domain.tenancy import Tenant
from mamba.observability import logger
from mamba.ports import OperationRepository, Workflows

if TYPE_CHECKING:
    from mamba.services.backups import BackupPorts
    from mamba.services.provisioning import ProvisionPorts
    from mamba.services.server_lifecycle import Lifecycle

GRACE_SECONDS = 300  # younger records belong to a request or a workflow that is still starting
RETRY_SECONDS = 900  # a stuck delete is started again at most this often
OPEN = ("pending", "running")
ENDED = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"})
LIFECYCLE = frozenset(
    {"delete_server", "reinstall_server", "update_server_build", "suspend_server", "unsuspend_server"}
)

INTERRUPTED = WorkflowInterruptedError.code
NEVER_STARTED = (
    "The panel stopped before this server's provisioning started; nothing was created on a node and its port "
    "was freed. Delete the server and create it again."
)


TENANT_WORKFLOWS = frozenset({"suspend_tenant", "reactivate_tenant"})
ACTIVE, SUSPENDED = "active", "suspended"


class TenantStatuses(Protocol):
    """The tenant's own status (``AdminRepository``): what an admin's suspension set."""

    def get_tenant(self, tenant_id: str) -> Tenant: ...
    def set_tenant_status(self, tenant_id: str, status: str, now: str) -> Tenant: ...


class NodeLister(Protocol):
    def list(self, limit: int = ..., cursor: str | None = None) -> tuple[list[Node], str | None]: ...


class ServersOnNode(Protocol):
    def on_node(self, node_id: str) -> list[srv.Server]: ...


@dataclass
class SweepPorts:
    operations: OperationRepository
    workflows: Workflows
    nodes: NodeLister
    servers: ServersOnNode
    provisioning: ProvisionPorts
    lifecycle: Lifecycle
    backups: BackupPorts | None
    epoch: Callable[[], float]
    now: Callable[[], str]
    # node ids -> those whose last health probe failed: a delete is not retried there (it would
    # fail again every RETRY_SECONDS; an admin's forced delete is the way while a node is gone)
    unreachable: Callable[[list[str]], set[str]] = lambda node_ids: set()
    tenants: TenantStatuses | None = None  # without it, a dead tenant workflow is only closed


@dataclass
class SweepReport:
    restarted: list[str] = field(default_factory=list)  # operation ids started now
    closed: list[str] = field(default_factory=list)  # operation ids closed failed
    failed_servers: list[str] = field(default_factory=list)  # provisioning servers compensated
    retried_deletes: list[str] = field(default_factory=list)  # servers whose delete started again
    errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "restarted": self.restarted,
            "closed": self.closed,
            "failed_servers": self.failed_servers,
            "retried_deletes": self.retried_deletes,
            "errors": self.errors,
        }


def _epoch_of(stamp: str | None) -> float:
    if not stamp:
        return 0.0
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _open_operations(repo: OperationRepository) -> Iterator[Operation]:
    for status in OPEN:
        page = PageRequest(limit=100)
        while True:
            found = repo.list_all(page, status=status)
            yield from found.items
            if not found.next_cursor:
                break
            page = PageRequest(limit=100, cursor=found.next_cursor)


def _server_of(op: Operation) -> str | None:
    target = str((op.input or {}).get("server_uuid") or op.target or "")
    return target if srv.UUID_V4.match(target) else None


def _close(ports: SweepPorts, op: Operation, execution: str) -> None:
    """Close an operation whose execution ended without its last state: succeeded when the
    execution did (only its closing write was lost), else failed and compensated."""
    from mamba.services import operations as operations_service

    if execution == "SUCCEEDED":
        if op.workflow in LIFECYCLE and _server_of(op):
            from mamba.services import server_lifecycle

            server_lifecycle.action_finish(
                ports.lifecycle,
                {"operation_id": op.id, "status": "succeeded", "lock": True, "server_uuid": _server_of(op)},
            )
        else:
            operations_service.finish_operation(ports.operations, op.id, "succeeded")
        return
    error = {
        "code": INTERRUPTED,
        "message": f"The workflow stopped ({execution.lower()}) before it finished; what it had done was undone.",
    }
    payload = op.input or {}
    event = {
        **payload,
        "operation_id": op.id,
        "error": {"Error": WorkflowInterruptedError.__name__, "Cause": error["message"]},
    }
    if op.workflow == "provision_server" and _server_of(op):
        from mamba.services import provisioning

        try:
            provisioning.compensate(ports.provisioning, event)
        except WingsUnavailableError as exc:
            provisioning.compensation_incomplete(
                ports.provisioning, {**event, "compensation_error": {"Error": type(exc).__name__, "Cause": str(exc)}}
            )
    elif op.workflow in LIFECYCLE and _server_of(op):
        from mamba.services import server_lifecycle

        if op.workflow == "reinstall_server":  # not left ``installing``: back to the status it had
            server_lifecycle.action_revert_install(ports.lifecycle, {**payload, "operation_id": op.id})
        elif op.workflow == "update_server_build" and payload.get("previous_limits"):
            _undo_build(ports, {**payload, "operation_id": op.id})
        server_lifecycle.action_finish(
            ports.lifecycle,
            {"operation_id": op.id, "status": "failed", "error": error, "lock": True, "server_uuid": _server_of(op)},
        )
        return
    elif (
        op.workflow in ("backup_server", "restore_backup", "delete_backup")
        and ports.backups
        and payload.get("backup_uuid")
    ):
        from mamba.services import backups

        fail = {
            "backup_server": backups.task_fail_backup,
            "restore_backup": backups.task_fail_restore,
            "delete_backup": backups.task_fail_delete,
        }[op.workflow]
        fail(ports.backups, str(payload["backup_uuid"]), op.id, error)
        return
    elif op.workflow in TENANT_WORKFLOWS and ports.tenants is not None:
        error = {**error, "message": _settle_tenant(ports, op, execution)}
    operations_service.finish_operation(ports.operations, op.id, "failed", error)


def _undo_build(ports: SweepPorts, event: dict[str, Any]) -> None:
    """A build change that died after saving the new build: the previous build goes back into
    the record (and the quota guard forgets the new limits), then onto the node, which may have
    been synced with the new one. A node that cannot be reached now gets it on its next sync
    (its configuration is read from the record), so that failure is only logged."""
    from mamba.services import server_lifecycle

    server_lifecycle.action_restore_build(ports.lifecycle, event)
    try:
        server_lifecycle.action_sync_node(ports.lifecycle, event)
    except DomainError as exc:
        logger.warning("sweep: previous build not synced to the node", extra={"error": str(exc)})


def _settle_tenant(ports: SweepPorts, op: Operation, execution: str) -> str:
    """A tenant workflow died with some of the tenant's servers done and others not: they are
    brought in line with the tenant's state (see the module doc). Returns the reason shown."""
    from mamba.services.operations import start_tenant_workflow

    assert ports.tenants is not None
    payload = op.input or {}
    by = str(payload.get("by") or life.BY_BILLING)
    stopped = f"The workflow stopped ({execution.lower()}) before every server was done"
    if op.workflow == "suspend_tenant" and by == life.BY_TENANT_ADMIN:
        previous = str(payload.get("previous_status") or ACTIVE)
        if previous == ACTIVE and ports.tenants.get_tenant(op.tenant_id).status == SUSPENDED:
            ports.tenants.set_tenant_status(op.tenant_id, ACTIVE, ports.now())
            again = start_tenant_workflow(
                ports.operations, ports.workflows, op.tenant_id, "admin.unsuspend_tenant", "reactivate_tenant", by
            )
            return (
                f"{stopped}; the suspension was undone (operation {again.id} brings its servers back). Suspend again."
            )
        return f"{stopped}; the tenant was suspended before, so it stays suspended."
    # Billing's suspension stands (the customer has not paid), and a reactivation is owed: both
    # are started again, the same way (every per-server step is idempotent).
    again = start_tenant_workflow(
        ports.operations, ports.workflows, op.tenant_id, op.type, op.workflow or "suspend_tenant", by
    )
    return f"{stopped}; it was started again as operation {again.id}."


def _sweep_operations(ports: SweepPorts, report: SweepReport) -> set[str]:
    """Steps 1 and 2; returns the servers a live (or just started) operation targets."""
    live: set[str] = set()
    cutoff = ports.epoch() - GRACE_SECONDS
    for op in _open_operations(ports.operations):
        server = _server_of(op)
        try:
            young = _epoch_of(op.updated_at) > cutoff
            # One DescribeExecution per open operation past the grace period, none for younger ones.
            state = None if op.workflow is None or young else ports.workflows.status(op.workflow, op.id, op.attempt)
            if op.workflow is None or young or state == "RUNNING":
                if server:
                    live.add(server)
                continue
            if state is None and op.status == "pending":
                ports.workflows.start(op.workflow, op.id, dict(op.input or {}), op.attempt)
                report.restarted.append(op.id)
                if server:
                    live.add(server)
            else:  # ended, or a running operation whose execution is gone
                _close(ports, op, state or "LOST")
                report.closed.append(op.id)
        except DomainError as exc:
            report.errors += 1
            if server:
                live.add(server)  # not sure what it holds: leave its server to the next run
            logger.warning("sweep: operation not handled", extra={"operation_id": op.id, "error": str(exc)})
    return live


def _nodes(ports: SweepPorts) -> Iterator[Node]:
    cursor: str | None = None
    while True:
        page, cursor = ports.nodes.list(100, cursor)
        yield from page
        if not cursor:
            return


def _fail_unstarted(ports: SweepPorts, server: srv.Server) -> None:
    """Step 3: free the ports, then mark the server failed (a repeated run finds it failed)."""
    for ip, port in server.allocations:
        ports.provisioning.allocations.release(server.node_id, ip, port, server.uuid)
    ports.lifecycle.store.set_status(server.uuid, srv.FAILED, [srv.PROVISIONING], now=ports.now(), reason=NEVER_STARTED)


def _retry_delete(ports: SweepPorts, server: srv.Server) -> None:
    """Step 4: the delete starts again (a new operation of the server's tenant, under its lock)."""
    from mamba.services import server_lifecycle

    ports.lifecycle.store.set_status(server.uuid, srv.DELETING, [srv.DELETING], now=ports.now())  # its retry clock
    tenant = TenantContext(tenant_id=server.tenant_id, role="platform", permissions=frozenset())
    server_lifecycle.delete_server(ports.lifecycle, tenant, server.uuid)


def _sweep_servers(ports: SweepPorts, live: set[str], report: SweepReport) -> None:
    now = ports.epoch()
    nodes = list(_nodes(ports))
    down = ports.unreachable([node.id for node in nodes]) if nodes else set()
    for node in nodes:
        for server in ports.servers.on_node(node.id):
            if server.status not in (srv.PROVISIONING, srv.DELETING) or server.uuid in live:
                continue
            age = now - _epoch_of(server.updated_at)
            try:
                if server.status == srv.PROVISIONING and age > GRACE_SECONDS:
                    _fail_unstarted(ports, server)
                    report.failed_servers.append(server.uuid)
                elif server.status == srv.DELETING and age > RETRY_SECONDS and node.id not in down:
                    _retry_delete(ports, server)
                    report.retried_deletes.append(server.uuid)
            except DomainError as exc:
                report.errors += 1
                logger.warning("sweep: server not handled", extra={"server_id": server.uuid, "error": str(exc)})


def sweep(ports: SweepPorts, *, servers_too: bool = True) -> SweepReport:
    """One pass (see the module doc): operations first, so a server whose operation was just
    started again or closed is judged on what that did. Without ``servers_too`` the servers
    (3 and 4) wait for a later pass: finding them reads every server of every node."""
    report = SweepReport()
    live = _sweep_operations(ports, report)
    if servers_too:
        _sweep_servers(ports, live, report)
    if report.restarted or report.closed or report.failed_servers or report.retried_deletes or report.errors:
        logger.warning("sweep: stranded records found", extra=report.as_dict())
    return report
