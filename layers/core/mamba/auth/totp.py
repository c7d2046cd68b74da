"""TOTP (RFC 6238) over HMAC-SHA1, 30-second steps, 6 digits: what authenticator apps use."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
# Accept the neighbouring steps too: phone clocks drift, and a code typed at the end of its
# window must still work.
WINDOW = 1


def new_secret() -> str:
    """160 random bits, base32 without padding (the form authenticator apps read)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _decode(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def code_at(secret: str, counter: int) -> str:
    """HOTP (RFC 4226) for ``counter``."""
    digest = hmac.new(_decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def counter_for(timestamp: float) -> int:
    return int(timestamp // STEP_SECONDS)


def verify(secret: str, code: str, *, now: float | None = None, last_counter: int | None = None) -> int | None:
    """Return the matching time step, or None. A step at or before ``last_counter`` is
    refused, so a code cannot be replayed within its window."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = counter_for(time.time() if now is None else now)
    for counter in range(current - WINDOW, current + WINDOW + 1):
        if last_counter is not None and counter <= last_counter:
            continue
        if hmac.compare_digest(code_at(secret, counter), code):
            return counter
    return None


def provisioning_uri(secret: str, account: str, issuer: str = "Mamba Host Panel") -> str:
    query = urlencode({"secret": secret, "issuer": issuer, "digits": DIGITS, "period": STEP_SECONDS})
    return f"otpauth://totp/{quote(issuer)}:{quote(account)}?{query}"
