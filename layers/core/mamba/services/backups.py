"""Backups to S3 (issue 6; docs/backups.md): the tenant's use cases, Wings' remote calls
(wings-contract.md §5.9), the workflow tasks and the usage reconciliation.

Every function takes a ``BackupPorts``; ``mamba.bootstrap.backup_ports()`` wires the real
ones. No function here touches an object body: Wings moves the bytes through presigned URLs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from mamba.auth.context import TenantContext
from mamba.domain import backups as bk
from mamba.domain import servers as srv
from mamba.domain.backups import Backup, BackupPolicy, UsageReport
from mamba.domain.clock import new_uuid
from mamba.domain.errors import (
    BackupFailedError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
)
from mamba.domain.nodes import Node
from mamba.domain.operations import Operation
from mamba.domain.quotas import BackupSettingsFacts
from mamba.domain.servers import Server
from mamba.observability import logger
from mamba.ports import (
    AgentFor,
    AuditLog,
    BackupRepository,
    BackupStore,
    EventPublisher,
    NodeRepository,
    OperationRepository,
    QuotasOf,
    ServerRepository,
    Workflows,
)
from mamba.services import emit, task_waits
from mamba.services.task_waits import Outcome, WaitPorts

# Server statuses a backup or restore may start from (Wings stops a running server itself
# before it restores).
BACKUP_FROM = (srv.OFFLINE, srv.RUNNING, srv.STARTING, srv.STOPPING)
RESTORE_FROM = (srv.OFFLINE, srv.RUNNING, srv.STARTING, srv.STOPPING)

BACKUP_STEPS = ["request_backup", "upload", "verify", "retention"]
RESTORE_STEPS = ["request_restore", "restore"]
DELETE_STEPS = ["delete_object", "delete_record"]


@dataclass(frozen=True)
class BackupPorts:
    backups: BackupRepository
    servers: ServerRepository
    nodes: NodeRepository
    store: BackupStore
    operations: OperationRepository
    workflows: Workflows
    agent_for: AgentFor
    quotas: QuotasOf
    audit: AuditLog
    clock: Callable[[], str]
    policy: BackupPolicy
    # Resumes the workflow waiting on a callback (a unit test of the tenant use cases may leave it out).
    waits: WaitPorts | None = None
    events: EventPublisher | None = None  # backup.completed, backup.failed (docs/notifications.md)
    # ``GET .../backup-settings`` in one read (the tenant's quotas, the counter, the rotation
    # choice); without it the settings are read one by one.
    settings_facts: Callable[[str], BackupSettingsFacts] | None = None


# --- lookups ---


def server_of_tenant(ports: BackupPorts, tenant: TenantContext, server_id: str) -> Server:
    """The tenant's server; another tenant's (or an unknown id) is 404."""
    from mamba.services.servers import get_server

    return get_server(ports.servers, tenant, server_id)


def backup_of_server(ports: BackupPorts, tenant: TenantContext, server_id: str, backup_id: str) -> Backup:
    server_of_tenant(ports, tenant, server_id)
    try:
        backup: Backup = ports.backups.get(backup_id)
    except NotFoundError:
        backup = None  # type: ignore[assignment]
    if backup is None or backup.server_uuid != server_id or backup.tenant_id != tenant.tenant_id:
        raise NotFoundError("Backup not found.", {"backup_id": backup_id})
    return backup


def backup_of_tenant(ports: BackupPorts, tenant: TenantContext, backup_id: str) -> Backup:
    """Any backup of the tenant by id, including one whose server was deleted (orphaned). A
    member bound to one server sees only that server's backups; anything else is 404."""
    try:
        backup: Backup = ports.backups.get(backup_id)
    except NotFoundError:
        backup = None  # type: ignore[assignment]
    if (
        backup is None
        or backup.tenant_id != tenant.tenant_id
        or (tenant.server_scope and tenant.server_scope != backup.server_uuid)
    ):
        raise NotFoundError("Backup not found.", {"backup_id": backup_id})
    return backup


def find_backup(ports: BackupPorts, tenant: TenantContext, server_id: str | None, backup_id: str) -> Backup:
    """The backup under its server's path, or (``server_id`` None) under the tenant's."""
    if server_id is None:
        return backup_of_tenant(ports, tenant, backup_id)
    return backup_of_server(ports, tenant, server_id, backup_id)


