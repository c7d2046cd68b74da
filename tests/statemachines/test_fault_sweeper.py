"""Fault: the API process dies between reserving a server and starting its workflow, or a
workflow stops before it finishes (issue 18, item 5). The sweeper on the reconcile schedule
finishes or compensates what is left: nothing stays ``provisioning`` or holds a port for a
server that will never run, and the operation or the server says why.

provision_server runs for real on moto against the Wings simulator over HTTP
(tests/statemachines/provision_support.py). "The process dies" is a BaseException raised
where the process would stop (the panel catches ``Exception`` to undo its work; a dying
process undoes nothing). The sweeper is run as the reconcile schedule runs it, with its clock
moved past the grace period instead of waiting five minutes.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from functions.schedules import reconcile, sweep
from mamba import bootstrap
from mamba.domain.operations import Operation
from mamba.domain.servers import CreateServer, ProvisionTiming, Server
from mamba.services import servers as service
from mamba.services import sweeper
from tests.statemachines import test_provision_server as provisioning_world
from tests.statemachines.provision_support import allocation_holders
from tests.statemachines.test_provision_server import TENANT, World

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("provision-sim")]

world = provisioning_world.world  # the fixture: a simulated node behind a fault proxy, the real panel over HTTP


class ProcessDied(BaseException):
    """The Lambda container stopped here (not an ``Exception``: nothing catches it to undo)."""


class DiesOnStart:
    """Step Functions as seen by a process that dies before its StartExecution is sent."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def start(self, *args: Any, **kwargs: Any) -> str:
        raise ProcessDied

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def create_until_death(world: World, *, before_operation: bool) -> Server:
    """A create whose process dies after the reservation: before the operation is written, or
    between writing it and starting its workflow. Returns the stranded server."""
    from functions.api.servers import ports

    p = ports()
    p.timing = ProvisionTiming(install_timeout_seconds=60, start_timeout_seconds=30, poll_seconds=0, watch_seconds=1.0)
    cmd = CreateServer(name="stranded", blueprint_id="bp_line", memory_mb=256, disk_mb=512)
    if before_operation:
        server = service.reserve_server(p, TENANT, cmd)  # the process dies right after this
        return server
    p.workflows = DiesOnStart(p.workflows)
    with pytest.raises(ProcessDied):
        service.create_server(p, TENANT, cmd)
    (server,) = bootstrap.server_repository().of_tenant(TENANT.tenant_id)
    return server


def sweep_later(seconds: float = sweeper.GRACE_SECONDS + 60) -> dict[str, Any]:
    """The reconcile schedule's sweep, its clock ``seconds`` ahead."""
    later = replace(sweep.ports(), epoch=lambda: time.time() + seconds)
    return sweeper.sweep(later).as_dict()


def open_operations() -> list[Operation]:
    return [
        op for op in bootstrap.operation_repository().list_all(_page()).items if op.status in ("pending", "running")
    ]


def _page() -> Any:
    from mamba.domain.pages import PageRequest

    return PageRequest(limit=100)


def test_a_server_stranded_in_provisioning_by_a_dead_api_is_failed_and_its_port_freed(world: World) -> None:
    # Given a create whose process died after reserving the server, before writing its operation
    server = create_until_death(world, before_operation=True)
    assert bootstrap.server_repository().get(server.uuid).status == "provisioning"
    assert allocation_holders(world.node.node.id)[server.allocation[1]] == server.uuid

    # When the reconcile schedule runs within the grace period, and then after it
    early = reconcile.handler({}, None)["sweep"]
    report = sweep_later()

    # Then the young record was left alone, the stranded one failed with a reason, its port is
    # free and the node never heard of it
    assert early["failed_servers"] == []
    assert report["failed_servers"] == [server.uuid]
    stored = bootstrap.server_repository().get(server.uuid)
    assert stored.status == "failed" and "stopped before this server's provisioning started" in (
        stored.status_reason or ""
    )
    assert set(allocation_holders(world.node.node.id).values()) == {None}
    assert server.uuid not in world.node.server_uuids()
    # and a second run changes nothing
    assert sweep_later()["failed_servers"] == []


