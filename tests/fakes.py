"""Ten-line fakes of the ports. tests/contract runs the same tests over a fake and its real
adapter, so the fakes keep the adapters' behaviour (errors included)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mamba.domain.errors import ConflictError, DependencyUnavailableError, NotFoundError
from mamba.domain.operations import Operation


class FakeOperationRepository:
    def __init__(self) -> None:
        self.ops: dict[str, Operation] = {}

    def add(self, op: Operation) -> None:
        if op.id in self.ops:
            raise ConflictError("The operation already exists.", {"operation_id": op.id})
        self.ops[op.id] = op

    def get(self, tenant_id: str, op_id: str) -> Operation:
        op = self.ops.get(op_id)
        if op is None or op.tenant_id != tenant_id:  # another tenant's operation does not exist
            raise NotFoundError("Operation not found.", {"operation_id": op_id})
        return op

    def find(self, op_id: str) -> Operation:
        if op_id not in self.ops:
            raise NotFoundError("Operation not found.", {"operation_id": op_id})
        return self.ops[op_id]

    def save(self, op: Operation) -> None:
        self.find(op.id)
        self.ops[op.id] = op


class FakeWorkflows:
    """``SfnWorkflows`` without Step Functions: records each start. As on AWS, the execution
    is named after the operation, so a second start of one operation runs nothing new and
    answers the same ARN; an unknown workflow (no state machine) or ``fail`` is refused."""

    ARN = "arn:aws:states:us-east-1:123456789012"

    def __init__(self, fail: bool = False, prefix: str = "mamba-") -> None:
        from infra.workflows import workflow_names

        self.fail = fail
        self.prefix = prefix
        self.known = set(workflow_names())
        self.started: list[tuple[str, str, dict[str, Any]]] = []

    def start(self, workflow: str, operation_id: str, payload: dict[str, Any]) -> str:
        if self.fail or workflow not in self.known:
            raise DependencyUnavailableError(
                "The workflow could not be started; try again shortly.", {"workflow": workflow}
            )
        arn = f"{self.ARN}:execution:{self.prefix}{workflow}:{operation_id[:80]}"
        if not any(w == workflow and o[:80] == operation_id[:80] for w, o, _ in self.started):
            self.started.append((workflow, operation_id, payload))
        return arn


class FakeHealthProbes:
    def __init__(self, **checks: str) -> None:
        self.checks = checks

    def check(self) -> dict[str, str]:
        return dict(self.checks)


class FakeTwoFactorStore:
    """mamba.services.two_factor.TwoFactorStore in memory; conditions as in DynamoTwoFactorStore."""

    def __init__(self) -> None:
        from mamba.domain.two_factor import TwoFactorState

        self.states: dict[str, TwoFactorState] = {}
        self.hashes: dict[str, set[str]] = {}

    def add_user(self, user_id: str, email: str, password_hash: str | None = None) -> None:
        from mamba.domain.two_factor import TwoFactorState

        self.states[user_id] = TwoFactorState(user_id=user_id, email=email, password_hash=password_hash)

    def load(self, user_id: str):
        from dataclasses import replace

        if user_id not in self.states:
            raise NotFoundError("User not found.", {"user_id": user_id})
        return replace(self.states[user_id], recovery_codes_left=len(self.hashes.get(user_id, ())))

    def _set(self, user_id: str, **changes: Any) -> None:
        from dataclasses import replace

        self.states[user_id] = replace(self.states[user_id], **changes)

    def start_enrolment(self, user_id: str, pending_secret: str) -> None:
        if self.load(user_id).enabled:
            raise ConflictError("Two-factor authentication is already enabled.", {"reason": "already_enabled"})
        self._set(user_id, pending_secret=pending_secret)

    def confirm(self, user_id: str, pending_secret: str, counter: int, recovery_hashes: list[str], at: str) -> bool:
        state = self.states.get(user_id)
        if state is None or state.enabled or state.pending_secret != pending_secret:
            return False
        self._set(user_id, enabled=True, secret=pending_secret, pending_secret=None, last_counter=counter)
        self.hashes[user_id] = set(recovery_hashes)
        return True

    def advance_counter(self, user_id: str, counter: int) -> bool:
        state = self.states.get(user_id)
        if state is None or not state.enabled or (state.last_counter is not None and counter <= state.last_counter):
            return False
        self._set(user_id, last_counter=counter)
        return True

    def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        state = self.states.get(user_id)
        if state is None or not state.enabled or code_hash not in self.hashes.get(user_id, set()):
            return False
        self.hashes[user_id].discard(code_hash)
        return True

    def disable(self, user_id: str) -> None:
        self.load(user_id)
        self._set(user_id, enabled=False, secret=None, pending_secret=None, last_counter=None)
        self.hashes.pop(user_id, None)


def server_entity(
    uuid: str,
    node_id: str = "n1",
    status: str = "offline",
    *,
    tenant_id: str = "tn_a",
    ip: str = "127.0.0.1",
    created_at: str = "2026-12-01T10:00:00Z",
) -> Any:
    """A plain ``mamba.domain.servers.Server`` for service unit tests."""
    from mamba.domain.servers import Limits, Server

    return Server(
        uuid=uuid,
        name=uuid[:8],
        tenant_id=tenant_id,
        node_id=node_id,
        blueprint_id="bp",
        allocation=(ip, 25565),
        docker_image="img",
        startup="run",
        limits=Limits(memory_mb=512, disk_mb=1024),
        status=status,
        created_at=created_at,
        updated_at=created_at,
    )


# --- paging ----------------------------------------------------------------------------------


def _page(items: list[Any], page: Any, scope: str) -> Any:
    """One page of ``items`` (already in the adapter's order). The cursor is opaque to callers,
    as the adapters' signed cursors are; one minted for another listing is refused the same way."""
    from mamba.domain.errors import ValidationError
    from mamba.domain.pages import Page

    start = 0
    if page.cursor:
        prefix, _, offset = page.cursor.rpartition(":")
        if prefix != f"fake:{scope}" or not offset.isdigit():
            raise ValidationError("The cursor is not valid.", {"fields": [{"field": "cursor", "type": "cursor"}]})
        start = int(offset)
    chunk = items[start : start + page.limit]
    more = start + page.limit < len(items)
    return Page(items=chunk, next_cursor=f"fake:{scope}:{start + page.limit}" if more else None)


# --- servers, nodes, allocations, placement ---------------------------------------------------


class FakeServerRepository:
    """``DynamoServerRepository`` in memory: servers by uuid, and each server's activity log."""

    def __init__(self) -> None:
        self.servers: dict[str, Any] = {}
        self.activity_log: dict[str, dict[tuple[str, str], Any]] = {}

    def add(self, server: Any) -> None:
        if server.uuid in self.servers:
            raise ConflictError("A server with this uuid exists.", {"uuid": server.uuid})
        self.servers[server.uuid] = server

    def get(self, server_uuid: str) -> Any:
        if server_uuid not in self.servers:
            raise NotFoundError("Server not found.", {"uuid": server_uuid})
        return self.servers[server_uuid]

    def save(self, server: Any) -> None:
        self.get(server.uuid)
        self.servers[server.uuid] = server

    def delete(self, server_uuid: str) -> None:
        self.servers.pop(server_uuid, None)

    def on_node(self, node_id: str) -> list[Any]:
        return sorted((s for s in self.servers.values() if s.node_id == node_id), key=lambda s: s.uuid)

    def page_on_node(self, node_id: str, page: int, per_page: int) -> tuple[list[Any], int]:
        servers = self.on_node(node_id)
        start = (page - 1) * per_page
        return servers[start : start + per_page], len(servers)

    def of_tenant(self, tenant_id: str) -> list[Any]:
        mine = (s for s in self.servers.values() if s.tenant_id == tenant_id)
        return sorted(mine, key=lambda s: (s.created_at, s.uuid))

    def page_of_tenant(self, tenant_id: str, page: Any, status: str | None = None) -> Any:
        mine = [s for s in self.of_tenant(tenant_id) if status is None or s.status == status]
        return _page(mine, page, f"servers:{tenant_id}:{status or ''}")

    def add_activity(self, entries: list[Any]) -> int:
        import json
        import uuid as uuidlib
        from dataclasses import replace

        for entry in entries:
            # The same content id as the adapter's, so a re-sent batch overwrites itself.
            raw = json.dumps([entry.event, entry.user_id, entry.ip, entry.metadata], sort_keys=True)
            entry_id = entry.entry_id or str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, raw))
            log = self.activity_log.setdefault(entry.server_uuid, {})
            log[(entry.timestamp, entry_id)] = replace(entry, entry_id=entry_id)
        return len(entries)

    def activity(self, server_uuid: str, limit: int = 100) -> list[Any]:
        log = self.activity_log.get(server_uuid, {})
        return [log[key] for key in sorted(log, reverse=True)][:limit]