def list_tenant_backups(ports: BackupPorts, tenant: TenantContext, orphaned: bool | None = None) -> list[Backup]:
    """The tenant's backups oldest first (one gsi2 Query per MB); ``orphaned`` True keeps only
    those whose server was deleted, False only those whose server exists. A member bound to one
    server sees only that server's backups (so never an orphaned one)."""
    found = [b for b in ports.backups.of_tenant(tenant.tenant_id) if b.tenant_id == tenant.tenant_id]
    if tenant.server_scope:
        found = [b for b in found if b.server_uuid == tenant.server_scope]
    if orphaned is not None:
        found = [b for b in found if (b.orphaned_at is not None) == orphaned]
    return found


def keep_or_delete_with_server(ports: BackupPorts, server_uuid: str) -> tuple[int, int]:
    """A deleted server's backups (the ``delete_server`` workflow): a locked, completed one
    stays, marked orphaned (its object, its share of the storage counter and its record are
    kept: the tenant locked it to keep it); every other one is deleted with its object, any
    open upload and its share of the counter. Idempotent. Returns (kept, deleted)."""
    kept = deleted = 0
    for backup in ports.backups.of_server(server_uuid):
        if bk.outlives_server(backup):
            if backup.orphaned_at is None:
                # A restore into the deleted server cannot finish: the backup is completed again.
                restore_result = "failed" if backup.status == bk.RESTORING else backup.restore_result
                orphan = replace(
                    backup,
                    status=bk.COMPLETED,
                    restore_result=restore_result,
                    orphaned_at=ports.clock(),
                    updated_at=ports.clock(),
                )
                ports.backups.save(orphan, expected_status=backup.status)
            kept += 1
            continue
        task_delete_object(ports, backup.uuid, None)
        task_delete_record(ports, backup.uuid, None)
        deleted += 1
    return kept, deleted


def _event(ports: BackupPorts, backup: Backup, action: str, result: str, **details: Any) -> None:
    """A backup event in the tenant's audit log (notifications and webhooks read them)."""
    from mamba.services import audit

    audit.record(
        ports.audit,
        action=action,
        result=result,
        tenant_id=backup.tenant_id,
        via="workflow",
        target=f"backup:{backup.uuid}",
        error_code=details.pop("error_code", None),
        details={"server_id": backup.server_uuid, "backup_id": backup.uuid, **details},
    )


def _notify(ports: BackupPorts, event_type: str, backup: Backup, **payload: object) -> None:
    """``backup.completed`` / ``backup.failed``: one per backup (its uuid is the dedupe key, so a
    retried finalize or compensation publishes the same event)."""
    if ports.events is None:
        return
    from mamba.domain.events import make_event

    try:
        server_name = ports.servers.get(backup.server_uuid).name
    except NotFoundError:
        server_name = backup.server_uuid  # the server went meanwhile; the backup's event still counts
    emit.emit(
        ports.events,
        make_event(
            event_type,
            dedupe_key=backup.uuid,
            occurred_at=ports.clock(),
            tenant_id=backup.tenant_id,
            server_id=backup.server_uuid,
            payload={"server_name": server_name, "backup_name": backup.name, **payload},
        ),
    )


def _warn_storage(ports: BackupPorts, backup: Backup) -> None:
    """``quota.warning`` when this backup took the tenant's backup storage past 80 %. Read after
    the backup is counted, so a retried finalize sees the same crossing and publishes the same
    event (keyed by the backup)."""
    if ports.events is None:
        return
    from mamba.domain.events import make_event
    from mamba.domain.quotas import crossed_warning

    limit = ports.quotas(backup.tenant_id).backup_bytes
    used = ports.backups.usage(backup.tenant_id)
    if not crossed_warning(limit, used - backup.size_bytes, used):
        return
    emit.emit(
        ports.events,
        make_event(
            "quota.warning",
            dedupe_key=f"{backup.uuid}:backup_bytes",
            occurred_at=ports.clock(),
            tenant_id=backup.tenant_id,
            payload={"quota": "backup_bytes", "used": used, "limit": limit},
        ),
    )


def _record(ports: BackupPorts, op_id: str | None, step: str, status: str, detail: str | None = None) -> None:
    if op_id:
        from mamba.services import operations

        operations.record_step(ports.operations, op_id, step, status, detail)


def _finish(ports: BackupPorts, op_id: str | None, status: str, error: dict[str, str] | None = None) -> None:
    if op_id:
        from mamba.services import operations

        try:
            operations.finish_operation(ports.operations, op_id, status, error)
        except ConflictError:
            pass  # already finished the other way by a previous attempt


# --- tenant use cases ---


