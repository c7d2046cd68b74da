"""Server backups stored in S3 (issue 6): the entity, its statuses and the pure rules
(quota, rotation, multipart parts, Wings' completion body). Standard library only.

A backup's bytes never pass through the panel: Wings uploads the archive straight to S3
through presigned multipart URLs and downloads it from a presigned GET (docs/backups.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Final

from mamba.domain.errors import ConflictError, QuotaExceededError, ValidationError
from mamba.domain.quotas import Quotas, unlimited

PENDING: Final = "pending"
UPLOADING: Final = "uploading"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
RESTORING: Final = "restoring"
DELETING: Final = "deleting"

STATUSES: Final = (PENDING, UPLOADING, COMPLETED, FAILED, RESTORING, DELETING)
RUNNING: Final = frozenset({PENDING, UPLOADING})  # the backup workflow is still at work

# The server's status while Wings restores a backup into it (back to ``offline`` after).
SERVER_RESTORING: Final = "restoring"

CONTENT_TYPE: Final = "application/x-gzip"  # Wings accepts application/gzip or application/x-gzip
MAX_PARTS: Final = 10_000  # S3's limit on parts per multipart upload
MAX_NAME: Final = 191
MAX_IGNORED: Final = 200
SHA1: Final = re.compile(r"^[0-9a-f]{40}$")
UUID_V4: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# Events recorded on the operation and in the audit log (notifications and webhooks read them).
EVENT_COMPLETED: Final = "backup.completed"
EVENT_FAILED: Final = "backup.failed"


@dataclass(frozen=True)
class Backup:
    uuid: str
    server_uuid: str
    tenant_id: str
    node_id: str
    name: str
    status: str
    created_at: str
    updated_at: str
    ignored: tuple[str, ...] = ()
    size_bytes: int = 0
    checksum: str | None = None  # "sha1:<hex>", as the reference panel stores it
    upload_id: str | None = None
    part_count: int = 0
    locked: bool = False
    counted: bool = False  # its size is in the tenant's usage counter
    completed_at: str | None = None
    error: str | None = None
    operation_id: str | None = None
    restore_result: str | None = None
    server_status_before: str | None = None
    # When its server was deleted while the backup was locked: the backup outlives the server
    # (listed under the tenant, downloadable, deletable once unlocked) until the tenant goes.
    orphaned_at: str | None = None

    @property
    def id(self) -> str:
        return self.uuid

    @property
    def server_id(self) -> str:
        """The panel's id of the server (its uuid), as the API names it."""
        return self.server_uuid

    @property
    def s3_key(self) -> str:
        return s3_key(self.server_uuid, self.uuid)


def s3_key(server_uuid: str, backup_uuid: str) -> str:
    return f"{server_uuid}/{backup_uuid}.tar.gz"


def clean_ignored(ignored: list[str] | None) -> tuple[str, ...]:
    """The ignore list (gitignore syntax, one pattern per entry): stripped, no blanks, no newlines."""
    patterns: list[str] = []
    for raw in ignored or []:
        if "\n" in raw or "\r" in raw or "\x00" in raw:
            raise ValidationError("An ignore pattern is one line.", {"field": "ignored"})
        pattern = raw.strip()
        if pattern:
            patterns.append(pattern)
    if len(patterns) > MAX_IGNORED:
        raise ValidationError(f"At most {MAX_IGNORED} ignore patterns.", {"field": "ignored"})
    return tuple(patterns)


def new_backup(
    backup_uuid: str,
    server_uuid: str,
    tenant_id: str,
    node_id: str,
    name: str | None,
    ignored: tuple[str, ...],
    now: str,
) -> Backup:
    if not UUID_V4.match(backup_uuid):
        raise ValidationError("A backup uuid is a lowercase UUID v4.", {"uuid": backup_uuid})
    label = (name or "").strip() or f"Backup at {now}"
    return Backup(
        uuid=backup_uuid,
        server_uuid=server_uuid,
        tenant_id=tenant_id,
        node_id=node_id,
        name=label[:MAX_NAME],
        status=PENDING,
        created_at=now,
        updated_at=now,
        ignored=ignored,
    )


# --- quotas and rotation ---


@dataclass(frozen=True)
class QuotaDecision:
    """May a backup start, and which existing backup goes once it completed (rotation)."""

    rotate: bool


