"""Sessions: login, refresh-token rotation and logout.

* An **access token** is a 15-minute JWT (``mamba.auth.tokens``); the guard checks it
  without I/O except the user read it does anyway.
* A **refresh token** is opaque: ``<family id>.<256 random bits>``, stored only as its
  SHA-256. Each login starts a *family*; each refresh marks the presented token used and
  issues the next one, atomically. Presenting a used token means two parties hold the
  same family (one of them stole it), so the whole family is revoked and both must log in
  again. A family lives ``refresh_ttl`` from its login; rotation does not extend it.
* **The sessions list** (``GET /v1/me/sessions``) shows the user's live families, newest
  first, with where each was last used (IP and User-Agent, cut short) and which one the
  calling access token belongs to (its ``fid`` claim). Revoking one (``DELETE``) ends its
  refresh at once; its access tokens die at their expiry, like after a logout.
* **Revoking every session** of a user (password reset, logout ``everywhere``) sets the
  user's ``sessions_valid_after``: the guard refuses access tokens issued before it and
  ``refresh`` refuses families started before it, with no per-session writes.

No user enumeration: an unknown email and a wrong password give the same 401, after the
same password-hashing work and the same rate-limit writes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mamba import mail_templates
from mamba.domain.accounts import AccountPolicy, ClientHints, RefreshFamily, SessionView, TokenPair, User
from mamba.domain.clock import new_id
from mamba.domain.errors import DomainError, NotFoundError, SessionRequiredError, UnauthorizedError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.ratelimit import Limit
from mamba.services import abuse
from mamba.services.accounts import AccountPorts, now_iso, send_mail, token_digest

TOTP_INVALID = "totp_invalid"
TOTP_REQUIRED = "totp_required"
# Wrong second factors: each counts as a failed login (a missing one does not).
SECOND_FACTOR_FAILURES = frozenset({TOTP_INVALID, "passkey_invalid"})


@dataclass(frozen=True)
class PasskeyAnswer:
    """A passkey's answer to a sign-in ceremony (``POST /v1/auth/passkeys/options``)."""

    challenge_id: str
    credential: dict[str, Any]


MAX_IP_LENGTH = 45  # the longest textual IPv6 address (with an embedded IPv4 one)
MAX_USER_AGENT_LENGTH = 200  # enough to tell browsers apart; the rest is noise, and stored


def client_hints(source_ip: str, user_agent: str) -> ClientHints:
    """The request's IP and User-Agent as stored with a session: printable, trimmed, cut
    short, None when absent. The User-Agent is whatever the client sent, so it is bounded
    and stripped of control characters before it is kept or shown."""

    def clean(value: str, limit: int) -> str | None:
        text = "".join(ch for ch in value if ch.isprintable()).strip()[:limit].strip()
        return text or None

    return ClientHints(ip=clean(source_ip, MAX_IP_LENGTH), user_agent=clean(user_agent, MAX_USER_AGENT_LENGTH))


def _bad_credentials() -> UnauthorizedError:
    return UnauthorizedError("The email or password is not correct.", {"reason": "invalid_credentials"})


def _bad_refresh(reason: str) -> UnauthorizedError:
    return UnauthorizedError("The refresh token is not valid; log in again.", {"reason": reason})


def login_counters(policy: AccountPolicy, address: str, source_ip: str) -> list[tuple[Limit, str]]:
    """The windows a password attempt counts in: the IP's first (a burst from one address is
    refused before it touches the account's window), then the email's. No IP known (an
    SFTP call without one): the email's only, rather than one window shared by everyone."""
    counters = [(policy.login_ip, source_ip)] if source_ip else []
    return [*counters, (policy.login_account, address)]