def create_backup(
    ports: BackupPorts, tenant: TenantContext, server_id: str, name: str | None, ignored: list[str] | None
) -> tuple[Backup, Operation]:
    """Check quota and concurrency, create the record (taking the server's lock), start
    ``backup_server``. Over quota → 403 QUOTA_EXCEEDED with nothing created."""
    from mamba.services import operations

    server = server_of_tenant(ports, tenant, server_id)
    srv.require_status(server, *BACKUP_FROM)
    patterns = bk.clean_ignored(ignored)
    if ports.backups.running_lock(server.uuid):
        raise ConflictError("A backup of this server is already running.", {"server_id": server.uuid})
    existing = ports.backups.of_server(server.uuid)
    rotation = ports.backups.rotation(tenant.tenant_id)
    decision = bk.check_quota(ports.quotas(tenant.tenant_id), existing, ports.backups.usage(tenant.tenant_id), rotation)
    now = ports.clock()
    backup = bk.new_backup(new_uuid(), server.uuid, tenant.tenant_id, server.node_id, name, patterns, now)
    ports.backups.add_running(backup)
    try:
        op = operations.start_operation(
            ports.operations,
            ports.workflows,
            tenant,
            op_type="backup_server",
            workflow="backup_server",
            steps=BACKUP_STEPS,
            payload={
                "backup_uuid": backup.uuid,
                "server_uuid": server.uuid,
                "timeout_seconds": ports.policy.timeout_seconds,
                "rotate": decision.rotate,
            },
            target=f"backup:{backup.uuid}",
        )
    except Exception:
        # Nothing half-written: the workflow did not start, so the record and lock go.
        ports.backups.delete(backup.uuid)
        ports.backups.release_lock(server.uuid, backup.uuid)
        raise
    # Only the operation id: the workflow may already have moved the backup on.
    ports.backups.set_operation(backup.uuid, op.id)
    return replace(backup, operation_id=op.id), op


def list_backups(ports: BackupPorts, tenant: TenantContext, server_id: str) -> list[Backup]:
    server = server_of_tenant(ports, tenant, server_id)
    return [b for b in ports.backups.of_server(server.uuid) if b.tenant_id == tenant.tenant_id]


def set_lock(ports: BackupPorts, tenant: TenantContext, server_id: str | None, backup_id: str, locked: bool) -> Backup:
    backup = find_backup(ports, tenant, server_id, backup_id)
    if backup.locked == locked:
        return backup
    updated = bk.with_lock(backup, locked, ports.clock())
    ports.backups.save(updated, expected_status=backup.status)
    return updated


def download_url(ports: BackupPorts, tenant: TenantContext, server_id: str | None, backup_id: str) -> str:
    """A presigned GET valid 5 minutes (the caller's permission was checked by the guard)."""
    backup = find_backup(ports, tenant, server_id, backup_id)
    bk.require(backup, bk.COMPLETED, bk.RESTORING)
    return ports.store.download_url(backup.s3_key, f"{backup.uuid}.tar.gz")


def delete_backup(
    ports: BackupPorts, tenant: TenantContext, server_id: str | None, backup_id: str
) -> tuple[Backup, Operation]:
    """Locked → 409; otherwise ``deleting`` and the ``delete_backup`` workflow (which needs
    nothing of the server, so an orphaned backup is deleted the same way)."""
    from mamba.services import operations

    backup = find_backup(ports, tenant, server_id, backup_id)
    updated = bk.deleting(backup, ports.clock())
    ports.backups.save(updated, expected_status=backup.status)
    try:
        op = operations.start_operation(
            ports.operations,
            ports.workflows,
            tenant,
            op_type="delete_backup",
            workflow="delete_backup",
            steps=DELETE_STEPS,
            payload={"backup_uuid": backup.uuid, "server_uuid": backup.server_uuid},
            target=f"backup:{backup.uuid}",
        )
    except Exception:
        ports.backups.save(backup, expected_status=bk.DELETING)
        raise
    return updated, op


def restore_backup(
    ports: BackupPorts, tenant: TenantContext, server_id: str, backup_id: str, truncate: bool
) -> tuple[Backup, Operation]:
    """The backup and the server go to ``restoring``; ``restore_backup`` asks Wings."""
    from mamba.services import operations

    backup = backup_of_server(ports, tenant, server_id, backup_id)
    server = server_of_tenant(ports, tenant, server_id)
    srv.require_status(server, *RESTORE_FROM)
    now = ports.clock()
    updated = bk.restoring(backup, server.status, now)
    ports.backups.save(updated, expected_status=bk.COMPLETED)
    ports.servers.save(replace(server, status=bk.SERVER_RESTORING, updated_at=now))
    try:
        op = operations.start_operation(
            ports.operations,
            ports.workflows,
            tenant,
            op_type="restore_backup",
            workflow="restore_backup",
            steps=RESTORE_STEPS,
            payload={
                "backup_uuid": backup.uuid,
                "server_uuid": server.uuid,
                "truncate": truncate,
                "timeout_seconds": ports.policy.timeout_seconds,
            },
            target=f"backup:{backup.uuid}",
        )
    except Exception:
        ports.backups.save(backup, expected_status=bk.RESTORING)
        ports.servers.save(server)
        raise
    return updated, op


