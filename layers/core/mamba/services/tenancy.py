"""Tenants, members, invitations and custom roles: the use cases behind /v1/tenants.

Rules every use case here keeps:

* **No escalation.** A member can grant only permissions they hold, can change or remove
  only members whose permissions they hold, and can give a custom role only permissions
  they hold (changing a role changes every member bound to it, the actor included). Nobody
  changes their own binding, and nobody grants beyond their own expiry or server scope.
* **The last owner stays.** An owner binding is tenant-wide and permanent (no server
  scope, no ``expires_at``), and the repository refuses, by a conditional write on the
  tenant's owner count, to demote or remove the last one.
* **A binding is authorized from itself.** A membership carries the permission list of
  its custom role (built-in roles are resolved in code by the guard), so changing a
  member or a custom role changes the next request's answer, with no cache and no job.
* **Another tenant does not exist.** Every call takes the verified ``TenantContext``;
  ids are only ever looked up under its tenant.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from mamba.auth import permissions as perms
from mamba.auth.context import TenantContext
from mamba.domain import account_policy
from mamba.domain.clock import iso, new_id, now_epoch, utcnow
from mamba.domain.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from mamba.domain.pages import Page, PageRequest
from mamba.domain.ratelimit import Limit
from mamba.ports import Mailer, RateLimiter
from mamba.services import abuse, accounts

OWNER = accounts.OWNER_ROLE
TENANT_CREATE_LIMIT = "tenant-create"  # the rate-limit counter family of POST /v1/tenants (per account)
INVITATION_TTL_SECONDS = 7 * 24 * 3600


INVITE_ACCOUNT = Limit("invite-account", 20, 3600)
INVITE_TENANT = Limit("invite-tenant", 50, 3600)
INVITE_EMAIL = Limit("invite-email", 5, 3600)


@dataclass(frozen=True)
class InvitationLimits:
    """Invitation mails per hour: by one inviting account, from one tenant, and to one address
    across every tenant (so no one can use the panel to flood an inbox). Built from Settings
    (``RATE_INVITE_*``) by bootstrap."""

    account: Limit = INVITE_ACCOUNT
    tenant: Limit = INVITE_TENANT
    email: Limit = INVITE_EMAIL


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


# --- records -------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantInfo:
    id: str
    name: str
    created_at: str
    status: str = "active"
    require_2fa: bool = False
    owner_count: int | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class Member:
    """A role binding. ``permissions`` is the copy of a custom role's permissions; None for a
    built-in role (resolved from ``BUILTIN_ROLES`` in code, by the guard too)."""

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

    def expired(self, now: int) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class Contact:
    """Who a member is, for the member list: the account's email and display name."""

    email: str
    name: str | None = None


@dataclass(frozen=True)
class ListedMember:
    """A binding with its member's contact (None when the account is gone)."""

    member: Member
    contact: Contact | None


@dataclass(frozen=True)
class UserTenant:
    """A tenant as one of its members sees it in their list."""

    tenant: TenantInfo
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


# --- ports ---------------------------------------------------------------------------


class UserReader(Protocol):
    def get(self, user_id: str) -> accounts.User:
        """Raises NotFoundError."""


