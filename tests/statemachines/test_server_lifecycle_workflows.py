"""The lifecycle workflows (delete, reinstall, update build, suspend, unsuspend) run on moto
with the real task handlers, against the Wings simulator over real HTTP, whose callbacks
reach the panel's real remote API. Fault tests stop the simulator (a node that is down).
"""

from __future__ import annotations

import dataclasses
import json
import uuid as uuid_mod
from collections.abc import Iterator
from typing import Any

import pytest

from functions.schedules import reconcile
from functions.tasks import servers as server_tasks
from mamba import bootstrap
from mamba.domain.errors import ConflictError, NotFoundError, WingsNotFoundError
from mamba.domain.operations import Operation
from mamba.services import server_lifecycle as lifecycle
from tests.contract.wings.harness import free_port
from tests.statemachines.conftest import Deployed
from tests.statemachines.lifecycle_support import LifecycleWorld, SimNode, build_world, sim_node, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lifecycle-workflows")]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNode]:
    with sim_node(tmp_path_factory.mktemp("lifecycle-sim")) as node:
        yield node


@pytest.fixture
def world(sim: SimNode, client: Any, deployed_workflows: Deployed) -> Iterator[LifecycleWorld]:
    built = build_world(sim, client)
    yield built
    sim.ensure()  # a fault test stopped it: restart it while this world still answers its boot
    sim.bridge.client = None


def finished(deployed: Deployed, workflow: str, op: Operation) -> tuple[Operation, dict[str, Any]]:
    execution = deployed.wait(deployed.execution_arn(workflow, op.id), timeout_s=60)
    return bootstrap.operation_repository().find(op.id), execution


def steps(op: Operation) -> list[tuple[str, str]]:
    return [(s.name, s.status) for s in op.steps]


def clear_breaker(node_id: str) -> None:
    """Forget the node's circuit breaker, as its cool-down passing would."""
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import NodeBreakerItem

    NodeBreakerItem(*keys.node_breaker(node_id)).delete()


def lock_holder(server_uuid: str) -> Any:
    from mamba.adapters.dynamo.server_lifecycle import DynamoServerLocks

    return DynamoServerLocks().holder(server_uuid)


# --- delete ---


def add_completed_backup(server: Any, *, locked: bool = False, size: int = 1234) -> Any:
    """A completed backup of ``server`` with its object in the bucket, counted in the tenant's usage."""
    import boto3

    from mamba.domain.backups import Backup

    backup = Backup(
        uuid=str(uuid_mod.uuid4()),
        server_uuid=server.uuid,
        tenant_id=server.tenant_id,
        node_id=server.node_id,
        name="nightly",
        status="completed",
        created_at=server.created_at,
        updated_at=server.created_at,
        size_bytes=size,
        locked=locked,
    )
    repo = bootstrap.backup_repository()
    repo.add_running(backup)
    repo.release_lock(server.uuid, backup.uuid)
    settings = bootstrap.settings()
    boto3.client("s3", region_name=settings.region).put_object(
        Bucket=settings.backup_bucket, Key=backup.s3_key, Body=b"x" * size
    )
    assert repo.count(backup, True)
    return backup


def object_exists(key: str) -> bool:
    import boto3

    settings = bootstrap.settings()
    listed = boto3.client("s3", region_name=settings.region).list_objects_v2(Bucket=settings.backup_bucket, Prefix=key)
    return bool(listed.get("Contents"))


