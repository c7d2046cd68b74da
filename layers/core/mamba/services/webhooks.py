"""A tenant's outgoing webhooks: manage them, fan events out to them, deliver with retries
(docs/webhooks.md; the rules are in ``mamba.domain.webhooks``).

Nothing here runs on the API path but the management calls: ``fan_out`` runs in the events
queue's consumer and only records a due delivery per subscribed webhook (one Query and one
conditional put each, never a POST), and ``deliver_due`` runs on a one-minute schedule (every
few seconds locally), POSTs each due delivery and records the attempt. The due deliveries are
a sparse index in DynamoDB (the "due-list"): a delivery leaves it when it succeeds or fails for
good, and moves along it by its next attempt's time after a retryable failure.

Each attempt is claimed first (a conditional write on its attempt number, with a short lease),
so two senders never POST the same attempt, and a sender that dies mid-attempt leaves it to
the next run once the lease ends. A receiver still sees an attempt twice if the sender dies
after the POST and before recording it: ``Mamba-Event-Id`` is there for that.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from mamba.auth.context import TenantContext
from mamba.domain import webhooks as rules
from mamba.domain.clock import iso
from mamba.domain.errors import DomainError, ForbiddenError, NotFoundError, WebhookUrlRefusedError
from mamba.domain.events import Event
from mamba.domain.pages import Page, PageRequest
from mamba.domain.webhooks import Attempt, Delivery, Response, Webhook
from mamba.observability import logger
from mamba.ports import HostResolver, Mailer, RateLimiter


class WebhookRepository(Protocol):
    """``DynamoWebhookRepository``: webhooks under their tenant (the secret encrypted with KMS),
    their deliveries with the due-list, and the attempt log."""

    def of_tenant(self, tenant_id: str) -> list[Webhook]: ...
    def get(self, tenant_id: str, webhook_id: str) -> Webhook: ...
    def secret(self, webhook: Webhook) -> str: ...
    def add(self, webhook: Webhook, secret: str, limit: int) -> None: ...
    def save(self, webhook: Webhook) -> None: ...
    def set_secret(self, webhook: Webhook, secret: str) -> None: ...
    def delete(self, tenant_id: str, webhook_id: str) -> None: ...
    def mark_failing(self, webhook: Webhook, since: int | None) -> None: ...
    def disable(self, webhook: Webhook, reason: str, now: str) -> bool: ...
    def add_delivery(self, delivery: Delivery) -> bool: ...
    def due(self, now: int, limit: int) -> list[Delivery]: ...
    def claim(self, delivery: Delivery, lease_until: int) -> bool: ...
    def finish(self, delivery: Delivery) -> None: ...
    def redeliver(self, tenant_id: str, webhook_id: str, delivery_id: str, now: int) -> Delivery: ...
    def add_attempt(self, attempt: Attempt) -> None: ...
    def attempts(self, tenant_id: str, webhook_id: str, page: PageRequest) -> Page[Attempt]: ...


class WebhookSender(Protocol):
    """``HttpWebhookSender``: one POST to one of ``addresses`` (already checked), the URL's
    host kept for TLS and ``Host``; never follows a redirect; answers what happened."""

    def post(self, request: rules.Request, addresses: list[str]) -> Response: ...


@dataclass
class WebhookPorts:
    repo: WebhookRepository
    sender: WebhookSender
    resolver: HostResolver | None
    # Made on first use (the SES client): only a run that disables a webhook mails.
    mailer: Callable[[], Mailer]
    # The tenant's owners to mail: (email, mail language).
    owners: Callable[[str], list[tuple[str, str]]]
    public_url: str
    # Local mode only: http URLs, and a receiver on this machine (loopback), are allowed.
    allow_http: bool = False
    allow_loopback: bool = False
    now: Callable[[], int] = lambda: int(time.time())
    rand: random.Random | None = None
    # Counts "send test" per tenant (rules.TESTS_PER_HOUR); None: not limited.
    limiter: RateLimiter | None = None


def _manageable(tenant: TenantContext) -> None:
    # A webhook sees every server's events: a binding scoped to one server may not manage them.
    if tenant.server_scope is not None:
        raise ForbiddenError("Webhooks belong to the whole tenant; a member bound to one server cannot use them.")


def _check_url(ports: WebhookPorts, url: str) -> rules.Target:
    target = rules.parse_url(url, allow_http=ports.allow_http)
    _addresses(ports, target)
    return target


def _addresses(ports: WebhookPorts, target: rules.Target) -> list[str]:
    """The public addresses ``target`` stands for now (WebhookUrlRefusedError otherwise)."""
    if target.literal is not None:
        found = [target.literal]
    elif ports.resolver is None:
        raise WebhookUrlRefusedError(
            "The panel cannot resolve host names here.", {"field": "url", "reason": "unresolvable"}
        )
    else:
        found = list(ports.resolver.resolve(target.host, target.port))
    return rules.check_addresses(target, found, allow_loopback=ports.allow_loopback)


# --- management (the API) ----------------------------------------------------------------------


def create_webhook(
    ports: WebhookPorts,
    tenant: TenantContext,
    *,
    url: str,
    events: list[str],
    enabled: bool = True,
    description: str | None = None,
) -> tuple[Webhook, str]:
    """A new webhook and its secret (returned here only). Raises ValidationError (events,
    description), WebhookUrlRefusedError (the URL), WebhookLimitError (10 a tenant)."""
    _manageable(tenant)
    chosen = rules.check_events(events)
    text = rules.check_description(description)
    _check_url(ports, url)
    now = iso_now(ports)
    secret = rules.new_secret()
    webhook = Webhook(
        id=f"wh_{uuid.uuid4().hex[:20]}",
        tenant_id=tenant.tenant_id,
        url=url,
        events=chosen,
        enabled=enabled,
        created_at=now,
        updated_at=now,
        description=text,
        secret_hint=rules.hint(secret),
    )
    ports.repo.add(webhook, secret, rules.MAX_PER_TENANT)
    return webhook, secret


def iso_now(ports: WebhookPorts) -> str:
    from datetime import UTC, datetime

    return iso(datetime.fromtimestamp(ports.now(), UTC))


def list_webhooks(ports: WebhookPorts, tenant: TenantContext) -> list[Webhook]:
    _manageable(tenant)  # reading too: a webhook's URL can carry a credential
    return ports.repo.of_tenant(tenant.tenant_id)


def get_webhook(ports: WebhookPorts, tenant: TenantContext, webhook_id: str) -> Webhook:
    """Raises NotFoundError (also for another tenant's webhook)."""
    _manageable(tenant)
    return ports.repo.get(tenant.tenant_id, webhook_id)


def update_webhook(
    ports: WebhookPorts,
    tenant: TenantContext,
    webhook_id: str,
    *,
    url: str | None = None,
    events: list[str] | None = None,
    enabled: bool | None = None,
    description: str | None = None,
) -> Webhook:
    """Change what is given. Enabling a webhook the panel disabled starts its failure count afresh."""
    _manageable(tenant)
    current = ports.repo.get(tenant.tenant_id, webhook_id)
    changed = current
    if url is not None and url != current.url:
        _check_url(ports, url)
        changed = replace(changed, url=url)
    if events is not None:
        changed = replace(changed, events=rules.check_events(events))
    if description is not None:
        changed = replace(changed, description=rules.check_description(description))
    if enabled is not None and enabled != current.enabled:
        changed = replace(changed, enabled=enabled)
        if enabled:
            changed = replace(changed, failing_since=None, disabled_reason=None)
    if changed == current:
        return current
    changed = replace(changed, updated_at=iso_now(ports))
    ports.repo.save(changed)
    return changed


def rotate_secret(ports: WebhookPorts, tenant: TenantContext, webhook_id: str) -> tuple[Webhook, str]:
    """A new secret (returned here only); the old one stops signing at once."""
    _manageable(tenant)
    current = ports.repo.get(tenant.tenant_id, webhook_id)
    secret = rules.new_secret()
    changed = replace(current, secret_hint=rules.hint(secret), updated_at=iso_now(ports))
    ports.repo.set_secret(changed, secret)
    return changed, secret


def delete_webhook(ports: WebhookPorts, tenant: TenantContext, webhook_id: str) -> None:
    """Deletes it; its pending deliveries end at their next attempt (their webhook is gone)."""
    _manageable(tenant)
    ports.repo.delete(tenant.tenant_id, webhook_id)


def send_test(ports: WebhookPorts, tenant: TenantContext, webhook_id: str) -> Delivery:
    """Queue a ``webhook.test`` delivery (sent by the next delivery run, within a minute; a
    disabled webhook is tested too, so a fixed endpoint can be checked before enabling it).
    Raises RateLimitedError after ``TESTS_PER_HOUR`` tests of the tenant in an hour."""
    _manageable(tenant)
    webhook = ports.repo.get(tenant.tenant_id, webhook_id)
    now = ports.now()
    _count_manual_send(ports, tenant, now)
    event = Event(
        id=f"evt_test_{uuid.uuid4().hex}",
        type=rules.TEST_EVENT,
        occurred_at=iso_now(ports),
        tenant_id=tenant.tenant_id,
        payload={"webhook_id": webhook.id, "message": "This is a test delivery from Mamba Host Panel."},
    )
    delivery = Delivery(
        id=rules.delivery_id(webhook.id, event.id),
        webhook_id=webhook.id,
        tenant_id=tenant.tenant_id,
        event=event,
        created_at=now,
        next_attempt_at=now,
    )
    ports.repo.add_delivery(delivery)
    return delivery


def redeliver(ports: WebhookPorts, tenant: TenantContext, webhook_id: str, delivery_id: str) -> Delivery:
    """Send a delivery that ended (delivered, or failed for good) again: the same event, its id
    unchanged (a receiver that has it drops the repeat), with a fresh 24-hour retry window.
    Raises NotFoundError, ConflictError (it is still waiting), RateLimitedError (with tests,
    ``TESTS_PER_HOUR`` a tenant and hour)."""
    _manageable(tenant)
    ports.repo.get(tenant.tenant_id, webhook_id)
    now = ports.now()
    _count_manual_send(ports, tenant, now)
    return ports.repo.redeliver(tenant.tenant_id, webhook_id, delivery_id, now)


def _count_manual_send(ports: WebhookPorts, tenant: TenantContext, now: int) -> None:
    if ports.limiter is not None:
        from mamba.domain.ratelimit import Limit
        from mamba.services import abuse

        abuse.count(ports.limiter, Limit("webhook-test", rules.TESTS_PER_HOUR, 3600), tenant.tenant_id, now)


def deliveries(ports: WebhookPorts, tenant: TenantContext, webhook_id: str, page: PageRequest) -> Page[Attempt]:
    """The webhook's attempts, newest first (kept 30 days). NotFoundError for an unknown webhook."""
    _manageable(tenant)
    found = ports.repo.attempts(tenant.tenant_id, webhook_id, page)
    if not found.items and page.cursor is None:
        ports.repo.get(tenant.tenant_id, webhook_id)  # an empty log, or no such webhook (404)?
    return found


# --- fan-out (the events consumer) ---------------------------------------------------------------


def fan_out(ports: WebhookPorts, event: Event) -> int:
    """Record a due delivery of ``event`` for each of its tenant's enabled webhooks that
    subscribed to its type; returns how many were new. A repeated event (same id) makes none:
    the delivery's id comes from the webhook and the event. Platform events go to no webhook."""
    if not event.tenant_id or event.type == rules.TEST_EVENT:
        return 0
    now = ports.now()
    made = 0
    for webhook in ports.repo.of_tenant(event.tenant_id):
        if not webhook.wants(event.type):
            continue
        delivery = Delivery(
            id=rules.delivery_id(webhook.id, event.id),
            webhook_id=webhook.id,
            tenant_id=event.tenant_id,
            event=event,
            created_at=now,
            next_attempt_at=now,
        )
        if ports.repo.add_delivery(delivery):
            made += 1
    return made


# --- delivery (the schedule) ---------------------------------------------------------------------


@dataclass
class RunSummary:
    attempted: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    disabled: int = 0


def deliver_due(ports: WebhookPorts, *, limit: int = 100, budget_seconds: float = 40.0, workers: int = 8) -> RunSummary:
    """POST every delivery whose attempt is due (at most ``limit``), ``workers`` at a time so one
    slow receiver does not hold the others back; no attempt starts after ``budget_seconds``, so a
    run ends before its function's timeout (an attempt takes 15 s at most). The rest wait for the
    next run."""
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    due = ports.repo.due(ports.now(), limit)

    def one(delivery: Delivery) -> RunSummary:
        part = RunSummary()
        if time.monotonic() - started > budget_seconds:
            return part
        try:
            if deliver(ports, delivery, part) is not None:
                part.attempted += 1
        except DomainError:
            # DynamoDB, KMS or SES busy: its claim's lease ends and a later run tries again.
            logger.warning("webhook delivery deferred", extra={"delivery_id": delivery.id}, exc_info=True)
        except Exception:  # noqa: BLE001 - logged with its trace; one bad delivery must not stop the run
            # A bug: end this delivery rather than retry it every lease, and go on with the others.
            logger.exception("webhook delivery failed unexpectedly", extra={"delivery_id": delivery.id})
            ports.repo.finish(replace(delivery, status="failed", next_attempt_at=None))
            part.failed += 1
        return part

    summary = RunSummary()
    if not due:
        return summary
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(due)))) as pool:
        for part in pool.map(one, due):
            for name in ("attempted", "succeeded", "retrying", "failed", "disabled"):
                setattr(summary, name, getattr(summary, name) + getattr(part, name))
    return summary


