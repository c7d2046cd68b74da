"""Notifications (docs/notifications.md): the events consumer's delivery to in-app and email,
and the caller's own notifications and preferences.

``deliver`` runs in the events queue consumer, never on a request path. It is safe to run
again for the same event (SQS redelivers, an emitter's retried step publishes the same id):
each in-app notification is stored once per (user, event id) and each mail is claimed once
per (event id, user) before it is sent, so a repeat delivers nothing twice. A failure raises
after what was already delivered stays delivered; the redelivery completes the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mamba.domain.events import CATALOGUE, Event
from mamba.domain.notifications import (
    EMAIL,
    IN_APP,
    MAIL_CLAIM_SECONDS,
    RETENTION_SECONDS,
    Notification,
    Preferences,
    Recipient,
    change_preferences,
    check_read_ids,
    receives,
)
from mamba.domain.pages import Page, PageRequest
from mamba.ports import Mailer, NotificationStore


@dataclass(frozen=True)
class NotifyPorts:
    store: NotificationStore
    mailer: Mailer
    now: Callable[[], int]  # epoch seconds
    iso_now: Callable[[], str]
    public_url: str


@dataclass(frozen=True)
class Delivery:
    """What one ``deliver`` did: recipients, notifications stored, mails sent (repeats not counted)."""

    recipients: int = 0
    in_app: int = 0
    mailed: int = 0


def recipients_of(store: NotificationStore, event: Event, now: int) -> list[Recipient]:
    """Who may receive this event (docs/notifications.md: only members who can see the server)."""
    kind = CATALOGUE.get(event.type)
    if kind is None:
        return []
    if kind.audience == "platform":
        return store.platform_admins()
    if not event.tenant_id:
        return []
    wanted = [b.user_id for b in store.bindings(event.tenant_id) if receives(b, event, now)]
    found = store.recipients(wanted)
    return [found[user_id] for user_id in dict.fromkeys(wanted) if user_id in found]


def deliver(ports: NotifyPorts, event: Event) -> Delivery:
    """Every recipient's in-app notification and mail, per their preferences. An unknown type
    (a newer emitter than this consumer) delivers nothing.

    Raises DependencyUnavailableError (DynamoDB or SES): the record is retried."""
    if event.type not in CATALOGUE:
        return Delivery()
    now = ports.now()
    people = recipients_of(ports.store, event, now)
    stored = mailed = 0
    for person in people:
        prefs = ports.store.preferences(person.user_id)
        channels = prefs.channels_for(event.type)
        if IN_APP in channels:
            notification = Notification.of(event, ports.iso_now())
            stored += ports.store.add(person.user_id, notification, now + RETENTION_SECONDS)
        if EMAIL in channels and person.mailable and _send_mail(ports, event, person, prefs, now):
            mailed += 1
    return Delivery(recipients=len(people), in_app=stored, mailed=mailed)


def _send_mail(ports: NotifyPorts, event: Event, person: Recipient, prefs: Preferences, now: int) -> bool:
    from mamba import notification_mail

    if not ports.store.claim_mail(event.id, person.user_id, now + MAIL_CLAIM_SECONDS):
        return False
    mail = notification_mail.render(event, prefs.language, ports.public_url, person.name)
    try:
        ports.mailer.send(person.email, mail.subject, mail.text)
    except Exception:
        # Not sent: give the claim back so the redelivery mails (and raise, to be redelivered).
        ports.store.release_mail(event.id, person.user_id)
        raise
    return True


# --- the caller's own notifications (GET/POST /v1/me/notifications...) ----------------------


def list_notifications(
    store: NotificationStore, user_id: str, page: PageRequest, *, unread_only: bool
) -> Page[Notification]:
    """Newest first. Raises ValidationError (a bad cursor)."""
    return store.listing(user_id, page, unread_only=unread_only)


def mark_read(store: NotificationStore, user_id: str, ids: list[str] | None, all_: bool, at: str) -> int:
    """Marks the given (or all) of the caller's notifications read; ids of another user's or of
    unknown notifications change nothing. Returns how many changed. Raises ValidationError."""
    wanted = check_read_ids(ids, all_)
    if all_:
        return store.mark_all_read(user_id, at)
    return store.mark_read(user_id, wanted, at)


def get_preferences(store: NotificationStore, user_id: str) -> Preferences:
    return store.preferences(user_id)


def update_preferences(
    store: NotificationStore,
    user_id: str,
    *,
    language: str | None,
    channels: Mapping[str, Mapping[str, bool]] | None,
    at: str,
    panel_language: str | None = None,
) -> Preferences:
    """Raises ValidationError (an unknown language, event type or channel)."""
    current = store.preferences(user_id)
    changed = change_preferences(current, language=language, channels=channels, panel_language=panel_language)
    if changed == current:
        return current  # the web app reports its language on every visit: no write when it is known
    store.save_preferences(user_id, changed, at)
    return changed
