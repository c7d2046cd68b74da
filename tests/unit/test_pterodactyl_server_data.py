"""The translations of Pterodactyl's client API for a server's files, backups and subusers
(mamba.services.pterodactyl.*), checked against Pterodactyl's own shapes without any I/O; and
/v1's schedule answer, which leaves out the task ids Pterodactyl's door keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from mamba.domain import backups as bk
from mamba.domain import schedules as sch
from mamba.services.pterodactyl import backups, files, subusers
from mamba.services.schedules import ScheduleView
from tests.contract.pterodactyl_shapes import assert_shape

STAT = {"name": "server.properties", "created": "2026-03-17T14:58:30Z", "modified": "2026-03-18T10:00:00Z",
        "mode": "-rw-r--r--", "mode_bits": "644", "size": 1234, "directory": False, "file": True,
        "symlink": False, "mime": "text/plain; charset=utf-8"}  # fmt: skip


def test_a_wings_stat_is_a_file_object_with_pterodactyls_dates() -> None:
    shaped = files.file_object(STAT)
    assert_shape("client_file_object", shaped)
    assert shaped["attributes"]["created_at"] == "2026-03-17T14:58:30+00:00"
    assert (shaped["attributes"]["mode_bits"], shaped["attributes"]["is_file"]) == ("644", True)
    folder = files.file_object({"name": "world", "directory": True, "file": False, "mode_bits": "755"})
    assert folder["attributes"]["is_file"] is False and folder["attributes"]["mimetype"] == "inode/directory"


def test_a_running_and_a_completed_backup_in_pterodactyls_shape() -> None:
    running = bk.new_backup("0b8e3c7a-1d2f-4a5b-8c6d-7e8f9a0b1c2d", "srv", "tn", "nd", "b", ("logs/*",),
                            "2026-01-01T10:00:00Z")  # fmt: skip
    shaped = backups.backup(running)
    assert_shape("client_backup", shaped)
    assert shaped["attributes"]["is_successful"] is False and shaped["attributes"]["completed_at"] is None
    from dataclasses import replace

    done = replace(running, status=bk.COMPLETED, completed_at="2026-01-01T10:05:00Z", size_bytes=5, checksum="sha1:x")
    shaped = backups.backup(done)
    assert_shape("client_backup", shaped)
    assert (shaped["attributes"]["is_successful"], shaped["attributes"]["bytes"]) == (True, 5)


def test_a_subuser_lists_the_pterodactyl_keys_its_permissions_stand_for() -> None:
    shaped = subusers._subuser("usr_c", "Carol@Example.org", True, "2026-01-01T00:00:00Z",
                               frozenset({"servers.read", "files.read"}))  # fmt: skip
    assert_shape("client_subuser", shaped)
    keys = shaped["attributes"]["permissions"]
    assert "file.read" in keys and "file.read-content" in keys and "file.create" not in keys
    assert shaped["attributes"]["username"] == "Carol" and shaped["attributes"]["2fa_enabled"] is True


def test_v1_answers_a_schedule_without_its_tasks_ids() -> None:
    from mamba.schemas.schedules import ScheduleOut

    schedule = sch.Schedule(
        id="sch_1", tenant_id="tn", server_id="srv", name="n", cron=sch.parse_cron("0", "4", "*", "*", "*"),
        timezone="UTC", enabled=True, only_when_online=False, created_at="t", updated_at="t",
        tasks=(sch.Task("command", "say hi", id="tsk_1"),),
    )  # fmt: skip
    out = ScheduleOut.model_validate(ScheduleView(schedule, [datetime(2026, 1, 1, 4, tzinfo=UTC)]))
    assert out.model_dump()["tasks"] == [
        {"action": "command", "payload": "say hi", "time_offset_seconds": 0, "continue_on_failure": False}
    ]


def test_a_backup_asked_locked_is_locked_even_when_its_workflow_moved_it_first() -> None:
    from dataclasses import replace
    from types import SimpleNamespace
    from typing import Any, cast

    from mamba.auth.context import TenantContext
    from mamba.domain.permissions import BUILTIN_ROLES
    from mamba.domain.servers import Limits, Server
    from mamba.services.backups import BackupPorts
    from tests.fakes import FakeBackupRepository, FakeServerRepository

    server = Server(uuid="3f0c6d1e-2b4a-4c8d-9e7f-1a2b3c4d5e6f", name="s", tenant_id="tn", node_id="nd",
                    blueprint_id="bp", allocation=("127.0.0.1", 25565), docker_image="img", startup="run",
                    limits=Limits(memory_mb=512, disk_mb=1024), status="offline", created_at="t",
                    updated_at="t")  # fmt: skip
    servers, repo = FakeServerRepository(), FakeBackupRepository()
    servers.add(server)
    made = bk.new_backup("0b8e3c7a-1d2f-4a5b-8c6d-7e8f9a0b1c2d", server.uuid, "tn", "nd", "b", (), "t0")
    repo.add_running(made)
    save = repo.save

    def workflow_moves_it_first(backup: Any, expected_status: str | None = None) -> None:
        # The workflow's upload step wins the first write: the backup is uploading now
        if repo.backups[backup.uuid].status == bk.PENDING:
            repo.backups[backup.uuid] = replace(repo.backups[backup.uuid], status=bk.UPLOADING)
        save(backup, expected_status)

    repo.save = workflow_moves_it_first  # type: ignore[method-assign]
    ports = cast(BackupPorts, SimpleNamespace(backups=repo, servers=servers, clock=lambda: "t1"))
    owner = TenantContext(tenant_id="tn", role="owner", permissions=BUILTIN_ROLES["owner"])

    locked = backups._lock_new(ports, owner, server.uuid, made.uuid)

    assert locked.locked is True and repo.backups[made.uuid].locked is True
    assert repo.backups[made.uuid].status == bk.UPLOADING
