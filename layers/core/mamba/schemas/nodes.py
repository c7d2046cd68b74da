"""Request and response models of /v1/admin/nodes and their allocations."""

from typing import Literal

from pydantic import Field

from mamba.schemas.common import Schema


class NodeIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    location: str = Field(default="", max_length=60, description="A location tag, e.g. fra or us-east")
    fqdn: str = Field(min_length=1, max_length=253, description="Host name (or IP) the panel and browsers reach")
    scheme: Literal["http", "https"] = "https"
    behind_proxy: bool = Field(default=False, description="TLS ends at a proxy in front of Wings")
    daemon_port: int = Field(default=8080, ge=1, le=65535)
    sftp_port: int = Field(default=2022, ge=1, le=65535)
    daemon_base: str = Field(default="/var/lib/pterodactyl/volumes", min_length=1, max_length=255)
    upload_limit_mb: int = Field(default=100, ge=1, le=10240)
    memory_mb: int = Field(ge=0, description="Total memory of the node, MiB")
    memory_overallocate_percent: int = Field(default=0, ge=-1, le=1000)
    disk_mb: int = Field(ge=0, description="Total disk of the node, MiB")
    disk_overallocate_percent: int = Field(default=0, ge=-1, le=1000)
    maintenance: bool = False
    allowed_tenants: list[str] = Field(default_factory=list, max_length=1000, description="Empty: every tenant")
    tags: list[str] = Field(default_factory=list, max_length=50)
    allowed_origins: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Browser origins Wings accepts (console, file transfers), scheme://host[:port]; "
        "empty: the panel's own origin",
    )


class NodePatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    location: str | None = Field(default=None, max_length=60)
    fqdn: str | None = Field(default=None, min_length=1, max_length=253)
    scheme: Literal["http", "https"] | None = None
    behind_proxy: bool | None = None
    daemon_port: int | None = Field(default=None, ge=1, le=65535)
    sftp_port: int | None = Field(default=None, ge=1, le=65535)
    daemon_base: str | None = Field(default=None, min_length=1, max_length=255)
    upload_limit_mb: int | None = Field(default=None, ge=1, le=10240)
    memory_mb: int | None = Field(default=None, ge=0)
    memory_overallocate_percent: int | None = Field(default=None, ge=-1, le=1000)
    disk_mb: int | None = Field(default=None, ge=0)
    disk_overallocate_percent: int | None = Field(default=None, ge=-1, le=1000)
    maintenance: bool | None = None
    allowed_tenants: list[str] | None = Field(default=None, max_length=1000)
    tags: list[str] | None = Field(default=None, max_length=50)
    allowed_origins: list[str] | None = Field(default=None, max_length=20)


class NodeHealthOut(Schema):
    status: str = Field(description="online | offline | unauthorized | unknown (from the node_health schedule)")
    version: str | None = Field(default=None, description="Wings version from the last good probe")
    last_seen_at: str | None = None
    checked_at: str | None = None


class NodeOut(Schema):
    id: str
    uuid: str
    name: str
    location: str
    fqdn: str
    scheme: str
    behind_proxy: bool
    daemon_port: int
    sftp_port: int
    daemon_base: str
    upload_limit_mb: int
    memory_mb: int
    memory_overallocate_percent: int
    disk_mb: int
    disk_overallocate_percent: int
    maintenance: bool
    allowed_tenants: list[str]
    tags: list[str]
    allowed_origins: list[str] = Field(description="As set; empty means the panel's own origin")
    token_id: str
    connection_address: str
    created_at: str
    updated_at: str
    health: NodeHealthOut | None = None


class NodeList(Schema):
    items: list[NodeOut]
    next_cursor: str | None = None


class AllocationsIn(Schema):
    ip: str = Field(min_length=2, max_length=45, description="IPv4 or IPv6 address Wings binds")
    ports: list[str | int] = Field(
        min_length=1, max_length=1000, description='Ports and ranges: [25565, "25570-25600"]; at most 1,000 ports'
    )
    alias: str | None = Field(default=None, max_length=191)
    notes: str | None = Field(default=None, max_length=1000)


class AllocationOut(Schema):
    id: str = Field(description="<ip>_<port>; use it to delete the allocation")
    ip: str
    port: int
    alias: str | None = None
    notes: str | None = None
    server_id: str | None = None
    assigned: bool
    created_at: str


class AllocationsCreated(Schema):
    items: list[AllocationOut]
    conflicts: list[str] = Field(description="ip:port entries that already existed and were left alone")


class AllocationList(Schema):
    items: list[AllocationOut]
    next_cursor: str | None = None
