"""The tenant backup routes through the real guard on moto (no workflow deployed here: the
workflows run in tests/statemachines/test_backup_workflows.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain import backups as bk
from tests.backup_support import BackupWorld, add_member, build_world, make_server, use_test_ports


@pytest.fixture
def world(client: Any) -> Iterator[BackupWorld]:
    w = build_world(client.http)
    with use_test_ports(w.wings):
        yield w


def stored(world: BackupWorld, status: str = bk.COMPLETED, server_uuid: str | None = None) -> bk.Backup:
    server = server_uuid or world.server.uuid
    backup = bk.new_backup(str(uuid.uuid4()), server, world.tenant_id, world.node.node.id, "b", (), "t0")
    repo = bootstrap.backup_repository()
    repo.add_running(backup)
    repo.release_lock(server, backup.uuid)
    backup = bk.Backup(**{**backup.__dict__, "status": status, "completed_at": "t1", "size_bytes": 7})
    repo.save(backup)
    return backup


def test_list_and_get_show_the_public_shape(world: BackupWorld) -> None:
    backup = stored(world)

    listed = world.http.get(world.base, headers=world.owner_headers)
    one = world.http.get(f"{world.base}/{backup.uuid}", headers=world.owner_headers)

    assert listed.status_code == 200
    assert [b["id"] for b in listed.json_body["items"]] == [backup.uuid]
    assert one.json_body["uuid"] == one.json_body["id"] == backup.uuid
    assert (one.json_body["status"], one.json_body["size_bytes"], one.json_body["locked"]) == ("completed", 7, False)


def test_another_tenants_server_and_backup_are_404(world: BackupWorld) -> None:
    backup = stored(world)
    other_tenant = f"tn_{uuid.uuid4().hex[:8]}"
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.tenancy import Membership, Tenant

    intruder = f"usr_{uuid.uuid4().hex[:6]}"
    headers = add_member(world.tenant_id + "x", intruder, "owner")  # a membership elsewhere only
    DynamoTenantRepository().add_with_owner(
        Tenant(id=other_tenant, name="Other", created_at="t0"),
        Membership(tenant_id=other_tenant, user_id=intruder, role="owner", created_at="t0"),
    )
    base = f"/v1/tenants/{other_tenant}/servers/{world.server.uuid}/backups"

    responses = [
        world.http.get(base, headers=headers),
        world.http.get(f"{base}/{backup.uuid}", headers=headers),
        world.http.post(base, headers=headers, body="{}"),
        world.http.get(f"{base}/{backup.uuid}/download", headers=headers),
        world.http.delete(f"{base}/{backup.uuid}", headers=headers),
    ]

    assert [r.status_code for r in responses] == [404] * 5
    assert {r.json_body["error"]["code"] for r in responses} == {"NOT_FOUND"}


def test_backup_of_another_server_of_the_tenant_is_404_through_this_server(world: BackupWorld) -> None:
    sibling = make_server(world.node.node, world.tenant_id)
    bootstrap.server_repository().add(sibling)
    backup = stored(world, server_uuid=sibling.uuid)

    response = world.http.get(f"{world.base}/{backup.uuid}", headers=world.owner_headers)

    assert response.status_code == 404


def test_viewer_reads_but_cannot_create_delete_or_download(world: BackupWorld) -> None:
    backup = stored(world)
    viewer = add_member(world.tenant_id, f"usr_view_{uuid.uuid4().hex[:6]}", "viewer")

    assert world.http.get(world.base, headers=viewer).status_code == 200
    for response in (
        world.http.post(world.base, headers=viewer, body="{}"),
        world.http.delete(f"{world.base}/{backup.uuid}", headers=viewer),
        world.http.get(f"{world.base}/{backup.uuid}/download", headers=viewer),
        world.http.post(f"{world.base}/{backup.uuid}/lock", headers=viewer),
    ):
        assert response.status_code == 403
        assert response.json_body["error"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "body",
    [{"ignored": ["cache/\nsecret"]}, {"name": "x" * 300}, {"server_id": "other"}, {"ignored": "cache/"}],
    ids=["newline", "long-name", "unknown-field", "not-a-list"],
)
def test_bad_create_body_is_400_and_creates_nothing(world: BackupWorld, body: dict[str, Any]) -> None:
    response = world.http.post(world.base, headers=world.owner_headers, body=json.dumps(body))

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "VALIDATION_ERROR"
    assert bootstrap.backup_repository().of_server(world.server.uuid) == []


def test_workflow_that_cannot_start_leaves_no_backup_and_no_lock(world: BackupWorld) -> None:
    # No state machine is deployed in the API tests, so Step Functions refuses the start.
    response = world.http.post(world.base, headers=world.owner_headers, body="{}")

    assert response.status_code == 503
    assert bootstrap.backup_repository().of_server(world.server.uuid) == []
    assert bootstrap.backup_repository().running_lock(world.server.uuid) is None


def test_server_not_in_a_backup_state_is_409(world: BackupWorld) -> None:
    installing = make_server(world.node.node, world.tenant_id, status="installing")
    bootstrap.server_repository().add(installing)

    response = world.http.post(
        f"/v1/tenants/{world.tenant_id}/servers/{installing.uuid}/backups", headers=world.owner_headers, body="{}"
    )

    assert response.status_code == 409


def test_lock_and_unlock_round_trip(world: BackupWorld) -> None:
    backup = stored(world)

    locked = world.http.post(f"{world.base}/{backup.uuid}/lock", headers=world.owner_headers)
    refused = world.http.delete(f"{world.base}/{backup.uuid}", headers=world.owner_headers)
    unlocked = world.http.post(f"{world.base}/{backup.uuid}/unlock", headers=world.owner_headers)

    assert (locked.status_code, locked.json_body["locked"]) == (200, True)
    assert refused.status_code == 409
    assert "locked" in refused.json_body["error"]["message"]
    assert (unlocked.status_code, unlocked.json_body["locked"]) == (200, False)


def test_download_of_an_unfinished_backup_is_409(world: BackupWorld) -> None:
    backup = stored(world, status=bk.UPLOADING)

    response = world.http.get(f"{world.base}/{backup.uuid}/download", headers=world.owner_headers)

    assert response.status_code == 409


def test_restore_of_a_failed_backup_is_409(world: BackupWorld) -> None:
    backup = stored(world, status=bk.FAILED)

    response = world.http.post(f"{world.base}/{backup.uuid}/restore", headers=world.owner_headers, body="{}")

    assert response.status_code == 409
    assert bootstrap.server_repository().get(world.server.uuid).status == "offline"


def test_backup_settings_show_usage_limits_and_rotation(world: BackupWorld) -> None:
    path = f"/v1/tenants/{world.tenant_id}/backup-settings"

    before = world.http.get(path, headers=world.owner_headers).json_body
    put = world.http.put(path, headers=world.owner_headers, body=json.dumps({"rotate": True}))

    s = bootstrap.settings()
    assert before == {"rotate": False, "usage_bytes": 0, "quota_bytes": s.free_plan_backup_bytes,
                      "backups_per_server": s.free_plan_backups_per_server}  # fmt: skip
    assert put.status_code == 200 and put.json_body["rotate"] is True


def test_subuser_scoped_to_a_server_manages_its_backups_only(world: BackupWorld) -> None:
    sibling = make_server(world.node.node, world.tenant_id)
    bootstrap.server_repository().add(sibling)
    backup = stored(world)
    perms = ["backups.read", "backups.delete"]
    scoped = add_member(world.tenant_id, f"usr_sub_{uuid.uuid4().hex[:6]}", "custom", perms, world.server.uuid)
    sibling_base = f"/v1/tenants/{world.tenant_id}/servers/{sibling.uuid}/backups"

    own = world.http.get(world.base, headers=scoped)
    lock = world.http.post(f"{world.base}/{backup.uuid}/lock", headers=scoped)
    other = world.http.get(sibling_base, headers=scoped)
    settings = world.http.put(f"/v1/tenants/{world.tenant_id}/backup-settings", headers=scoped,
                              body=json.dumps({"rotate": True}))  # fmt: skip

    assert (own.status_code, lock.status_code) == (200, 200)
    assert other.status_code == 403
    assert settings.status_code == 403  # a tenant-wide choice is not a server's
    assert bootstrap.backup_repository().rotation(world.tenant_id) is False
