"""Platform admin: every user (with search); the admin flag; suspend and unsuspend accounts;
reset an account's 2FA after the admin's own identity check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain import clock
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, route, with_fields

if TYPE_CHECKING:
    from mamba.schemas.tenancy import AdminTwoFactorResetIn
    from mamba.services import admin
    from mamba.services import server_control as control
else:
    admin = lazy_import("mamba.services.admin")
    control = lazy_import("mamba.services.server_control")

bp = Blueprint(__name__)
TAGS = ("admin",)


@route(
    bp,
    "/v1/admin/users",
    "GET",
    permission="admin.users",
    summary="Every user, oldest first; q narrows each page to an email, name or id containing it",
    tags=TAGS,
    response_model="tenancy:AdminUserList",
    query=("limit", "cursor", "q"),
)
def list_users(ctx: Ctx) -> object:
    return admin.list_users(bootstrap.admin_repository(), PageRequest.from_query(ctx.query), ctx.query.get("q"))


@route(
    bp,
    "/v1/admin/users/{user_id}",
    "GET",
    permission="admin.users",
    summary="A user and their tenant memberships",
    tags=TAGS,
    response_model="tenancy:AdminUserDetail",
)
def get_user(ctx: Ctx, user_id: str) -> object:
    detail = admin.get_user(bootstrap.admin_repository(), user_id)
    return with_fields(detail.user, memberships=detail.memberships)


@route(
    bp,
    "/v1/admin/users/{user_id}",
    "PATCH",
    permission="admin.users",
    summary="Grant or remove the platform admin flag",
    tags=TAGS,
    request_model="tenancy:AdminUserUpdate",
    response_model="tenancy:AdminUserOut",
)
def update_user(ctx: Ctx, user_id: str) -> object:
    return admin.set_admin(bootstrap.admin_repository(), ctx.user_id, user_id, ctx.body.is_admin)


@route(
    bp,
    "/v1/admin/users/{user_id}/suspend",
    "POST",
    permission="admin.users",
    summary="Suspend an account: every session and API key stops working at once",
    tags=TAGS,
    response_model="tenancy:AdminUserOut",
)
def suspend_user(ctx: Ctx, user_id: str) -> object:
    suspended = admin.suspend_user(
        bootstrap.admin_repository(), ctx.user_id, user_id, api_keys=bootstrap.api_key_repository()
    )
    # Console tokens already handed out stop working on the nodes too.
    control.revoke_console_everywhere(bootstrap.server_control_ports(), bootstrap.tenancy_repository(), user_id)
    return suspended


@route(
    bp,
    "/v1/admin/users/{user_id}/unsuspend",
    "POST",
    permission="admin.users",
    summary="Let a suspended account log in again (old sessions stay revoked)",
    tags=TAGS,
    response_model="tenancy:AdminUserOut",
)
def unsuspend_user(ctx: Ctx, user_id: str) -> object:
    return admin.unsuspend_user(bootstrap.admin_repository(), user_id)


@route(
    bp,
    "/v1/admin/users/{user_id}/2fa/reset",
    "POST",
    permission="admin.users",
    summary="Turn another account's 2FA off (lost authenticator) after re-entering your own password and 2FA code",
    tags=TAGS,
    request_model="tenancy:AdminTwoFactorResetIn",
    response_model="tenancy:AdminUserOut",
)
def reset_two_factor(ctx: Ctx, user_id: str) -> object:
    body: AdminTwoFactorResetIn = ctx.body
    return admin.reset_two_factor(
        bootstrap.accounts(),
        bootstrap.two_factor_store(),
        ctx.user_id,
        user_id,
        current_password=body.current_password,
        totp_code=body.totp_code,
        via=ctx.principal.via if ctx.principal else "token",
        now=clock.now_epoch(),
        passkeys=bootstrap.passkey_ports().store,
    )