def login(
    ports: AccountPorts,
    email: str,
    password: str,
    *,
    totp_code: str | None,
    captcha_token: str | None,
    source_ip: str,
    now: int,
    user_agent: str = "",
    passkey: PasskeyAnswer | None = None,
) -> TokenPair:
    """Check the credentials (and the second factor) and start a session (remembering
    ``source_ip`` and ``user_agent`` for the sessions list).

    Raises RateLimitedError (too many failures for this IP or email in the window; the
    password is then not checked), CaptchaFailedError, UnauthorizedError
    (``invalid_credentials``: unknown email, wrong password or a locked account, all alike;
    ``inactive``; or from the second factor ``totp_required`` / ``totp_invalid`` /
    ``passkey_invalid``). ``totp_required`` lists in ``details.methods`` the factors the
    account can answer with (``totp``, ``passkey``).
    """
    policy = ports.policy
    address = email.strip().lower()
    counters = login_counters(policy, address, source_ip)
    abuse.reserve(ports.limiter, counters, now)
    try:
        abuse.check_captcha(ports.captcha, captcha_token, source_ip)
    except DomainError:
        abuse.release(ports.limiter, counters, now)  # no password was tried
        raise
    user = _check_password(ports, address, password, source_ip, now)
    if user.status != "active":
        abuse.release(ports.limiter, counters, now)
        raise UnauthorizedError("The account is not active.", {"reason": "inactive"})
    try:
        _check_second_factor(ports, user, totp_code, passkey, source_ip, now)
    except UnauthorizedError as exc:
        if exc.details.get("reason") not in SECOND_FACTOR_FAILURES:
            abuse.release(ports.limiter, counters, now)  # a missing code is not a failure
        raise
    abuse.release(ports.limiter, counters, now)  # proven: the attempt was not a failure

    if user.failed_logins:
        ports.users.clear_login_failures(user.id)
    if user.password_hash and ports.hasher.needs_rehash(user.password_hash):
        # Rehash-on-login: the only moment the plain password is at hand.
        ports.users.set_password_hash(user.id, ports.hasher.hash(password))
    return start_session(ports, user, now, client_hints(source_ip, user_agent))


def check_password(
    ports: AccountPorts,
    email: str,
    password: str,
    *,
    source_ip: str,
    now: int,
    refuse: Callable[[User], bool] | None = None,
) -> User:
    """A password sign-in outside ``login`` (the nodes' SFTP), under the same windows and the
    same lockout: one more way in must not be one more way to guess.

    ``refuse(user)`` True: this account may not sign in this way (2FA on): its password is
    not checked and the attempt counts as a failure, answered like a wrong password.
    Raises RateLimitedError (the password is not checked) and UnauthorizedError
    (``invalid_credentials`` for everything else, ``inactive``).
    """
    address = email.strip().lower()
    counters = login_counters(ports.policy, address, source_ip)
    abuse.reserve(ports.limiter, counters, now)
    user = _check_password(ports, address, password, source_ip, now, refuse)
    abuse.release(ports.limiter, counters, now)
    if user.status != "active":
        raise UnauthorizedError("The account is not active.", {"reason": "inactive"})
    if user.failed_logins:
        ports.users.clear_login_failures(user.id)
    return user


def _check_password(
    ports: AccountPorts,
    address: str,
    password: str,
    source_ip: str,
    now: int,
    refuse: Callable[[User], bool] | None = None,
) -> User:
    """The user whose password this is, else UnauthorizedError ``invalid_credentials``.

    An unknown email, a locked account and a refused one cost the same hashing work as a
    wrong password and get the same answer. A locked (or refused) account's password is
    not checked at all: an answer that changed with the right password would let guessing
    go on through the lock (issue 10: "a locked account answers exactly like a wrong
    password"); the owner learns of the lock from the lockout mail, and a reset lifts it."""
    user = ports.users.find_by_email(address)
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    if user is None or locked or (refuse is not None and refuse(user)):
        ports.hasher.verify(None, password)
        # Attempts on a locked account do not count towards the next lock (no mail storm).
        _failed(ports, None if locked else user, source_ip, now)
        raise _bad_credentials()
    if not ports.hasher.verify(user.password_hash, password):
        _failed(ports, user, source_ip, now)
        raise _bad_credentials()
    return user