def settings_of(ports: BackupPorts, tenant: TenantContext) -> dict[str, Any]:
    if ports.settings_facts is not None:
        facts = ports.settings_facts(tenant.tenant_id)
        return {
            "rotate": facts.rotate,
            "usage_bytes": facts.usage_bytes,
            "quota_bytes": facts.quotas.backup_bytes,
            "backups_per_server": facts.quotas.backups_per_server,
        }
    quotas = ports.quotas(tenant.tenant_id)
    return {
        "rotate": ports.backups.rotation(tenant.tenant_id),
        "usage_bytes": ports.backups.usage(tenant.tenant_id),
        "quota_bytes": quotas.backup_bytes,
        "backups_per_server": quotas.backups_per_server,
    }


def set_rotation(ports: BackupPorts, tenant: TenantContext, rotate: bool) -> dict[str, Any]:
    ports.backups.set_rotation(tenant.tenant_id, rotate)
    return settings_of(ports, tenant)


# --- Wings' remote calls (wings-contract.md §5.9) ---


def _backup_of_node(ports: BackupPorts, node: Node, backup_uuid: str) -> Backup:
    """The backup, if it belongs to a server of ``node``: unknown → 404, another node's → 403."""
    if not bk.UUID_V4.match(backup_uuid):
        raise NotFoundError("The requested backup does not exist.", {"uuid": backup_uuid})
    backup: Backup = ports.backups.get(backup_uuid)
    if backup.node_id != node.id:
        raise ForbiddenError("This backup belongs to another node.", {"uuid": backup_uuid})
    return backup


def presign_upload(ports: BackupPorts, node: Node, backup_uuid: str, size_raw: str | None) -> dict[str, Any]:
    """``GET /api/remote/backups/{uuid}?size=``: start (or, for Wings' retry, reuse) the
    multipart upload and sign one UploadPart URL per ``part_size`` bytes.

    The size is checked before the backup is looked up, as Pterodactyl's panel validates the
    request first (wings-contract.md §5.9): an empty ``size`` is 400 whatever the uuid names."""
    part_size = ports.policy.part_size
    size = bk.parse_size(size_raw, part_size)
    backup = _backup_of_node(ports, node, backup_uuid)
    if backup.status == bk.COMPLETED:
        raise ConflictError("This backup is already completed.", {"uuid": backup_uuid})
    bk.require(backup, bk.PENDING, bk.UPLOADING)
    parts = bk.part_count(size, part_size)
    if backup.upload_id is None:
        upload_id = ports.store.create_upload(backup.s3_key)
        updated = bk.uploading(backup, upload_id, parts, ports.clock())
        try:
            ports.backups.save(updated, expected_status=backup.status)
        except ConflictError:
            ports.store.abort(backup.s3_key, upload_id)
            raise
    else:
        updated = replace(backup, part_count=parts, updated_at=ports.clock())
        ports.backups.save(updated, expected_status=backup.status)
    lifetimes = bk.part_url_lifetimes(parts, part_size)
    urls = ports.store.part_urls(backup.s3_key, str(updated.upload_id), parts, lifetimes)
    return {"parts": urls, "part_size": part_size}


def report_backup(ports: BackupPorts, node: Node, backup_uuid: str, body: Any) -> Backup:
    """``POST /api/remote/backups/{uuid}``: complete (or abort) the upload. Idempotent: a
    retried completion of a completed backup answers 2xx and changes nothing, because Wings
    deletes its archive whenever the panel does not acknowledge it (§8.10)."""
    completion = bk.parse_completion(body)
    backup = _backup_of_node(ports, node, backup_uuid)
    now = ports.clock()
    if backup.status == bk.COMPLETED or (backup.status in (bk.RESTORING, bk.DELETING) and backup.completed_at):
        # A retry: applied once already. Its resume is repeated (the first one may have found
        # Step Functions unreachable); a task that no longer waits ignores it.
        _resume(ports, task_waits.backup_subject(backup.uuid), backup_outcome(backup))
        return backup
    if backup.status == bk.FAILED:
        if not completion.successful:
            return backup
        raise ConflictError("This backup already failed; its upload was aborted.", {"uuid": backup_uuid})
    updated = _apply_report(ports, backup, completion, now)
    _resume(ports, task_waits.backup_subject(backup.uuid), backup_outcome(updated))
    return updated


