"""Two-factor authentication of the calling user: status, enrol, confirm, disable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.schemas.two_factor import TwoFactorDisableIn
    from mamba.services import two_factor
else:
    two_factor = lazy_import("mamba.services.two_factor")

bp = Blueprint(__name__)


def _user_id(ctx: Ctx) -> str:
    assert ctx.principal is not None
    return ctx.principal.user_id


@route(
    bp,
    "/v1/me/2fa",
    "GET",
    permission="account.read",
    summary="Whether 2FA is on, pending confirmation, and how many recovery codes are left",
    tags=("2fa",),
    response_model="two_factor:TwoFactorStatusOut",
)
def get_two_factor(ctx: Ctx) -> dict[str, object]:
    state = two_factor.status(_user_id(ctx), bootstrap.two_factor_store())
    return {"enabled": state.enabled, "pending": state.pending, "recovery_codes_left": state.recovery_codes_left}


@route(
    bp,
    "/v1/me/2fa/enrol",
    "POST",
    permission="account.write",
    summary="Start TOTP enrolment: a new secret, pending until confirmed",
    tags=("2fa",),
    response_model="two_factor:TwoFactorEnrolOut",
)
def enrol_two_factor(ctx: Ctx) -> dict[str, str]:
    enrolment = two_factor.enrol(_user_id(ctx), bootstrap.two_factor_store())
    return {"secret": enrolment.secret, "otpauth_uri": enrolment.otpauth_uri}


@route(
    bp,
    "/v1/me/2fa/confirm",
    "POST",
    permission="account.write",
    summary="Confirm enrolment with a current code; returns 10 one-time recovery codes, once",
    tags=("2fa",),
    request_model="two_factor:TwoFactorConfirmIn",
    response_model="two_factor:TwoFactorConfirmOut",
)
def confirm_two_factor(ctx: Ctx) -> dict[str, object]:
    codes = two_factor.confirm(
        _user_id(ctx), ctx.body.code, bootstrap.two_factor_store(), limiter=bootstrap.rate_limiter()
    )
    return {"enabled": True, "recovery_codes": codes}


@route(
    bp,
    "/v1/me/2fa/disable",
    "POST",
    permission="account.write",
    summary="Turn 2FA off with a current code or a recovery code (and the password, if given)",
    tags=("2fa",),
    request_model="two_factor:TwoFactorDisableIn",
    response_model="two_factor:TwoFactorDisableOut",
)
def disable_two_factor(ctx: Ctx) -> dict[str, bool]:
    body: TwoFactorDisableIn = ctx.body
    two_factor.disable(
        _user_id(ctx),
        bootstrap.two_factor_store(),
        bootstrap.password_hasher(),  # argon2 is imported only when a password may be checked
        code=body.code,
        recovery_code=body.recovery_code,
        password=body.password,
        limiter=bootstrap.rate_limiter(),
    )
    return {"enabled": False}
