"""Who is calling, as established by the guard from a verified credential."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TenantContext:
    """The tenant a call acts on, proven by path membership. Required by every
    tenant-scoped service and repository call."""

    tenant_id: str
    role: str
    permissions: frozenset[str]
    server_scope: str | None = None  # a subuser binding limited to one server


@dataclass(frozen=True)
class Principal:
    user_id: str
    is_admin: bool
    tenant: TenantContext | None = None
    via: str = "token"  # "token" or "api_key"
