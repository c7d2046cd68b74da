"""Members of a tenant: list, change, remove; invitations by email and their acceptance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.domain.clock import now_epoch
from mamba.domain.errors import NotFoundError
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.domain import tenancy
    from mamba.schemas import tenancy as schemas
    from mamba.schemas.tenancy import MemberList, MemberOut, TenantOut
    from mamba.services import invitations, members
    from mamba.services import server_control as control
else:
    tenancy = lazy_import("mamba.domain.tenancy")
    members = lazy_import("mamba.services.members")
    invitations = lazy_import("mamba.services.invitations")
    control = lazy_import("mamba.services.server_control")
    schemas = lazy_import("mamba.schemas.tenancy")

bp = Blueprint(__name__)
TAGS = ("members",)
ACCEPT_PATH = "/invitations/accept"  # the page (or client) that POSTs the token to /v1/invitations/accept


def _member_or_none(repo: Any, tenant_id: str, user_id: str) -> Any:
    """The binding before a change (None when absent: the use case answers that itself)."""
    try:
        return repo.get_member(tenant_id, user_id)
    except NotFoundError:
        return None


@route(
    bp,
    "/v1/tenants/{tenant_id}/members",
    "GET",
    permission="members.read",
    summary="The tenant's members and what each binding grants",
    tags=TAGS,
    response_model="tenancy:MemberList",
    query=("limit", "cursor"),
)
def list_members(ctx: Ctx, tenant_id: str) -> MemberList:
    page = members.list_members(bootstrap.tenancy_repository(), ctx.tenant, PageRequest.from_query(ctx.query))
    now = now_epoch()
    return schemas.MemberList(
        items=[schemas.member_out(m.member, now, m.contact) for m in page.items], next_cursor=page.next_cursor
    )


@route(
    bp,
    "/v1/tenants/{tenant_id}/members/{user_id}",
    "PATCH",
    permission="members.manage",
    summary="Change another member's role, server scope or expiry (effective on their next request)",
    tags=TAGS,
    request_model="tenancy:MemberUpdate",
    response_model="tenancy:MemberOut",
)
def change_member(ctx: Ctx, tenant_id: str, user_id: str) -> MemberOut:
    given = ctx.body.model_fields_set
    repo = bootstrap.tenancy_repository()
    before = _member_or_none(repo, ctx.tenant.tenant_id, user_id)
    change = tenancy.BindingChange(
        role=ctx.body.role,
        server_id=ctx.body.server_id,
        expires_at=schemas.to_epoch(ctx.body.expires_at),
        set_server_id="server_id" in given,
        set_expires_at="expires_at" in given,
    )
    updated = members.change_member(repo, ctx.tenant, user_id, change, actor_id=ctx.user_id)
    # Committed; now best effort on the nodes: access taken away ends the member's console
    # tokens (ws/deny), open sockets and SFTP sessions (deauthorize-user) where they lost it.
    ports = bootstrap.server_control_ports()
    control.revoke_console_after_change(ports, ctx.tenant.tenant_id, user_id, before, updated)
    control.deauthorize_after_change(ports, ctx.tenant.tenant_id, user_id, before, updated)
    return schemas.member_out(updated, now_epoch())


@route(
    bp,
    "/v1/tenants/{tenant_id}/members/{user_id}",
    "DELETE",
    permission="members.manage",
    summary="Remove a member (never the last owner)",
    tags=TAGS,
    status=204,
)
def remove_member(ctx: Ctx, tenant_id: str, user_id: str) -> object:
    repo = bootstrap.tenancy_repository()
    before = _member_or_none(repo, ctx.tenant.tenant_id, user_id)
    members.remove_member(repo, ctx.tenant, user_id, events=bootstrap.events_or_none())
    # The removal is the source of truth; the nodes are told after it, best effort (logged).
    ports = bootstrap.server_control_ports()
    control.revoke_console_after_change(ports, ctx.tenant.tenant_id, user_id, before, None)
    control.deauthorize_after_change(ports, ctx.tenant.tenant_id, user_id, before, None)
    return Response(body="", status_code=204)


@route(
    bp,
    "/v1/tenants/{tenant_id}/members/invitations",
    "POST",
    permission="members.manage",
    summary="Invite someone by email; the mail holds a link with the one-time token",
    tags=TAGS,
    request_model="tenancy:InvitationCreate",
    response_model="tenancy:InvitationOut",
    status=201,
)
def invite_member(ctx: Ctx, tenant_id: str) -> object:
    body = ctx.body
    sent = invitations.invite_member(
        bootstrap.tenancy_repository(),
        bootstrap.mailer(),
        ctx.tenant,
        ctx.user_id,
        body.email,
        body.role,
        accept_url=bootstrap.settings().public_url + ACCEPT_PATH,
        server_id=body.server_id,
        expires_at=schemas.to_epoch(body.expires_at),
        limiter=bootstrap.rate_limiter(),
        limits=bootstrap.invitation_limits(),
    )
    return sent.invitation


@route(
    bp,
    "/v1/tenants/{tenant_id}/members/invitations",
    "GET",
    permission="members.read",
    summary="Pending invitations",
    tags=TAGS,
    response_model="tenancy:InvitationList",
    query=("limit", "cursor"),
)
def list_invitations(ctx: Ctx, tenant_id: str) -> object:
    return invitations.list_invitations(bootstrap.tenancy_repository(), ctx.tenant, PageRequest.from_query(ctx.query))


@route(
    bp,
    "/v1/tenants/{tenant_id}/members/invitations/{invitation_id}",
    "DELETE",
    permission="members.manage",
    summary="Revoke a pending invitation",
    tags=TAGS,
    status=204,
)
def revoke_invitation(ctx: Ctx, tenant_id: str, invitation_id: str) -> object:
    invitations.revoke_invitation(bootstrap.tenancy_repository(), ctx.tenant, invitation_id)
    return Response(body="", status_code=204)


@route(
    bp,
    "/v1/invitations/accept",
    "POST",
    permission="account.write",
    summary="Accept an invitation with the token from its mail (the account's verified email must match)",
    tags=TAGS,
    request_model="tenancy:InvitationAccept",
    response_model="tenancy:TenantOut",
)
def accept_invitation(ctx: Ctx) -> TenantOut:
    joined = invitations.accept_invitation(
        bootstrap.tenancy_repository(),
        bootstrap.user_repository(),
        ctx.user_id,
        ctx.body.token,
        events=bootstrap.events_or_none(),
    )
    return schemas.user_tenant_out(joined)
