"""Responses and query of the audit log (/v1/tenants/{tenant_id}/audit, /v1/admin/audit)."""

import dataclasses
from typing import Any, Literal

from pydantic import Field, model_validator

from mamba.schemas.common import Schema

AUDIT_QUERY = ("limit", "cursor", "action", "actor", "result", "from", "to")


class AuditQuery(Schema):
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512)
    action: str | None = Field(default=None, max_length=100)
    actor: str | None = Field(default=None, max_length=100, description="A user id")
    result: Literal["success", "denied", "error"] | None = None
    from_: str | None = Field(default=None, alias="from", max_length=40, description="ISO-8601, inclusive")
    to: str | None = Field(default=None, max_length=40, description="ISO-8601, inclusive")


class AdminAuditQuery(AuditQuery):
    tenant_id: str | None = Field(default=None, max_length=64, description="A tenant's log instead of the platform's")
    log: Literal["platform", "security"] = Field(
        default="platform",
        description="security: requests refused before their caller was proven (bad tokens, SFTP guesses)",
    )


class AuditActor(Schema):
    user_id: str | None = None
    via: str | None = Field(default=None, description="token, api_key or service_account")


class AuditEntryOut(Schema):
    id: str
    at: str
    action: str
    result: Literal["success", "denied", "error"]
    tenant_id: str | None = None
    actor: AuditActor
    target: str | None = None
    permission: str | None = None
    method: str | None = None
    status: int | None = None
    error_code: str | None = None
    ip: str | None = None
    request_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _actor_of_the_record(cls, value: Any) -> Any:
        """An audit record keeps its actor flat (``actor_id``, ``actor_via``); the API nests it."""
        if dataclasses.is_dataclass(value) and not isinstance(value, type) and not hasattr(value, "actor"):
            data = dataclasses.asdict(value)
            data["actor"] = {"user_id": data.pop("actor_id", None), "via": data.pop("actor_via", None)}
            return data
        return value


class AuditList(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None = None
