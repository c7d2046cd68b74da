"""Invitations to a tenant: invite an address (a mailed link), list and revoke pending ones,
and accept one (the invited account becomes a member as the invitation says).

Only a hash of an invitation's token is stored; the token itself is only in the mail.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from mamba.auth.context import TenantContext
from mamba.domain import account_policy
from mamba.domain.clock import iso, now_epoch, utcnow
from mamba.domain.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.tenancy import (
    INVITATION_TTL_SECONDS,
    Invitation,
    InvitationLimits,
    Membership,
    SentInvitation,
    UserTenant,
    binding_permissions,
    check_binding,
    check_grant,
    check_within_own_grant,
    hash_secret,
    invitation_id,
    make_token,
    parse_token,
    role_version,
)
from mamba.ports import EventPublisher, Mailer, RateLimiter
from mamba.services import abuse, accounts
from mamba.services.roles import resolve_role
from mamba.services.tenants import TenancyRepository, UserReader


def _now() -> str:
    return iso(utcnow())


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
    events: EventPublisher | None = None,
) -> UserTenant:
    """Make the caller a member as the invitation says (and emit ``member.added``).

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
    if not hmac.compare_digest(hash_secret(secret), invitation.token_hash) or invitation.lapses_at <= epoch:
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
    member = Membership(
        tenant_id=tenant_id,
        user_id=user_id,
        role=role.id,
        created_at=now(),
        permissions=binding_permissions(role),
        server_id=invitation.server_id,
        expires_at=invitation.expires_at,
    )
    repo.accept_invitation(invitation, member, role_version(role))
    if events is not None:
        from mamba.domain.events import make_event
        from mamba.services.emit import emit_after_commit

        emit_after_commit(
            events,
            make_event(
                "member.added",
                dedupe_key=f"{tenant_id}:{inv_id}",  # an invitation is accepted once
                occurred_at=member.created_at,
                tenant_id=tenant_id,
                payload={"email": user.email, "role": role.name},
            ),
        )
    return UserTenant(tenant=tenant, role=role.id, server_id=member.server_id, expires_at=member.expires_at)
