"""The remote API's backup routes (wings-contract.md §5.9) on moto: presign, completion
(idempotent), abort on failure, restore result; status and conflict rules, Wings' error shape."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from mamba import bootstrap
from mamba.domain import backups as bk
from tests.backup_support import MIB, PART, BackupWorld, build_world, open_uploads, report_completion, use_test_ports


@pytest.fixture
def world(client: Any) -> Iterator[BackupWorld]:
    w = build_world(client.http)
    with use_test_ports(w.wings):
        yield w


def new_backup(world: BackupWorld, status: str = bk.PENDING) -> bk.Backup:
    backup = bk.new_backup(str(uuid.uuid4()), world.server.uuid, world.tenant_id, world.node.node.id, "b", (), "t0")
    repo = bootstrap.backup_repository()
    repo.add_running(backup)
    repo.release_lock(world.server.uuid, backup.uuid)
    if status != bk.PENDING:
        backup = bk.Backup(**{**backup.__dict__, "status": status, "completed_at": "t1", "size_bytes": 3})
        repo.save(backup)
    return backup


def presign(world: BackupWorld, backup_uuid: str, query: str, header: dict[str, str] | None = None) -> Any:
    return world.http.get(f"/api/remote/backups/{backup_uuid}{query}", headers=header or world.node.header)


def wings_error(response: Any) -> dict[str, Any]:
    body = response.json_body
    assert set(body) == {"errors"}
    first: dict[str, Any] = body["errors"][0]
    assert first["status"] == str(response.status_code)
    return first


def test_presign_signs_one_upload_part_url_per_part_size(world: BackupWorld) -> None:
    backup = new_backup(world)

    response = presign(world, backup.uuid, f"?size={2 * PART + 1}")

    assert response.status_code == 200
    body = response.json_body
    assert body["part_size"] == PART
    assert len(body["parts"]) == 3
    queries = [parse_qs(urlparse(url).query) for url in body["parts"]]
    assert [q["partNumber"] for q in queries] == [["1"], ["2"], ["3"]]
    assert urlparse(body["parts"][0]).path.endswith(f"/{world.server.uuid}/{backup.uuid}.tar.gz")
    assert int(queries[0]["X-Amz-Expires"][0]) == 15 * 60  # no signed URL outlives 15 minutes (docs/security.md)
    stored = bootstrap.backup_repository().get(backup.uuid)
    assert stored.status == "uploading" and stored.upload_id == queries[0]["uploadId"][0]


def test_presign_retried_reuses_the_same_upload(world: BackupWorld) -> None:
    backup = new_backup(world)

    first = presign(world, backup.uuid, "?size=10").json_body["parts"][0]
    second = presign(world, backup.uuid, "?size=10").json_body["parts"][0]

    assert parse_qs(urlparse(first).query)["uploadId"] == parse_qs(urlparse(second).query)["uploadId"]
    assert len(open_uploads(bootstrap.settings().backup_bucket)) == 1


@pytest.mark.parametrize("query", ["", "?size=", "?size=abc", "?size=-5"])
def test_presign_without_a_usable_size_is_400(world: BackupWorld, query: str) -> None:
    response = presign(world, new_backup(world).uuid, query)

    assert response.status_code == 400
    assert wings_error(response)["code"] == "BadRequestHttpException"


@pytest.mark.parametrize("query", ["", "?size="])
def test_presign_without_a_size_is_400_before_the_backup_is_looked_up_when_the_uuid_is_unknown(
    world: BackupWorld, query: str
) -> None:
    # Given a uuid that names no backup (and another node's backup)
    unknown, foreign = str(uuid.uuid4()), new_backup(world).uuid

    # When Wings asks for part URLs without a size
    missing = presign(world, unknown, query)
    other = presign(world, foreign, query, world.other_node.header)

    # Then the size is refused first (400), as Pterodactyl's panel does, not 404 or 403
    assert (missing.status_code, other.status_code) == (400, 400)
    assert wings_error(missing)["code"] == "BadRequestHttpException"


def test_presign_of_a_completed_backup_is_409(world: BackupWorld) -> None:
    response = presign(world, new_backup(world, bk.COMPLETED).uuid, "?size=10")

    assert response.status_code == 409
    assert wings_error(response)["code"] == "ConflictHttpException"


def test_backup_of_another_node_is_403_and_an_unknown_one_404(world: BackupWorld) -> None:
    backup = new_backup(world)

    other = presign(world, backup.uuid, "?size=10", world.other_node.header)
    unknown = presign(world, str(uuid.uuid4()), "?size=10")
    completion = report_completion(world, backup.uuid, {"successful": False})

    assert other.status_code == 403
    assert unknown.status_code == 404
    assert completion.status_code == 204  # the right node
    foreign = world.http.post(f"/api/remote/backups/{backup.uuid}", headers=world.other_node.header,
                              body=json.dumps({"successful": False}))  # fmt: skip
    assert foreign.status_code == 403


def test_no_node_credential_is_401(world: BackupWorld) -> None:
    response = world.http.get(f"/api/remote/backups/{uuid.uuid4()}?size=1")

    assert response.status_code == 401


def test_failed_backup_report_aborts_the_upload_and_is_idempotent(world: BackupWorld) -> None:
    backup = new_backup(world)
    presign(world, backup.uuid, "?size=10")
    failure = {"checksum": "", "checksum_type": "", "size": 0, "successful": False, "parts": None}

    responses = [report_completion(world, backup.uuid, failure) for _ in range(2)]

    assert [r.status_code for r in responses] == [204, 204]
    assert open_uploads(bootstrap.settings().backup_bucket) == []
    assert bootstrap.backup_repository().get(backup.uuid).status == "failed"


def test_completion_without_parts_lists_them_from_s3(world: BackupWorld) -> None:
    import hashlib

    import requests

    backup = new_backup(world)
    data = b"x" * MIB
    url = presign(world, backup.uuid, f"?size={len(data)}").json_body["parts"][0]
    assert requests.put(url, data=data, headers={"Content-Type": "application/x-gzip"}).status_code == 200

    body = {"checksum": hashlib.sha1(data).hexdigest(), "checksum_type": "sha1", "size": len(data),
            "successful": True, "parts": None}  # fmt: skip
    response = report_completion(world, backup.uuid, body)

    assert response.status_code == 204
    head = boto3.client("s3", region_name="us-east-1").head_object(
        Bucket=bootstrap.settings().backup_bucket, Key=backup.s3_key
    )
    assert head["ContentLength"] == len(data)
    assert head["ContentType"] == "application/x-gzip"
    stored = bootstrap.backup_repository().get(backup.uuid)
    assert (stored.status, stored.size_bytes) == ("completed", len(data))


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"successful": "yes"},
        {"successful": True, "checksum": "nothex", "size": 1},
        {"successful": True, "checksum": "a" * 40, "size": -1},
    ],
    ids=["null", "list", "not-bool", "bad-checksum", "bad-size"],
)
def test_malformed_completion_is_400(world: BackupWorld, body: Any) -> None:
    response = report_completion(world, new_backup(world).uuid, body)

    assert response.status_code == 400


def test_restore_report_is_idempotent_when_no_restore_runs(world: BackupWorld) -> None:
    backup = new_backup(world, bk.COMPLETED)

    response = world.http.post(f"/api/remote/backups/{backup.uuid}/restore", headers=world.node.header,
                               body=json.dumps({"successful": True}))  # fmt: skip
    bad = world.http.post(f"/api/remote/backups/{backup.uuid}/restore", headers=world.node.header, body="null")

    assert response.status_code == 204
    assert bad.status_code == 400
    assert bootstrap.backup_repository().get(backup.uuid).status == "completed"
