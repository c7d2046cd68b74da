"""The caller's own account: read it, change the name or start an email change, ask for
the verification mail again, and list or end its sign-in sessions (docs/accounts.md)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.auth import cookies
from mamba.domain import clock
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, Reply, route

if TYPE_CHECKING:
    from mamba.schemas import accounts as schemas
    from mamba.schemas.accounts import AccountDeleteIn, MeUpdate, PasswordChangeIn, SessionList
else:
    schemas = lazy_import("mamba.schemas.accounts")

bp = Blueprint(__name__)
TAGS = ("account",)


def _user_id(ctx: Ctx) -> str:
    assert ctx.principal is not None  # set by the guard on every non-public route
    return ctx.principal.user_id


def _via(ctx: Ctx) -> str:
    assert ctx.principal is not None
    return ctx.principal.via


@route(
    bp, "/v1/me", "GET", permission="account.read", summary="Your account", tags=TAGS, response_model="accounts:MeOut"
)
def get_me(ctx: Ctx) -> object:
    from mamba.services import accounts

    return accounts.get_profile(bootstrap.accounts().users, _user_id(ctx))


@route(
    bp,
    "/v1/me",
    "PATCH",
    permission="account.write",
    summary="Change your name, or your email (after verifying the new address)",
    tags=TAGS,
    request_model="accounts:MeUpdate",
    response_model="accounts:MeOut",
)
def update_me(ctx: Ctx) -> object:
    from mamba.services import accounts

    body: MeUpdate = ctx.body
    user = accounts.update_profile(
        bootstrap.accounts(),
        _user_id(ctx),
        name=body.name,
        change_name="name" in body.model_fields_set,
        email=body.email,
        current_password=body.current_password,
        totp_code=body.totp_code,
        via=_via(ctx),
        now=clock.now_epoch(),
    )
    return user


@route(
    bp,
    "/v1/me/password",
    "POST",
    permission="account.write",
    summary="Change your password (current password, and a 2FA code if enabled); ends every session and API key",
    tags=TAGS,
    request_model="accounts:PasswordChangeIn",
    response_model="accounts:StatusOut",
)
def change_password(ctx: Ctx) -> dict[str, object]:
    from mamba.services import accounts

    body: PasswordChangeIn = ctx.body
    accounts.change_password(
        bootstrap.accounts(),
        _user_id(ctx),
        body.current_password,
        body.new_password,
        totp_code=body.totp_code,
        via=_via(ctx),
        now=clock.now_epoch(),
    )
    return {"status": "password_changed", "message": "Log in with the new password."}


@route(
    bp,
    "/v1/me",
    "DELETE",
    permission="account.write",
    summary="Delete your account (current password, and a 2FA code if enabled); refused while you are the last "
    "owner of a tenant with servers or a subscription",
    tags=TAGS,
    request_model="accounts:AccountDeleteIn",
    response_model="accounts:AccountDeletedOut",
)
def delete_me(ctx: Ctx) -> object:
    from mamba.services import account_deletion

    body: AccountDeleteIn = ctx.body
    done = account_deletion.delete_account(
        bootstrap.account_deletion_ports(),
        _user_id(ctx),
        body.current_password,
        body.totp_code,
        via=_via(ctx),
        now=clock.now_epoch(),
    )
    # A browser's refresh cookie is useless now; clear it as logout does.
    if cookies.wants_cookie(ctx.request):
        return Reply(done, headers={"Set-Cookie": cookies.clear_cookie()})
    return done


@route(
    bp,
    "/v1/me/verify-email",
    "POST",
    permission="account.write",
    summary="Mail the verification link again (to the pending address during an email change)",
    tags=TAGS,
    response_model="accounts:StatusOut",
    status=202,
)
def resend_verification(ctx: Ctx) -> dict[str, object]:
    from mamba.services import accounts

    accounts.resend_verification(bootstrap.accounts(), _user_id(ctx), now=clock.now_epoch())
    return {"status": "accepted", "message": "A new verification link is on its way."}


def _epoch_iso(epoch: int | None) -> str | None:
    return None if epoch is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@route(
    bp,
    "/v1/me/sessions",
    "GET",
    permission="account.read",
    summary="Your signed-in sessions (browsers and apps), newest first; current marks this one",
    tags=TAGS,
    response_model="accounts:SessionList",
    query=("limit", "cursor"),
)
def list_sessions(ctx: Ctx) -> SessionList:
    from mamba.services import sessions

    assert ctx.principal is not None
    page = sessions.list_sessions(
        bootstrap.accounts(),
        ctx.principal.user_id,
        PageRequest.from_query(ctx.query),
        current_id=ctx.principal.session_id,
        now=clock.now_epoch(),
    )
    return schemas.SessionList(
        items=[
            schemas.SessionOut(
                id=view.family.id,
                created_at=view.family.created_at,
                last_used_at=_epoch_iso(view.family.last_used_at),
                expires_at=_epoch_iso(view.family.expires_at) or "",
                ip=view.family.ip,
                user_agent=view.family.user_agent,
                current=view.current,
            )
            for view in page.items
        ],
        next_cursor=page.next_cursor,
    )


@route(
    bp,
    "/v1/me/sessions/{session_id}",
    "DELETE",
    permission="account.write",
    summary="Sign out one of your sessions: its refresh token stops working now, its access token at expiry",
    tags=TAGS,
    status=204,
)
def revoke_session(ctx: Ctx, session_id: str) -> Response:
    from mamba.services import sessions

    sessions.revoke_session(bootstrap.accounts(), _user_id(ctx), session_id, via=_via(ctx))
    return Response(body="", status_code=204)