class FakeNodeRepository:
    """``DynamoNodeRepository`` in memory; tokens are kept in clear (the adapter encrypts them)."""

    def __init__(self) -> None:
        self.nodes: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        self.allocations: FakeAllocationRepository | None = None  # set by FakeAllocationRepository

    def add(self, node: Any, token: str) -> None:
        if node.id in self.nodes or any(n.token_id == node.token_id for n in self.nodes.values()):
            raise ConflictError("The node or its token id already exists.", {"node_id": node.id})
        self.nodes[node.id] = node
        self.tokens[node.id] = token

    def get(self, node_id: str) -> Any:
        if node_id not in self.nodes:
            raise NotFoundError("Node not found.", {"node_id": node_id})
        return self.nodes[node_id]

    def list(self, limit: int = 50, cursor: str | None = None) -> tuple[list[Any], str | None]:
        from mamba.domain.pages import PageRequest

        ordered = sorted(self.nodes.values(), key=lambda n: (n.created_at, n.id))
        found = _page(ordered, PageRequest(limit, cursor), "admin.nodes")
        return found.items, found.next_cursor

    def update(self, node: Any) -> None:
        from dataclasses import replace

        current = self.get(node.id)
        # The token id and creation time are not editable here (see rotate_token).
        self.nodes[node.id] = replace(node, token_id=current.token_id, created_at=current.created_at)

    def delete(self, node_id: str) -> None:
        self.get(node_id)
        mine = [a for a in (self.allocations.rows.values() if self.allocations else ()) if a.node_id == node_id]
        held = [a for a in mine if a.server_id]
        if held:
            raise ConflictError(
                "The node has allocations assigned to servers.",
                {"node_id": node_id, "assigned": [f"{a.ip}:{a.port}" for a in held][:20]},
            )
        del self.nodes[node_id]
        self.tokens.pop(node_id, None)
        for allocation in mine:
            assert self.allocations is not None
            del self.allocations.rows[(allocation.node_id, allocation.ip, allocation.port)]

    def find_by_token_id(self, token_id: str) -> Any:
        if not token_id or "." in token_id:
            return None
        return next((n for n in self.nodes.values() if n.token_id == token_id), None)

    def token(self, node: Any) -> str:
        self.get(node.id)
        return self.tokens[node.id]

    def rotate_token(self, node_id: str, token_id: str, token: str, now: str) -> Any:
        from dataclasses import replace

        current = self.get(node_id)
        if any(n.token_id == token_id for n in self.nodes.values()):
            raise ConflictError("The node's token changed meanwhile; try again.", {"node_id": node_id})
        self.nodes[node_id] = replace(current, token_id=token_id, updated_at=now)
        self.tokens[node_id] = token
        return self.nodes[node_id]


