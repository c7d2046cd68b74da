"""API keys of a user: create (the secret is shown once), list, revoke, rotate.

The guard enforces what a key may do (``mamba.auth.api_keys.check_key``); this module
decides what a key may be created with:

* ``scopes`` is a non-empty subset of the permission catalogue (400 naming the unknown
  ones); ``admin.*`` scopes only for platform admins (403);
* ``allowed_ips`` are CIDRs (or single addresses), IPv4 or IPv6;
* ``expires_at`` lies in the future;
* a key cannot mint another key: creating one needs a login session (403
  ``SESSION_REQUIRED`` otherwise), so a leaked key can never be widened into a broader one;
* the account's email must be verified (403 ``EMAIL_NOT_VERIFIED``): an account that has
  not proven its mailbox may be taken over by the mailbox's owner (docs/accounts.md), and
  must not leave behind credentials that outlive that.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from mamba.auth import api_keys as key_format
from mamba.domain.api_keys import ApiKey, KeyPage, NewKey
from mamba.domain.clock import iso, new_id, utcnow
from mamba.domain.errors import (
    ConflictError,
    EmailNotVerifiedError,
    ForbiddenError,
    SessionRequiredError,
    ValidationError,
)
from mamba.domain.permissions import CATALOGUE, is_admin_permission

if TYPE_CHECKING:
    from mamba.ports import EventPublisher
    from mamba.services.emit import KeyDirectory

MAX_NAME_LENGTH = 100
MAX_SCOPES = len(CATALOGUE)
MAX_SERVERS = 100
MAX_CIDRS = 20


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey) -> None:
        """Raises ConflictError when the key id exists."""

    def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> KeyPage:
        """Newest first. Raises ValidationError for a bad cursor."""

    def revoke(self, user_id: str, key_id: str, at: str) -> ApiKey:
        """Mark the key revoked (idempotent). Raises NotFoundError when it does not exist
        or belongs to another user."""

    def touch(self, key_id: str, epoch: int, source_ip: str, min_interval: int) -> None:
        """Record a use unless one was recorded less than ``min_interval`` seconds ago."""

    def revoke_all(self, user_id: str, at: str) -> int:
        """Mark every unrevoked key of the user revoked at ``at``; how many."""

    def get(self, user_id: str, key_id: str) -> ApiKey:
        """Raises NotFoundError when the key does not exist or belongs to another owner."""

    def rotate(self, old: ApiKey, new: ApiKey, old_expires_at: int) -> None:
        """Store ``new`` and end ``old`` at ``old_expires_at`` in one transaction, marking
        ``old`` replaced by ``new``. Raises ConflictError when ``old`` was revoked or rotated
        meanwhile, or changed its expiry."""


def _now() -> str:
    return iso(utcnow())


def _field_error(name: str, message: str, **extra: object) -> ValidationError:
    return ValidationError(message, {"fields": [{"field": name, "message": message}], **extra})


def check_scopes(scopes: list[str], *, is_admin: bool) -> tuple[str, ...]:
    """Sorted, unique scopes. Raises ValidationError (empty, unknown ones named in
    ``details.unknown``) and ForbiddenError (admin scopes for a non-admin)."""
    wanted = sorted(set(scopes))
    if not wanted:
        raise _field_error("scopes", "A key needs at least one scope.")
    unknown = [s for s in wanted if s not in CATALOGUE]
    if unknown:
        raise _field_error("scopes", f"Unknown permissions: {', '.join(unknown)}.", unknown=unknown)
    admin = [s for s in wanted if is_admin_permission(s)]
    if admin and not is_admin:
        raise ForbiddenError("Only platform admins can create keys with admin scopes.", {"scopes": admin})
    return tuple(wanted)


def check_cidrs(cidrs: list[str]) -> tuple[str, ...]:
    """Normalised networks (``10.0.0.7`` → ``10.0.0.7/32``). Raises ValidationError naming the bad ones."""
    if len(cidrs) > MAX_CIDRS:
        raise _field_error("allowed_ips", f"At most {MAX_CIDRS} networks.")
    normalised, bad = [], []
    for cidr in cidrs:
        try:
            normalised.append(str(ipaddress.ip_network(cidr.strip(), strict=False)))
        except ValueError:
            bad.append(cidr)
    if bad:
        raise _field_error("allowed_ips", f"Not an IP network: {', '.join(bad)}.", invalid=bad)
    return tuple(dict.fromkeys(normalised))


def check_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > MAX_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise _field_error("name", f"The name must be 1 to {MAX_NAME_LENGTH} printable characters.")
    return value


def create_key(
    repo: ApiKeyRepository,
    user_id: str,
    *,
    name: str,
    scopes: list[str],
    is_admin: bool,
    via: str,
    email_verified: bool,
    server_ids: list[str] | None = None,
    allowed_ips: list[str] | None = None,
    expires_at: int | None = None,
    now: Callable[[], str] = _now,
    epoch: Callable[[], float] = time.time,
    events: EventPublisher | None = None,
    directory: KeyDirectory | None = None,
    spelled: str = "mamba",
    rights: tuple[tuple[str, str], ...] = (),
    parent: ApiKey | None = None,
) -> NewKey:
    """Create a key for ``user_id``; the plaintext is returned here and nowhere else.

    ``spelled`` is ``mamba`` (``mhp_``) or ``pterodactyl`` (``ptlc_``, the same key in the spelling
    Pterodactyl's tools expect); ``create_application_key`` makes the third kind.

    ``parent`` is the key the caller presented, when Pterodactyl's door lets a key manage keys
    (its tools do, ``POST /api/client/account/api-keys``): the new key is never stronger than it
    (``narrow_to_parent``). Anywhere else a key cannot create keys.

    Raises SessionRequiredError (called with an API key), EmailNotVerifiedError, ForbiddenError
    (admin scopes for a non-admin; scopes, servers or networks beyond the parent key's),
    ValidationError (name, scopes, networks, servers, expiry in the past) and ConflictError.
    """
    if via != "token" and (parent is None or parent.user_id != user_id or parent.is_application):
        raise SessionRequiredError("API keys are created from a login session, not with another key.", {"via": via})
    if via != "token" and parent is not None:
        scopes, server_ids, allowed_ips, expires_at = narrow_to_parent(
            parent, check_scopes(scopes, is_admin=is_admin), server_ids, allowed_ips, expires_at
        )
    if not email_verified:
        raise EmailNotVerifiedError(
            "Verify your email address before creating API keys.", {"reason": "email_not_verified"}
        )
    servers = tuple(dict.fromkeys(s.strip() for s in (server_ids or []) if s.strip()))
    if len(servers) > MAX_SERVERS:
        raise _field_error("server_ids", f"At most {MAX_SERVERS} servers.")
    if expires_at is not None and expires_at <= epoch():
        raise _field_error("expires_at", "The expiry must be in the future.")
    secret = key_format.new_secret()
    key = ApiKey(
        id=new_id("key"),
        user_id=user_id,
        name=check_name(name),
        scopes=() if spelled == "application" else check_scopes(scopes, is_admin=is_admin),
        created_at=now(),
        secret_hash=key_format.hash_secret(secret),
        hint=secret[-key_format.HINT_CHARS :],
        server_ids=servers,
        allowed_ips=check_cidrs(allowed_ips or []),
        expires_at=expires_at,
        key_format=spelled,
        rights=rights,
    )
    repo.add(key)
    if events is not None and directory is not None:
        from mamba.services.emit import api_key_created

        api_key_created(events, directory, key)
    return NewKey(key=key, plaintext=key_format.format_key(user_id, key.id, secret, spelled))


def narrow_to_parent(
    parent: ApiKey,
    scopes: tuple[str, ...],
    server_ids: list[str] | None,
    allowed_ips: list[str] | None,
    expires_at: int | None,
) -> tuple[list[str], list[str], list[str], int | None]:
    """What a key minted with ``parent`` may hold: only scopes the parent has, only its servers
    (all of them when none are asked), only networks inside its networks (its own when none are
    asked), and an expiry no later than its. Otherwise a key could mint a key that escapes it.
    Raises ForbiddenError naming what goes beyond the parent."""
    beyond = sorted(set(scopes) - set(parent.scopes))
    if beyond:
        raise ForbiddenError("A key cannot create a key with scopes it does not hold.", {"scopes": beyond})
    servers = [s for s in (server_ids or []) if s.strip()]
    if parent.server_ids:
        outside = sorted(set(servers) - set(parent.server_ids))
        if outside:
            raise ForbiddenError("A key cannot create a key for servers it is not limited to.", {"servers": outside})
        servers = servers or list(parent.server_ids)
    networks = list(check_cidrs(allowed_ips or []))
    if parent.allowed_ips:
        fences = [ipaddress.ip_network(n) for n in parent.allowed_ips]
        outside = [n for n in networks if not any(_within(ipaddress.ip_network(n), f) for f in fences)]
        if outside:
            raise ForbiddenError("A key cannot allow networks outside its own.", {"allowed_ips": outside})
        networks = networks or list(parent.allowed_ips)
    if parent.expires_at is not None:
        expires_at = parent.expires_at if expires_at is None else min(expires_at, parent.expires_at)
    return list(scopes), servers, networks, expires_at


def _within(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network, fence: ipaddress.IPv4Network | ipaddress.IPv6Network
) -> bool:
    return network.version == fence.version and network.subnet_of(fence)  # type: ignore[arg-type]


def create_application_key(
    repo: ApiKeyRepository,
    user_id: str,
    *,
    name: str,
    rights: dict[str, str],
    is_admin: bool,
    via: str,
    email_verified: bool,
    allowed_ips: list[str] | None = None,
    now: Callable[[], str] = _now,
    events: EventPublisher | None = None,
    directory: KeyDirectory | None = None,
) -> NewKey:
    """A Pterodactyl application key (``ptla_``) of a platform admin: no Mamba scopes (it opens
    nothing under /v1), and per-resource rights on /api/application. Raises ForbiddenError for a
    non-admin, ValidationError for an unknown resource or right, and what ``create_key`` raises."""
    from mamba.domain.pterodactyl import APPLICATION_RESOURCES, RIGHTS

    if not is_admin:
        raise ForbiddenError("Only platform admins can create application keys.", {"reason": "not_admin"})
    unknown = sorted(set(rights) - set(APPLICATION_RESOURCES))
    if unknown:
        raise _field_error("permissions", f"Unknown resources: {', '.join(unknown)}.", unknown=unknown)
    bad = sorted(r for r, v in rights.items() if v not in RIGHTS)
    if bad:
        raise _field_error("permissions", f"A right is one of {', '.join(RIGHTS)}.", invalid=bad)
    granted = tuple(sorted((r, v) for r, v in rights.items() if v != "none"))
    return create_key(
        repo,
        user_id,
        name=name,
        scopes=[],
        is_admin=True,
        via=via,
        email_verified=email_verified,
        allowed_ips=allowed_ips,
        now=now,
        events=events,
        directory=directory,
        spelled="application",
        rights=granted,
    )


def list_application_keys(repo: ApiKeyRepository, user_id: str) -> list[ApiKey]:
    """The caller's application keys, newest first (revoked ones included)."""
    found: list[ApiKey] = []
    cursor: str | None = None
    while True:
        page = repo.list_for_user(user_id, 100, cursor)
        found += [k for k in page.items if k.is_application]
        cursor = page.next_cursor
        if cursor is None:
            return found


def list_keys(repo: ApiKeyRepository, user_id: str, *, limit: int = 50, cursor: str | None = None) -> KeyPage:
    """The user's keys, newest first, revoked ones included (with ``revoked_at``).
    Raises ValidationError for a bad cursor. Application keys are listed with the admin's
    application keys (``list_application_keys``), not here."""
    page = repo.list_for_user(user_id, limit, cursor)
    return KeyPage(items=[k for k in page.items if not k.is_application], next_cursor=page.next_cursor)


def revoke_key(repo: ApiKeyRepository, user_id: str, key_id: str, *, now: Callable[[], str] = _now) -> ApiKey:
    """Revoke one of the user's keys; it stops working on the next request (the guard reads
    the key item on every request). Raises NotFoundError for another user's or an unknown key."""
    return repo.revoke(user_id, key_id, now())


MAX_GRACE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class RotatedKey:
    new: NewKey
    previous: ApiKey  # the old key as it is after the rotation (its ``expires_at`` is the grace's end)


def rotate_key(
    repo: ApiKeyRepository,
    user_id: str,
    key_id: str,
    *,
    grace_seconds: int,
    via: str,
    email_verified: bool,
    now: Callable[[], str] = _now,
    epoch: Callable[[], float] = time.time,
    events: EventPublisher | None = None,
    directory: KeyDirectory | None = None,
) -> RotatedKey:
    """Replace a key with a new secret: the new key has the old one's name, scopes, servers,
    networks and expiry; the old one keeps working for ``grace_seconds`` (0 to 24 h) and then
    stops, so the secret can be rolled out with no downtime. The new key is in this answer only.

    A key can be rotated once (its replacement is rotated next); rotating needs a login
    session, like creating a key. Raises SessionRequiredError, EmailNotVerifiedError,
    ValidationError (grace out of range), NotFoundError (another owner's or an unknown key),
    ConflictError (revoked, expired, already rotated, or changed meanwhile).
    """
    if via != "token":
        raise SessionRequiredError("API keys are rotated from a login session, not with another key.", {"via": via})
    if not email_verified:
        raise EmailNotVerifiedError(
            "Verify your email address before creating API keys.", {"reason": "email_not_verified"}
        )
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise _field_error("grace_seconds", f"The grace period is 0 to {MAX_GRACE_SECONDS} seconds (24 hours).")
    old = repo.get(user_id, key_id)
    moment = epoch()
    if old.revoked_at is not None or old.replaced_by is not None:
        raise ConflictError(
            "This key was revoked or already rotated; rotate its replacement instead.",
            {"key_id": key_id, "replaced_by": old.replaced_by, "reason": "not_active"},
        )
    if old.expires_at is not None and old.expires_at <= moment:
        raise ConflictError("This key has expired; create a new one.", {"key_id": key_id, "reason": "expired"})
    ends = int(moment) + grace_seconds
    old_expires_at = min(ends, old.expires_at) if old.expires_at is not None else ends
    secret = key_format.new_secret()
    fresh = ApiKey(
        id=new_id("key"),
        user_id=user_id,
        name=old.name,
        scopes=old.scopes,
        created_at=now(),
        secret_hash=key_format.hash_secret(secret),
        hint=secret[-key_format.HINT_CHARS :],
        server_ids=old.server_ids,
        allowed_ips=old.allowed_ips,
        expires_at=old.expires_at,
        key_format=old.key_format,
        rights=old.rights,
    )
    repo.rotate(old, fresh, old_expires_at)
    if events is not None and directory is not None:
        from mamba.services.emit import api_key_created

        api_key_created(events, directory, fresh)  # a rotation mints a key like a creation
    return RotatedKey(
        new=NewKey(key=fresh, plaintext=key_format.format_key(user_id, fresh.id, secret, fresh.key_format)),
        previous=replace(old, expires_at=old_expires_at, replaced_by=fresh.id),
    )