class TenancyRepository(Protocol):
    def get_tenant(self, tenant_id: str) -> TenantInfo:
        """Raises NotFoundError."""

    def update_tenant(
        self, tenant_id: str, *, name: str | None, require_2fa: bool | None, actor_id: str, now: str
    ) -> TenantInfo:
        """Raises NotFoundError, and ConflictError when turning ``require_2fa`` on while the
        actor has no 2FA (decided by the same transaction as the write)."""

    def tenants_of_user(self, user_id: str, page: PageRequest) -> Page[UserTenant]: ...

    def get_member(self, tenant_id: str, user_id: str) -> Member:
        """Raises NotFoundError."""

    def list_members(self, tenant_id: str, page: PageRequest) -> Page[Member]: ...

    def contacts(self, user_ids: list[str]) -> dict[str, Contact]:
        """The email and name of each existing account, in one read (at most 100 ids)."""

    def is_member_email(self, tenant_id: str, email: str) -> bool: ...

    def change_binding(self, current: Member, updated: Member, role_version: int | None) -> None:
        """Write ``updated`` over ``current`` in one transaction with the owner count and the
        custom roles' member counts. Raises ConflictError when the last owner would go, the
        member changed meanwhile, or the new custom role changed (version) or is gone."""

    def remove_member(self, current: Member) -> None:
        """Raises ConflictError when ``current`` is the last owner or changed meanwhile."""

    def put_invitation(self, invitation: Invitation) -> None: ...

    def get_invitation(self, tenant_id: str, invitation_id: str) -> Invitation:
        """Raises NotFoundError."""

    def list_invitations(self, tenant_id: str, page: PageRequest) -> Page[Invitation]: ...

    def delete_invitation(self, tenant_id: str, invitation_id: str) -> None:
        """Raises NotFoundError."""

    def accept_invitation(self, invitation: Invitation, member: Member, role_version: int | None) -> None:
        """Create the membership and consume the invitation in one transaction. Raises
        ConflictError when the user is already a member, the invitation was used or replaced,
        or the custom role changed or is gone."""

    def get_role(self, tenant_id: str, role_id: str) -> Role:
        """A custom role. Raises NotFoundError."""

    def list_roles(self, tenant_id: str, page: PageRequest) -> Page[Role]: ...

    def add_role(self, role: Role) -> None:
        """Raises ConflictError when the name is taken in the tenant."""

    def update_role(self, current: Role, updated: Role) -> None:
        """Raises ConflictError when the role changed meanwhile or the new name is taken."""

    def sync_role_bindings(self, role: Role) -> int:
        """Copy ``role.permissions`` to every membership bound to it; how many were changed."""

    def delete_role(self, role: Role) -> None:
        """Raises ConflictError while members are bound to it."""


def _now() -> str:
    return iso(utcnow())


# --- rules ---------------------------------------------------------------------------


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


def check_grant(actor: TenantContext, granted: frozenset[str], what: str) -> None:
    """Raises ForbiddenError when ``granted`` holds a permission the actor lacks."""
    missing = sorted(granted - actor.permissions)
    if missing:
        raise ForbiddenError(f"You cannot {what}: it needs permissions you do not have.", {"missing": missing})


def check_within_own_grant(actor: TenantContext, server_id: str | None, expires_at: int | None) -> None:
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


def resolve_role(repo: TenancyRepository, tenant_id: str, role_id: str) -> Role:
    """A built-in role by name or a custom role of this tenant by id. Raises ValidationError
    (field ``role``) when neither exists."""
    found = builtin_role(role_id)
    if found is not None:
        return found
    if role_id.startswith(CUSTOM_ROLE_PREFIX):
        try:
            return repo.get_role(tenant_id, role_id)
        except NotFoundError:
            pass
    raise ValidationError(f"There is no role {role_id!r} in this tenant.", {"field": "role", "role": role_id})


def _binding_permissions(role: Role) -> frozenset[str] | None:
    return None if role.builtin else role.permissions


def _role_version(role: Role) -> int | None:
    return None if role.builtin else role.version


# --- tenants -------------------------------------------------------------------------


def create_tenant(
    users: UserReader,
    tenants: accounts.TenantRepository,
    user_id: str,
    name: str,
    *,
    max_owned: int,
    limiter: RateLimiter | None = None,
    rate: Limit | None = None,
    clock: Callable[[], int] = now_epoch,
    now: Callable[[], str] = _now,
) -> UserTenant:
    """Create a tenant owned by the caller.

    Each tenant brings its own free-plan quotas, so an account may create at most
    ``max_owned`` (counted in the creating transaction: parallel creates cannot pass it), and
    creating is rate-limited per account (``rate``; every attempt counts).

    Raises RateLimitedError, EmailNotVerifiedError (the caller's email is not verified),
    ValidationError (name), TenantLimitError (403 ``TENANT_LIMIT``) and NotFoundError (the
    caller's account is gone).
    """
    if limiter is not None and rate is not None:
        abuse.count(limiter, rate, user_id, clock())
    user = users.get(user_id)
    accounts.require_verified_email(user)
    tenant = accounts.create_tenant(tenants, name, user_id, max_owned=max_owned, now=now)
    info = TenantInfo(id=tenant.id, name=tenant.name, created_at=tenant.created_at, status=tenant.status, owner_count=1)
    return UserTenant(tenant=info, role=OWNER)


