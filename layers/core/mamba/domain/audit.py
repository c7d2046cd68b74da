"""Audit entries: who did what, in which tenant, with what result. Standard library only;
writing and reading them is ``mamba.services.audit``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    id: str
    at: str  # UTC, fixed width (microseconds always present) so entries sort by time
    action: str
    result: str
    tenant_id: str | None = None  # None: a platform entry (account and admin actions)
    actor_id: str | None = None
    actor_via: str | None = None  # "token", "api_key" or "service_account"
    target: str | None = None
    permission: str | None = None
    method: str | None = None
    status: int | None = None
    error_code: str | None = None
    ip: str | None = None
    request_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    security: bool = False  # True: the platform security log (see ``record``)


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor_id: str | None = None
    result: str | None = None
    since: str | None = None  # fixed-width UTC bounds, inclusive
    until: str | None = None


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEntry] = field(default_factory=list)
    next_cursor: str | None = None
