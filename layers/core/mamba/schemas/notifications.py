"""Request and response models of /v1/me/notifications and /v1/me/notification-preferences
(docs/notifications.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mamba.schemas.common import Schema

Severity = Literal["info", "warning", "error"]


class NotificationQuery(Schema):
    unread: bool = Field(default=False, description="Only the unread ones")
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)


class NotificationOut(Schema):
    id: str = Field(description="The event's id (a repeated event is the same notification)")
    type: str = Field(description="The event type, e.g. backup.failed (docs/notifications.md)")
    severity: Severity
    summary: str = Field(description="The event type's one-line English summary")
    occurred_at: str
    created_at: str
    tenant_id: str | None = None
    server_id: str | None = None
    payload: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    read: bool
    read_at: str | None = None


class NotificationList(Schema):
    items: list[NotificationOut]
    next_cursor: str | None = None


class MarkReadIn(Schema):
    ids: list[str] | None = Field(default=None, max_length=100, description="Notifications to mark read")
    all: bool = Field(default=False, description="Mark every unread notification read")


class MarkReadOut(Schema):
    marked: int = Field(description="How many were unread and are read now")
    unread_notifications: int = Field(description="The unread count after the change")


class ChannelsOut(Schema):
    in_app: bool
    email: bool


class EventPreferenceOut(Schema):
    type: str
    severity: Severity
    summary: str
    channels: ChannelsOut


class PreferencesOut(Schema):
    language: Literal["en", "de"] = Field(description="The language of notification mails")
    language_chosen: bool = Field(description="Whether the user chose it (else: the panel's language, or English)")
    panel_language: Literal["en", "de"] | None = Field(default=None, description="The language the panel last ran in")
    events: list[EventPreferenceOut]


class ChannelsIn(Schema):
    in_app: bool | None = None
    email: bool | None = None


class PreferencesIn(Schema):
    language: Literal["en", "de"] | None = Field(default=None, description="The language of notification mails")
    panel_language: Literal["en", "de"] | None = Field(
        default=None, description="The language the panel runs in (the web app reports it); mails use it until chosen"
    )
    channels: dict[str, ChannelsIn] | None = Field(
        default=None, description="Per event type, the channels to turn on (true) or off (false)"
    )