def list_my_tenants(
    repo: TenancyRepository, user_id: str, page: PageRequest, *, clock: Callable[[], int] = now_epoch
) -> Page[UserTenant]:
    """The caller's tenants; temporary grants that have ended are left out."""
    found = repo.tenants_of_user(user_id, page)
    now = clock()
    live = [t for t in found.items if t.expires_at is None or t.expires_at > now]
    return Page(items=live, next_cursor=found.next_cursor)


def get_tenant(repo: TenancyRepository, tenant: TenantContext) -> TenantInfo:
    return repo.get_tenant(tenant.tenant_id)


def update_tenant(
    repo: TenancyRepository,
    tenant: TenantContext,
    actor_id: str,
    *,
    name: str | None = None,
    require_2fa: bool | None = None,
    now: Callable[[], str] = _now,
) -> TenantInfo:
    """Rename the tenant and/or require 2FA of its members.

    Raises ValidationError (name, or nothing to change) and ConflictError (requiring 2FA
    while the actor has none: the actor would lock themselves out).
    """
    if name is None and require_2fa is None:
        raise ValidationError("Nothing to change: give name and/or require_2fa.", {"field": "body"})
    clean = account_policy.check_tenant_name(name) if name is not None else None
    return repo.update_tenant(tenant.tenant_id, name=clean, require_2fa=require_2fa, actor_id=actor_id, now=now())


# --- members -------------------------------------------------------------------------


def list_members(repo: TenancyRepository, tenant: TenantContext, page: PageRequest) -> Page[ListedMember]:
    """A page of bindings with each member's email and name: one Query and one batch read
    of the page's accounts (a page holds at most ``MAX_LIMIT`` = 100, one BatchGetItem)."""
    found = repo.list_members(tenant.tenant_id, page)
    contacts = repo.contacts([m.user_id for m in found.items]) if found.items else {}
    return Page(items=[ListedMember(m, contacts.get(m.user_id)) for m in found.items], next_cursor=found.next_cursor)


def _target(repo: TenancyRepository, tenant: TenantContext, user_id: str) -> Member:
    """The member to change; 404 when absent (an expired grant is still shown and changeable)."""
    return repo.get_member(tenant.tenant_id, user_id)


def change_member(
    repo: TenancyRepository,
    tenant: TenantContext,
    user_id: str,
    change: BindingChange,
    *,
    actor_id: str,
    clock: Callable[[], int] = now_epoch,
) -> Member:
    """Change another member's role, server scope or expiry; effective on the member's next request.

    Nobody changes their own binding (a temporary admin would make their grant permanent);
    the actor's permissions must cover the member's current and new role, and the result must
    stay within the actor's own grant (``check_within_own_grant``: expiry and server scope).

    Raises NotFoundError (no such member), ForbiddenError (one's own binding; the member or the
    new role holds permissions the actor lacks; beyond the actor's expiry or scope),
    ValidationError (unknown role, bad scope or expiry) and ConflictError (the last owner
    would be demoted; a concurrent change won).
    """
    if change.role is None and not change.set_server_id and not change.set_expires_at:
        raise ValidationError("Nothing to change: give role, server_id and/or expires_at.", {"field": "body"})
    if user_id == actor_id:
        raise ForbiddenError(
            "You cannot change your own role, scope or expiry; ask another member who may.", {"reason": "self"}
        )
    current = _target(repo, tenant, user_id)
    check_grant(tenant, current.effective_permissions, "change this member")
    role = resolve_role(repo, tenant.tenant_id, change.role or current.role)
    check_grant(tenant, role.permissions, f"grant the role {role.name!r}")
    server_id = change.server_id if change.set_server_id else current.server_id
    expires_at = change.expires_at if change.set_expires_at else current.expires_at
    # A role change alone keeps the scope and expiry, except that an owner binding has none.
    if role.id == OWNER and current.role != OWNER:
        server_id = None if not change.set_server_id else server_id
        expires_at = None if not change.set_expires_at else expires_at
    check_binding(role.id, server_id, expires_at, clock())
    if tenant.server_scope is not None and current.server_id != tenant.server_scope:
        raise ForbiddenError("Your access is limited to one server: you cannot change this member.", {})
    check_within_own_grant(tenant, server_id, expires_at)
    updated = replace(
        current,
        role=role.id,
        permissions=_binding_permissions(role),
        server_id=server_id,
        expires_at=expires_at,
    )
    repo.change_binding(current, updated, _role_version(role))
    return updated


