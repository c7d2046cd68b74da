"""Request and response models of registration, login, sessions, password reset and /v1/me.

The field rules are the account policy's own functions (``mamba.domain.account_policy``), so
the API and the ops CLI accept exactly the same emails, passwords and names. A failing
field answers 400 ``VALIDATION_ERROR`` naming it (never echoing the value).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from mamba.domain import account_policy as accounts
from mamba.domain.errors import ValidationError
from mamba.schemas.common import OmitWhenNone, Schema
from mamba.schemas.passkeys import PasskeyAnswerIn


def _email(value: str) -> str:
    try:
        return accounts.normalise_email(value)
    except ValidationError as exc:
        raise ValueError(exc.message) from exc


def _new_password(value: str) -> str:
    try:
        accounts.check_password_policy(value)
    except ValidationError as exc:
        raise ValueError(exc.message) from exc
    return value


def _name(value: str | None) -> str | None:
    try:
        return accounts.check_name(value)
    except ValidationError as exc:
        raise ValueError(exc.message) from exc


Email = Annotated[
    str,
    Field(min_length=3, max_length=320, examples=["ada@example.com"], description="Compared in lower case."),
    AfterValidator(_email),
]
NewPassword = Annotated[
    str,
    Field(
        min_length=accounts.MIN_PASSWORD_LENGTH,
        max_length=accounts.MAX_PASSWORD_LENGTH,
        description="12 to 128 characters, not one of the 30,000 most common passwords.",
    ),
    AfterValidator(_new_password),
]
Name = Annotated[
    str | None,
    Field(max_length=accounts.MAX_NAME_LENGTH, description="At most 100 characters, no control characters."),
    AfterValidator(_name),
]
CaptchaToken = Annotated[
    str | None,
    Field(
        default=None,
        max_length=4096,
        description="The token of the Turnstile or hCaptcha widget; required unless CAPTCHA is disabled.",
    ),
]
OpaqueToken = Annotated[str, Field(min_length=16, max_length=512)]


class RegisterIn(Schema):
    email: Email
    password: NewPassword
    name: Name = None
    captcha_token: CaptchaToken = None


class VerifyEmailIn(Schema):
    token: OpaqueToken = Field(description="The `token` of the link in the verification mail.")


class LoginIn(Schema):
    email: Email
    password: str = Field(min_length=1, max_length=accounts.MAX_PASSWORD_LENGTH)
    totp_code: str | None = Field(
        default=None,
        max_length=64,
        description="Required when the account has 2FA: a 6-digit TOTP code or one recovery code.",
    )
    passkey: PasskeyAnswerIn | None = Field(
        default=None,
        description="Instead of totp_code: one of the account's passkeys answering a ceremony of "
        "POST /v1/auth/passkeys/options (docs/passkeys.md).",
    )
    captcha_token: CaptchaToken = None


class RefreshIn(Schema):
    refresh_token: OpaqueToken | None = Field(
        default=None,
        description="Required, except in cookie mode (header `X-Mamba-Client: web`), where the cookie carries it.",
    )


class LogoutIn(Schema):
    refresh_token: OpaqueToken | None = Field(
        default=None,
        description="Required, except in cookie mode (header `X-Mamba-Client: web`), where the cookie carries it.",
    )
    everywhere: bool = Field(
        default=False, description="Also end every other session and void every access token of the account now."
    )


class ForgotPasswordIn(Schema):
    email: Email


class ResetPasswordIn(Schema):
    token: OpaqueToken = Field(description="The `token` of the link in the reset mail.")
    password: NewPassword


CurrentPassword = Annotated[
    str | None,
    Field(
        default=None,
        max_length=accounts.MAX_PASSWORD_LENGTH,
        description="The account's current password: required to change the email or the password.",
    ),
]
TotpCode = Annotated[
    str | None,
    Field(
        default=None,
        max_length=64,
        description="With 2FA on, required next to current_password: a 6-digit TOTP code or one recovery code.",
    ),
]


class MeUpdate(Schema):
    name: Name = None
    email: Email | None = Field(
        default=None,
        description="Starts an email change (needs current_password, and totp_code with 2FA): the new "
        "address must be verified before it is used. Never with an API key.",
    )
    current_password: CurrentPassword = None
    totp_code: TotpCode = None

    @model_validator(mode="after")
    def _something(self) -> MeUpdate:
        if not self.model_fields_set & {"name", "email"}:
            raise ValueError("give a name or an email to change")
        if "email" in self.model_fields_set and self.email is None:
            raise ValueError("email cannot be removed")
        return self


class PasswordChangeIn(Schema):
    current_password: str = Field(min_length=1, max_length=accounts.MAX_PASSWORD_LENGTH)
    new_password: NewPassword
    totp_code: TotpCode = None


class AccountDeleteIn(Schema):
    """What deleting your account asks for: the same proof as a password change."""

    current_password: str = Field(min_length=1, max_length=accounts.MAX_PASSWORD_LENGTH)
    totp_code: TotpCode = None


class AccountDeletedOut(Schema):
    status: Literal["account_deleted"] = "account_deleted"
    left: list[str] = Field(description="The tenants the account was a member of and left.")
    deleted: list[str] = Field(
        description="Tenants it was the only owner of, without servers or subscription: deleted with it "
        "(their audit log and credit ledger are kept)."
    )


class TokenPairOut(Schema):
    access_token: str
    refresh_token: str | None = Field(
        default=None,
        description="Opaque; single use: each refresh returns the next one. Absent in cookie mode "
        "(header `X-Mamba-Client: web`): the API sets it as the HttpOnly cookie `mamba_refresh` instead.",
    )
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the access token expires.", examples=[900])


class MeOut(Schema):
    id: str
    email: str
    name: str | None = None
    email_verified: bool
    pending_email: str | None = Field(default=None, description="A new email waiting for its verification link.")
    is_admin: bool
    totp_enabled: bool
    status: str
    created_at: str
    unread_notifications: int = Field(default=0, description="Your unread in-app notifications (the bell's count).")


class EmailVerifiedOut(Schema):
    email: str
    email_verified: bool


class SessionOut(Schema):
    id: str = Field(description="The session's id (its refresh-token family), for DELETE /v1/me/sessions/{session_id}")
    created_at: str = Field(description="When the session was signed in")
    last_used_at: str | None = Field(default=None, description="The last token refresh (null: none since sign-in)")
    expires_at: str = Field(description="When the session ends at the latest (rotation does not extend it)")
    ip: str | None = Field(default=None, description="Source IP of the sign-in or the last refresh")
    user_agent: str | None = Field(default=None, description="User-Agent of the sign-in or the last refresh, cut short")
    current: bool = Field(description="True for the session of the access token making this request")


class SessionList(Schema):
    items: list[SessionOut]
    next_cursor: str | None = None


class StatusOut(Schema, OmitWhenNone):
    omit_when_none = frozenset({"message"})  # an answer without a message (logout) has no such key

    status: str
    message: str | None = None
