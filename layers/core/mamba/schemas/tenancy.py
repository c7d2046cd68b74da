"""Request and response models of tenants, members, invitations, roles and the admin views."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import Field

from mamba.schemas.common import Schema

if TYPE_CHECKING:
    from mamba.domain.accounts import UserDetail, UserSummary
    from mamba.domain.tenancy import Contact, Invitation, Membership, Role, Tenant, UserTenant

ROLE_ID = r"^(owner|admin|operator|viewer|rl_[A-Za-z0-9_]{1,40})$"
SERVER_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


def to_epoch(value: datetime | None) -> int | None:
    """A request's time as epoch seconds; a time without a zone is taken as UTC."""
    if value is None:
        return None
    return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())


def from_epoch(value: int | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")


# --- tenants ---


class TenantCreate(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["Acme Gaming"])


class TenantUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    require_2fa: bool | None = Field(
        default=None, description="Members without two-factor authentication are refused (403 TWO_FACTOR_REQUIRED)."
    )


class TenantOut(Schema):
    id: str
    name: str
    status: str = Field(examples=["active", "suspended"])
    require_2fa: bool
    created_at: str
    updated_at: str | None = None
    role: str | None = Field(default=None, description="The caller's role in this tenant (tenant lists).")
    server_id: str | None = Field(default=None, description="Set when the caller's access is limited to one server.")
    expires_at: str | None = Field(default=None, description="When the caller's temporary access ends.")


class TenantList(Schema):
    items: list[TenantOut]
    next_cursor: str | None


# --- members and invitations ---


class MemberOut(Schema):
    user_id: str
    email: str | None = Field(default=None, description="The member's account email (None when the account is gone).")
    name: str | None = Field(default=None, description="The member's display name, when they gave one.")
    role: str
    permissions: list[str] = Field(description="What the binding grants (the role's permissions).")
    server_id: str | None = None
    expires_at: str | None = None
    expired: bool = False
    created_at: str


class MemberList(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class MemberUpdate(Schema):
    role: str | None = Field(default=None, pattern=ROLE_ID, examples=["operator"])
    server_id: str | None = Field(
        default=None, pattern=SERVER_ID, description="Limit to one server; null: whole tenant."
    )
    expires_at: datetime | None = Field(
        default=None, description="ISO 8601 time or epoch seconds when the grant ends; null: never."
    )


class InvitationCreate(Schema):
    email: str = Field(min_length=3, max_length=254, examples=["friend@example.org"])
    role: str = Field(pattern=ROLE_ID, examples=["operator"])
    server_id: str | None = Field(default=None, pattern=SERVER_ID)
    expires_at: datetime | None = Field(default=None, description="When the grant made by accepting ends.")


class InvitationOut(Schema):
    id: str
    email: str
    role: str
    server_id: str | None = None
    expires_at: str | None = None
    invited_by: str
    created_at: str
    invitation_expires_at: str | None


class InvitationList(Schema):
    items: list[InvitationOut]
    next_cursor: str | None


class InvitationAccept(Schema):
    token: str = Field(min_length=10, max_length=300)


# --- roles ---


class RoleCreate(Schema):
    name: str = Field(min_length=1, max_length=50, examples=["Moderator"])
    description: str | None = Field(default=None, max_length=200)
    permissions: list[str] = Field(max_length=100, examples=[["servers.read", "servers.console"]])


class RoleUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=200)
    permissions: list[str] | None = Field(default=None, max_length=100)


class RoleOut(Schema):
    id: str
    name: str
    description: str | None = None
    permissions: list[str]
    builtin: bool
    members: int | None = Field(default=None, description="Bindings to a custom role.")
    created_at: str | None = None
    updated_at: str | None = None


class RoleList(Schema):
    items: list[RoleOut]
    next_cursor: str | None


# --- platform admin ---


class AdminUserOut(Schema):
    id: str
    email: str
    name: str | None = None
    is_admin: bool
    email_verified: bool
    status: str
    totp_enabled: bool
    created_at: str


class AdminMembershipOut(Schema):
    tenant_id: str
    role: str
    server_id: str | None = None
    expires_at: str | None = None


class AdminUserDetail(AdminUserOut):
    memberships: list[AdminMembershipOut]


class AdminUserList(Schema):
    items: list[AdminUserOut]
    next_cursor: str | None


class AdminUserUpdate(Schema):
    is_admin: bool


class AdminTenantOut(Schema):
    id: str
    name: str
    status: str
    require_2fa: bool
    owner_count: int | None = None
    created_at: str
    updated_at: str | None = None


class AdminTenantList(Schema):
    items: list[AdminTenantOut]
    next_cursor: str | None


# --- presenters: domain records → response models ---


def tenant_out(
    tenant: Tenant, *, role: str | None = None, server_id: str | None = None, expires_at: int | None = None
) -> TenantOut:
    return TenantOut(
        id=tenant.id,
        name=tenant.name,
        status=tenant.status,
        require_2fa=tenant.require_2fa,
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
        role=role,
        server_id=server_id,
        expires_at=from_epoch(expires_at),
    )


def user_tenant_out(entry: UserTenant) -> TenantOut:
    return tenant_out(entry.tenant, role=entry.role, server_id=entry.server_id, expires_at=entry.expires_at)


def member_out(member: Membership, now: int, contact: Contact | None = None) -> MemberOut:
    return MemberOut(
        user_id=member.user_id,
        email=contact.email if contact else None,
        name=contact.name if contact else None,
        role=member.role,
        permissions=sorted(member.effective_permissions),
        server_id=member.server_id,
        expires_at=from_epoch(member.expires_at),
        expired=member.expired(now),
        created_at=member.created_at,
    )


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        server_id=invitation.server_id,
        expires_at=from_epoch(invitation.expires_at),
        invited_by=invitation.invited_by,
        created_at=invitation.created_at,
        invitation_expires_at=from_epoch(invitation.lapses_at),
    )


def role_out(role: Role) -> RoleOut:
    return RoleOut(
        id=role.id,
        name=role.name,
        description=role.description,
        permissions=sorted(role.permissions),
        builtin=role.builtin,
        members=None if role.builtin else role.members,
        created_at=role.created_at,
        updated_at=role.updated_at,
    )


def admin_user_out(user: UserSummary) -> AdminUserOut:
    return AdminUserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        is_admin=user.is_admin,
        email_verified=user.email_verified,
        status=user.status,
        totp_enabled=user.totp_enabled,
        created_at=user.created_at,
    )


def admin_user_detail(detail: UserDetail) -> AdminUserDetail:
    return AdminUserDetail(
        **admin_user_out(detail.user).model_dump(),
        memberships=[
            AdminMembershipOut(
                tenant_id=m.tenant_id, role=m.role, server_id=m.server_id, expires_at=from_epoch(m.expires_at)
            )
            for m in detail.memberships
        ],
    )


def admin_tenant_out(tenant: Tenant) -> AdminTenantOut:
    return AdminTenantOut(
        id=tenant.id,
        name=tenant.name,
        status=tenant.status,
        require_2fa=tenant.require_2fa,
        owner_count=tenant.owner_count,
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
    )
