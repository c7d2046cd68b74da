"""backup_server, restore_backup and delete_backup run for real on moto, started through the
tenant API, with Wings' side of the S3 handshake played through the panel's remote routes
(tests/backup_support.py). Includes the fault tests of issue 6."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from mamba import bootstrap
from mamba.domain.audit import AuditFilter
from tests.backup_support import (
    MIB,
    BackupWorld,
    archive_bytes,
    build_world,
    object_keys,
    open_uploads,
    report_completion,
    set_plan,
    upload_like_wings,
    use_test_ports,
)
from tests.statemachines.conftest import Deployed

pytestmark = pytest.mark.slow


@pytest.fixture
def world(client: Any, deployed_workflows: Deployed) -> Iterator[BackupWorld]:
    w = build_world(client.http)
    with use_test_ports(w.wings):
        yield w


def bucket() -> str:
    return str(bootstrap.settings().backup_bucket)


def s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def start_backup(world: BackupWorld, **body: Any) -> dict[str, Any]:
    response = world.http.post(world.base, headers=world.owner_headers, body=json.dumps(body))
    assert response.status_code == 202, response.json_body
    return dict(response.json_body)


def finish(deployed: Deployed, workflow: str, op_id: str) -> dict[str, Any]:
    return deployed.wait(deployed.execution_arn(workflow, op_id), timeout_s=60)


def backup_of(world: BackupWorld, backup_id: str) -> Any:
    return bootstrap.backup_repository().get(backup_id)


def audit_actions(tenant_id: str) -> list[tuple[str, str]]:
    page = bootstrap.audit_log().list(tenant_id, AuditFilter(), 100, None)
    return [(e.action, e.result) for e in page.items if e.action.startswith("backup.")]


def completed_backup(world: BackupWorld, deployed: Deployed, data: bytes, **body: Any) -> dict[str, Any]:
    started = start_backup(world, **body)
    world.wings.wait_backup()
    upload_like_wings(world, started["backup"]["id"], data)
    execution = finish(deployed, "backup_server", started["operation"]["id"])
    assert execution["status"] == "SUCCEEDED", execution
    return started


def test_backup_completes_with_the_size_and_checksum_of_the_object_in_s3(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    data = archive_bytes(11 * MIB)

    # Given a backup requested through the API
    started = start_backup(world, name="before update", ignored=["cache/", "*.log"])
    backup_id = started["backup"]["id"]
    assert started["backup"]["status"] == "pending"
    assert set(started["backup"]) >= {"id", "uuid", "name", "status", "size_bytes", "checksum", "locked",
                                      "created_at", "completed_at"}  # fmt: skip
    assert started["operation"]["type"] == "backup_server"

    # When Wings is asked (adapter s3, the ignore list) and uploads 3 parts
    asked = world.wings.wait_backup()
    assert asked == {"server": world.server.uuid, "uuid": backup_id, "adapter": "s3", "ignore": "cache/\n*.log"}
    upload = upload_like_wings(world, backup_id, data)
    assert len(upload.presign.json_body["parts"]) == 3
    assert upload.completion.status_code == 204

    # Then the workflow succeeded and the backup matches the object
    execution = finish(deployed_workflows, "backup_server", started["operation"]["id"])
    assert execution["status"] == "SUCCEEDED", execution
    got = world.http.get(f"{world.base}/{backup_id}", headers=world.owner_headers).json_body
    head = s3().head_object(Bucket=bucket(), Key=f"{world.server.uuid}/{backup_id}.tar.gz")
    assert got["status"] == "completed"
    assert got["size_bytes"] == head["ContentLength"] == len(data)
    assert got["checksum"] == "sha1:" + hashlib.sha1(data).hexdigest()
    assert got["completed_at"]
    assert open_uploads(bucket()) == []
    # the usage counter, the lock, the operation's event and the audit log
    assert bootstrap.backup_repository().usage(world.tenant_id) == len(data)
    assert bootstrap.backup_repository().running_lock(world.server.uuid) is None
    op = bootstrap.operation_repository().get(world.tenant_id, started["operation"]["id"])
    assert op.status == "succeeded"
    steps = {s.name: s.status for s in op.steps}
    assert steps == {"request_backup": "succeeded", "upload": "succeeded", "verify": "succeeded",
                     "retention": "succeeded", "backup.completed": "succeeded"}  # fmt: skip
    assert ("backup.completed", "success") in audit_actions(world.tenant_id)


def test_completion_callback_retried_is_applied_once(world: BackupWorld, deployed_workflows: Deployed) -> None:
    data = archive_bytes(6 * MIB, seed=2)
    started = completed_backup(world, deployed_workflows, data)
    backup_id = started["backup"]["id"]
    before = backup_of(world, backup_id)

    # When Wings retries its completion (it deletes its archive on any non-2xx)
    body = {"checksum": hashlib.sha1(data).hexdigest(), "checksum_type": "sha1", "size": len(data),
            "successful": True, "parts": [{"etag": '"x"', "part_number": 1}]}  # fmt: skip
    again = [report_completion(world, backup_id, body) for _ in range(2)]

    # Then every retry is a 204 and nothing changed: one count, one event
    assert [r.status_code for r in again] == [204, 204]
    assert backup_of(world, backup_id) == before
    assert bootstrap.backup_repository().usage(world.tenant_id) == len(data)
    assert audit_actions(world.tenant_id).count(("backup.completed", "success")) == 1


def test_upload_failing_halfway_leaves_no_parts_and_marks_the_backup_failed(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    # Given Wings uploads one part of three, then reports the backup failed
    started = start_backup(world)
    backup_id = started["backup"]["id"]
    world.wings.wait_backup()
    upload = upload_like_wings(world, backup_id, archive_bytes(11 * MIB), fail_after_parts=1)
    assert upload.completion.status_code == 204

    # Then the workflow failed, the upload was aborted and nothing is in the bucket
    execution = finish(deployed_workflows, "backup_server", started["operation"]["id"])
    assert execution["status"] == "FAILED"
    assert open_uploads(bucket()) == []
    assert object_keys(bucket()) == []
    backup = backup_of(world, backup_id)
    assert backup.status == "failed"
    assert "failed" in (backup.error or "")
    op = bootstrap.operation_repository().get(world.tenant_id, started["operation"]["id"])
    assert op.status == "failed" and op.error["code"] == "BACKUP_FAILED"
    assert ("backup.failed", "error") in audit_actions(world.tenant_id)
    assert bootstrap.backup_repository().running_lock(world.server.uuid) is None


def test_node_going_down_mid_backup_times_out_fails_and_leaves_nothing_in_s3(
    world: BackupWorld, deployed_workflows: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    with use_test_ports(world.wings, timeout_seconds=3):
        # Given Wings uploads one part and then the node dies (no completion ever comes)
        started = start_backup(world)
        backup_id = started["backup"]["id"]
        world.wings.wait_backup()
        upload_like_wings(world, backup_id, archive_bytes(11 * MIB), fail_after_parts=1, report=False)
        assert len(open_uploads(bucket())) == 1

        # Then the wait times out, the upload is aborted and the backup is failed with a reason
        execution = finish(deployed_workflows, "backup_server", started["operation"]["id"])
        assert execution["status"] == "FAILED"
        assert open_uploads(bucket()) == []
        assert object_keys(bucket()) == []
        backup = backup_of(world, backup_id)
        assert backup.status == "failed"
        assert "did not finish" in (backup.error or "")
        op = bootstrap.operation_repository().get(world.tenant_id, started["operation"]["id"])
        assert op.error["code"] == "BACKUP_TIMEOUT"
        # and a late completion is refused (Wings then deletes its archive)
        late = report_completion(world, backup_id, {"checksum": "a" * 40, "checksum_type": "sha1", "size": 1,
                                                    "successful": True, "parts": None})  # fmt: skip
        assert late.status_code == 409


def test_node_unreachable_when_asked_fails_the_backup_after_retries(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    world.wings.down = True

    started = start_backup(world)

    execution = finish(deployed_workflows, "backup_server", started["operation"]["id"])
    assert execution["status"] == "FAILED"
    assert deployed_workflows.sleeps == [2, 4, 8]
    backup = backup_of(world, started["backup"]["id"])
    assert backup.status == "failed"
    assert "did not answer" in (backup.error or "")
    op = bootstrap.operation_repository().get(world.tenant_id, started["operation"]["id"])
    assert op.error["code"] == "NODE_UNAVAILABLE"
    assert open_uploads(bucket()) == [] and object_keys(bucket()) == []


def test_over_quota_is_403_and_nothing_is_created(world: BackupWorld, deployed_workflows: Deployed) -> None:
    # Given a plan of one backup per server, no rotation, and one completed backup
    set_plan(world.tenant_id, backups_per_server=1, backup_bytes=-1)
    completed_backup(world, deployed_workflows, archive_bytes(MIB, seed=3))
    executions = deployed_workflows.sfn.list_executions(
        stateMachineArn=deployed_workflows.state_machine_arn("backup_server")
    )["executions"]
    world.wings.backups.clear()

    # When another backup is requested
    response = world.http.post(world.base, headers=world.owner_headers, body="{}")

    # Then it is refused before anything starts
    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "QUOTA_EXCEEDED"
    assert response.json_body["error"]["details"]["quota"] == "backups_per_server"
    assert len(bootstrap.backup_repository().of_server(world.server.uuid)) == 1
    after = deployed_workflows.sfn.list_executions(
        stateMachineArn=deployed_workflows.state_machine_arn("backup_server")
    )["executions"]
    assert len(after) == len(executions)
    assert world.wings.backups == []
    assert open_uploads(bucket()) == []


def test_storage_quota_is_403_when_the_counter_is_full(world: BackupWorld, deployed_workflows: Deployed) -> None:
    set_plan(world.tenant_id, backups_per_server=-1, backup_bytes=MIB)
    completed_backup(world, deployed_workflows, archive_bytes(MIB, seed=4))

    response = world.http.post(world.base, headers=world.owner_headers, body="{}")

    assert response.status_code == 403
    assert response.json_body["error"]["details"]["quota"] == "backup_bytes"


def test_rotation_replaces_the_oldest_unlocked_backup_at_the_limit(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    # Given a limit of two, rotation on, and two completed backups (the older one locked)
    set_plan(world.tenant_id, backups_per_server=2, backup_bytes=-1)
    put = world.http.put(f"/v1/tenants/{world.tenant_id}/backup-settings", headers=world.owner_headers,
                         body=json.dumps({"rotate": True}))  # fmt: skip
    assert put.status_code == 200 and put.json_body["rotate"] is True
    first = completed_backup(world, deployed_workflows, archive_bytes(MIB, seed=5))["backup"]["id"]
    second = completed_backup(world, deployed_workflows, archive_bytes(MIB, seed=6))["backup"]["id"]
    assert world.http.post(f"{world.base}/{first}/lock", headers=world.owner_headers).json_body["locked"] is True

    # When a third completes
    third = completed_backup(world, deployed_workflows, archive_bytes(MIB, seed=7))["backup"]["id"]

    # Then the oldest unlocked one (the second) was rotated out, with its object and its bytes
    ids = [b["id"] for b in world.http.get(world.base, headers=world.owner_headers).json_body["items"]]
    assert ids == [first, third]
    assert f"{world.server.uuid}/{second}.tar.gz" not in object_keys(bucket())
    assert bootstrap.backup_repository().usage(world.tenant_id) == 2 * MIB
    assert ("backup.rotated", "success") in audit_actions(world.tenant_id)


def test_second_backup_while_one_runs_is_409(world: BackupWorld, deployed_workflows: Deployed) -> None:
    start_backup(world)

    response = world.http.post(world.base, headers=world.owner_headers, body="{}")

    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "CONFLICT"


def test_restore_downloads_through_a_gzip_typed_url_and_brings_the_server_back(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    data = archive_bytes(2 * MIB, seed=8)
    backup_id = completed_backup(world, deployed_workflows, data)["backup"]["id"]

    # When a restore is requested
    response = world.http.post(f"{world.base}/{backup_id}/restore", headers=world.owner_headers,
                               body=json.dumps({"truncate": True}))  # fmt: skip
    assert response.status_code == 202, response.json_body
    assert response.json_body["backup"]["status"] == "restoring"
    assert bootstrap.server_repository().get(world.server.uuid).status == "restoring"

    # Then Wings got a presigned GET whose answer is gzip-typed and holds the archive
    asked = world.wings.wait_restore()
    assert (asked["adapter"], asked["truncate"]) == ("s3", True)
    fetched = requests.get(asked["url"])
    assert fetched.headers["Content-Type"] in ("application/gzip", "application/x-gzip")
    assert fetched.content == data

    # and once Wings reports the restore, the server is offline and the backup completed
    done = world.http.post(f"/api/remote/backups/{backup_id}/restore", headers=world.node.header,
                           body=json.dumps({"successful": True}))  # fmt: skip
    assert done.status_code == 204
    execution = finish(deployed_workflows, "restore_backup", response.json_body["operation"]["id"])
    assert execution["status"] == "SUCCEEDED", execution
    assert bootstrap.server_repository().get(world.server.uuid).status == "offline"
    assert backup_of(world, backup_id).status == "completed"
    assert ("backup.restored", "success") in audit_actions(world.tenant_id)


def test_restore_reported_failed_fails_the_operation_and_frees_the_server(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    backup_id = completed_backup(world, deployed_workflows, archive_bytes(MIB, seed=9))["backup"]["id"]
    response = world.http.post(f"{world.base}/{backup_id}/restore", headers=world.owner_headers, body="{}")
    world.wings.wait_restore()

    world.http.post(f"/api/remote/backups/{backup_id}/restore", headers=world.node.header,
                    body=json.dumps({"successful": False}))  # fmt: skip

    execution = finish(deployed_workflows, "restore_backup", response.json_body["operation"]["id"])
    assert execution["status"] == "FAILED"
    assert bootstrap.server_repository().get(world.server.uuid).status == "offline"
    assert backup_of(world, backup_id).status == "completed"


def test_download_url_serves_the_bytes_of_the_object(world: BackupWorld, deployed_workflows: Deployed) -> None:
    data = archive_bytes(MIB, seed=10)
    backup_id = completed_backup(world, deployed_workflows, data)["backup"]["id"]

    response = world.http.get(f"{world.base}/{backup_id}/download", headers=world.owner_headers)

    assert response.status_code == 200
    assert response.json_body["expires_in"] == 300
    stored = s3().get_object(Bucket=bucket(), Key=f"{world.server.uuid}/{backup_id}.tar.gz")["Body"].read()
    assert requests.get(response.json_body["url"]).content == stored == data


def test_locked_backup_refuses_deletion_and_unlocked_one_is_deleted_with_its_object(
    world: BackupWorld, deployed_workflows: Deployed
) -> None:
    data = archive_bytes(MIB, seed=11)
    backup_id = completed_backup(world, deployed_workflows, data)["backup"]["id"]
    key = f"{world.server.uuid}/{backup_id}.tar.gz"

    # Given a locked backup, deletion is 409
    world.http.post(f"{world.base}/{backup_id}/lock", headers=world.owner_headers)
    refused = world.http.delete(f"{world.base}/{backup_id}", headers=world.owner_headers)
    assert refused.status_code == 409
    assert key in object_keys(bucket())

    # When it is unlocked and deleted
    world.http.post(f"{world.base}/{backup_id}/unlock", headers=world.owner_headers)
    response = world.http.delete(f"{world.base}/{backup_id}", headers=world.owner_headers)
    assert response.status_code == 202
    assert response.json_body["backup"]["status"] == "deleting"
    execution = finish(deployed_workflows, "delete_backup", response.json_body["operation"]["id"])

    # Then the object, the record and its bytes are gone
    assert execution["status"] == "SUCCEEDED", execution
    assert key not in object_keys(bucket())
    assert world.http.get(f"{world.base}/{backup_id}", headers=world.owner_headers).status_code == 404
    assert bootstrap.backup_repository().usage(world.tenant_id) == 0


def test_reconciliation_corrects_a_drifted_counter(world: BackupWorld, deployed_workflows: Deployed) -> None:
    from functions.schedules import backup_usage

    data = archive_bytes(MIB, seed=12)
    completed_backup(world, deployed_workflows, data)
    bootstrap.backup_repository().set_usage(world.tenant_id, 42, "2026-12-01T00:00:00Z")

    result = backup_usage.handler({}, None)

    assert result["corrected"] == [world.tenant_id]
    assert bootstrap.backup_repository().usage(world.tenant_id) == len(data)
    assert backup_usage.handler({}, None)["corrected"] == []