class FakeAllocationRepository:
    """``DynamoAllocationRepository`` in memory, by (node, ip, port)."""

    def __init__(self, nodes: FakeNodeRepository | None = None) -> None:
        self.rows: dict[tuple[str, str, int], Any] = {}
        if nodes is not None:
            nodes.allocations = self

    def add_many(self, allocations: list[Any]) -> Any:
        from mamba.domain.nodes import AllocationResult

        result = AllocationResult()
        for allocation in allocations:
            key = (allocation.node_id, allocation.ip, allocation.port)
            if key in self.rows:
                result.conflicts.append(f"{allocation.ip}:{allocation.port}")
            else:
                self.rows[key] = allocation
                result.created.append(allocation)
        return result

    def get(self, node_id: str, ip: str, port: int) -> Any:
        if (node_id, ip, port) not in self.rows:
            raise NotFoundError("Allocation not found.", {"allocation": f"{ip}:{port}"})
        return self.rows[(node_id, ip, port)]

    def _of_node(self, node_id: str) -> list[Any]:
        # The adapter's sort key is ip then the zero-padded port: string order of the ip.
        return sorted((a for a in self.rows.values() if a.node_id == node_id), key=lambda a: (a.ip, a.port))

    def list(self, node_id: str, limit: int = 50, cursor: str | None = None) -> tuple[list[Any], str | None]:
        from mamba.domain.pages import PageRequest

        found = _page(self._of_node(node_id), PageRequest(limit, cursor), f"allocations:{node_id}")
        return found.items, found.next_cursor

    def delete(self, node_id: str, ip: str, port: int) -> None:
        current = self.get(node_id, ip, port)
        if current.server_id:
            raise ConflictError(
                "The allocation is assigned to a server.",
                {"allocation": f"{ip}:{port}", "server_id": current.server_id},
            )
        del self.rows[(node_id, ip, port)]

    def assign(self, node_id: str, ip: str, port: int, server_id: str) -> None:
        from dataclasses import replace

        current = self.get(node_id, ip, port)
        if current.server_id:
            raise ConflictError("The allocation is already assigned.", {"allocation": f"{ip}:{port}"})
        self.rows[(node_id, ip, port)] = replace(current, server_id=server_id)

    def release(self, node_id: str, ip: str, port: int, server_id: str) -> None:
        from dataclasses import replace

        current = self.rows.get((node_id, ip, port))
        if current is not None and current.server_id == server_id:
            self.rows[(node_id, ip, port)] = replace(current, server_id=None)


