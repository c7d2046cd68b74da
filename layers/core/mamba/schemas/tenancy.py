"""Request and response models of tenants, members, invitations, roles and the admin views."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import AliasChoices, BeforeValidator, Field, model_validator

from mamba.schemas.common import EpochTime, Schema

if TYPE_CHECKING:
    from mamba.domain.tenancy import Contact, Membership, Tenant, UserTenant

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


# A set of permissions, shown sorted.
SortedPermissions = Annotated[list[str], BeforeValidator(sorted)]


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
    expires_at: EpochTime = None
    invited_by: str
    created_at: str
    # The record calls it ``lapses_at``: when the invitation itself stops working.
    invitation_expires_at: EpochTime = Field(validation_alias=AliasChoices("invitation_expires_at", "lapses_at"))


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
    permissions: SortedPermissions
    builtin: bool
    members: int | None = Field(default=None, description="Bindings to a custom role.")
    created_at: str | None = None
    updated_at: str | None = None

    @model_validator(mode="after")
    def _no_member_count_for_builtin_roles(self) -> RoleOut:
        """Built-in roles are not counted (their bindings are not tracked per role)."""
        if self.builtin:
            self.members = None
        return self


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
    passkeys: int = Field(default=0, description="Registered passkeys; each is a second factor too (docs/passkeys.md).")
    created_at: str


class AdminMembershipOut(Schema):
    tenant_id: str
    role: str
    server_id: str | None = None
    expires_at: EpochTime = None


class AdminUserDetail(AdminUserOut):
    memberships: list[AdminMembershipOut]


class AdminUserList(Schema):
    items: list[AdminUserOut]
    next_cursor: str | None


class AdminUserUpdate(Schema):
    is_admin: bool


class AdminTwoFactorResetIn(Schema):
    """The acting admin's own identity check (their password, and their TOTP code when they use 2FA)."""

    current_password: str = Field(min_length=1, max_length=1024)
    totp_code: str | None = Field(default=None, max_length=64)


class AdminTenantOut(Schema):
    id: str
    name: str
    status: str
    require_2fa: bool
    owner_count: int | None = None
    created_at: str
    updated_at: str | None = None


class TenantExportOut(Schema):
    export_id: str
    tenant_id: str
    url: str = Field(description="A presigned GET of the archive, valid expires_in seconds")
    expires_in: int
    created_at: str
    counts: dict[str, int] = Field(description="Records in the archive, by kind")
    size_bytes: int


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
