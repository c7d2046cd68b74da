"""In-app notifications, notification preferences and the mail claims (``NotificationStore``).

Items (docs/data-model.md):

* ``USER#<uid>/NOTIF#<event id>``: a notification. gsi1 (``NOTIFS#<uid>``, ``<occurred_at>#<event id>``)
  lists them newest first; gsi2 (``UNREAD#<uid>``, same sort key) is sparse and holds only the
  unread ones (``?unread=true``). Expires by TTL after 90 days.
* ``USER#<uid>/NOTIFPREFS``: the user's preferences (language, channels per event type).
* ``NOTIFYEVENT#<event id>/MAILED#<uid>``: the mail channel's claim (TTL), so a redelivered
  event is never mailed twice.

The unread count lives on the user's profile (``UserItem.unread_notifications``): the put of a
notification (conditional on its absence: the in-app dedupe) and the count's +1 are one
transaction, as are a mark-read and its -1, so the count never disagrees with the items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, get_or_none, translate
from mamba.adapters.dynamo.items import MainItem, MembershipItem, UserItem
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.adapters.dynamo.tenants import membership_record
from mamba.adapters.dynamo.users import connection
from mamba.domain.notifications import Binding, Notification, Preferences, Recipient
from mamba.domain.pages import Page, PageRequest

# A transaction holds at most 100 items: 99 notifications and the count.
_READ_CHUNK = 99
# POST .../read {"all": true} marks at most this many in one call (a year's worth for anyone).
_MARK_ALL_LIMIT = 2000


class NotificationItem(MainItem):
    event_id = UnicodeAttribute()
    type = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    created_at = UnicodeAttribute()
    tenant_id = UnicodeAttribute(null=True)
    server_id = UnicodeAttribute(null=True)
    payload = UnicodeAttribute(null=True)  # JSON: flat strings, numbers, booleans
    read_at = UnicodeAttribute(null=True)


class NotificationPrefsItem(MainItem):
    language = UnicodeAttribute(null=True)  # the user's choice
    panel_language = UnicodeAttribute(null=True)  # the language the panel last ran in
    channels = UnicodeAttribute(null=True)  # JSON: {event type: [channel, ...]}
    updated_at = UnicodeAttribute(null=True)


class MailClaimItem(MainItem):
    created_at = UnicodeAttribute(null=True)


def notification_record(item: NotificationItem) -> Notification:
    payload = json.loads(item.payload) if item.payload else {}
    return Notification(
        id=item.event_id,
        type=item.type,
        occurred_at=item.occurred_at,
        created_at=item.created_at,
        tenant_id=item.tenant_id,
        server_id=item.server_id,
        payload=payload if isinstance(payload, dict) else {},
        read_at=item.read_at,
    )


class DynamoNotificationStore:
    def __init__(self, cursors: CursorCodec) -> None:
        self.cursors = cursors

    # --- who receives ----------------------------------------------------------------

    def bindings(self, tenant_id: str) -> list[Binding]:
        with translate(unavailable="The tenant's members could not be read; try again."):
            found = MembershipItem.query(
                keys.tenant_partition(tenant_id),
                MembershipItem.sk.startswith(keys.MEMBER_PREFIX),
                consistent_read=True,
            )
            members = [membership_record(item) for item in found]
        return [
            Binding(m.user_id, m.effective_permissions, server_id=m.server_id, expires_at=m.expires_at) for m in members
        ]

    def recipients(self, user_ids: Sequence[str]) -> dict[str, Recipient]:
        wanted = [keys.user(user_id) for user_id in dict.fromkeys(user_ids)]
        found: dict[str, Recipient] = {}
        attributes = ["user_id", "email", "name", "status", "email_verified"]
        with translate(unavailable="The recipients could not be read; try again."):
            for start in range(0, len(wanted), 100):
                for item in UserItem.batch_get(wanted[start : start + 100], attributes_to_get=attributes):
                    found[item.user_id] = _recipient(item)
        return found

    def platform_admins(self) -> list[Recipient]:
        with translate(unavailable="The platform admins could not be read; try again."):
            # The ALL_USERS partition lists every profile; admins are few, and this runs in the
            # events consumer for node events only (never on a request path).
            found = UserItem.gsi1.query(
                keys.ALL_USERS,
                filter_condition=(UserItem.is_admin == True) & (UserItem.status == "active"),  # noqa: E712
            )
            return [_recipient(item) for item in found]

    # --- preferences -----------------------------------------------------------------

    def preferences(self, user_id: str) -> Preferences:
        with translate(unavailable="The notification preferences could not be read; try again."):
            item = get_or_none(NotificationPrefsItem, *keys.notification_preferences(user_id), consistent_read=True)
        if item is None:
            return Preferences()
        raw = json.loads(item.channels) if item.channels else {}
        return Preferences(
            chosen_language=item.language,
            panel_language=item.panel_language,
            channels={str(k): frozenset(str(c) for c in v) for k, v in raw.items() if isinstance(v, list)},
        )

    def save_preferences(self, user_id: str, preferences: Preferences, at: str) -> None:
        item = NotificationPrefsItem(
            *keys.notification_preferences(user_id),
            kind="notification_preferences",
            language=preferences.chosen_language,
            panel_language=preferences.panel_language,
            channels=json.dumps({k: sorted(v) for k, v in sorted(preferences.channels.items())}),
            updated_at=at,
        )
        with translate(unavailable="The notification preferences could not be saved; try again."):
            item.save()

    # --- notifications ---------------------------------------------------------------

    def add(self, user_id: str, notification: Notification, expires_at: int) -> bool:
        sort = keys.notification_sort(notification.occurred_at, notification.id)
        item = NotificationItem(
            *keys.notification(user_id, notification.id),
            kind="notification",
            gsi1pk=keys.notifications_of_user(user_id),
            gsi1sk=sort,
            gsi2pk=keys.unread_notifications_of_user(user_id),
            gsi2sk=sort,
            ttl=expires_at,
            event_id=notification.id,
            type=notification.type,
            occurred_at=notification.occurred_at,
            created_at=notification.created_at,
            tenant_id=notification.tenant_id,
            server_id=notification.server_id,
            payload=json.dumps(dict(notification.payload), separators=(",", ":")),
        )
        with translate(on_condition=SKIP, unavailable="The notification could not be saved; try again.") as out:
            with TransactWrite(connection=connection()) as tx:
                # The event id is the sort key: a repeated event finds its notification and the
                # whole transaction (the count too) is cancelled, so it is neither stored nor counted twice.
                tx.save(item, condition=NotificationItem.pk.does_not_exist())
                tx.update(
                    UserItem(*keys.user(user_id)),
                    actions=[UserItem.unread_notifications.add(1)],
                    condition=UserItem.pk.exists(),
                )
        return not out.condition_failed

    def listing(self, user_id: str, page: PageRequest, *, unread_only: bool) -> Page[Notification]:
        index: Any = NotificationItem.gsi2 if unread_only else NotificationItem.gsi1
        if unread_only:
            partition, scope = keys.unread_notifications_of_user(user_id), "unread"
        else:
            partition, scope = keys.notifications_of_user(user_id), "all"
        with translate(unavailable="The notifications could not be listed; try again."):
            found, cursor = query_page(
                self.cursors,
                index.query,
                partition,
                scope=f"notifications.{scope}:{user_id}",
                page=page,
                scan_index_forward=False,
            )
        return Page(items=[notification_record(item) for item in found], next_cursor=cursor)

    def mark_read(self, user_id: str, ids: Sequence[str], at: str) -> int:
        changed = 0
        for event_id in ids:
            changed += self._mark_chunk(user_id, [event_id], at)
        return changed

    def mark_all_read(self, user_id: str, at: str) -> int:
        changed = 0
        while changed < _MARK_ALL_LIMIT:
            with translate(unavailable="The notifications could not be marked read; try again."):
                unread = [
                    str(getattr(item, "event_id", ""))
                    for item in NotificationItem.gsi2.query(
                        keys.unread_notifications_of_user(user_id), limit=_READ_CHUNK, attributes_to_get=["event_id"]
                    )
                ]
            if not unread:
                # None left unread: the count is 0 (this also clears what expired unread).
                with translate(on_condition=SKIP, unavailable="The notifications could not be marked read."):
                    UserItem(*keys.user(user_id)).update(
                        actions=[UserItem.unread_notifications.set(0)], condition=UserItem.pk.exists()
                    )
                break
            done = self._mark_chunk(user_id, unread, at)
            if done == 0:
                # The index lags the table (it is eventually consistent): what it still shows
                # is already read; what is left is picked up by the next call.
                break
            changed += done
        return changed

    def _mark_chunk(self, user_id: str, event_ids: list[str], at: str) -> int:
        """One transaction: each still-unread notification read, and the count lowered by as many.
        A notification already read (or gone) cancels it; then each is tried on its own."""
        if len(event_ids) > 1:
            with translate(on_condition=SKIP, unavailable="The notifications could not be marked read.") as out:
                self._mark(user_id, event_ids, at)
            if not out.condition_failed:
                return len(event_ids)
            return sum(self._mark_chunk(user_id, [event_id], at) for event_id in event_ids)
        with translate(on_condition=SKIP, unavailable="The notification could not be marked read.") as out:
            self._mark(user_id, event_ids, at)
        return 0 if out.condition_failed else 1

    def _mark(self, user_id: str, event_ids: list[str], at: str) -> None:
        with TransactWrite(connection=connection()) as tx:
            for event_id in event_ids:
                tx.update(
                    NotificationItem(*keys.notification(user_id, event_id)),
                    actions=[
                        NotificationItem.read_at.set(at),
                        NotificationItem.gsi2pk.remove(),
                        NotificationItem.gsi2sk.remove(),
                    ],
                    # Only an unread notification of this user: marking twice counts once.
                    condition=NotificationItem.pk.exists() & NotificationItem.read_at.does_not_exist(),
                )
            tx.update(
                UserItem(*keys.user(user_id)),
                actions=[UserItem.unread_notifications.add(-len(event_ids))],
                condition=UserItem.pk.exists(),
            )

    def forget(self, user_id: str) -> int:
        pk = keys.notification_preferences(user_id)[0]
        removed = 0
        with translate(unavailable="The notifications could not be deleted; try again."):
            found = list(
                NotificationItem.query(
                    pk, NotificationItem.sk.startswith(keys.NOTIFICATION_PREFIX), attributes_to_get=["pk", "sk"]
                )
            )
            with NotificationItem.batch_write() as batch:
                for item in found:
                    batch.delete(item)
                    removed += 1
                batch.delete(NotificationPrefsItem(*keys.notification_preferences(user_id)))
        return removed

    # --- the mail channel's dedupe ---------------------------------------------------

    def claim_mail(self, event_id: str, user_id: str, expires_at: int) -> bool:
        claim = MailClaimItem(*keys.event_mail_claim(event_id, user_id), kind="mail_claim", ttl=expires_at)
        with translate(on_condition=SKIP, unavailable="The mail could not be claimed; try again.") as out:
            claim.save(condition=MailClaimItem.pk.does_not_exist())
        return not out.condition_failed

    def release_mail(self, event_id: str, user_id: str) -> None:
        with translate(unavailable="The mail claim could not be released."):
            MailClaimItem(*keys.event_mail_claim(event_id, user_id)).delete()


def _recipient(item: Any) -> Recipient:
    return Recipient(
        user_id=item.user_id,
        email=item.email,
        name=item.name,
        mailable=bool(item.email_verified) and (item.status or "active") == "active",
    )
