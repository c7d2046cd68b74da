"""Requests and responses of /v1/me/api-keys."""

from typing import Literal

from pydantic import AwareDatetime, Field

from mamba.schemas.common import EpochTime, Schema


class ApiKeyCreate(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["deploy bot"])
    scopes: list[str] = Field(min_length=1, max_length=64, examples=[["servers.read", "servers.power"]])
    server_ids: list[str] | None = Field(default=None, max_length=100, description="Limit the key to these servers")
    allowed_ips: list[str] | None = Field(
        default=None, max_length=20, description="CIDRs the key may be used from", examples=[["203.0.113.0/24"]]
    )
    expires_at: AwareDatetime | None = Field(default=None, description="When the key stops working")
    format: Literal["mamba", "pterodactyl"] = Field(
        default="mamba",
        description="How the key is spelled: mhp_... (mamba) or ptlc_... (pterodactyl, for Pterodactyl's tools)",
    )


class ApiKeyOut(Schema):
    id: str
    name: str
    prefix: str = Field(description="The public part of the key: mhp_<user_id>.<key_id>")
    hint: str = Field(description="The last characters of the secret")
    scopes: list[str]
    server_ids: list[str]
    allowed_ips: list[str]
    expires_at: EpochTime = None
    created_at: str
    revoked_at: str | None = None
    last_used_at: EpochTime = None
    last_used_ip: str | None = None
    replaced_by: str | None = Field(default=None, description="The key that rotated this one out")
    format: str = Field(
        default="mamba", validation_alias="key_format", description="mamba (mhp_) or pterodactyl (ptlc_)"
    )


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The whole key. Shown once, in this response; store it now.")


class ApiKeyList(Schema):
    items: list[ApiKeyOut]
    next_cursor: str | None = None


class ApiKeyQuery(Schema):
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512)


class ApiKeyRotate(Schema):
    grace_seconds: int = Field(
        ge=0, le=86400, examples=[3600], description="How long the old key keeps working (0 to 24 hours)"
    )


class ApiKeyRotated(ApiKeyOut):
    key: str = Field(description="The new key. Shown once, in this response; store it now.")
    replaces: str = Field(description="The id of the key rotated out")
    previous_expires_at: EpochTime = Field(description="When the rotated-out key stops working")
