"""Outgoing webhooks on fakes: the signing, the address checks, fan-out, retries with backoff,
disabling after 3 days, Discord's format (mamba.domain.webhooks, mamba.services.webhooks)."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass, field

import pytest

from mamba.auth.context import TenantContext
from mamba.domain import webhooks as rules
from mamba.domain.errors import (
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
    WebhookLimitError,
    WebhookUrlRefusedError,
)
from mamba.domain.events import make_event
from mamba.domain.pages import PageRequest
from mamba.domain.webhooks import Response
from mamba.services import webhooks
from tests.fakes import FakeHostResolver, FakeMailer, FakeRateLimiter, FakeWebhookRepository, FakeWebhookSender

T0 = 1_800_000_000
PUBLIC = "93.184.215.14"
TENANT = TenantContext(tenant_id="tn_a", role="owner", permissions=frozenset({"webhooks.manage", "webhooks.read"}))
OTHER = TenantContext(tenant_id="tn_b", role="owner", permissions=frozenset({"webhooks.manage", "webhooks.read"}))


@dataclass
class World:
    repo: FakeWebhookRepository = field(default_factory=FakeWebhookRepository)
    sender: FakeWebhookSender = field(default_factory=FakeWebhookSender)
    resolver: FakeHostResolver = field(
        default_factory=lambda: FakeHostResolver(
            {"hooks.example.com": [PUBLIC], "discord.com": ["162.159.128.233"], "inside.example.com": ["10.0.0.5"]}
        )
    )
    mailer: FakeMailer = field(default_factory=FakeMailer)
    limiter: FakeRateLimiter = field(default_factory=FakeRateLimiter)
    clock: list[int] = field(default_factory=lambda: [T0])

    @property
    def ports(self) -> webhooks.WebhookPorts:
        return webhooks.WebhookPorts(
            repo=self.repo,
            sender=self.sender,
            resolver=self.resolver,
            mailer=lambda: self.mailer,
            owners=lambda tenant_id: [
                (f"owner@{tenant_id}.example.org", "en"),
                (f"inhaber@{tenant_id}.example.org", "de"),
            ],
            public_url="https://panel.example.com",
            now=lambda: self.clock[0],
            rand=random.Random(7),
            limiter=self.limiter,
        )

    def create(self, url: str = "https://hooks.example.com/in", events: tuple[str, ...] = ("backup.failed",)):
        return webhooks.create_webhook(self.ports, TENANT, url=url, events=list(events))

    def run_at(self, when: int) -> webhooks.RunSummary:
        self.clock[0] = when
        return webhooks.deliver_due(self.ports)


def backup_failed(key: str = "op_1:finish") -> object:
    return make_event(
        "backup.failed",
        dedupe_key=key,
        occurred_at="2027-01-15T08:00:00Z",
        tenant_id="tn_a",
        server_id="srv_1",
        payload={"server_name": "Survival", "backup_name": "nightly", "reason": "disk full"},
    )


# --- signing -------------------------------------------------------------------------------------


def test_signature_is_hmac_sha256_of_timestamp_dot_body_like_stripe() -> None:
    import hashlib
    import hmac

    # Given a secret and a body
    body = b'{"id":"evt_1"}'
    # When it is signed at t
    header = rules.signature("whsec_abc", 1700000000, body)
    # Then the header is t=...,v1=<hex HMAC of "t.body">
    expected = hmac.new(b"whsec_abc", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert rules.verify("whsec_abc", header, body, now=1700000100)


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("whsec_other", b'{"id":"evt_1"}', 1700000000),  # another secret
        ("whsec_abc", b'{"id":"evt_2"}', 1700000000),  # another body
        ("whsec_abc", b'{"id":"evt_1"}', 1700000000 + 301),  # too old: a replay
    ],
)
def test_verify_refuses_when_secret_body_or_time_differ(secret: str, body: bytes, now: int) -> None:
    header = rules.signature("whsec_abc", 1700000000, b'{"id":"evt_1"}')
    assert not rules.verify(secret, header, body, now=now)


# --- backoff -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_each_retry_waits_longer_than_the_one_before_whatever_the_jitter(seed: int) -> None:
    rand = random.Random(seed)
    delays = [rules.next_delay(n, rand) for n in range(1, 11)]
    assert delays == sorted(delays) and len(set(delays)) == len(delays), delays
    assert 24 <= delays[0] <= 36  # 30 s ±20 %
    assert all(rules.next_delay(n, rand) <= rules.MAX_DELAY * 1.2 for n in range(11, 30))


def test_retries_stop_24_hours_after_the_first_attempt_with_a_last_one_at_the_end() -> None:
    delivery = rules.Delivery("d", "w", "t", backup_failed(), created_at=T0, attempts=12)  # type: ignore[arg-type]
    failure = Response(status=503, duration_ms=1)
    assert rules.schedule_retry(delivery, T0 + 23 * 3600, failure) == T0 + rules.RETRY_WINDOW
    assert rules.schedule_retry(delivery, T0 + rules.RETRY_WINDOW, failure) is None


@pytest.mark.parametrize(
    ("response", "retried"),
    [
        (Response(status=500, duration_ms=1), True),
        (Response(status=503, duration_ms=1), True),
        (Response(status=429, duration_ms=1), True),
        (Response(status=None, duration_ms=1, error="timeout"), True),
        (Response(status=None, duration_ms=1, error="connection"), True),
        (Response(status=404, duration_ms=1), False),
        (Response(status=400, duration_ms=1), False),
        (Response(status=301, duration_ms=1), False),  # redirects are not followed
        (Response(status=None, duration_ms=1, error="tls"), False),
        (Response(status=None, duration_ms=0, error="refused:private"), False),
    ],
)
def test_only_timeouts_connection_failures_429_and_5xx_are_retried(response: Response, retried: bool) -> None:
    assert rules.retryable(response) is retried


# --- where a webhook may point --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/in", "scheme"),
        ("ftp://hooks.example.com/in", "scheme"),
        ("https://user:pw@hooks.example.com/in", "credentials"),
        ("https://2130706433/in", "encoded_address"),
        ("https://10.1.2.3/in", "private"),
        ("https://127.0.0.1:8080/in", "loopback"),
        ("https://169.254.169.254/latest", "cloud_metadata"),
        ("https://[::1]/in", "loopback"),
        ("https://inside.example.com/in", "private"),
    ],
)
def test_a_url_that_is_not_public_https_is_refused_at_creation(url: str, reason: str) -> None:
    world = World()
    with pytest.raises(WebhookUrlRefusedError) as refused:
        world.create(url)
    assert refused.value.details["reason"] == reason
    assert world.repo.webhooks == {}


def test_local_mode_allows_http_and_a_receiver_on_loopback_but_not_private_addresses() -> None:
    world = World()
    ports = world.ports
    ports.allow_http = ports.allow_loopback = True
    webhook, _ = webhooks.create_webhook(ports, TENANT, url="http://127.0.0.1:9000/in", events=["backup.failed"])
    assert webhook.url == "http://127.0.0.1:9000/in"
    with pytest.raises(WebhookUrlRefusedError):
        webhooks.create_webhook(ports, TENANT, url="http://10.0.0.7/in", events=["backup.failed"])
    with pytest.raises(WebhookUrlRefusedError):
        webhooks.create_webhook(ports, TENANT, url="http://169.254.169.254/", events=["backup.failed"])


def test_an_address_that_turned_private_is_refused_at_send_time_without_a_connection() -> None:
    # Given a webhook created while its host was public
    world = World()
    _webhook, _ = world.create()
    # When the host now resolves to a private address and an event is delivered
    world.resolver.answers["hooks.example.com"] = ["192.168.1.10"]
    webhooks.fan_out(world.ports, backup_failed())  # type: ignore[arg-type]
    world.run_at(T0)
    # Then nothing was sent and the attempt says why; it is not retried
    assert world.sender.requests == []
    [attempt] = world.repo.log
    assert (attempt.outcome, attempt.error, attempt.status_code) == ("failed", "refused:private", None)
    assert world.repo.due(T0 + 10 * 86400, 10) == []


def test_the_post_goes_to_the_addresses_that_were_checked() -> None:
    world = World()
    world.create()
    webhooks.fan_out(world.ports, backup_failed())  # type: ignore[arg-type]
    world.run_at(T0)
    [(request, addresses)] = world.sender.requests
    assert addresses == [PUBLIC] and request.url == "https://hooks.example.com/in"


# --- management ----------------------------------------------------------------------------------


def test_create_returns_the_secret_once_and_stores_only_its_hint() -> None:
    world = World()
    webhook, secret = world.create(events=("backup.failed", "backup.completed"))
    assert secret.startswith("whsec_") and len(secret) > 40
    assert webhook.secret_hint == secret[-4:]
    assert webhook.events == ("backup.completed", "backup.failed")  # catalogue order
    assert not hasattr(webhook, "secret")


@pytest.mark.parametrize("events", [[], ["backup.exploded"], ["node.down"]])
def test_events_must_be_tenant_events_of_the_catalogue(events: list[str]) -> None:
    with pytest.raises(ValidationError):
        World().create(events=tuple(events))


def test_a_tenant_has_at_most_ten_webhooks() -> None:
    world = World()
    for _ in range(rules.MAX_PER_TENANT):
        world.create()
    with pytest.raises(WebhookLimitError):
        world.create()


def test_another_tenants_webhook_is_not_found() -> None:
    world = World()
    webhook, _ = world.create()
    with pytest.raises(NotFoundError):
        webhooks.get_webhook(world.ports, OTHER, webhook.id)
    with pytest.raises(NotFoundError):
        webhooks.deliveries(world.ports, OTHER, webhook.id, PageRequest())


def test_a_server_scoped_member_cannot_manage_the_tenants_webhooks() -> None:
    scoped = TenantContext("tn_a", "owner", TENANT.permissions, server_scope="srv_1")
    with pytest.raises(ForbiddenError):
        webhooks.create_webhook(World().ports, scoped, url="https://hooks.example.com/in", events=["backup.failed"])
    with pytest.raises(ForbiddenError):
        webhooks.list_webhooks(World().ports, scoped)


# --- fan-out and delivery ---------------------------------------------------------------------------


def test_a_repeated_event_is_delivered_once() -> None:
    # Given a webhook subscribed to backup.failed
    world = World()
    world.create()
    # When the same event arrives twice (a retried workflow step) and the sender runs
    assert webhooks.fan_out(world.ports, backup_failed()) == 1  # type: ignore[arg-type]
    assert webhooks.fan_out(world.ports, backup_failed()) == 0  # type: ignore[arg-type]
    world.run_at(T0)
    # Then the receiver got it once
    assert len(world.sender.requests) == 1


def test_fan_out_skips_unsubscribed_types_disabled_webhooks_and_other_tenants() -> None:
    world = World()
    world.create(events=("backup.completed",))
    disabled, _ = world.create()
    webhooks.update_webhook(world.ports, TENANT, disabled.id, enabled=False)
    webhooks.create_webhook(world.ports, OTHER, url="https://hooks.example.com/b", events=["backup.failed"])
    assert webhooks.fan_out(world.ports, backup_failed()) == 0  # type: ignore[arg-type]


def test_each_delivery_is_signed_and_names_the_event() -> None:
    world = World()
    _, secret = world.create()
    event = backup_failed()
    webhooks.fan_out(world.ports, event)  # type: ignore[arg-type]
    world.run_at(T0 + 5)
    [(request, _)] = world.sender.requests
    assert request.headers["Mamba-Event-Id"] == event.id  # type: ignore[attr-defined]
    assert request.headers["Content-Type"] == "application/json"
    assert rules.verify(secret, request.headers["Mamba-Signature"], request.body, now=T0 + 5)
    assert json.loads(request.body)["payload"]["reason"] == "disk full"


def test_500_500_200_makes_three_attempts_with_growing_delays() -> None:
    # Given a receiver that answers 500, 500, then 200
    world = World()
    _, secret = world.create()
    world.sender.answers = [Response(500, 3), Response(500, 3), Response(200, 3, excerpt="ok")]
    webhooks.fan_out(world.ports, backup_failed())  # type: ignore[arg-type]
    # When the sender runs whenever something is due
    times = []
    while (due := [d.next_attempt_at for d in world.repo.deliveries.values() if d.status == "pending"]) and len(
        times
    ) < 10:
        times.append(due[0])
        world.run_at(due[0])
    # Then three attempts were made, each waiting longer than the one before
    assert len(world.sender.requests) == 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 2 and 0 < gaps[0] < gaps[1], gaps
    outcomes = [(a.attempt, a.outcome, a.status_code) for a in world.repo.log]
    assert outcomes == [(1, "retrying", 500), (2, "retrying", 500), (3, "succeeded", 200)]
    # And every attempt carried the same event id, each freshly signed
    assert len({r.headers["Mamba-Event-Id"] for r, _ in world.sender.requests}) == 1
    for (request, _), at in zip(world.sender.requests, times, strict=True):
        assert rules.verify(secret, request.headers["Mamba-Signature"], request.body, now=at)


def test_a_4xx_answer_fails_the_delivery_at_once() -> None:
    world = World()
    world.create()
    world.sender.answers = [Response(410, 2, excerpt="gone")]
    webhooks.fan_out(world.ports, backup_failed())  # type: ignore[arg-type]
    world.run_at(T0)
    world.run_at(T0 + 86400)
    [attempt] = world.repo.log
    assert (attempt.outcome, attempt.status_code, attempt.response_excerpt) == ("failed", 410, "gone")


def test_an_attempt_claimed_by_another_sender_is_not_sent_twice() -> None:
    world = World()
    world.create()
    webhooks.fan_out(world.ports, backup_failed())  # type: ignore[arg-type]
    [delivery] = world.repo.due(T0, 10)
    assert world.repo.claim(delivery, T0 + 60)  # another sender took it
    assert webhooks.deliver(world.ports, delivery) is None
    assert world.sender.requests == []


def test_three_days_of_failures_disable_the_webhook_and_mail_the_owner_once() -> None:
    # Given a webhook whose endpoint always answers 503
    world = World()
    webhook, _ = world.create()
    world.sender.answers = [Response(503, 2)]
    # When events keep failing for three days
    for day in range(4):
        webhooks.fan_out(world.ports, backup_failed(f"op_{day}"))  # type: ignore[arg-type]
        world.run_at(T0 + day * 86400)
    # Then it is disabled for failing, and the owner got one mail
    stored = world.repo.get("tn_a", webhook.id)
    assert (stored.enabled, stored.disabled_reason) == (False, "failing")
    mails = world.mailer.to("owner@tn_a.example.org")
    assert len(mails) == 1 and "disabled" in mails[0][0]
    assert "https://panel.example.com/t/tn_a/webhooks" in mails[0][1]
    # each owner in their mail language
    [(subject, _)] = world.mailer.to("inhaber@tn_a.example.org")
    assert "deaktiviert" in subject
    # And new events reach it no more
    assert webhooks.fan_out(world.ports, backup_failed("op_later")) == 0  # type: ignore[arg-type]
    # And enabling it again starts afresh
    enabled = webhooks.update_webhook(world.ports, TENANT, webhook.id, enabled=True)
    assert (enabled.enabled, enabled.failing_since, enabled.disabled_reason) == (True, None, None)


def test_a_success_ends_the_run_of_failures() -> None:
    world = World()
    webhook, _ = world.create()
    world.sender.answers = [Response(404, 2), Response(200, 2)]
    webhooks.fan_out(world.ports, backup_failed("a"))  # type: ignore[arg-type]
    world.run_at(T0)
    assert world.repo.get("tn_a", webhook.id).failing_since == T0
    webhooks.fan_out(world.ports, backup_failed("b"))  # type: ignore[arg-type]
    world.run_at(T0 + 2 * 86400)
    assert world.repo.get("tn_a", webhook.id).failing_since is None


def test_send_test_queues_a_webhook_test_delivery_without_sending() -> None:
    # Given a webhook
    world = World()
    webhook, secret = world.create()
    # When a test is asked for, nothing is sent on the spot
    delivery = webhooks.send_test(world.ports, TENANT, webhook.id)
    assert world.sender.requests == [] and delivery.status == "pending"
    # Then the next run sends a signed webhook.test and logs it
    world.run_at(T0)
    [(request, _)] = world.sender.requests
    assert json.loads(request.body)["type"] == "webhook.test"
    assert rules.verify(secret, request.headers["Mamba-Signature"], request.body, now=T0)
    [attempt] = webhooks.deliveries(world.ports, TENANT, webhook.id, PageRequest()).items
    assert (attempt.event_type, attempt.outcome) == ("webhook.test", "succeeded")


def test_rotating_the_secret_signs_with_the_new_one() -> None:
    world = World()
    webhook, old = world.create()
    _, new = webhooks.rotate_secret(world.ports, TENANT, webhook.id)
    webhooks.fan_out(world.ports, backup_failed())  # type: ignore[arg-type]
    world.run_at(T0)
    [(request, _)] = world.sender.requests
    assert new != old
    assert rules.verify(new, request.headers["Mamba-Signature"], request.body, now=T0)
    assert not rules.verify(old, request.headers["Mamba-Signature"], request.body, now=T0)


def test_a_deleted_webhooks_pending_deliveries_end_without_a_post() -> None:
    world = World()
    webhook, _ = world.create()
    webhooks.fan_out(world.ports, backup_failed())  # type: ignore[arg-type]
    webhooks.delete_webhook(world.ports, TENANT, webhook.id)
    world.run_at(T0)
    assert world.sender.requests == [] and world.repo.due(T0 + 86400, 10) == []


# --- Discord -------------------------------------------------------------------------------------


def test_a_discord_webhook_gets_an_embed_coloured_by_severity_with_a_panel_link() -> None:
    world = World()
    url = "https://discord.com/api/webhooks/123456/abcdefTOKEN"
    webhook, _ = world.create(url=url)
    assert webhook.kind == "discord"
    assert rules.masked_url(url) == "https://discord.com/api/webhooks/123456/…OKEN"
    webhooks.fan_out(world.ports, backup_failed())  # type: ignore[arg-type]
    world.run_at(T0)
    [(request, _)] = world.sender.requests
    [embed] = json.loads(request.body)["embeds"]
    assert embed["title"] == "A backup failed: Survival"
    assert embed["color"] == rules.COLOURS["error"]
    assert embed["url"] == "https://panel.example.com/t/tn_a/servers/srv_1"
    assert {"name": "reason", "value": "disk full", "inline": True} in embed["fields"]
    assert embed["timestamp"] == "2027-01-15T08:00:00Z"
    assert "Mamba-Event-Id" in request.headers


@pytest.mark.parametrize(
    ("url", "discord"),
    [
        ("https://discord.com/api/webhooks/1/x", True),
        ("https://discordapp.com/api/webhooks/1/x", True),
        ("https://discord.com.evil.example/api/webhooks/1/x", False),
        ("https://discord.com/channels/1", False),
    ],
)
def test_only_discords_webhook_urls_get_the_embed_format(url: str, discord: bool) -> None:
    assert rules.is_discord(url) is discord


def test_send_test_is_limited_per_tenant_and_hour() -> None:
    world = World()
    webhook, _ = world.create()
    for _ in range(rules.TESTS_PER_HOUR):
        webhooks.send_test(world.ports, TENANT, webhook.id)
    with pytest.raises(RateLimitedError):
        webhooks.send_test(world.ports, TENANT, webhook.id)
    world.clock[0] += 3600  # the next hour
    webhooks.send_test(world.ports, TENANT, webhook.id)


def test_a_busy_store_defers_one_delivery_without_stopping_the_others() -> None:
    from mamba.domain.errors import DependencyUnavailableError

    # Given two due deliveries, the secret of the first webhook unreadable for now (KMS busy)
    world = World()
    first, _ = world.create("https://hooks.example.com/a")
    world.create("https://hooks.example.com/b")
    webhooks.fan_out(world.ports, backup_failed())  # type: ignore[arg-type]
    real_secret = world.repo.secret

    def secret(webhook: rules.Webhook) -> str:
        if webhook.id == first.id:
            raise DependencyUnavailableError("KMS is busy.")
        return real_secret(webhook)

    world.repo.secret = secret  # type: ignore[method-assign]
    # When the sender runs
    summary = world.run_at(T0)
    # Then the other one was delivered, and the first is tried again once its lease ends
    assert [r.url for r, _ in world.sender.requests] == ["https://hooks.example.com/b"]
    assert summary.succeeded == 1
    world.repo.secret = real_secret  # type: ignore[method-assign]
    world.run_at(T0 + rules.LEASE_SECONDS)
    assert sorted(r.url for r, _ in world.sender.requests) == [
        "https://hooks.example.com/a",
        "https://hooks.example.com/b",
    ]


def test_the_schedule_door_keeps_20_seconds_of_its_function_and_publishes_failures(monkeypatch, capsys) -> None:
    import types

    from functions.schedules import webhook_deliveries as door
    from mamba import bootstrap

    asked: dict[str, float] = {}

    def deliver_due(ports: object, *, budget_seconds: float) -> webhooks.RunSummary:
        asked["budget"] = budget_seconds
        return webhooks.RunSummary(attempted=3, succeeded=1, retrying=1, failed=1)

    monkeypatch.setattr(door.webhooks, "deliver_due", deliver_due)
    monkeypatch.setattr(bootstrap, "webhook_ports", lambda: None)
    context = types.SimpleNamespace(get_remaining_time_in_millis=lambda: 60_000)

    figures = door.handler({}, context)

    assert asked["budget"] == 40.0 and figures["failed"] == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert [line["WebhookDeliveriesFailed"][0] for line in lines if "WebhookDeliveriesFailed" in line] == [1]


def test_a_failed_delivery_can_be_sent_again_with_the_same_event_id() -> None:
    from mamba.domain.errors import ConflictError

    # Given a delivery that failed for good (a 410)
    world = World()
    webhook, _ = world.create()
    world.sender.answers = [Response(410, 2), Response(200, 2)]
    webhooks.fan_out(world.ports, backup_failed())  # type: ignore[arg-type]
    world.run_at(T0)
    [failed] = world.repo.log
    # When it is redelivered after the endpoint was fixed
    again = webhooks.redeliver(world.ports, TENANT, webhook.id, failed.delivery_id)
    with pytest.raises(ConflictError):  # already waiting: not twice
        webhooks.redeliver(world.ports, TENANT, webhook.id, failed.delivery_id)
    world.run_at(T0 + 10)
    # Then the same event went out again, as attempt 1 of its new window, and arrived
    first, second = (r.headers["Mamba-Event-Id"] for r, _ in world.sender.requests)
    assert first == second == again.event.id
    assert [(a.attempt, a.outcome) for a in world.repo.log] == [(1, "failed"), (1, "succeeded")]
    with pytest.raises(NotFoundError):
        webhooks.redeliver(world.ports, OTHER, webhook.id, failed.delivery_id)
