"""Backups (mamba.services.backups) over the fakes: the records and lock, the bucket, the
server and node, the Wings agent, operations, workflows and the audit log. The same paths
run on moto and the simulator in tests/api and tests/statemachines; here each in isolation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mamba.auth.context import TenantContext
from mamba.domain import backups as bk
from mamba.domain.backups import BackupPolicy
from mamba.domain.errors import (
    BackupFailedError,
    ConflictError,
    DependencyUnavailableError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
)
from mamba.domain.nodes import Node
from mamba.domain.quotas import Quotas
from mamba.services import backups as service
from mamba.services.task_waits import WaitPorts
from tests.fakes import (
    FakeAuditLog,
    FakeBackupRepository,
    FakeBackupStore,
    FakeNodeAgent,
    FakeNodeRepository,
    FakeOperationRepository,
    FakeServerRepository,
    FakeTaskCallbacks,
    FakeTaskTokens,
    FakeWorkflows,
    server_entity,
)

T0 = "2026-12-01T10:00:00Z"
SERVER = "00000000-0000-4000-8000-000000000001"
OTHER_TENANTS_SERVER = "00000000-0000-4000-8000-000000000002"
TENANT = TenantContext(tenant_id="tn_a", role="owner", permissions=frozenset())
SHA1 = "a" * 40
MIB = 1024 * 1024


class World:
    def __init__(self, quotas: Quotas | None = None, workflows: FakeWorkflows | None = None) -> None:
        self.backups, self.store, self.servers = FakeBackupRepository(), FakeBackupStore(), FakeServerRepository()
        self.nodes, self.agent, self.audit = FakeNodeRepository(), FakeNodeAgent(), FakeAuditLog()
        self.operations, self.workflows = FakeOperationRepository(), workflows or FakeWorkflows()
        self.seconds = 0
        self.node = Node(id="n1", uuid="n1", name="n1", fqdn="n1.example.org", token_id="t" * 16, created_at=T0,
                         updated_at=T0)  # fmt: skip
        self.nodes.add(self.node, "token")
        self.servers.add(server_entity(SERVER, "n1", "offline", tenant_id="tn_a"))
        self.servers.add(server_entity(OTHER_TENANTS_SERVER, "n1", "offline", tenant_id="tn_b"))
        self.agent.create_server(SERVER)
        self.tokens, self.callbacks = FakeTaskTokens(), FakeTaskCallbacks()
        self.ports = service.BackupPorts(
            backups=self.backups,
            servers=self.servers,
            nodes=self.nodes,
            store=self.store,
            operations=self.operations,
            workflows=self.workflows,
            agent_for=lambda node: self.agent,
            quotas=lambda tenant_id: quotas or Quotas(10, -1, -1, 10 * MIB, 3),
            audit=self.audit,
            clock=self.clock,
            policy=BackupPolicy(part_size=5 * MIB, timeout_seconds=60),
            waits=WaitPorts(self.tokens, self.callbacks, epoch=lambda: 1_000_000),
        )

    def clock(self) -> str:
        """A second later at every look, so backups made one after another sort by age."""
        self.seconds += 1
        return f"2026-12-01T10:{self.seconds // 60:02d}:{self.seconds % 60:02d}Z"

    def create(self, name: str = "nightly") -> tuple[bk.Backup, Any]:
        return service.create_backup(self.ports, TENANT, SERVER, name, ["*.log"])

    def uploaded(self, size: int = 1000) -> bk.Backup:
        """A backup Wings uploaded and reported (completed, not yet verified)."""
        backup, _ = self.create()
        service.presign_upload(self.ports, self.node, backup.uuid, str(size))
        upload_id = str(self.backups.get(backup.uuid).upload_id)
        etag = self.store.put_part(backup.s3_key, upload_id, 1, b"x" * size)
        body = {"successful": True, "checksum": SHA1, "size": size, "parts": [{"part_number": 1, "etag": etag}]}
        return service.report_backup(self.ports, self.node, backup.uuid, body)

    def completed(self, size: int = 1000) -> bk.Backup:
        backup = self.uploaded(size)
        service.task_finalize_backup(self.ports, backup.uuid, backup.operation_id)
        return self.backups.get(backup.uuid)

    def actions(self) -> list[str]:
        return [entry.action for entry in self.audit.entries]


# --- tenant use cases ---


def test_create_backup_takes_the_lock_and_starts_the_workflow():
    world = World()

    backup, op = world.create()

    assert world.backups.running_lock(SERVER) == backup.uuid
    assert world.backups.get(backup.uuid).operation_id == op.id == backup.operation_id
    [(workflow, op_id, payload)] = world.workflows.started
    assert (workflow, op_id, payload["backup_uuid"]) == ("backup_server", op.id, backup.uuid)
    assert payload["timeout_seconds"] == 60
    assert backup.ignored == ("*.log",)


def test_create_backup_conflicts_while_another_backup_runs():
    world = World()
    world.create()

    with pytest.raises(ConflictError):
        world.create()
    assert len(world.backups.backups) == 1


def test_create_backup_is_refused_over_the_storage_quota_with_nothing_created():
    world = World(quotas=Quotas(10, -1, -1, 100, 3))
    world.backups.set_usage("tn_a", 100, T0)

    with pytest.raises(QuotaExceededError):
        world.create()
    assert world.backups.backups == {} and world.workflows.started == []


def test_create_backup_leaves_nothing_when_the_workflow_cannot_start():
    world = World(workflows=FakeWorkflows(fail=True))

    with pytest.raises(DependencyUnavailableError):
        world.create()
    assert world.backups.backups == {} and world.backups.running_lock(SERVER) is None


def test_another_tenants_server_and_backup_do_not_exist():
    world = World()
    backup, _ = world.create()
    other = TenantContext(tenant_id="tn_b", role="owner", permissions=frozenset())

    with pytest.raises(NotFoundError):
        service.create_backup(world.ports, TENANT, OTHER_TENANTS_SERVER, None, None)
    with pytest.raises(NotFoundError):
        service.set_lock(world.ports, other, SERVER, backup.uuid, True)
    assert service.list_backups(world.ports, TENANT, SERVER) == [world.backups.get(backup.uuid)]


def test_download_url_needs_a_completed_backup():
    world = World()
    done = world.completed()
    running, _ = world.create()

    url = service.download_url(world.ports, TENANT, SERVER, done.uuid)

    assert done.s3_key in url and f"{done.uuid}.tar.gz" in url
    with pytest.raises(ConflictError):
        service.download_url(world.ports, TENANT, SERVER, running.uuid)


# --- Wings' remote calls ---


def test_presign_starts_one_upload_and_a_retry_reuses_it():
    world = World()
    backup, _ = world.create()

    first = service.presign_upload(world.ports, world.node, backup.uuid, str(12 * MIB))
    upload_id = world.backups.get(backup.uuid).upload_id
    again = service.presign_upload(world.ports, world.node, backup.uuid, str(12 * MIB))

    assert (len(first["parts"]), first["part_size"]) == (3, 5 * MIB)
    assert world.backups.get(backup.uuid).status == bk.UPLOADING
    assert world.backups.get(backup.uuid).upload_id == upload_id and len(world.store.uploads) == 1
    assert len(again["parts"]) == 3


def test_presign_refuses_another_nodes_backup_and_an_unknown_uuid():
    world = World()
    backup, _ = world.create()
    other = replace(world.node, id="n2")

    with pytest.raises(ForbiddenError):
        service.presign_upload(world.ports, other, backup.uuid, "10")
    with pytest.raises(NotFoundError):
        service.presign_upload(world.ports, world.node, "not-a-uuid", "10")


def test_a_reported_backup_completes_its_upload_once():
    world = World()

    backup = world.uploaded(size=1000)
    again = service.report_backup(
        world.ports, world.node, backup.uuid, {"successful": True, "checksum": SHA1, "size": 1000}
    )

    assert (backup.status, backup.size_bytes, backup.checksum) == (bk.COMPLETED, 1000, f"sha1:{SHA1}")
    assert world.store.size(backup.s3_key) == 1000 and world.store.uploads == {}
    assert again == backup


def test_a_failed_report_aborts_the_upload_and_fails_the_backup():
    world = World()
    backup, _ = world.create()
    service.presign_upload(world.ports, world.node, backup.uuid, "100")

    failed = service.report_backup(world.ports, world.node, backup.uuid, {"successful": False})

    assert failed.status == bk.FAILED and world.store.uploads == {}
    with pytest.raises(ConflictError):
        service.report_backup(world.ports, world.node, backup.uuid, {"successful": True, "checksum": SHA1, "size": 1})


# --- the backup workflow's tasks ---


def test_the_backup_tasks_ask_wings_wait_for_the_callback_verify_and_finalize():
    world = World()
    backup, op = world.create()

    parked = service.task_request_and_await_backup(world.ports, backup.uuid, op.id, "tok-1", 60)
    service.presign_upload(world.ports, world.node, backup.uuid, "1000")
    upload_id = str(world.backups.get(backup.uuid).upload_id)
    world.store.put_part(backup.s3_key, upload_id, 1, b"y" * 1000)
    assert world.callbacks.delivered == {}  # nothing resumes the workflow before Wings reports
    service.report_backup(world.ports, world.node, backup.uuid, {"successful": True, "checksum": SHA1, "size": 1000})
    completed = service.task_complete_backup(world.ports, backup.uuid, op.id)

    assert ("create", SERVER, backup.uuid) in world.agent.backups
    assert parked == {"waiting": f"backup:{backup.uuid}"}
    assert world.callbacks.delivered == {"tok-1": ("success", {"state": bk.COMPLETED})}
    assert world.tokens.parked == {}
    assert completed == {"size_bytes": 1000, "rotated": []}
    assert world.backups.usage("tn_a") == 1000 and world.backups.running_lock(SERVER) is None
    assert world.operations.find(op.id).status == "succeeded"
    assert bk.EVENT_COMPLETED in world.actions()


def test_a_failed_backup_report_fails_the_waiting_task_with_the_reason():
    world = World()
    backup, _ = world.create()
    service.task_request_and_await_backup(world.ports, backup.uuid, None, "tok-1", 60)

    service.report_backup(world.ports, world.node, backup.uuid, {"successful": False})

    assert world.callbacks.delivered == {
        "tok-1": ("failure", ("BackupFailedError", "Wings reported that the backup failed."))
    }


def test_a_completion_that_came_before_the_wait_is_delivered_by_the_waiting_task():
    world = World()
    backup = world.uploaded(size=10)  # Wings reported before the workflow parked its token

    result = service.task_request_and_await_backup(world.ports, backup.uuid, None, "tok-late", 60)

    assert result == {"waiting": f"backup:{backup.uuid}", "delivered": True}
    assert world.agent.backups == []  # a backup already uploaded is not asked for again
    assert world.callbacks.delivered == {"tok-late": ("success", {"state": bk.COMPLETED})}
    assert world.tokens.parked == {}


def test_a_completion_that_cannot_resume_the_workflow_is_still_acknowledged_and_its_retry_resumes_it():
    world = World()
    backup, _ = world.create()
    service.task_request_and_await_backup(world.ports, backup.uuid, None, "tok-1", 60)
    service.presign_upload(world.ports, world.node, backup.uuid, "10")
    upload_id = str(world.backups.get(backup.uuid).upload_id)
    world.store.put_part(backup.s3_key, upload_id, 1, b"y" * 10)
    body = {"successful": True, "checksum": SHA1, "size": 10}

    # When Step Functions is unreachable at the callback, the report is saved and answered
    world.callbacks.down = True
    assert service.report_backup(world.ports, world.node, backup.uuid, body).status == bk.COMPLETED
    assert world.tokens.token(f"backup:{backup.uuid}") == "tok-1"  # kept for the retry

    # Then Wings' retry of the same report resumes the workflow
    world.callbacks.down = False
    service.report_backup(world.ports, world.node, backup.uuid, body)
    assert world.callbacks.delivered == {"tok-1": ("success", {"state": bk.COMPLETED})}


def test_verify_fails_when_the_stored_size_differs_from_the_report():
    world = World()
    backup = world.uploaded(size=1000)
    world.store.put_object(backup.s3_key, 999)

    with pytest.raises(BackupFailedError):
        service.task_verify_backup(world.ports, backup.uuid, None)


def test_fail_backup_cleans_the_bucket_releases_the_lock_and_reports():
    world = World()
    backup, op = world.create()
    service.presign_upload(world.ports, world.node, backup.uuid, "100")

    result = service.task_fail_backup(world.ports, backup.uuid, op.id, {"code": "BACKUP_TIMEOUT", "message": "slow"})

    assert result == {"status": bk.FAILED, "error": "slow"}
    assert world.store.uploads == {} and backup.s3_key in world.store.deleted
    assert world.backups.running_lock(SERVER) is None
    assert world.operations.find(op.id).status == "failed"
    assert world.audit.entries[-1].action == bk.EVENT_FAILED and world.audit.entries[-1].result == "error"


def test_finalize_rotates_the_oldest_unlocked_backup_past_the_plan_count():
    world = World(quotas=Quotas(10, -1, -1, 100 * MIB, 2))
    world.backups.set_rotation("tn_a", True)
    oldest = world.completed()
    newest = world.completed()

    assert [b.uuid for b in world.backups.of_server(SERVER)] == [oldest.uuid, newest.uuid]
    third = world.completed()

    assert oldest.uuid not in {b.uuid for b in world.backups.of_server(SERVER)}
    assert {b.uuid for b in world.backups.of_server(SERVER)} == {newest.uuid, third.uuid}
    assert world.store.size(oldest.s3_key) is None and world.backups.usage("tn_a") == 2000
    assert "backup.rotated" in world.actions()


# --- restore and delete ---


def test_restore_asks_wings_with_a_download_url_and_the_report_brings_the_server_back():
    world = World()
    backup = world.completed()

    restoring, op = service.restore_backup(world.ports, TENANT, SERVER, backup.uuid, truncate=True)
    service.task_request_and_await_restore(world.ports, backup.uuid, True, op.id, "tok-r", 60)
    service.report_restore(world.ports, world.node, backup.uuid, {"successful": True})

    assert restoring.status == bk.RESTORING
    assert ("restore", SERVER, backup.uuid) in world.agent.backups
    assert world.callbacks.delivered == {"tok-r": ("success", {"state": "restored"})}
    assert world.backups.get(backup.uuid).status == bk.COMPLETED
    assert world.servers.get(SERVER).status == "offline"


def test_a_restore_reported_failed_fails_the_waiting_task():
    world = World()
    backup = world.completed()
    service.restore_backup(world.ports, TENANT, SERVER, backup.uuid, truncate=False)
    service.task_request_and_await_restore(world.ports, backup.uuid, False, None, "tok-r", 60)

    service.report_restore(world.ports, world.node, backup.uuid, {"successful": False})

    assert world.callbacks.delivered == {
        "tok-r": ("failure", ("BackupFailedError", "The node reported that the restore failed."))
    }


def test_a_failed_restore_task_puts_backup_and_server_back():
    world = World()
    backup = world.completed()
    _, op = service.restore_backup(world.ports, TENANT, SERVER, backup.uuid, truncate=False)

    service.task_fail_restore(world.ports, backup.uuid, op.id, {"code": "WINGS_UNAVAILABLE", "message": "down"})

    assert world.backups.get(backup.uuid).status == bk.COMPLETED
    assert world.servers.get(SERVER).status == "offline"
    assert world.operations.find(op.id).status == "failed"


def test_a_locked_backup_is_not_deleted_and_an_unlocked_one_is_removed_with_its_object():
    world = World()
    backup = world.completed()
    service.set_lock(world.ports, TENANT, SERVER, backup.uuid, True)

    with pytest.raises(ConflictError):
        service.delete_backup(world.ports, TENANT, SERVER, backup.uuid)
    service.set_lock(world.ports, TENANT, SERVER, backup.uuid, False)
    deleting, op = service.delete_backup(world.ports, TENANT, SERVER, backup.uuid)
    service.task_delete_object(world.ports, backup.uuid, op.id)
    service.task_delete_record(world.ports, backup.uuid, op.id)

    assert deleting.status == bk.DELETING
    assert world.store.size(backup.s3_key) is None and world.backups.usage("tn_a") == 0
    with pytest.raises(NotFoundError):
        world.backups.get(backup.uuid)
    assert service.task_delete_record(world.ports, backup.uuid, op.id) == {"deleted": False}


def test_a_failed_delete_keeps_the_backup_completed_with_the_reason():
    world = World()
    backup = world.completed()
    _, op = service.delete_backup(world.ports, TENANT, SERVER, backup.uuid)

    service.task_fail_delete(world.ports, backup.uuid, op.id, {"code": "DEPENDENCY_UNAVAILABLE", "message": "S3"})

    stored = world.backups.get(backup.uuid)
    assert (stored.status, stored.error) == (bk.COMPLETED, "S3")


# --- settings and reconciliation ---


def test_settings_show_rotation_usage_and_the_plan():
    world = World(quotas=Quotas(10, -1, -1, 5000, 4))

    answer = service.set_rotation(world.ports, TENANT, True)

    assert answer == {"rotate": True, "usage_bytes": 0, "quota_bytes": 5000, "backups_per_server": 4}


def test_reconcile_usage_sets_the_measured_size_and_names_missing_objects():
    world = World()
    kept, gone = world.completed(1000), world.completed(500)
    world.store.put_object(kept.s3_key, 1200)
    world.store.objects.pop(gone.s3_key)

    [report] = service.reconcile_usage(world.ports)

    assert (report.tenant_id, report.counted_bytes, report.actual_bytes) == ("tn_a", 1500, 1200)
    assert report.missing_objects == [gone.uuid]
    assert world.backups.usage("tn_a") == 1200
