"""Public account routes: register, verify email, login, refresh, logout, forgot and reset
password (docs/accounts.md). Each parses its body, calls one service and shapes the reply."""

from __future__ import annotations

from chalice import Blueprint

from mamba import bootstrap
from mamba.domain import clock
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
    user = accounts.register(
        bootstrap.accounts(),
        body.email,
        body.password,
        name=body.name,
        captcha_token=body.captcha_token,
        source_ip=ctx.source_ip,
        now=clock.now_epoch(),
    )
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

    user = accounts.verify_email(bootstrap.accounts(), ctx.body.token, source_ip=ctx.source_ip, now=clock.now_epoch())
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
    pair = sessions.login(
        bootstrap.accounts(),
        body.email,
        body.password,
        totp_code=body.totp_code,
        captcha_token=body.captcha_token,
        source_ip=ctx.source_ip,
        now=clock.now_epoch(),
    )
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

    return sessions.refresh(bootstrap.accounts(), ctx.body.refresh_token, now=clock.now_epoch()).to_public()


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
    sessions.logout(bootstrap.accounts(), body.refresh_token, everywhere=body.everywhere, now=clock.now_epoch())
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
    accounts.reset_password(bootstrap.accounts(), body.token, body.password, now=clock.now_epoch())
    return {"status": "password_reset", "message": "Log in with the new password."}