def check_quota(quotas: Quotas, existing: list[Backup], usage_bytes: int, rotation: bool) -> QuotaDecision:
    """Raise QuotaExceededError (403) when a new backup of the server is over the plan.

    ``existing`` are the server's backups (failed ones do not count). At the count limit a
    new backup is allowed only when the tenant chose rotation and one unlocked completed
    backup can go; the storage limit compares the tenant's counter with the plan."""
    if not unlimited(quotas.backup_bytes) and usage_bytes >= quotas.backup_bytes:
        raise QuotaExceededError(
            "The tenant's backup storage is full.",
            {"quota": "backup_bytes", "limit": quotas.backup_bytes, "used": usage_bytes},
        )
    if unlimited(quotas.backups_per_server):
        return QuotaDecision(rotate=False)
    kept = [b for b in existing if b.status != FAILED]
    if len(kept) < quotas.backups_per_server:
        return QuotaDecision(rotate=False)
    if rotation and rotation_candidates(kept, quotas.backups_per_server - 1):
        return QuotaDecision(rotate=True)
    raise QuotaExceededError(
        "The server has as many backups as the plan allows.",
        {"quota": "backups_per_server", "limit": quotas.backups_per_server, "used": len(kept), "rotation": rotation},
    )


def rotation_candidates(backups: list[Backup], keep: int) -> list[Backup]:
    """The oldest unlocked completed backups to delete so that at most ``keep`` remain
    (locked and unfinished ones are never rotated out; they still count)."""
    kept = [b for b in backups if b.status != FAILED]
    excess = len(kept) - max(keep, 0)
    if excess <= 0:
        return []
    unlocked = sorted((b for b in kept if b.status == COMPLETED and not b.locked), key=lambda b: (b.created_at, b.uuid))
    return unlocked[:excess]


# --- the S3 multipart handshake (wings-contract.md §5.9) ---


# No signed URL the panel mints outlives 15 minutes (docs/security.md, "Signed URLs"), with
# one documented exception: a multipart part URL of a backup too large to upload within 15
# minutes. Wings asks for every part URL once, before the first PUT, and uploads the parts
# one after another (§5.9), so part i can only start once parts 1..i-1 are up.
SIGNED_URL_MAX_SECONDS: Final = 15 * 60
PART_URL_MAX_SECONDS: Final = 60 * 60  # the reference panel's lifetime for every part URL
UPLOAD_FLOOR_BYTES_PER_SECOND: Final = 8 * 1024**2  # the slowest node uplink we plan for (64 Mbit/s)


PART_URL_MARGIN_SECONDS: Final = 10 * 60  # past a part's planned start: retries, a slower stretch


def part_url_lifetimes(parts: int, part_size: int, floor: int = UPLOAD_FLOOR_BYTES_PER_SECOND) -> list[int]:
    """Seconds each part URL lives: 15 minutes, or longer only for a part that cannot start
    within 5 minutes (the parts before it take that long at ``floor`` bytes/s): then its
    planned start plus a 10-minute margin, never more than an hour. Part 1, and every part
    of a backup of up to about 2.4 GB before its last part, gets exactly 15 minutes."""
    lifetimes = []
    for number in range(1, parts + 1):
        starts_after = math.ceil((number - 1) * part_size / floor)
        lifetimes.append(min(PART_URL_MAX_SECONDS, max(SIGNED_URL_MAX_SECONDS, starts_after + PART_URL_MARGIN_SECONDS)))
    return lifetimes


def part_count(size: int, part_size: int) -> int:
    """How many parts Wings uploads: ``ceil(size / part_size)``, at least one."""
    if part_size <= 0:
        raise ValueError("part_size must be positive")
    return max(1, math.ceil(size / part_size))