def remove_member(repo: TenancyRepository, tenant: TenantContext, user_id: str) -> None:
    """Raises NotFoundError, ForbiddenError (the member holds permissions the actor lacks)
    and ConflictError (the last owner)."""
    current = _target(repo, tenant, user_id)
    check_grant(tenant, current.effective_permissions, "remove this member")
    repo.remove_member(current)


# --- invitations ---------------------------------------------------------------------


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invitation_id(tenant_id: str, email: str) -> str:
    """One pending invitation per address: inviting again replaces it (and kills its token)."""
    return "inv_" + hashlib.sha256(f"{tenant_id}\x00{email}".encode()).hexdigest()[:24]


def make_token(tenant_id: str, inv_id: str) -> tuple[str, str]:
    """(token for the mail, hash to store). The ids locate the invitation; the secret proves it."""
    secret = secrets.token_urlsafe(32)
    return f"{tenant_id}.{inv_id}.{secret}", _hash_secret(secret)


def parse_token(token: str) -> tuple[str, str, str]:
    """(tenant_id, invitation_id, secret). Raises NotFoundError for anything malformed."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts) or not parts[1].startswith("inv_"):
        raise NotFoundError("The invitation does not exist or has expired.", {"field": "token"})
    return parts[0], parts[1], parts[2]


def invite_member(
    repo: TenancyRepository,
    mailer: Mailer,
    tenant: TenantContext,
    actor_id: str,
    email: str,
    role_id: str,
    *,
    accept_url: str,
    server_id: str | None = None,
    expires_at: int | None = None,
    limiter: RateLimiter | None = None,
    limits: InvitationLimits | None = None,
    clock: Callable[[], int] = now_epoch,
    now: Callable[[], str] = _now,
) -> SentInvitation:
    """Store an invitation (only a hash of its token) and mail the accept link.

    Raises ValidationError (email, role, scope, expiry), ForbiddenError (the role holds
    permissions the actor lacks; the grant would outlive or outreach the actor's), ConflictError
    (the address already belongs to a member) and RateLimitedError (``limits``: per inviting
    account, per tenant, per address).
    """
    address = account_policy.normalise_email(email)
    role = resolve_role(repo, tenant.tenant_id, role_id)
    check_grant(tenant, role.permissions, f"invite with the role {role.name!r}")
    epoch = clock()
    check_binding(role.id, server_id, expires_at, epoch)
    # An invitation is a grant too: a temporary admin must not mint a permanent one for a
    # second account of theirs.
    check_within_own_grant(tenant, server_id, expires_at)
    if repo.is_member_email(tenant.tenant_id, address):
        raise ConflictError("This address already belongs to a member.", {"field": "email"})
    if limiter is not None:
        from mamba.services import abuse

        chosen = limits or InvitationLimits()
        # Counted before the mail, and only once the invitation is valid: a refused one sends nothing.
        for limit, subject in ((chosen.account, actor_id), (chosen.tenant, tenant.tenant_id), (chosen.email, address)):
            abuse.count(limiter, limit, subject, epoch)
    inv_id = invitation_id(tenant.tenant_id, address)
    token, token_hash = make_token(tenant.tenant_id, inv_id)
    invitation = Invitation(
        id=inv_id,
        tenant_id=tenant.tenant_id,
        email=address,
        role=role.id,
        token_hash=token_hash,
        invited_by=actor_id,
        created_at=now(),
        lapses_at=epoch + INVITATION_TTL_SECONDS,
        server_id=server_id,
        expires_at=expires_at,
    )
    repo.put_invitation(invitation)
    info = repo.get_tenant(tenant.tenant_id)
    link = f"{accept_url}?token={token}"
    mailer.send(
        address,
        f"You are invited to {info.name} on Mamba Host Panel",
        f"You have been invited to join the tenant {info.name!r} as {role.name}.\n\n"
        f"Accept the invitation (sign in with this address first):\n{link}\n\n"
        f"The invitation expires in {INVITATION_TTL_SECONDS // 86400} days. "
        "If you did not expect it, ignore this mail.\n",
    )
    return SentInvitation(invitation=invitation, token=token)


def list_invitations(
    repo: TenancyRepository, tenant: TenantContext, page: PageRequest, *, clock: Callable[[], int] = now_epoch
) -> Page[Invitation]:
    """Pending invitations; lapsed ones are left out (DynamoDB's TTL removes them later)."""
    found = repo.list_invitations(tenant.tenant_id, page)
    epoch = clock()
    return Page(items=[i for i in found.items if i.lapses_at > epoch], next_cursor=found.next_cursor)


def revoke_invitation(repo: TenancyRepository, tenant: TenantContext, invitation_id: str) -> None:
    """Raises NotFoundError."""
    repo.delete_invitation(tenant.tenant_id, invitation_id)


def accept_invitation(
    repo: TenancyRepository,
    users: UserReader,
    user_id: str,
    token: str,
    *,
    clock: Callable[[], int] = now_epoch,
    now: Callable[[], str] = _now,
) -> UserTenant:
    """Make the caller a member as the invitation says.

    Raises NotFoundError (unknown, used, replaced or lapsed token), EmailNotVerifiedError,
    ForbiddenError (the invitation was sent to another address, or the tenant is suspended)
    and ConflictError (already a member; the grant's expiry has passed; the role changed or
    is gone).
    """
    tenant_id, inv_id, secret = parse_token(token)
    not_found = NotFoundError("The invitation does not exist or has expired.", {"field": "token"})
    try:
        invitation = repo.get_invitation(tenant_id, inv_id)
    except NotFoundError:
        raise not_found from None
    epoch = clock()
    # Constant-time: the comparison must not reveal how much of a guessed secret is right.
    if not hmac.compare_digest(_hash_secret(secret), invitation.token_hash) or invitation.lapses_at <= epoch:
        raise not_found
    user = users.get(user_id)
    accounts.require_verified_email(user)
    if user.email.lower() != invitation.email:
        raise ForbiddenError("This invitation was sent to another email address.", {"field": "token"})
    if invitation.expires_at is not None and invitation.expires_at <= epoch:
        raise ConflictError("The access this invitation grants has already ended.", {"field": "token"})
    tenant = repo.get_tenant(tenant_id)
    if tenant.status == "suspended":
        raise ForbiddenError("This tenant is suspended.", {"reason": "tenant_suspended"})
    try:
        role = resolve_role(repo, tenant_id, invitation.role)
    except ValidationError as exc:
        raise ConflictError("The role of this invitation no longer exists.", {"role": invitation.role}) from exc
    member = Member(
        tenant_id=tenant_id,
        user_id=user_id,
        role=role.id,
        created_at=now(),
        permissions=_binding_permissions(role),
        server_id=invitation.server_id,
        expires_at=invitation.expires_at,
    )
    repo.accept_invitation(invitation, member, _role_version(role))
    return UserTenant(tenant=tenant, role=role.id, server_id=member.server_id, expires_at=member.expires_at)


# --- roles ---------------------------------------------------------------------------


def _check_role_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > MAX_ROLE_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError(
            f"The role name must be 1 to {MAX_ROLE_NAME_LENGTH} printable characters.", {"field": "name"}
        )
    if value.lower() in perms.BUILTIN_ROLES:
        raise ConflictError(f"{value!r} is the name of a built-in role.", {"field": "name"})
    return value


def _check_description(description: str | None) -> str | None:
    if description is None:
        return None
    value = description.strip()
    if len(value) > MAX_ROLE_DESCRIPTION_LENGTH or any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ValidationError(
            f"The description must be at most {MAX_ROLE_DESCRIPTION_LENGTH} printable characters.",
            {"field": "description"},
        )
    return value or None


def list_roles(repo: TenancyRepository, tenant: TenantContext, page: PageRequest) -> Page[Role]:
    """The built-in roles (on the first page only), then the tenant's custom roles."""
    custom = repo.list_roles(tenant.tenant_id, page)
    items = (builtin_roles() if page.cursor is None else []) + custom.items
    return Page(items=items, next_cursor=custom.next_cursor)


def get_role(repo: TenancyRepository, tenant: TenantContext, role_id: str) -> Role:
    """Raises NotFoundError."""
    found = builtin_role(role_id)
    if found is not None:
        return found
    return repo.get_role(tenant.tenant_id, role_id)


def create_role(
    repo: TenancyRepository,
    tenant: TenantContext,
    name: str,
    permissions: list[str],
    description: str | None = None,
    *,
    now: Callable[[], str] = _now,
) -> Role:
    """Raises ValidationError (name, description, not tenant permissions), ForbiddenError
    (permissions the actor lacks) and ConflictError (the name is taken or built in)."""
    granted = check_permission_list(permissions)
    check_grant(tenant, granted, "create a role with these permissions")
    created = now()
    role = Role(
        id=new_id("rl"),
        name=_check_role_name(name),
        permissions=granted,
        builtin=False,
        description=_check_description(description),
        tenant_id=tenant.tenant_id,
        created_at=created,
        updated_at=created,
    )
    repo.add_role(role)
    return role


def _custom_role(repo: TenancyRepository, tenant: TenantContext, role_id: str) -> Role:
    if builtin_role(role_id) is not None:
        raise ConflictError("Built-in roles cannot be changed or deleted.", {"role": role_id})
    return repo.get_role(tenant.tenant_id, role_id)


def update_role(
    repo: TenancyRepository,
    tenant: TenantContext,
    role_id: str,
    *,
    name: str | None = None,
    permissions: list[str] | None = None,
    description: str | None = None,
    set_description: bool = False,
    now: Callable[[], str] = _now,
) -> Role:
    """Change a custom role; its members' bindings follow before this returns.

    Raises NotFoundError, ConflictError (built-in role, name taken, concurrent change),
    ValidationError and ForbiddenError (the current or new permissions exceed the actor's; an
    actor with a temporary grant adds permissions to a role members hold).
    """
    if name is None and permissions is None and not set_description:
        raise ValidationError("Nothing to change: give name, description and/or permissions.", {"field": "body"})
    current = _custom_role(repo, tenant, role_id)
    check_grant(tenant, current.permissions, "change this role")
    granted = check_permission_list(permissions) if permissions is not None else current.permissions
    check_grant(tenant, granted, "give this role these permissions")
    if tenant.expires_at is not None and current.members > 0 and granted - current.permissions:
        # Widening a bound role widens every binding to it, permanent ones included: a
        # temporary grant would outlive itself through them.
        raise ForbiddenError(
            "Your own access is temporary: you cannot add permissions to a role that members hold.",
            {"field": "permissions", "members": current.members},
        )
    updated = replace(
        current,
        name=_check_role_name(name) if name is not None else current.name,
        permissions=granted,
        description=_check_description(description) if set_description else current.description,
        updated_at=now(),
        version=current.version + 1,
    )
    repo.update_role(current, updated)
    # Bindings written from the old version now fail their version check, so after this
    # sweep no membership can keep the old permissions.
    if updated.permissions != current.permissions:
        repo.sync_role_bindings(updated)
    return updated


def delete_role(repo: TenancyRepository, tenant: TenantContext, role_id: str) -> None:
    """Raises NotFoundError, ConflictError (built in, or still bound) and ForbiddenError."""
    current = _custom_role(repo, tenant, role_id)
    check_grant(tenant, current.permissions, "delete this role")
    if current.members > 0:
        raise ConflictError(
            "The role is still bound to members; change their role first.",
            {"role": role_id, "members": current.members},
        )
    repo.delete_role(current)
