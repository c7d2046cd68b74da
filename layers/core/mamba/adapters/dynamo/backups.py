"""Backups, the per-server running-backup lock and the tenant's storage counter (docs/data-model.md).

* ``BACKUP#<uuid>/PROFILE``: the backup; gsi1 ``SERVERBACKUPS#<server>`` / ``<created_at>#<uuid>``
  (a server's backups, oldest first), gsi2 ``TENANTBACKUPS#<tid>`` / same sort (a tenant's).
* ``SERVER#<uuid>/BACKUPLOCK``: exists while one backup of the server runs; created in the
  same transaction as the backup, on the condition that it does not exist.
* ``TENANT#<tid>/BACKUPS``: ``usage_bytes`` (atomic ADD), ``rotate``; gsi1 ``BACKUPUSAGE``.

A backup's size enters the counter in one transaction with ``counted=true`` on the backup
(conditional on ``counted`` being false), and leaves it the same way: a retried completion
or deletion never counts twice.
"""

from __future__ import annotations

from typing import Any

from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, Cancellation, get_or_none, translate
from mamba.adapters.dynamo.items import BackupItem, BackupLockItem, TenantBackupsItem
from mamba.adapters.dynamo.users import connection
from mamba.domain.backups import Backup
from mamba.domain.errors import ConflictError, NotFoundError


def _backup(item: BackupItem) -> Backup:
    return Backup(
        uuid=item.backup_uuid,
        server_uuid=item.server_uuid,
        tenant_id=item.tenant_id,
        node_id=item.node_id,
        name=item.name,
        status=item.status,
        created_at=item.created_at,
        updated_at=item.updated_at,
        ignored=tuple(str(p) for p in item.ignored or ()),
        size_bytes=int(item.size_bytes or 0),
        checksum=item.checksum,
        upload_id=item.upload_id,
        part_count=int(item.part_count or 0),
        locked=bool(item.locked),
        counted=bool(item.counted),
        completed_at=item.completed_at,
        error=item.error,
        operation_id=item.operation_id,
        restore_result=item.restore_result,
        server_status_before=item.server_status_before,
        orphaned_at=item.orphaned_at,
    )


def _item(backup: Backup) -> BackupItem:
    pk, sk = keys.backup(backup.uuid)
    sort = keys.created_sort(backup.created_at, backup.uuid)
    return BackupItem(
        pk,
        sk,
        kind="backup",
        gsi1pk=keys.backups_of_server(backup.server_uuid),
        gsi1sk=sort,
        gsi2pk=keys.backups_of_tenant(backup.tenant_id),
        gsi2sk=sort,
        backup_uuid=backup.uuid,
        server_uuid=backup.server_uuid,
        tenant_id=backup.tenant_id,
        node_id=backup.node_id,
        name=backup.name,
        ignored=list(backup.ignored),
        status=backup.status,
        size_bytes=backup.size_bytes,
        checksum=backup.checksum,
        s3_key=backup.s3_key,
        upload_id=backup.upload_id,
        part_count=backup.part_count,
        locked=backup.locked,
        counted=backup.counted,
        created_at=backup.created_at,
        completed_at=backup.completed_at,
        updated_at=backup.updated_at,
        error=backup.error,
        operation_id=backup.operation_id,
        restore_result=backup.restore_result,
        server_status_before=backup.server_status_before,
        orphaned_at=backup.orphaned_at,
    )


