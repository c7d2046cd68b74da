"""Request and response models of /v1/tenants/{tenant_id}/servers (docs/servers.md)."""

from typing import Any

from pydantic import BaseModel, Field, model_validator

from mamba.schemas.common import OperationOut, Schema


class LimitsIn(Schema):
    memory_mb: int = Field(ge=64, le=1024 * 1024, description="Memory, MiB")
    disk_mb: int = Field(ge=64, le=64 * 1024 * 1024, description="Disk, MiB")
    cpu_percent: int = Field(default=0, ge=0, le=10000, description="100 = one core; 0 = unlimited")
    swap_mb: int = Field(default=0, ge=-1, le=1024 * 1024, description="-1 = unlimited")
    io_weight: int = Field(default=500, ge=10, le=1000)
    threads: str | None = Field(default=None, pattern=r"^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$", max_length=100)
    oom_disabled: bool = True


class ServerIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    blueprint_id: str = Field(min_length=1, max_length=64)
    limits: LimitsIn
    environment: dict[str, str | int | float | bool] = Field(default_factory=dict, max_length=100)
    docker_image: str | None = Field(default=None, max_length=255, description="One of the blueprint's images")
    location: str | None = Field(default=None, max_length=60, description="Only nodes with this location")
    tag: str | None = Field(default=None, max_length=60, description="Only nodes with this tag")
    start_on_completion: bool = Field(default=False, description="Start the server once installed")


class AllocationOut(BaseModel):
    ip: str
    port: int

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, value: Any) -> Any:
        """A server record holds each allocation as an ``(ip, port)`` pair."""
        if isinstance(value, tuple) and len(value) == 2:
            return {"ip": value[0], "port": value[1]}
        return value


class LimitsOut(BaseModel):
    memory_mb: int
    disk_mb: int
    cpu_percent: int
    swap_mb: int
    io_weight: int
    threads: str | None = None
    oom_disabled: bool


class FeatureLimitsOut(BaseModel):
    backups: int
    allocations: int


class ServerOut(BaseModel):
    id: str = Field(description="The server's lowercase UUID v4 (the same as uuid)")
    uuid: str
    short_id: str = Field(description="First 8 characters of the uuid (SFTP user names end with it)")
    name: str
    description: str
    status: str
    status_reason: str | None = None
    suspended: bool
    node_id: str
    blueprint_id: str
    allocation: AllocationOut
    additional_allocations: list[AllocationOut]
    limits: LimitsOut
    feature_limits: FeatureLimitsOut
    docker_image: str
    created_at: str
    updated_at: str
    installed_at: str | None = None


class ServerList(BaseModel):
    items: list[ServerOut]
    next_cursor: str | None = None


class ServerCreated(BaseModel):
    server: ServerOut
    operation: OperationOut