def test_delete_kills_removes_on_node_frees_allocation_and_leaves_no_record(world, deployed_workflows):
    # Given an installed server that is running on the node, with two backups (one locked)
    server = world.create_installed()
    world.start(server.uuid)
    directory = world.sim.base / "data" / server.uuid
    backups = [add_completed_backup(server), add_completed_backup(server, locked=True, size=766)]
    assert bootstrap.backup_repository().usage(server.tenant_id) == 2000

    # When its owner deletes it
    op = lifecycle.delete_server(world.deps, world.tenant, server.uuid)
    op, execution = finished(deployed_workflows, "delete_server", op)

    # Then every step succeeded and nothing is left: record, allocation, node server, files
    assert execution["status"] == "SUCCEEDED", execution
    assert op.status == "succeeded"
    assert steps(op) == [
        ("kill", "succeeded"),
        ("delete_on_node", "succeeded"),
        ("release_allocations", "succeeded"),
        ("delete_backups", "succeeded"),
        ("remove_records", "succeeded"),
    ]
    assert op.steps[3].detail == "deleted 1, kept 1 locked"
    with pytest.raises(NotFoundError):
        world.server(server.uuid)
    unlocked, locked = backups
    assert not object_exists(unlocked.s3_key)
    with pytest.raises(NotFoundError):
        bootstrap.backup_repository().get(unlocked.uuid)
    # the locked backup outlives its server (issue 18 item 7): object, record and its bytes stay
    assert object_exists(locked.s3_key)
    assert bootstrap.backup_repository().get(locked.uuid).orphaned_at is not None
    assert bootstrap.backup_repository().usage(server.tenant_id) == 766
    assert world.allocation_holder(server.allocation[1]) is None
    with pytest.raises(WingsNotFoundError):
        world.agent.get_server(server.uuid)
    wait_for(lambda: not directory.exists(), what="server directory removed")
    assert lock_holder(server.uuid) is None


def test_delete_with_the_node_down_retries_fails_readably_then_an_admin_forces_it(world, deployed_workflows):
    # Given an installed server, and then its node goes down
    server = world.create_installed()
    world.sim.stop()

    # When its owner deletes it
    op = lifecycle.delete_server(world.deps, world.tenant, server.uuid)
    op, execution = finished(deployed_workflows, "delete_server", op)

    # Then the kill was retried three times with backoff, the operation failed with NODE_UNAVAILABLE, and
    # the server is left `deleting` still holding its allocation (nothing orphaned), unlocked
    assert execution["status"] == "FAILED", execution
    assert deployed_workflows.sleeps == [2, 4, 8]
    assert op.status == "failed"
    assert op.error is not None and op.error["code"] == "NODE_UNAVAILABLE"
    assert "could not be reached" in op.error["message"]
    assert steps(op)[0] == ("kill", "failed")
    assert world.server(server.uuid).status == "deleting"
    assert world.allocation_holder(server.allocation[1]) == server.uuid
    assert lock_holder(server.uuid) is None

    # When an admin forces the delete
    forced = lifecycle.force_delete_server(world.deps, server.uuid)
    forced, execution = finished(deployed_workflows, "delete_server", forced)

    # Then the node calls were skipped (and said so) and the panel side is clean
    assert execution["status"] == "SUCCEEDED", execution
    assert forced.status == "succeeded"
    assert forced.steps[0].detail is not None and forced.steps[0].detail.startswith("skipped:")
    with pytest.raises(NotFoundError):
        world.server(server.uuid)
    assert world.allocation_holder(server.allocation[1]) is None


def test_a_forced_delete_during_a_partition_leaves_nothing_on_the_node_once_it_is_reachable(world, deployed_workflows):
    # Given an installed server whose node the panel cannot reach (the node itself still runs)
    server = world.create_installed()
    directory = world.sim.base / "data" / server.uuid
    nodes = bootstrap.node_repository()
    nodes.update(dataclasses.replace(world.node, daemon_port=free_port()))
    op = lifecycle.delete_server(world.deps, world.tenant, server.uuid)
    op, _ = finished(deployed_workflows, "delete_server", op)
    assert op.status == "failed"

    # When an admin forces the delete, and later the node is reachable again
    forced, _ = finished(deployed_workflows, "delete_server", lifecycle.force_delete_server(world.deps, server.uuid))
    assert forced.status == "succeeded"
    nodes.update(world.node)
    clear_breaker(world.node.id)
    assert world.agent.get_server(server.uuid)["state"] == "offline"  # the node still holds it

    # Then the next reconcile run deletes the server the panel no longer knows, files included
    result = reconcile.handler({}, None)

    ours = next(r for r in result["nodes"] if r["node_id"] == world.node.id)
    assert ours["removed_strays"] >= 1
    with pytest.raises(WingsNotFoundError):
        world.agent.get_server(server.uuid)
    wait_for(lambda: not directory.exists(), what="stray server directory removed")
    assert world.allocation_holder(server.allocation[1]) is None


