"""Public account routes: register, verify email, login, refresh, logout, forgot and reset
password (docs/accounts.md). Each parses its body, calls one service and shapes the reply.

These routes are public, so the route wrapper cannot audit them (it knows no caller):
each records its own platform audit entry through ``_audited`` (docs/security.md#audit),
with the account it concerns when known and the reason of a refusal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from chalice import Blueprint

from mamba import bootstrap
from mamba.domain import clock
from mamba.domain.errors import DomainError
from mamba.schemas.accounts import (
    EmailVerifiedOut,
    ForgotPasswordIn,
    LoginIn,
    LogoutIn,
    MeOut,
    RefreshIn,
    RegisterIn,
    ResetPasswordIn,
    StatusOut,
    TokenPairOut,
    VerifyEmailIn,
)
from mamba.web import PUBLIC, Ctx, route

bp = Blueprint(__name__)
TAGS = ("auth",)
FORGOT_ANSWER = "If an account exists for this email, a reset link is on its way."


class _Entry:
    """What a view learns for its audit entry: the account (once known) and safe details."""

    def __init__(self, **details: Any) -> None:
        self.actor_id: str | None = None
        self.details: dict[str, Any] = details


@contextlib.contextmanager
def _audited(ctx: Ctx, action: str, status: int = 200, **details: Any) -> Iterator[_Entry]:
    entry = _Entry(**details)
    error: DomainError | None = None
    try:
        yield entry
    except DomainError as exc:
        error = exc
        raise
    finally:
        from mamba.services import audit

        if error is not None:
            entry.details.update({k: error.details[k] for k in ("reason", "field") if k in error.details})
        audit.record(
            bootstrap.audit_log(),
            action=action,
            result="success" if error is None else "denied" if error.status in (401, 403, 429) else "error",
            actor_id=entry.actor_id,
            target=ctx.request.path,
            ip=ctx.source_ip,
            request_id=ctx.request_id,
            method="POST",
            status=status if error is None else error.status,
            error_code=error.code if error is not None else None,
            details=entry.details,
        )


@route(
    bp,
    "/v1/auth/register",
    "POST",
    permission=PUBLIC,
    summary="Create an account; a verification link is mailed to it",
    tags=TAGS,
    request_model=RegisterIn,
    response_model=MeOut,
    status=201,
)
def register(ctx: Ctx) -> dict[str, object]:
    from mamba.services import accounts

    body: RegisterIn = ctx.body
    with _audited(ctx, "register", 201, email=body.email) as entry:
        user = accounts.register(
            bootstrap.accounts(),
            body.email,
            body.password,
            name=body.name,
            captcha_token=body.captcha_token,
            source_ip=ctx.source_ip,
            now=clock.now_epoch(),
        )
        entry.actor_id = user.id
    return user.to_public()


@route(
    bp,
    "/v1/auth/verify-email",
    "POST",
    permission=PUBLIC,
    summary="Verify an email address with the token from the mailed link",
    tags=TAGS,
    request_model=VerifyEmailIn,
    response_model=EmailVerifiedOut,
)
def verify_email(ctx: Ctx) -> dict[str, object]:
    from mamba.services import accounts

    with _audited(ctx, "verify_email") as entry:
        user = accounts.verify_email(
            bootstrap.accounts(), ctx.body.token, source_ip=ctx.source_ip, now=clock.now_epoch()
        )
        entry.actor_id = user.id
    return {"email": user.email, "email_verified": user.email_verified}


@route(
    bp,
    "/v1/auth/login",
    "POST",
    permission=PUBLIC,
    summary="Log in: an access token (15 min) and a refresh token",
    tags=TAGS,
    request_model=LoginIn,
    response_model=TokenPairOut,
)
def login(ctx: Ctx) -> dict[str, object]:
    from mamba.services import sessions

    body: LoginIn = ctx.body
    with _audited(ctx, "login", email=body.email) as entry:
        pair = sessions.login(
            bootstrap.accounts(),
            body.email,
            body.password,
            totp_code=body.totp_code,
            captcha_token=body.captcha_token,
            source_ip=ctx.source_ip,
            now=clock.now_epoch(),
        )
        entry.actor_id = pair.user_id
    return pair.to_public()


@route(
    bp,
    "/v1/auth/refresh",
    "POST",
    permission=PUBLIC,
    summary="Rotate the refresh token: a new pair; a reused token revokes its session",
    tags=TAGS,
    request_model=RefreshIn,
    response_model=TokenPairOut,
)
def refresh(ctx: Ctx) -> dict[str, object]:
    from mamba.services import sessions

    with _audited(ctx, "refresh") as entry:
        pair = sessions.refresh(bootstrap.accounts(), ctx.body.refresh_token, now=clock.now_epoch())
        entry.actor_id = pair.user_id
    return pair.to_public()


@route(
    bp,
    "/v1/auth/logout",
    "POST",
    permission=PUBLIC,
    summary="End the session of a refresh token (or every session, with everywhere)",
    tags=TAGS,
    request_model=LogoutIn,
    response_model=StatusOut,
)
def logout(ctx: Ctx) -> dict[str, object]:
    from mamba.services import sessions

    body: LogoutIn = ctx.body
    with _audited(ctx, "logout", everywhere=body.everywhere) as entry:
        entry.actor_id = sessions.logout(
            bootstrap.accounts(), body.refresh_token, everywhere=body.everywhere, now=clock.now_epoch()
        )
    return {"status": "logged_out"}


@route(
    bp,
    "/v1/auth/password/forgot",
    "POST",
    permission=PUBLIC,
    summary="Mail a password reset link (the same answer whether or not the account exists)",
    tags=TAGS,
    request_model=ForgotPasswordIn,
    response_model=StatusOut,
    status=202,
)
def forgot_password(ctx: Ctx) -> dict[str, object]:
    from mamba.services import accounts

    with _audited(ctx, "forgot_password", 202, email=ctx.body.email):
        accounts.forgot_password(bootstrap.accounts(), ctx.body.email, source_ip=ctx.source_ip, now=clock.now_epoch())
    return {"status": "accepted", "message": FORGOT_ANSWER}


@route(
    bp,
    "/v1/auth/password/reset",
    "POST",
    permission=PUBLIC,
    summary="Set a new password with the mailed token; signs out every session",
    tags=TAGS,
    request_model=ResetPasswordIn,
    response_model=StatusOut,
)
def reset_password(ctx: Ctx) -> dict[str, object]:
    from mamba.services import accounts

    body: ResetPasswordIn = ctx.body
    with _audited(ctx, "reset_password") as entry:
        entry.actor_id = accounts.reset_password(
            bootstrap.accounts(), body.token, body.password, now=clock.now_epoch()
        ).id
    return {"status": "password_reset", "message": "Log in with the new password."}
