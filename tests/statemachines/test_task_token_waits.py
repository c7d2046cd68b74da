"""The workflows that wait on a node's callback do it with a task token (issue 13 item 5;
mamba.services.task_waits), run for real on moto: the wait costs no state transitions however
long the node takes, the callback resumes it even when it comes before the wait began, and a
node that never calls back fails the step at its timeout into the workflow's compensation.

Wings' side is played through the panel's real remote routes (tests/backup_support.py); the
install waits run on the Wings simulator in tests/statemachines/test_provision_server.py and
test_server_lifecycle_workflows.py."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from tests.backup_support import (
    MIB,
    BackupWorld,
    archive_bytes,
    build_world,
    object_keys,
    open_uploads,
    upload_like_wings,
    use_test_ports,
)
from tests.statemachines.conftest import Deployed

pytestmark = pytest.mark.slow

# The budget of issue 13: a backup's workflow, however long the node takes.
MAX_BACKUP_TRANSITIONS = 10


@pytest.fixture
def world(client: Any, deployed_workflows: Deployed) -> Iterator[BackupWorld]:
    w = build_world(client.http)
    with use_test_ports(w.wings):
        yield w


def transitions(deployed: Deployed, workflow: str, op_id: str) -> list[str]:
    """The states the execution entered, in order (each is one billed state transition)."""
    events = deployed.history(deployed.execution_arn(workflow, op_id))
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def back_up(world: BackupWorld, deployed: Deployed, node_takes: float) -> tuple[dict[str, Any], list[str]]:
    started = world.http.post(world.base, headers=world.owner_headers, body="{}").json_body
    world.wings.wait_backup()
    time.sleep(node_takes)  # the node archives and uploads: the workflow just waits
    upload_like_wings(world, started["backup"]["id"], archive_bytes(MIB, seed=int(node_takes)))
    op_id = started["operation"]["id"]
    execution = deployed.wait(deployed.execution_arn("backup_server", op_id), timeout_s=60)
    assert execution["status"] == "SUCCEEDED", execution
    return started, transitions(deployed, "backup_server", op_id)


def test_a_backup_completes_in_the_same_few_state_transitions_whatever_its_duration(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    # Given a node that answers at once, and then one that takes four seconds
    _, quick = back_up(world, deployed_workflows, node_takes=0)
    _, slow = back_up(world, deployed_workflows, node_takes=4)

    # Then both backups entered the same states, within the budget: no polling loop
    assert quick == slow == ["AwaitCompletion", "Complete"]
    assert len(slow) <= MAX_BACKUP_TRANSITIONS


def test_a_completion_reported_before_the_workflow_waits_still_resumes_it(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    # Given a node so fast that its completion arrives while the workflow is still asking it
    reported = threading.Event()
    asked = world.wings.create_backup

    def create_and_finish_at_once(server_uuid: str, backup_uuid: str, **kwargs: Any) -> None:
        asked(server_uuid, backup_uuid, **kwargs)
        upload_like_wings(world, backup_uuid, archive_bytes(MIB, seed=5))
        reported.set()

    world.wings.create_backup = create_and_finish_at_once  # type: ignore[method-assign]

    # When a backup runs
    started = world.http.post(world.base, headers=world.owner_headers, body="{}").json_body
    op_id = started["operation"]["id"]
    execution = deployed_workflows.wait(deployed_workflows.execution_arn("backup_server", op_id), timeout_s=60)

    # Then the waiting task found the completion itself and the workflow went on
    assert reported.is_set()
    assert execution["status"] == "SUCCEEDED", execution
    assert bootstrap.backup_repository().get(started["backup"]["id"]).status == "completed"


def test_a_node_that_never_reports_the_backup_fails_it_at_the_timeout_and_compensates(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    with use_test_ports(world.wings, timeout_seconds=2):
        # Given a node that uploads one part and then never calls back
        started = world.http.post(world.base, headers=world.owner_headers, body="{}").json_body
        backup_id, op_id = started["backup"]["id"], started["operation"]["id"]
        world.wings.wait_backup()
        upload_like_wings(world, backup_id, archive_bytes(11 * MIB), fail_after_parts=1, report=False)
        began = time.monotonic()

        execution = deployed_workflows.wait(deployed_workflows.execution_arn("backup_server", op_id), timeout_s=60)

    # Then the wait step failed at its timeout, not before, with a reason a user can read
    assert execution["status"] == "FAILED"
    assert time.monotonic() - began >= 1.0
    states = transitions(deployed_workflows, "backup_server", op_id)
    assert states == ["AwaitCompletion", "CompletionTimedOut", "FailBackup", "Failed"]
    op = bootstrap.operation_repository().get(world.tenant_id, op_id)
    assert op.status == "failed" and op.error["code"] == "BACKUP_TIMEOUT"
    assert "did not finish the backup in time" in op.error["message"]
    # and the compensation left nothing: no open upload, no object, the lock released
    assert open_uploads(str(bootstrap.settings().backup_bucket)) == []
    assert object_keys(str(bootstrap.settings().backup_bucket)) == []
    assert bootstrap.backup_repository().get(backup_id).status == "failed"
    assert bootstrap.backup_repository().running_lock(world.server.uuid) is None


def test_a_node_that_never_reports_the_restore_fails_it_at_the_timeout_and_puts_things_back(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    started, _ = back_up(world, deployed_workflows, node_takes=0)
    backup_id = started["backup"]["id"]
    with use_test_ports(world.wings, timeout_seconds=2):
        # Given a restore the node is asked for and never reports
        response = world.http.post(f"{world.base}/{backup_id}/restore", headers=world.owner_headers, body="{}")
        op_id = response.json_body["operation"]["id"]
        world.wings.wait_restore()

        execution = deployed_workflows.wait(deployed_workflows.execution_arn("restore_backup", op_id), timeout_s=60)

    # Then it failed at the timeout, and the backup and the server are as before the restore
    assert execution["status"] == "FAILED"
    assert transitions(deployed_workflows, "restore_backup", op_id)[:2] == ["AwaitRestore", "RestoreTimedOut"]
    op = bootstrap.operation_repository().get(world.tenant_id, op_id)
    assert op.error["code"] == "BACKUP_TIMEOUT" and "restore in time" in op.error["message"]
    assert bootstrap.backup_repository().get(backup_id).status == "completed"
    assert bootstrap.server_repository().get(world.server.uuid).status == "offline"
    # and a late report changes nothing
    late = world.http.post(f"/api/remote/backups/{backup_id}/restore", headers=world.node.header,
                           body=json.dumps({"successful": True}))  # fmt: skip
    assert late.status_code == 204
    assert bootstrap.backup_repository().get(backup_id).status == "completed"


def test_a_restore_reported_failed_fails_the_step_with_the_nodes_reason(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    started, _ = back_up(world, deployed_workflows, node_takes=0)
    backup_id = started["backup"]["id"]
    response = world.http.post(f"{world.base}/{backup_id}/restore", headers=world.owner_headers, body="{}")
    op_id = response.json_body["operation"]["id"]
    world.wings.wait_restore()

    world.http.post(f"/api/remote/backups/{backup_id}/restore", headers=world.node.header,
                    body=json.dumps({"successful": False}))  # fmt: skip
    execution = deployed_workflows.wait(deployed_workflows.execution_arn("restore_backup", op_id), timeout_s=60)

    # The callback failed the waiting task itself (no timeout), with the reason it gave
    assert execution["status"] == "FAILED"
    failed = [e for e in deployed_workflows.history(execution["executionArn"]) if e["type"] == "TaskFailed"]
    assert failed and failed[0]["taskFailedEventDetails"]["error"] == "BackupFailedError"
    assert failed[0]["taskFailedEventDetails"]["cause"] == "The node reported that the restore failed."
    op = bootstrap.operation_repository().get(world.tenant_id, op_id)
    assert op.error == {"code": "BACKUP_FAILED", "message": "The node reported that the restore failed."}
