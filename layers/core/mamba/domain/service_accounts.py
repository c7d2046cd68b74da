"""Service accounts: a tenant's non-human identities (issue 17 item 3). Standard library only.

A service account belongs to one tenant and holds a role binding like a member's (a built-in
or custom role, possibly scoped to one server, possibly expiring). It has no password, no
email and no session: it acts only through its API keys, and only on its own tenant's routes
(the guard, ``mamba.auth.guard``). It can never hold platform admin rights, and never the
owner role (an owner binding would count towards the tenant's owners, so the last human owner
could leave).

Keys are ordinary API keys (``mhp_<service_account_id>.<key_id>.<secret>``) whose owner is the
service account. At most ``MAX_ACTIVE_KEYS`` are active at a time: enough to roll a new key
out before revoking the old one, never a growing pile of forgotten credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mamba.domain import permissions as perms
from mamba.domain.errors import ConflictError, ValidationError
from mamba.domain.tenancy import Membership

if TYPE_CHECKING:
    from mamba.domain.api_keys import ApiKey

ID_PREFIX = "sa_"  # mamba.domain.clock.new_id("sa"); user ids start with "usr_"
MAX_ACTIVE_KEYS = 2
MAX_NAME_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 200
EXPIRY_NOTICE_SECONDS = 7 * 86400  # the tenant's owners are mailed this long before a key expires
FORBIDDEN_ROLES = frozenset({"owner"})


class KeyLimitError(ConflictError):
    """A service account already has ``MAX_ACTIVE_KEYS`` active keys."""

    code = "KEY_LIMIT_REACHED"


def is_service_account_id(principal_id: str | None) -> bool:
    return bool(principal_id) and str(principal_id).startswith(ID_PREFIX)


@dataclass(frozen=True)
class ServiceAccount:
    """A service account and its role binding. ``permissions`` is the copy of a custom role's
    permissions (None for a built-in role), kept in step with the role like a membership's;
    ``keys_version`` is bumped by every key creation, so two concurrent creations cannot both
    pass the active-key limit."""

    id: str
    tenant_id: str
    name: str
    role: str
    created_at: str
    created_by: str
    permissions: frozenset[str] | None = None
    server_id: str | None = None
    expires_at: int | None = None
    description: str | None = None
    updated_at: str | None = None
    keys_version: int = 0

    @property
    def effective_permissions(self) -> frozenset[str]:
        if self.permissions is not None:
            return self.permissions
        return perms.BUILTIN_ROLES.get(self.role, frozenset())

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def as_membership(self) -> Membership:
        """Its binding as a member's, for the use cases that walk a tenant's bindings."""
        return Membership(
            tenant_id=self.tenant_id,
            user_id=self.id,
            role=self.role,
            created_at=self.created_at,
            permissions=self.permissions,
            server_id=self.server_id,
            expires_at=self.expires_at,
        )


@dataclass(frozen=True)
class ExpiringKey:
    """A service account's key due for its expiry notice, with where the notice goes."""

    key: ApiKey
    tenant_id: str
    service_account_id: str
    service_account_name: str


def key_is_active(key: ApiKey, now: float) -> bool:
    """Neither revoked nor expired: it counts towards ``MAX_ACTIVE_KEYS``."""
    return key.revoked_at is None and (key.expires_at is None or key.expires_at > now)


def check_key_limit(keys: list[ApiKey], now: float) -> None:
    """Raises KeyLimitError when ``keys`` already hold ``MAX_ACTIVE_KEYS`` active ones."""
    active = [k.id for k in keys if key_is_active(k, now)]
    if len(active) >= MAX_ACTIVE_KEYS:
        raise KeyLimitError(
            f"A service account has at most {MAX_ACTIVE_KEYS} active keys; revoke one first.",
            {"active_key_ids": active, "max": MAX_ACTIVE_KEYS},
        )


def check_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > MAX_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError(
            f"The name must be 1 to {MAX_NAME_LENGTH} printable characters.",
            {"fields": [{"field": "name", "message": "1 to 100 printable characters"}]},
        )
    return value


def check_description(description: str | None) -> str | None:
    if description is None:
        return None
    value = description.strip()
    if len(value) > MAX_DESCRIPTION_LENGTH or any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ValidationError(
            f"The description must be at most {MAX_DESCRIPTION_LENGTH} printable characters.",
            {"fields": [{"field": "description", "message": "at most 200 printable characters"}]},
        )
    return value or None


def check_role(role: str) -> None:
    """Raises ValidationError for a role a service account may not hold (owner)."""
    if role in FORBIDDEN_ROLES:
        raise ValidationError(
            "A service account cannot be an owner; give it a narrower role.",
            {"fields": [{"field": "role", "message": "owner is for people"}], "role": role},
        )


def expiry_notice_due(expires_at: int | None, now: float) -> bool:
    """True when a key expiring at ``expires_at`` is within its notice window and not expired yet."""
    return expires_at is not None and now < expires_at <= now + EXPIRY_NOTICE_SECONDS
