"""Two-factor authentication: TOTP (RFC 6238) enrolment, the second-factor check at login,
one-time recovery codes, and disabling.

The state lives on the user's profile (see ``TwoFactorStore``). Every change that must
happen at most once is a conditional write in the store, not a read-then-write here:

* a TOTP code is accepted only when its time step is later than the last accepted one
  (``advance_counter``), so a code cannot be replayed, not even by two concurrent logins;
* a recovery code is removed from the stored set in the same write that accepts it
  (``use_recovery_code``), so it works exactly once.

Confirm and disable run with a session already open, so a stolen access token could try
codes there: after ``CODE_FAILURES.max`` wrong codes (or passwords) in its window they
answer 429 until the window ends. The login path has its own limits (failed logins).

Recovery codes are 80 random bits (16 base32 characters, shown as ``XXXX-XXXX-XXXX-XXXX``)
and stored as SHA-256 of ``<user_id>:<code>``: with that much entropy a slow hash adds
nothing, and the user id as salt keeps equal codes of two users apart.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Protocol

from mamba.auth import totp
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import ConflictError, RateLimitedError, UnauthorizedError, ValidationError
from mamba.domain.ratelimit import Limit
from mamba.domain.two_factor import Enrolment, TwoFactorState, TwoFactorStatus
from mamba.ports import RateLimiter

RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_BYTES = 10  # 80 bits → 16 base32 characters
ISSUER = "Mamba Host Panel"

CODE_FAILURES = Limit("2fa-code", 5, 15 * 60)  # wrong codes per user on confirm/disable

TOTP_REQUIRED = "totp_required"
TOTP_INVALID = "totp_invalid"


class TwoFactorStore(Protocol):
    def load(self, user_id: str) -> TwoFactorState:
        """Raises NotFoundError."""

    def start_enrolment(self, user_id: str, pending_secret: str) -> None:
        """Store (or replace) the pending secret. Raises ConflictError when 2FA is already
        enabled, NotFoundError for an unknown user."""

    def confirm(self, user_id: str, pending_secret: str, counter: int, recovery_hashes: list[str], at: str) -> bool:
        """Enable 2FA with ``pending_secret`` if it is still the pending one and 2FA is off;
        False when another request changed it first."""

    def advance_counter(self, user_id: str, counter: int) -> bool:
        """Record ``counter`` as the last accepted step if it is later than the stored one
        and 2FA is on; False otherwise (a replay)."""

    def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        """Remove ``code_hash`` from the stored set if it is there and 2FA is on; False otherwise."""

    def disable(self, user_id: str) -> None:
        """Turn 2FA off and forget the secret, counter and recovery codes. Raises NotFoundError."""


class PasswordCheck(Protocol):
    def verify(self, password_hash: str | None, password: str) -> bool: ...


def _now() -> str:
    return iso(utcnow())


def recovery_code_hash(user_id: str, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{normalise_recovery_code(code)}".encode()).hexdigest()


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch not in "- ")


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    codes = []
    for _ in range(count):
        raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode()
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    return codes


def _looks_like_totp(code: str) -> bool:
    compact = code.strip().replace(" ", "")
    return len(compact) == totp.DIGITS and compact.isdigit()


def _invalid() -> UnauthorizedError:
    return UnauthorizedError("The two-factor code is not valid.", {"reason": TOTP_INVALID})


def check_second_factor(
    user_id: str, code: str | None, store: TwoFactorStore, *, now: float | None = None
) -> str | None:
    """Check the second factor of ``user_id`` after their password was verified.

    ``code`` is a current TOTP code (6 digits) or one of the user's recovery codes.
    Returns ``None`` when the user has no 2FA (nothing to check, ``code`` is ignored),
    ``"totp"`` or ``"recovery_code"`` for the factor that was accepted (and consumed).

    Raises UnauthorizedError with details ``{"reason": "totp_required"}`` when 2FA is on
    and no code was given, ``{"reason": "totp_invalid"}`` for a wrong, replayed or
    already-used code; NotFoundError for an unknown user.
    """
    state = store.load(user_id)
    if not state.enabled or not state.secret:
        return None
    if code is None or not code.strip():
        raise UnauthorizedError("A two-factor code is required.", {"reason": TOTP_REQUIRED})
    return _consume(state, code, None, store, now)


def _consume(
    state: TwoFactorState, code: str | None, recovery_code: str | None, store: TwoFactorStore, now: float | None
) -> str:
    """Accept and consume a TOTP code or a recovery code; raise UnauthorizedError otherwise."""
    assert state.secret is not None
    if code is not None and _looks_like_totp(code):
        counter = totp.verify(state.secret, code, now=now, last_counter=state.last_counter)
        # The conditional write decides: two requests with the same code both pass verify()
        # on the state they read, but only one can move the counter past it.
        if counter is None or not store.advance_counter(state.user_id, counter):
            raise _invalid()
        return "totp"
    candidate = recovery_code if recovery_code is not None else code
    if not candidate or not normalise_recovery_code(candidate):
        raise _invalid()
    if not store.use_recovery_code(state.user_id, recovery_code_hash(state.user_id, candidate)):
        raise _invalid()
    return "recovery_code"


def _check_throttle(limiter: RateLimiter | None, user_id: str, now: float) -> None:
    if limiter is None:
        return
    moment = int(now)
    [failures] = limiter.peek([(CODE_FAILURES, user_id)], moment)
    if CODE_FAILURES.exceeded(failures):
        raise RateLimitedError(
            "Too many wrong two-factor codes; try again later.",
            CODE_FAILURES.retry_after(moment),
            {"limit": CODE_FAILURES.name},
        )


def _count_failure(limiter: RateLimiter | None, user_id: str, now: float) -> None:
    if limiter is not None:
        limiter.add(CODE_FAILURES, user_id, int(now))


def enrol(user_id: str, store: TwoFactorStore, *, issuer: str = ISSUER) -> Enrolment:
    """Start enrolment: a fresh secret, pending until ``confirm``. Calling it again replaces
    the pending secret (an abandoned enrolment is harmless).

    Raises ConflictError when 2FA is already enabled (disable it first), NotFoundError.
    """
    state = store.load(user_id)
    if state.enabled:
        raise ConflictError("Two-factor authentication is already enabled.", {"reason": "already_enabled"})
    secret = totp.new_secret()
    store.start_enrolment(user_id, secret)
    return Enrolment(secret=secret, otpauth_uri=totp.provisioning_uri(secret, state.email, issuer))


def confirm(
    user_id: str,
    code: str,
    store: TwoFactorStore,
    *,
    limiter: RateLimiter | None = None,
    now: float | None = None,
    clock: Callable[[], str] = _now,
) -> list[str]:
    """Confirm enrolment with a code from the authenticator; enables 2FA and returns the
    10 recovery codes (shown once; only their hashes are stored).

    Raises ConflictError (already enabled, or no enrolment pending), UnauthorizedError
    ``totp_invalid`` (wrong code), RateLimitedError (too many wrong codes), NotFoundError.
    """
    moment = time.time() if now is None else now
    state = store.load(user_id)
    if state.enabled:
        raise ConflictError("Two-factor authentication is already enabled.", {"reason": "already_enabled"})
    if not state.pending_secret:
        raise ConflictError("No enrolment is pending; start with POST /v1/me/2fa/enrol.", {"reason": "not_enrolling"})
    _check_throttle(limiter, user_id, moment)
    counter = totp.verify(state.pending_secret, code, now=moment)
    if counter is None:
        _count_failure(limiter, user_id, moment)
        raise _invalid()
    codes = new_recovery_codes()
    hashes = [recovery_code_hash(user_id, c) for c in codes]
    if not store.confirm(user_id, state.pending_secret, counter, hashes, clock()):
        raise ConflictError("The enrolment changed meanwhile; start again.", {"reason": "enrolment_changed"})
    return codes


def disable(
    user_id: str,
    store: TwoFactorStore,
    passwords: PasswordCheck,
    *,
    code: str | None = None,
    recovery_code: str | None = None,
    password: str | None = None,
    limiter: RateLimiter | None = None,
    now: float | None = None,
) -> None:
    """Turn 2FA off. Needs a current TOTP code or an unused recovery code (which is
    consumed); when ``password`` is given it must be the account's password too.

    Raises ValidationError (neither or both codes given), ConflictError (2FA is not on),
    UnauthorizedError (``totp_invalid``, or ``{"reason": "password_invalid"}``),
    RateLimitedError (too many wrong codes or passwords), NotFoundError.
    """
    if (code is None) == (recovery_code is None):
        raise ValidationError(
            "Give either a code or a recovery_code.", {"fields": [{"field": "code", "message": "exactly one"}]}
        )
    moment = time.time() if now is None else now
    state = store.load(user_id)
    if not state.enabled or not state.secret:
        raise ConflictError("Two-factor authentication is not enabled.", {"reason": "not_enabled"})
    _check_throttle(limiter, user_id, moment)
    try:
        if password is not None and not passwords.verify(state.password_hash, password):
            raise UnauthorizedError("The password is not correct.", {"reason": "password_invalid"})
        if code is not None and not _looks_like_totp(code):
            raise _invalid()
        _consume(state, code, recovery_code, store, moment)
    except UnauthorizedError:
        _count_failure(limiter, user_id, moment)
        raise
    store.disable(user_id)


def status(user_id: str, store: TwoFactorStore) -> TwoFactorStatus:
    """Raises NotFoundError."""
    state = store.load(user_id)
    return TwoFactorStatus(
        enabled=state.enabled,
        pending=bool(state.pending_secret) and not state.enabled,
        recovery_codes_left=state.recovery_codes_left if state.enabled else 0,
    )
