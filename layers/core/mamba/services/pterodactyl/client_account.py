"""Pterodactyl's client API over the caller's own account: the account object, email and
password changes, API keys, two-factor authentication and the account's activity
(docs/pterodactyl-api.md, "Client API: account").

Each use case calls the service /v1/me calls (``accounts``, ``api_keys``, ``two_factor``,
``audit``), so the same rules hold on both doors: an email or password change needs a login
session, the current password (and a code when 2FA is on); a key's scopes, networks and audit
are a Mamba key's. What Pterodactyl spells differently is translated here:

* a key's ``identifier`` is its public part ending with a dot (``ptlc_<user>.<key id>.``) and
  ``meta.secret_token`` its secret, so ``identifier + secret_token`` is the usable key, as there;
* a key created through this door holds every tenant and account permission (a Pterodactyl
  key acts as its user); created with another key, it holds no more than that key
  (``api_keys.narrow_to_parent``);
* an account has at most 25 live keys created here, as Pterodactyl allows.

Raises what the called services raise, plus TooManyKeysError and TwoFactorStateError (400).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from mamba.domain.accounts import User
from mamba.domain.api_keys import ApiKey, NewKey, display_prefix
from mamba.domain.audit import AuditEntry, AuditFilter, AuditPage
from mamba.domain.errors import DomainError, NotFoundError
from mamba.domain.permissions import ACCOUNT_PERMISSIONS, TENANT_PERMISSIONS
from mamba.domain.pterodactyl import IdRef, Page, filters, iso, item, paged, plain_list
from mamba.ports import PteroIds

MAX_KEYS = 25
KEY_LIST_PAGE = 100
# How far back an activity list reaches (entries read, newest first).
ACTIVITY_WINDOW = 500
ACTIVITY_DAYS = 90  # Pterodactyl prunes its activity logs after 90 days by default
ACTIVITY_PAGES = 10
ACTIVITY_PER_PAGE = 25


class TooManyKeysError(DomainError):
    """Pterodactyl's DisplayException for the 26th key."""

    status = 400


class TwoFactorStateError(DomainError):
    """2FA is already on (enrol) or off (disable): a 400 in Pterodactyl."""

    status = 400


def door_scopes() -> list[str]:
    """What a key made through Pterodactyl's door may do: what its user may do in their
    tenants and on their account (never ``admin.*``: the application API has its own keys)."""
    return sorted({*TENANT_PERMISSIONS, *ACCOUNT_PERMISSIONS})


# --- the account --------------------------------------------------------------------------


def account_item(user: User, ref: IdRef, record: Mapping[str, Any] | None) -> dict[str, Any]:
    """``GET /api/client/account``: Pterodactyl's ``user`` (AccountTransformer), with the same
    username, names and language the application API shows for the account
    (``services.pterodactyl.users``: its Pterodactyl record, else values made from the account)."""
    from mamba.services.pterodactyl.users import attributes

    shown = attributes(user, ref, record)
    return item(
        "user",
        {
            "id": shown["id"],
            "admin": user.is_admin,
            "username": shown["username"],
            "email": user.email,
            "first_name": shown["first_name"],
            "last_name": shown["last_name"],
            "language": shown["language"],
        },
    )


def user_ref(ids: PteroIds, user_id: str) -> IdRef:
    return ids.number("user", user_id)


# --- API keys -----------------------------------------------------------------------------


class KeyLister(Protocol):
    def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> Any: ...


def identifier(key: ApiKey) -> str:
    """The key's public part in Pterodactyl's sense: ``identifier + secret_token`` is the key."""
    return display_prefix(key.user_id, key.id, key.key_format) + "."


def key_id_of(reference: str) -> str:
    """The Mamba key id from an identifier (``ptlc_<user>.<id>.``) or the bare id."""
    parts = [p for p in reference.strip().split(".") if p]
    if not parts:
        raise NotFoundError("The requested resource could not be found on the server.", {"key": reference})
    return parts[1] if len(parts) >= 2 else parts[0]


def key_item(key: ApiKey) -> dict[str, Any]:
    return item(
        "api_key",
        {
            "identifier": identifier(key),
            "description": key.name,
            "allowed_ips": list(key.allowed_ips),
            "last_used_at": iso(key.last_used_at) if key.last_used_at else None,
            "created_at": iso(key.created_at),
        },
    )


def live(key: ApiKey, now: float) -> bool:
    return key.revoked_at is None and not key.is_application and (key.expires_at is None or key.expires_at > now)


def live_keys(repo: KeyLister, user_id: str, now: float) -> list[ApiKey]:
    """Every live (not revoked, not expired) key of the user, newest first."""
    found: list[ApiKey] = []
    cursor: str | None = None
    while True:
        page = repo.list_for_user(user_id, KEY_LIST_PAGE, cursor)
        found += [k for k in page.items if live(k, now)]
        cursor = page.next_cursor
        if not cursor:
            return found