def _resume(ports: BackupPorts, subject: str, outcome: Outcome | None) -> None:
    if ports.waits is not None and outcome is not None:
        task_waits.deliver(ports.waits, subject, outcome)


def backup_outcome(backup: Backup) -> Outcome | None:
    """How ``backup_server``'s wait for the completion ends, once Wings reported it (else None)."""
    if backup.status == bk.FAILED:
        return Outcome.failed("BackupFailedError", backup.error or "The backup failed.")
    if backup.completed_at and backup.status in (bk.COMPLETED, bk.RESTORING, bk.DELETING):
        return Outcome(output={"state": bk.COMPLETED})
    return None


def _apply_report(ports: BackupPorts, backup: Backup, completion: bk.Completion, now: str) -> Backup:
    """Complete (or abort) the upload of a backup still pending or uploading."""
    backup_uuid = backup.uuid
    bk.require(backup, bk.PENDING, bk.UPLOADING)
    if not completion.successful:
        if backup.upload_id:
            ports.store.abort(backup.s3_key, backup.upload_id)
        ports.store.abort_all(backup.s3_key)
        updated = bk.failed(backup, "Wings reported that the backup failed.", now)
        _save_transition(ports, updated, backup.status)
        return updated
    if backup.upload_id is None:
        if ports.store.size(backup.s3_key) is None:
            raise ConflictError("No upload was started for this backup.", {"uuid": backup_uuid})
    else:
        parts = list(completion.parts or ()) or ports.store.listed_parts(backup.s3_key, backup.upload_id)
        if not ports.store.complete(backup.s3_key, backup.upload_id, parts) and ports.store.size(backup.s3_key) is None:
            raise ConflictError("The upload is gone; the backup cannot be completed.", {"uuid": backup_uuid})
    updated = bk.completed(backup, completion, now)
    return _save_transition(ports, updated, backup.status)


def _save_transition(ports: BackupPorts, updated: Backup, expected: str) -> Backup:
    """Save unless a concurrent call already made the same transition (then keep theirs)."""
    try:
        ports.backups.save(updated, expected_status=expected)
    except ConflictError:
        current: Backup = ports.backups.get(updated.uuid)
        if current.status != updated.status:
            raise
        return current
    return updated


def report_restore(ports: BackupPorts, node: Node, backup_uuid: str, body: Any) -> Backup:
    """``POST /api/remote/backups/{uuid}/restore {"successful": bool}``: the backup is
    ``completed`` again, the server ``offline`` (restored) or back to the status it had before
    (failed). Idempotent."""
    from mamba.domain.errors import ValidationError

    if not isinstance(body, dict) or not isinstance(body.get("successful"), bool):
        raise ValidationError("The body must be {successful: bool}.")
    backup = _backup_of_node(ports, node, backup_uuid)
    if backup.status != bk.RESTORING:
        _resume(ports, task_waits.restore_subject(backup.uuid), restore_outcome(backup))
        return backup
    now = ports.clock()
    successful = bool(body["successful"])
    updated = _save_transition(ports, bk.restored(backup, successful, now), bk.RESTORING)
    _server_back(ports, backup, now, restored=successful)
    _resume(ports, task_waits.restore_subject(backup.uuid), restore_outcome(updated))
    return updated


def restore_outcome(backup: Backup) -> Outcome | None:
    """How ``restore_backup``'s wait ends, once Wings reported the restore (else None)."""
    if backup.status == bk.RESTORING:
        return None
    if backup.restore_result == "failed":
        return Outcome.failed("BackupFailedError", "The node reported that the restore failed.")
    return Outcome(output={"state": "restored"})


def _server_back(ports: BackupPorts, backup: Backup, now: str, *, restored: bool) -> None:
    """The server leaves ``restoring``: ``offline`` after a restore (Wings stops the server to
    restore it and does not start it again), the status it had before after a failed one, so a
    restore the node refused does not leave a running server shown as ``offline`` (the
    reconcile schedule then follows Wings' own view of a stopped one)."""
    try:
        server: Server = ports.servers.get(backup.server_uuid)
    except NotFoundError:
        return
    if server.status != bk.SERVER_RESTORING:
        return
    status = srv.OFFLINE
    if not restored and backup.server_status_before in RESTORE_FROM:
        status = str(backup.server_status_before)
    ports.servers.save(replace(server, status=status, updated_at=now))


