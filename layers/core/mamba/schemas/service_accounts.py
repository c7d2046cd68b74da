"""Requests and responses of /v1/tenants/{tenant_id}/service-accounts and their keys."""

from datetime import datetime

from pydantic import AwareDatetime, Field, field_validator

from mamba.schemas.api_keys import ApiKeyOut
from mamba.schemas.common import EpochTime, Schema
from mamba.schemas.tenancy import SERVER_ID

# Not the owner role: an owner binding would count towards the tenant's owners.
SERVICE_ROLE_ID = r"^(admin|operator|viewer|rl_[A-Za-z0-9_]{1,40})$"


class ServiceAccountCreate(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["deploy pipeline"])
    description: str | None = Field(default=None, max_length=200)
    role: str = Field(
        pattern=SERVICE_ROLE_ID, examples=["operator"], description="A built-in or custom role; never owner"
    )
    server_id: str | None = Field(default=None, pattern=SERVER_ID, description="Limit the binding to one server")
    expires_at: datetime | None = Field(default=None, description="When the binding ends; null: never")


class ServiceAccountUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, pattern=SERVICE_ROLE_ID)
    server_id: str | None = Field(default=None, pattern=SERVER_ID, description="null: the whole tenant")
    expires_at: datetime | None = Field(default=None, description="null: never")


class ServiceAccountOut(Schema):
    id: str
    name: str
    description: str | None = None
    role: str
    permissions: list[str] = Field(description="What the binding grants (the role's permissions)")
    server_id: str | None = None
    expires_at: EpochTime = None
    expired: bool = False
    created_at: str
    created_by: str
    updated_at: str | None = None

    @field_validator("permissions", mode="before")
    @classmethod
    def _sorted(cls, value: object) -> object:
        return sorted(value) if isinstance(value, (set, frozenset)) else value


class ServiceAccountList(Schema):
    items: list[ServiceAccountOut]
    next_cursor: str | None = None


class ServiceKeyCreate(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["ci 2026-12"])
    scopes: list[str] = Field(
        min_length=1, max_length=64, examples=[["servers.read", "servers.power"]], description="Tenant permissions"
    )
    server_ids: list[str] | None = Field(default=None, max_length=100, description="Limit the key to these servers")
    allowed_ips: list[str] | None = Field(
        default=None, max_length=20, description="CIDRs the key may be used from", examples=[["203.0.113.0/24"]]
    )
    expires_at: AwareDatetime | None = Field(default=None, description="When the key stops working")


class ServiceKeyCreated(ApiKeyOut):
    key: str = Field(description="The whole key. Shown once, in this response; store it now.")


class ServiceKeyList(Schema):
    items: list[ApiKeyOut]
    next_cursor: str | None = None