@dataclass(frozen=True)
class FakeGuard:
    """What ``FakePlacementStore.guard`` read: the tenant's version before the quota check."""

    version: int = 0


class FakePlacementStore:
    """``DynamoPlacementStore`` over the fake node, allocation and server repositories: the
    reservation checks the guard version, then the allocation, then the uuid, and writes
    all three or nothing (as the adapter's transaction)."""

    def __init__(
        self,
        nodes: FakeNodeRepository | None = None,
        allocations: FakeAllocationRepository | None = None,
        servers: FakeServerRepository | None = None,
    ) -> None:
        self.nodes = nodes or FakeNodeRepository()
        self.allocations = allocations or FakeAllocationRepository(self.nodes)
        self.servers = servers or FakeServerRepository()
        self.versions: dict[str, int] = {}
        self.plans: dict[str, str] = {}  # tenant id -> plan_quotas JSON

    def node_loads(self) -> list[Any]:
        from mamba.domain.placement import NodeLoad

        loads = []
        for node in sorted(self.nodes.nodes.values(), key=lambda n: (n.created_at, n.id)):
            held = [s for s in self.servers.on_node(node.id) if s.status != "failed"]
            memory = sum(s.limits.memory_mb for s in held)
            loads.append(NodeLoad(node=node, memory_mb=memory, disk_mb=sum(s.limits.disk_mb for s in held)))
        return loads

    def free_allocations(self, node_id: str, limit: int = 25) -> list[Any]:
        return [a for a in self.allocations._of_node(node_id) if not a.server_id][:limit]

    def guard(self, tenant_id: str) -> FakeGuard:
        return FakeGuard(self.versions.get(tenant_id, 0))

    def guard_version(self, tenant_id: str) -> int:
        return self.guard(tenant_id).version

    def usage(self, tenant_id: str, guard: Any = None) -> Any:
        from mamba.domain.quotas import Usage

        mine = self.servers.of_tenant(tenant_id)
        held = [s for s in mine if s.status != "failed"]
        return Usage(
            servers=len(mine),
            memory_mb=sum(s.limits.memory_mb for s in held),
            disk_mb=sum(s.limits.disk_mb for s in held),
        )

    def reserve(self, server: Any, guard: Any) -> None:
        from mamba.domain.errors import AllocationTakenError, TenantServersChangedError

        version = guard if isinstance(guard, int) else guard.version
        ip, port = server.allocation
        allocation = self.allocations.rows.get((server.node_id, ip, port))
        if self.versions.get(server.tenant_id, 0) != version:
            raise TenantServersChangedError("Another server of this tenant was created meanwhile.")
        if allocation is None or allocation.server_id:
            raise AllocationTakenError("The allocation was taken meanwhile.", {"allocation": f"{ip}:{port}"})
        self.servers.add(server)  # ConflictError for a known uuid, before anything else is written
        self.versions[server.tenant_id] = version + 1
        self.allocations.assign(server.node_id, ip, port, server.uuid)

    def unreserve(self, server: Any) -> None:
        ip, port = server.allocation
        stored = self.servers.servers.get(server.uuid)
        allocation = self.allocations.rows.get((server.node_id, ip, port))
        # Both conditions or nothing, as the adapter's transaction.
        if stored is None or stored.status != "provisioning" or allocation is None:
            return
        if allocation.server_id != server.uuid:
            return
        self.servers.delete(server.uuid)
        self.allocations.release(server.node_id, ip, port, server.uuid)

    def plan_quotas(self, tenant_id: str) -> str | None:
        return self.plans.get(tenant_id)


# --- backups ---------------------------------------------------------------------------------