def deliver(ports: WebhookPorts, delivery: Delivery, summary: RunSummary | None = None) -> Attempt | None:
    """Make the delivery's next attempt, if this sender wins its claim; records the attempt,
    reschedules or ends the delivery, and disables a webhook failing for 3 days."""
    summary = summary or RunSummary()
    now = ports.now()
    try:
        webhook = ports.repo.get(delivery.tenant_id, delivery.webhook_id)
    except NotFoundError:
        ports.repo.finish(replace(delivery, status="failed", next_attempt_at=None))
        return None
    if not webhook.enabled and delivery.event.type != rules.TEST_EVENT:
        ports.repo.finish(replace(delivery, status="failed", next_attempt_at=None))
        return None
    if not ports.repo.claim(delivery, now + rules.LEASE_SECONDS):
        return None  # another sender has it
    number = delivery.attempts + 1
    claimed = replace(delivery, attempts=number)
    response = _post(ports, webhook, claimed.event, now)
    at = now * 1000
    if rules.succeeded(response):
        outcome: rules.Outcome = "succeeded"
        finished = replace(claimed, status="succeeded", next_attempt_at=None)
        summary.succeeded += 1
        if webhook.failing_since is not None:
            ports.repo.mark_failing(webhook, None)
    else:
        retry_at = rules.schedule_retry(claimed, now, response, ports.rand) if rules.retryable(response) else None
        outcome = "retrying" if retry_at is not None else "failed"
        finished = replace(claimed, status="pending" if retry_at else "failed", next_attempt_at=retry_at)
        if retry_at is not None:
            summary.retrying += 1
        else:
            summary.failed += 1
        if claimed.event.type != rules.TEST_EVENT:  # a failed test is not the endpoint failing events
            _count_failure(ports, webhook, now, summary)
    attempt = Attempt(
        delivery_id=delivery.id,
        webhook_id=webhook.id,
        tenant_id=webhook.tenant_id,
        event_id=claimed.event.id,
        event_type=claimed.event.type,
        attempt=number,
        at=at,
        outcome=outcome,
        status_code=response.status,
        duration_ms=response.duration_ms,
        error=response.error,
        response_excerpt=response.excerpt,
        next_attempt_at=finished.next_attempt_at,
    )
    ports.repo.add_attempt(attempt)
    ports.repo.finish(finished)
    logger.info(
        "webhook attempt",
        extra={
            "tenant_id": webhook.tenant_id,
            "webhook_id": webhook.id,
            "event_id": claimed.event.id,
            "attempt": number,
            "outcome": outcome,
            "status_code": response.status,
            "error": response.error,
        },
    )
    return attempt


