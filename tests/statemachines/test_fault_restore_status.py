"""Fault: a failed restore returns the server to the status it had before (issue 18, item 5).

restore_backup runs for real on moto, started through the tenant API; Wings' side is the
recording double of tests/backup_support.py, which can refuse the restore like a node that is
down. Before, every failed restore left the server ``offline`` whatever it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from mamba import bootstrap
from tests.backup_support import MIB, BackupWorld, archive_bytes, build_world, use_test_ports
from tests.statemachines.conftest import Deployed
from tests.statemachines.test_backup_workflows import backup_of, completed_backup, finish

pytestmark = pytest.mark.slow


@pytest.fixture
def world(client: Any, deployed_workflows: Deployed) -> Iterator[BackupWorld]:
    w = build_world(client.http)
    with use_test_ports(w.wings):
        yield w


def set_server_status(world: BackupWorld, status: str) -> None:
    repo = bootstrap.server_repository()
    repo.save(replace(repo.get(world.server.uuid), status=status))


def request_restore(world: BackupWorld, backup_id: str) -> dict[str, Any]:
    response = world.http.post(f"{world.base}/{backup_id}/restore", headers=world.owner_headers, body="{}")
    assert response.status_code == 202, response.json_body
    return dict(response.json_body)


def test_failed_restore_when_the_node_is_down_returns_a_running_server_to_running(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    # Given a running server with a completed backup, and a node that stops answering
    backup_id = completed_backup(world, deployed_workflows, archive_bytes(MIB, seed=21))["backup"]["id"]
    set_server_status(world, "running")
    world.wings.down = True

    # When a restore is requested
    started = request_restore(world, backup_id)
    assert bootstrap.server_repository().get(world.server.uuid).status == "restoring"
    execution = finish(deployed_workflows, "restore_backup", started["operation"]["id"])

    # Then the operation failed with the node's reason, the server is running again (not
    # offline), and the backup is usable again
    assert execution["status"] == "FAILED"
    op = bootstrap.operation_repository().get(world.tenant_id, started["operation"]["id"])
    assert op.status == "failed" and op.error["code"] == "NODE_UNAVAILABLE"
    assert bootstrap.server_repository().get(world.server.uuid).status == "running"
    assert backup_of(world, backup_id).status == "completed"


def test_failed_restore_reported_by_wings_returns_the_server_to_its_previous_status(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    # Given a running server whose node accepts the restore, then reports it failed
    backup_id = completed_backup(world, deployed_workflows, archive_bytes(MIB, seed=22))["backup"]["id"]
    set_server_status(world, "running")
    started = request_restore(world, backup_id)
    world.wings.wait_restore()

    # When Wings reports the failure
    reported = world.http.post(f"/api/remote/backups/{backup_id}/restore", headers=world.node.header,
                               body=json.dumps({"successful": False}))  # fmt: skip

    # Then the server is back to running and the operation names the failure
    assert reported.status_code == 204
    execution = finish(deployed_workflows, "restore_backup", started["operation"]["id"])
    assert execution["status"] == "FAILED"
    assert bootstrap.server_repository().get(world.server.uuid).status == "running"
    op = bootstrap.operation_repository().get(world.tenant_id, started["operation"]["id"])
    assert op.status == "failed" and op.error["message"]


def test_a_successful_restore_leaves_the_server_offline_as_wings_does(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    # Given a running server (Wings stops it to restore and does not start it again)
    backup_id = completed_backup(world, deployed_workflows, archive_bytes(MIB, seed=23))["backup"]["id"]
    set_server_status(world, "running")
    started = request_restore(world, backup_id)
    world.wings.wait_restore()

    world.http.post(f"/api/remote/backups/{backup_id}/restore", headers=world.node.header,
                    body=json.dumps({"successful": True}))  # fmt: skip

    assert finish(deployed_workflows, "restore_backup", started["operation"]["id"])["status"] == "SUCCEEDED"
    assert bootstrap.server_repository().get(world.server.uuid).status == "offline"
