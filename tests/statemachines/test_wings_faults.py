"""Fault: Wings answers 500, times out, or drops the connection at each step of create, delete,
backup and restore (issue 18, item 5). Every case ends with nothing orphaned and a reason the
user can read.

The workflows run for real on moto with the real task Lambdas; the node is the Wings
simulator behind a proxy that injects the fault into every matching request
(tests/statemachines/provision_support.py):

* ``500``: the node answers 500 and does nothing;
* ``timeout``: the node does the work, the answer comes after the panel's read timeout (1 s here);
* ``dropped``: the node does the work, then the connection closes without an answer.

Whatever the step and the fault, the end state is checked the same way (``assert_settled``):
the operation is finished (a failed one names the error), no server is left in a transient
status, a server that exists holds exactly its ports and is on the node exactly once, a failed
server holds no port and is not on the node, no port is held by a server that does not exist,
no backup is left pending or restoring, and no S3 multipart upload is left open.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from functions.schedules import sweep
from mamba import bootstrap
from mamba.domain.backups import BackupPolicy
from mamba.domain.operations import Operation
from mamba.domain.servers import Server
from mamba.services import backups as backup_service
from mamba.services import server_lifecycle as lifecycle
from mamba.services import sweeper
from tests.backup_support import PART, open_uploads
from tests.statemachines import test_provision_server as provisioning_world
from tests.statemachines.provision_support import allocation_holders
from tests.statemachines.test_provision_server import TENANT, World, slow_client
from tests.statemachines.test_server_lifecycle_workflows import add_completed_backup, clear_breaker

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("provision-sim")]

world = provisioning_world.world  # the fixture: a simulated node behind a fault proxy, the real panel over HTTP

KINDS = ("500", "timeout", "dropped")
TRANSIENT = {"provisioning", "installing", "deleting", "restoring"}


@contextlib.contextmanager
def node_fault(world: World, kind: str, method: str, path: str, skip: int = 0) -> Iterator[None]:
    """Every matching request to the node fails with ``kind`` while the block runs."""
    how = {"500": {"status": 500}, "timeout": {"delay": 2.5}, "dropped": {"drop": True}}[kind]
    world.node.proxy.fail(method, path, times=1000, skip=skip, **how)
    with slow_client() if kind == "timeout" else contextlib.nullcontext():
        yield
    world.node.proxy.faults.clear()
    clear_breaker(world.node.node.id)  # the fault's failures opened it; its cool-down is over


@contextlib.contextmanager
def fast_backups() -> Iterator[None]:
    """Backup workflows that wait at most 20 s for Wings' callback."""
    policy = BackupPolicy(part_size=PART, timeout_seconds=20)
    with bootstrap.override(backup_ports=replace(bootstrap.backup_ports(), policy=policy)):
        yield


def settle(check: Any, timeout: float = 15.0) -> None:
    """Wait until ``check()`` holds (what the node still sends after the workflow ended)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("did not settle")
        time.sleep(0.2)


def finished(world: World, workflow: str, op: Operation, timeout_s: float = 90) -> Operation:
    described = world.deployed.wait(world.deployed.execution_arn(workflow, op.id), timeout_s=timeout_s)
    assert described["status"] in ("SUCCEEDED", "FAILED"), described
    return bootstrap.operation_repository().find(op.id)


def assert_settled(world: World, op: Operation) -> None:
    """The invariant of every fault (module doc)."""
    assert op.status in ("succeeded", "failed"), op
    if op.status == "failed":
        assert op.error and op.error["code"] and op.error["message"], op.error
    servers = {s.uuid: s for s in bootstrap.server_repository().of_tenant(TENANT.tenant_id)}
    holders = allocation_holders(world.node.node.id)
    on_node = world.node.server_uuids()
    for server in servers.values():
        assert server.status not in TRANSIENT, (server.uuid, server.status)
        held = sorted(port for port, holder in holders.items() if holder == server.uuid)
        if server.status == "failed":
            assert server.status_reason, server
            assert held == [] and server.uuid not in on_node, (held, on_node)
        else:
            assert held == sorted(port for _, port in server.allocations)
            assert on_node.count(server.uuid) == 1
    assert {h for h in holders.values() if h} <= set(servers), holders
    assert {u for u in on_node} <= set(servers), on_node
    for backup in bootstrap.backup_repository().of_tenant(TENANT.tenant_id):
        assert backup.status in ("completed", "failed"), backup
        assert backup.status == "completed" or backup.error
    settle(lambda: open_uploads(str(bootstrap.settings().backup_bucket)) == [])


def installed(world: World) -> Server:
    server, op = world.create()
    assert world.finish(op)[0].status == "succeeded"
    return bootstrap.server_repository().get(server.uuid)


# --- create (provision_server) ---


@pytest.mark.parametrize("kind", KINDS)
def test_wings_fault_when_creating_the_server_on_the_node_leaves_nothing_orphaned(world: World, kind: str) -> None:
    # Given a node whose create route fails
    with node_fault(world, kind, "POST", "/api/servers"):
        # When a server is created
        server, op = world.create()
        done = finished(world, "provision_server", op)

    # Then either the retry found what the node created (timeout, dropped) or the compensation
    # undid it (500): nothing is left behind either way
    assert_settled(world, done)
    if kind == "500":
        assert done.error["code"] == "NODE_UNAVAILABLE"
        assert bootstrap.server_repository().get(server.uuid).status == "failed"


@pytest.mark.parametrize("kind", KINDS)
def test_wings_fault_when_checking_the_node_before_the_create_leaves_nothing_orphaned(world: World, kind: str) -> None:
    # Given a node whose server lookups fail (create_on_wings looks before it creates)
    with node_fault(world, kind, "GET", "/api/servers/*"):
        _, op = world.create()
        done = finished(world, "provision_server", op)

    assert_settled(world, done)
    assert done.status == "failed" and done.error["code"] == "NODE_UNAVAILABLE"


@pytest.mark.parametrize("kind", KINDS)
def test_wings_fault_when_starting_the_new_server_keeps_it_installed_and_says_why(world: World, kind: str) -> None:
    # Given a node that installs, but whose power route fails
    with node_fault(world, kind, "POST", "/api/servers/*"):
        _, op = world.create(start=True)
        done = finished(world, "provision_server", op)

    # Then the install stands (a server the tenant can start later) or it runs; nothing is orphaned
    assert_settled(world, done)
    if kind == "500":
        steps = {s.name: s.status for s in done.steps}
        assert (steps["install"], steps["start"]) == ("succeeded", "failed")


@pytest.mark.parametrize("kind", KINDS)
def test_wings_fault_while_waiting_for_the_new_server_to_run_leaves_nothing_orphaned(world: World, kind: str) -> None:
    # Given a node whose server state reads fail once the create has been checked
    with node_fault(world, kind, "GET", "/api/servers/*", skip=1):
        _, op = world.create(start=True)
        done = finished(world, "provision_server", op)

    assert_settled(world, done)


# --- delete (delete_server) ---


def delete_and_sweep(world: World, server: Server, kind: str, method: str, path: str) -> tuple[Operation, Operation]:
    """Delete under the fault; then, with the node healthy again, the sweeper's retry."""
    deps = bootstrap.server_lifecycle()
    with node_fault(world, kind, method, path):
        op = finished(world, "delete_server", lifecycle.delete_server(deps, TENANT, server.uuid))
    later = sweep.ports()
    later.epoch = lambda: time.time() + sweeper.RETRY_SECONDS + 60
    report = sweeper.sweep(later)
    if op.status == "failed":
        assert report.retried_deletes == [server.uuid]
    retried = [
        o
        for o in bootstrap.operation_repository().list_all(_page()).items
        if o.type == "delete_server" and o.id != op.id
    ]
    return op, finished(world, "delete_server", retried[0]) if retried else op