class DynamoBackupRepository:
    def add_running(self, backup: Backup) -> None:
        """Create the backup and take the server's running-backup lock, atomically.

        Raises ConflictError when another backup of the server is running (the lock exists)."""
        lock_pk, lock_sk = keys.backup_lock(backup.server_uuid)
        lock = BackupLockItem(
            lock_pk, lock_sk, kind="backup_lock", backup_uuid=backup.uuid, created_at=backup.created_at
        )

        def refused(cancelled: Cancellation) -> ConflictError | None:
            if cancelled.failed(1):
                return ConflictError("A backup of this server is already running.", {"server_id": backup.server_uuid})
            if cancelled.failed(0):
                return ConflictError("A backup with this uuid exists.", {"uuid": backup.uuid})
            return None

        with translate(on_cancel=refused, unavailable="The backup could not be saved; try again."):
            with TransactWrite(connection=connection()) as tx:
                tx.save(_item(backup), condition=BackupItem.pk.does_not_exist())
                tx.save(lock, condition=BackupLockItem.pk.does_not_exist())

    def running_lock(self, server_uuid: str) -> str | None:
        """The uuid of the backup holding the server's lock, or None."""
        lock = get_or_none(BackupLockItem, *keys.backup_lock(server_uuid), consistent_read=True)
        return str(lock.backup_uuid) if lock is not None else None

    def release_lock(self, server_uuid: str, backup_uuid: str) -> None:
        """Drop the server's lock if this backup holds it (idempotent)."""
        # A failed condition: another backup holds the lock, or nobody does (already released).
        with translate(on_condition=SKIP, unavailable="The backup lock could not be released; try again."):
            BackupLockItem(*keys.backup_lock(server_uuid)).delete(condition=BackupLockItem.backup_uuid == backup_uuid)

    def get(self, backup_uuid: str) -> Backup:
        with translate(on_missing=NotFoundError("Backup not found.", {"uuid": backup_uuid})):
            return _backup(BackupItem.get(*keys.backup(backup_uuid), consistent_read=True))

    def save(self, backup: Backup, expected_status: str | None = None) -> None:
        """Replace an existing backup; with ``expected_status`` only if it still has that
        status (ConflictError otherwise), so two concurrent transitions cannot both apply."""
        condition = BackupItem.pk.exists()
        if expected_status is not None:
            condition = condition & (BackupItem.status == expected_status)
        with translate(
            on_condition=ConflictError("The backup changed meanwhile.", {"uuid": backup.uuid}),
            unavailable="The backup could not be saved; try again.",
        ):
            _item(backup).save(condition=condition)

    def set_operation(self, backup_uuid: str, operation_id: str) -> None:
        """Record the workflow's operation id, touching nothing else (the workflow may
        already be moving the backup on)."""
        with translate(unavailable="The backup could not be saved; try again."):
            BackupItem(*keys.backup(backup_uuid)).update(
                actions=[BackupItem.operation_id.set(operation_id)], condition=BackupItem.pk.exists()
            )

    def delete(self, backup_uuid: str) -> None:
        BackupItem(*keys.backup(backup_uuid)).delete()

    def of_server(self, server_uuid: str) -> list[Backup]:
        """A server's backups, oldest first (one Query per 1 MB)."""
        with translate(unavailable="The server's backups could not be read; try again."):
            items = BackupItem.gsi1.query(keys.backups_of_server(server_uuid))
            return [_backup(i) for i in items if isinstance(i, BackupItem) and i.kind == "backup"]

    def of_tenant(self, tenant_id: str) -> list[Backup]:
        with translate(unavailable="The tenant's backups could not be read; try again."):
            items = BackupItem.gsi2.query(keys.backups_of_tenant(tenant_id))
            return [_backup(i) for i in items if isinstance(i, BackupItem) and i.kind == "backup"]

    # --- the tenant's storage counter and retention choice ---

    def _tenant_item(self, tenant_id: str) -> TenantBackupsItem | None:
        return get_or_none(TenantBackupsItem, *keys.tenant_backups(tenant_id), consistent_read=True)

    def usage(self, tenant_id: str) -> int:
        item = self._tenant_item(tenant_id)
        return int(item.usage_bytes or 0) if item is not None else 0

    def rotation(self, tenant_id: str) -> bool:
        item = self._tenant_item(tenant_id)
        return bool(item.rotate) if item is not None else False

    def _tenant_actions(self, tenant_id: str) -> list[Any]:
        return [
            TenantBackupsItem.kind.set("tenant_backups"),
            TenantBackupsItem.tenant_id.set(tenant_id),
            TenantBackupsItem.gsi1pk.set(keys.ALL_BACKUP_USAGE),
            TenantBackupsItem.gsi1sk.set(tenant_id),
        ]

    def set_rotation(self, tenant_id: str, rotate: bool) -> None:
        item = TenantBackupsItem(*keys.tenant_backups(tenant_id))
        item.update(actions=[*self._tenant_actions(tenant_id), TenantBackupsItem.rotate.set(rotate)])

    def count(self, backup: Backup, counted: bool) -> bool:
        """Move the backup's size into (``counted=True``) or out of the tenant's counter, once.

        Returns False when it already was in that state (a retried call)."""
        delta = backup.size_bytes if counted else -backup.size_bytes
        item = BackupItem(*keys.backup(backup.uuid))
        condition = BackupItem.counted == (not counted)
        tenant = TenantBackupsItem(*keys.tenant_backups(backup.tenant_id))
        # Only the backup's update has a condition: when it fails, the size was moved already.
        with translate(
            on_condition=SKIP, unavailable="The backup storage counter could not be updated; try again."
        ) as write:
            with TransactWrite(connection=connection()) as tx:
                tx.update(item, actions=[BackupItem.counted.set(counted)], condition=BackupItem.pk.exists() & condition)
                usage = TenantBackupsItem.usage_bytes.add(delta)
                tx.update(tenant, actions=[*self._tenant_actions(backup.tenant_id), usage])
        return not write.condition_failed

    def set_usage(self, tenant_id: str, usage_bytes: int, now: str) -> None:
        """Overwrite the counter with a measured value (the reconciliation job)."""
        item = TenantBackupsItem(*keys.tenant_backups(tenant_id))
        item.update(
            actions=[
                *self._tenant_actions(tenant_id),
                TenantBackupsItem.usage_bytes.set(usage_bytes),
                TenantBackupsItem.reconciled_at.set(now),
            ]
        )

    def tenants_with_usage(self) -> list[str]:
        with translate(unavailable="The backup counters could not be read; try again."):
            items = TenantBackupsItem.gsi1.query(keys.ALL_BACKUP_USAGE)
            return [str(i.gsi1sk) for i in items]
