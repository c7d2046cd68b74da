"""The operator metrics the doors publish: node health for the fleet, the reconcile's duration,
and how long a Stripe event waited (each door's services replaced by stand-ins)."""

from __future__ import annotations

import json
import time
import types
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from functions.queues import stripe_events
from functions.schedules import node_health as node_health_door
from functions.schedules import reconcile as reconcile_door
from mamba import bootstrap


def published(out: str, name: str) -> list[Any]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    return [line[name][0] for line in lines if name in line]


def test_node_health_publishes_how_many_nodes_are_down_or_refuse_the_panel(monkeypatch, capsys):
    statuses = {"n1": "online", "n2": "offline", "n3": "unauthorized", "n4": "unknown"}
    monkeypatch.setattr(node_health_door.node_health, "probe_all", lambda *a: statuses)
    monkeypatch.setattr(bootstrap, "node_repository", lambda: None)
    monkeypatch.setattr(bootstrap, "node_health_store", lambda: None)

    node_health_door.handler({}, None)

    assert published(capsys.readouterr().out, "NodesUnhealthy") == [2]


def test_the_reconcile_publishes_its_duration_the_nodes_it_could_not_read_and_the_samples_it_wrote(monkeypatch, capsys):
    def slow_reconcile(_: Any) -> list[dict[str, Any]]:
        time.sleep(0.02)
        return [
            {"node_id": "n1", "samples": 4, "minute_writes": 1},
            {"node_id": "n2", "error": "WingsUnavailableError"},
            {"node_id": "n3", "samples": 7, "minute_writes": 0},  # this minute was written by an earlier run
            {"node_id": "n4", "samples": 2, "minute_writes": 0, "metrics_error": "DEPENDENCY_UNAVAILABLE"},
        ]

    monkeypatch.setattr(reconcile_door.lifecycle, "reconcile_all", slow_reconcile)
    monkeypatch.setattr(reconcile_door.overview, "record_reconcile", lambda *a: None)
    monkeypatch.setattr(bootstrap, "server_lifecycle", lambda: None)
    monkeypatch.setattr(bootstrap, "fleet_stats", lambda: None)
    monkeypatch.setattr(bootstrap, "settings", lambda: types.SimpleNamespace(billing_enabled=False))

    reconcile_door.handler({}, None)

    out = capsys.readouterr().out
    [took] = published(out, "ReconcileDuration")
    assert took >= 20
    assert published(out, "ReconcileNodeErrors") == [1]
    assert published(out, "MetricSamplesWritten") == [4]
    assert published(out, "MetricWriteErrors") == [1]


def test_a_stripe_event_publishes_how_long_it_waited_since_stripe_made_it(monkeypatch, capsys):
    monkeypatch.setattr(stripe_events.billing_sync, "process", lambda ports, event: "applied")
    ports = types.SimpleNamespace(repo=types.SimpleNamespace(event_processed=lambda event_id: None))
    monkeypatch.setattr(bootstrap, "billing_ports", lambda: ports)
    created = int(time.time()) - 90
    record = SQSRecord(
        {"messageId": "m1", "body": json.dumps({"id": "evt_1", "type": "invoice.paid", "created": created})}
    )

    stripe_events.record_handler(record)

    [lag] = published(capsys.readouterr().out, "StripeWebhookLag")
    assert 89 <= lag <= 120


def test_a_stripe_event_logs_under_the_webhook_requests_id_it_carries(monkeypatch, capsys):
    from mamba.observability import current_request_id

    seen: list[str] = []
    monkeypatch.setattr(stripe_events.billing_sync, "process", lambda ports, event: seen.append(current_request_id()))
    ports = types.SimpleNamespace(repo=types.SimpleNamespace(event_processed=lambda event_id: None))
    monkeypatch.setattr(bootstrap, "billing_ports", lambda: ports)
    body = json.dumps({"id": "evt_2", "type": "invoice.paid"})
    carried = {"correlation_id": {"stringValue": "req-webhook-1", "dataType": "String"}}

    stripe_events.record_handler(SQSRecord({"messageId": "m2", "body": body, "messageAttributes": carried}))
    stripe_events.record_handler(SQSRecord({"messageId": "m3", "body": body, "messageAttributes": {}}))

    assert seen == ["req-webhook-1", "m3"]
