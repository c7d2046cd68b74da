"""Platform administration of users and tenants (/v1/admin/users, /v1/admin/tenants).

Only platform admins reach these use cases (the guard checks ``admin.*``). The admin flag
itself is set only here (by another admin) or by ``mamba create-admin``.

* Suspending a user sets ``status = suspended``, ``sessions_valid_after = now`` and
  ``credentials_reset_at = now``, and revokes every API key of the account: the guard answers
  401 to every token and key of the account at once, and tokens and keys issued before the
  suspension stay dead after an unsuspend.
* Suspending a tenant sets ``status = suspended``: its members can still read, every
  write answers 403 ``TENANT_SUSPENDED`` (the guard), console tokens are read-only, and the
  ``suspend_tenant`` workflow (the one billing uses) denies issued console tokens and
  suspends every server on its node. Unsuspending starts ``reactivate_tenant``; the two
  reasons (admin, billing) are independent: lifting one leaves the servers suspended while
  the other holds (docs/tenancy.md).
* An admin cannot suspend themselves or remove their own admin flag, so a slip of the
  mouse cannot lock the last admin out; and the change is written only while the acting admin
  is still an active admin (a condition in the same transaction), so two admins revoking or
  suspending each other at once cannot both succeed: the platform always keeps an admin.
* Search (``q``) narrows the page the listing read (case-insensitive substring of the email,
  name or id): a page costs one Query however rare the matches, so a searched page may be
  short, even empty, while ``next_cursor`` leads on (as ``/v1/admin/servers`` does).
* Resetting another account's 2FA needs the acting admin to prove themselves again (their own
  password, and their TOTP code when they have 2FA on): a stolen admin session alone cannot
  strip an account's second factor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mamba.auth.context import TenantContext
from mamba.domain.accounts import UserDetail, UserSummary
from mamba.domain.clock import iso, now_epoch, utcnow
from mamba.domain.errors import ConflictError, SessionRequiredError, ValidationError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.server_lifecycle import BY_TENANT_ADMIN
from mamba.domain.tenancy import Membership, Tenant
from mamba.ports import OperationRepository, PasskeyStore, Workflows
from mamba.services.accounts import AccountPorts, KeyRevoker, revoke_api_keys
from mamba.services.two_factor import TwoFactorStore

ACTIVE = "active"
SUSPENDED = "suspended"


class AdminRepository(Protocol):
    def list_users(self, page: PageRequest) -> Page[UserSummary]: ...

    def get_user(self, user_id: str) -> UserSummary:
        """Raises NotFoundError."""

    def memberships_of_user(self, user_id: str) -> list[Membership]: ...

    def set_user_admin(self, user_id: str, is_admin: bool, now: str, *, actor_id: str | None = None) -> UserSummary:
        """Raises NotFoundError, and LastAdminError when ``actor_id`` is given and is no longer an
        active admin at the moment of the write (checked in the same transaction)."""

    def set_user_status(
        self,
        user_id: str,
        status: str,
        sessions_valid_after: int | None,
        now: str,
        *,
        credentials_reset_at: str | None = None,
        actor_id: str | None = None,
    ) -> UserSummary:
        """Raises NotFoundError. ``sessions_valid_after`` and ``credentials_reset_at`` None
        leave them as they are. With ``actor_id`` the write happens only while that account is
        an active admin (else LastAdminError), in the same transaction."""

    def list_tenants(self, page: PageRequest) -> Page[Tenant]: ...

    def get_tenant(self, tenant_id: str) -> Tenant:
        """Raises NotFoundError."""

    def set_tenant_status(self, tenant_id: str, status: str, now: str) -> Tenant:
        """Raises NotFoundError."""


def _now() -> str:
    return iso(utcnow())


MAX_QUERY = 64


def search_text(q: str | None) -> str | None:
    """The normalised search text (lowercase, trimmed; None for none). Raises ValidationError
    over ``MAX_QUERY`` characters."""
    text = (q or "").strip().lower()
    if len(text) > MAX_QUERY:
        raise ValidationError(
            "The search is too long.", {"fields": [{"field": "q", "message": f"at most {MAX_QUERY} characters"}]}
        )
    return text or None


def user_matches(user: UserSummary, text: str) -> bool:
    return any(text in (value or "").lower() for value in (user.email, user.name, user.id))


def tenant_matches(tenant: Tenant, text: str) -> bool:
    return any(text in value.lower() for value in (tenant.name, tenant.id))


def list_users(repo: AdminRepository, page: PageRequest, q: str | None = None) -> Page[UserSummary]:
    """One page of every user, narrowed to ``q`` (see the module docstring). Raises ValidationError."""
    text = search_text(q)
    found = repo.list_users(page)
    if text is None:
        return found
    return Page(items=[u for u in found.items if user_matches(u, text)], next_cursor=found.next_cursor)


def get_user(repo: AdminRepository, user_id: str) -> UserDetail:
    """Raises NotFoundError."""
    return UserDetail(user=repo.get_user(user_id), memberships=repo.memberships_of_user(user_id))


def set_admin(
    repo: AdminRepository, actor_id: str, user_id: str, is_admin: bool, *, now: Callable[[], str] = _now
) -> UserSummary:
    """Grant or remove the platform admin flag. Raises NotFoundError, ConflictError (an admin
    removing their own flag) and LastAdminError (the actor lost their own admin rights meanwhile)."""
    if user_id == actor_id and not is_admin:
        raise ConflictError("You cannot remove your own admin flag; ask another admin.", {"reason": "self"})
    return repo.set_user_admin(user_id, is_admin, now(), actor_id=actor_id)


def suspend_user(
    repo: AdminRepository,
    actor_id: str,
    user_id: str,
    *,
    api_keys: KeyRevoker | None = None,
    clock: Callable[[], int] = now_epoch,
    now: Callable[[], str] = _now,
) -> UserSummary:
    """Suspend an account, end all its sessions and revoke all its API keys (they stay dead
    after an unsuspend). Raises NotFoundError, ConflictError (suspending oneself) and
    LastAdminError (the actor lost their own admin rights meanwhile)."""
    if user_id == actor_id:
        raise ConflictError("You cannot suspend your own account.", {"reason": "self"})
    moment = now()
    # +1: tokens carry whole seconds; one issued in this very second must die too.
    summary = repo.set_user_status(
        user_id, SUSPENDED, clock() + 1, moment, credentials_reset_at=moment, actor_id=actor_id
    )
    revoke_api_keys(api_keys, user_id, moment)
    return summary


def unsuspend_user(repo: AdminRepository, user_id: str, *, now: Callable[[], str] = _now) -> UserSummary:
    """Let the account log in again (its old sessions stay revoked). Raises NotFoundError."""
    return repo.set_user_status(user_id, ACTIVE, None, now())


def list_tenants(repo: AdminRepository, page: PageRequest, q: str | None = None) -> Page[Tenant]:
    """One page of every tenant, narrowed to ``q`` (see the module docstring). Raises ValidationError."""
    text = search_text(q)
    found = repo.list_tenants(page)
    if text is None:
        return found
    return Page(items=[t for t in found.items if tenant_matches(t, text)], next_cursor=found.next_cursor)


def get_tenant(repo: AdminRepository, tenant_id: str) -> Tenant:
    return repo.get_tenant(tenant_id)


@dataclass(frozen=True)
class TenantSuspension:
    """What a tenant's suspension and its lifting need besides the admin repository: the
    ``suspend_tenant`` / ``reactivate_tenant`` workflows billing uses too."""

    operations: OperationRepository
    workflows: Workflows


def _set_and_start(
    repo: AdminRepository,
    ports: TenantSuspension,
    tenant_id: str,
    status: str,
    workflow: str,
    op_type: str,
    now: Callable[[], str],
) -> Tenant:
    """Set the tenant's status, then start the workflow that brings its servers along. The
    status goes first: from that moment the guard refuses changes and new console tokens are
    read-only, so the workflow's ``ws/deny`` cannot be outrun by a fresh full token. If the
    workflow cannot start, the status is put back before the error reaches the admin, so a
    tenant is never marked suspended while its servers run on (and vice versa)."""
    from mamba.services.operations import start_tenant_workflow

    before = repo.get_tenant(tenant_id)
    updated = repo.set_tenant_status(tenant_id, status, now())
    try:
        start_tenant_workflow(
            ports.operations,
            ports.workflows,
            tenant_id,
            op_type,
            workflow,
            BY_TENANT_ADMIN,
            previous_status=before.status,
        )
    except Exception:
        repo.set_tenant_status(tenant_id, before.status, now())
        raise
    return updated


def suspend_tenant(
    repo: AdminRepository, ports: TenantSuspension, tenant_id: str, *, now: Callable[[], str] = _now
) -> Tenant:
    """Suspend the tenant: members can read, every change answers 403 ``TENANT_SUSPENDED``, new
    console tokens are read-only, and the ``suspend_tenant`` workflow (``by: tenant_admin``)
    denies the members' issued console tokens and suspends every server on its node. Repeating
    it is harmless (each step is idempotent), which also retries a run that partly failed.
    Raises NotFoundError and DependencyUnavailableError (the workflow did not start; nothing changed)."""
    return _set_and_start(repo, ports, tenant_id, SUSPENDED, "suspend_tenant", "admin.suspend_tenant", now)


def unsuspend_tenant(
    repo: AdminRepository, ports: TenantSuspension, tenant_id: str, *, now: Callable[[], str] = _now
) -> Tenant:
    """Lift the admin's suspension and start ``reactivate_tenant`` (``by: tenant_admin``): each
    server comes back unless billing still holds the tenant suspended (or an admin suspended
    that one server). Raises NotFoundError and DependencyUnavailableError (nothing changed)."""
    return _set_and_start(repo, ports, tenant_id, ACTIVE, "reactivate_tenant", "admin.unsuspend_tenant", now)


def reset_two_factor(
    accounts: AccountPorts,
    store: TwoFactorStore,
    actor_id: str,
    user_id: str,
    *,
    current_password: str | None,
    totp_code: str | None,
    via: str,
    now: int,
    passkeys: PasskeyStore | None = None,
) -> UserSummary:
    """Turn another account's 2FA off (its owner lost the authenticator), after the acting
    admin re-entered their own password (and TOTP code when they use 2FA); the owner is told
    by mail. Their sessions stay: the password still guards the account. The account's
    passkeys go too (each is a second factor, docs/passkeys.md): a lost phone holding the only
    passkey is the same case as a lost authenticator app.

    Raises SessionRequiredError (an API key), ConflictError (oneself: use /v1/me/2fa; or 2FA
    is not on, ``not_enabled``), ValidationError and RateLimitedError (the identity check),
    NotFoundError."""
    from mamba import mail_templates
    from mamba.services.accounts import reauthenticate, send_mail

    if via != "token":
        raise SessionRequiredError("Only a signed-in admin can reset 2FA, not an API key.", {"via": via})
    if user_id == actor_id:
        raise ConflictError("Turn your own 2FA off in your account settings.", {"reason": "self"})
    reauthenticate(accounts, accounts.users.get(actor_id), current_password, totp_code, now=now)
    state = store.load(user_id)
    registered = passkeys.list(user_id) if passkeys is not None else []
    if not state.enabled and not registered:
        raise ConflictError("Two-factor authentication is not enabled for this account.", {"reason": "not_enabled"})
    if state.enabled:
        store.disable(user_id)
    if passkeys is not None and registered:
        passkeys.delete_all(user_id)
    target = accounts.users.get(user_id)
    send_mail(accounts, target.email, mail_templates.two_factor_reset(target.name))
    return UserSummary(
        id=target.id,
        email=target.email,
        created_at=target.created_at,
        name=target.name,
        is_admin=target.is_admin,
        email_verified=target.email_verified,
        status=target.status,
        totp_enabled=False,
        passkeys=0,
    )


# The platform admin's read-only view of one tenant (its members, billing, credits, invoices):
# the admin is no member, so the tenant comes from the path, checked to exist, and the view
# carries only read permissions; the tenant's own use cases then run unchanged.
ADMIN_VIEW_PERMISSIONS = frozenset({"members.read", "billing.read", "servers.read", "audit.read"})


def tenant_view(repo: AdminRepository, tenant_id: str) -> TenantContext:
    """Raises NotFoundError (no such tenant)."""
    tenant = repo.get_tenant(tenant_id)
    return TenantContext(
        tenant_id=tenant.id,
        role="platform_admin",
        permissions=ADMIN_VIEW_PERMISSIONS,
        suspended=tenant.status == SUSPENDED,
    )
