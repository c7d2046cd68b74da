"""Pterodactyl's client API for a server's backups through the real guard on moto, with the same
use cases as /v1 (a recording workflow starter stands in for Step Functions; the workflows
themselves run in tests/statemachines/test_backup_workflows.py). Every answer with a body is
checked against Pterodactyl's own shape."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain import backups as bk
from tests.backup_support import BackupWorld, add_member, build_world, make_server, use_test_ports
from tests.contract.pterodactyl_shapes import assert_shape
from tests.fakes import FakeWorkflows


@contextlib.contextmanager
def recording_workflows() -> Iterator[FakeWorkflows]:
    workflows = FakeWorkflows()
    with bootstrap.override(backup_ports=replace(bootstrap.backup_ports(), workflows=workflows)):
        yield workflows


@pytest.fixture
def world(client: Any) -> Iterator[BackupWorld]:
    w = build_world(client.http)
    with use_test_ports(w.wings):
        yield w


def base(world: BackupWorld, server_uuid: str | None = None) -> str:
    return f"/api/client/servers/{server_uuid or world.server.uuid}/backups"


def stored(world: BackupWorld, status: str = bk.COMPLETED, *, created_at: str = "2026-01-01T10:00:00Z") -> bk.Backup:
    backup = bk.new_backup(str(uuid.uuid4()), world.server.uuid, world.tenant_id, world.node.node.id, "b", ("logs/*",),
                           created_at)  # fmt: skip
    repo = bootstrap.backup_repository()
    repo.add_running(backup)
    repo.release_lock(world.server.uuid, backup.uuid)
    done = "2026-01-01T10:05:00Z" if status in (bk.COMPLETED, bk.FAILED) else None
    backup = replace(backup, status=status, completed_at=done, size_bytes=7, checksum="sha1:" + "a" * 40)
    repo.save(backup)
    return backup


def headers_of(world: BackupWorld) -> dict[str, str]:
    return {**world.owner_headers, "Content-Type": "application/json"}


def test_list_is_paged_as_pterodactyl_with_the_backup_count(world: BackupWorld) -> None:
    first = stored(world, created_at="2026-01-01T10:00:00Z")
    stored(world, bk.FAILED, created_at="2026-01-02T10:00:00Z")
    stored(world, bk.UPLOADING, created_at="2026-01-03T10:00:00Z")

    listed = world.http.get(base(world) + "?per_page=2", headers=world.owner_headers)

    assert listed.status_code == 200, listed.body[:300]
    body = listed.json_body
    for entry in body["data"]:
        assert_shape("client_backup", entry)
    pagination = body["meta"]["pagination"]
    assert (pagination["total"], pagination["count"], pagination["per_page"], pagination["total_pages"]) == (3, 2, 2, 2)
    assert set(pagination["links"]) == {"next"}
    assert body["meta"]["backup_count"] == 2  # the failed one is not counted
    one = body["data"][0]["attributes"]
    assert one["uuid"] == first.uuid and one["is_successful"] is True and one["ignored_files"] == ["logs/*"]
    assert one["created_at"] == "2026-01-01T10:00:00+00:00" and one["completed_at"] == "2026-01-01T10:05:00+00:00"
    assert body["data"][1]["attributes"]["is_successful"] is False
    # Pterodactyl never shows more than 50 a page
    capped = world.http.get(base(world) + "?per_page=80", headers=world.owner_headers)
    assert capped.json_body["meta"]["pagination"]["per_page"] == 50


def test_create_starts_the_same_workflow_and_answers_the_backup_with_200(world: BackupWorld) -> None:
    with recording_workflows() as workflows:
        created = world.http.post(
            base(world),
            headers=headers_of(world),
            body=json.dumps({"name": "Before update", "ignored": "cache/\n\n*.log\n", "is_locked": True}),
        )

    assert created.status_code == 200, created.body[:300]
    assert_shape("client_backup", created.json_body)
    attrs = created.json_body["attributes"]
    assert (attrs["name"], attrs["is_successful"], attrs["is_locked"]) == ("Before update", False, True)
    assert attrs["ignored_files"] == ["cache/", "*.log"] and attrs["completed_at"] is None
    assert [w for w, _, _ in workflows.started] == ["backup_server"]
    assert workflows.started[0][2]["backup_uuid"] == attrs["uuid"]
    saved = bootstrap.backup_repository().get(attrs["uuid"])
    assert saved.locked is True and saved.ignored == ("cache/", "*.log")


def test_a_backup_over_the_plans_quota_is_refused_with_nothing_created(world: BackupWorld) -> None:
    from tests.backup_support import set_plan

    set_plan(world.tenant_id, backups_per_server=1)
    stored(world)
    with recording_workflows() as workflows:
        refused = world.http.post(base(world), headers=headers_of(world), body="{}")

    assert refused.status_code == 403, refused.body[:300]
    assert refused.json_body["errors"][0]["code"] == "AccessDeniedHttpException"
    assert workflows.started == []
    assert len(bootstrap.backup_repository().of_server(world.server.uuid)) == 1


def test_get_lock_toggles_download_restore_and_delete(world: BackupWorld) -> None:
    backup = stored(world)
    one = f"{base(world)}/{backup.uuid}"

    got = world.http.get(one, headers=world.owner_headers)
    assert got.status_code == 200 and got.json_body["attributes"]["uuid"] == backup.uuid
    assert_shape("client_backup", got.json_body)

    locked = world.http.post(one + "/lock", headers=world.owner_headers)
    assert locked.status_code == 200 and locked.json_body["attributes"]["is_locked"] is True
    assert_shape("client_backup", locked.json_body)
    refused = world.http.delete(one, headers=world.owner_headers)
    assert refused.status_code == 409
    unlocked = world.http.post(one + "/lock", headers=world.owner_headers)
    assert unlocked.json_body["attributes"]["is_locked"] is False

    link = world.http.get(one + "/download", headers=world.owner_headers)
    assert link.status_code == 200, link.body[:300]
    assert_shape("client_backup_download", link.json_body)
    assert backup.uuid in link.json_body["attributes"]["url"]

    with recording_workflows() as workflows:
        restored = world.http.post(one + "/restore", headers=headers_of(world), body=json.dumps({"truncate": True}))
        assert restored.status_code == 204, restored.body[:300]
        assert workflows.started[-1][0] == "restore_backup" and workflows.started[-1][2]["truncate"] is True
        assert bootstrap.backup_repository().get(backup.uuid).status == bk.RESTORING

    second = stored(world)
    with recording_workflows() as workflows:
        deleted = world.http.delete(f"{base(world)}/{second.uuid}", headers=world.owner_headers)
    assert deleted.status_code == 204 and deleted.body == b""
    assert [w for w, _, _ in workflows.started] == ["delete_backup"]
    assert bootstrap.backup_repository().get(second.uuid).status == bk.DELETING


def test_restore_needs_truncate_and_a_viewer_may_only_read(world: BackupWorld) -> None:
    backup = stored(world)
    one = f"{base(world)}/{backup.uuid}"
    missing = world.http.post(one + "/restore", headers=headers_of(world), body="{}")
    assert missing.status_code == 422
    assert missing.json_body["errors"][0]["meta"]["source_field"] == "truncate"

    viewer = add_member(world.tenant_id, f"usr_view_{uuid.uuid4().hex[:6]}", "viewer")
    assert world.http.get(base(world), headers=viewer).status_code == 200
    for response in (
        world.http.post(base(world), headers=viewer, body="{}"),
        world.http.delete(one, headers=viewer),
        world.http.get(one + "/download", headers=viewer),
        world.http.post(one + "/lock", headers=viewer),
    ):
        assert response.status_code == 403
        assert response.json_body["errors"][0]["status"] == "403"


def test_another_servers_backup_and_another_tenants_server_are_404(world: BackupWorld) -> None:
    backup = stored(world)
    sibling = make_server(world.node.node, world.tenant_id)
    bootstrap.server_repository().add(sibling)
    through_sibling = world.http.get(f"{base(world, sibling.uuid)}/{backup.uuid}", headers=world.owner_headers)
    assert through_sibling.status_code == 404

    stranger = add_member(f"tn_{uuid.uuid4().hex[:8]}", f"usr_x_{uuid.uuid4().hex[:6]}", "owner")
    for response in (
        world.http.get(base(world), headers=stranger),
        world.http.get(f"{base(world)}/{backup.uuid}", headers=stranger),
    ):
        assert response.status_code == 404
        assert response.json_body["errors"][0]["detail"] == "The requested resource could not be found on the server."


def test_a_ptlc_key_works_within_its_scopes(world: BackupWorld) -> None:
    from tests.api.security_world import create_key

    made = create_key(world, world.owner_headers, scopes=["servers.read", "backups.read"], format="pterodactyl")
    assert made.status_code == 201, made.json_body
    key = {"Authorization": f"Bearer {made.json_body['key']}", "Content-Type": "application/json"}
    stored(world)

    listed = world.http.get(base(world), headers=key)
    refused = world.http.post(base(world), headers=key, body="{}")

    assert listed.status_code == 200 and len(listed.json_body["data"]) == 1
    assert refused.status_code == 403 and refused.json_body["errors"][0]["status"] == "403"
