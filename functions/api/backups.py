"""/v1/tenants/{tenant_id}/servers/{server_id}/backups: backups to S3 (docs/backups.md).

The server comes from the ``{server_id}`` path (the guard checks server-scoped memberships
and API keys against it); another tenant's server or backup answers 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import Ctx, parse_query, route

if TYPE_CHECKING:
    from mamba.schemas import backups as schemas
    from mamba.schemas.backups import BackupIn, BackupSettingsIn, RestoreIn
    from mamba.services import backups as service
else:
    service = lazy_import("mamba.services.backups")
    schemas = lazy_import("mamba.schemas.backups")

bp = Blueprint(__name__)
TAGS = ("backups",)
BASE = "/v1/tenants/{tenant_id}/servers/{server_id}/backups"
ONE = BASE + "/{backup_id}"
# The tenant's backups whatever their server, so a locked backup outlives a deleted server.
TENANT_BASE = "/v1/tenants/{tenant_id}/backups"
TENANT_ONE = TENANT_BASE + "/{backup_id}"


def _with_operation(result: Any) -> dict[str, Any]:
    backup, op = result
    return {"backup": backup, "operation": op}


@route(bp, BASE, "POST", permission="backups.create", summary="Back up a server to S3", tags=TAGS,
       request_model="backups:BackupIn", response_model="backups:BackupOperationOut", status=202)  # fmt: skip
def create_backup(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, Any]:
    body: BackupIn = ctx.body
    ports = bootstrap.backup_ports()
    return _with_operation(service.create_backup(ports, ctx.tenant, server_id, body.name, body.ignored))


@route(bp, BASE, "GET", permission="backups.read", summary="List a server's backups", tags=TAGS,
       response_model="backups:BackupList")  # fmt: skip
def list_backups(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, Any]:
    backups = service.list_backups(bootstrap.backup_ports(), ctx.tenant, server_id)
    # One page: the plan's backups-per-server quota bounds the list, so no cursor is needed.
    return {"items": backups, "next_cursor": None}


@route(bp, ONE, "GET", permission="backups.read", summary="One backup", tags=TAGS, response_model="backups:BackupOut")
def get_backup(ctx: Ctx, tenant_id: str, server_id: str, backup_id: str) -> Any:
    return service.backup_of_server(bootstrap.backup_ports(), ctx.tenant, server_id, backup_id)


@route(bp, ONE, "DELETE", permission="backups.delete", summary="Delete a backup (locked: 409)", tags=TAGS,
       response_model="backups:BackupOperationOut", status=202)  # fmt: skip
def delete_backup(ctx: Ctx, tenant_id: str, server_id: str, backup_id: str) -> dict[str, Any]:
    return _with_operation(service.delete_backup(bootstrap.backup_ports(), ctx.tenant, server_id, backup_id))


@route(bp, ONE + "/restore", "POST", permission="backups.restore", summary="Restore a backup into its server",
       tags=TAGS, request_model="backups:RestoreIn", response_model="backups:BackupOperationOut",
       status=202)  # fmt: skip
def restore_backup(ctx: Ctx, tenant_id: str, server_id: str, backup_id: str) -> dict[str, Any]:
    body: RestoreIn = ctx.body
    ports = bootstrap.backup_ports()
    return _with_operation(service.restore_backup(ports, ctx.tenant, server_id, backup_id, body.truncate))


@route(bp, ONE + "/download", "GET", permission="backups.download", summary="A download link valid 5 minutes",
       tags=TAGS, response_model="backups:DownloadOut")  # fmt: skip
def download_backup(ctx: Ctx, tenant_id: str, server_id: str, backup_id: str) -> dict[str, Any]:
    from mamba.adapters.s3_backups import DOWNLOAD_URL_SECONDS

    url = service.download_url(bootstrap.backup_ports(), ctx.tenant, server_id, backup_id)
    return {"url": url, "expires_in": DOWNLOAD_URL_SECONDS}


@route(bp, ONE + "/lock", "POST", permission="backups.delete", summary="Lock a backup against deletion and rotation",
       tags=TAGS, response_model="backups:BackupOut")  # fmt: skip
def lock_backup(ctx: Ctx, tenant_id: str, server_id: str, backup_id: str) -> Any:
    return service.set_lock(bootstrap.backup_ports(), ctx.tenant, server_id, backup_id, True)


@route(bp, ONE + "/unlock", "POST", permission="backups.delete", summary="Unlock a backup", tags=TAGS,
       response_model="backups:BackupOut")  # fmt: skip
def unlock_backup(ctx: Ctx, tenant_id: str, server_id: str, backup_id: str) -> Any:
    return service.set_lock(bootstrap.backup_ports(), ctx.tenant, server_id, backup_id, False)


@route(bp, "/v1/tenants/{tenant_id}/backup-settings", "GET", permission="backups.read",
       summary="Backup storage used, the plan's limits and the rotation choice", tags=TAGS,
       response_model="backups:BackupSettingsOut")  # fmt: skip
def get_settings(ctx: Ctx, tenant_id: str) -> dict[str, Any]:
    return dict(service.settings_of(bootstrap.backup_ports(), ctx.tenant))


@route(bp, "/v1/tenants/{tenant_id}/backup-settings", "PUT", permission="backups.delete",
       summary="Choose whether the oldest unlocked backup is rotated out at the limit", tags=TAGS,
       request_model="backups:BackupSettingsIn", response_model="backups:BackupSettingsOut")  # fmt: skip
def put_settings(ctx: Ctx, tenant_id: str) -> dict[str, Any]:
    body: BackupSettingsIn = ctx.body
    return dict(service.set_rotation(bootstrap.backup_ports(), ctx.tenant, body.rotate))


# --- the tenant's backups, including those whose server was deleted (orphaned) ---


@route(bp, TENANT_BASE, "GET", permission="backups.read",
       summary="List the tenant's backups (?orphaned=true: those whose server was deleted)", tags=TAGS,
       response_model="backups:BackupList", query="backups:TenantBackupQuery")  # fmt: skip
def list_tenant_backups(ctx: Ctx, tenant_id: str) -> dict[str, Any]:
    query = parse_query(ctx.request, schemas.TenantBackupQuery)
    backups = service.list_tenant_backups(bootstrap.backup_ports(), ctx.tenant, query.orphaned)
    # One page: backups per server are bounded by the plan, orphaned ones by the tenant's storage quota.
    return {"items": backups, "next_cursor": None}


@route(bp, TENANT_ONE, "GET", permission="backups.read", summary="One backup of the tenant", tags=TAGS,
       response_model="backups:BackupOut")  # fmt: skip
def get_tenant_backup(ctx: Ctx, tenant_id: str, backup_id: str) -> Any:
    return service.backup_of_tenant(bootstrap.backup_ports(), ctx.tenant, backup_id)


@route(bp, TENANT_ONE, "DELETE", permission="backups.delete", summary="Delete a backup of the tenant (locked: 409)",
       tags=TAGS, response_model="backups:BackupOperationOut", status=202)  # fmt: skip
def delete_tenant_backup(ctx: Ctx, tenant_id: str, backup_id: str) -> dict[str, Any]:
    return _with_operation(service.delete_backup(bootstrap.backup_ports(), ctx.tenant, None, backup_id))


@route(bp, TENANT_ONE + "/download", "GET", permission="backups.download",
       summary="A download link valid 5 minutes, for any backup of the tenant", tags=TAGS,
       response_model="backups:DownloadOut")  # fmt: skip
def download_tenant_backup(ctx: Ctx, tenant_id: str, backup_id: str) -> dict[str, Any]:
    from mamba.adapters.s3_backups import DOWNLOAD_URL_SECONDS

    url = service.download_url(bootstrap.backup_ports(), ctx.tenant, None, backup_id)
    return {"url": url, "expires_in": DOWNLOAD_URL_SECONDS}


@route(bp, TENANT_ONE + "/lock", "POST", permission="backups.delete", summary="Lock a backup of the tenant",
       tags=TAGS, response_model="backups:BackupOut")  # fmt: skip
def lock_tenant_backup(ctx: Ctx, tenant_id: str, backup_id: str) -> Any:
    return service.set_lock(bootstrap.backup_ports(), ctx.tenant, None, backup_id, True)


@route(bp, TENANT_ONE + "/unlock", "POST", permission="backups.delete", summary="Unlock a backup of the tenant",
       tags=TAGS, response_model="backups:BackupOut")  # fmt: skip
def unlock_tenant_backup(ctx: Ctx, tenant_id: str, backup_id: str) -> Any:
    return service.set_lock(bootstrap.backup_ports(), ctx.tenant, None, backup_id, False)
