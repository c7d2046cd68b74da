"""Accounts: users, email verification, profile and email change, password reset, the
platform admin flag, and tenants created with their owner.

Used by the identity API (``functions/api/auth.py``, ``me.py``), ``mamba create-admin``
and ``mamba seed``. Login, refresh and logout are in ``mamba.services.sessions``; the rate
limits and CAPTCHA they share are in ``mamba.services.abuse``.

Every flow takes its ports as parameters (``AccountPorts`` bundles them for the API), so the
same code runs over DynamoDB/SES in production and over ten-line fakes in unit tests.

Mailed tokens (verification, reset) are 192 random bits, mailed once and stored only as
their SHA-256, with an expiry; using one deletes it in the same conditional write that
reads it, so it works exactly once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from mamba import mail_templates
from mamba.domain.account_policy import check_name, check_password_policy, check_tenant_name, normalise_email
from mamba.domain.accounts import (
    AccountPolicy,
    AdminResult,
    ClientHints,
    OneTimeToken,
    RefreshFamily,
    RefreshToken,
    User,
)
from mamba.domain.clock import iso, new_id, utcnow
from mamba.domain.errors import (
    ConflictError,
    DependencyUnavailableError,
    EmailNotVerifiedError,
    NotFoundError,
    SessionRequiredError,
    UnauthorizedError,
    ValidationError,
)
from mamba.domain.pages import Page, PageRequest
from mamba.domain.tenancy import OWNER, Membership, Tenant
from mamba.ports import Captcha, Mailer, RateLimiter

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
INVALID_TOKEN = "invalid_token"


# --- ports ---------------------------------------------------------------------------


class UserRepository(Protocol):
    def add(self, user: User) -> None:
        """Raises ConflictError when the email (or the id) is taken."""

    def get(self, user_id: str) -> User:
        """Raises NotFoundError."""

    def find_by_email(self, email: str) -> User | None: ...

    def set_admin(self, user_id: str, is_admin: bool) -> None:
        """Raises NotFoundError."""

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Raises NotFoundError."""

    def set_name(self, user_id: str, name: str | None) -> None:
        """Raises NotFoundError."""

    def set_pending_email(self, user_id: str, email: str | None) -> None:
        """Raises NotFoundError."""

    def mark_email_verified(self, user_id: str, email: str) -> bool:
        """Mark the email verified if it still is the account's email; False otherwise."""

    def change_email(self, user_id: str, old_email: str, new_email: str) -> None:
        """Move the account (and its unique email claim) to ``new_email``, verified, in one
        transaction. Raises ConflictError when the new email is taken or the account's
        email is no longer ``old_email``, NotFoundError for an unknown user."""

    def reset_password(
        self,
        user_id: str,
        password_hash: str,
        sessions_valid_after: int,
        *,
        credentials_reset_at: str | None = None,
        take_over: bool = False,
    ) -> None:
        """Set the hash, void every earlier session and lift any lockout; with
        ``credentials_reset_at`` also void every API key created before it; with ``take_over``
        also drop the 2FA enrolment and any pending email change (the mailbox's owner takes
        an unverified account over). Raises NotFoundError."""

    def revoke_sessions(self, user_id: str, valid_after: int) -> None:
        """Void every access token and session issued before ``valid_after``. Raises NotFoundError."""

    def record_login_failure(self, user_id: str) -> int:
        """Count one failed login; returns the consecutive count."""

    def lock(self, user_id: str, until: int, threshold: int) -> bool:
        """Lock the account until ``until`` and restart the count, if the count has reached
        ``threshold``; True only for the call that locked it (one lockout mail)."""

    def clear_login_failures(self, user_id: str) -> None: ...


class TenantRepository(Protocol):
    def add_with_owner(self, tenant: Tenant, owner: Membership, *, max_owned: int | None = None) -> None:
        """Raises ConflictError when the tenant exists, NotFoundError when the owner does not,
        and TenantLimitError when ``max_owned`` is given and the owner already created that many
        (the count and the creation are one transaction)."""

    def get(self, tenant_id: str) -> Tenant:
        """Raises NotFoundError."""

    def memberships_of_user(self, user_id: str) -> list[Membership]: ...


