"""Access tokens: HS256 JWTs, 15 minutes, with sub, iat, exp, jti and typ, and ``fid``: the
refresh-token family (login session) the token was issued for, so ``GET /v1/me/sessions`` can
mark the caller's own session. ``fid`` is optional on verification: tokens issued before it
existed stay valid until they expire."""

from __future__ import annotations

import secrets
import time
from typing import Any

from mamba.auth.hmac_jwt import jwt
from mamba.domain.errors import UnauthorizedError

ACCESS_TTL_SECONDS = 15 * 60
ALGORITHM = "HS256"
ACCESS_TYP = "access"


def issue_access(
    user_id: str,
    secret: str,
    *,
    now: int | None = None,
    ttl: int = ACCESS_TTL_SECONDS,
    family_id: str | None = None,
) -> str:
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "sub": user_id,
        "iat": issued,
        "exp": issued + ttl,
        "jti": secrets.token_hex(16),
        "typ": ACCESS_TYP,
    }
    if family_id is not None:
        claims["fid"] = family_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_access(token: str, secret: str) -> dict[str, Any]:
    """Return the claims of a valid access token; UnauthorizedError otherwise.

    Only HS256 is accepted (``algorithms=[...]`` makes PyJWT refuse ``none`` and every
    other algorithm), and the ``typ`` claim must say ``access`` so that no other token we
    sign can stand in for one.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "iat", "exp", "jti", "typ"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise UnauthorizedError("The access token has expired.", {"reason": "expired"}) from exc
    except jwt.PyJWTError as exc:
        raise UnauthorizedError("The access token is invalid.", {"reason": "invalid"}) from exc
    if claims.get("typ") != ACCESS_TYP:
        raise UnauthorizedError("The token is not an access token.", {"reason": "wrong_type"})
    return claims