def test_a_provisioning_whose_workflow_never_started_is_started_by_the_sweeper_and_finishes(world: World) -> None:
    # Given a create whose process died between writing the operation and starting the workflow
    server = create_until_death(world, before_operation=False)
    (op,) = open_operations()
    assert op.status == "pending" and op.target == server.uuid

    # When the sweeper runs past the grace period
    report = sweep_later()

    # Then it started the recorded workflow, which provisioned the server on the node
    assert report["restarted"] == [op.id] and report["failed_servers"] == []
    described = world.deployed.wait(world.deployed.execution_arn("provision_server", op.id), timeout_s=60)
    assert described["status"] == "SUCCEEDED", world.deployed.history(described["executionArn"])[-3:]
    assert bootstrap.operation_repository().find(op.id).status == "succeeded"
    assert bootstrap.server_repository().get(server.uuid).status == "offline"
    assert server.uuid in world.node.server_uuids()
    # and the next run sees a finished operation: nothing more is started
    assert sweep_later()["restarted"] == []


def test_a_provisioning_whose_execution_was_aborted_is_closed_and_compensated(world: World) -> None:
    # Given a provisioning that installed the server on the node, then had its execution
    # stopped by an operator before the operation was closed
    server, op = world.create()
    world.finish(op)
    repo = bootstrap.server_repository()
    repo.save(replace(repo.get(server.uuid), status="installing"))  # as it was when the execution stopped
    ops = bootstrap.operation_repository()
    ops.save(replace(ops.find(op.id), status="running", error=None))
    aborted = replace(sweep.ports(), epoch=lambda: time.time() + sweeper.GRACE_SECONDS + 60)
    aborted.workflows = StatusOf(aborted.workflows, "ABORTED")

    # When the sweeper runs
    report = sweeper.sweep(aborted).as_dict()

    # Then the operation is failed with a readable reason, the server removed from the node,
    # its port freed and the server failed
    assert report["closed"] == [op.id]
    closed = ops.find(op.id)
    assert closed.status == "failed" and closed.error["code"] == "WORKFLOW_INTERRUPTED"
    assert "stopped (aborted)" in closed.error["message"]
    assert repo.get(server.uuid).status == "failed"
    assert set(allocation_holders(world.node.node.id).values()) == {None}
    assert server.uuid not in world.node.server_uuids()


class StatusOf:
    """Step Functions that reports every execution in one status (an operator's StopExecution)."""

    def __init__(self, real: Any, status: str) -> None:
        self.real, self.value = real, status

    def status(self, workflow: str, operation_id: str, attempt: int = 1) -> str:
        return self.value

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_server_left_deleting_without_an_operation_is_deleted_again(world: World) -> None:
    # Given an installed server whose delete failed long ago (the node was down), no operation open
    server, op = world.create()
    world.finish(op)
    bootstrap.server_lifecycle().store.set_status(server.uuid, "deleting", ["offline"], now="2026-12-01T00:00:00Z")

    # When the sweeper runs
    report = sweep_later(sweeper.RETRY_SECONDS + 60)

    # Then a delete started again, and it removed the server everywhere
    assert report["retried_deletes"] == [server.uuid]
    (delete_op,) = [o for o in open_operations() if o.type == "delete_server"] or [None]
    assert delete_op is not None
    described = world.deployed.wait(world.deployed.execution_arn("delete_server", delete_op.id), timeout_s=60)
    assert described["status"] == "SUCCEEDED", world.deployed.history(described["executionArn"])[-3:]
    assert bootstrap.server_repository().of_tenant(TENANT.tenant_id) == []
    assert set(allocation_holders(world.node.node.id).values()) == {None}
    assert server.uuid not in world.node.server_uuids()