class PasswordHashing(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str | None, password: str) -> bool:
        """Must cost one full hash even when ``password_hash`` is None (no enumeration by timing)."""

    def needs_rehash(self, password_hash: str) -> bool: ...


class OneTimeTokenStore(Protocol):
    def add(self, digest: str, token: OneTimeToken) -> None: ...

    def consume(self, digest: str) -> OneTimeToken | None:
        """Delete the token and return it, in one conditional write; None if there is none."""


class SessionStore(Protocol):
    def start(self, family: RefreshFamily, token_digest: str) -> None:
        """Store a new family with its first refresh token."""

    def load(self, family_id: str, token_digest: str) -> tuple[RefreshFamily | None, RefreshToken | None]: ...

    def rotate(
        self,
        family: RefreshFamily,
        old_digest: str,
        new_digest: str,
        now: int,
        client: ClientHints | None = None,
    ) -> bool:
        """Mark the old token used and store the new one, atomically, if the old one is
        unused and the family not revoked; False otherwise (the token was already used).
        Records ``now`` as the family's last use, with ``client``'s IP and User-Agent."""

    def revoke(self, family_id: str, reason: str) -> None: ...

    def list_for_user(self, user_id: str, page: PageRequest) -> Page[RefreshFamily]:
        """One page of the user's unrevoked families, newest first (one Query). Expired ones
        may still be in it until the table's TTL removes them."""

    def revoke_for_user(self, user_id: str, family_id: str, reason: str) -> bool:
        """Revoke the family if it is ``user_id``'s; False when no such family is theirs."""


class KeyRevoker(Protocol):
    def revoke_all(self, user_id: str, at: str) -> int:
        """Mark every unrevoked API key of the user revoked at ``at``; how many."""


class AccessTokenIssuer(Protocol):
    def __call__(self, user_id: str, issued_at: int, family_id: str | None = None) -> str: ...


class SecondFactor(Protocol):
    def __call__(self, user_id: str, code: str | None) -> None:
        """Raises UnauthorizedError (details reason ``totp_required`` or ``totp_invalid``)
        when the user has 2FA and ``code`` is not a valid TOTP or recovery code."""


class PasskeyFactor(Protocol):
    def __call__(self, user_id: str, challenge_id: str, credential: dict[str, Any]) -> None:
        """Raises UnauthorizedError (reason ``passkey_invalid``) unless ``credential`` is this
        user's passkey signing the challenge ``challenge_id`` (mamba.services.passkeys)."""


class WaitUntil(Protocol):
    def __call__(self, epoch_second: int) -> None:
        """Return once the wall clock has reached ``epoch_second``."""


def _no_second_factor(user_id: str, code: str | None) -> None:
    return None


def _no_passkey_factor(user_id: str, challenge_id: str, credential: dict[str, Any]) -> None:
    raise UnauthorizedError("The passkey was not accepted.", {"reason": "passkey_invalid"})


def _no_wait(epoch_second: int) -> None:
    return None


@dataclass(frozen=True)
class AccountPorts:
    users: UserRepository
    hasher: PasswordHashing
    tokens: OneTimeTokenStore
    sessions: SessionStore
    limiter: RateLimiter
    mailer: Mailer
    issue_access: AccessTokenIssuer
    public_url: str
    captcha: Captcha | None = None  # None: CAPTCHA_PROVIDER=disabled
    second_factor: SecondFactor = _no_second_factor
    passkey_factor: PasskeyFactor = _no_passkey_factor
    wait_until: WaitUntil = _no_wait
    policy: AccountPolicy = field(default_factory=AccountPolicy)
    on_mail_failure: Callable[[str, Exception], None] | None = None
    api_keys: KeyRevoker | None = None  # None: no key store wired (the guard still refuses old keys)


def now_iso() -> str:
    return iso(utcnow())


# --- validation ----------------------------------------------------------------------


def require_verified_email(user: User) -> None:
    """Raises EmailNotVerifiedError (403 ``EMAIL_NOT_VERIFIED``) unless the account's email
    is verified. Creating tenants and servers calls this first."""
    if not user.email_verified:
        raise EmailNotVerifiedError(
            "Verify your email address first; the link is in the mail we sent you.",
            {"reason": "email_not_verified"},
        )


