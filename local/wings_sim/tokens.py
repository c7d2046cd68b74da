"""JWTs as Wings accepts them (wings-contract.md §3): HS256 keyed with the node token, integer dates.

Signed-URL tokens are single-use through ``unique_id`` (remembered 60 minutes); websocket tokens obey
the boot-time and deny-list rules of §3.3/§3.4.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

UNIQUE_ID_TTL = 3600


class TokenError(Exception):
    """The token does not verify (bad signature, malformed, expired); Wings answers 500 on signed URLs."""


class BadSignatureError(TokenError):
    """Signature or structure invalid: on the websocket this is a ``daemon error``, not a ``jwt error``."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse(token: str, key: str, now: float | None = None) -> dict[str, Any]:
    """Verify the signature and ``exp`` (required, an integer, not past); nothing else, like Wings."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise BadSignatureError(str(exc)) from exc
    for name in ("exp", "iat", "nbf"):
        # Go decodes numeric dates into int64: a float fails decoding and the token is rejected.
        if name in claims and not _is_int(claims[name]):
            raise BadSignatureError(f"{name} is not an integer")
    if "exp" not in claims or claims["exp"] < int(now if now is not None else time.time()):
        raise TokenError("jwt: exp claim is invalid")
    return claims


class UniqueIds:
    """``unique_id`` values seen in the last hour; a missing one counts as the empty string (§3.4)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def consume(self, unique_id: Any, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        self._seen = {k: t for k, t in self._seen.items() if now - t < UNIQUE_ID_TTL}
        key = unique_id if isinstance(unique_id, str) else ""
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


class DenyList:
    """``jti`` → the second it was denied; process-global, lost on restart (the boot rule covers that)."""

    def __init__(self) -> None:
        self._denied: dict[str, int] = {}

    def deny(self, jtis: list[str], now: float | None = None) -> None:
        at = int(time.time() if now is None else now)
        for jti in jtis:
            self._denied[jti] = at

    def is_denied(self, jti: Any, iat: int) -> bool:
        # Second precision: a token minted in the same second as the deny is also rejected.
        at = self._denied.get(jti) if isinstance(jti, str) else None
        return at is not None and iat <= at


def websocket_problem(claims: dict[str, Any], boot_time: int, deny: DenyList, now: float | None = None) -> str | None:
    """The ``jwt error`` message for an authenticated websocket token that is no longer usable, else None."""
    now_i = int(time.time() if now is None else now)
    if claims.get("exp", 0) < now_i:
        return "jwt: exp claim is invalid"
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        return "jwt: missing iat claim"
    if iat < boot_time or deny.is_denied(claims.get("jti"), iat):
        return "jwt: created too far in past (denylist)"
    return None


def has_permission(permissions: Any, wanted: str) -> bool:
    """``*`` grants everything except ``admin*`` permissions (§3.3)."""
    if not isinstance(permissions, list):
        return False
    if wanted in permissions:
        return True
    return "*" in permissions and not wanted.startswith("admin")
