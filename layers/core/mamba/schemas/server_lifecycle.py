"""Request and response models of a server's lifecycle routes (PATCH, DELETE, reinstall,
admin suspend/unsuspend/force-delete)."""

from pydantic import Field

from mamba.schemas.common import OperationOut, Schema
from mamba.schemas.servers import ServerOut


class LimitsPatch(Schema):
    memory_mb: int | None = Field(default=None, ge=64, description="Memory limit, MiB")
    disk_mb: int | None = Field(default=None, ge=128, description="Disk limit, MiB")
    cpu_percent: int | None = Field(default=None, ge=0, description="0 = unlimited, 100 = one core")
    swap_mb: int | None = Field(default=None, ge=-1, description="-1 = unlimited")
    io_weight: int | None = Field(default=None, ge=10, le=1000)
    threads: str | None = Field(default=None, max_length=100, description="A cpuset such as 0-1,3")
    oom_disabled: bool | None = None


class ServerPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    limits: LimitsPatch | None = None
    environment: dict[str, str | int | float | bool | None] | None = Field(
        default=None,
        max_length=100,
        description="Blueprint variables to change, checked against their rules; null restores a default",
    )


class ServerUpdatedOut(Schema):
    server: ServerOut
    operation: OperationOut | None = Field(
        default=None, description="update_server_build when the limits changed, else null"
    )


class OperationAcceptedOut(Schema):
    operation: OperationOut
