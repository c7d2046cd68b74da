"""A tenant's outgoing webhooks: create (secret shown once), list, get, change, delete,
rotate the secret, send a test (202: the delivery schedule sends it), and the delivery log."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.domain import webhooks as rules
    from mamba.domain.webhooks import Attempt, Webhook
    from mamba.schemas.webhooks import WebhookCreate, WebhookUpdate
    from mamba.services import webhooks
else:
    webhooks = lazy_import("mamba.services.webhooks")
    rules = lazy_import("mamba.domain.webhooks")

bp = Blueprint(__name__)
TAGS = ("webhooks",)
BASE = "/v1/tenants/{tenant_id}/webhooks"


def _out(webhook: "Webhook", **extra: Any) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "url": rules.masked_url(webhook.url),
        "kind": webhook.kind,
        "events": list(webhook.events),
        "enabled": webhook.enabled,
        "description": webhook.description,
        "secret_hint": webhook.secret_hint,
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
        "failing_since": webhook.failing_since,
        "disabled_reason": webhook.disabled_reason,
        **extra,
    }


def _attempt(attempt: "Attempt") -> dict[str, Any]:
    return {
        "delivery_id": attempt.delivery_id,
        "event_id": attempt.event_id,
        "event_type": attempt.event_type,
        "attempt": attempt.attempt,
        "at": datetime.fromtimestamp(attempt.at / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "outcome": attempt.outcome,
        "status_code": attempt.status_code,
        "duration_ms": attempt.duration_ms,
        "error": attempt.error,
        "response_excerpt": attempt.response_excerpt,
        "next_attempt_at": attempt.next_attempt_at,
    }


@route(
    bp,
    BASE,
    "POST",
    permission="webhooks.manage",
    summary="Create a webhook; its signing secret is in this response only",
    tags=TAGS,
    request_model="webhooks:WebhookCreate",
    response_model="webhooks:WebhookCreated",
    status=201,
)
def create_webhook(ctx: Ctx, tenant_id: str) -> object:
    body: WebhookCreate = ctx.body
    webhook, secret = webhooks.create_webhook(
        bootstrap.webhook_ports(),
        ctx.tenant,
        url=body.url,
        events=body.events,
        enabled=body.enabled,
        description=body.description,
    )
    # The whole URL once, as given (a Discord token included), with the secret.
    return _out(webhook, url=webhook.url, secret=secret)


@route(
    bp,
    BASE,
    "GET",
    permission="webhooks.read",
    summary="The tenant's webhooks, with the event types they can subscribe to",
    tags=TAGS,
    response_model="webhooks:WebhookList",
)
def list_webhooks(ctx: Ctx, tenant_id: str) -> object:
    found = webhooks.list_webhooks(bootstrap.webhook_ports(), ctx.tenant)
    from mamba.domain.events import TENANT_EVENTS

    return {
        "items": [_out(w) for w in found],
        "next_cursor": None,
        "event_types": list(TENANT_EVENTS),
        "limit": rules.MAX_PER_TENANT,
    }


@route(
    bp,
    BASE + "/{webhook_id}",
    "GET",
    permission="webhooks.read",
    summary="One webhook",
    tags=TAGS,
    response_model="webhooks:WebhookOut",
)
def get_webhook(ctx: Ctx, tenant_id: str, webhook_id: str) -> object:
    return _out(webhooks.get_webhook(bootstrap.webhook_ports(), ctx.tenant, webhook_id))


@route(
    bp,
    BASE + "/{webhook_id}",
    "PATCH",
    permission="webhooks.manage",
    summary="Change a webhook's URL, events, description or enabled state",
    tags=TAGS,
    request_model="webhooks:WebhookUpdate",
    response_model="webhooks:WebhookOut",
)
def update_webhook(ctx: Ctx, tenant_id: str, webhook_id: str) -> object:
    body: WebhookUpdate = ctx.body
    changed = webhooks.update_webhook(
        bootstrap.webhook_ports(),
        ctx.tenant,
        webhook_id,
        url=body.url,
        events=body.events,
        enabled=body.enabled,
        description=body.description,
    )
    return _out(changed)


@route(
    bp,
    BASE + "/{webhook_id}",
    "DELETE",
    permission="webhooks.manage",
    summary="Delete a webhook; its pending deliveries are dropped",
    tags=TAGS,
    status=204,
)
def delete_webhook(ctx: Ctx, tenant_id: str, webhook_id: str) -> Response:
    webhooks.delete_webhook(bootstrap.webhook_ports(), ctx.tenant, webhook_id)
    return Response(body="", status_code=204)


@route(
    bp,
    BASE + "/{webhook_id}/secret",
    "POST",
    permission="webhooks.manage",
    summary="Replace the signing secret; the new one is in this response only",
    tags=TAGS,
    response_model="webhooks:WebhookCreated",
)
def rotate_webhook_secret(ctx: Ctx, tenant_id: str, webhook_id: str) -> object:
    webhook, secret = webhooks.rotate_secret(bootstrap.webhook_ports(), ctx.tenant, webhook_id)
    return _out(webhook, secret=secret)


@route(
    bp,
    BASE + "/{webhook_id}/test",
    "POST",
    permission="webhooks.manage",
    summary="Queue a webhook.test delivery; it is sent within a minute and shows in the delivery log",
    tags=TAGS,
    response_model="webhooks:WebhookTestQueued",
    status=202,
)
def test_webhook(ctx: Ctx, tenant_id: str, webhook_id: str) -> object:
    delivery = webhooks.send_test(bootstrap.webhook_ports(), ctx.tenant, webhook_id)
    return {"delivery": {"id": delivery.id, "event_id": delivery.event.id, "status": delivery.status}}


@route(
    bp,
    BASE + "/{webhook_id}/deliveries",
    "GET",
    permission="webhooks.read",
    summary="The webhook's delivery attempts, newest first (kept 30 days)",
    tags=TAGS,
    response_model="webhooks:DeliveryList",
    query=("limit", "cursor"),
)
def list_webhook_deliveries(ctx: Ctx, tenant_id: str, webhook_id: str) -> object:
    page = webhooks.deliveries(bootstrap.webhook_ports(), ctx.tenant, webhook_id, PageRequest.from_query(ctx.query))
    return {"items": [_attempt(a) for a in page.items], "next_cursor": page.next_cursor}


@route(
    bp,
    BASE + "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    "POST",
    permission="webhooks.manage",
    summary="Send a delivery that ended again (the same event and id, a fresh 24-hour retry window)",
    tags=TAGS,
    response_model="webhooks:WebhookTestQueued",
    status=202,
)
def redeliver_webhook_delivery(ctx: Ctx, tenant_id: str, webhook_id: str, delivery_id: str) -> object:
    delivery = webhooks.redeliver(bootstrap.webhook_ports(), ctx.tenant, webhook_id, delivery_id)
    return {"delivery": {"id": delivery.id, "event_id": delivery.event.id, "status": delivery.status}}
