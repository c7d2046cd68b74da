"""Outgoing webhooks: a tenant's subscriptions to its events, and the rules of their delivery
(docs/webhooks.md). Standard library only.

* **What is sent.** A JSON ``POST`` of the event (``Event.to_dict()``), signed the way Stripe
  signs its own: ``Mamba-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``,
  with ``Mamba-Event-Id`` for the receiver's deduplication (the event's id, the same on every
  attempt). A Discord webhook URL gets Discord's embed instead (``discord_body``).
* **Where.** https only (http in local mode), no credentials in the URL, and every address the
  host resolves to public: the same checks as ``files/pull`` (``mamba.domain.pull_targets``),
  made when the webhook is saved and again before every attempt, against the addresses the
  attempt then connects to.
* **Retries.** A timeout, a connection failure, a 429 or a 5xx is retried with exponential
  backoff and jitter (``next_delay``) until 24 hours after the first attempt; any other answer
  (a 2xx excepted) ends the delivery as failed. A webhook whose deliveries have failed for 3
  days without one success is disabled and its tenant's owners are mailed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from dataclasses import dataclass, field, replace
from typing import Final, Literal
from urllib.parse import urlsplit

from mamba.domain import pull_targets
from mamba.domain.errors import PullUrlRefusedError, ValidationError, WebhookUrlRefusedError
from mamba.domain.events import CATALOGUE, TENANT_EVENTS, Event

MAX_PER_TENANT: Final = 10
MAX_DESCRIPTION: Final = 200
SIGNATURE_HEADER: Final = "Mamba-Signature"
EVENT_ID_HEADER: Final = "Mamba-Event-Id"
EVENT_TYPE_HEADER: Final = "Mamba-Event-Type"
USER_AGENT: Final = "MambaHostPanel-Webhooks/1"
SECRET_PREFIX: Final = "whsec_"
# The event a "send test" delivers: outside the catalogue, because nothing happened (no
# notification, no mail); a receiver should answer it like any other.
TEST_EVENT: Final = "webhook.test"

# Retries: 30 s, 1 min, 2 min, ... doubling up to 6 h between attempts, each ±20 % (so a
# failing endpoint's receivers are not all hit at the same second, and each delay still
# exceeds the one before), for 24 h after the first attempt (about 13 attempts).
FIRST_DELAY: Final = 30
MAX_DELAY: Final = 6 * 3600
JITTER: Final = 0.2
RETRY_WINDOW: Final = 24 * 3600
# A webhook that has not had one success for this long while its deliveries fail is disabled.
DISABLE_AFTER: Final = 3 * 24 * 3600
# An attempt: connect and per-read timeouts, and a ceiling on the whole exchange.
CONNECT_TIMEOUT: Final = 3.0
READ_TIMEOUT: Final = 10.0
TOTAL_TIMEOUT: Final = 15.0
EXCERPT_CHARS: Final = 500
# How long a sender holds a claimed attempt before another run may take it over (a crashed sender).
LEASE_SECONDS: Final = 120
# Delivery records and their attempts are kept this long.
KEEP_SECONDS: Final = 30 * 24 * 3600
# "Send test" per tenant and hour: enough to fix an endpoint, too few to use the panel as a
# request generator against someone else's address.
TESTS_PER_HOUR: Final = 30

Kind = Literal["json", "discord"]
DeliveryStatus = Literal["pending", "succeeded", "failed"]
Outcome = Literal["succeeded", "retrying", "failed"]

DISCORD_HOSTS: Final = frozenset({"discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com"})
# Embed colours by severity (Discord takes an integer RGB).
COLOURS: Final[dict[str, int]] = {"info": 0x2563EB, "warning": 0xD97706, "error": 0xDC2626}


@dataclass(frozen=True)
class Webhook:
    id: str
    tenant_id: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    created_at: str
    updated_at: str
    description: str = ""
    secret_hint: str = ""  # the secret's last characters, to recognise it
    # When the current run of failed attempts began (None after a success); drives disabling.
    failing_since: int | None = None
    disabled_reason: str | None = None  # "failing" when the panel disabled it

    @property
    def kind(self) -> Kind:
        return "discord" if is_discord(self.url) else "json"

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in self.events


@dataclass(frozen=True)
class Delivery:
    """One event on its way to one webhook; ``id`` comes from both, so a repeated event
    (a retried step) makes no second delivery."""

    id: str
    webhook_id: str
    tenant_id: str
    event: Event
    created_at: int  # epoch seconds of the first attempt's due time
    status: DeliveryStatus = "pending"
    attempts: int = 0
    next_attempt_at: int | None = None


@dataclass(frozen=True)
class Attempt:
    """One POST of a delivery, as the delivery log shows it."""

    delivery_id: str
    webhook_id: str
    tenant_id: str
    event_id: str
    event_type: str
    attempt: int
    at: int  # epoch milliseconds
    outcome: Outcome
    status_code: int | None = None
    duration_ms: int = 0
    error: str | None = None  # timeout | connection | refused:<reason> | http_<status> | tls
    response_excerpt: str = ""
    next_attempt_at: int | None = None


@dataclass(frozen=True)
class Response:
    """What the receiver answered (``status`` None when there was no answer)."""

    status: int | None
    duration_ms: int
    excerpt: str = ""
    error: str | None = None  # timeout | connection | tls, when status is None
    retry_after: int | None = None  # seconds, from a 429's Retry-After


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def delivery_id(webhook_id: str, event_id: str) -> str:
    return "whd_" + hashlib.sha256(f"{webhook_id}\x00{event_id}".encode()).hexdigest()[:32]


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hint(secret: str) -> str:
    return secret[-4:]


# --- what may be subscribed, and where ------------------------------------------------------


def _field_error(name: str, message: str) -> ValidationError:
    return ValidationError(f"{name} {message}.", {"fields": [{"field": name, "message": message}]})


def check_events(events: list[str]) -> tuple[str, ...]:
    """The subscribed event types, each a tenant event of the catalogue, in catalogue order."""
    if not events:
        raise _field_error("events", "must name at least one event type")
    unknown = sorted(set(events) - set(TENANT_EVENTS))
    if unknown:
        raise ValidationError(
            f"Unknown event type(s): {', '.join(unknown)}.",
            {
                "fields": [{"field": "events", "message": f"unknown: {', '.join(unknown)}"}],
                "allowed": list(TENANT_EVENTS),
            },
        )
    return tuple(name for name in TENANT_EVENTS if name in set(events))


def check_description(description: str | None) -> str:
    text = (description or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise _field_error("description", f"must be at most {MAX_DESCRIPTION} characters")
    return text


def _refused(exc: PullUrlRefusedError) -> WebhookUrlRefusedError:
    # The same checks as files/pull, answered as a webhook error (the message names the webhook).
    message = exc.message.replace("the node may only download from the internet", "webhooks go to the internet only")
    return WebhookUrlRefusedError(message, dict(exc.details))


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int
    scheme: str
    literal: str | None  # the address when the host is one


def parse_url(url: str, *, allow_http: bool) -> Target:
    """The webhook URL's target, or WebhookUrlRefusedError (https only unless ``allow_http``,
    which only local mode sets; no credentials; no encoded addresses)."""
    try:
        parsed = pull_targets.parse(url)
    except PullUrlRefusedError as exc:
        raise _refused(exc) from exc
    scheme = urlsplit(url).scheme.lower()
    if scheme != "https" and not allow_http:
        raise WebhookUrlRefusedError("url must use https.", {"field": "url", "reason": "scheme", "scheme": scheme})
    return Target(
        url=url,
        host=parsed.host,
        port=parsed.port,
        scheme=scheme,
        literal=None if parsed.address is None else str(parsed.address),
    )


def check_addresses(target: Target, addresses: list[str], *, allow_loopback: bool = False) -> list[str]:
    """The addresses an attempt may connect to: all of them public (WebhookUrlRefusedError
    otherwise). ``allow_loopback`` (local mode only) lets a developer's receiver on this
    machine through; private, link-local and metadata addresses stay refused."""
    import ipaddress

    if allow_loopback and addresses and all(ipaddress.ip_address(a).is_loopback for a in addresses):
        return addresses
    try:
        pull_targets.check_addresses(target.host, addresses)
    except PullUrlRefusedError as exc:
        raise _refused(exc) from exc
    return addresses


def is_discord(url: str) -> bool:
    parts = urlsplit(url)
    return (parts.hostname or "").lower() in DISCORD_HOSTS and parts.path.startswith("/api/webhooks/")


def masked_url(url: str) -> str:
    """The URL as lists show it: a Discord webhook's token (the last path segment) is a
    credential, so only its last characters are shown."""
    if not is_discord(url):
        return url
    head, _, token = url.rstrip("/").rpartition("/")
    return f"{head}/…{token[-4:]}" if token else url


# --- the request --------------------------------------------------------------------------------


def body_of(event: Event) -> bytes:
    return json.dumps(event.to_dict(), separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Mamba-Signature`` header value: Stripe's scheme, ``t=...,v1=<hex HMAC-SHA256>`` of ``"t.body"``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (documented, and used by the tests): the header's ``t`` within
    ``tolerance`` seconds of ``now`` and one ``v1`` equal to the HMAC, compared in constant time."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts.get("t", [""])[0])
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))


def request_for(webhook: Webhook, secret: str, event: Event, now: int, public_url: str) -> Request:
    """The POST of ``event`` to ``webhook``: raw JSON, or a Discord embed; always signed."""
    body = discord_body(event, public_url) if webhook.kind == "discord" else body_of(event)
    return Request(
        url=webhook.url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature(secret, now, body),
            EVENT_ID_HEADER: event.id,
            EVENT_TYPE_HEADER: event.type,
        },
    )


def panel_link(public_url: str, event: Event) -> str:
    base = public_url.rstrip("/")
    if event.tenant_id and event.server_id:
        return f"{base}/t/{event.tenant_id}/servers/{event.server_id}"
    if event.tenant_id:
        return f"{base}/t/{event.tenant_id}"
    return base


def _title(event: Event) -> str:
    kind = CATALOGUE.get(event.type)
    summary = kind.summary if kind else "Test delivery from Mamba Host Panel"
    name = event.payload.get("server_name")
    return f"{summary}: {name}"[:256] if name else summary[:256]


def discord_body(event: Event, public_url: str) -> bytes:
    """Discord's embed: a title, a colour by severity, one field per payload value, a link to
    the panel (Discord's limits: 256-character title and names, 1024-character values, 25 fields)."""
    kind = CATALOGUE.get(event.type)
    severity = kind.severity if kind else "info"
    fields = [
        {"name": str(key).replace("_", " ")[:256], "value": (str(value) or "-")[:1024], "inline": True}
        for key, value in event.payload.items()
        if value is not None
    ][:24]
    fields.append({"name": "event", "value": event.type, "inline": True})
    embed = {
        "title": _title(event),
        "url": panel_link(public_url, event),
        "color": COLOURS[severity],
        "fields": fields,
        "timestamp": event.occurred_at,
        "footer": {"text": f"Mamba Host Panel · {event.id}"},
    }
    return json.dumps({"username": "Mamba Host Panel", "embeds": [embed]}, separators=(",", ":")).encode()


# --- what an answer means ------------------------------------------------------------------------


def retryable(response: Response) -> bool:
    """Timeouts and connection failures, 429 and 5xx are worth another attempt; any other
    answer would be the same next time."""
    if response.status is None:
        return response.error in ("timeout", "connection")
    return response.status == 429 or response.status >= 500


def succeeded(response: Response) -> bool:
    return response.status is not None and 200 <= response.status < 300


def next_delay(attempt: int, rand: random.Random | None = None) -> int:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): 30 s doubling, at most
    6 h, ±20 % jitter. The jitter never reorders: the ranges of consecutive attempts do not overlap
    until the 6 h cap."""
    base = min(MAX_DELAY, FIRST_DELAY << min(max(attempt - 1, 0), 20))
    spread: float = (rand.uniform if rand is not None else random.uniform)(1 - JITTER, 1 + JITTER)
    return max(1, round(base * spread))


def schedule_retry(delivery: Delivery, now: int, response: Response, rand: random.Random | None = None) -> int | None:
    """When the next attempt is due after a failed one, or None when the 24 h window is over.
    A 429's Retry-After is honoured when it asks for longer than the backoff."""
    deadline = delivery.created_at + RETRY_WINDOW
    if now >= deadline:
        return None
    delay = next_delay(delivery.attempts, rand)
    if response.retry_after:
        delay = max(delay, min(response.retry_after, MAX_DELAY))
    # The last attempt is made at the end of the window rather than not at all.
    return min(now + delay, deadline)


def after_failure(webhook: Webhook, now: int) -> tuple[Webhook, bool]:
    """The webhook after a failed attempt, and whether this failure disables it (3 days
    of failures without a success)."""
    since = webhook.failing_since if webhook.failing_since is not None else now
    if webhook.enabled and now - since >= DISABLE_AFTER:
        return replace(webhook, failing_since=since, enabled=False, disabled_reason="failing"), True
    return replace(webhook, failing_since=since), False


def excerpt(raw: bytes) -> str:
    """The start of a response body for the delivery log: text only, control characters dropped."""
    text = raw[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return cleaned[:EXCERPT_CHARS]