def _post(ports: WebhookPorts, webhook: Webhook, event: Event, now: int) -> Response:
    """One POST, after checking again where the URL points (the address may have changed since
    the webhook was saved): a refused address is a final failure, never a connection."""
    try:
        target = rules.parse_url(webhook.url, allow_http=ports.allow_http)
        addresses = _addresses(ports, target)
    except WebhookUrlRefusedError as exc:
        return Response(status=None, duration_ms=0, error=f"refused:{exc.details.get('reason', 'address')}")
    secret = ports.repo.secret(webhook)
    request = rules.request_for(webhook, secret, event, now, ports.public_url)
    return ports.sender.post(request, addresses)


def _count_failure(ports: WebhookPorts, webhook: Webhook, now: int, summary: RunSummary) -> None:
    updated, disable = rules.after_failure(webhook, now)
    if disable:
        if ports.repo.disable(updated, "failing", iso_now(ports)):
            summary.disabled += 1
            _mail_owners(ports, updated)
        return
    if webhook.failing_since is None:
        ports.repo.mark_failing(webhook, updated.failing_since)


def _mail_owners(ports: WebhookPorts, webhook: Webhook) -> None:
    """Tell the tenant's owners, each in their mail language (once: only the run that disabled
    it mails). A mail that cannot be sent is logged, not retried: the webhook page shows the
    webhook disabled."""
    from mamba import mail_templates

    for address, language in ports.owners(webhook.tenant_id):
        mail = mail_templates.webhook_disabled(
            ports.public_url, webhook.tenant_id, rules.masked_url(webhook.url), language
        )
        try:
            ports.mailer().send(address, mail.subject, mail.text)
        except DomainError:
            logger.warning("webhook disabled mail not sent", extra={"webhook_id": webhook.id})
