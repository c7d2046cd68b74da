"""Who receives an event, on which channels, and what a delivered notification is
(docs/notifications.md). Standard library only.

* **Recipients.** A tenant event goes to the tenant's members whose binding holds the event
  type's permission and has not expired; a binding scoped to one server (a subuser) receives
  only that server's events, so nobody hears of a server they cannot see. A platform event
  (``node.down``, ``node.recovered``) goes to the active platform admins only.
* **Channels.** Each user chooses, per event type, ``in_app`` and ``email``. Without a choice
  the catalogue's severity decides: a warning or an error (failures, security events such as a
  new API key) is mailed and shown in-app; a routine success (``info``) is in-app only.
* **Retention.** An in-app notification is kept 90 days (DynamoDB TTL).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from mamba.domain.errors import ValidationError
from mamba.domain.events import CATALOGUE, Event, EventType

IN_APP: Final = "in_app"
EMAIL: Final = "email"
CHANNELS: Final = (IN_APP, EMAIL)
LANGUAGES: Final = ("en", "de")
DEFAULT_LANGUAGE: Final = "en"

RETENTION_SECONDS: Final = 90 * 86400
# How long the "this user was mailed this event" claim is kept: longer than SQS keeps a
# message (4 days by default, 14 at most), so no redelivery can mail twice.
MAIL_CLAIM_SECONDS: Final = 15 * 86400
# POST /v1/me/notifications/read with ids: at most this many in one call.
MAX_READ_IDS: Final = 100


# Types the panel already mails on their own path, with what only that mail has (the invoice's
# payment link goes to the owners in billing's dunning mail): mailing them again by default
# would send the owners two mails. Anyone may still turn email on for them.
MAILED_ELSEWHERE: Final = frozenset({"payment.failed"})


def default_channels(kind: EventType) -> frozenset[str]:
    """Failures and security events by email and in-app; routine successes in-app only."""
    if kind.severity in ("warning", "error") and kind.name not in MAILED_ELSEWHERE:
        return frozenset(CHANNELS)
    return frozenset({IN_APP})


@dataclass(frozen=True)
class Preferences:
    """A user's notification choices: the mail language and, per event type they changed,
    the channels they want (types they never changed follow ``default_channels``).

    The mail language is the one the user chose on the preferences page; until they choose, the
    language they last used the panel in (the web app reports it: ``panel_language``); English
    when neither is known."""

    chosen_language: str | None = None
    panel_language: str | None = None
    channels: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.chosen_language or self.panel_language or DEFAULT_LANGUAGE

    def channels_for(self, event_type: str) -> frozenset[str]:
        chosen = self.channels.get(event_type)
        if chosen is not None:
            return chosen
        kind = CATALOGUE.get(event_type)
        return default_channels(kind) if kind is not None else frozenset()

    def effective(self, audience_platform: bool) -> dict[str, frozenset[str]]:
        """Every event type this user may receive, with its channels (what the API shows)."""
        return {
            name: self.channels_for(name)
            for name, kind in CATALOGUE.items()
            if kind.audience == "tenant" or audience_platform
        }


def _field_error(field_name: str, message: str) -> ValidationError:
    return ValidationError(message, {"fields": [{"field": field_name, "message": message, "type": "value"}]})


def change_preferences(
    current: Preferences,
    *,
    language: str | None = None,
    channels: Mapping[str, Mapping[str, bool]] | None = None,
    panel_language: str | None = None,
) -> Preferences:
    """The preferences after a PATCH: ``channels`` maps an event type to ``{"in_app": bool,
    "email": bool}`` (a channel left out keeps its current value); ``language`` is the user's
    choice, ``panel_language`` the language the panel runs in.

    Raises ValidationError naming an unknown language, event type or channel."""
    for name, value in (("language", language), ("panel_language", panel_language)):
        if value is not None and value not in LANGUAGES:
            raise _field_error(name, f"The language must be one of {', '.join(LANGUAGES)}.")
    merged = dict(current.channels)
    for event_type, wanted in (channels or {}).items():
        if event_type not in CATALOGUE:
            raise _field_error(f"channels.{event_type}", f"{event_type} is not an event type.")
        unknown = sorted(set(wanted) - set(CHANNELS))
        if unknown:
            raise _field_error(f"channels.{event_type}", f"Unknown channel(s): {', '.join(unknown)}.")
        on = set(current.channels_for(event_type))
        for channel, enabled in wanted.items():
            (on.add if enabled else on.discard)(channel)
        merged[event_type] = frozenset(on)
    return Preferences(
        chosen_language=language or current.chosen_language,
        panel_language=panel_language or current.panel_language,
        channels=merged,
    )


@dataclass(frozen=True)
class Binding:
    """What the recipient rule reads of a membership."""

    user_id: str
    permissions: frozenset[str]
    server_id: str | None = None
    expires_at: int | None = None


def receives(binding: Binding, event: Event, now: int) -> bool:
    """Whether this member gets this tenant event: an unexpired binding holding the type's
    permission; a server-scoped binding only for that server's events."""
    kind = CATALOGUE.get(event.type)
    if kind is None or kind.audience != "tenant":
        return False
    if binding.expires_at is not None and binding.expires_at <= now:
        return False
    if kind.permission not in binding.permissions:
        return False
    if binding.server_id is not None:
        return event.server_id == binding.server_id
    return True


@dataclass(frozen=True)
class Recipient:
    user_id: str
    email: str
    name: str | None = None
    # Mail goes only to a verified address of an active account.
    mailable: bool = True


@dataclass(frozen=True)
class Notification:
    """One in-app notification: the event as its recipient sees it. ``id`` is the event id,
    so a repeated event is the same notification."""

    id: str
    type: str
    occurred_at: str
    created_at: str
    tenant_id: str | None = None
    server_id: str | None = None
    payload: Mapping[str, object] = field(default_factory=dict)
    read_at: str | None = None

    @classmethod
    def of(cls, event: Event, created_at: str) -> Notification:
        return cls(
            id=event.id,
            type=event.type,
            occurred_at=event.occurred_at,
            created_at=created_at,
            tenant_id=event.tenant_id,
            server_id=event.server_id,
            payload=dict(event.payload),
        )

    @property
    def severity(self) -> str:
        kind = CATALOGUE.get(self.type)
        return kind.severity if kind is not None else "info"

    @property
    def summary(self) -> str:
        kind = CATALOGUE.get(self.type)
        return kind.summary if kind is not None else self.type


def check_read_ids(ids: list[str] | None, all_: bool) -> list[str]:
    """The ids of POST /v1/me/notifications/read: either ``ids`` or ``all``, not both, not neither."""
    if all_ and ids:
        raise _field_error("ids", "Give either ids or all, not both.")
    if not all_ and not ids:
        raise _field_error("ids", "Give the ids to mark as read, or all: true.")
    wanted = list(dict.fromkeys(ids or []))
    if len(wanted) > MAX_READ_IDS:
        raise _field_error("ids", f"At most {MAX_READ_IDS} ids at a time.")
    return wanted
