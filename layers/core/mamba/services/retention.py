"""Deleting a tenant's data: after a canceled subscription's retention period (the retention
job, ``billing_sync.dunning_check``), or with the account of its last owner when it holds no
server (``accounts.delete_account``). docs/tenancy.md "Deleting a tenant's data".

``delete_tenant_data`` is called again and again until it answers ``done``; each call does
what it can and never waits:

1. **Servers** go through the ``delete_server`` workflow, one per server, which kills the
   server, deletes it on its node, releases its allocations and deletes its backups with their
   S3 objects, except locked ones, which outlive their server (step 2 removes them). A server whose delete
   failed before (``deleting`` or ``failed`` without a running operation, e.g. its node stayed
   down) is force-deleted: the node calls are tried once, and the reconcile schedule removes
   what the node still holds once it is back. A server another operation holds is left for
   the next call. Members' **API keys limited to the tenant's servers** are revoked (their whole
   reach is going; a key that also reaches other tenants' servers, or no server in particular,
   belongs to the member's other work and stays).
2. Once no server is left and none of the tenant's operations of the last ``OPEN_WINDOW``
   seconds is pending or running (the delete workflows write their last step into the
   tenant's operations after the server's records are gone; an older one that never finished
   is a workflow that died, and must not hold the deletion forever), any **backup** left
   (a locked one kept when its server was deleted, locked or not: the retention period is over)
   is deleted with its object, and so are an
   admin's **export archives** of the tenant (the export bucket, ``tenants/<tid>/``).
3. Then the tenant's **records** (``TenantDataStore.purge``): members, invitations, roles,
   operations, usage, notices and counters, and last the profile, with a tombstone. The audit
   log and the credit ledger are kept (``mamba.domain.retention.KEPT``).

Errors: DependencyUnavailableError from the stores (the next run tries again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from mamba.auth.context import TenantContext
from mamba.domain import servers as srv
from mamba.domain.api_keys import ApiKey, KeyPage
from mamba.domain.clock import iso, now_epoch, utcnow
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.retention import PURGE_BUDGET
from mamba.domain.server_lifecycle import LOCK_SECONDS
from mamba.observability import logger
from mamba.ports import AuditLog, TenantDataStore
from mamba.services import audit as audit_service
from mamba.services import backups as backups_service
from mamba.services import server_lifecycle as lifecycle

OPEN_WINDOW = LOCK_SECONDS  # a server's lifecycle operation that ran longer than its lock is dead


class KeyStore(Protocol):
    def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> KeyPage: ...
    def revoke(self, user_id: str, key_id: str, at: str) -> ApiKey: ...


@dataclass(frozen=True)
class RetentionPorts:
    """Built by ``mamba.bootstrap.retention_ports``."""

    lifecycle: lifecycle.Lifecycle  # its servers, locks, operations and workflows; its backups
    data: TenantDataStore
    audit: AuditLog | None = None
    keys: KeyStore | None = None
    members: Callable[[str], list[str]] | None = None  # tenant id -> its members' user ids
    exports: Callable[[str], int] | None = None  # tenant id -> its admin export archives deleted


@dataclass(frozen=True)
class Progress:
    """Where a tenant's deletion stands after one call."""

    done: bool
    servers: int = 0  # servers still there
    started: int = 0  # delete workflows started by this call
    revoked_keys: int = 0  # members' API keys limited to the tenant's servers, revoked by this call
    removed: dict[str, int] = field(default_factory=dict)  # records deleted, by kind


def _system(tenant_id: str) -> TenantContext:
    return TenantContext(tenant_id=tenant_id, role="system", permissions=frozenset())


def _delete_server(deps: lifecycle.Lifecycle, server: srv.Server) -> bool:
    """Start the server's delete; False when another operation holds it (the next call tries)."""
    try:
        if server.status in (srv.DELETING, srv.FAILED):
            lifecycle.force_delete_server(deps, server.uuid)
        else:
            lifecycle.delete_server(deps, _system(server.tenant_id), server.uuid)
    except (ConflictError, NotFoundError) as exc:
        logger.info(
            "retention: server delete not started now",
            extra={"tenant_id": server.tenant_id, "server_id": server.uuid, "reason": exc.message},
        )
        return False
    return True


def _revoke_server_keys(ports: RetentionPorts, tenant_id: str, servers: set[str]) -> int:
    """Revoke the members' unrevoked keys whose every server is one of ``servers``."""
    if ports.keys is None or ports.members is None:
        return 0
    revoked = 0
    at = iso(utcnow())
    for user_id in ports.members(tenant_id):
        cursor: str | None = None
        while True:
            page = ports.keys.list_for_user(user_id, 100, cursor)
            for key in page.items:
                if key.revoked_at is None and key.server_ids and set(key.server_ids) <= servers:
                    ports.keys.revoke(user_id, key.id, at)
                    revoked += 1
            cursor = page.next_cursor
            if not cursor:
                break
    return revoked


def delete_tenant_data(ports: RetentionPorts, tenant_id: str, *, actor_id: str | None = None) -> Progress:
    """One step of deleting the tenant's data (see the module docstring); ``done`` once only
    the kept records remain. ``actor_id`` names who asked (an account deletion), for the audit."""
    deps = ports.lifecycle
    servers = deps.servers.of_tenant(tenant_id)
    if servers:
        revoked = _revoke_server_keys(ports, tenant_id, {server.uuid for server in servers})
        started = sum(_delete_server(deps, server) for server in servers)
        return Progress(done=False, servers=len(servers), started=started, revoked_keys=revoked)
    since = iso(datetime.fromtimestamp(now_epoch() - OPEN_WINDOW, UTC))
    if ports.data.open_operations(tenant_id, since):
        return Progress(done=False)
    backups = deps.backups
    if backups is not None:
        for backup in backups.backups.of_tenant(tenant_id):
            backups_service.task_delete_object(backups, backup.uuid, None)
            backups_service.task_delete_record(backups, backup.uuid, None)
    if ports.exports is not None:
        ports.exports(tenant_id)  # an admin's export archives: no copy of the data stays behind
    purged = ports.data.purge(tenant_id, iso(utcnow()), PURGE_BUDGET)
    if not purged.finished:
        return Progress(done=False, removed=purged.removed)
    removed = purged.removed
    if ports.audit is not None:
        audit_service.record(
            ports.audit,
            action="tenant.data_deleted",
            result="success",
            tenant_id=tenant_id,
            actor_id=actor_id,
            via="system" if actor_id is None else "token",
            target=tenant_id,
            details={"removed": removed, "reason": "account_deleted" if actor_id else "retention"},
        )
    logger.info("retention: tenant data deleted", extra={"tenant_id": tenant_id, "removed": removed})
    return Progress(done=True, removed=removed)
