"""Requests and responses of /v1/tenants/{tid}/webhooks (docs/webhooks.md)."""

from typing import Literal

from pydantic import Field

from mamba.schemas.common import EpochTime, Schema


class WebhookCreate(Schema):
    url: str = Field(
        min_length=8,
        max_length=2048,
        description="https only (http in local mode); its host must resolve to public addresses only",
        examples=["https://hooks.example.com/mamba"],
    )
    events: list[str] = Field(min_length=1, max_length=64, examples=[["backup.completed", "backup.failed"]])
    enabled: bool = True
    description: str | None = Field(default=None, max_length=200)


class WebhookUpdate(Schema):
    url: str | None = Field(default=None, min_length=8, max_length=2048)
    events: list[str] | None = Field(default=None, min_length=1, max_length=64)
    enabled: bool | None = Field(default=None, description="Enabling a webhook the panel disabled resets its failures")
    description: str | None = Field(default=None, max_length=200)


class WebhookOut(Schema):
    id: str
    url: str = Field(description="The URL; a Discord webhook's token is shown by its last characters only")
    kind: Literal["json", "discord"] = Field(description="discord: the events are sent as Discord embeds")
    events: list[str]
    enabled: bool
    description: str
    secret_hint: str = Field(description="The last characters of the signing secret")
    created_at: str
    updated_at: str
    failing_since: EpochTime = Field(default=None, description="Since when its deliveries fail (null when healthy)")
    disabled_reason: Literal["failing"] | None = Field(
        default=None, description="failing: the panel disabled it after 3 days of failed deliveries"
    )


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret. Shown once, in this response; store it now.")


class WebhookList(Schema):
    items: list[WebhookOut]
    next_cursor: str | None = None
    event_types: list[str] = Field(description="Every event type a webhook can subscribe to")
    limit: int = Field(description="How many webhooks the tenant may have")


class WebhookTestDelivery(Schema):
    id: str
    event_id: str
    status: Literal["pending"]


class WebhookTestQueued(Schema):
    delivery: WebhookTestDelivery


class DeliveryAttemptOut(Schema):
    delivery_id: str
    event_id: str
    event_type: str
    attempt: int = Field(description="1 for the first attempt of this delivery")
    at: str = Field(description="When the attempt was made")
    outcome: Literal["succeeded", "retrying", "failed"]
    status_code: int | None = Field(default=None, description="The receiver's status; null without an answer")
    duration_ms: int
    error: str | None = Field(
        default=None, description="timeout, connection, tls or refused:<reason> (the address was not public)"
    )
    response_excerpt: str = Field(description="The start of the receiver's answer (500 characters at most)")
    next_attempt_at: EpochTime = Field(default=None, description="When it is tried again (retrying only)")


class DeliveryList(Schema):
    items: list[DeliveryAttemptOut]
    next_cursor: str | None = None
