"""The WebAuthn protocol work, done by py_webauthn (docs/dependencies.md): ceremony options,
attestation and assertion checks. Nothing here is hand-written cryptography; this module maps
the library's types and exceptions to the panel's records and errors.

py_webauthn brings cryptography, cbor2 and pyOpenSSL: about 150 ms of imports. It is therefore
imported inside the functions, on the first passkey request, never by ``import app``.

The relying party is the panel itself: its id is the host of ``MAMBA_PUBLIC_URL`` and the only
origin accepted is that URL's origin (``RelyingParty.of``), so a passkey made for the panel
cannot be exercised from another site, and one made elsewhere is refused here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mamba.domain.errors import UnauthorizedError
from mamba.domain.passkeys import CHALLENGE_TTL_SECONDS, PasskeyRejectedError

RP_NAME = "Mamba Host Panel"
TIMEOUT_MS = CHALLENGE_TTL_SECONDS * 1000
PASSKEY_INVALID = "passkey_invalid"


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the panel's host name (never an IP address: browsers refuse those)
    origin: str  # scheme://host[:port] of the panel's pages
    name: str = RP_NAME

    @classmethod
    def of(cls, public_url: str) -> RelyingParty:
        parts = urlsplit(public_url)
        return cls(id=parts.hostname or "", origin=f"{parts.scheme}://{parts.netloc}")


@dataclass(frozen=True)
class NewCredential:
    """A registration the library verified."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    backed_up: bool
    transports: tuple[str, ...]


@dataclass(frozen=True)
class Assertion:
    """A sign-in the library verified against the stored public key and counter."""

    new_sign_count: int
    backup_eligible: bool
    backed_up: bool


def b64url(data: bytes) -> str:
    from webauthn.helpers import bytes_to_base64url

    return str(bytes_to_base64url(data))


def from_b64url(text: str) -> bytes:
    from webauthn.helpers import base64url_to_bytes

    return bytes(base64url_to_bytes(text))


def new_challenge() -> bytes:
    from webauthn.helpers import generate_challenge

    return bytes(generate_challenge())


def registration_options(
    rp: RelyingParty,
    *,
    user_id: str,
    user_name: str,
    display_name: str,
    challenge: bytes,
    exclude: list[str],
) -> dict[str, Any]:
    """``navigator.credentials.create`` options: a discoverable credential (so it can sign in
    alone), user verification required, no attestation asked (the panel trusts no vendor
    list; the passkey itself proves possession), the account's existing passkeys excluded."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_id.encode(),
        user_name=user_name,
        user_display_name=display_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=from_b64url(c)) for c in exclude],
    )
    return dict(json.loads(options_to_json(options)))


def authentication_options(rp: RelyingParty, *, challenge: bytes, allow: list[str]) -> dict[str, Any]:
    """``navigator.credentials.get`` options. ``allow`` empty: any discoverable passkey of this
    panel (the sign-in page knows no account yet, and naming credentials would tell who has one)."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=from_b64url(c)) for c in allow] or None,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return dict(json.loads(options_to_json(options)))


def verify_registration(rp: RelyingParty, credential: dict[str, Any], challenge: bytes) -> NewCredential:
    """Raises PasskeyRejectedError for anything the library refuses (and for a malformed answer)."""
    from webauthn import verify_registration_response
    from webauthn.helpers.exceptions import WebAuthnException
    from webauthn.helpers.structs import CredentialDeviceType

    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
        response = credential.get("response")
        transports = (response.get("transports") if isinstance(response, dict) else None) or []
        if not isinstance(transports, list):
            transports = []
    except (WebAuthnException, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise PasskeyRejectedError(
            "The passkey could not be registered; try again from this panel's page.", {"reason": "invalid"}
        ) from exc
    return NewCredential(
        credential_id=bytes(verified.credential_id),
        public_key=bytes(verified.credential_public_key),
        sign_count=int(verified.sign_count),
        aaguid=str(verified.aaguid),
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=bool(verified.credential_backed_up),
        transports=tuple(str(t) for t in transports if isinstance(t, str))[:8],
    )


def verify_assertion(
    rp: RelyingParty, credential: dict[str, Any], challenge: bytes, public_key: str, sign_count: int
) -> Assertion:
    """Check the signature over the challenge with the stored key, the origin, the relying
    party, user verification and the counter (a counter that does not grow, when either side
    keeps one, is a cloned authenticator or a replay). Raises UnauthorizedError ``passkey_invalid``."""
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException
    from webauthn.helpers.structs import CredentialDeviceType

    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=from_b64url(public_key),
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise invalid() from exc
    return Assertion(
        new_sign_count=int(verified.new_sign_count),
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=bool(verified.credential_backed_up),
    )


def invalid() -> UnauthorizedError:
    return UnauthorizedError("The passkey was not accepted.", {"reason": PASSKEY_INVALID})


def credential_id_of(credential: dict[str, Any]) -> bytes:
    """The raw credential id the browser sent (``rawId``), or UnauthorizedError."""
    try:
        return from_b64url(str(credential["rawId"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise invalid() from exc


def user_handle_of(credential: dict[str, Any]) -> str | None:
    """The account id a discoverable passkey returns (``userHandle``; we registered the user
    id as the handle), or None when the authenticator sent none."""
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    if not isinstance(handle, str) or not handle:
        return None
    try:
        return from_b64url(handle).decode()
    except (ValueError, UnicodeDecodeError):
        return None
