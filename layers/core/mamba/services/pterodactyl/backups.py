"""A server's backups through Pterodactyl's client API (``/api/client/servers/{server}/backups``).

Every call is ``mamba.services.backups``, the use cases /v1's backup routes call: the plan's
quota, the server's backup lock, the ``backup_server``/``restore_backup``/``delete_backup``
workflows with their compensation, the audit and the events are the same on both doors.

Pterodactyl's answers differ from /v1's only in shape: creating, restoring and deleting answer
with the backup (200) or nothing (204) instead of /v1's 202 with the operation (the work still
runs in the background, as it does on Pterodactyl); ``lock`` toggles, as Pterodactyl's does.
"""

from __future__ import annotations

from typing import Any

from mamba.auth.context import TenantContext
from mamba.domain import backups as bk
from mamba.domain.backups import Backup
from mamba.domain.errors import ConflictError
from mamba.domain.pterodactyl import Page, iso, item, paged
from mamba.services import backups as service
from mamba.services.backups import BackupPorts

# Pterodactyl pages backups 20 at a time by default, and never more than 50.
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 50
LOCK_ATTEMPTS = 3


def backup(found: Backup) -> dict[str, Any]:
    """A Mamba backup as Pterodactyl's ``backup`` object (keyed by its uuid, no integer id)."""
    return item(
        "backup",
        {
            "uuid": found.uuid,
            "is_successful": found.status in (bk.COMPLETED, bk.RESTORING),
            "is_locked": found.locked,
            "name": found.name,
            "ignored_files": list(found.ignored),
            "checksum": found.checksum,
            "bytes": int(found.size_bytes),
            "created_at": iso(found.created_at),
            "completed_at": iso(found.completed_at),
        },
    )


def list_backups(
    ports: BackupPorts, tenant: TenantContext, server_id: str, query: dict[str, str], base_url: str
) -> dict[str, Any]:
    """One page (oldest first, as Pterodactyl lists them) with ``meta.backup_count``: the
    server's backups that did not fail."""
    asked = Page.from_query(query, default=DEFAULT_PER_PAGE)
    page = Page(page=asked.page, per_page=min(asked.per_page, MAX_PER_PAGE))
    found = sorted(service.list_backups(ports, tenant, server_id), key=lambda b: b.created_at)
    body = paged([backup(b) for b in page.slice(found)], page, len(found), base_url)
    body["meta"]["backup_count"] = sum(1 for b in found if b.status != bk.FAILED)
    return body


def create_backup(
    ports: BackupPorts,
    tenant: TenantContext,
    server_id: str,
    name: str | None,
    ignored: str | None,
    locked: bool,
) -> dict[str, Any]:
    """Start a backup (``ignored`` is Pterodactyl's newline-separated list); ``is_locked``
    locks it at once, as Pterodactyl stores it locked from the start."""
    patterns = [line for line in (ignored or "").splitlines() if line.strip()]
    created, _operation = service.create_backup(ports, tenant, server_id, name or None, patterns)
    if locked:
        created = _lock_new(ports, tenant, server_id, created.uuid)
    return backup(created)


def _lock_new(ports: BackupPorts, tenant: TenantContext, server_id: str, backup_id: str) -> Backup:
    """Lock a backup whose workflow has just started: the lock is a conditional write on the
    backup's status, which the workflow may move meanwhile, so a lost race reads it again."""
    for attempt in range(LOCK_ATTEMPTS):
        try:
            return service.set_lock(ports, tenant, server_id, backup_id, True)
        except ConflictError:
            if attempt == LOCK_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def get_backup(ports: BackupPorts, tenant: TenantContext, server_id: str, backup_id: str) -> dict[str, Any]:
    return backup(service.backup_of_server(ports, tenant, server_id, backup_id))


def toggle_lock(ports: BackupPorts, tenant: TenantContext, server_id: str, backup_id: str) -> dict[str, Any]:
    current = service.backup_of_server(ports, tenant, server_id, backup_id)
    return backup(service.set_lock(ports, tenant, server_id, backup_id, not current.locked))


def download(ports: BackupPorts, tenant: TenantContext, server_id: str, backup_id: str) -> dict[str, Any]:
    return item("signed_url", {"url": service.download_url(ports, tenant, server_id, backup_id)})


def restore(ports: BackupPorts, tenant: TenantContext, server_id: str, backup_id: str, truncate: bool) -> None:
    service.restore_backup(ports, tenant, server_id, backup_id, truncate)


def delete(ports: BackupPorts, tenant: TenantContext, server_id: str, backup_id: str) -> None:
    service.delete_backup(ports, tenant, server_id, backup_id)
