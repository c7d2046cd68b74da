"""Tenants, role bindings, invitations and custom roles: the records and the rules every
tenancy use case keeps (the use cases are ``mamba.services.tenants``, ``members``,
``invitations`` and ``roles``). Standard library only.

* **No escalation.** A member can grant only permissions they hold, can change or remove
  only members whose permissions they hold, and can give a custom role only permissions
  they hold (changing a role changes every member bound to it, the actor included). Nobody
  changes their own binding, and nobody grants beyond their own expiry or server scope.
* **The last owner stays.** An owner binding is tenant-wide and permanent (no server
  scope, no ``expires_at``), and the repository refuses, by a conditional write on the
  tenant's owner count, to demote or remove the last one.
* **A binding is authorized from itself.** A membership carries the permission list of
  its custom role (built-in roles are resolved in code, by the guard too), so changing a
  member or a custom role changes the next request's answer, with no cache and no job.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Protocol

from mamba.domain import permissions as perms
from mamba.domain.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from mamba.domain.ratelimit import Limit

OWNER = "owner"
INVITATION_TTL_SECONDS = 7 * 24 * 3600

INVITE_ACCOUNT = Limit("invite-account", 20, 3600)
INVITE_TENANT = Limit("invite-tenant", 50, 3600)
INVITE_EMAIL = Limit("invite-email", 5, 3600)

MAX_ROLE_NAME_LENGTH = 50
MAX_ROLE_DESCRIPTION_LENGTH = 200
CUSTOM_ROLE_PREFIX = "rl_"
SERVER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

BUILTIN_ROLE_DESCRIPTIONS: dict[str, str] = {
    "owner": "Everything in the tenant, including billing and the tenant's settings",
    "admin": "Everything except billing changes and the tenant's settings",
    "operator": "Run servers: power, console, files, backups; read the rest",
    "viewer": "Read servers, files, backups and operations",
}


@dataclass(frozen=True)
class InvitationLimits:
    """Invitation mails per hour: by one inviting account, from one tenant, and to one address
    across every tenant (so no one can use the panel to flood an inbox). Built from Settings
    (``RATE_INVITE_*``) by bootstrap."""

    account: Limit = INVITE_ACCOUNT
    tenant: Limit = INVITE_TENANT
    email: Limit = INVITE_EMAIL


# --- records -------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    """A tenant (a customer organisation) as the panel shows and authorizes it."""

    id: str
    name: str
    created_at: str
    status: str = "active"  # active | suspended (by a platform admin)
    require_2fa: bool = False
    owner_count: int | None = None
    updated_at: str | None = None
    billing_state: str | None = None  # active | suspended (by billing, for non-payment)

    @property
    def suspended(self) -> bool:
        """Suspended by a platform admin or for non-payment."""
        return self.status == "suspended" or self.billing_state == "suspended"


@dataclass(frozen=True)
class Membership:
    """A role binding of a user in a tenant. ``permissions`` is the copy of a custom role's
    permissions; None for a built-in role (resolved from ``BUILTIN_ROLES`` in code, by the
    guard too). ``server_id`` scopes it to one server (a subuser); ``expires_at`` (epoch
    seconds) ends a temporary grant."""

    tenant_id: str
    user_id: str
    role: str
    created_at: str
    permissions: frozenset[str] | None = None
    server_id: str | None = None
    expires_at: int | None = None

    @property
    def effective_permissions(self) -> frozenset[str]:
        if self.permissions is not None:
            return self.permissions
        return perms.BUILTIN_ROLES.get(self.role, frozenset())

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class Contact:
    """Who a member is, for the member list: the account's email and display name."""

    email: str
    name: str | None = None


@dataclass(frozen=True)
class ListedMember:
    """A binding with its member's contact (None when the account is gone)."""

    member: Membership
    contact: Contact | None


@dataclass(frozen=True)
class UserTenant:
    """A tenant as one of its members sees it in their list."""

    tenant: Tenant
    role: str
    server_id: str | None = None
    expires_at: int | None = None


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    permissions: frozenset[str]
    builtin: bool
    description: str | None = None
    tenant_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    version: int = 0
    members: int = 0


@dataclass(frozen=True)
class Invitation:
    id: str
    tenant_id: str
    email: str
    role: str
    token_hash: str
    invited_by: str
    created_at: str
    lapses_at: int  # epoch seconds: the invitation itself stops working
    server_id: str | None = None
    expires_at: int | None = None  # epoch seconds: the grant it creates ends


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    token: str  # only in the mail; never stored, never returned by the API


@dataclass(frozen=True)
class BindingChange:
    """A PATCH of a member. ``role`` None keeps the role; ``server_id``/``expires_at`` are
    applied only when their ``set_*`` flag is true (so None can clear them)."""

    role: str | None = None
    server_id: str | None = None
    expires_at: int | None = None
    set_server_id: bool = False
    set_expires_at: bool = False


# --- rules ---------------------------------------------------------------------------


