"""Issue 14: a failed backup produces exactly one ``backup.failed`` in-app notification and one
mail, even when the workflow step that emits it is retried (and SQS delivers it twice).

backup_server runs for real on moto (tests/backup_support.py); the events queue is drained
into the events consumer (functions/queues/events.py) as the deployed event source does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain.errors import DependencyUnavailableError
from mamba.domain.pages import PageRequest
from tests.api.notification_support import deliver_queued, queued_events
from tests.api.tenancy_helpers import mail_to
from tests.backup_support import MIB, BackupWorld, archive_bytes, build_world, upload_like_wings, use_test_ports
from tests.statemachines.conftest import Deployed

pytestmark = pytest.mark.slow


@pytest.fixture
def world(client: Any, deployed_workflows: Deployed) -> Iterator[BackupWorld]:
    w = build_world(client.http)
    with use_test_ports(w.wings):
        yield w


def owner_of(world: BackupWorld) -> str:
    (member,) = bootstrap.notification_store().bindings(world.tenant_id)
    return member.user_id


def test_a_failed_backup_notifies_once_in_app_and_by_mail_when_its_failing_step_is_retried(
    world: BackupWorld, deployed_workflows: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mamba.services import backups

    # Given the FailBackup step fails once after it published backup.failed (its Retry runs it again)
    real_finish = backups._finish
    calls: list[str] = []

    def finish_failing_once(ports: Any, op_id: str | None, status: str, error: Any = None) -> None:
        calls.append(status)
        if status == "failed" and calls.count("failed") == 1:
            raise DependencyUnavailableError("DynamoDB is busy")
        real_finish(ports, op_id, status, error)

    monkeypatch.setattr(backups, "_finish", finish_failing_once)

    # When Wings uploads one part and then reports the backup failed
    response = world.http.post(world.base, headers=world.owner_headers, body=json.dumps({}))
    assert response.status_code == 202, response.json_body
    started = response.json_body
    world.wings.wait_backup()
    upload_like_wings(world, started["backup"]["id"], archive_bytes(11 * MIB), fail_after_parts=1)
    execution = deployed_workflows.wait(
        deployed_workflows.execution_arn("backup_server", started["operation"]["id"]), timeout_s=60
    )
    assert execution["status"] == "FAILED"
    assert calls.count("failed") == 2  # the step really ran twice

    # Then the step published the same event twice (one id) ...
    queued = queued_events()
    failed = [e for e in queued if e["type"] == "backup.failed"]
    assert len(failed) == 2 and failed[0]["id"] == failed[1]["id"]
    assert failed[0]["server_id"] == world.server.uuid and failed[0]["tenant_id"] == world.tenant_id
    assert failed[0]["payload"]["server_name"] == world.server.name

    # ... and, delivered twice over (SQS is at-least-once), the owner has one notification and one mail
    from mamba.domain.events import Event
    from tests.api.notification_support import publish

    publish(*(Event.from_dict(e) for e in queued))
    assert deliver_queued(repeat=2) == {"batchItemFailures": []}
    owner = owner_of(world)
    listed = bootstrap.notification_store().listing(owner, PageRequest(limit=50), unread_only=False).items
    assert [n.type for n in listed] == ["backup.failed"]
    assert bootstrap.user_repository().get(owner).unread_notifications == 1
    mails = [m for m in mail_to(f"{owner}@example.org") if "failed" in m.subject]
    assert len(mails) == 1