class FakeBackupRepository:
    """``DynamoBackupRepository`` in memory: backups, each server's running-backup lock, and
    each tenant's storage counter and retention choice."""

    def __init__(self) -> None:
        self.backups: dict[str, Any] = {}
        self.locks: dict[str, str] = {}  # server uuid -> backup uuid
        self.usage_bytes: dict[str, int] = {}
        self.rotate: dict[str, bool] = {}

    def add_running(self, backup: Any) -> None:
        if backup.server_uuid in self.locks:
            raise ConflictError("A backup of this server is already running.", {"server_id": backup.server_uuid})
        if backup.uuid in self.backups:
            raise ConflictError("A backup with this uuid exists.", {"uuid": backup.uuid})
        self.backups[backup.uuid] = backup
        self.locks[backup.server_uuid] = backup.uuid

    def running_lock(self, server_uuid: str) -> str | None:
        return self.locks.get(server_uuid)

    def release_lock(self, server_uuid: str, backup_uuid: str) -> None:
        if self.locks.get(server_uuid) == backup_uuid:
            del self.locks[server_uuid]

    def get(self, backup_uuid: str) -> Any:
        if backup_uuid not in self.backups:
            raise NotFoundError("Backup not found.", {"uuid": backup_uuid})
        return self.backups[backup_uuid]

    def save(self, backup: Any, expected_status: str | None = None) -> None:
        current = self.backups.get(backup.uuid)
        if current is None or (expected_status is not None and current.status != expected_status):
            raise ConflictError("The backup changed meanwhile.", {"uuid": backup.uuid})
        self.backups[backup.uuid] = backup

    def set_operation(self, backup_uuid: str, operation_id: str) -> None:
        from dataclasses import replace

        if backup_uuid not in self.backups:
            raise DependencyUnavailableError("The backup could not be saved; try again.")
        self.backups[backup_uuid] = replace(self.backups[backup_uuid], operation_id=operation_id)

    def delete(self, backup_uuid: str) -> None:
        self.backups.pop(backup_uuid, None)

    def of_server(self, server_uuid: str) -> list[Any]:
        mine = (b for b in self.backups.values() if b.server_uuid == server_uuid)
        return sorted(mine, key=lambda b: (b.created_at, b.uuid))

    def of_tenant(self, tenant_id: str) -> list[Any]:
        mine = (b for b in self.backups.values() if b.tenant_id == tenant_id)
        return sorted(mine, key=lambda b: (b.created_at, b.uuid))

    def usage(self, tenant_id: str) -> int:
        return self.usage_bytes.get(tenant_id, 0)

    def rotation(self, tenant_id: str) -> bool:
        return self.rotate.get(tenant_id, False)

    def set_rotation(self, tenant_id: str, rotate: bool) -> None:
        self.rotate[tenant_id] = rotate
        self.usage_bytes.setdefault(tenant_id, 0)

    def count(self, backup: Any, counted: bool) -> bool:
        from dataclasses import replace

        current = self.backups.get(backup.uuid)
        if current is None or current.counted == counted:
            return False
        self.backups[backup.uuid] = replace(current, counted=counted)
        delta = backup.size_bytes if counted else -backup.size_bytes
        self.usage_bytes[backup.tenant_id] = self.usage_bytes.get(backup.tenant_id, 0) + delta
        return True

    def set_usage(self, tenant_id: str, usage_bytes: int, now: str) -> None:
        self.usage_bytes[tenant_id] = usage_bytes

    def tenants_with_usage(self) -> list[str]:
        return sorted(self.usage_bytes)