def _check_second_factor(
    ports: AccountPorts, user: User, code: str | None, passkey: PasskeyAnswer | None, source_ip: str, now: int
) -> None:
    """The one place login asks for the second factor: a TOTP or recovery code, or one of the
    account's passkeys (docs/passkeys.md). A wrong answer counts as a failed login (so codes
    cannot be guessed faster than passwords); a missing one does not. Users without 2FA are
    not asked (and cost no read of their 2FA state)."""
    if not user.has_second_factor:
        return
    methods = [m for m, on in (("totp", user.totp_enabled), ("passkey", user.passkeys > 0)) if on]
    try:
        if passkey is not None and user.passkeys > 0:
            ports.passkey_factor(user.id, passkey.challenge_id, passkey.credential)
        elif user.totp_enabled:
            ports.second_factor(user.id, code)
        else:
            raise UnauthorizedError("Confirm the sign-in with your passkey.", {"reason": TOTP_REQUIRED})
    except UnauthorizedError as exc:
        reason = exc.details.get("reason")
        if reason in SECOND_FACTOR_FAILURES:
            _failed(ports, user, source_ip, now)
        if reason == TOTP_REQUIRED:
            raise UnauthorizedError(exc.message, {**exc.details, "methods": methods}) from exc
        raise


def check_second_factor(
    ports: AccountPorts,
    user: User,
    code: str | None,
    source_ip: str,
    now: int,
    passkey: PasskeyAnswer | None = None,
) -> None:
    """The second factor of a sign-in whose first factor was proven another way (a provider's
    sign-in, docs/oauth.md): the same check, counted the same way, as a password login's
    (a TOTP or recovery code, or one of the account's passkeys)."""
    _check_second_factor(ports, user, code, passkey, source_ip, now)


def _failed(ports: AccountPorts, user: User | None, source_ip: str, now: int) -> None:
    """Record a failed attempt on the account (its windows were counted up front): the
    consecutive count; the failure that reaches the threshold locks it and mails its owner."""
    if user is None:
        return
    policy = ports.policy
    failures = ports.users.record_login_failure(user.id)
    if failures >= policy.lockout_after and ports.users.lock(
        user.id, now + policy.lockout_seconds, policy.lockout_after
    ):
        mail = mail_templates.lockout(ports.public_url, failures, policy.lockout_seconds, source_ip, user.name)
        send_mail(ports, user.email, mail)


def _issued_at(ports: AccountPorts, user: User, now: int) -> int:
    """The ``iat`` of new tokens. Right after a revocation ``sessions_valid_after`` is the
    next second; a token must not be dated before it (it would be refused) nor after the
    clock (PyJWT refuses a future ``iat``), so wait for that second (under one)."""
    valid_after = user.sessions_valid_after or 0
    if valid_after > now:
        ports.wait_until(valid_after)
        return valid_after
    return now


def start_session(ports: AccountPorts, user: User, now: int, client: ClientHints | None = None) -> TokenPair:
    """A new refresh-token family and its first pair of tokens."""
    issued = _issued_at(ports, user, now)
    client = client or ClientHints()
    family = RefreshFamily(
        id=new_id("rf"),
        user_id=user.id,
        issued_at=issued,
        expires_at=issued + ports.policy.refresh_ttl,
        created_at=now_iso(),
        ip=client.ip,
        user_agent=client.user_agent,
    )
    secret = secrets.token_urlsafe(32)
    ports.sessions.start(family, token_digest(secret))
    return TokenPair(
        access_token=ports.issue_access(user.id, issued, family.id),
        refresh_token=f"{family.id}.{secret}",
        expires_in=ports.policy.access_ttl,
        user_id=user.id,
    )


def _parse(refresh_token: str) -> tuple[str, str]:
    family_id, dot, secret = refresh_token.strip().partition(".")
    if not dot or not family_id.startswith("rf_") or len(secret) < 32:
        raise _bad_refresh("invalid")
    return family_id, token_digest(secret)


