"""Passkeys (WebAuthn credentials) of an account, and the one-time challenges of their
ceremonies. Standard library only; the protocol work is ``mamba.auth.webauthn``
(py_webauthn), the use cases ``mamba.services.passkeys`` (docs/passkeys.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mamba.domain.errors import ConflictError, DomainError

MAX_PASSKEYS = 20  # per account: enough for every device a person owns, and a bound on the list
MAX_NAME_LENGTH = 64
CHALLENGE_TTL_SECONDS = 300  # the browser's prompt times out at the same moment (options ``timeout``)

REGISTER = "register"
AUTHENTICATE = "authenticate"


class PasskeyRejectedError(DomainError):
    """The browser's answer to a registration is not a valid new credential for this panel
    (wrong origin or relying party, no user verification, a stale or reused challenge)."""

    status = 400
    code = "PASSKEY_REJECTED"


class PasskeyLimitError(ConflictError):
    code = "PASSKEY_LIMIT"


@dataclass(frozen=True)
class Passkey:
    """One registered credential. ``credential_id`` and ``public_key`` are base64url; the
    private key never leaves the authenticator. ``sign_count`` is the authenticator's counter
    as last seen (0 for authenticators that keep none); ``backup_eligible`` is fixed at
    registration (a synced passkey), ``backed_up`` is the last reported backup state."""

    id: str
    user_id: str
    name: str
    credential_id: str
    public_key: str
    sign_count: int
    created_at: str
    backup_eligible: bool = False
    backed_up: bool = False
    transports: tuple[str, ...] = ()
    aaguid: str | None = None
    last_used_at: str | None = None


@dataclass(frozen=True)
class Challenge:
    """A ceremony's challenge, kept server-side until its answer comes back (one use)."""

    id: str
    purpose: str  # REGISTER or AUTHENTICATE
    challenge: str  # base64url of the random bytes the authenticator signs
    expires_at: int  # epoch seconds
    user_id: str | None = None  # the registering account; None for a sign-in (the passkey names it)


@dataclass(frozen=True)
class Ceremony:
    """What the browser gets: the challenge's id (sent back with the answer) and the options
    for ``navigator.credentials.create/get`` in their JSON form."""

    challenge_id: str
    public_key: dict[str, object]


def passkey_id(credential_id: bytes) -> str:
    """The passkey's id in the panel: derived from the credential id, so a sign-in finds the
    item with one GetItem (credential ids are up to 1023 bytes: too long for a path or a key)."""
    return "pk_" + hashlib.sha256(credential_id).hexdigest()[:32]


def clean_name(name: str) -> str:
    """A passkey's label: printable, trimmed, at most ``MAX_NAME_LENGTH`` characters."""
    text = "".join(ch for ch in name if ch.isprintable()).strip()
    return text[:MAX_NAME_LENGTH].strip()