def _page() -> Any:
    from mamba.domain.pages import PageRequest

    return PageRequest(limit=100)


@pytest.mark.parametrize("kind", KINDS)
def test_wings_fault_when_killing_the_server_to_delete_it_ends_deleted(world: World, kind: str) -> None:
    # Given an installed server, and a node whose power route fails
    server = installed(world)

    # When it is deleted, then the sweeper retries once the node is back
    first, last = delete_and_sweep(world, server, kind, "POST", "/api/servers/*")

    # Then the failed delete said why, and in the end the server is gone everywhere
    if first.status == "failed":
        assert first.error["code"] == "NODE_UNAVAILABLE"
    assert last.status == "succeeded"
    assert bootstrap.server_repository().of_tenant(TENANT.tenant_id) == []
    assert_settled(world, last)


@pytest.mark.parametrize("kind", KINDS)
def test_wings_fault_when_deleting_the_server_on_the_node_ends_deleted(world: World, kind: str) -> None:
    server = installed(world)

    first, last = delete_and_sweep(world, server, kind, "DELETE", "/api/servers/*")

    if first.status == "failed":
        assert first.error["code"] == "NODE_UNAVAILABLE"
    assert last.status == "succeeded"
    assert bootstrap.server_repository().of_tenant(TENANT.tenant_id) == []
    assert_settled(world, last)


# --- backup (backup_server) and restore (restore_backup) ---


@pytest.mark.parametrize("kind", KINDS)
def test_wings_fault_when_asking_the_node_for_a_backup_leaves_no_upload_and_frees_the_server(
    world: World, kind: str
) -> None:
    # Given an installed server and a node whose backup route fails
    server = installed(world)
    with fast_backups(), node_fault(world, kind, "POST", f"/api/servers/{server.uuid}/backup"):
        # When a backup is requested
        backup, op = backup_service.create_backup(bootstrap.backup_ports(), TENANT, server.uuid, None, None)
        done = finished(world, "backup_server", op)

    # Then the backup failed with a reason, no upload is open, the server is free for the next one
    assert done.status == "failed"
    stored = bootstrap.backup_repository().get(backup.uuid)
    assert stored.status == "failed" and stored.error
    assert bootstrap.backup_repository().running_lock(server.uuid) is None
    assert bootstrap.server_repository().get(server.uuid).status == "offline"
    assert_settled(world, done)


@pytest.mark.parametrize("kind", KINDS)
def test_wings_fault_when_asking_the_node_to_restore_returns_the_server_and_the_backup(world: World, kind: str) -> None:
    # Given an installed server with a completed backup, and a node whose restore route fails
    server = installed(world)
    backup = add_completed_backup(server)
    with fast_backups(), node_fault(world, kind, "POST", f"/api/servers/{server.uuid}/backup/*"):
        # When the backup is restored
        _, op = backup_service.restore_backup(bootstrap.backup_ports(), TENANT, server.uuid, backup.uuid, False)
        done = finished(world, "restore_backup", op)

    # Then the restore failed with a reason, the backup is usable again and the server is back
    # to the status it had
    assert done.status == "failed" and done.error["message"]
    assert bootstrap.backup_repository().get(backup.uuid).status == "completed"
    assert bootstrap.server_repository().get(server.uuid).status == "offline"
    assert_settled(world, done)