class Grant(Protocol):
    """What the rules read of the actor's own access (``mamba.auth.context.TenantContext``)."""

    @property
    def permissions(self) -> frozenset[str]: ...

    @property
    def server_scope(self) -> str | None: ...

    @property
    def expires_at(self) -> int | None: ...


def check_permission_list(requested: list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    """The requested permissions as a set. Raises ValidationError naming every entry that is
    not a tenant permission (unknown, ``admin.*`` or ``account.*``)."""
    invalid = sorted({p for p in requested if p not in perms.TENANT_PERMISSIONS})
    if invalid:
        raise ValidationError(
            f"These are not tenant permissions: {', '.join(invalid)}.",
            {"field": "permissions", "invalid": invalid},
        )
    return frozenset(requested)


def check_grant(actor: Grant, granted: frozenset[str], what: str) -> None:
    """Raises ForbiddenError when ``granted`` holds a permission the actor lacks."""
    missing = sorted(granted - actor.permissions)
    if missing:
        raise ForbiddenError(f"You cannot {what}: it needs permissions you do not have.", {"missing": missing})


def check_within_own_grant(actor: Grant, server_id: str | None, expires_at: int | None) -> None:
    """Nobody hands out access that outlives or outreaches their own: an actor whose grant
    expires can only write bindings that expire no later (never permanent ones), and an actor
    scoped to one server can only write bindings scoped to that server. Raises ForbiddenError."""
    if actor.expires_at is not None and (expires_at is None or expires_at > actor.expires_at):
        raise ForbiddenError(
            "Your own access is temporary: a grant you give must end no later than yours.",
            {"field": "expires_at", "max_expires_at": actor.expires_at},
        )
    if actor.server_scope is not None and server_id != actor.server_scope:
        raise ForbiddenError(
            "Your access is limited to one server: a grant you give must be limited to it too.",
            {"field": "server_id"},
        )


def check_binding(role: str, server_id: str | None, expires_at: int | None, now: int) -> None:
    """Raises ValidationError for a bad server id or a past expiry, and for an owner binding
    that is scoped or temporary (it would let the last owner lapse)."""
    if server_id is not None and not SERVER_ID.match(server_id):
        raise ValidationError("server_id is not a valid server id.", {"field": "server_id"})
    if expires_at is not None and expires_at <= now:
        raise ValidationError("expires_at must be in the future.", {"field": "expires_at"})
    if role == OWNER and (server_id is not None or expires_at is not None):
        raise ValidationError(
            "An owner binding covers the whole tenant and does not expire.",
            {"field": "server_id" if server_id is not None else "expires_at"},
        )


def builtin_role(name: str) -> Role | None:
    granted = perms.BUILTIN_ROLES.get(name)
    if granted is None:
        return None
    return Role(id=name, name=name, permissions=granted, builtin=True, description=BUILTIN_ROLE_DESCRIPTIONS.get(name))


def builtin_roles() -> list[Role]:
    return [role for name in perms.BUILTIN_ROLES if (role := builtin_role(name)) is not None]


def binding_permissions(role: Role) -> frozenset[str] | None:
    return None if role.builtin else role.permissions


def role_version(role: Role) -> int | None:
    return None if role.builtin else role.version


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invitation_id(tenant_id: str, email: str) -> str:
    """One pending invitation per address: inviting again replaces it (and kills its token)."""
    return "inv_" + hashlib.sha256(f"{tenant_id}\x00{email}".encode()).hexdigest()[:24]


def make_token(tenant_id: str, inv_id: str) -> tuple[str, str]:
    """(token for the mail, hash to store). The ids locate the invitation; the secret proves it."""
    secret = secrets.token_urlsafe(32)
    return f"{tenant_id}.{inv_id}.{secret}", hash_secret(secret)


def parse_token(token: str) -> tuple[str, str, str]:
    """(tenant_id, invitation_id, secret). Raises NotFoundError for anything malformed."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts) or not parts[1].startswith("inv_"):
        raise NotFoundError("The invitation does not exist or has expired.", {"field": "token"})
    return parts[0], parts[1], parts[2]


def check_role_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > MAX_ROLE_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError(
            f"The role name must be 1 to {MAX_ROLE_NAME_LENGTH} printable characters.", {"field": "name"}
        )
    if value.lower() in perms.BUILTIN_ROLES:
        raise ConflictError(f"{value!r} is the name of a built-in role.", {"field": "name"})
    return value


def check_description(description: str | None) -> str | None:
    if description is None:
        return None
    value = description.strip()
    if len(value) > MAX_ROLE_DESCRIPTION_LENGTH or any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ValidationError(
            f"The description must be at most {MAX_ROLE_DESCRIPTION_LENGTH} printable characters.",
            {"field": "description"},
        )
    return value or None


@dataclass(frozen=True)
class Access:
    """What a membership grants on the tenant's servers: its permissions and server scope."""

    permissions: frozenset[str]
    server_scope: str | None = None
