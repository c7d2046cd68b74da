"""Requests and responses of /v1/admin/application-keys (Pterodactyl application keys)."""

from typing import Literal

from pydantic import Field

from mamba.schemas.common import EpochTime, Schema

Right = Literal["none", "read", "read-write"]


class ApplicationRights(Schema):
    """Pterodactyl's per-resource rights; a resource left out is ``none``."""

    users: Right = "none"
    nodes: Right = "none"
    allocations: Right = "none"
    locations: Right = "none"
    servers: Right = "none"
    nests: Right = "none"
    eggs: Right = "none"


class ApplicationKeyCreate(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["WHMCS"])
    permissions: ApplicationRights
    allowed_ips: list[str] | None = Field(default=None, max_length=20, description="CIDRs the key may be used from")


class ApplicationKeyOut(Schema):
    id: str
    name: str
    prefix: str = Field(description="The public part of the key: ptla_<user_id>.<key_id>")
    hint: str = Field(description="The last characters of the secret")
    permissions: dict[str, Right]
    allowed_ips: list[str]
    created_at: str
    revoked_at: str | None = None
    last_used_at: EpochTime = None
    last_used_ip: str | None = None


class ApplicationKeyCreated(ApplicationKeyOut):
    key: str = Field(description="The whole key (ptla_...). Shown once, in this response; store it now.")


class ApplicationKeyList(Schema):
    items: list[ApplicationKeyOut]
