"""Outgoing webhooks through the real app on moto, delivered over real HTTPS to a local receiver
(tests/webhook_receiver.py): the receiver checks the signature and the event id; 500, 500, 200
gets three attempts with growing delays; a private address is refused at creation and at send
time; the test route answers 202 and the schedule sends it; the permission and tenant rules."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain import webhooks as rules
from mamba.domain.events import make_event
from tests.api.security_world import World, build_world
from tests.fakes import FakeHostResolver
from tests.webhook_receiver import Receiver, running_receiver

PUBLIC = "93.184.215.14"
BASE = "/v1/tenants/tn_a/webhooks"


@dataclass
class Api:
    client: Any
    world: World
    receiver: Receiver
    resolver: FakeHostResolver

    def call(self, method: str, path: str, who: str = "alice", body: dict[str, Any] | None = None) -> Any:
        return self.client.http.request(
            method, path, headers=self.world.headers(who), body=json.dumps(body).encode() if body is not None else b""
        )

    def create(self, **body: Any) -> dict[str, Any]:
        body.setdefault("url", self.receiver.url)
        body.setdefault("events", ["backup.failed"])
        made = self.call("POST", BASE, body=body)
        assert made.status_code == 201, made.body
        return dict(made.json_body)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    from mamba.adapters.webhook_http import HttpWebhookSender
    from tests.support import app_on_moto

    with running_receiver(tmp_path_factory.mktemp("receiver")) as receiver, app_on_moto() as client:
        resolver = FakeHostResolver({receiver.host: [PUBLIC], "inside.example.test": ["10.0.0.5"]})
        sender = HttpWebhookSender(dial=receiver.dial, ca_certs=receiver.ca_path)
        with bootstrap.override(host_resolver=resolver, webhook_sender=sender):
            yield Api(client, build_world(), receiver, resolver)


@pytest.fixture(autouse=True)
def fresh(api: Api) -> Iterator[None]:
    api.receiver.received.clear()
    api.receiver.statuses[:] = [200]
    api.resolver.answers[api.receiver.host] = [PUBLIC]
    yield
    for webhook in api.call("GET", BASE).json_body["items"]:
        api.call("DELETE", f"{BASE}/{webhook['id']}")


def backup_failed(key: str) -> Any:
    return make_event(
        "backup.failed",
        dedupe_key=key,
        occurred_at="2027-01-15T08:00:00Z",
        tenant_id="tn_a",
        server_id="srv_1",
        payload={"server_name": "Survival", "backup_name": "nightly", "reason": "disk full"},
    )


def run_schedule() -> dict[str, Any]:
    from functions.schedules import webhook_deliveries

    return webhook_deliveries.handler({}, None)


def test_a_delivery_reaches_the_receiver_signed_and_with_the_event_id(api: Api) -> None:
    # Given a webhook on the receiver, its secret shown at creation
    made = api.create()
    secret = made["secret"]
    assert made["url"] == api.receiver.url and made["secret_hint"] == secret[-4:]
    # When an event of its type happens and the delivery schedule runs
    event = backup_failed("op_sig:finish")
    assert bootstrap_fan_out(event) == 1
    assert run_schedule()["succeeded"] == 1
    # Then the receiver got one POST whose signature verifies with the secret and names the event
    [got] = api.receiver.received
    assert got.headers["Mamba-Event-Id"] == event.id
    assert rules.verify(secret, got.headers["Mamba-Signature"], got.body, now=int(got.at))
    assert json.loads(got.body) == event.to_dict()
    assert got.headers["Host"] == f"{api.receiver.host}:{api.receiver.port}"
    # And the delivery log shows the attempt, with what the receiver answered
    [attempt] = api.call("GET", f"{BASE}/{made['id']}/deliveries").json_body["items"]
    assert (attempt["attempt"], attempt["outcome"], attempt["status_code"]) == (1, "succeeded", 200)
    assert attempt["event_id"] == event.id and attempt["response_excerpt"] == '{"ok": true}'
    # And the secret is never shown again
    listed = api.call("GET", BASE).json_body
    assert "secret" not in listed["items"][0] and "backup.failed" in listed["event_types"]


def bootstrap_fan_out(event: Any) -> int:
    from mamba.services import webhooks

    return webhooks.fan_out(bootstrap.webhook_ports(), event)


def test_500_500_200_is_delivered_on_the_third_attempt_after_growing_delays(api: Api) -> None:
    from mamba.services import webhooks

    # Given a receiver that fails twice, then accepts
    made = api.create()
    api.receiver.statuses[:] = [500, 500, 200]
    event = backup_failed("op_retry:finish")
    bootstrap_fan_out(event)
    # When the sender runs each time the delivery is due (a clock moved to that moment)
    clock = [int(time.time())]
    ports = replace(bootstrap.webhook_ports(), now=lambda: clock[0])
    for _ in range(3):
        webhooks.deliver_due(ports)
        log = api.call("GET", f"{BASE}/{made['id']}/deliveries").json_body["items"]
        if log[0]["next_attempt_at"]:
            clock[0] = _epoch(log[0]["next_attempt_at"])
    # Then the receiver got the same event three times
    assert [json.loads(r.body)["id"] for r in api.receiver.received] == [event.id] * 3
    # And the log shows 500, 500, 200 with a longer wait before the third than before the second
    log = list(reversed(api.call("GET", f"{BASE}/{made['id']}/deliveries").json_body["items"]))
    assert [(a["attempt"], a["status_code"], a["outcome"]) for a in log] == [
        (1, 500, "retrying"),
        (2, 500, "retrying"),
        (3, 200, "succeeded"),
    ]
    waits = [_epoch(a["next_attempt_at"]) - _epoch(a["at"]) for a in log[:2]]
    assert 0 < waits[0] < waits[1], waits


def _epoch(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://inside.example.test/hook", "private"),
        ("https://10.0.0.5/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "cloud_metadata"),
        ("https://127.0.0.1:9000/hook", "loopback"),
        ("http://hooks.example.test/hook", "scheme"),
    ],
)
def test_a_private_address_or_plain_http_is_refused_at_creation(api: Api, url: str, reason: str) -> None:
    refused = api.call("POST", BASE, body={"url": url, "events": ["backup.failed"]})
    assert refused.status_code == 400, refused.body
    error = refused.json_body["error"]
    assert (error["code"], error["details"]["reason"]) == ("WEBHOOK_URL_REFUSED", reason)
    assert api.call("GET", BASE).json_body["items"] == []


def test_an_address_that_became_private_is_refused_at_send_time(api: Api) -> None:
    # Given a webhook saved while its host was public
    made = api.create()
    # When the host now resolves to a private address (DNS changed) and an event is delivered
    api.resolver.answers[api.receiver.host] = ["10.0.0.5"]
    bootstrap_fan_out(backup_failed("op_rebind:finish"))
    run_schedule()
    # Then nothing reached the receiver, and the log says why, without a retry
    assert api.receiver.received == []
    [attempt] = api.call("GET", f"{BASE}/{made['id']}/deliveries").json_body["items"]
    assert (attempt["outcome"], attempt["error"], attempt["status_code"]) == ("failed", "refused:private", None)


def test_send_test_answers_202_and_the_schedule_delivers_a_webhook_test(api: Api) -> None:
    made = api.create()
    queued = api.call("POST", f"{BASE}/{made['id']}/test")
    assert queued.status_code == 202, queued.body
    assert queued.json_body["delivery"]["status"] == "pending"
    assert api.receiver.received == []  # nothing is sent on the API path
    run_schedule()
    [got] = api.receiver.received
    assert json.loads(got.body)["type"] == "webhook.test"
    assert got.headers["Mamba-Event-Id"] == queued.json_body["delivery"]["event_id"]


def test_update_rotate_and_delete(api: Api) -> None:
    made = api.create(description="ops channel")
    changed = api.call("PATCH", f"{BASE}/{made['id']}", body={"events": ["backup.completed"], "enabled": False})
    assert changed.status_code == 200, changed.body
    assert (changed.json_body["events"], changed.json_body["enabled"]) == (["backup.completed"], False)
    rotated = api.call("POST", f"{BASE}/{made['id']}/secret")
    assert rotated.status_code == 200 and rotated.json_body["secret"] != made["secret"]
    assert api.call("PATCH", f"{BASE}/{made['id']}", body={"url": "https://10.1.1.1/x"}).status_code == 400
    assert api.call("DELETE", f"{BASE}/{made['id']}").status_code == 204
    assert api.call("GET", f"{BASE}/{made['id']}").status_code == 404


def test_a_viewer_cannot_see_webhooks_and_another_tenant_gets_404(api: Api) -> None:
    made = api.create()
    assert api.call("GET", BASE, who="vic").status_code == 403
    assert api.call("POST", f"{BASE}/{made['id']}/test", who="vic").status_code == 403
    assert api.call("GET", f"/v1/tenants/tn_b/webhooks/{made['id']}", who="bob").status_code == 404
    assert api.call("GET", f"/v1/tenants/tn_b/webhooks/{made['id']}/deliveries", who="bob").status_code == 404
    assert api.call("GET", f"{BASE}/{made['id']}", who="bob").status_code == 404


def test_the_eleventh_webhook_is_refused(api: Api) -> None:
    for _ in range(rules.MAX_PER_TENANT):
        api.create()
    refused = api.call("POST", BASE, body={"url": api.receiver.url, "events": ["backup.failed"]})
    assert refused.status_code == 409 and refused.json_body["error"]["code"] == "WEBHOOK_LIMIT"


def test_an_event_through_the_events_queue_reaches_the_webhook_once_even_when_redelivered(api: Api) -> None:
    from tests.api.notification_support import deliver_queued, publish

    # Given a webhook subscribed to backup.failed
    made = api.create()
    # When a service publishes the event and SQS hands it to the consumer twice (at least once)
    event = backup_failed("op_queue:finish")
    publish(event)
    answer = deliver_queued(repeat=2)
    assert answer["batchItemFailures"] == []
    run_schedule()
    run_schedule()
    # Then the receiver got it once, signed, with its id
    [got] = api.receiver.received
    assert got.headers["Mamba-Event-Id"] == event.id
    assert rules.verify(made["secret"], got.headers["Mamba-Signature"], got.body, now=int(got.at))


def test_the_owners_are_mailed_in_the_language_they_chose(api: Api) -> None:
    # Given the owner chose German for notification mail
    chosen = api.call("PATCH", "/v1/me/notification-preferences", body={"language": "de"})
    assert chosen.status_code == 200, chosen.body
    # Then the disabled-webhook mail goes to them in German (and nobody else of the tenant is an owner)
    assert bootstrap.tenant_owner_contacts("tn_a") == [("alice@example.org", "de")]


def test_a_failed_delivery_is_redelivered_from_its_log(api: Api) -> None:
    # Given a delivery the receiver refused for good
    made = api.create()
    api.receiver.statuses[:] = [410, 200]
    bootstrap_fan_out(backup_failed("op_redeliver:finish"))
    run_schedule()
    [failed] = api.call("GET", f"{BASE}/{made['id']}/deliveries").json_body["items"]
    assert (failed["outcome"], failed["status_code"]) == ("failed", 410)
    # When it is redelivered (202: the schedule sends it)
    queued = api.call("POST", f"{BASE}/{made['id']}/deliveries/{failed['delivery_id']}/redeliver")
    assert queued.status_code == 202, queued.body
    assert api.call("POST", f"{BASE}/{made['id']}/deliveries/{failed['delivery_id']}/redeliver").status_code == 409
    run_schedule()
    # Then the receiver got the same event again, and the log shows it delivered
    assert [r.headers["Mamba-Event-Id"] for r in api.receiver.received] == [failed["event_id"]] * 2
    newest = api.call("GET", f"{BASE}/{made['id']}/deliveries").json_body["items"][0]
    assert (newest["outcome"], newest["status_code"]) == ("succeeded", 200)
    other = f"/v1/tenants/tn_b/webhooks/{made['id']}/deliveries/{failed['delivery_id']}/redeliver"
    assert api.call("POST", other, who="bob").status_code == 404
