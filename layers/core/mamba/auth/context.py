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
    # When the caller's own grant ends (epoch seconds; None: permanent). Nobody hands out
    # access that outlives their own (mamba.domain.tenancy).
    expires_at: int | None = None
    # The tenant is suspended (by a platform admin or for non-payment): the guard already
    # refuses changes; use cases that hand out credentials (a console token) give read-only ones.
    suspended: bool = False


@dataclass(frozen=True)
class Principal:
    user_id: str
    is_admin: bool
    tenant: TenantContext | None = None
    via: str = "token"  # "token", "api_key" or "service_account" (a service account's key)
    # An API key's scopes (None for a session token): what the key may do, whatever its owner
    # may do. A use case that hands out further credentials (a Wings console token) narrows
    # the tenant's permissions to these.
    scopes: frozenset[str] | None = None
    # Whether the account's email is verified (read with the user by the guard): minting an
    # API key needs it (mamba.services.api_keys.create_key).
    email_verified: bool = False
    # The login session (refresh-token family) of the access token, when it carries one
    # (tokens issued before the ``fid`` claim do not): GET /v1/me/sessions marks it current.
    session_id: str | None = None
    # The servers an API key is limited to (empty: every server its owner can reach). Set where a
    # listing route lets such a key through to show only those (Pterodactyl's GET /api/client).
    key_servers: frozenset[str] = frozenset()

    def allowed(self, permissions: frozenset[str]) -> frozenset[str]:
        """``permissions`` narrowed to the key's scopes (unchanged for a session token)."""
        return permissions if self.scopes is None else permissions & self.scopes