def parse_size(raw: str | None, part_size: int) -> int:
    """``?size=`` of the presign call: empty or not a non-negative integer → 400."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError("The size query parameter is required.", {"field": "size"})
    if not text.isdigit():
        raise ValidationError("The size must be a non-negative integer.", {"field": "size"})
    size = int(text)
    if part_count(size, part_size) > MAX_PARTS:
        raise ValidationError("The backup is too large for the configured part size.", {"size": size})
    return size


@dataclass(frozen=True)
class Completion:
    successful: bool
    checksum: str = ""
    size: int = 0
    parts: tuple[tuple[int, str], ...] | None = None  # (part_number, etag)


def parse_completion(body: Any) -> Completion:
    """Wings' ``POST /api/remote/backups/{uuid}`` body (§5.9)."""
    if not isinstance(body, dict) or not isinstance(body.get("successful"), bool):
        raise ValidationError("The body must be {checksum, checksum_type, size, successful, parts}.")
    if not body["successful"]:
        return Completion(successful=False)
    checksum = str(body.get("checksum") or "").lower()
    checksum_type = str(body.get("checksum_type") or "sha1").lower()
    size = body.get("size")
    if checksum_type != "sha1" or not SHA1.match(checksum):
        raise ValidationError("A successful backup reports a sha1 checksum.", {"field": "checksum"})
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValidationError("A successful backup reports its size in bytes.", {"field": "size"})
    raw_parts = body.get("parts")
    parts: tuple[tuple[int, str], ...] | None = None
    if raw_parts is not None:
        if not isinstance(raw_parts, list):
            raise ValidationError("parts must be a list.", {"field": "parts"})
        found = []
        for part in raw_parts:
            if not isinstance(part, dict):
                raise ValidationError("Each part is {etag, part_number}.", {"field": "parts"})
            number, etag = part.get("part_number"), part.get("etag")
            if not isinstance(number, int) or isinstance(number, bool) or number < 1 or not isinstance(etag, str):
                raise ValidationError("Each part is {etag, part_number}.", {"field": "parts"})
            found.append((number, etag))
        parts = tuple(sorted(found))
    return Completion(successful=True, checksum=checksum, size=size, parts=parts)


# --- transitions ---


def require(backup: Backup, *allowed: str) -> None:
    if backup.status not in allowed:
        raise ConflictError(
            f"The backup is {backup.status}; this needs it to be {' or '.join(allowed)}.",
            {"uuid": backup.uuid, "status": backup.status},
        )


def uploading(backup: Backup, upload_id: str, parts: int, now: str) -> Backup:
    return replace(backup, status=UPLOADING, upload_id=upload_id, part_count=parts, updated_at=now)


def completed(backup: Backup, completion: Completion, now: str) -> Backup:
    return replace(
        backup,
        status=COMPLETED,
        size_bytes=completion.size,
        checksum=f"sha1:{completion.checksum}",
        completed_at=now,
        updated_at=now,
        error=None,
    )


def failed(backup: Backup, reason: str, now: str) -> Backup:
    return replace(backup, status=FAILED, error=reason[:500], upload_id=None, updated_at=now)


def with_lock(backup: Backup, locked: bool, now: str) -> Backup:
    require(backup, COMPLETED, PENDING, UPLOADING, RESTORING)
    return replace(backup, locked=locked, updated_at=now)


def restoring(backup: Backup, server_status: str, now: str) -> Backup:
    require(backup, COMPLETED)
    return replace(backup, status=RESTORING, restore_result=None, server_status_before=server_status, updated_at=now)


def restored(backup: Backup, successful: bool, now: str) -> Backup:
    return replace(backup, status=COMPLETED, restore_result="successful" if successful else "failed", updated_at=now)


def outlives_server(backup: Backup) -> bool:
    """A locked, completed backup is kept when its server is deleted (the tenant locked it to
    keep it), also one that was being restored into the server; anything else goes with it."""
    return backup.locked and backup.status in (COMPLETED, RESTORING)


def deleting(backup: Backup, now: str) -> Backup:
    if backup.locked:
        raise ConflictError("The backup is locked; unlock it before deleting it.", {"uuid": backup.uuid})
    require(backup, COMPLETED, FAILED, DELETING)
    return replace(backup, status=DELETING, updated_at=now)


@dataclass(frozen=True)
class UsageReport:
    """What the reconciliation job found for one tenant."""

    tenant_id: str
    counted_bytes: int
    actual_bytes: int
    missing_objects: list[str] = field(default_factory=list)

    @property
    def drift(self) -> int:
        return self.actual_bytes - self.counted_bytes


@dataclass(frozen=True)
class BackupPolicy:
    part_size: int
    timeout_seconds: int  # how long a backup or restore waits for the node's callback
