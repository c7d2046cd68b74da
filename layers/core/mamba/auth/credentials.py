"""Turn the Authorization header into a verified credential (no I/O for tokens).

``Bearer <jwt>`` is an access token; ``Bearer mhp_...`` is an API key, whose secret is
checked by the guard against the stored hash once the key item has been read (in the
same BatchGetItem as the user and membership).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mamba.auth.tokens import verify_access
from mamba.domain.errors import UnauthorizedError

if TYPE_CHECKING:
    from chalice.app import Request

# Every spelling of an API key (mamba.domain.api_keys.KEY_PREFIXES): Mamba's and Pterodactyl's.
API_KEY_PREFIXES = ("mhp_", "ptlc_", "ptla_")


@dataclass(frozen=True)
class Credential:
    user_id: str
    kind: str  # "token" or "api_key"
    issued_at: int | None = None  # tokens: iat
    key_id: str | None = None  # API keys: the stored key's id
    key_secret: str | None = None  # API keys: the presented secret, checked against the hash
    family_id: str | None = None  # tokens: the login session (refresh family) they belong to, when carried
    key_format: str | None = None  # API keys: how the presented key was spelled (its prefix)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Authentication is required.", {"reason": "missing_credentials"})
    return token.strip()


def resolve(request: Request, jwt_secret: str) -> Credential:
    token = bearer_token(request)
    if token.startswith(API_KEY_PREFIXES):
        from mamba.auth.api_keys import parse_key, spelling

        user_id, key_id, secret = parse_key(token)
        return Credential(user_id=user_id, kind="api_key", key_id=key_id, key_secret=secret, key_format=spelling(token))
    claims = verify_access(token, jwt_secret)
    family = claims.get("fid")
    return Credential(
        user_id=str(claims["sub"]),
        kind="token",
        issued_at=int(claims["iat"]),
        family_id=family if isinstance(family, str) and family else None,
    )