# --- mailed tokens -------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue_token(
    tokens: OneTimeTokenStore, user_id: str, purpose: str, email: str | None, now: int, lifetime: int
) -> str:
    # 192 bits: unguessable, and short enough that a local link fits on one mail line.
    token = secrets.token_urlsafe(24)
    tokens.add(
        token_digest(token),
        OneTimeToken(user_id=user_id, purpose=purpose, expires_at=now + lifetime, created_at=now_iso(), email=email),
    )
    return token


def _invalid_token() -> ValidationError:
    return ValidationError(
        "The link is invalid, already used or expired; ask for a new one.", {"field": "token", "reason": INVALID_TOKEN}
    )


def _redeem(tokens: OneTimeTokenStore, token: str, purpose: str, now: int) -> OneTimeToken:
    found = tokens.consume(token_digest(token)) if token else None
    # Expired tokens may linger until DynamoDB's TTL deletes them: compare, never trust presence.
    if found is None or found.purpose != purpose or found.expires_at <= now:
        raise _invalid_token()
    return found


def send_mail(ports: AccountPorts, to: str, mail: mail_templates.Mail) -> bool:
    """Send, and report a failure instead of failing the flow: the account change already
    happened, and the user can ask for the mail again."""
    try:
        ports.mailer.send(to, mail.subject, mail.text)
    except DependencyUnavailableError as exc:
        if ports.on_mail_failure is not None:
            ports.on_mail_failure(mail.subject, exc)
        return False
    return True


# --- use cases -----------------------------------------------------------------------


def create_user(
    users: UserRepository,
    hasher: PasswordHashing,
    email: str,
    password: str,
    *,
    name: str | None = None,
    is_admin: bool = False,
    email_verified: bool = False,
    now: Callable[[], str] = now_iso,
) -> User:
    """Create an account with a unique email.

    Raises ValidationError (email, password or name policy) and ConflictError (the email is
    taken, decided by the repository's conditional write, so two concurrent creates cannot
    both win).
    """
    address = normalise_email(email)
    check_password_policy(password)
    user = User(
        id=new_id("usr"),
        email=address,
        created_at=now(),
        name=check_name(name),
        password_hash=hasher.hash(password),
        is_admin=is_admin,
        email_verified=email_verified,
    )
    users.add(user)
    return user


def register(
    ports: AccountPorts,
    email: str,
    password: str,
    *,
    name: str | None,
    captcha_token: str | None,
    source_ip: str,
    now: int,
) -> User:
    """Create an unverified account and mail its verification link.

    Raises RateLimitedError (too many registrations from this IP), CaptchaFailedError,
    ValidationError and ConflictError (the email is taken).
    """
    from mamba.services import abuse

    abuse.count(ports.limiter, ports.policy.register_ip, source_ip, now)
    abuse.check_captcha(ports.captcha, captcha_token, source_ip)
    try:
        user = create_user(ports.users, ports.hasher, email, password, name=name)
    except ConflictError as exc:
        if exc.details.get("field") == "email":
            _offer_claim(ports, normalise_email(email), now)
            raise ConflictError(
                "An account with this email already exists. If the address is yours, reset its password.",
                {"field": "email"},
            ) from exc
        raise
    send_verification(ports, user, now=now)
    return user


def _offer_claim(ports: AccountPorts, address: str, now: int) -> None:
    """Someone registers an address an *unverified* account holds: mail the address a
    reset link. Neither registrant has proven the mailbox; whoever can read it takes the
    account over through ``reset_password``, which clears the holder's password,
    sessions, API keys and 2FA (docs/accounts.md, "Who owns an address"). The per-email
    forgot limit bounds the mail to one inbox; over it, no mail, the same 409."""
    holder = ports.users.find_by_email(address)
    if holder is None or holder.email_verified or holder.status != "active":
        return
    if ports.limiter.add(ports.policy.forgot_email, address, now) > ports.policy.forgot_email.max:
        return
    lifetime = ports.policy.reset_token_ttl
    token = _issue_token(ports.tokens, holder.id, RESET_PASSWORD, holder.email, now, lifetime)
    send_mail(ports, holder.email, mail_templates.address_claim(ports.public_url, token, lifetime))