# --- workflow tasks (functions/tasks/backups.py) ---


def _node_of(ports: BackupPorts, server: Server) -> Node:
    node: Node = ports.nodes.get(server.node_id)
    return node


def task_request_backup(ports: BackupPorts, backup_uuid: str, op_id: str | None) -> dict[str, Any]:
    """Ask Wings for an S3 backup (adapter ``s3``). WingsUnavailableError is retried by the ASL."""
    backup: Backup = ports.backups.get(backup_uuid)
    bk.require(backup, bk.PENDING, bk.UPLOADING)
    server: Server = ports.servers.get(backup.server_uuid)
    _record(ports, op_id, "request_backup", "running")
    ports.agent_for(_node_of(ports, server)).create_backup(
        server.uuid, backup.uuid, adapter="s3", ignore="\n".join(backup.ignored)
    )
    _record(ports, op_id, "request_backup", "succeeded")
    _record(ports, op_id, "upload", "running")
    return {"state": backup.status, "attempts": 0}


def task_request_and_await_backup(
    ports: BackupPorts, backup_uuid: str, op_id: str | None, token: str, timeout_seconds: int
) -> dict[str, Any]:
    """The ``.waitForTaskToken`` task of ``backup_server``, one state for the request and the
    whole wait (each state is a billed transition, docs/cost.md): park the token, ask Wings for
    the backup unless an earlier attempt's request got through (the backup is no longer
    ``pending``), and leave the workflow to Wings' completion callback, which resumes it with
    ``{"state": "completed"}`` or fails it with BackupFailedError. A completion that came first
    is delivered here. WingsUnavailableError is retried by the ASL, with a fresh token."""

    def request_then_read() -> Outcome | None:
        if ports.backups.get(backup_uuid).status == bk.PENDING:
            task_request_backup(ports, backup_uuid, op_id)
        return backup_outcome(ports.backups.get(backup_uuid))

    return task_waits.park(
        _waits(ports), task_waits.backup_subject(backup_uuid), token, timeout_seconds, request_then_read
    )


def task_complete_backup(ports: BackupPorts, backup_uuid: str, op_id: str | None) -> dict[str, Any]:
    """After the completion: verify the object, then count, rotate and emit (one state)."""
    verified = task_verify_backup(ports, backup_uuid, op_id)
    return {**verified, **task_finalize_backup(ports, backup_uuid, op_id)}


def _waits(ports: BackupPorts) -> WaitPorts:
    if ports.waits is None:
        raise RuntimeError("these BackupPorts were built without waits")
    return ports.waits


def task_verify_backup(ports: BackupPorts, backup_uuid: str, op_id: str | None) -> dict[str, Any]:
    """HEAD the object: it must exist with the size Wings reported."""
    backup: Backup = ports.backups.get(backup_uuid)
    _record(ports, op_id, "upload", "succeeded")
    _record(ports, op_id, "verify", "running")
    size = ports.store.size(backup.s3_key)
    if size is None:
        raise BackupFailedError("The backup object is missing from storage.")
    if size != backup.size_bytes:
        raise BackupFailedError(f"The stored object has {size} bytes; the node reported {backup.size_bytes}.")
    _record(ports, op_id, "verify", "succeeded", f"{size} bytes")
    return {"size_bytes": size}


def task_finalize_backup(ports: BackupPorts, backup_uuid: str, op_id: str | None) -> dict[str, Any]:
    """Count the storage, rotate the oldest unlocked backups out, release the lock, emit
    ``backup.completed``. Safe to run twice (the count is applied once)."""
    backup: Backup = ports.backups.get(backup_uuid)
    ports.backups.count(backup, True)
    _record(ports, op_id, "retention", "running")
    rotated = apply_retention(ports, backup)
    _record(ports, op_id, "retention", "succeeded", f"rotated {len(rotated)}")
    ports.backups.release_lock(backup.server_uuid, backup.uuid)
    detail = json.dumps({"backup_id": backup.uuid, "size_bytes": backup.size_bytes, "checksum": backup.checksum})
    _record(ports, op_id, bk.EVENT_COMPLETED, "succeeded", detail)
    _event(
        ports,
        backup,
        bk.EVENT_COMPLETED,
        "success",
        size_bytes=backup.size_bytes,
        checksum=backup.checksum,
        operation_id=op_id,
        rotated=rotated,
    )
    _notify(ports, "backup.completed", backup, bytes=backup.size_bytes)
    _warn_storage(ports, backup)
    _finish(ports, op_id, "succeeded")
    return {"rotated": rotated}


