"""Accounts and their sessions: the user, the mailed one-time tokens, the login sessions
(refresh-token families) and what the admin pages list. Standard library only.

The use cases are ``mamba.services.accounts`` (sign-up, verification, profile, password
reset), ``mamba.services.sessions`` (login, refresh, logout) and ``mamba.services.admin``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamba.domain.api_keys import ApiKey
from mamba.domain.ratelimit import Limit
from mamba.domain.service_accounts import ServiceAccount
from mamba.domain.tenancy import Membership, Tenant


@dataclass(frozen=True)
class User:
    id: str
    email: str
    created_at: str
    name: str | None = None
    password_hash: str | None = None
    is_admin: bool = False
    email_verified: bool = False
    status: str = "active"
    sessions_valid_after: int | None = None  # access tokens and sessions issued earlier are void
    totp_enabled: bool = False
    failed_logins: int = 0  # consecutive
    locked_until: int | None = None  # epoch seconds
    pending_email: str | None = None  # waiting for its verification link
    # ISO time (microseconds) of the last password reset or change or suspension: the guard
    # refuses every API key created before it (docs/api-keys-2fa-audit.md).
    credentials_reset_at: str | None = None
    unread_notifications: int = 0  # in-app notifications not yet read (docs/notifications.md)
    passkeys: int = 0  # registered passkeys (docs/passkeys.md); each is a second factor too

    @property
    def has_second_factor(self) -> bool:
        """TOTP or a passkey: a password alone does not sign this account in, and a tenant
        that requires 2FA admits it."""
        return self.totp_enabled or self.passkeys > 0


@dataclass(frozen=True)
class OneTimeToken:
    """A mailed token as stored (the token itself is never stored, only its digest)."""

    user_id: str
    purpose: str  # VERIFY_EMAIL or RESET_PASSWORD
    expires_at: int
    created_at: str
    email: str | None = None  # the address this token verifies (the new one, for a change)


@dataclass(frozen=True)
class RefreshFamily:
    """One login session: every refresh token rotated from one login."""

    id: str
    user_id: str
    issued_at: int  # epoch; refused once the user's sessions_valid_after is later
    expires_at: int  # absolute: rotation does not extend it
    created_at: str
    revoked: bool = False
    # What the owner sees in their sessions list: the last refresh (epoch; None: not yet), and
    # the source IP and User-Agent of the login or the last refresh, cut short (never a token).
    last_used_at: int | None = None
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class RefreshToken:
    family_id: str
    user_id: str
    expires_at: int
    used_at: int | None = None


@dataclass(frozen=True)
class ClientHints:
    """Where a login or refresh came from, as shown in the sessions list: already cut short
    by ``client_hints`` (stored, so bounded; the User-Agent is the client's own text)."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class AdminResult:
    user: User
    created: bool
    promoted: bool


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: str  # whose session this is (for the audit entry; not part of the answer)


@dataclass(frozen=True)
class SessionView:
    """One entry of the sessions list: a live family, and whether the caller is using it."""

    family: RefreshFamily
    current: bool


@dataclass(frozen=True)
class UserSummary:
    id: str
    email: str
    created_at: str
    name: str | None = None
    is_admin: bool = False
    email_verified: bool = False
    status: str = "active"
    totp_enabled: bool = False
    passkeys: int = 0  # registered passkeys: a second factor too (docs/passkeys.md)


@dataclass(frozen=True)
class UserDetail:
    user: UserSummary
    memberships: list[Membership]


@dataclass(frozen=True)
class AuthFacts:
    """What the guard reads for one request, in one round trip: the caller's account, and for
    a tenant route their membership and the tenant, and for an API key the key (each None
    when absent)."""

    user: User | None
    membership: Membership | None = None
    tenant: Tenant | None = None
    api_key: ApiKey | None = None
    # A service account's credential: its record (with its role binding) under the path's
    # tenant, read in place of the user and membership (mamba.domain.service_accounts).
    service_account: ServiceAccount | None = None


# The default limits; bootstrap builds the configured ones from Settings with the same names.
LOGIN_ACCOUNT = Limit("login-account", 5, 15 * 60)  # failed logins per email
LOGIN_IP = Limit("login-ip", 20, 15 * 60)  # failed logins per IP
REGISTER_IP = Limit("register-ip", 20, 3600)
FORGOT_IP = Limit("forgot-ip", 10, 3600)
FORGOT_EMAIL = Limit("forgot-email", 5, 3600)
VERIFY_IP = Limit("verify-ip", 30, 3600)
RESEND_USER = Limit("verify-resend", 5, 3600)
EMAIL_CHANGE_USER = Limit("email-change-account", 5, 3600)  # email-change mails per account
REAUTH_USER = Limit("reauth-account", 5, 15 * 60)  # wrong current passwords / codes per account


@dataclass(frozen=True)
class AccountPolicy:
    """Limits and lifetimes of the account flows (built from Settings by bootstrap)."""

    login_account: Limit = LOGIN_ACCOUNT
    login_ip: Limit = LOGIN_IP
    register_ip: Limit = REGISTER_IP
    forgot_ip: Limit = FORGOT_IP
    forgot_email: Limit = FORGOT_EMAIL
    verify_ip: Limit = VERIFY_IP
    resend_user: Limit = RESEND_USER
    email_change_user: Limit = EMAIL_CHANGE_USER
    reauth_user: Limit = REAUTH_USER
    lockout_after: int = 10
    lockout_seconds: int = 30 * 60
    access_ttl: int = 15 * 60
    refresh_ttl: int = 30 * 24 * 3600
    verify_token_ttl: int = 24 * 3600
    reset_token_ttl: int = 3600
