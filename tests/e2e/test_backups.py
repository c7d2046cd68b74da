"""Issue 6 end to end on the running local stack: a 50 MiB server on the seeded node's Wings
simulator is backed up to S3 (moto) by the real workflow, restored, downloaded, locked and deleted.

The server record is written straight into the stack's DynamoDB (the server API is another
issue's) and created on the simulator through its daemon API, as provisioning does.
"""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import yaml

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

MIB = 1024 * 1024
TENANT = "tn_demo"  # the seeded Demo tenant, owned by the seeded admin


def _s3(stack: Stack) -> Any:
    return boto3.client("s3", endpoint_url=stack.aws, region_name="us-east-1", aws_access_key_id="local",
                        aws_secret_access_key="local")  # fmt: skip


def _owner(stack: Stack, http: requests.Session) -> dict[str, str]:
    lines = (stack.local_dir / "admin.txt").read_text().splitlines()
    stored = dict(line.split("=", 1) for line in lines if "=" in line)
    login = http.post(f"{stack.api}/v1/auth/login", json={"email": stored["email"], "password": stored["password"]},
                      timeout=30)  # fmt: skip
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture
def stack_servers(stack: Stack) -> Iterator[Any]:
    """The server repository pointed at the stack's moto for one test, then put back."""
    from mamba import bootstrap
    from mamba.adapters.dynamo import items
    from mamba.adapters.dynamo.servers import DynamoServerRepository

    saved = (items.MainItem.Meta.table_name, items.MainItem.Meta.region, items.MainItem.Meta.host)
    items.bind("mamba-main", "us-east-1", stack.aws)
    try:
        yield DynamoServerRepository()
    finally:
        items.bind(*saved)
        bootstrap.reset()


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _server_on_the_node(stack: Stack, servers: Any) -> tuple[str, Path]:
    from dataclasses import replace

    from mamba.domain.servers import INSTALLING, OFFLINE, Limits, Server

    config = yaml.safe_load((stack.local_dir / "wings" / "config.yml").read_text())
    now = "2026-12-01T00:00:00Z"
    server = Server(uuid=str(uuid.uuid4()), name="e2e-backup", tenant_id=TENANT, node_id="node_local",
                    blueprint_id="bp_e2e_none", allocation=("127.0.0.1", 25574), docker_image="local",
                    startup="sleep 3600", limits=Limits(memory_mb=512, disk_mb=4096), status=INSTALLING,
                    created_at=now, updated_at=now)  # fmt: skip
    servers.add(server)
    (url,) = stack.info["wings"]
    created = requests.post(f"{url}/api/servers", json={"uuid": server.uuid, "start_on_completion": False},
                            headers={"Authorization": f"Bearer {config['token']}"}, timeout=30)  # fmt: skip
    assert created.status_code == 202, created.text
    _wait(lambda: servers.get(server.uuid).status != INSTALLING, 60, "the install callback")
    servers.save(replace(servers.get(server.uuid), status=OFFLINE))
    return server.uuid, Path(config["system"]["data"]) / server.uuid


def _fill(directory: Path) -> dict[str, bytes]:
    rng = random.Random(6)
    files = {f"world/region-{i}.bin": rng.randbytes(5 * MIB) for i in range(10)}  # 50 MiB, incompressible
    files["server.properties"] = b"motd=original\n"
    files["cache/big.tmp"] = rng.randbytes(MIB)
    for rel, data in files.items():
        (directory / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / rel).write_bytes(data)
    return files


def _operation(stack: Stack, http: requests.Session, headers: dict[str, str], op_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        op = http.get(f"{stack.api}/v1/tenants/{TENANT}/operations/{op_id}", headers=headers, timeout=30).json()
        return op if op["status"] in ("succeeded", "failed") else None

    result: dict[str, Any] = _wait(done, 240, f"operation {op_id}")
    return result


def _transitions(stack: Stack, workflow: str, op_id: str) -> int:
    """The states the operation's execution entered (each one a billed state transition)."""
    sfn = boto3.client("stepfunctions", endpoint_url=stack.aws, region_name="us-east-1", aws_access_key_id="local",
                       aws_secret_access_key="local")  # fmt: skip
    machine = next(m for m in sfn.list_state_machines()["stateMachines"] if m["name"].endswith(workflow))
    execution = machine["stateMachineArn"].replace(":stateMachine:", ":execution:") + f":{op_id}"
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    return sum(1 for event in events if event["type"].endswith("StateEntered"))


def test_backup_restore_download_lock_and_delete_on_the_local_stack(
    stack: Stack, http: requests.Session, stack_servers: Any
) -> None:
    headers = _owner(stack, http)
    server_uuid, directory = _server_on_the_node(stack, stack_servers)
    files = _fill(directory)
    base = f"{stack.api}/v1/tenants/{TENANT}/servers/{server_uuid}/backups"
    s3, bucket = _s3(stack), "mamba-backups"

    # Back up, ignoring cache/
    started = http.post(base, json={"name": "e2e", "ignored": ["cache/"]}, headers=headers, timeout=30)
    assert started.status_code == 202, started.text
    backup_id = started.json()["backup"]["id"]
    op = _operation(stack, http, headers, started.json()["operation"]["id"])
    assert op["status"] == "succeeded", op
    # The workflow waited for the simulator's completion callback with a task token: its
    # state transitions do not grow with the 50 MiB upload's duration (issue 13).
    assert _transitions(stack, "backup_server", op["id"]) <= 10
    backup = http.get(f"{base}/{backup_id}", headers=headers, timeout=30).json()
    key = f"{server_uuid}/{backup_id}.tar.gz"
    stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert backup["status"] == "completed"
    assert backup["size_bytes"] == len(stored) > 50 * MIB
    assert backup["checksum"] == "sha1:" + hashlib.sha1(stored).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(stored)) as tar:
        names = tar.getnames()
    assert "server.properties" in names and not any(n.startswith("cache") for n in names)

    # Change the files, restore, and see the original content
    (directory / "server.properties").write_bytes(b"motd=changed\n")
    (directory / "world/region-0.bin").write_bytes(b"corrupted")
    restore = http.post(f"{base}/{backup_id}/restore", json={"truncate": True}, headers=headers, timeout=30)
    assert restore.status_code == 202, restore.text
    assert _operation(stack, http, headers, restore.json()["operation"]["id"])["status"] == "succeeded"
    assert (directory / "server.properties").read_bytes() == files["server.properties"]
    assert (directory / "world/region-0.bin").read_bytes() == files["world/region-0.bin"]
    assert stack_servers.get(server_uuid).status == "offline"

    # Download through the presigned URL: the bytes are the object's
    link = http.get(f"{base}/{backup_id}/download", headers=headers, timeout=30)
    assert link.status_code == 200, link.text
    assert requests.get(link.json()["url"], timeout=120).content == stored

    # A locked backup refuses deletion; unlocked, it is deleted with its object
    assert http.post(f"{base}/{backup_id}/lock", headers=headers, timeout=30).json()["locked"] is True
    refused = http.delete(f"{base}/{backup_id}", headers=headers, timeout=30)
    assert refused.status_code == 409
    http.post(f"{base}/{backup_id}/unlock", headers=headers, timeout=30)
    deleted = http.delete(f"{base}/{backup_id}", headers=headers, timeout=30)
    assert deleted.status_code == 202, deleted.text
    assert _operation(stack, http, headers, deleted.json()["operation"]["id"])["status"] == "succeeded"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{server_uuid}/")
    assert listed.get("KeyCount", 0) == 0
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
