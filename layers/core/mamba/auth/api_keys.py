"""API keys: the key format, its parsing (no I/O) and the check the guard makes.

A key is ``mhp_<user_id>.<key_id>.<secret>``:

* ``mhp_`` is the visible prefix (secret scanners and people can tell what leaked);
* the user id and key id let the guard read the key item in the same BatchGetItem as the
  user, without any lookup by secret;
* the secret is 32 random bytes (URL-safe base64). Only its SHA-256 is stored. A key
  has 256 bits of entropy, so a slow password hash would add cost and nothing else,
  and the comparison of hashes is constant-time.

``check_key`` turns the stored item and the presented credential into a ``KeyGrant``
(scopes and servers) or refuses: 401 for a missing, revoked or expired key, another
owner's key or a wrong secret; 403 when the caller's IP is outside the key's CIDRs. It
also records when the key was last used, at most once a minute per key, never failing
the request when that write fails.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mamba.domain.api_keys import KEY_PREFIX, KEY_PREFIXES, ApiKey
from mamba.domain.errors import ForbiddenError, UnauthorizedError

if TYPE_CHECKING:
    from mamba.auth.credentials import Credential
    from mamba.ports import KeyUseRecorder

# Records a key's use: (key id, epoch second, source IP).
RecordUse = Callable[[str, int, str], None]

SECRET_BYTES = 32
HINT_CHARS = 4
# Ids are minted by mamba.domain.clock.new_id (letters, digits and "_"); the secret is
# URL-safe base64. Neither contains ".", which separates the three parts.
_ID = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{43,128}$")
LAST_USED_INTERVAL = 60  # seconds: at most one last-used write per key per minute


@dataclass(frozen=True)
class KeyGrant:
    """What a verified API key may do: the guard intersects it with the route."""

    key_id: str
    scopes: frozenset[str]
    server_ids: frozenset[str]  # empty: every server the owner can reach


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def format_key(user_id: str, key_id: str, secret: str, key_format: str = "mamba") -> str:
    return f"{KEY_PREFIXES.get(key_format, KEY_PREFIX)}{user_id}.{key_id}.{secret}"


def spelling(token: str) -> str | None:
    """The format a presented key is spelled in (``mamba``, ``pterodactyl``, ``application``), or None."""
    for key_format, prefix in KEY_PREFIXES.items():
        if token.startswith(prefix):
            return key_format
    return None


def _invalid() -> UnauthorizedError:
    return UnauthorizedError("The API key is not valid.", {"reason": "invalid"})


def parse_key(token: str) -> tuple[str, str, str]:
    """(user_id, key_id, secret) of a presented key. Raises UnauthorizedError (``invalid``)
    for anything that is not shaped like a key; no I/O."""
    key_format = spelling(token)
    if key_format is None:
        raise _invalid()
    parts = token[len(KEY_PREFIXES[key_format]) :].split(".")
    if len(parts) != 3:
        raise _invalid()
    user_id, key_id, secret = parts
    if not _ID.match(user_id) or not _ID.match(key_id) or not _SECRET.match(secret):
        raise _invalid()
    return user_id, key_id, secret


def ip_allowed(source_ip: str, allowed: Iterable[str]) -> bool:
    """True when ``source_ip`` is inside one of the ``allowed`` networks (IPv4 or IPv6)."""
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return False
    for cidr in allowed:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        if address.version == network.version and address in network:
            return True
    return False


def check_key(
    key_item: ApiKey | None,
    credential: Credential,
    source_ip: str,
    *,
    record_use: RecordUse,
    now: float | None = None,
    not_before: str | None = None,
) -> KeyGrant:
    """Verify a presented API key against its stored record (None: no such key).

    The secret is checked before anything that would tell a caller more (revoked,
    expired), so without the secret every refusal looks the same.

    ``record_use`` writes the key's last use (at most once per ``LAST_USED_INTERVAL``;
    ``recorder`` makes one from the key repository).

    ``not_before`` is the owner's last credential reset (ISO time): a key created before it
    is ``revoked``, whether or not the reset got round to marking it (password reset or
    change, suspension; docs/api-keys-2fa-audit.md).

    Raises UnauthorizedError (``invalid``, ``revoked``, ``expired``) and ForbiddenError
    (``ip_not_allowed``).
    """
    presented = hash_secret(credential.key_secret or "")
    stored = key_item.secret_hash if key_item is not None else ""
    # compare_digest runs even for a missing key, so a missing key and a wrong secret cost the same.
    same = hmac.compare_digest(presented, stored or "0" * len(presented))
    if (
        key_item is None
        or not stored
        or not same
        or key_item.user_id != credential.user_id
        or key_item.id != credential.key_id
    ):
        raise _invalid()
    if key_item.revoked_at or created_before(key_item.created_at, not_before):
        raise UnauthorizedError("This API key was revoked.", {"reason": "revoked"})
    moment = time.time() if now is None else now
    expires_at = key_item.expires_at
    if expires_at is not None and expires_at <= moment:
        raise UnauthorizedError("This API key has expired.", {"reason": "expired"})
    allowed = list(key_item.allowed_ips)
    if allowed and not ip_allowed(source_ip, allowed):
        raise ForbiddenError(
            "This API key may not be used from this address.", {"reason": "ip_not_allowed", "ip": source_ip}
        )
    last_used = key_item.last_used_at
    if last_used is None or moment - last_used >= LAST_USED_INTERVAL:
        record_use(key_item.id, int(moment), source_ip)
    return KeyGrant(key_id=key_item.id, scopes=frozenset(key_item.scopes), server_ids=frozenset(key_item.server_ids))


def created_before(created_at: str | None, reset_at: str | None) -> bool:
    """True when a key created at ``created_at`` predates the credential reset at ``reset_at``
    (both ISO times). Compared as instants, not strings: ``isoformat`` drops a zero
    microsecond. A key whose creation time cannot be read counts as older (refused)."""
    if not reset_at:
        return False
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(created_at)) < datetime.fromisoformat(reset_at)
    except ValueError:
        return True


def recorder(keys: KeyUseRecorder) -> RecordUse:
    """``record_use`` for ``check_key``: writes through ``keys``, best effort (a failed
    last-used write is logged, never answered as an error)."""
    from mamba.observability import logger

    def record_use(key_id: str, epoch: int, source_ip: str) -> None:
        try:
            keys.touch(key_id, epoch, source_ip, LAST_USED_INTERVAL)
        except Exception:  # noqa: BLE001 - bookkeeping must not fail an authorized request
            logger.warning("api key last-used write failed", extra={"key_id": key_id}, exc_info=True)

    return record_use
