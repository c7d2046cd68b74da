"""Public account routes: register, verify email, login, refresh, logout, forgot and reset
password (docs/accounts.md). Each parses its body, calls one service and shapes the reply.

These routes are public, so the route wrapper cannot audit them (it knows no caller):
each records its own platform audit entry through ``_audited`` (docs/security.md#audit),
with the account it concerns when known and the reason of a refusal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.auth import cookies
from mamba.domain import clock
from mamba.domain.errors import DomainError, UnauthorizedError, ValidationError
from mamba.web import PUBLIC, Ctx, Reply, error_response, route

if TYPE_CHECKING:
    from mamba.schemas.accounts import LoginIn, LogoutIn, RegisterIn, ResetPasswordIn

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


# --- cookie mode (mamba.auth.cookies, docs/accounts.md#cookie-mode) ---------------------------


def _cookie_mode(ctx: Ctx) -> bool:
    """True when the client asked for cookie mode; then its Origin must be the panel's (else 403)."""
    if not cookies.wants_cookie(ctx.request):
        return False
    cookies.check_origin(ctx.request, bootstrap.settings().public_url)
    return True


def _refresh_token(ctx: Ctx, cookie_mode: bool) -> str | None:
    """The token to use: the cookie's in cookie mode, else the body's (required there)."""
    if cookie_mode:
        return cookies.read_cookie(ctx.request)
    if ctx.body.refresh_token is None:
        raise ValidationError(
            "The request body failed validation.",
            {"fields": [{"field": "refresh_token", "message": "Field required", "type": "missing"}]},
        )
    return str(ctx.body.refresh_token)


def _pair(pair: Any, cookie_mode: bool) -> Any:
    """The token pair; in cookie mode the refresh token goes into the cookie instead of the body."""
    if not cookie_mode:
        return pair
    max_age = bootstrap.settings().refresh_ttl_seconds
    headers: dict[str, str | list[str]] = {
        "Set-Cookie": cookies.set_cookie(pair.refresh_token, max_age),
        "Cache-Control": "no-store",
    }
    return Reply(pair, headers=headers, exclude=frozenset({"refresh_token"}))


def _user_agent(ctx: Ctx) -> str:
    """The client's User-Agent, for the sessions list (the service cuts it short)."""
    return str(ctx.request.headers.get("user-agent") or "")


def _no_cookie() -> UnauthorizedError:
    return UnauthorizedError("There is no session in this browser; log in again.", {"reason": "no_cookie"})


@route(
    bp,
    "/v1/auth/register",
    "POST",
    permission=PUBLIC,
    errors=(409, 429),
    summary="Create an account; a verification link is mailed to it",
    tags=TAGS,
    request_model="accounts:RegisterIn",
    response_model="accounts:MeOut",
    status=201,
)
def register(ctx: Ctx) -> object:
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
    return user


@route(
    bp,
    "/v1/auth/verify-email",
    "POST",
    permission=PUBLIC,
    errors=(401, 409, 429),
    summary="Verify an email address with the token from the mailed link",
    tags=TAGS,
    request_model="accounts:VerifyEmailIn",
    response_model="accounts:EmailVerifiedOut",
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
    errors=(401, 403, 429),
    summary="Log in: an access token (15 min) and a refresh token",
    tags=TAGS,
    request_model="accounts:LoginIn",
    response_model="accounts:TokenPairOut",
)
def login(ctx: Ctx) -> Any:
    from mamba.services import sessions

    body: LoginIn = ctx.body
    with _audited(ctx, "login", email=body.email) as entry:
        cookie_mode = _cookie_mode(ctx)
        pair = sessions.login(
            bootstrap.accounts(),
            body.email,
            body.password,
            totp_code=body.totp_code,
            captcha_token=body.captcha_token,
            source_ip=ctx.source_ip,
            now=clock.now_epoch(),
            user_agent=_user_agent(ctx),
            passkey=sessions.PasskeyAnswer(body.passkey.challenge_id, body.passkey.credential)
            if body.passkey
            else None,
        )
        entry.actor_id = pair.user_id
    return _pair(pair, cookie_mode)


@route(
    bp,
    "/v1/auth/refresh",
    "POST",
    permission=PUBLIC,
    errors=(401, 403, 429),
    summary="Rotate the refresh token: a new pair; a reused token revokes its session",
    tags=TAGS,
    request_model="accounts:RefreshIn",
    response_model="accounts:TokenPairOut",
)
def refresh(ctx: Ctx) -> Any:
    from mamba.services import sessions

    cookie_mode = False
    try:
        with _audited(ctx, "refresh", cookie=cookies.wants_cookie(ctx.request)) as entry:
            cookie_mode = _cookie_mode(ctx)
            token = _refresh_token(ctx, cookie_mode)
            if token is None:
                raise _no_cookie()
            pair = sessions.refresh(
                bootstrap.accounts(),
                token,
                now=clock.now_epoch(),
                source_ip=ctx.source_ip,
                user_agent=_user_agent(ctx),
            )
            entry.actor_id = pair.user_id
    except UnauthorizedError as exc:
        if cookie_mode:  # a dead cookie is dropped, so the browser stops presenting it
            return error_response(exc, {"Set-Cookie": cookies.clear_cookie()})
        raise
    return _pair(pair, cookie_mode)


@route(
    bp,
    "/v1/auth/logout",
    "POST",
    permission=PUBLIC,
    errors=(401,),
    summary="End the session of a refresh token (or every session, with everywhere)",
    tags=TAGS,
    request_model="accounts:LogoutIn",
    response_model="accounts:StatusOut",
)
def logout(ctx: Ctx) -> Any:
    from mamba.services import sessions

    body: LogoutIn = ctx.body
    cookie_mode = False
    try:
        with _audited(ctx, "logout", everywhere=body.everywhere, cookie=cookies.wants_cookie(ctx.request)) as entry:
            cookie_mode = _cookie_mode(ctx)
            token = _refresh_token(ctx, cookie_mode)
            if token is None and body.everywhere:
                raise _no_cookie()
            if token is not None:  # no cookie and not everywhere: nothing to end (logout is idempotent)
                entry.actor_id = sessions.logout(
                    bootstrap.accounts(), token, everywhere=body.everywhere, now=clock.now_epoch()
                )
    except UnauthorizedError as exc:
        if cookie_mode:
            return error_response(exc, {"Set-Cookie": cookies.clear_cookie()})
        raise
    if cookie_mode:
        return Reply({"status": "logged_out"}, headers={"Set-Cookie": cookies.clear_cookie()})
    return {"status": "logged_out"}


@route(
    bp,
    "/v1/auth/password/forgot",
    "POST",
    permission=PUBLIC,
    errors=(429,),
    summary="Mail a password reset link (the same answer whether or not the account exists)",
    tags=TAGS,
    request_model="accounts:ForgotPasswordIn",
    response_model="accounts:StatusOut",
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
    errors=(401, 429),
    summary="Set a new password with the mailed token; signs out every session",
    tags=TAGS,
    request_model="accounts:ResetPasswordIn",
    response_model="accounts:StatusOut",
)
def reset_password(ctx: Ctx) -> dict[str, object]:
    from mamba.services import accounts

    body: ResetPasswordIn = ctx.body
    with _audited(ctx, "reset_password") as entry:
        entry.actor_id = accounts.reset_password(
            bootstrap.accounts(), body.token, body.password, now=clock.now_epoch()
        ).id
    return {"status": "password_reset", "message": "Log in with the new password."}
