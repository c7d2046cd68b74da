"""/api/client/servers/{server}/backups: a server's backups through the same use cases as /v1's
backup routes (mamba.services.pterodactyl.backups), each route under the same catalogue
permission as its /v1 twin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.pterodactyl_web import PteroCtx, ptero_route

if TYPE_CHECKING:
    from mamba.auth.context import TenantContext
    from mamba.services.pterodactyl import backups as service
else:
    service = lazy_import("mamba.services.pterodactyl.backups")

bp = Blueprint(__name__)
BACKUPS = "/api/client/servers/{server}/backups"
ONE = BACKUPS + "/{backup}"


def _on(ctx: PteroCtx) -> tuple[TenantContext, str]:
    """The path server's tenant as the guard verified it, and the server's uuid."""
    tenant = ctx.principal.tenant
    assert tenant is not None and ctx.server is not None  # a {server} route: the guard resolved both
    return tenant, ctx.server.ref


@ptero_route(bp, BACKUPS, "GET", permission="backups.read", summary="A page of the server's backups")
def list_backups(ctx: PteroCtx, server: str) -> Any:
    tenant, server_id = _on(ctx)
    base_url = bootstrap.settings().public_url.rstrip("/") + BACKUPS.format(server=server)
    return service.list_backups(bootstrap.backup_ports(), tenant, server_id, ctx.query, base_url)


@ptero_route(bp, BACKUPS, "POST", permission="backups.create", summary="Start a backup",
             request_model="pterodactyl_files:BackupIn")  # fmt: skip
def create_backup(ctx: PteroCtx, server: str) -> Any:
    tenant, server_id = _on(ctx)
    body = ctx.body
    ports = bootstrap.backup_ports()
    return service.create_backup(ports, tenant, server_id, body.name, body.ignored, bool(body.is_locked))


@ptero_route(bp, ONE, "GET", permission="backups.read", summary="One backup")
def get_backup(ctx: PteroCtx, server: str, backup: str) -> Any:
    tenant, server_id = _on(ctx)
    return service.get_backup(bootstrap.backup_ports(), tenant, server_id, backup)


@ptero_route(bp, ONE + "/download", "GET", permission="backups.download", summary="A download link")
def download_backup(ctx: PteroCtx, server: str, backup: str) -> Any:
    tenant, server_id = _on(ctx)
    return service.download(bootstrap.backup_ports(), tenant, server_id, backup)


@ptero_route(bp, ONE + "/lock", "POST", permission="backups.delete", summary="Lock or unlock a backup (toggles)")
def lock_backup(ctx: PteroCtx, server: str, backup: str) -> Any:
    tenant, server_id = _on(ctx)
    return service.toggle_lock(bootstrap.backup_ports(), tenant, server_id, backup)


@ptero_route(bp, ONE + "/restore", "POST", permission="backups.restore", summary="Restore a backup into its server",
             request_model="pterodactyl_files:RestoreIn", status=204)  # fmt: skip
def restore_backup(ctx: PteroCtx, server: str, backup: str) -> None:
    tenant, server_id = _on(ctx)
    service.restore(bootstrap.backup_ports(), tenant, server_id, backup, ctx.body.truncate)


@ptero_route(bp, ONE, "DELETE", permission="backups.delete", summary="Delete a backup (locked: 409)", status=204)
def delete_backup(ctx: PteroCtx, server: str, backup: str) -> None:
    tenant, server_id = _on(ctx)
    service.delete(bootstrap.backup_ports(), tenant, server_id, backup)
