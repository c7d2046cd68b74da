"""Two-factor authentication (TOTP and recovery codes): the records of an account's 2FA.
Standard library only; the use cases are ``mamba.services.two_factor``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TwoFactorState:
    user_id: str
    email: str
    enabled: bool = False
    secret: str | None = None
    pending_secret: str | None = None
    last_counter: int | None = None
    recovery_codes_left: int = 0
    password_hash: str | None = None


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    pending: bool
    recovery_codes_left: int
