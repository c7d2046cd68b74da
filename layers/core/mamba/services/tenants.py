"""Tenants: create one (owned by the caller), list the caller's, read and change one.

Every call on an existing tenant takes the verified ``TenantContext``; ids are only ever
looked up under its tenant (another tenant does not exist). The records and the rules are
in ``mamba.domain.tenancy``; members, invitations and roles have their own modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from mamba.auth.context import TenantContext
from mamba.domain import account_policy
from mamba.domain.accounts import User
from mamba.domain.clock import iso, now_epoch, utcnow
from mamba.domain.errors import ValidationError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.ratelimit import Limit
from mamba.domain.tenancy import OWNER, Contact, Invitation, Membership, Role, Tenant, UserTenant
from mamba.ports import RateLimiter
from mamba.services import abuse, accounts

TENANT_CREATE_LIMIT = "tenant-create"  # the rate-limit counter family of POST /v1/tenants (per account)


# --- ports ---------------------------------------------------------------------------


class UserReader(Protocol):
    def get(self, user_id: str) -> User:
        """Raises NotFoundError."""


class TenancyRepository(Protocol):
    def get_tenant(self, tenant_id: str) -> Tenant:
        """Raises NotFoundError."""

    def update_tenant(
        self, tenant_id: str, *, name: str | None, require_2fa: bool | None, actor_id: str, now: str
    ) -> Tenant:
        """Raises NotFoundError, and ConflictError when turning ``require_2fa`` on while the
        actor has no 2FA (decided by the same transaction as the write)."""

    def tenants_of_user(self, user_id: str, page: PageRequest) -> Page[UserTenant]: ...

    def get_member(self, tenant_id: str, user_id: str) -> Membership:
        """Raises NotFoundError."""

    def list_members(self, tenant_id: str, page: PageRequest) -> Page[Membership]: ...

    def contacts(self, user_ids: list[str]) -> dict[str, Contact]:
        """The email and name of each existing account, in one read (at most 100 ids)."""

    def is_member_email(self, tenant_id: str, email: str) -> bool: ...

    def change_binding(self, current: Membership, updated: Membership, role_version: int | None) -> None:
        """Write ``updated`` over ``current`` in one transaction with the owner count and the
        custom roles' member counts. Raises ConflictError when the last owner would go, the
        member changed meanwhile, or the new custom role changed (version) or is gone."""

    def remove_member(self, current: Membership) -> None:
        """Raises ConflictError when ``current`` is the last owner or changed meanwhile."""

    def put_invitation(self, invitation: Invitation) -> None: ...

    def get_invitation(self, tenant_id: str, invitation_id: str) -> Invitation:
        """Raises NotFoundError."""

    def list_invitations(self, tenant_id: str, page: PageRequest) -> Page[Invitation]: ...

    def delete_invitation(self, tenant_id: str, invitation_id: str) -> None:
        """Raises NotFoundError."""

    def accept_invitation(self, invitation: Invitation, member: Membership, role_version: int | None) -> None:
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


# --- use cases -----------------------------------------------------------------------


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
    info = Tenant(id=tenant.id, name=tenant.name, created_at=tenant.created_at, status=tenant.status, owner_count=1)
    return UserTenant(tenant=info, role=OWNER)


def list_my_tenants(
    repo: TenancyRepository, user_id: str, page: PageRequest, *, clock: Callable[[], int] = now_epoch
) -> Page[UserTenant]:
    """The caller's tenants; temporary grants that have ended are left out."""
    found = repo.tenants_of_user(user_id, page)
    now = clock()
    live = [t for t in found.items if t.expires_at is None or t.expires_at > now]
    return Page(items=live, next_cursor=found.next_cursor)


def get_tenant(repo: TenancyRepository, tenant: TenantContext) -> Tenant:
    return repo.get_tenant(tenant.tenant_id)


def update_tenant(
    repo: TenancyRepository,
    tenant: TenantContext,
    actor_id: str,
    *,
    name: str | None = None,
    require_2fa: bool | None = None,
    now: Callable[[], str] = _now,
) -> Tenant:
    """Rename the tenant and/or require 2FA of its members.

    Raises ValidationError (name, or nothing to change) and ConflictError (requiring 2FA
    while the actor has none: the actor would lock themselves out).
    """
    if name is None and require_2fa is None:
        raise ValidationError("Nothing to change: give name and/or require_2fa.", {"field": "body"})
    clean = account_policy.check_tenant_name(name) if name is not None else None
    return repo.update_tenant(tenant.tenant_id, name=clean, require_2fa=require_2fa, actor_id=actor_id, now=now())