def apply_retention(ports: BackupPorts, backup: Backup) -> list[str]:
    """When the tenant chose rotation, delete the oldest unlocked completed backups past the
    plan's per-server count (never ``backup`` itself). Returns the rotated uuids."""
    if not ports.backups.rotation(backup.tenant_id):
        return []
    limit = ports.quotas(backup.tenant_id).backups_per_server
    if limit < 0:
        return []
    others = [b for b in ports.backups.of_server(backup.server_uuid) if b.uuid != backup.uuid]
    victims = bk.rotation_candidates(others, max(limit - 1, 0))
    for victim in victims:
        ports.store.delete(victim.s3_key)
        ports.backups.count(victim, False)
        ports.backups.delete(victim.uuid)
        _event(ports, victim, "backup.rotated", "success", size_bytes=victim.size_bytes, replaced_by=backup.uuid)
    return [v.uuid for v in victims]


def task_fail_backup(ports: BackupPorts, backup_uuid: str, op_id: str | None, error: dict[str, str]) -> dict[str, Any]:
    """The compensation: abort the multipart upload (no orphaned parts), drop any object,
    mark the backup ``failed`` with the reason, release the lock, emit ``backup.failed``."""
    backup: Backup = ports.backups.get(backup_uuid)
    if backup.upload_id:
        ports.store.abort(backup.s3_key, backup.upload_id)
    ports.store.abort_all(backup.s3_key)
    ports.store.delete(backup.s3_key)  # a completed object that failed verification goes too
    if backup.counted:
        ports.backups.count(backup, False)
    reason = error.get("message") or "The backup failed."
    updated = bk.failed(backup, reason, ports.clock())
    ports.backups.save(updated)
    # Again now that the backup is ``failed``: a presign of a node that was still working (a
    # request that timed out reached it) may have opened an upload after the first abort; from
    # here on presign refuses a failed backup, so nothing can open another one.
    ports.store.abort_all(backup.s3_key)
    ports.backups.release_lock(backup.server_uuid, backup.uuid)
    _record(ports, op_id, bk.EVENT_FAILED, "failed", json.dumps({"backup_id": backup.uuid, "reason": reason}))
    _event(ports, backup, bk.EVENT_FAILED, "error", error_code=error.get("code"), reason=reason, operation_id=op_id)
    _notify(ports, "backup.failed", backup, reason=reason)
    _finish(ports, op_id, "failed", error)
    return {"status": bk.FAILED, "error": reason}


def task_request_restore(ports: BackupPorts, backup_uuid: str, truncate: bool, op_id: str | None) -> dict[str, Any]:
    """Ask Wings to restore from a presigned GET (Content-Type forced to the gzip type it requires)."""
    backup: Backup = ports.backups.get(backup_uuid)
    bk.require(backup, bk.RESTORING)
    server: Server = ports.servers.get(backup.server_uuid)
    _record(ports, op_id, "request_restore", "running")
    url = ports.store.download_url(backup.s3_key)
    ports.agent_for(_node_of(ports, server)).restore_backup(
        server.uuid, backup.uuid, adapter="s3", truncate_directory=truncate, download_url=url
    )
    _record(ports, op_id, "request_restore", "succeeded")
    _record(ports, op_id, "restore", "running")
    return {"state": bk.RESTORING, "attempts": 0}


def task_request_and_await_restore(
    ports: BackupPorts, backup_uuid: str, truncate: bool, op_id: str | None, token: str, timeout_seconds: int
) -> dict[str, Any]:
    """The ``.waitForTaskToken`` task of ``restore_backup``, one state for the request and the
    wait: park the token, ask Wings to restore while the backup is still ``restoring`` (a
    report that came first is delivered here instead), and leave the rest to Wings' restore
    callback. WingsUnavailableError is retried by the ASL, with a fresh token."""

    def request_then_read() -> Outcome | None:
        if ports.backups.get(backup_uuid).status == bk.RESTORING:
            task_request_restore(ports, backup_uuid, truncate, op_id)
        return restore_outcome(ports.backups.get(backup_uuid))

    return task_waits.park(
        _waits(ports), task_waits.restore_subject(backup_uuid), token, timeout_seconds, request_then_read
    )