def key_list(keys: list[ApiKey]) -> dict[str, Any]:
    """``GET /api/client/account/api-keys``: not paged, as Pterodactyl."""
    return plain_list([key_item(k) for k in keys])


def check_room(keys: list[ApiKey]) -> None:
    if len(keys) >= MAX_KEYS:
        raise TooManyKeysError("You have reached the account limit for number of API keys.", {"limit": MAX_KEYS})


def created_key(new: NewKey) -> dict[str, Any]:
    """``POST /api/client/account/api-keys``: the key with ``meta.secret_token`` (shown once)."""
    body = key_item(new.key)
    body["meta"] = {"secret_token": new.plaintext[len(identifier(new.key)) :]}
    return body


def description_of(description: str | None) -> str:
    """Mamba names every key; Pterodactyl's description may be empty."""
    text = (description or "").strip()
    return text or "Pterodactyl API key"


# --- two-factor ---------------------------------------------------------------------------


def require_two_factor(enabled: bool, wanted: bool) -> None:
    if enabled != wanted:
        raise TwoFactorStateError(
            "Two-factor authentication is already enabled on this account."
            if enabled
            else "Two-factor authentication is not enabled on this account.",
            {"enabled": enabled},
        )


def enrolment_body(secret: str, otpauth_uri: str) -> dict[str, Any]:
    return {"data": {"image_url_data": otpauth_uri, "secret": secret}}


def recovery_tokens(codes: list[str]) -> dict[str, Any]:
    return item("recovery_tokens", {"tokens": list(codes)})


# --- activity -----------------------------------------------------------------------------


class AuditReader(Protocol):
    def list(
        self, tenant_id: str | None, filters: AuditFilter, limit: int, cursor: str | None, security: bool = ...
    ) -> AuditPage: ...


@dataclass(frozen=True)
class Activity:
    """One entry of an activity list, whatever log it comes from."""

    id: str
    event: str
    timestamp: str
    properties: Mapping[str, Any]
    ip: str | None
    is_api: bool
    actor_id: str | None


def activity_item(entry: Activity, viewer_id: str, viewer_is_admin: bool) -> dict[str, Any]:
    """Pterodactyl's ``activity_log``: the ip only for the actor themselves or an admin."""
    shows_ip = viewer_is_admin or (entry.actor_id is not None and entry.actor_id == viewer_id)
    return item(
        "activity_log",
        {
            "id": entry.id,
            "batch": None,
            "event": entry.event,
            "is_api": entry.is_api,
            "ip": entry.ip if shows_ip else None,
            "description": None,
            "properties": dict(entry.properties),
            "has_additional_metadata": False,
            "timestamp": iso(entry.timestamp),
        },
    )


def activity_page(
    entries: list[Activity], query: Mapping[str, str], viewer_id: str, viewer_is_admin: bool, base_url: str = ""
) -> dict[str, Any]:
    """A paged activity list (``filter[event]`` partial, ``sort=timestamp|-timestamp``,
    default newest first, per_page default 25)."""
    page = Page.from_query(query, default=ACTIVITY_PER_PAGE)
    wanted = filters(query, ("event",)).get("event")
    kept = [e for e in entries if wanted is None or wanted.lower() in e.event.lower()]
    kept.sort(key=lambda e: e.timestamp, reverse=(query.get("sort") or "-timestamp").strip() != "timestamp")
    return paged([activity_item(e, viewer_id, viewer_is_admin) for e in page.slice(kept)], page, len(kept), base_url)


def from_audit(entry: AuditEntry) -> Activity:
    return Activity(
        id=entry.id,
        event=entry.action,
        timestamp=entry.at,
        properties={k: v for k, v in entry.details.items() if k not in ("secret", "password")},
        ip=entry.ip,
        is_api=entry.actor_via in ("api_key", "service_account"),
        actor_id=entry.actor_id,
    )


def account_activity(log: AuditReader, user_id: str, now: datetime) -> list[Activity]:
    """The account's own entries of the platform log (what it did outside tenants), newest
    first: at most ``ACTIVITY_WINDOW`` of them, from the last ``ACTIVITY_DAYS`` days.

    The platform log is one partition for every account, with no index by actor, so the read is
    bounded by entries *looked at* (``ACTIVITY_PAGES`` pages of 100), not by entries found: on a
    busy platform an account sees its recent activity, never a Scan of the whole log."""
    from mamba.services.audit import stamp

    since = stamp(now - timedelta(days=ACTIVITY_DAYS))
    wanted = AuditFilter(actor_id=user_id, since=since)
    found: list[Activity] = []
    cursor: str | None = None
    for _ in range(ACTIVITY_PAGES):
        page = log.list(None, wanted, 100, cursor)
        found += [from_audit(e) for e in page.items]
        cursor = page.next_cursor
        if not cursor or len(found) >= ACTIVITY_WINDOW:
            break
    return found[:ACTIVITY_WINDOW]
