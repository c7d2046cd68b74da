"""The tasks of the ``provision_server`` workflow (statemachines/provision_server.asl.json).

The API has already reserved the allocation and written the server (``provisioning``). Each
task is idempotent (Step Functions retries them) and raises a typed error the ASL retries
(WingsUnavailableError, DependencyUnavailableError, TransientError) or catches into the
compensation, which removes the server from Wings, frees its allocations and marks it
``failed`` with the reason.

The install is awaited with a task token (``await_install``, mamba.services.task_waits):
Wings' install callback resumes the workflow, and the Task's ``TimeoutSecondsPath``
(``install_timeout_seconds``) fails it into the compensation when no callback comes. Wings
sends no callback when a server reaches ``running``, so that wait still polls the node:
``await_running`` watches for at most ``watch_seconds``, the ASL Waits ``poll_seconds``
between looks, and the deadline ``start`` returned ends it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mamba.domain import servers as srv
from mamba.domain.errors import (
    ConflictError,
    NotFoundError,
    StartTimeoutError,
    WingsNotFoundError,
)
from mamba.domain.nodes import Allocation, Node
from mamba.ports import EventPublisher, NodeAgent, OperationRepository
from mamba.services import emit
from mamba.services.task_waits import WaitPorts

LOOK_INTERVAL = 0.1  # seconds between two looks at the record within one watch
POWER_LOCK_WAIT = 30  # wait_seconds: a busy server reports its failure instead of Wings dropping the start


class ServerStore(Protocol):
    def get(self, server_uuid: str) -> srv.Server: ...
    def save(self, server: srv.Server) -> None: ...


class NodeSource(Protocol):
    def get(self, node_id: str) -> Node: ...


class AllocationStore(Protocol):
    def get(self, node_id: str, ip: str, port: int) -> Allocation: ...
    def release(self, node_id: str, ip: str, port: int, server_id: str) -> None: ...


@dataclass
class ProvisionPorts:
    servers: ServerStore
    nodes: NodeSource
    allocations: AllocationStore
    agent_for: Callable[[Node], NodeAgent]
    operations: OperationRepository
    now: Callable[[], str]
    epoch: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    waits: WaitPorts | None = None  # the install's task token (a unit test of other steps may leave it out)
    events: EventPublisher | None = None  # server.created, server.install_failed (docs/notifications.md)


def _step(ports: ProvisionPorts, event: dict[str, Any], step: str, status: str, detail: str | None = None) -> None:
    from mamba.services.operations import record_step

    record_step(ports.operations, event["operation_id"], step, status, detail)


def _agent(ports: ProvisionPorts, server: srv.Server) -> NodeAgent:
    return ports.agent_for(ports.nodes.get(server.node_id))


def verify(ports: ProvisionPorts, event: dict[str, Any]) -> dict[str, Any]:
    """The reservation the API made is in place: the server exists and holds its allocation.
    Raises ConflictError when it does not (nothing for the compensation to undo but the record)."""
    server = ports.servers.get(event["server_uuid"])
    ip, port = server.allocation
    holder = ports.allocations.get(server.node_id, ip, port).server_id
    if holder != server.uuid:
        raise ConflictError("The server's allocation is not reserved for it.", {"allocation": f"{ip}:{port}"})
    _step(ports, event, "reserve", "succeeded", f"{ip}:{port} on {server.node_id}")
    _step(ports, event, "persist", "succeeded")
    return {"node_id": server.node_id}


def create_on_wings(ports: ProvisionPorts, event: dict[str, Any]) -> dict[str, Any]:
    """Mark the server ``installing`` (committed before Wings calls back for its configuration,
    wings-contract.md §2.4) and register it on the node, unless a previous attempt did."""
    _step(ports, event, "create_on_wings", "running")
    server = ports.servers.get(event["server_uuid"])
    agent = _agent(ports, server)
    if server.status == srv.PROVISIONING:
        # The first call of this run: whatever the node knows by this uuid is left over from an
        # earlier, failed run that an admin retried (its compensation could not reach the node),
        # so it goes before the fresh create. A later call of the same run sees ``installing``.
        try:
            agent.get_server(server.uuid)
            agent.delete_server(server.uuid)
        except WingsNotFoundError:
            pass
        ports.servers.save(srv.transition(server, srv.INSTALLING, now=ports.now()))
        agent.create_server(server.uuid, start_on_completion=False)
    elif server.status not in (srv.INSTALLING, srv.OFFLINE, srv.INSTALL_FAILED):
        raise ConflictError(f"The server is {server.status}; provisioning stops.", {"status": server.status})
    else:
        try:
            agent.get_server(server.uuid)  # an attempt whose answer was lost may have created it
        except WingsNotFoundError:
            agent.create_server(server.uuid, start_on_completion=False)
    _step(ports, event, "create_on_wings", "succeeded")
    _step(ports, event, "install", "running")
    return {"created": True}


def await_install(ports: ProvisionPorts, event: dict[str, Any]) -> dict[str, Any]:
    """The ``.waitForTaskToken`` task: park ``task_token`` until Wings' install callback resumes
    the workflow with ``{"state": "succeeded"}`` or fails it (InstallFailedError, or
    ConflictError when the server was taken elsewhere); the Task's timeout ends a silent node."""
    from mamba.services.remote_install import await_install as park_for_install

    if ports.waits is None:
        raise RuntimeError("these ProvisionPorts were built without waits")
    return park_for_install(
        ports.waits,
        ports.servers.get,
        event["server_uuid"],
        str(event.get("task_token") or ""),
        int(event["install_timeout_seconds"]),
    )