class FakeBackupStore:
    """``S3BackupStore`` in memory: multipart uploads and object sizes. ``put_part`` and
    ``put_object`` stand in for Wings' PUTs through the presigned URLs."""

    def __init__(self, bucket: str = "fake-backups", fail: bool = False) -> None:
        self.bucket = bucket
        self.fail = fail
        self.uploads: dict[str, tuple[str, dict[int, tuple[str, int]]]] = {}  # id -> (key, {n: (etag, size)})
        self.objects: dict[str, int] = {}
        self.deleted: list[str] = []

    def _check(self, what: str) -> None:
        if self.fail:
            message = f"The backup storage could not {what}; try again."
            raise DependencyUnavailableError(message, {"bucket": self.bucket})

    def create_upload(self, key: str) -> str:
        import secrets

        self._check("start the upload")
        upload_id = secrets.token_urlsafe(16)
        self.uploads[upload_id] = (key, {})
        return upload_id

    def part_urls(self, key: str, upload_id: str, parts: int, lifetimes: list[int] | None = None) -> list[str]:
        seconds = lifetimes or [900] * parts
        base = f"https://{self.bucket}.s3.fake/{key}?uploadId={upload_id}"
        return [f"{base}&partNumber={n}&X-Amz-Expires={min(seconds[n - 1], 3600)}" for n in range(1, parts + 1)]

    def put_part(self, key: str, upload_id: str, number: int, body: bytes) -> str:
        import hashlib

        etag = f'"{hashlib.md5(body).hexdigest()}"'  # S3's ETag of a single-part upload
        self.uploads[upload_id][1][number] = (etag, len(body))
        return etag

    def put_object(self, key: str, size: int) -> None:
        self.objects[key] = size

    def listed_parts(self, key: str, upload_id: str) -> list[tuple[int, str]]:
        self._check("list the uploaded parts")
        if upload_id not in self.uploads:
            raise DependencyUnavailableError("The backup storage could not list the uploaded parts; try again.")
        return [(n, etag) for n, (etag, _) in sorted(self.uploads[upload_id][1].items())]

    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> bool:
        self._check("complete the upload")
        upload = self.uploads.pop(upload_id, None)
        if upload is None:
            return False
        self.objects[key] = sum(upload[1][n][1] for n, _ in parts)
        return True

    def abort(self, key: str, upload_id: str) -> None:
        self._check("abort the upload")
        self.uploads.pop(upload_id, None)

    def abort_all(self, key: str) -> int:
        self._check("list open uploads")
        mine = [upload_id for upload_id, (k, _) in self.uploads.items() if k == key]
        for upload_id in mine:
            del self.uploads[upload_id]
        return len(mine)

    def size(self, key: str) -> int | None:
        self._check("read the backup's size")
        return self.objects.get(key)

    def delete(self, key: str) -> None:
        self._check("delete the backup")
        self.objects.pop(key, None)
        self.deleted.append(key)

    def download_url(self, key: str, filename: str | None = None) -> str:
        disposition = f"&response-content-disposition=attachment%3B+filename%3D{filename}" if filename else ""
        return f"https://{self.bucket}.s3.fake/{key}?response-content-type=application%2Fx-gzip{disposition}"

    def sizes_under(self, prefix: str) -> dict[str, int]:
        self._check("list the backups")
        return {key: size for key, size in sorted(self.objects.items()) if key.startswith(prefix)}


# --- API keys and the audit log -----------------------------------------------------------------


class FakeApiKeyRepository:
    """``DynamoApiKeyRepository`` in memory (the guard's read of a key by id is ``keys[id]``)."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}

    def add(self, key: Any) -> None:
        if key.id in self.keys:
            raise ConflictError("The API key already exists.", {"key_id": key.id})
        self.keys[key.id] = key

    def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> Any:
        from mamba.domain.api_keys import KeyPage
        from mamba.domain.pages import PageRequest

        mine = sorted((k for k in self.keys.values() if k.user_id == user_id), key=lambda k: (k.created_at, k.id))
        found = _page(mine[::-1], PageRequest(max(1, min(limit, 100)), cursor), f"api_keys:{user_id}")
        return KeyPage(items=found.items, next_cursor=found.next_cursor)

    def revoke(self, user_id: str, key_id: str, at: str) -> Any:
        from dataclasses import replace

        key = self.keys.get(key_id)
        if key is None or key.user_id != user_id:
            raise NotFoundError("API key not found.", {"key_id": key_id})
        self.keys[key_id] = replace(key, revoked_at=key.revoked_at or at)  # the first revocation time stays
        return self.keys[key_id]

    def revoke_all(self, user_id: str, at: str) -> int:
        live = [k for k in self.keys.values() if k.user_id == user_id and k.revoked_at is None]
        for key in live:
            self.revoke(user_id, key.id, at)
        return len(live)

    def touch(self, key_id: str, epoch: int, source_ip: str, min_interval: int) -> None:
        from dataclasses import replace

        key = self.keys.get(key_id)
        if key is None or (key.last_used_at is not None and key.last_used_at > epoch - min_interval):
            return
        self.keys[key_id] = replace(key, last_used_at=epoch, last_used_ip=source_ip or None)


class FakeAuditLog:
    """``DynamoAuditLog`` in memory: append-only partitions (a tenant's, the platform's, the
    security log), listed newest first. ``fail`` makes every write fail as DynamoDB would."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.partitions: dict[str, dict[tuple[str, str], Any]] = {}

    @staticmethod
    def _partition(tenant_id: str | None, security: bool) -> str:
        return "SECURITY" if security else (f"TENANT#{tenant_id}" if tenant_id else "PLATFORM")

    def append(self, entry: Any) -> None:
        if self.fail:
            raise DependencyUnavailableError("The audit entry could not be written.")
        partition = self.partitions.setdefault(self._partition(entry.tenant_id, entry.security), {})
        if (entry.at, entry.id) in partition:
            raise ConflictError("The audit entry already exists.", {"audit_id": entry.id})
        partition[(entry.at, entry.id)] = entry

    @property
    def entries(self) -> list[Any]:
        """Every entry of every partition, oldest first (for assertions)."""
        return sorted((e for p in self.partitions.values() for e in p.values()), key=lambda e: (e.at, e.id))

    def list(self, tenant_id: str | None, filters: Any, limit: int, cursor: str | None, security: bool = False) -> Any:
        from mamba.domain.audit import AuditPage
        from mamba.domain.pages import PageRequest

        partition = self.partitions.get(self._partition(tenant_id, security), {})
        found = [
            partition[key]
            for key in sorted(partition, reverse=True)
            # The adapter's sort-key range: AUDIT#<at>#<id> between AUDIT#<since> and AUDIT#<until>#~
            if (not filters.since or f"{key[0]}#{key[1]}" >= filters.since)
            and (not filters.until or f"{key[0]}#{key[1]}" <= f"{filters.until}#~")
            and (not filters.action or partition[key].action == filters.action)
            and (not filters.actor_id or partition[key].actor_id == filters.actor_id)
            and (not filters.result or partition[key].result == filters.result)
        ]
        page = _page(found, PageRequest(limit, cursor), f"audit:{tenant_id}:{security}")
        return AuditPage(items=page.items, next_cursor=page.next_cursor)