def send_verification(ports: AccountPorts, user: User, *, now: int) -> bool:
    """Mail a fresh verification link for the account's current email (False if the mail failed)."""
    lifetime = ports.policy.verify_token_ttl
    token = _issue_token(ports.tokens, user.id, VERIFY_EMAIL, user.email, now, lifetime)
    return send_mail(ports, user.email, mail_templates.verification(ports.public_url, token, lifetime, user.name))


def resend_verification(ports: AccountPorts, user_id: str, *, now: int) -> User:
    """Mail the verification link again (for the pending email if a change is waiting).

    Raises RateLimitedError, ConflictError (nothing to verify) and NotFoundError.
    """
    from mamba.services import abuse

    user = ports.users.get(user_id)
    if user.email_verified and user.pending_email is None:
        raise ConflictError("The email address is already verified.", {"field": "email"})
    abuse.count(ports.limiter, ports.policy.resend_user, user.id, now)
    if user.pending_email is not None:
        _send_email_change(ports, user, user.pending_email, now)
    else:
        send_verification(ports, user, now=now)
    return user


def verify_email(ports: AccountPorts, token: str, *, source_ip: str, now: int) -> User:
    """Redeem a verification link: verify the account's email, or complete an email change.

    Raises RateLimitedError, ValidationError (invalid, used or expired token; or a token
    for an address the account no longer has) and ConflictError (the new address was taken
    meanwhile).
    """
    from mamba.services import abuse

    abuse.count(ports.limiter, ports.policy.verify_ip, source_ip, now)
    found = _redeem(ports.tokens, token, VERIFY_EMAIL, now)
    try:
        user = ports.users.get(found.user_id)
    except NotFoundError as exc:
        raise _invalid_token() from exc
    if found.email == user.email:
        if not user.email_verified and not ports.users.mark_email_verified(user.id, user.email):
            raise _invalid_token()
        return replace(user, email_verified=True)
    if found.email is not None and found.email == user.pending_email:
        ports.users.change_email(user.id, user.email, found.email)
        return replace(user, email=found.email, email_verified=True, pending_email=None)
    raise _invalid_token()  # the account's email changed since this link was sent


def get_profile(users: UserRepository, user_id: str) -> User:
    """Raises NotFoundError."""
    return users.get(user_id)


def update_profile(
    ports: AccountPorts,
    user_id: str,
    *,
    name: str | None = None,
    change_name: bool = False,
    email: str | None = None,
    current_password: str | None = None,
    totp_code: str | None = None,
    via: str,
    now: int,
) -> User:
    """Change the display name (when ``change_name``; None clears it), and/or start an
    email change.

    An email change needs a login session (never an API key) and proof of the account:
    the current password, and a TOTP or recovery code when 2FA is on. The new email takes
    effect only when the link mailed to it is followed (``verify_email``); until then it
    is ``pending_email`` and the current address keeps working. The current address is
    told about the request. Email-change mails are limited per account.

    Raises SessionRequiredError (an API key), ValidationError (also a wrong or missing
    current password or code), RateLimitedError, ConflictError (the new email belongs to
    another account) and NotFoundError.
    """
    from mamba.services import abuse

    if email is not None and via != "token":
        raise SessionRequiredError(
            "An API key cannot change the account's email; sign in.", {"via": via, "field": "email"}
        )
    user = ports.users.get(user_id)
    if email is not None:
        address = normalise_email(email)
        if address != user.email:
            reauthenticate(ports, user, current_password, totp_code, now=now)
            if ports.users.find_by_email(address) is not None:
                raise ConflictError("An account with this email already exists.", {"field": "email"})
            abuse.count(ports.limiter, ports.policy.email_change_user, user.id, now)
    if change_name:
        clean = check_name(name)
        if clean != user.name:
            ports.users.set_name(user.id, clean)
            user = replace(user, name=clean)
    if email is not None:
        address = normalise_email(email)
        if address == user.email:
            if user.pending_email is not None:
                ports.users.set_pending_email(user.id, None)
                user = replace(user, pending_email=None)
            return user
        ports.users.set_pending_email(user.id, address)
        user = replace(user, pending_email=address)
        _send_email_change(ports, user, address, now)
        send_mail(ports, user.email, mail_templates.email_change_notice(address, user.name))
    return user


