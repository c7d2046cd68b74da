"""The caller's in-app notifications and notification preferences (docs/notifications.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain import clock
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, parse_query, route

if TYPE_CHECKING:
    from mamba.domain.notifications import Notification, Preferences
    from mamba.domain.pages import Page
    from mamba.schemas import notifications as schemas
    from mamba.schemas.notifications import MarkReadIn, NotificationList, PreferencesIn, PreferencesOut
    from mamba.services import notifications
else:
    # Built on a route's first call, not at ``import app`` (docs/performance.md).
    notifications = lazy_import("mamba.services.notifications")
    schemas = lazy_import("mamba.schemas.notifications")

bp = Blueprint(__name__)
TAGS = ("notifications",)


def _notification_list(page: Page[Notification]) -> NotificationList:
    return schemas.NotificationList(
        items=[
            schemas.NotificationOut(
                id=n.id,
                type=n.type,
                severity=n.severity,  # type: ignore[arg-type]
                summary=n.summary,
                occurred_at=n.occurred_at,
                created_at=n.created_at,
                tenant_id=n.tenant_id,
                server_id=n.server_id,
                payload=dict(n.payload),  # type: ignore[arg-type]
                read=n.read_at is not None,
                read_at=n.read_at,
            )
            for n in page.items
        ],
        next_cursor=page.next_cursor,
    )


def _preferences(prefs: Preferences, *, platform: bool) -> PreferencesOut:
    from mamba.domain.events import CATALOGUE
    from mamba.domain.notifications import EMAIL, IN_APP

    return schemas.PreferencesOut(
        language=prefs.language,  # type: ignore[arg-type]
        language_chosen=prefs.chosen_language is not None,
        panel_language=prefs.panel_language,  # type: ignore[arg-type]
        events=[
            schemas.EventPreferenceOut(
                type=name,
                severity=CATALOGUE[name].severity,
                summary=CATALOGUE[name].summary,
                channels=schemas.ChannelsOut(in_app=IN_APP in channels, email=EMAIL in channels),
            )
            for name, channels in prefs.effective(audience_platform=platform).items()
        ],
    )


def _user_id(ctx: Ctx) -> str:
    assert ctx.principal is not None  # set by the guard on every non-public route
    return ctx.principal.user_id


@route(
    bp,
    "/v1/me/notifications",
    "GET",
    permission="account.read",
    summary="Your in-app notifications, newest first (kept 90 days); ?unread=true for the unread ones",
    tags=TAGS,
    response_model="notifications:NotificationList",
    query="notifications:NotificationQuery",
)
def list_notifications(ctx: Ctx) -> object:
    query = parse_query(ctx.request, schemas.NotificationQuery)
    page = notifications.list_notifications(
        bootstrap.notification_store(),
        _user_id(ctx),
        PageRequest(limit=query.limit, cursor=query.cursor),
        unread_only=query.unread,
    )
    return _notification_list(page)


@route(
    bp,
    "/v1/me/notifications/read",
    "POST",
    permission="account.write",
    summary="Mark notifications read: the given ids, or all",
    tags=TAGS,
    request_model="notifications:MarkReadIn",
    response_model="notifications:MarkReadOut",
)
def mark_read(ctx: Ctx) -> object:
    from mamba.services import accounts

    body: MarkReadIn = ctx.body
    user_id = _user_id(ctx)
    marked = notifications.mark_read(
        bootstrap.notification_store(), user_id, body.ids, body.all, clock.iso(clock.utcnow())
    )
    unread = accounts.get_profile(bootstrap.accounts().users, user_id).unread_notifications
    return schemas.MarkReadOut(marked=marked, unread_notifications=unread)


@route(
    bp,
    "/v1/me/notification-preferences",
    "GET",
    permission="account.read",
    summary="Which notifications you get in-app and by email, per event type, and the mail language",
    tags=TAGS,
    response_model="notifications:PreferencesOut",
)
def get_preferences(ctx: Ctx) -> object:
    assert ctx.principal is not None
    prefs = notifications.get_preferences(bootstrap.notification_store(), _user_id(ctx))
    return _preferences(prefs, platform=ctx.principal.is_admin)


@route(
    bp,
    "/v1/me/notification-preferences",
    "PATCH",
    permission="account.write",
    summary="Change the channels of event types, or the mail language",
    tags=TAGS,
    request_model="notifications:PreferencesIn",
    response_model="notifications:PreferencesOut",
)
def update_preferences(ctx: Ctx) -> object:
    assert ctx.principal is not None
    body: PreferencesIn = ctx.body
    channels = {name: c.model_dump(exclude_none=True) for name, c in body.channels.items()} if body.channels else None
    prefs = notifications.update_preferences(
        bootstrap.notification_store(),
        _user_id(ctx),
        language=body.language,
        channels=channels,
        panel_language=body.panel_language,
        at=clock.iso(clock.utcnow()),
    )
    return _preferences(prefs, platform=ctx.principal.is_admin)