class Died:
    """Step Functions as seen after the execution it starts dies at once: the start is answered,
    nothing runs (the sweeper then finds the execution ended with ``StatusOf``)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def start(self, workflow: str, operation_id: str, payload: dict[str, Any], attempt: int = 1) -> str:
        return f"arn:aws:states:us-east-1:123456789012:execution:died:{operation_id}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _running(op: Operation) -> Operation:
    ops = bootstrap.operation_repository()
    ops.save(replace(ops.find(op.id), status="running"))
    return ops.find(op.id)


def test_a_build_change_whose_workflow_died_after_saving_the_build_is_undone(world: World) -> None:
    from mamba.services import server_lifecycle

    # Given a server of 256 MiB and a build change to 512 MiB whose workflow saved the new build
    # (the quota guard holds it), then died before syncing the node or closing the operation
    server, op = world.create()
    world.finish(op)
    life = replace(bootstrap.server_lifecycle(), workflows=Died(bootstrap.workflows()))
    _, grow = server_lifecycle.update_server(life, TENANT, server.uuid, {"limits": {"memory_mb": 512}})
    assert grow is not None
    server_lifecycle.action_save_build(life, dict(grow.input or {}))
    assert bootstrap.server_repository().get(server.uuid).limits.memory_mb == 512
    guard = bootstrap.placement_store().guard(TENANT.tenant_id)
    assert [r for r in guard.recent if r[0] == server.uuid and r[1] == 512]
    _running(grow)

    # When the sweeper finds its execution failed
    died = replace(sweep.ports(), epoch=lambda: time.time() + sweeper.GRACE_SECONDS + 60)
    died.workflows = StatusOf(died.workflows, "FAILED")
    report = sweeper.sweep(died).as_dict()

    # Then the record holds the previous build, the quota forgot the new one, the lock is free,
    # and the operation says the change was undone
    assert report["closed"] == [grow.id]
    assert bootstrap.server_repository().get(server.uuid).limits.memory_mb == 256
    guard = bootstrap.placement_store().guard(TENANT.tenant_id)
    assert not [r for r in guard.recent if r[0] == server.uuid and r[1] == 512]
    assert bootstrap.server_lifecycle().locks.holder(server.uuid) is None
    closed = bootstrap.operation_repository().find(grow.id)
    assert closed.status == "failed" and closed.error["code"] == "WORKFLOW_INTERRUPTED"
    assert "undone" in closed.error["message"]


def test_an_admin_tenant_suspension_whose_workflow_died_half_way_is_undone(world: World) -> None:
    from mamba.services import admin, server_lifecycle

    # Given a tenant suspended by an admin whose suspend_tenant workflow suspended one server
    # and died before the others and before closing its operation
    server, op = world.create()
    world.finish(op)
    ports = admin.TenantSuspension(operations=bootstrap.operation_repository(), workflows=Died(bootstrap.workflows()))
    admin.suspend_tenant(bootstrap.admin_repository(), ports, TENANT.tenant_id)
    (suspension,) = open_operations()
    server_lifecycle.action_suspend(bootstrap.server_lifecycle(), {"server_uuid": server.uuid, "by": "tenant_admin"})
    assert bootstrap.server_repository().get(server.uuid).status == "suspended"
    _running(suspension)

    # When the sweeper finds its execution failed
    died = replace(sweep.ports(), epoch=lambda: time.time() + sweeper.GRACE_SECONDS + 60)
    died.workflows = StatusOf(died.workflows, "FAILED")
    report = sweeper.sweep(died).as_dict()

    # Then the tenant is active again and reactivate_tenant brought the server back
    assert report["closed"] == [suspension.id]
    assert bootstrap.admin_repository().get_tenant(TENANT.tenant_id).status == "active"
    closed = bootstrap.operation_repository().find(suspension.id)
    assert closed.status == "failed" and "suspension was undone" in closed.error["message"]
    (again,) = [o for o in open_operations() if o.workflow == "reactivate_tenant"] or [
        o for o in bootstrap.operation_repository().list_all(_page()).items if o.workflow == "reactivate_tenant"
    ]
    described = world.deployed.wait(world.deployed.execution_arn("reactivate_tenant", again.id), timeout_s=60)
    assert described["status"] == "SUCCEEDED", world.deployed.history(described["executionArn"])[-3:]
    assert bootstrap.server_repository().get(server.uuid).status != "suspended"