# --- the Wings node agent ----------------------------------------------------------------------


class FakeNodeAgent:
    """``WingsHttpNodeAgent`` and its node, in memory: servers with a state, files and logs.
    Installs and power changes finish at once (the simulator's take a moment). ``down``
    makes every call WingsUnavailableError, as a node that does not answer."""

    POWER = ("start", "stop", "restart", "kill")

    def __init__(self, down: bool = False, node_id: str = "n1") -> None:
        self.down = down
        self.node_id = node_id
        self.servers: dict[str, dict[str, Any]] = {}  # uuid -> {"state", "suspended", "files", "logs"}
        self.calls: list[tuple[str, str]] = []  # (method, server uuid or "")
        self.denied_jtis: dict[str, list[str]] = {}
        self.backups: list[tuple[str, str, str]] = []  # (action, server uuid, backup uuid)

    def _ask(self, method: str, server_uuid: str = "") -> dict[str, Any] | None:
        from mamba.domain.errors import ValidationError, WingsNotFoundError, WingsUnavailableError
        from mamba.domain.servers import UUID_V4

        if server_uuid and not UUID_V4.match(server_uuid):
            raise ValidationError("A server uuid must be a lowercase UUID v4.", {"uuid": server_uuid})
        if self.down:
            raise WingsUnavailableError(
                "The node could not be reached. Try again later; an admin may need to check the node.",
                {"node_id": self.node_id, "reason": "unreachable"},
            )
        self.calls.append((method, server_uuid))
        if not server_uuid:
            return None
        if server_uuid not in self.servers:
            raise WingsNotFoundError("The requested resource does not exist on this instance.", {"uuid": server_uuid})
        return self.servers[server_uuid]

    def _document(self, server_uuid: str) -> dict[str, Any]:
        server = self.servers[server_uuid]
        state = server["state"]
        return {
            "state": state,
            "is_suspended": server["suspended"],
            "utilization": {"state": state, "memory_bytes": 0, "cpu_absolute": 0.0, "disk_bytes": 0, "uptime": 0},
            "configuration": {"uuid": server_uuid},
        }

    def system(self, *, probe: bool = False, extended: bool = False) -> dict[str, Any]:
        self._ask("system")
        return {"architecture": "amd64", "cpu_count": 2, "kernel_version": "6.1", "os": "linux", "version": "1.11.0"}

    def list_servers(self) -> list[dict[str, Any]]:
        self._ask("list_servers")
        return [self._document(u) for u in self.servers]

    def get_server(self, server_uuid: str) -> dict[str, Any]:
        self._ask("get_server", server_uuid)
        return self._document(server_uuid)

    def create_server(self, server_uuid: str, *, start_on_completion: bool = False) -> None:
        from mamba.domain.errors import ValidationError
        from mamba.domain.servers import UUID_V4

        if not UUID_V4.match(server_uuid):
            raise ValidationError("A server uuid must be a lowercase UUID v4.", {"uuid": server_uuid})
        self._ask("create_server")
        state = "running" if start_on_completion else "offline"
        self.servers[server_uuid] = {"state": state, "suspended": False, "files": {}, "logs": []}

    def delete_server(self, server_uuid: str) -> None:
        self._ask("delete_server", server_uuid)
        del self.servers[server_uuid]

    def power(self, server_uuid: str, action: str, *, wait_seconds: int | None = None) -> None:
        from mamba.domain.errors import ValidationError

        if action not in self.POWER:
            raise ValidationError("The power action must be start, stop, restart or kill.", {"action": action})
        server = self._ask("power", server_uuid)
        assert server is not None
        server["state"] = "running" if action in ("start", "restart") else "offline"

    def send_commands(self, server_uuid: str, commands: list[str]) -> None:
        from mamba.domain.errors import WingsRejectedError

        server = self._ask("send_commands", server_uuid)
        assert server is not None
        if server["state"] == "offline":
            raise WingsRejectedError("Cannot send commands to a stopped server instance.", {"uuid": server_uuid})
        server["logs"].extend(f"> {command}" for command in commands)

    def install(self, server_uuid: str) -> None:
        self._ask("install", server_uuid)

    def reinstall(self, server_uuid: str) -> None:
        self._ask("reinstall", server_uuid)

    def sync(self, server_uuid: str) -> None:
        self._ask("sync", server_uuid)

    def logs(self, server_uuid: str, size: int = 100) -> list[str]:
        server = self._ask("logs", server_uuid)
        assert server is not None
        return [str(line) for line in server["logs"][-min(max(size, 1), 100) :]]

    def deny_websocket_tokens(self, server_uuid: str, jtis: list[str]) -> None:
        self._ask("deny_websocket_tokens", server_uuid)
        self.denied_jtis.setdefault(server_uuid, []).extend(jtis)

    def _path(self, path: str) -> str:
        return "/" + path.strip("/")

    def read_file(self, server_uuid: str, path: str, *, download: bool = False) -> bytes:
        from mamba.domain.errors import WingsNotFoundError

        server = self._ask("read_file", server_uuid)
        assert server is not None
        if self._path(path) not in server["files"]:
            raise WingsNotFoundError("The file or directory does not exist on the node.", {"path": path})
        return bytes(server["files"][self._path(path)])

    def list_directory(self, server_uuid: str, directory: str = "/") -> list[dict[str, Any]]:
        server = self._ask("list_directory", server_uuid)
        assert server is not None
        base = self._path(directory).rstrip("/") + "/"
        names = sorted({p[len(base) :].split("/")[0] for p in server["files"] if p.startswith(base)})
        entries = []
        for name in names:
            full = base + name
            is_file = full in server["files"]
            size = len(server["files"][full]) if is_file else 0
            entries.append({"name": name, "directory": not is_file, "file": is_file, "size": size})
        return sorted(entries, key=lambda e: (not e["directory"], e["name"]))

    def write_file(self, server_uuid: str, path: str, content: bytes) -> None:
        server = self._ask("write_file", server_uuid)
        assert server is not None
        server["files"][self._path(path)] = bytes(content)

    def delete_files(self, server_uuid: str, root: str, files: list[str]) -> None:
        server = self._ask("delete_files", server_uuid)
        assert server is not None
        for name in files:
            target = self._path(f"{root.rstrip('/')}/{name}")
            for path in [p for p in server["files"] if p == target or p.startswith(target + "/")]:
                del server["files"][path]

    def create_backup(self, server_uuid: str, backup_uuid: str, *, adapter: str = "wings", ignore: str = "") -> None:
        from mamba.domain.errors import ValidationError

        if adapter not in ("wings", "s3"):
            raise ValidationError("A backup adapter is wings or s3.", {"adapter": adapter})
        self._ask("create_backup", server_uuid)
        self.backups.append(("create", server_uuid, backup_uuid))

    def restore_backup(
        self,
        server_uuid: str,
        backup_uuid: str,
        *,
        adapter: str = "wings",
        truncate_directory: bool = False,
        download_url: str | None = None,
    ) -> None:
        from mamba.domain.errors import ValidationError

        if adapter not in ("wings", "s3"):
            raise ValidationError("A backup adapter is wings or s3.", {"adapter": adapter})
        if adapter == "s3" and not download_url:
            raise ValidationError("Restoring an S3 backup needs its download URL.", {"adapter": adapter})
        self._ask("restore_backup", server_uuid)
        self.backups.append(("restore", server_uuid, backup_uuid))

    def delete_backup(self, server_uuid: str, backup_uuid: str) -> None:
        self._ask("delete_backup", server_uuid)
        self.backups.append(("delete", server_uuid, backup_uuid))