def reauthenticate(ports: AccountPorts, user: User, password: str | None, totp_code: str | None, *, now: int) -> None:
    """Proof, inside a session, that the account's owner is at the keyboard (ASVS V3.7.1):
    the current password, and the second factor when 2FA is on. Wrong answers count per
    account, so a stolen session cannot guess the password faster than login could.

    Raises RateLimitedError and ValidationError (``current_password`` or ``totp_code``,
    with details.reason ``invalid_credentials``, ``totp_required`` or ``totp_invalid``).
    """
    from mamba.services import abuse

    counters = [(ports.policy.reauth_user, user.id)]
    abuse.refuse_if_exceeded(ports.limiter, counters, now)
    if not password or not ports.hasher.verify(user.password_hash, password):
        if password:
            abuse.record(ports.limiter, counters, now)
        message = "The current password is wrong." if password else "Give your current password."
        raise ValidationError(
            message,
            {
                "fields": [{"field": "current_password", "message": message}],
                "field": "current_password",
                "reason": "invalid_credentials",
            },
        )
    if not user.totp_enabled:
        return
    try:
        ports.second_factor(user.id, totp_code)
    except UnauthorizedError as exc:
        reason = str(exc.details.get("reason", "totp_invalid"))
        if reason != "totp_required":
            abuse.record(ports.limiter, counters, now)
        raise ValidationError(
            exc.message,
            {"fields": [{"field": "totp_code", "message": exc.message}], "field": "totp_code", "reason": reason},
        ) from exc


def change_password(
    ports: AccountPorts,
    user_id: str,
    current_password: str | None,
    new_password: str,
    *,
    totp_code: str | None = None,
    via: str,
    now: int,
) -> User:
    """Change the password from a login session: proves the account (``reauthenticate``),
    sets the new hash, and ends every session, access token and API key of the account
    (the caller logs in again), like a reset.

    Raises SessionRequiredError (an API key), ValidationError (policy, wrong current
    password or code), RateLimitedError and NotFoundError.
    """
    if via != "token":
        raise SessionRequiredError("An API key cannot change the account's password; sign in.", {"via": via})
    user = ports.users.get(user_id)
    reauthenticate(ports, user, current_password, totp_code, now=now)
    check_password_policy(new_password)
    valid_after = now + 1  # as in reset_password: a token issued in this second dies too
    moment = now_iso()
    ports.users.reset_password(user.id, ports.hasher.hash(new_password), valid_after, credentials_reset_at=moment)
    revoke_api_keys(ports.api_keys, user.id, moment)
    return replace(user, sessions_valid_after=valid_after, credentials_reset_at=moment)


def revoke_api_keys(keys: KeyRevoker | None, user_id: str, at: str) -> int:
    """Mark every key of the account revoked, so lists show it. The guard already refuses
    any key created before the account's ``credentials_reset_at``; this is the record."""
    return 0 if keys is None else keys.revoke_all(user_id, at)


def _send_email_change(ports: AccountPorts, user: User, address: str, now: int) -> bool:
    lifetime = ports.policy.verify_token_ttl
    token = _issue_token(ports.tokens, user.id, VERIFY_EMAIL, address, now, lifetime)
    return send_mail(ports, address, mail_templates.email_change(ports.public_url, token, lifetime, address, user.name))


def forgot_password(ports: AccountPorts, email: str, *, source_ip: str, now: int) -> None:
    """Mail a reset link if an active account has this email; otherwise do the same amount
    of work and nothing else. The caller answers the same either way (no enumeration).

    Raises RateLimitedError only (per IP, and per email whether or not it exists).
    """
    from mamba.services import abuse

    address = email.strip().lower()
    abuse.count(ports.limiter, ports.policy.forgot_ip, source_ip, now)
    abuse.count(ports.limiter, ports.policy.forgot_email, address, now)
    user = ports.users.find_by_email(address)
    if user is None or user.status != "active":
        # Stands in for the token write and the mail send, which take about as long.
        ports.hasher.verify(None, address)
        return
    lifetime = ports.policy.reset_token_ttl
    token = _issue_token(ports.tokens, user.id, RESET_PASSWORD, user.email, now, lifetime)
    send_mail(ports, user.email, mail_templates.password_reset(ports.public_url, token, lifetime, user.name))


