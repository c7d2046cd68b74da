"""Outgoing webhooks in the main table (``mamba.services.webhooks``; docs/data-model.md).

* ``TENANT#<tid>/WEBHOOK#<wid>``: a webhook, its secret encrypted with the panel's KMS key
  (bound to the tenant and webhook by the encryption context: the panel must read it back to
  sign, so a hash would not do). Listed by one Query on the tenant's partition.
* ``TENANT#<tid>/WEBHOOKS``: how many the tenant has; every add and delete is a transaction
  with it, so the limit holds under concurrent creates.
* ``WEBHOOK#<wid>/DELIVERY#<did>``: one event on its way. While it waits for an attempt it is
  on the due-list, gsi1 ``WEBHOOKS_DUE#<shard>`` / ``<due epoch>#<did>`` (sparse: a finished
  delivery drops its gsi1 keys). Expires 30 days after it was made.
* ``WEBHOOKLOG#<tid>#<wid>/<at ms>#<did>#<attempt>``: one attempt, for the delivery log (newest
  first); the tenant is part of the key, so another tenant's webhook id reads nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, Cancellation, get_or_none, translate
from mamba.adapters.dynamo.items import MainItem
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.domain.errors import ConflictError, NotFoundError, WebhookLimitError
from mamba.domain.events import Event
from mamba.domain.pages import Page, PageRequest
from mamba.domain.webhooks import KEEP_SECONDS, Attempt, Delivery, Webhook
from mamba.ports import TokenCipher

_UNAVAILABLE = "The webhook could not be saved; try again."


class WebhookItem(MainItem):
    webhook_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    url = UnicodeAttribute()
    events = ListAttribute(of=UnicodeAttribute, default=list)
    enabled = BooleanAttribute(default=True)
    description = UnicodeAttribute(default="")
    secret_cipher = UnicodeAttribute()
    secret_hint = UnicodeAttribute(default="")
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    failing_since = NumberAttribute(null=True)
    disabled_reason = UnicodeAttribute(null=True)
    disabled_at = UnicodeAttribute(null=True)


class WebhookCountItem(MainItem):
    webhooks = NumberAttribute(default=0)


class WebhookDeliveryItem(MainItem):
    delivery_id = UnicodeAttribute()
    webhook_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    event = UnicodeAttribute()  # the Event as JSON
    created_at = NumberAttribute()
    status = UnicodeAttribute(default="pending")
    attempts = NumberAttribute(default=0)
    next_attempt_at = NumberAttribute(null=True)


class WebhookAttemptItem(MainItem):
    delivery_id = UnicodeAttribute()
    webhook_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    attempt = NumberAttribute()
    at = NumberAttribute()
    outcome = UnicodeAttribute()
    status_code = NumberAttribute(null=True)
    duration_ms = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    response_excerpt = UnicodeAttribute(default="")
    next_attempt_at = NumberAttribute(null=True)


def _context(tenant_id: str, webhook_id: str) -> dict[str, str]:
    return {"purpose": "webhook-secret", "tenant_id": tenant_id, "webhook_id": webhook_id}


def _webhook(item: WebhookItem) -> Webhook:
    return Webhook(
        id=item.webhook_id,
        tenant_id=item.tenant_id,
        url=item.url,
        events=tuple(str(e) for e in item.events or ()),
        enabled=bool(item.enabled),
        created_at=item.created_at,
        updated_at=item.updated_at,
        description=item.description or "",
        secret_hint=item.secret_hint or "",
        failing_since=None if item.failing_since is None else int(item.failing_since),
        disabled_reason=item.disabled_reason,
    )


def _delivery(item: WebhookDeliveryItem) -> Delivery:
    return Delivery(
        id=item.delivery_id,
        webhook_id=item.webhook_id,
        tenant_id=item.tenant_id,
        event=Event.from_dict(json.loads(item.event)),
        created_at=int(item.created_at),
        status=item.status,  # type: ignore[arg-type]
        attempts=int(item.attempts or 0),
        next_attempt_at=None if item.next_attempt_at is None else int(item.next_attempt_at),
    )


def _attempt(item: WebhookAttemptItem) -> Attempt:
    return Attempt(
        delivery_id=item.delivery_id,
        webhook_id=item.webhook_id,
        tenant_id=item.tenant_id,
        event_id=item.event_id,
        event_type=item.event_type,
        attempt=int(item.attempt),
        at=int(item.at),
        outcome=item.outcome,  # type: ignore[arg-type]
        status_code=None if item.status_code is None else int(item.status_code),
        duration_ms=int(item.duration_ms or 0),
        error=item.error,
        response_excerpt=item.response_excerpt or "",
        next_attempt_at=None if item.next_attempt_at is None else int(item.next_attempt_at),
    )


def _not_found(webhook_id: str) -> NotFoundError:
    return NotFoundError("Webhook not found.", {"webhook_id": webhook_id})


class DynamoWebhookRepository:
    def __init__(self, cipher: Callable[[], TokenCipher], codec: CursorCodec) -> None:
        # The KMS cipher is made on first use: the delivery schedule runs every minute and, with
        # nothing due, reads only the due-list (no KMS client for it to build).
        self._cipher = cipher
        self._codec = codec

    # --- webhooks -------------------------------------------------------------------------------

    def of_tenant(self, tenant_id: str) -> list[Webhook]:
        pk, _ = keys.webhook(tenant_id, "")
        with translate(unavailable="The webhooks could not be read; try again."):
            found = WebhookItem.query(pk, WebhookItem.sk.startswith(keys.WEBHOOK_PREFIX))
            return sorted((_webhook(item) for item in found), key=lambda w: (w.created_at, w.id))

    def _item(self, tenant_id: str, webhook_id: str) -> WebhookItem:
        with translate(unavailable="The webhook could not be read; try again."):
            item = get_or_none(WebhookItem, *keys.webhook(tenant_id, webhook_id), consistent_read=True)
        if item is None or item.kind != "webhook":
            raise _not_found(webhook_id)
        return item

    def get(self, tenant_id: str, webhook_id: str) -> Webhook:
        return _webhook(self._item(tenant_id, webhook_id))

    def secret(self, webhook: Webhook) -> str:
        item = self._item(webhook.tenant_id, webhook.id)
        return self._cipher().decrypt(item.secret_cipher, _context(webhook.tenant_id, webhook.id))

    def _to_item(self, webhook: Webhook, secret_cipher: str) -> WebhookItem:
        return WebhookItem(
            *keys.webhook(webhook.tenant_id, webhook.id),
            kind="webhook",
            webhook_id=webhook.id,
            tenant_id=webhook.tenant_id,
            url=webhook.url,
            events=list(webhook.events),
            enabled=webhook.enabled,
            description=webhook.description,
            secret_cipher=secret_cipher,
            secret_hint=webhook.secret_hint,
            created_at=webhook.created_at,
            updated_at=webhook.updated_at,
            failing_since=webhook.failing_since,
            disabled_reason=webhook.disabled_reason,
        )

    def add(self, webhook: Webhook, secret: str, limit: int) -> None:
        """Raises WebhookLimitError when the tenant has ``limit`` already."""
        cipher = self._cipher().encrypt(secret, _context(webhook.tenant_id, webhook.id))
        counter = WebhookCountItem(*keys.webhook_count(webhook.tenant_id))

        def refused(cancelled: Cancellation) -> WebhookLimitError | None:
            if cancelled.failed(1):
                return WebhookLimitError(
                    f"A tenant can have at most {limit} webhooks; delete one first.", {"limit": limit}
                )
            return None

        with translate(on_cancel=refused, unavailable=_UNAVAILABLE):
            with TransactWrite(connection=_connection()) as tx:
                tx.save(self._to_item(webhook, cipher), condition=WebhookItem.pk.does_not_exist())
                # Counted in the same transaction: two concurrent creates cannot both pass the limit.
                tx.update(
                    counter,
                    actions=[WebhookCountItem.webhooks.add(1), WebhookCountItem.kind.set("webhook_count")],
                    condition=WebhookCountItem.webhooks.does_not_exist() | (WebhookCountItem.webhooks < limit),
                )

    def save(self, webhook: Webhook) -> None:
        """Replace the webhook's settings (not its secret); NotFoundError when it is gone."""
        pk, sk = keys.webhook(webhook.tenant_id, webhook.id)
        with translate(on_condition=_not_found(webhook.id), unavailable=_UNAVAILABLE):
            WebhookItem(pk, sk).update(
                actions=[
                    WebhookItem.url.set(webhook.url),
                    WebhookItem.events.set(list(webhook.events)),  # type: ignore[arg-type]
                    WebhookItem.enabled.set(webhook.enabled),
                    WebhookItem.description.set(webhook.description),
                    WebhookItem.updated_at.set(webhook.updated_at),
                    WebhookItem.failing_since.set(webhook.failing_since)
                    if webhook.failing_since is not None
                    else WebhookItem.failing_since.remove(),
                    WebhookItem.disabled_reason.set(webhook.disabled_reason)
                    if webhook.disabled_reason
                    else WebhookItem.disabled_reason.remove(),
                ],
                condition=WebhookItem.pk.exists(),
            )

    def set_secret(self, webhook: Webhook, secret: str) -> None:
        pk, sk = keys.webhook(webhook.tenant_id, webhook.id)
        cipher = self._cipher().encrypt(secret, _context(webhook.tenant_id, webhook.id))
        with translate(on_condition=_not_found(webhook.id), unavailable=_UNAVAILABLE):
            WebhookItem(pk, sk).update(
                actions=[
                    WebhookItem.secret_cipher.set(cipher),
                    WebhookItem.secret_hint.set(webhook.secret_hint),
                    WebhookItem.updated_at.set(webhook.updated_at),
                ],
                condition=WebhookItem.pk.exists(),
            )

    def delete(self, tenant_id: str, webhook_id: str) -> None:
        counter = WebhookCountItem(*keys.webhook_count(tenant_id))
        with translate(on_condition=_not_found(webhook_id), unavailable="The webhook could not be deleted; try again."):
            with TransactWrite(connection=_connection()) as tx:
                tx.delete(WebhookItem(*keys.webhook(tenant_id, webhook_id)), condition=WebhookItem.pk.exists())
                tx.update(counter, actions=[WebhookCountItem.webhooks.add(-1)])

    def mark_failing(self, webhook: Webhook, since: int | None) -> None:
        """Start (``since``) or end (None) the webhook's run of failures; a deleted one is skipped."""
        pk, sk = keys.webhook(webhook.tenant_id, webhook.id)
        action = WebhookItem.failing_since.set(since) if since is not None else WebhookItem.failing_since.remove()
        with translate(on_condition=SKIP, unavailable=_UNAVAILABLE):
            WebhookItem(pk, sk).update(actions=[action], condition=WebhookItem.pk.exists())

    def disable(self, webhook: Webhook, reason: str, now: str) -> bool:
        """Disable it if it is still enabled: True for the one call that did (it mails the owners)."""
        pk, sk = keys.webhook(webhook.tenant_id, webhook.id)
        with translate(on_condition=SKIP, unavailable=_UNAVAILABLE) as outcome:
            WebhookItem(pk, sk).update(
                actions=[
                    WebhookItem.enabled.set(False),
                    WebhookItem.disabled_reason.set(reason),
                    WebhookItem.disabled_at.set(now),
                    WebhookItem.updated_at.set(now),
                    WebhookItem.failing_since.set(webhook.failing_since or 0),
                ],
                condition=WebhookItem.pk.exists() & (WebhookItem.enabled == True),  # noqa: E712 - a pynamodb condition
            )
        return not outcome.condition_failed

    # --- deliveries -----------------------------------------------------------------------------

    def add_delivery(self, delivery: Delivery) -> bool:
        """Record a new delivery on the due-list; False when it exists (a repeated event)."""
        due = delivery.next_attempt_at if delivery.next_attempt_at is not None else delivery.created_at
        gsi_pk, gsi_sk = keys.webhook_due(delivery.id, due)
        item = WebhookDeliveryItem(
            *keys.webhook_delivery(delivery.webhook_id, delivery.id),
            kind="webhook_delivery",
            gsi1pk=gsi_pk,
            gsi1sk=gsi_sk,
            ttl=delivery.created_at + KEEP_SECONDS,
            delivery_id=delivery.id,
            webhook_id=delivery.webhook_id,
            tenant_id=delivery.tenant_id,
            event=json.dumps(delivery.event.to_dict(), separators=(",", ":")),
            created_at=delivery.created_at,
            status=delivery.status,
            attempts=delivery.attempts,
            next_attempt_at=due,
        )
        with translate(on_condition=SKIP, unavailable="The webhook delivery could not be recorded.") as outcome:
            item.save(condition=WebhookDeliveryItem.pk.does_not_exist())
        return not outcome.condition_failed

    def due(self, now: int, limit: int) -> list[Delivery]:
        """Deliveries whose attempt is due, oldest first, across the due-list's partitions."""
        found: list[Delivery] = []
        upper = f"{now:012d}#~"
        with translate(unavailable="The due webhook deliveries could not be read."):
            for shard in range(keys.WEBHOOK_DUE_SHARDS):
                for item in WebhookDeliveryItem.gsi1.query(
                    keys.webhook_due_partition(shard), WebhookDeliveryItem.gsi1sk <= upper, limit=limit
                ):
                    found.append(_delivery(item))  # type: ignore[arg-type]
        found.sort(key=lambda d: (d.next_attempt_at or 0, d.id))
        return found[:limit]

    def claim(self, delivery: Delivery, lease_until: int) -> bool:
        """Take the delivery's next attempt: only if nobody made it meanwhile (its attempt
        count unchanged, still pending). Its due time moves to the lease's end, so if this
        sender dies, a later run takes it over."""
        gsi_pk, gsi_sk = keys.webhook_due(delivery.id, lease_until)
        with translate(on_condition=SKIP, unavailable="The webhook delivery could not be claimed.") as outcome:
            WebhookDeliveryItem(*keys.webhook_delivery(delivery.webhook_id, delivery.id)).update(
                actions=[
                    WebhookDeliveryItem.attempts.set(delivery.attempts + 1),
                    WebhookDeliveryItem.next_attempt_at.set(lease_until),
                    WebhookDeliveryItem.gsi1pk.set(gsi_pk),
                    WebhookDeliveryItem.gsi1sk.set(gsi_sk),
                ],
                condition=(WebhookDeliveryItem.status == "pending")
                & (WebhookDeliveryItem.attempts == delivery.attempts),
            )
        return not outcome.condition_failed

    def finish(self, delivery: Delivery) -> None:
        """Store the delivery's state after an attempt: back on the due-list at its next attempt,
        or off it (succeeded or failed for good)."""
        actions: list[Any] = [
            WebhookDeliveryItem.status.set(delivery.status),
            WebhookDeliveryItem.attempts.set(delivery.attempts),
        ]
        if delivery.status == "pending" and delivery.next_attempt_at is not None:
            gsi_pk, gsi_sk = keys.webhook_due(delivery.id, delivery.next_attempt_at)
            actions += [
                WebhookDeliveryItem.next_attempt_at.set(delivery.next_attempt_at),
                WebhookDeliveryItem.gsi1pk.set(gsi_pk),
                WebhookDeliveryItem.gsi1sk.set(gsi_sk),
            ]
        else:
            actions += [
                WebhookDeliveryItem.next_attempt_at.remove(),
                WebhookDeliveryItem.gsi1pk.remove(),
                WebhookDeliveryItem.gsi1sk.remove(),
            ]
        with translate(on_condition=SKIP, unavailable="The webhook delivery could not be updated."):
            WebhookDeliveryItem(*keys.webhook_delivery(delivery.webhook_id, delivery.id)).update(
                actions=actions, condition=WebhookDeliveryItem.pk.exists()
            )

    def redeliver(self, tenant_id: str, webhook_id: str, delivery_id: str, now: int) -> Delivery:
        """Put a finished delivery of the tenant's webhook back on the due-list, due now, with a
        fresh retry window. NotFoundError (no such delivery of this tenant), ConflictError (it
        is still waiting for an attempt)."""
        gsi_pk, gsi_sk = keys.webhook_due(delivery_id, now)
        item = WebhookDeliveryItem(*keys.webhook_delivery(webhook_id, delivery_id))
        with translate(on_condition=SKIP, unavailable="The delivery could not be queued again; try again.") as outcome:
            item.update(
                actions=[
                    WebhookDeliveryItem.status.set("pending"),
                    WebhookDeliveryItem.attempts.set(0),
                    WebhookDeliveryItem.created_at.set(now),
                    WebhookDeliveryItem.next_attempt_at.set(now),
                    WebhookDeliveryItem.gsi1pk.set(gsi_pk),
                    WebhookDeliveryItem.gsi1sk.set(gsi_sk),
                    WebhookDeliveryItem.ttl.set(now + KEEP_SECONDS),
                ],
                # Only the tenant's own delivery, and only once it has ended (a waiting one would
                # lose its place and its attempt count).
                condition=WebhookDeliveryItem.pk.exists()
                & (WebhookDeliveryItem.tenant_id == tenant_id)
                & (WebhookDeliveryItem.status != "pending"),
            )
        if outcome.condition_failed:
            with translate(unavailable="The delivery could not be read; try again."):
                found = get_or_none(WebhookDeliveryItem, *keys.webhook_delivery(webhook_id, delivery_id))
            if found is None or found.tenant_id != tenant_id:
                raise NotFoundError("Delivery not found.", {"delivery_id": delivery_id})
            raise ConflictError("This delivery is still waiting for its next attempt.", {"delivery_id": delivery_id})
        return _delivery(item)

    # --- the delivery log -------------------------------------------------------------------------

    def add_attempt(self, attempt: Attempt) -> None:
        pk, sk = keys.webhook_attempt(
            attempt.tenant_id, attempt.webhook_id, attempt.at, attempt.delivery_id, attempt.attempt
        )
        item = WebhookAttemptItem(
            pk,
            sk,
            kind="webhook_attempt",
            ttl=attempt.at // 1000 + KEEP_SECONDS,
            delivery_id=attempt.delivery_id,
            webhook_id=attempt.webhook_id,
            tenant_id=attempt.tenant_id,
            event_id=attempt.event_id,
            event_type=attempt.event_type,
            attempt=attempt.attempt,
            at=attempt.at,
            outcome=attempt.outcome,
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            error=attempt.error,
            response_excerpt=attempt.response_excerpt,
            next_attempt_at=attempt.next_attempt_at,
        )
        with translate(unavailable="The webhook attempt could not be recorded."):
            item.save()

    def attempts(self, tenant_id: str, webhook_id: str, page: PageRequest) -> Page[Attempt]:
        with translate(unavailable="The delivery log could not be read; try again."):
            items, cursor = query_page(
                self._codec,
                WebhookAttemptItem.query,
                keys.webhook_log(tenant_id, webhook_id),
                scope=f"webhook-log:{tenant_id}:{webhook_id}",
                page=page,
                scan_index_forward=False,
            )
        return Page(items=[_attempt(item) for item in items], next_cursor=cursor)


def _connection() -> Any:
    return MainItem._get_connection().connection