def refresh(
    ports: AccountPorts, refresh_token: str, *, now: int, source_ip: str = "", user_agent: str = ""
) -> TokenPair:
    """Rotate: the presented token is used up, the next one is returned with a new access token;
    the family records this use (time, ``source_ip``, ``user_agent``) for the sessions list.

    Raises UnauthorizedError with reason ``invalid`` (unknown or malformed), ``expired``,
    ``revoked`` (logged out, reset, or revoked earlier), ``reused`` (the token was already
    used: the whole family is revoked now) or ``inactive`` (the account is suspended).
    """
    family_id, digest = _parse(refresh_token)
    family, token = ports.sessions.load(family_id, digest)
    if family is None or token is None:
        raise _bad_refresh("invalid")
    if family.revoked:
        raise _bad_refresh("revoked")
    if token.used_at is not None:
        ports.sessions.revoke(family.id, "reuse")
        raise _bad_refresh("reused")
    if family.expires_at <= now:
        raise _bad_refresh("expired")
    try:
        user = ports.users.get(family.user_id)
    except NotFoundError as exc:
        raise _bad_refresh("invalid") from exc
    if user.status != "active":
        raise _bad_refresh("inactive")
    if user.sessions_valid_after is not None and family.issued_at < user.sessions_valid_after:
        raise _bad_refresh("revoked")
    secret = secrets.token_urlsafe(32)
    if not ports.sessions.rotate(family, digest, token_digest(secret), now, client_hints(source_ip, user_agent)):
        # Another request used this token between our read and our write: the same reuse.
        ports.sessions.revoke(family.id, "reuse")
        raise _bad_refresh("reused")
    issued = _issued_at(ports, user, now)
    return TokenPair(
        access_token=ports.issue_access(user.id, issued, family.id),
        refresh_token=f"{family.id}.{secret}",
        expires_in=ports.policy.access_ttl,
        user_id=user.id,
    )


def logout(ports: AccountPorts, refresh_token: str, *, everywhere: bool, now: int) -> str | None:
    """End the session (family) of ``refresh_token``. The access token in hand dies at its
    expiry; with ``everywhere`` every access token and session of the user die now.

    Returns the user whose session ended (None for an unknown token). Idempotent: an
    unknown or already-revoked token is not an error, except with ``everywhere``, which
    needs a live token to know whose sessions to end (UnauthorizedError).
    """
    try:
        family_id, digest = _parse(refresh_token)
    except UnauthorizedError:
        if everywhere:
            raise
        return None
    family, token = ports.sessions.load(family_id, digest)
    if family is None or token is None:
        if everywhere:
            raise _bad_refresh("invalid")
        return None
    live = not family.revoked and token.used_at is None and family.expires_at > now
    ports.sessions.revoke(family.id, "logout")
    if everywhere:
        if not live:
            raise _bad_refresh("revoked")
        # +1: tokens issued earlier in this very second carry iat == now and must die too.
        ports.users.revoke_sessions(family.user_id, now + 1)
    return family.user_id


def list_sessions(
    ports: AccountPorts, user_id: str, page: PageRequest, *, current_id: str | None, now: int
) -> Page[SessionView]:
    """The user's live sessions, newest first, one Query per page. A family that can no
    longer refresh is left out: revoked ones are not in the listing at all, expired ones
    (until TTL deletes them) and ones started before the user's last "sign out everywhere"
    or password change are dropped here, so a page may hold fewer than ``limit`` entries."""
    user = ports.users.get(user_id)
    valid_after = user.sessions_valid_after or 0
    found = ports.sessions.list_for_user(user_id, page)
    items = [
        SessionView(family=f, current=f.id == current_id)
        for f in found.items
        if not f.revoked and f.expires_at > now and f.issued_at >= valid_after
    ]
    return Page(items=items, next_cursor=found.next_cursor)


def revoke_session(ports: AccountPorts, user_id: str, session_id: str, *, via: str) -> None:
    """End one of the user's sessions: its refresh token stops working at once (its access
    tokens at their expiry). Idempotent for the user's own families.

    Raises SessionRequiredError (an API key: ending sign-ins is for a signed-in person, like
    the other credential changes) and NotFoundError (no such family of this user; another
    user's family answers exactly the same).
    """
    if via != "token":
        raise SessionRequiredError("An API key cannot end the account's sessions; sign in.", {"via": via})
    if not session_id.startswith("rf_") or not ports.sessions.revoke_for_user(user_id, session_id, "revoked_by_user"):
        raise NotFoundError("Session not found.", {"session_id": session_id})
