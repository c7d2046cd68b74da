"""A server's subusers through Pterodactyl's client API (``/api/client/servers/{server}/users``).

A Pterodactyl subuser of a server is, in Mamba, a member of the server's tenant whose binding is
scoped to that server (``Membership.server_id``); members with tenant-wide access are not listed,
as Pterodactyl does not list a server's owner or admins. Every change goes through the same use
cases as /v1's member routes, so nobody grants what they do not hold, changes their own binding,
or reaches another tenant:

* **Permissions** are Pterodactyl's keys, mapped through the one table
  (``mamba.domain.pterodactyl.PERMISSION_MAP``; an unknown key is a 422). Any subuser may read
  the server (``servers.read``), as on Pterodactyl. The set becomes a custom role of the tenant
  named ``Subuser <digest of the set>``, made on first use and shared by every subuser with the
  same set (a custom role is how Mamba grants an arbitrary set of permissions).
* **Adding someone** is an invitation (``invitations.invite_member``): Mamba never binds an
  account without its owner's consent, and mails the accept link as /v1 does. Until it is
  accepted the subuser is listed with the invitation's id as ``uuid``; changing it sends a new
  invitation with the new permissions, deleting it revokes the invitation. Once accepted the
  member's user id is the ``uuid``.
* Changing or removing a member ends their console tokens and open sockets where they lost
  access, as /v1's member routes do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mamba.auth.context import TenantContext
from mamba.domain.clock import now_epoch
from mamba.domain.errors import NotFoundError
from mamba.domain.pages import PageRequest
from mamba.domain.pterodactyl import iso, item, mamba_permissions, plain_list, pterodactyl_permissions
from mamba.domain.tenancy import CUSTOM_ROLE_PREFIX, BindingChange, Invitation, Membership, Role
from mamba.ports import EventPublisher, Mailer
from mamba.services import invitations, members, roles
from mamba.services import server_control as control
from mamba.services.tenants import TenancyRepository, UserReader

NOT_FOUND = "The requested resource could not be found on the server."
ROLE_NAME_PREFIX = "Subuser "
# Every subuser may see the server it is a subuser of.
ALWAYS = frozenset({"servers.read"})
PAGE = 100


@dataclass(frozen=True)
class SubuserPorts:
    repo: TenancyRepository
    users: UserReader
    mailer: Mailer
    control: control.Ports
    accept_url: str  # the page the invitation mail links to (as /v1's invitations)
    limiter: Any = None  # RateLimiter: invitation mails per hour, as on /v1
    limits: Any = None  # InvitationLimits
    events: EventPublisher | None = None  # member.removed, as on /v1


# --- shapes -----------------------------------------------------------------------------------


def _gravatar(email: str) -> str:
    # Pterodactyl shows a Gravatar for each user; md5 is Gravatar's own key, not a security measure.
    return (
        "https://gravatar.com/avatar/" + hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()
    )


def _subuser(
    uuid: str, email: str, two_factor: bool, created_at: str | None, granted: frozenset[str]
) -> dict[str, Any]:
    return item(
        "server_subuser",
        {
            "uuid": uuid,
            "username": email.split("@", 1)[0],
            "email": email,
            "image": _gravatar(email),
            "2fa_enabled": two_factor,
            "created_at": iso(created_at) or "",
            "permissions": pterodactyl_permissions(granted),
        },
    )


def _member_object(ports: SubuserPorts, member: Membership) -> dict[str, Any]:
    """One read of the account: its email and whether it has a second factor (``2fa_enabled``)."""
    try:
        user = ports.users.get(member.user_id)
        email, two_factor = user.email, user.has_second_factor
    except NotFoundError:  # the account is being deleted; its binding goes with it
        email, two_factor = member.user_id, False
    return _subuser(member.user_id, email, two_factor, member.created_at, member.effective_permissions)


def _invitation_object(ports: SubuserPorts, tenant_id: str, invitation: Invitation) -> dict[str, Any]:
    role = roles.resolve_role(ports.repo, tenant_id, invitation.role)
    return _subuser(invitation.id, invitation.email, False, invitation.created_at, role.permissions)


# --- look-ups ---------------------------------------------------------------------------------


def _pages[T](fetch: Any) -> Iterator[T]:
    cursor: str | None = None
    while True:
        page = fetch(PageRequest(limit=PAGE, cursor=cursor))
        yield from page.items
        cursor = page.next_cursor
        if not cursor:
            return


def _scoped_members(ports: SubuserPorts, tenant: TenantContext, server_uuid: str) -> list[Membership]:
    found: Iterator[Membership] = _pages(lambda page: ports.repo.list_members(tenant.tenant_id, page))
    return [m for m in found if m.server_id == server_uuid]


def _scoped_invitations(ports: SubuserPorts, tenant: TenantContext, server_uuid: str) -> list[Invitation]:
    found: Iterator[Invitation] = _pages(
        lambda page: invitations.list_invitations(ports.repo, tenant, page)  # lapsed ones left out
    )
    return [i for i in found if i.server_id == server_uuid]


def _member(ports: SubuserPorts, tenant: TenantContext, server_uuid: str, uuid: str) -> Membership | None:
    if uuid.startswith("inv_"):
        return None
    try:
        member = ports.repo.get_member(tenant.tenant_id, uuid)
    except NotFoundError:
        return None
    return member if member.server_id == server_uuid else None


def _invitation(ports: SubuserPorts, tenant: TenantContext, server_uuid: str, uuid: str) -> Invitation | None:
    if not uuid.startswith("inv_"):
        return None
    try:
        found = ports.repo.get_invitation(tenant.tenant_id, uuid)
    except NotFoundError:
        return None
    # A lapsed invitation is gone for the list too (DynamoDB's TTL removes it later).
    return found if found.server_id == server_uuid and found.lapses_at > now_epoch() else None


def _role_for(ports: SubuserPorts, tenant: TenantContext, keys: list[str]) -> Role:
    """The tenant's custom role holding exactly the permissions ``keys`` map to (made on first
    use). Raises ValidationError (an unknown key) and ForbiddenError (a permission the caller
    lacks, from ``roles.create_role``)."""
    wanted = mamba_permissions(keys) | ALWAYS
    digest = hashlib.sha256(",".join(sorted(wanted)).encode()).hexdigest()[:12]
    name = ROLE_NAME_PREFIX + digest
    held: Iterator[Role] = _pages(lambda page: ports.repo.list_roles(tenant.tenant_id, page))
    for role in held:
        if role.id.startswith(CUSTOM_ROLE_PREFIX) and role.name == name and role.permissions == wanted:
            return role
    shown = ", ".join(pterodactyl_permissions(wanted)) or "view the server"
    return roles.create_role(ports.repo, tenant, name, sorted(wanted), f"Pterodactyl subuser: {shown}"[:500])


def _not_found(uuid: str) -> NotFoundError:
    return NotFoundError(NOT_FOUND, {"subuser": uuid})


# --- use cases --------------------------------------------------------------------------------


def list_subusers(ports: SubuserPorts, tenant: TenantContext, server_uuid: str) -> dict[str, Any]:
    """The server's scoped members, then its pending invitations (one Query per 100 of each,
    one read per subuser: a server has a handful)."""
    shaped = [_member_object(ports, m) for m in _scoped_members(ports, tenant, server_uuid)]
    shaped += [_invitation_object(ports, tenant.tenant_id, i) for i in _scoped_invitations(ports, tenant, server_uuid)]
    return plain_list(shaped)


def get_subuser(ports: SubuserPorts, tenant: TenantContext, server_uuid: str, uuid: str) -> dict[str, Any]:
    member = _member(ports, tenant, server_uuid, uuid)
    if member is not None:
        return _member_object(ports, member)
    invitation = _invitation(ports, tenant, server_uuid, uuid)
    if invitation is not None:
        return _invitation_object(ports, tenant.tenant_id, invitation)
    raise _not_found(uuid)


def create_subuser(
    ports: SubuserPorts, tenant: TenantContext, actor_id: str, server_uuid: str, email: str, keys: list[str]
) -> dict[str, Any]:
    """Invite ``email`` to the server with the permissions ``keys`` stand for. Raises what
    ``invitations.invite_member`` raises (ConflictError for someone already a member)."""
    role = _role_for(ports, tenant, keys)
    sent = invitations.invite_member(
        ports.repo,
        ports.mailer,
        tenant,
        actor_id,
        email,
        role.id,
        accept_url=ports.accept_url,
        server_id=server_uuid,
        limiter=ports.limiter,
        limits=ports.limits,
    )
    return _subuser(sent.invitation.id, sent.invitation.email, False, sent.invitation.created_at, role.permissions)


def update_subuser(
    ports: SubuserPorts, tenant: TenantContext, actor_id: str, server_uuid: str, uuid: str, keys: list[str]
) -> dict[str, Any]:
    """A member's new permissions (their binding's role; console access they lost ends now), or a
    pending invitation sent again with them."""
    member = _member(ports, tenant, server_uuid, uuid)
    if member is not None:
        role = _role_for(ports, tenant, keys)
        updated = members.change_member(ports.repo, tenant, uuid, BindingChange(role=role.id), actor_id=actor_id)
        control.revoke_console_after_change(ports.control, tenant.tenant_id, uuid, member, updated)
        control.deauthorize_after_change(ports.control, tenant.tenant_id, uuid, member, updated)
        return _member_object(ports, updated)
    invitation = _invitation(ports, tenant, server_uuid, uuid)
    if invitation is None:
        raise _not_found(uuid)
    return create_subuser(ports, tenant, actor_id, server_uuid, invitation.email, keys)


def delete_subuser(ports: SubuserPorts, tenant: TenantContext, server_uuid: str, uuid: str) -> None:
    member = _member(ports, tenant, server_uuid, uuid)
    if member is not None:
        members.remove_member(ports.repo, tenant, uuid, events=ports.events)
        control.revoke_console_after_change(ports.control, tenant.tenant_id, uuid, member, None)
        control.deauthorize_after_change(ports.control, tenant.tenant_id, uuid, member, None)
        return
    invitation = _invitation(ports, tenant, server_uuid, uuid)
    if invitation is None:
        raise _not_found(uuid)
    invitations.revoke_invitation(ports.repo, tenant, invitation.id)