def _installed(ports: ProvisionPorts, event: dict[str, Any]) -> None:
    """The install callback resumed the workflow: the install step is done (repeating it is
    harmless: the step is recorded again and ``server.created`` is published with the same id)."""
    _step(ports, event, "install", "succeeded")
    server = ports.servers.get(event["server_uuid"])
    emit.server_event(
        ports.events,
        "server.created",
        server,
        dedupe_key=f"{event['operation_id']}:installed",
        occurred_at=ports.now(),
    )


def _install_failed(ports: ProvisionPorts, event: dict[str, Any], server: srv.Server, reason: str) -> None:
    emit.server_event(
        ports.events,
        "server.install_failed",
        server,
        dedupe_key=f"{event['operation_id']}:failed",
        occurred_at=ports.now(),
        reason=reason,
    )


def start(ports: ProvisionPorts, event: dict[str, Any]) -> dict[str, Any]:
    """Send ``start`` with ``wait_seconds`` and mark the server ``starting``; returns the deadline."""
    _installed(ports, event)
    _step(ports, event, "start", "running")
    server = ports.servers.get(event["server_uuid"])
    _agent(ports, server).power(server.uuid, "start", wait_seconds=POWER_LOCK_WAIT)
    if server.status == srv.OFFLINE:
        ports.servers.save(srv.transition(server, srv.STARTING, now=ports.now()))
    return {"deadline": int(ports.epoch()) + int(event.get("start_timeout_seconds", 120)), "state": "pending"}


def await_running(ports: ProvisionPorts, event: dict[str, Any]) -> dict[str, Any]:
    """Watch the node's state of the server until it is ``running`` (then recorded), for at most
    ``watch_seconds``; StartTimeoutError past the deadline ``start`` returned."""
    server = ports.servers.get(event["server_uuid"])
    agent = _agent(ports, server)
    deadline = float(event["start"]["deadline"])
    watch_until = ports.epoch() + float(event.get("watch_seconds", 0))
    while True:
        state = agent.get_server(server.uuid).get("state")
        if state == srv.RUNNING:
            current = ports.servers.get(server.uuid)
            if current.status in (srv.OFFLINE, srv.STARTING):
                ports.servers.save(srv.transition(current, srv.RUNNING, now=ports.now()))
            _step(ports, event, "start", "succeeded")
            return {"deadline": int(deadline), "state": "running"}
        if ports.epoch() > deadline:
            raise StartTimeoutError(
                "The server was installed but did not reach running in time; look at its console, then start it.",
                {"server_id": server.uuid, "state": state},
            )
        if ports.epoch() >= watch_until:
            return {"deadline": int(deadline), "state": "pending"}
        ports.sleep(LOOK_INTERVAL)


def skip_start(ports: ProvisionPorts, event: dict[str, Any]) -> dict[str, Any]:
    _installed(ports, event)
    _step(ports, event, "start", "skipped")
    return {}


def start_failed(ports: ProvisionPorts, event: dict[str, Any]) -> dict[str, Any]:
    """The server is installed but did not start: it stays (``offline``), the operation fails."""
    from mamba.workflow_errors import readable_error

    error = readable_error(event.get("error") or {})
    server = ports.servers.get(event["server_uuid"])
    if server.status == srv.STARTING:
        ports.servers.save(srv.transition(server, srv.OFFLINE, now=ports.now(), reason=error["message"]))
    _step(ports, event, "start", "failed", error["message"])
    return error


def compensate(ports: ProvisionPorts, event: dict[str, Any]) -> dict[str, Any]:
    """Undo a failed provisioning: delete the server on the node (absent is fine), free its
    allocations, mark it ``failed`` with the readable reason. Idempotent; a node that does not
    answer raises WingsUnavailableError (retried by the ASL, then ``compensation_incomplete``)."""
    from mamba.workflow_errors import readable_error

    error = readable_error(event.get("error") or {})
    try:
        server = ports.servers.get(event["server_uuid"])
    except NotFoundError:
        return error
    if server.status != srv.PROVISIONING:  # the node may know it: Wings was (maybe) asked to create it
        try:
            _agent(ports, server).delete_server(server.uuid)
        except WingsNotFoundError:
            pass
    for ip, port in server.allocations:
        ports.allocations.release(server.node_id, ip, port, server.uuid)
    if server.status != srv.FAILED:
        ports.servers.save(srv.transition(server, srv.FAILED, now=ports.now(), reason=error["message"]))
    _install_failed(ports, event, server, error["message"])
    _close_steps(ports, event, error["message"])
    return error


def _close_steps(ports: ProvisionPorts, event: dict[str, Any], reason: str, *, undone: bool = True) -> None:
    """After a compensation: the step that was running failed, the ones done were undone
    (unless the compensation could not finish), the ones not reached were skipped."""
    op = ports.operations.find(event["operation_id"])
    undo = {"running": "failed", "pending": "skipped"}
    if undone:
        undo["succeeded"] = "compensated"
    for step in op.steps:
        if step.status in undo:
            _step(ports, event, step.name, undo[step.status], reason if step.status == "running" else None)


def compensation_incomplete(ports: ProvisionPorts, event: dict[str, Any]) -> dict[str, Any]:
    """The node could not be reached to remove the server: mark it ``failed`` but keep its
    allocation (the node may still run it); deleting the server later finishes the cleanup."""
    from mamba.workflow_errors import readable_error

    error = readable_error(event.get("error") or {})
    cleanup = readable_error(event.get("compensation_error") or {})
    server = ports.servers.get(event["server_uuid"])
    reason = (
        f"{error['message']} The node could not be reached to remove the server ({cleanup['message']}); "
        "its port stays reserved until the server is deleted."
    )
    if server.status != srv.FAILED:
        ports.servers.save(srv.transition(server, srv.FAILED, now=ports.now(), reason=reason))
    _install_failed(ports, event, server, error["message"])
    _close_steps(ports, event, error["message"], undone=False)
    return error
