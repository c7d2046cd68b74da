"""Members of a tenant: list them, change a member's role, server scope or expiry, remove one.

The rules (no escalation, the last owner stays, nobody beyond their own grant) are in
``mamba.domain.tenancy``; the last-owner check is the repository's conditional write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from mamba.auth.context import TenantContext
from mamba.domain.clock import now_epoch
from mamba.domain.errors import ForbiddenError, ValidationError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.tenancy import (
    OWNER,
    BindingChange,
    ListedMember,
    Membership,
    binding_permissions,
    check_binding,
    check_grant,
    check_within_own_grant,
    role_version,
)
from mamba.ports import EventPublisher
from mamba.services.emit import emit_after_commit
from mamba.services.roles import resolve_role
from mamba.services.tenants import TenancyRepository


def now_iso() -> str:
    from mamba.domain.clock import iso, utcnow

    return iso(utcnow())


def list_members(repo: TenancyRepository, tenant: TenantContext, page: PageRequest) -> Page[ListedMember]:
    """A page of bindings with each member's email and name: one Query and one batch read
    of the page's accounts (a page holds at most ``MAX_LIMIT`` = 100, one BatchGetItem)."""
    found = repo.list_members(tenant.tenant_id, page)
    contacts = repo.contacts([m.user_id for m in found.items]) if found.items else {}
    return Page(items=[ListedMember(m, contacts.get(m.user_id)) for m in found.items], next_cursor=found.next_cursor)


def _target(repo: TenancyRepository, tenant: TenantContext, user_id: str) -> Membership:
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
) -> Membership:
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
        permissions=binding_permissions(role),
        server_id=server_id,
        expires_at=expires_at,
    )
    repo.change_binding(current, updated, role_version(role))
    return updated


def remove_member(
    repo: TenancyRepository, tenant: TenantContext, user_id: str, *, events: EventPublisher | None = None
) -> None:
    """Raises NotFoundError, ForbiddenError (the member holds permissions the actor lacks)
    and ConflictError (the last owner). Emits ``member.removed`` (docs/notifications.md)."""
    current = _target(repo, tenant, user_id)
    check_grant(tenant, current.effective_permissions, "remove this member")
    repo.remove_member(current)
    if events is not None:
        from mamba.domain.events import make_event

        contact = repo.contacts([user_id]).get(user_id)
        emit_after_commit(
            events,
            make_event(
                "member.removed",
                # The binding's creation: a member removed, invited again and removed again is a new event.
                dedupe_key=f"{tenant.tenant_id}:{user_id}:{current.created_at}",
                occurred_at=now_iso(),
                tenant_id=tenant.tenant_id,
                payload={"email": contact.email if contact else user_id},
            ),
        )
