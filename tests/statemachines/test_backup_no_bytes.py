"""The backup bytes never pass through a Lambda handler: while a backup, a restore, a
download link and a deletion run (API, remote API and workflow tasks, all in this process),
every S3 call the panel makes is recorded; none carries an object body.

The static half is tests/unit/test_backup_no_bytes_static.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mamba import bootstrap
from tests.backup_support import MIB, BackupWorld, archive_bytes, build_world, upload_like_wings, use_test_ports
from tests.statemachines.conftest import Deployed

pytestmark = pytest.mark.slow

METADATA_ONLY = frozenset(
    {
        "CreateMultipartUpload",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "ListMultipartUploads",
        "ListParts",
        "HeadObject",
        "DeleteObject",
        "ListObjectsV2",
    }
)


def test_no_handler_reads_or_writes_an_object_body(
    client: Any, deployed_workflows: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    world: BackupWorld = build_world(client.http)
    with use_test_ports(world.wings):
        calls: list[tuple[str, int]] = []

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            body = params.get("body")
            calls.append((model.name, len(body) if isinstance(body, bytes | bytearray) else 0))

        for s3 in (bootstrap.backup_store()._s3, bootstrap.boto_client("s3")):
            s3.meta.events.register("before-call.s3", record)
        data = archive_bytes(6 * MIB)

        # a backup, a download link, a restore and a deletion, end to end
        started = client.http.post(world.base, headers=world.owner_headers, body="{}").json_body
        backup_id = started["backup"]["id"]
        world.wings.wait_backup()
        upload_like_wings(world, backup_id, data)
        assert (
            deployed_workflows.wait(deployed_workflows.execution_arn("backup_server", started["operation"]["id"]))[
                "status"
            ]
            == "SUCCEEDED"
        )
        link = client.http.get(f"{world.base}/{backup_id}/download", headers=world.owner_headers)
        assert link.status_code == 200 and len(link.body) < 4096
        restore = client.http.post(
            f"{world.base}/{backup_id}/restore", headers=world.owner_headers, body="{}"
        ).json_body
        world.wings.wait_restore()
        client.http.post(f"/api/remote/backups/{backup_id}/restore", headers=world.node.header,
                         body=json.dumps({"successful": True}))  # fmt: skip
        deployed_workflows.wait(deployed_workflows.execution_arn("restore_backup", restore["operation"]["id"]))
        deleted = client.http.delete(f"{world.base}/{backup_id}", headers=world.owner_headers).json_body
        deployed_workflows.wait(deployed_workflows.execution_arn("delete_backup", deleted["operation"]["id"]))

        # Then the panel's S3 calls were metadata only, and none sent a body bigger than the XML
        # of a CompleteMultipartUpload
        names = {name for name, _ in calls}
        assert {"CreateMultipartUpload", "CompleteMultipartUpload", "HeadObject", "DeleteObject"} <= names
        assert names <= METADATA_ONLY, names - METADATA_ONLY
        assert max(size for _, size in calls) < 4096