def test_a_second_operation_on_a_locked_server_is_a_conflict(world, deployed_workflows, monkeypatch):
    # Given a server whose delete is holding its lock (the workflow never starts here)
    server = world.create_installed()
    started: list[str] = []
    monkeypatch.setattr(
        type(bootstrap.workflows()), "start", lambda self, workflow, op_id, payload: started.append(op_id) or op_id
    )
    first = lifecycle.delete_server(world.deps, world.tenant, server.uuid)

    # When a reinstall is asked for meanwhile
    with pytest.raises(ConflictError) as caught:
        lifecycle.reinstall_server(world.deps, world.tenant, server.uuid)

    # Then it is refused naming the running operation
    assert caught.value.details["operation_id"] == first.id
    assert caught.value.details["operation_type"] == "delete_server"
    assert started == [first.id]


# --- reinstall ---


def test_reinstall_runs_the_install_script_again_and_ends_offline(world, deployed_workflows):
    # Given an installed server whose installed file was deleted
    server = world.create_installed()
    world.agent.delete_files(server.uuid, "/", ["line_server.py"])

    # When it is reinstalled
    op = lifecycle.reinstall_server(world.deps, world.tenant, server.uuid)
    op, execution = finished(deployed_workflows, "reinstall_server", op)

    # Then the install ran again (the file is back), the callback moved it to offline
    assert execution["status"] == "SUCCEEDED", execution
    assert op.status == "succeeded"
    assert steps(op) == [
        ("mark_installing", "succeeded"),
        ("reinstall_on_node", "succeeded"),
        ("wait_for_install", "succeeded"),
    ]
    assert world.server(server.uuid).status == "offline"
    assert b"Line server" in world.agent.read_file(server.uuid, "/line_server.py")
    assert lock_holder(server.uuid) is None


def test_a_reinstall_the_node_never_reports_fails_at_the_timeout_with_install_timeout(world, deployed_workflows):
    # Given an installed server whose blueprint's install script now outlasts the wait
    server = world.create_installed()
    blueprints = bootstrap.blueprint_repository()
    blueprint = blueprints.get(world.blueprint_id)
    blueprints.save(dataclasses.replace(blueprint, install_script="#!/bin/sh\nsleep 4\n"))
    deps = dataclasses.replace(world.deps, reinstall_timeout_seconds=1)

    # When it is reinstalled with a one-second wait for the install callback
    op = lifecycle.reinstall_server(deps, world.tenant, server.uuid)
    op, execution = finished(deployed_workflows, "reinstall_server", op)

    # Then the wait gave up: install_failed with a reason, operation INSTALL_TIMEOUT, unlocked
    assert execution["status"] == "FAILED", execution
    assert op.error is not None and op.error["code"] == "INSTALL_TIMEOUT"
    assert dict(steps(op))["wait_for_install"] == "failed"
    failed = world.server(server.uuid)
    assert failed.status == "install_failed"
    assert failed.status_reason is not None and "in time" in failed.status_reason
    assert lock_holder(server.uuid) is None


def test_reinstall_with_the_node_down_restores_the_previous_status(world, deployed_workflows):
    server = world.create_installed()
    world.sim.stop()

    op = lifecycle.reinstall_server(world.deps, world.tenant, server.uuid)
    op, execution = finished(deployed_workflows, "reinstall_server", op)

    assert execution["status"] == "FAILED", execution
    assert op.error is not None and op.error["code"] == "NODE_UNAVAILABLE"
    assert dict(steps(op))["mark_installing"] == "compensated"
    assert dict(steps(op))["reinstall_on_node"] == "failed"
    assert world.server(server.uuid).status == "offline"
    assert lock_holder(server.uuid) is None