def reset_password(ports: AccountPorts, token: str, password: str, *, now: int) -> User:
    """Set a new password from a reset link, sign out every session, revoke every API key
    and lift a lockout.

    The link proves the mailbox, so a still-unverified email (the one the link went to) is
    marked verified too, and the mailbox's owner takes the account over: whatever the
    unverified holder set up (2FA, a pending email change) goes with the old password
    (docs/accounts.md, "Who owns an address"). Raises ValidationError (policy; invalid,
    used or expired token).
    """
    check_password_policy(password)
    found = _redeem(ports.tokens, token, RESET_PASSWORD, now)
    try:
        user = ports.users.get(found.user_id)
    except NotFoundError as exc:
        raise _invalid_token() from exc
    # +1: a token issued earlier in this very second has iat == now and must die too.
    valid_after = now + 1
    moment = now_iso()
    take_over = not user.email_verified and found.email == user.email
    ports.users.reset_password(
        user.id, ports.hasher.hash(password), valid_after, credentials_reset_at=moment, take_over=take_over
    )
    revoke_api_keys(ports.api_keys, user.id, moment)
    verified = user.email_verified
    if take_over:
        verified = ports.users.mark_email_verified(user.id, user.email)
        user = replace(user, totp_enabled=False, pending_email=None)
    return replace(
        user,
        email_verified=verified,
        sessions_valid_after=valid_after,
        credentials_reset_at=moment,
        failed_logins=0,
        locked_until=None,
    )


def create_admin(
    users: UserRepository, hasher: PasswordHashing, email: str, password: str, *, now: Callable[[], str] = now_iso
) -> AdminResult:
    """Make ``email`` a platform admin: create the account, or promote the existing one.

    An existing account is promoted only when ``password`` is its password, so knowing an
    email is not enough to gain admin rights over it. An account created here has its email
    marked verified: the operator running the command vouches for it.

    Raises ValidationError (policy), UnauthorizedError (existing account, wrong password)
    and ConflictError (another create won the same email meanwhile).
    """
    address = normalise_email(email)
    existing = users.find_by_email(address)
    if existing is None:
        user = create_user(users, hasher, address, password, is_admin=True, email_verified=True, now=now)
        return AdminResult(user=user, created=True, promoted=False)
    if not hasher.verify(existing.password_hash, password):
        raise UnauthorizedError("The password does not match the existing account.", {"email": address})
    if existing.password_hash and hasher.needs_rehash(existing.password_hash):
        users.set_password_hash(existing.id, hasher.hash(password))
    if existing.is_admin:
        return AdminResult(user=existing, created=False, promoted=False)
    users.set_admin(existing.id, True)
    return AdminResult(user=replace(existing, is_admin=True), created=False, promoted=True)


def create_tenant(
    tenants: TenantRepository,
    name: str,
    owner_id: str,
    *,
    tenant_id: str | None = None,
    max_owned: int | None = None,
    now: Callable[[], str] = now_iso,
) -> Tenant:
    """Create a tenant and its owner's membership in one transaction (which also counts it
    against ``max_owned``, the tenants an account may create; None: uncounted, for seeds).

    Raises ValidationError (name), ConflictError (the tenant id exists), NotFoundError
    (no such owner) and TenantLimitError (the owner is at ``max_owned``).
    """
    created_at = now()
    tenant = Tenant(id=tenant_id or new_id("tn"), name=check_tenant_name(name), created_at=created_at)
    owner = Membership(tenant_id=tenant.id, user_id=owner_id, role=OWNER, created_at=created_at)
    if max_owned is None:
        tenants.add_with_owner(tenant, owner)
    else:
        tenants.add_with_owner(tenant, owner, max_owned=max_owned)
    return tenant


def ensure_tenant(
    tenants: TenantRepository, tenant_id: str, name: str, owner_id: str, *, now: Callable[[], str] = now_iso
) -> tuple[Tenant, bool]:
    """The tenant with this fixed id, created (with its owner) if it is missing; (tenant, created).

    Idempotent, also against a concurrent run: losing the conditional create reads the winner's.
    Raises ValidationError and NotFoundError as ``create_tenant``.
    """
    try:
        return tenants.get(tenant_id), False
    except NotFoundError:
        pass
    try:
        return create_tenant(tenants, name, owner_id, tenant_id=tenant_id, now=now), True
    except ConflictError:
        return tenants.get(tenant_id), False
