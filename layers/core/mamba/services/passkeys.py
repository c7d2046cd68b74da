"""Passkeys (WebAuthn): registering them from the account page, signing in with one alone,
and using one as the second factor of a password login (docs/passkeys.md).

Every ceremony has a server-side challenge of 32 random bytes that lives 5 minutes and is
deleted by the request that uses it (``PasskeyStore.take_challenge``: one conditional
delete), so an answer cannot be replayed and two requests cannot both spend it.

A sign-in checks, through py_webauthn (``mamba.auth.webauthn``): the signature with the stored
public key, the origin and relying party id, user verification, and the signature counter;
then here: the credential's backup eligibility has not changed since registration (it is fixed
for a credential's life, so a change means another authenticator answers for it). The new
counter is stored with a condition on the old one, so two sign-ins that raced with one counter
value cannot both pass.

A passkey is a second factor: an account with one is asked for a second factor after its
password (the passkey, or a TOTP code when TOTP is on too), and counts as having 2FA where a
tenant requires it (``User.has_second_factor``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mamba import mail_templates
from mamba.auth import webauthn
from mamba.domain.accounts import TokenPair
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import (
    DependencyUnavailableError,
    EmailNotVerifiedError,
    NotFoundError,
    SessionRequiredError,
    UnauthorizedError,
    ValidationError,
)
from mamba.domain.passkeys import (
    AUTHENTICATE,
    CHALLENGE_TTL_SECONDS,
    MAX_PASSKEYS,
    REGISTER,
    Ceremony,
    Challenge,
    Passkey,
    PasskeyLimitError,
    PasskeyRejectedError,
    clean_name,
    passkey_id,
)
from mamba.domain.ratelimit import Limit
from mamba.ports import Mailer, PasskeyStore, RateLimiter
from mamba.services import abuse
from mamba.services.accounts import AccountPorts, UserRepository
from mamba.services.sessions import client_hints, start_session

# Ceremonies started per IP (sign-in) or per account (registration): each stores a challenge,
# so a flood is bounded.
CEREMONIES = Limit("passkey-ceremony", 60, 15 * 60)


@dataclass(frozen=True)
class PasskeyPorts:
    store: PasskeyStore
    relying_party: webauthn.RelyingParty
    limiter: RateLimiter
    users: UserRepository
    mailer: Mailer | None = None  # None: nobody is told of added and removed passkeys
    on_mail_failure: Callable[[str, Exception], None] | None = None


def _now_iso() -> str:
    return iso(utcnow())


def _new_challenge(ports: PasskeyPorts, purpose: str, now: int, user_id: str | None = None) -> tuple[Challenge, bytes]:
    raw = webauthn.new_challenge()
    challenge = Challenge(
        id="wac_" + secrets.token_urlsafe(24),
        purpose=purpose,
        challenge=webauthn.b64url(raw),
        expires_at=now + CHALLENGE_TTL_SECONDS,
        user_id=user_id,
    )
    ports.store.put_challenge(challenge)
    return challenge, raw


def _take(ports: PasskeyPorts, challenge_id: str, purpose: str, now: int) -> Challenge | None:
    """The challenge, spent now; None when unknown, used, expired or of another ceremony."""
    if not challenge_id.startswith("wac_"):
        return None
    challenge = ports.store.take_challenge(challenge_id)
    if challenge is None or challenge.purpose != purpose or challenge.expires_at <= now:
        return None
    return challenge


def _tell_owner(ports: PasskeyPorts, user_id: str, added: bool, passkey_name: str) -> None:
    """Mail the owner that a passkey was added or removed. A failed mail never undoes the change
    (it happened); it is reported to ``on_mail_failure``."""
    if ports.mailer is None:
        return
    user = ports.users.get(user_id)
    mail = mail_templates.passkey_changed(added, passkey_name, user.name)
    try:
        ports.mailer.send(user.email, mail.subject, mail.text)
    except DependencyUnavailableError as exc:
        if ports.on_mail_failure is not None:
            ports.on_mail_failure(mail.subject, exc)


def _session_only(via: str, what: str) -> None:
    if via != "token":
        raise SessionRequiredError(f"An API key cannot {what}; sign in.", {"via": via})


# --- registration (the account page) -----------------------------------------------------


def begin_registration(ports: PasskeyPorts, user_id: str, *, via: str, now: int) -> Ceremony:
    """Options for ``navigator.credentials.create``, with a new challenge.

    Raises SessionRequiredError (an API key: a new way in is for a signed-in person),
    EmailNotVerifiedError (an unverified account can be taken over by the mailbox's owner, and
    must not leave a credential behind that survives it), PasskeyLimitError, RateLimitedError.
    """
    _session_only(via, "register a passkey")
    user = ports.users.get(user_id)
    if not user.email_verified:
        raise EmailNotVerifiedError(
            "Verify your email address first; the link is in the mail we sent you.", {"reason": "email_not_verified"}
        )
    abuse.reserve(ports.limiter, [(CEREMONIES, f"user:{user.id}")], now)
    existing = ports.store.list(user.id)
    if len(existing) >= MAX_PASSKEYS:
        raise PasskeyLimitError(f"An account can have at most {MAX_PASSKEYS} passkeys.", {"limit": MAX_PASSKEYS})
    challenge, raw = _new_challenge(ports, REGISTER, now, user.id)
    options = webauthn.registration_options(
        ports.relying_party,
        user_id=user.id,
        user_name=user.email,
        display_name=user.name or user.email,
        challenge=raw,
        exclude=[p.credential_id for p in existing],
    )
    return Ceremony(challenge_id=challenge.id, public_key=options)


def finish_registration(
    ports: PasskeyPorts,
    user_id: str,
    *,
    challenge_id: str,
    credential: dict[str, Any],
    name: str | None,
    via: str,
    now: int,
) -> Passkey:
    """Verify the authenticator's answer and store the passkey.

    Raises SessionRequiredError, PasskeyRejectedError (reason ``challenge``: unknown, used,
    expired or another account's; ``invalid``: the library refused it), ConflictError (this
    credential is registered already), PasskeyLimitError.
    """
    _session_only(via, "register a passkey")
    challenge = _take(ports, challenge_id, REGISTER, now)
    if challenge is None or challenge.user_id != user_id:
        raise PasskeyRejectedError(
            "This registration has expired or was used already; start again.", {"reason": "challenge"}
        )
    made = webauthn.verify_registration(ports.relying_party, credential, webauthn.from_b64url(challenge.challenge))
    count = len(ports.store.list(user_id))
    passkey = Passkey(
        id=passkey_id(made.credential_id),
        user_id=user_id,
        name=clean_name(name or "") or f"Passkey {count + 1}",
        credential_id=webauthn.b64url(made.credential_id),
        public_key=webauthn.b64url(made.public_key),
        sign_count=made.sign_count,
        created_at=_now_iso(),
        backup_eligible=made.backup_eligible,
        backed_up=made.backed_up,
        transports=made.transports,
        aaguid=made.aaguid,
    )
    ports.store.add(passkey, MAX_PASSKEYS)
    _tell_owner(ports, user_id, True, passkey.name)
    return passkey


def list_passkeys(ports: PasskeyPorts, user_id: str) -> list[Passkey]:
    return ports.store.list(user_id)


def rename_passkey(ports: PasskeyPorts, user_id: str, passkey_id_: str, name: str) -> Passkey:
    """Raises NotFoundError (another account's passkey answers the same)."""
    label = clean_name(name)
    if not label:
        raise ValidationError("Give the passkey a name.", {"fields": [{"field": "name", "message": "empty"}]})
    return ports.store.rename(user_id, passkey_id_, label)


def delete_passkey(ports: PasskeyPorts, user_id: str, passkey_id_: str, *, via: str) -> None:
    """Raises SessionRequiredError (an API key cannot remove a factor), NotFoundError."""
    _session_only(via, "remove a passkey")
    found = ports.store.get(user_id, passkey_id_)
    if found is None or not ports.store.delete(user_id, passkey_id_):
        raise NotFoundError("Passkey not found.", {"passkey_id": passkey_id_})
    _tell_owner(ports, user_id, False, found.name)


# --- sign-in and second factor -------------------------------------------------------------


def begin_authentication(ports: PasskeyPorts, *, source_ip: str, now: int) -> Ceremony:
    """Options for ``navigator.credentials.get`` with any discoverable passkey of the panel.
    Used both to sign in with a passkey alone and as the second factor after a password.

    Raises RateLimitedError (too many ceremonies from this IP in the window).
    """
    if source_ip:
        abuse.reserve(ports.limiter, [(CEREMONIES, source_ip)], now)
    challenge, raw = _new_challenge(ports, AUTHENTICATE, now)
    return Ceremony(
        challenge_id=challenge.id,
        public_key=webauthn.authentication_options(ports.relying_party, challenge=raw, allow=[]),
    )


def verify_assertion(
    ports: PasskeyPorts, challenge_id: str, credential: dict[str, Any], *, now: int, user_id: str | None = None
) -> Passkey:
    """The passkey that signed this sign-in's challenge. ``user_id`` given (the second factor
    after a password): the passkey must be that account's.

    Raises UnauthorizedError ``passkey_invalid`` for every failure alike: an unknown, used or
    expired challenge, an unknown credential, another account's, a bad signature, origin or
    relying party, no user verification, a counter that did not grow, a changed backup
    eligibility, or a lost race on the counter.
    """
    challenge = _take(ports, challenge_id, AUTHENTICATE, now)
    if challenge is None:
        raise webauthn.invalid()
    handle = webauthn.user_handle_of(credential)
    owner = user_id or handle
    if owner is None or (user_id is not None and handle is not None and handle != user_id):
        raise webauthn.invalid()
    passkey = ports.store.get(owner, passkey_id(webauthn.credential_id_of(credential)))
    if passkey is None:
        raise webauthn.invalid()
    checked = webauthn.verify_assertion(
        ports.relying_party,
        credential,
        webauthn.from_b64url(challenge.challenge),
        passkey.public_key,
        passkey.sign_count,
    )
    if checked.backup_eligible != passkey.backup_eligible:
        raise webauthn.invalid()
    if not ports.store.record_use(passkey, checked.new_sign_count, checked.backed_up, _now_iso()):
        raise webauthn.invalid()
    return passkey


def sign_in(
    accounts: AccountPorts,
    ports: PasskeyPorts,
    *,
    challenge_id: str,
    credential: dict[str, Any],
    source_ip: str,
    user_agent: str,
    now: int,
) -> TokenPair:
    """Sign in with a passkey alone: a session exactly like a password login's.

    A failure counts in the IP's
    failed-login window (the account is unknown until the passkey is checked); a suspended
    account is refused. A passkey needs no second factor: it is possession of the device and
    the user's verification on it (PIN or biometrics) in one. The password lockout does not
    apply: it stops password guessing, and a passkey cannot be guessed, so the owner of a
    locked account can still get in with theirs.

    Raises RateLimitedError, UnauthorizedError (``passkey_invalid``, ``inactive``).
    """
    counters = [(accounts.policy.login_ip, source_ip)] if source_ip else []
    abuse.reserve(accounts.limiter, counters, now)
    passkey = verify_assertion(ports, challenge_id, credential, now=now)
    try:
        user = accounts.users.get(passkey.user_id)
    except NotFoundError as exc:
        raise webauthn.invalid() from exc
    abuse.release(accounts.limiter, counters, now)  # proven: not a failure
    if user.status != "active":
        raise UnauthorizedError("The account is not active.", {"reason": "inactive"})
    return start_session(accounts, user, now, client_hints(source_ip, user_agent))
