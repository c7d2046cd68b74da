"""Request and response models of the backup routes (docs/backups.md)."""

from typing import Literal

from pydantic import Field

from mamba.schemas.common import OperationOut, Schema


class BackupIn(Schema):
    name: str | None = Field(default=None, max_length=191)
    ignored: list[str] = Field(default_factory=list, max_length=200, description="gitignore-style patterns")


class RestoreIn(Schema):
    truncate: bool = Field(default=False, description="Delete the server's files before extracting")


class BackupSettingsIn(Schema):
    rotate: bool = Field(description="At the per-server limit, replace the oldest unlocked backup")


class BackupOut(Schema):
    id: str
    uuid: str
    server_id: str
    name: str
    status: Literal["pending", "uploading", "completed", "failed", "restoring", "deleting"]
    size_bytes: int
    checksum: str | None = None
    locked: bool
    ignored: list[str]
    created_at: str
    completed_at: str | None = None
    error: str | None = None
    orphaned_at: str | None = Field(
        default=None,
        description="When its server was deleted: a locked backup outlives its server until it is unlocked and "
        "deleted, or the tenant is deleted",
    )


class TenantBackupQuery(Schema):
    orphaned: bool | None = Field(
        default=None,
        description="true: only backups whose server was deleted (kept because they are locked); "
        "false: only backups of existing servers; absent: all",
    )


class BackupList(Schema):
    items: list[BackupOut]
    next_cursor: str | None = None


class BackupOperationOut(Schema):
    backup: BackupOut
    operation: OperationOut


class DownloadOut(Schema):
    url: str
    expires_in: int


class BackupSettingsOut(Schema):
    rotate: bool
    usage_bytes: int
    quota_bytes: int = Field(description="-1 = unlimited")
    backups_per_server: int = Field(description="-1 = unlimited")