def task_finish_restore(ports: BackupPorts, backup_uuid: str, op_id: str | None) -> dict[str, Any]:
    backup: Backup = ports.backups.get(backup_uuid)
    _record(ports, op_id, "restore", "succeeded")
    _record(ports, op_id, "backup.restored", "succeeded", json.dumps({"backup_id": backup.uuid}))
    _event(ports, backup, "backup.restored", "success", operation_id=op_id)
    _finish(ports, op_id, "succeeded")
    return {"status": "restored"}


def task_fail_restore(ports: BackupPorts, backup_uuid: str, op_id: str | None, error: dict[str, str]) -> dict[str, Any]:
    """The backup is ``completed`` again and the server back to the status it had before."""
    backup: Backup = ports.backups.get(backup_uuid)
    now = ports.clock()
    if backup.status == bk.RESTORING:
        ports.backups.save(bk.restored(backup, False, now))
    _server_back(ports, backup, now, restored=False)
    reason = error.get("message") or "The restore failed."
    _record(ports, op_id, "backup.restore_failed", "failed", json.dumps({"backup_id": backup.uuid, "reason": reason}))
    _event(ports, backup, "backup.restore_failed", "error", error_code=error.get("code"), reason=reason)
    _finish(ports, op_id, "failed", error)
    return {"status": "failed", "error": reason}


def task_delete_object(ports: BackupPorts, backup_uuid: str, op_id: str | None) -> dict[str, Any]:
    """Delete the S3 object (and any open upload), then take its size off the counter."""
    try:
        backup: Backup = ports.backups.get(backup_uuid)
    except NotFoundError:
        return {"deleted": False}
    _record(ports, op_id, "delete_object", "running")
    if backup.upload_id:
        ports.store.abort(backup.s3_key, backup.upload_id)
    ports.store.abort_all(backup.s3_key)
    ports.store.delete(backup.s3_key)
    if backup.counted:
        ports.backups.count(backup, False)
    _record(ports, op_id, "delete_object", "succeeded")
    return {"deleted": True}


def task_delete_record(ports: BackupPorts, backup_uuid: str, op_id: str | None) -> dict[str, Any]:
    try:
        backup: Backup = ports.backups.get(backup_uuid)
    except NotFoundError:
        _finish(ports, op_id, "succeeded")
        return {"deleted": False}
    ports.backups.delete(backup.uuid)
    ports.backups.release_lock(backup.server_uuid, backup.uuid)
    _record(ports, op_id, "delete_record", "succeeded")
    _event(ports, backup, "backup.deleted", "success", size_bytes=backup.size_bytes, operation_id=op_id)
    _finish(ports, op_id, "succeeded")
    return {"deleted": True}


def task_fail_delete(ports: BackupPorts, backup_uuid: str, op_id: str | None, error: dict[str, str]) -> dict[str, Any]:
    """The object could not be deleted: the backup stays (``completed``, with the reason)."""
    try:
        backup: Backup = ports.backups.get(backup_uuid)
    except NotFoundError:
        backup = None  # type: ignore[assignment]
    reason = error.get("message") or "The backup could not be deleted."
    if backup is not None and backup.status == bk.DELETING:
        status = bk.COMPLETED if backup.completed_at else bk.FAILED
        ports.backups.save(replace(backup, status=status, error=reason, updated_at=ports.clock()))
    _finish(ports, op_id, "failed", error)
    return {"status": "failed", "error": reason}


# --- storage usage reconciliation (functions/schedules/backup_usage.py) ---


def reconcile_usage(ports: BackupPorts) -> list[UsageReport]:
    """Compare every tenant's counter with what S3 holds for its counted backups, and set the
    counter to the measured value when they differ (logged as a warning)."""
    reports: list[UsageReport] = []
    for tenant_id in ports.backups.tenants_with_usage():
        counted = [b for b in ports.backups.of_tenant(tenant_id) if b.counted]
        sizes: dict[str, int] = {}
        for server_uuid in sorted({b.server_uuid for b in counted}):
            sizes.update(ports.store.sizes_under(f"{server_uuid}/"))
        actual = sum(sizes.get(b.s3_key, 0) for b in counted)
        missing = [b.uuid for b in counted if b.s3_key not in sizes]
        recorded = ports.backups.usage(tenant_id)
        report = UsageReport(tenant_id, recorded, actual, missing)
        if report.drift or missing:
            logger.warning(
                "backup usage drift",
                extra={"tenant_id": tenant_id, "counted": recorded, "actual": actual, "missing": missing},
            )
        if report.drift:
            ports.backups.set_usage(tenant_id, actual, ports.clock())
        reports.append(report)
    return reports