# --- update build ---


def test_changing_the_memory_limit_is_saved_and_synced_to_the_node(world, deployed_workflows):
    # Given an installed server with 512 MiB
    server = world.create_installed(memory_mb=512)

    # When its owner raises the memory to 1024 MiB, changes the MOTD and renames it
    changes = {"name": "bigger", "limits": {"memory_mb": 1024}, "environment": {"MOTD": "welcome back"}}
    changed, op = lifecycle.update_server(world.deps, world.tenant, server.uuid, changes)
    assert op is not None and changed.name == "bigger"
    op, execution = finished(deployed_workflows, "update_server_build", op)

    # Then the record has it and the node re-read its configuration from the panel
    assert execution["status"] == "SUCCEEDED", execution
    assert steps(op) == [("save_build", "succeeded"), ("sync_node", "succeeded")]
    assert world.server(server.uuid).limits.memory_mb == 1024
    assert world.server(server.uuid).environment["MOTD"] == "welcome back"
    configuration = world.agent.get_server(server.uuid)["configuration"]
    assert configuration["build"]["memory_limit"] == 1024
    assert configuration["environment"]["MOTD"] == "welcome back"
    assert configuration["meta"]["name"] == "bigger"


def test_a_build_the_node_cannot_sync_is_rolled_back(world, deployed_workflows):
    server = world.create_installed(memory_mb=512)
    world.sim.stop()

    changes = {"limits": {"memory_mb": 2048}, "environment": {"MAX_PLAYERS": 50}}
    _, op = lifecycle.update_server(world.deps, world.tenant, server.uuid, changes)
    assert op is not None
    op, execution = finished(deployed_workflows, "update_server_build", op)

    assert execution["status"] == "FAILED", execution
    assert op.error is not None and op.error["code"] == "NODE_UNAVAILABLE"
    assert steps(op) == [("save_build", "compensated"), ("sync_node", "failed")]
    assert world.server(server.uuid).limits.memory_mb == 512
    assert world.server(server.uuid).environment["MAX_PLAYERS"] == 10
    assert lock_holder(server.uuid) is None


# --- suspend / unsuspend ---


def test_suspend_kills_a_running_server_and_unsuspend_brings_it_back_offline(world, deployed_workflows):
    # Given a running server
    server = world.create_installed()
    world.start(server.uuid)

    # When an admin suspends it
    op = lifecycle.suspend_server(world.deps, server.uuid)
    op, execution = finished(deployed_workflows, "suspend_server", op)

    # Then it is suspended on both sides and no longer runs; starting it is refused by Wings
    assert execution["status"] == "SUCCEEDED", execution
    assert world.server(server.uuid).status == "suspended"
    wait_for(lambda: world.wings_state(server.uuid) == "offline", what="killed")
    assert world.agent.get_server(server.uuid)["is_suspended"] is True

    # When it is unsuspended
    op = lifecycle.unsuspend_server(world.deps, server.uuid)
    op, execution = finished(deployed_workflows, "unsuspend_server", op)

    # Then it is offline and Wings knows it may start again
    assert execution["status"] == "SUCCEEDED", execution
    assert steps(op) == [("unsuspend", "succeeded")]
    assert world.server(server.uuid).status == "offline"
    assert world.agent.get_server(server.uuid)["is_suspended"] is False


