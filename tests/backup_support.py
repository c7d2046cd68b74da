"""Helpers for the backup tests: a tenant with a server on a node, created through the
repositories on moto, and ``WingsS3Double``, a test double of a node's Wings client that
records the panel's backup and restore requests.

``upload_like_wings`` plays Wings' side of the S3 handshake (wings-contract.md §5.9) through
the panel's real remote API routes: presign → PUT each part to its presigned URL with the
headers Wings sends → completion. The simulator does the same over real HTTP
(tests/integration/test_wings_sim_backups.py); this helper lets the workflow tests choose
exactly when and how Wings fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import requests

from mamba.domain.errors import WingsUnavailableError
from mamba.domain.nodes import Node, new_token, new_token_id
from mamba.domain.servers import OFFLINE, Limits, Server
from tests.contract.remote.conftest import NodeCreds, add_membership

NOW = "2026-12-01T10:00:00Z"
MIB = 1024 * 1024
PART = 5 * MIB  # S3's smallest part (but the last)


@dataclass
class WingsS3Double:
    """Records what the panel asks a node; ``down`` makes every call WingsUnavailableError."""

    down: bool = False
    backups: list[dict[str, Any]] = field(default_factory=list)
    restores: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create_backup(self, server_uuid: str, backup_uuid: str, *, adapter: str = "wings", ignore: str = "") -> None:
        if self.down:
            raise WingsUnavailableError("The node did not answer: ConnectionError", {"node_id": "test"})
        with self._lock:
            self.backups.append({"server": server_uuid, "uuid": backup_uuid, "adapter": adapter, "ignore": ignore})

    def restore_backup(
        self,
        server_uuid: str,
        backup_uuid: str,
        *,
        adapter: str = "wings",
        truncate_directory: bool = False,
        download_url: str | None = None,
    ) -> None:
        if self.down:
            raise WingsUnavailableError("The node did not answer: ConnectionError", {"node_id": "test"})
        with self._lock:
            self.restores.append(
                {
                    "server": server_uuid,
                    "uuid": backup_uuid,
                    "adapter": adapter,
                    "truncate": truncate_directory,
                    "url": download_url,
                }
            )

    def wait_backup(self, timeout: float = 20.0) -> dict[str, Any]:
        return _wait(lambda: self.backups[-1] if self.backups else None, timeout, "a backup request")

    def wait_restore(self, timeout: float = 20.0) -> dict[str, Any]:
        return _wait(lambda: self.restores[-1] if self.restores else None, timeout, "a restore request")


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class BackupWorld:
    http: Any
    tenant_id: str
    owner_headers: dict[str, str]
    node: NodeCreds
    other_node: NodeCreds
    server: Server
    wings: WingsS3Double

    @property
    def base(self) -> str:
        return f"/v1/tenants/{self.tenant_id}/servers/{self.server.uuid}/backups"


def make_node(name: str) -> tuple[Node, str]:
    node = Node(
        id=f"nd_{uuid.uuid4().hex[:10]}",
        uuid=str(uuid.uuid4()),
        name=name,
        fqdn=f"{name}.example.org",
        token_id=new_token_id(),
        created_at=NOW,
        updated_at=NOW,
        location="fra",
    )
    return node, new_token()


def make_server(node: Node, tenant_id: str, status: str = OFFLINE) -> Server:
    return Server(
        uuid=str(uuid.uuid4()),
        name="backup-me",
        tenant_id=tenant_id,
        node_id=node.id,
        blueprint_id="bp_none",
        allocation=("0.0.0.0", 25565),
        docker_image="ghcr.io/pterodactyl/yolks:python_3.12",
        startup="python3 game.py",
        limits=Limits(memory_mb=512, disk_mb=1024),
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )


def add_member(
    tenant_id: str, user_id: str, role: str, permissions: list[str] | None = None, server_id: str | None = None
) -> dict[str, str]:
    """A user with a membership in the tenant; returns their Authorization header."""
    from mamba import bootstrap
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.auth.tokens import issue_access
    from mamba.domain.accounts import User

    DynamoUserRepository().add(User(id=user_id, email=f"{user_id}@example.org", created_at=NOW, email_verified=True))
    add_membership(tenant_id, user_id, role, permissions, server_id)
    return {"Authorization": f"Bearer {issue_access(user_id, bootstrap.settings().jwt_secret)}"}


def build_world(http: Any) -> BackupWorld:
    from mamba import bootstrap
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.auth.tokens import issue_access
    from mamba.domain.accounts import User
    from mamba.domain.tenancy import Membership, Tenant

    nodes = bootstrap.node_repository()
    node, token = make_node("alpha")
    other, other_token = make_node("bravo")
    nodes.add(node, token)
    nodes.add(other, other_token)
    tenant_id = f"tn_{uuid.uuid4().hex[:8]}"
    owner = f"usr_owner_{uuid.uuid4().hex[:6]}"
    DynamoUserRepository().add(User(id=owner, email=f"{owner}@example.org", created_at=NOW, email_verified=True))
    DynamoTenantRepository().add_with_owner(
        Tenant(id=tenant_id, name="Backups", created_at=NOW),
        Membership(tenant_id=tenant_id, user_id=owner, role="owner", created_at=NOW),
    )
    server = make_server(node, tenant_id)
    bootstrap.server_repository().add(server)
    headers = {"Authorization": f"Bearer {issue_access(owner, bootstrap.settings().jwt_secret)}"}
    return BackupWorld(http, tenant_id, headers, NodeCreds(node, token), NodeCreds(other, other_token), server,
                       WingsS3Double())  # fmt: skip


@contextlib.contextmanager
def use_test_ports(wings: WingsS3Double, **policy: int) -> Iterator[None]:
    """While the block runs, ``bootstrap.backup_ports()`` has the double as every node's Wings
    and a fast policy (``bootstrap.override``)."""
    from mamba import bootstrap
    from mamba.domain.backups import BackupPolicy

    chosen = BackupPolicy(
        part_size=policy.get("part_size", PART),
        timeout_seconds=policy.get("timeout_seconds", 60),
    )
    ports = replace(bootstrap.backup_ports(), agent_for=lambda node: wings, policy=chosen)
    with bootstrap.override(backup_ports=ports):
        yield


def set_plan(tenant_id: str, **quotas: int) -> None:
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import TenantItem

    TenantItem(*keys.tenant(tenant_id)).update(actions=[TenantItem.plan_quotas.set(json.dumps(quotas))])


def archive_bytes(size: int, seed: int = 1) -> bytes:
    """Incompressible bytes standing in for a tar.gz (their content does not matter to S3)."""
    out = bytearray()
    block = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out.extend(block * 64)
    return bytes(out[:size])


@dataclass
class Upload:
    presign: Any
    parts: list[dict[str, Any]]
    completion: Any | None
    checksum: str


def upload_like_wings(
    world: BackupWorld, backup_uuid: str, data: bytes, *, fail_after_parts: int | None = None, report: bool = True
) -> Upload:
    """Wings' S3 adapter: presign, PUT each part (``Content-Type: application/x-gzip``, an
    explicit ``Content-Length``, the ETag read back), then the completion POST. With
    ``fail_after_parts`` it stops after that many parts and reports a failed backup
    (when ``report``; otherwise it goes silent, like a node that died)."""
    presign = world.http.get(f"/api/remote/backups/{backup_uuid}?size={len(data)}", headers=world.node.header)
    assert presign.status_code == 200, presign.json_body
    body = presign.json_body
    part_size = int(body["part_size"])
    parts: list[dict[str, Any]] = []
    for index, url in enumerate(body["parts"], start=1):
        if fail_after_parts is not None and index > fail_after_parts:
            break
        chunk = data[(index - 1) * part_size : index * part_size]
        put = requests.put(
            url, data=chunk, headers={"Content-Type": "application/x-gzip", "Content-Length": str(len(chunk))}
        )
        assert put.status_code == 200, put.text
        parts.append({"etag": put.headers["ETag"], "part_number": index})
    checksum = hashlib.sha1(data).hexdigest()
    completion = None
    if report:
        if fail_after_parts is not None:
            sent: dict[str, Any] = {"checksum": "", "checksum_type": "", "size": 0, "successful": False, "parts": None}
        else:
            sent = {"checksum": checksum, "checksum_type": "sha1", "size": len(data), "successful": True,
                    "parts": parts}  # fmt: skip
        completion = report_completion(world, backup_uuid, sent)
    return Upload(presign, parts, completion, checksum)


def report_completion(world: BackupWorld, backup_uuid: str, body: Any) -> Any:
    return world.http.post(f"/api/remote/backups/{backup_uuid}", headers=world.node.header, body=json.dumps(body))


def open_uploads(bucket: str) -> list[dict[str, Any]]:
    import boto3

    uploads: list[dict[str, Any]] = (
        boto3.client("s3", region_name="us-east-1").list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    )
    return uploads


def object_keys(bucket: str) -> list[str]:
    import boto3

    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=bucket)
    return [o["Key"] for o in listed.get("Contents", [])]
