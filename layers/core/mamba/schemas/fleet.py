"""Response models of the fleet routes: /v1/admin/servers, /v1/admin/nodes/{id}/servers and drain."""

from pydantic import Field

from mamba.schemas.common import Schema
from mamba.schemas.nodes import NodeOut


class NamedRef(Schema):
    id: str
    name: str | None = Field(description="None when the record is gone")


class AdminServerOut(Schema):
    uuid: str
    name: str
    status: str = Field(description="The stored lifecycle status (provisioning, installing, offline, suspended, ...)")
    tenant: NamedRef
    node: NamedRef
    memory_mb: int
    disk_mb: int
    allocation: str = Field(description="ip:port of the primary allocation")
    created_at: str
    updated_at: str


class AdminServerDetailOut(AdminServerOut):
    description: str
    status_reason: str | None = Field(description="Why the server is failed (or another status needing a word)")
    blueprint_id: str
    docker_image: str
    cpu_percent: int
    allocations: list[str] = Field(description="ip:port of every allocation, the primary first")
    installed_at: str | None


class AdminServerList(Schema):
    items: list[AdminServerOut]
    next_cursor: str | None = Field(
        default=None, description="Pages read a bounded number of servers: a filtered page may be short, even empty"
    )


class LiveStateOut(Schema):
    state: str = Field(description="running | starting | stopping | offline, as the node's Wings says now")
    is_suspended: bool


class NodeServerOut(AdminServerOut):
    live: LiveStateOut | None = Field(description="None: the node did not answer or does not know the server")


class NodeServerList(Schema):
    node_reachable: bool = Field(description="False: the node did not answer (live is null everywhere)")
    items: list[NodeServerOut]
    next_cursor: str | None = None


class DrainOut(Schema):
    node: NodeOut
    servers_left: int = Field(description="Servers still on the node (counted up to 100)")