def test_the_billing_map_actions_are_idempotent(world, deployed_workflows):
    # Given a running server, suspended twice the way suspend_tenant's Map calls the task
    server = world.create_installed()
    world.start(server.uuid)
    event = {"action": "suspend", "server_uuid": server.uuid, "operation_id": "op_billing"}

    first = server_tasks.handler(dict(event))

    # Then the first call stopped it (a kill, unless the sync of the suspended flag already
    # made Wings stop it: which one wins depends on timing), the second found nothing to do
    assert {k: first[k] for k in ("server_uuid", "status")} == {"server_uuid": server.uuid, "status": "suspended"}
    wait_for(lambda: world.wings_state(server.uuid) == "offline", what="stopped")
    second = server_tasks.handler(dict(event))
    assert second["killed"] is False
    assert world.server(server.uuid).status == "suspended"

    # And unsuspend twice leaves it offline
    for _ in range(2):
        out = server_tasks.handler({**event, "action": "unsuspend"})
        assert out["status"] == "offline"
    assert world.agent.get_server(server.uuid)["is_suspended"] is False
    # A server that is gone is skipped, not an error
    gone = server_tasks.handler({**event, "server_uuid": "00000000-0000-4000-8000-000000000000"})
    assert gone["skipped"] == "not_found"


def test_billing_does_not_lift_a_suspension_an_admin_set(world, deployed_workflows):
    # Given a server the tenant's billing suspended, then an admin suspended too
    server = world.create_installed()
    billing = {"action": "suspend", "server_uuid": server.uuid, "operation_id": "op_billing"}
    server_tasks.handler(dict(billing))
    _, execution = finished(deployed_workflows, "suspend_server", lifecycle.suspend_server(world.deps, server.uuid))
    assert execution["status"] == "SUCCEEDED", execution

    # When the tenant pays and billing unsuspends its servers
    out = server_tasks.handler({**billing, "action": "unsuspend"})

    # Then the admin's suspension holds; only the admin lifts it
    assert out["skipped"] == "suspended_by_admin"
    assert world.server(server.uuid).status == "suspended"
    _op, execution = finished(
        deployed_workflows, "unsuspend_server", lifecycle.unsuspend_server(world.deps, server.uuid)
    )
    assert execution["status"] == "SUCCEEDED", execution
    assert world.server(server.uuid).status == "offline"
    assert bootstrap.server_lifecycle().store.suspended_by(server.uuid) is None


# --- reconciliation ---


def test_reconcile_writes_the_node_view_of_status_and_utilization(world, deployed_workflows):
    # Given one server running on the node while the panel still says offline, and one suspended
    running = world.create_installed(name="running")
    world.start(running.uuid)
    quiet = world.create_installed(name="quiet")
    server_tasks.handler({"action": "suspend", "server_uuid": quiet.uuid, "operation_id": "op_x"})
    assert world.server(running.uuid).status == "offline"

    # When the schedule runs
    result = reconcile.handler({}, None)

    # Then the running server shows running with Wings' utilization; the suspended one stays suspended
    ours = next(r for r in result["nodes"] if r["node_id"] == world.node.id)
    assert ours["observed"] == 2 and ours["changed"] == 1
    assert world.server(running.uuid).status == "running"
    utilization, observed_at = bootstrap.server_lifecycle().store.utilization(running.uuid)
    assert utilization is not None and utilization["state"] == "running" and utilization["memory_bytes"] >= 0
    assert observed_at is not None
    assert world.server(quiet.uuid).status == "suspended"
    # and the fleet overview's counters and last run follow (docs/operations.md)
    fleet = bootstrap.fleet_stats().read(since="2000-01-01T00:00:00Z")
    assert fleet.servers_by_status == {"running": 1, "suspended": 1}
    assert fleet.last_reconcile is not None and fleet.last_reconcile["changed"] == 1


def test_reconcile_skips_a_node_that_is_down(world, deployed_workflows):
    server = world.create_installed()
    world.sim.stop()

    result = reconcile.handler({}, None)

    ours = next(r for r in result["nodes"] if r["node_id"] == world.node.id)
    assert ours["error"] == "NODE_UNAVAILABLE"
    assert world.server(server.uuid).status == "offline"
    assert json.dumps(result)  # the schedule's answer is plain JSON
