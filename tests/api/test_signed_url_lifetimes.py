"""No signed URL the panel mints outlives 15 minutes (issue 10, "also fix"): the S3 URLs of
backups, through the real app on moto. The Wings JWTs (console, file download and upload)
are checked in tests/unit/test_account_takeover_rules.py and, end to end against the Wings
simulator, in tests/api/test_server_files.py. The one documented exception, the later part
URLs of a backup too large to upload within 15 minutes, is bounded at an hour."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mamba import bootstrap
from mamba.domain import backups as bk
from tests.backup_support import BackupWorld, build_world, use_test_ports

FIFTEEN_MINUTES = 15 * 60
GIB = 1024**3


@pytest.fixture
def world(client: Any) -> BackupWorld:
    return build_world(client.http)


def lifetime(url: str) -> int:
    """The X-Amz-Expires of a SigV4 presigned URL, or Expires - now of a SigV2 one."""
    query = parse_qs(urlsplit(url).query)
    if "X-Amz-Expires" in query:
        return int(query["X-Amz-Expires"][0])
    import time

    return int(query["Expires"][0]) - int(time.time())


def backup(world: BackupWorld, status: str) -> bk.Backup:
    made = bk.new_backup(str(uuid.uuid4()), world.server.uuid, world.tenant_id, world.node.node.id, "b", (), "t0")
    repo = bootstrap.backup_repository()
    repo.add_running(made)
    repo.release_lock(world.server.uuid, made.uuid)
    if status != made.status:
        made = bk.Backup(**{**made.__dict__, "status": status, "completed_at": "t1", "size_bytes": 7})
        repo.save(made)
    return made


def presign(world: BackupWorld, backup_uuid: str, size: int) -> list[str]:
    response = world.http.get(f"/api/remote/backups/{backup_uuid}?size={size}", headers=world.node.header)
    assert response.status_code == 200, response.json_body
    return list(response.json_body["parts"])


def test_no_signed_url_outlives_15_minutes(world: BackupWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    with use_test_ports(world.wings):
        # Given a finished backup and one Wings is about to upload (three small parts)
        done = backup(world, bk.COMPLETED)
        running = backup(world, bk.PENDING)

        # When the tenant asks for a download link and Wings for its part URLs
        download = world.http.get(f"{world.base}/{done.uuid}/download", headers=world.owner_headers)
        parts = presign(world, running.uuid, 3 * 5 * 1024 * 1024)

        # Then every URL, and the lifetime the panel states, is at most 15 minutes
        assert download.status_code == 200, download.json_body
        assert download.json_body["expires_in"] <= FIFTEEN_MINUTES
        assert lifetime(download.json_body["url"]) <= FIFTEEN_MINUTES
        assert len(parts) == 3
        assert [lifetime(url) for url in parts] == [FIFTEEN_MINUTES] * 3


def test_part_urls_of_a_large_backup_outlive_15_minutes_only_after_the_first_and_never_an_hour(
    world: BackupWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 5 GiB parts (the default) and a 40 GiB backup: eight parts uploaded one after another
    with use_test_ports(world.wings, part_size=5 * GIB):
        running = backup(world, bk.PENDING)

        lifetimes = [lifetime(url) for url in presign(world, running.uuid, 40 * GIB)]

        # Then the first part gets 15 minutes, later ones until their turn, none over an hour
        assert len(lifetimes) == 8
        assert lifetimes[0] == FIFTEEN_MINUTES
        assert lifetimes == sorted(lifetimes) and max(lifetimes) <= bk.PART_URL_MAX_SECONDS
