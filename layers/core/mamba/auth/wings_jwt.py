"""The JWTs Wings accepts (wings-contract.md §3), minted with PyJWT.

Every token is HS256 keyed with the node's ``token`` (the raw string), with the reference
panel's claims (§3.2): ``iss`` = the panel URL, ``aud`` = the node's connection address,
``jti`` = ``md5(user_id . server_uuid)`` (also in the header), integer ``iat``, ``nbf`` =
``iat`` - 5 min and ``exp``, a random 16-character ``unique_id``, ``user_uuid``, and the
space-separated ``scope`` that newer Wings and Pelican require (§9). ``user_id`` is never
sent: Wings decodes it as an integer and our user ids are strings.

* websocket (10 min): ``server_uuid`` and ``permissions`` mapped from the caller's panel
  permissions (``websocket_permissions``); revoked through ``POST .../ws/deny`` with the same
  ``jti``, which is why it is derived from the user and the server, not random;
* file download (15 min): ``server_uuid`` and ``file_path``;
* file upload (15 min): ``server_uuid``.

Signed-URL tokens are one-shot on the node through ``unique_id``.

PyJWT is imported inside the functions: this module is reachable from doors and must not
cost the cold start.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

WEBSOCKET_LIFETIME = 10 * 60
SIGNED_URL_LIFETIME = 15 * 60
NOT_BEFORE_SKEW = 5 * 60
UNIQUE_ID_LENGTH = 16
_ALPHABET = string.ascii_letters + string.digits

SCOPE_WEBSOCKET = "websocket"
SCOPE_FILE_UPLOAD = "file-upload"
SCOPE_FILE_DOWNLOAD = "file-download"

# Panel permission → the Wings websocket permissions it grants (§3.3). ``websocket.connect``
# is added for anyone who gets a token at all (``servers.console``).
_WEBSOCKET_GRANTS: dict[str, tuple[str, ...]] = {
    "servers.console": ("control.console",),
    "servers.power": ("control.start", "control.stop", "control.restart"),
    "backups.read": ("backup.read",),
}
ADMIN_WEBSOCKET = ("admin.websocket.errors", "admin.websocket.install", "admin.websocket.transfer")


@dataclass(frozen=True)
class NodeKey:
    """What a token needs to know about the node it is for."""

    token: str  # the node token: the HMAC key
    address: str  # the node's connection address ({scheme}://{fqdn}:{port}): the audience


def jti_for(user_id: str, server_uuid: str) -> str:
    """``md5(user_id . server_uuid)`` like the reference panel: the same for every token of
    one user on one server, so ``ws/deny`` can revoke them all."""
    return hashlib.md5(f"{user_id}{server_uuid}".encode(), usedforsecurity=False).hexdigest()


def unique_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(UNIQUE_ID_LENGTH))


def websocket_permissions(panel_permissions: Iterable[str], *, platform_admin: bool = False) -> list[str]:
    """The Wings permissions of a websocket token: ``websocket.connect``, then what the
    caller's role grants (console, power, backup events); a platform admin also sees install
    and transfer output and real error texts. Never ``*``: the list says exactly what is allowed."""
    held = set(panel_permissions)
    granted = ["websocket.connect"]
    for permission, wings in _WEBSOCKET_GRANTS.items():
        if permission in held:
            granted.extend(wings)
    if platform_admin:
        granted.extend(ADMIN_WEBSOCKET)
    return granted


def _mint(
    node: NodeKey,
    *,
    issuer: str,
    user_id: str,
    server_uuid: str,
    scope: str,
    lifetime: int,
    extra: dict[str, Any],
    now: int | None,
) -> str:
    from mamba.auth.hmac_jwt import jwt

    issued = int(time.time()) if now is None else int(now)
    jti = jti_for(user_id, server_uuid)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": node.address,
        "jti": jti,
        "iat": issued,
        "nbf": issued - NOT_BEFORE_SKEW,
        "exp": issued + lifetime,
        "unique_id": unique_id(),
        "user_uuid": user_id,
        "server_uuid": server_uuid,
        "scope": scope,
        **extra,
    }
    return jwt.encode(claims, node.token, algorithm="HS256", headers={"jti": jti})


def websocket_token(
    node: NodeKey,
    *,
    issuer: str,
    user_id: str,
    server_uuid: str,
    permissions: list[str],
    now: int | None = None,
) -> str:
    """A console token (10 minutes). ``permissions`` come from ``websocket_permissions``."""
    return _mint(
        node,
        issuer=issuer,
        user_id=user_id,
        server_uuid=server_uuid,
        scope=SCOPE_WEBSOCKET,
        lifetime=WEBSOCKET_LIFETIME,
        extra={"permissions": list(permissions)},
        now=now,
    )


def download_token(
    node: NodeKey, *, issuer: str, user_id: str, server_uuid: str, path: str, now: int | None = None
) -> str:
    """A one-shot ``GET /download/file`` token (15 minutes) for ``path`` (already normalised)."""
    return _mint(
        node,
        issuer=issuer,
        user_id=user_id,
        server_uuid=server_uuid,
        scope=SCOPE_FILE_DOWNLOAD,
        lifetime=SIGNED_URL_LIFETIME,
        extra={"file_path": path},
        now=now,
    )


def upload_token(node: NodeKey, *, issuer: str, user_id: str, server_uuid: str, now: int | None = None) -> str:
    """A one-shot ``POST /upload/file`` token (15 minutes)."""
    return _mint(
        node,
        issuer=issuer,
        user_id=user_id,
        server_uuid=server_uuid,
        scope=SCOPE_FILE_UPLOAD,
        lifetime=SIGNED_URL_LIFETIME,
        extra={},
        now=now,
    )
