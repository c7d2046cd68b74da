"""Requests and responses of /v1/me/2fa."""

from pydantic import Field

from mamba.schemas.common import Schema


class TwoFactorStatusOut(Schema):
    enabled: bool
    pending: bool = Field(description="An enrolment awaits confirmation")
    recovery_codes_left: int


class TwoFactorEnrolOut(Schema):
    secret: str = Field(description="Base32 TOTP secret, for typing into an authenticator app")
    otpauth_uri: str = Field(description="The same secret as an otpauth:// URI, for a QR code")


class TwoFactorConfirmIn(Schema):
    code: str = Field(min_length=6, max_length=12, examples=["123456"])


class TwoFactorConfirmOut(Schema):
    enabled: bool
    recovery_codes: list[str] = Field(description="10 one-time codes, shown once")


class TwoFactorDisableIn(Schema):
    code: str | None = Field(default=None, min_length=6, max_length=12, description="A current TOTP code")
    recovery_code: str | None = Field(default=None, min_length=1, max_length=40, description="An unused recovery code")
    password: str | None = Field(default=None, min_length=1, max_length=128, description="Checked when given")


class TwoFactorDisableOut(Schema):
    enabled: bool
