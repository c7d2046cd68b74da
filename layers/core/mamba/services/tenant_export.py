"""An admin's export of one tenant (``POST /v1/admin/tenants/{id}/export``): a JSON archive of
the tenant's records, written to the export bucket, answered with a short-lived download link.

The archive holds every record kept under the tenant (profile, members, invitations, roles,
operations, usage, credits, notices, audit entries) and its servers and backups, grouped by
kind. Secrets never leave: the record reader drops every attribute that holds a hash, secret
or token, and the index keys. The object is written in one PutObject, so a download never
sees half an archive; the bucket deletes it after 7 days (infra/template.py ``EXPORT_DAYS``).
The route is a mutation, so the audit log records who exported which tenant.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mamba.domain.clock import iso, new_id, utcnow
from mamba.services.admin import AdminRepository

FORMAT = "mamba.tenant-export/v1"
LINK_SECONDS = 15 * 60


class TenantRecords(Protocol):
    def records(self, tenant_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every record of the tenant, by kind, without secrets (see the module docstring)."""


class ExportStore(Protocol):
    def put_json(self, key: str, body: bytes) -> None:
        """Raises DependencyUnavailableError."""

    def download_url(self, key: str, filename: str, seconds: int) -> str: ...

    def delete_tenant(self, tenant_id: str) -> int:
        """Delete every archive of the tenant (its data deletion, mamba.services.retention)."""


@dataclass(frozen=True)
class TenantExport:
    export_id: str
    tenant_id: str
    key: str
    url: str
    expires_in: int
    created_at: str
    counts: dict[str, int]
    size_bytes: int


def export_tenant(
    repo: AdminRepository,
    records: TenantRecords,
    store: ExportStore,
    tenant_id: str,
    actor_id: str,
    *,
    now: Callable[[], str] = lambda: iso(utcnow()),
    ids: Callable[[str], str] = new_id,
) -> TenantExport:
    """Write the tenant's archive and sign a download link. Raises NotFoundError (no such
    tenant) and DependencyUnavailableError (DynamoDB or S3)."""
    tenant = repo.get_tenant(tenant_id)
    found = records.records(tenant.id)
    moment, export_id = now(), ids("exp")
    archive = {
        "format": FORMAT,
        "tenant_id": tenant.id,
        "tenant_name": tenant.name,
        "exported_at": moment,
        "exported_by": actor_id,
        "records": found,
    }
    body = json.dumps(archive, sort_keys=True, indent=1, default=str).encode()
    key = f"tenants/{tenant.id}/{moment.replace(':', '')}-{export_id}.json"
    store.put_json(key, body)
    filename = f"tenant-{tenant.id}-{moment[:10]}.json"
    return TenantExport(
        export_id=export_id,
        tenant_id=tenant.id,
        key=key,
        url=store.download_url(key, filename, LINK_SECONDS),
        expires_in=LINK_SECONDS,
        created_at=moment,
        counts={kind: len(rows) for kind, rows in sorted(found.items())},
        size_bytes=len(body),
    )
