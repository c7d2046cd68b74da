"""/v1/admin/overview and /v1/admin/dead-letters through the real app on moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from mamba import bootstrap
from mamba.domain.nodes import NodeHealth
from mamba.domain.operations import Operation
from mamba.domain.servers import Limits, Server
from mamba.schemas.overview import DeadLetterList, FleetOverview
from tests.api.tenancy_helpers import make_world
from tests.fakes import FakeWorkflows
from tests.support import DynamoCounter

ROUTES = [
    ("GET", "/v1/admin/overview"),
    ("GET", "/v1/admin/dead-letters"),
    ("POST", "/v1/admin/dead-letters/redrive"),
]
NODE = {"name": "Frankfurt 1", "location": "fra", "fqdn": "node1.example.com", "memory_mb": 8192, "disk_mb": 100000}


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def world(client):
    sqs = boto3.client("sqs", region_name=bootstrap.settings().region)
    source = sqs.create_queue(QueueName="mamba-stripe-events")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="mamba-stripe-events-dlq")["QueueUrl"]
    on = bootstrap.settings().model_copy(update={"stripe_events_queue_url": source, "stripe_events_dlq_url": dlq})
    # A tenant's suspension starts a workflow: recorded here, run in its own suite.
    with bootstrap.override(settings=on, workflows=FakeWorkflows()):
        api = make_world(client)
        api.sqs, api.source, api.dlq = sqs, source, dlq
        yield api


def _dead_letter(world, event_id: str, event_type: str = "invoice.paid") -> None:
    world.sqs.send_message(QueueUrl=world.dlq, MessageBody=json.dumps({"id": event_id, "type": event_type}))


def _node(world, name: str, memory_mb: int, disk_mb: int) -> str:
    response = world.post(
        "/v1/admin/nodes", "usr_root", {**NODE, "name": name, "memory_mb": memory_mb, "disk_mb": disk_mb}
    )
    assert response.status_code == 201, response.json_body
    return str(response.json_body["id"])


def _server(uuid: str, tenant_id: str, node_id: str, status: str, memory_mb: int, disk_mb: int) -> None:
    now = _iso(datetime.now(UTC))
    bootstrap.server_repository().add(
        Server(
            uuid=uuid,
            name=f"game {uuid[:8]}",
            tenant_id=tenant_id,
            node_id=node_id,
            blueprint_id="bp_test",
            allocation=("127.0.0.1", 27015),
            docker_image="ghcr.io/pterodactyl/yolks:python_3.12",
            startup="python game.py",
            limits=Limits(memory_mb=memory_mb, disk_mb=disk_mb, cpu_percent=100),
            status=status,
            created_at=now,
            updated_at=now,
        )
    )


def _operation(op_id: str, status: str, created: datetime) -> None:
    at = _iso(created)
    bootstrap.operation_repository().add(
        Operation(id=op_id, tenant_id="tn_a", type="server.create", status=status, created_at=at, updated_at=at)
    )


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_fleet_routes_are_401_anonymous_403_for_a_tenant_owner_and_200_for_an_admin(world, method, path):
    _dead_letter(world, "evt_1")

    anonymous = world.call(method, path, None, {} if method == "POST" else None)
    owner = world.call(method, path, "usr_alice", {} if method == "POST" else None)
    admin = world.call(method, path, "usr_root", {} if method == "POST" else None)

    assert anonymous.status_code == 401
    assert owner.status_code == 403 and owner.json_body["error"]["code"] == "FORBIDDEN"
    assert admin.status_code == 200, admin.json_body


def test_overview_counts_the_fleet_in_three_dynamodb_calls_and_no_scan(world, monkeypatch):
    from mamba.services import overview as fleet

    big = _node(world, "big", 8192, 100000)
    small = _node(world, "small", 4096, 50000)
    _node(world, "new", 2048, 10000)  # never probed: unknown
    health = bootstrap.node_health_store()
    now = datetime.now(UTC)
    health.save(NodeHealth(node_id=big, status="online", checked_at=_iso(now)))
    health.save(NodeHealth(node_id=small, status="unauthorized", checked_at=_iso(now)))
    _server("aaaaaaaa-0000-4000-8000-000000000001", "tn_a", big, "running", 1024, 5000)
    _server("aaaaaaaa-0000-4000-8000-000000000002", "tn_a", big, "offline", 2048, 10000)
    _server("aaaaaaaa-0000-4000-8000-000000000003", "tn_b", small, "running", 512, 2000)
    _operation("op_recent_failed", "failed", now - timedelta(hours=1))
    _operation("op_old_failed", "failed", now - timedelta(hours=30))
    _operation("op_recent_ok", "succeeded", now - timedelta(hours=2))
    world.post("/v1/admin/tenants/tn_b/suspend", "usr_root", {})
    _dead_letter(world, "evt_1")
    _dead_letter(world, "evt_2")
    # The reconcile schedule's hook: the run's summary, then the counters recomputed.
    fleet.record_reconcile(
        bootstrap.fleet_stats(), [{"node_id": big, "changed": 2}, {"node_id": small, "error": "X"}], now
    )

    counter = DynamoCounter(monkeypatch)
    response = world.get("/v1/admin/overview", "usr_root")

    assert response.status_code == 200, response.json_body
    view = FleetOverview.model_validate(response.json_body)
    assert view.tenants == {"active": 1, "suspended": 1}
    assert view.servers == {"running": 2, "offline": 1}
    assert (view.nodes.online, view.nodes.offline, view.nodes.unauthorized, view.nodes.unknown) == (1, 0, 1, 1)
    assert (view.nodes.memory_mb, view.nodes.committed_memory_mb) == (8192 + 4096 + 2048, 1024 + 2048 + 512)
    assert (view.nodes.disk_mb, view.nodes.committed_disk_mb) == (160000, 17000)
    by_id = {n.id: n for n in view.nodes.items}
    assert (by_id[big].committed_memory_mb, by_id[small].committed_disk_mb) == (3072, 2000)
    assert view.failed_operations_24h == 1
    assert view.dead_letters == 2
    assert view.last_reconcile is not None
    assert (view.last_reconcile.nodes, view.last_reconcile.failed_nodes, view.last_reconcile.changed) == (2, 1, 2)
    # The guard's identity read (one BatchGetItem) comes first; the overview's own reads follow.
    assert counter.actions[0] == "BatchGetItem"
    assert counter.actions[1:] == ["Query", "BatchGetItem", "Query"], counter.actions


def test_overview_is_zero_and_empty_on_a_fresh_install(world):
    response = world.get("/v1/admin/overview", "usr_root")

    view = FleetOverview.model_validate(response.json_body)
    assert view.servers == {} and view.nodes.items == [] and view.last_reconcile is None
    assert (view.failed_operations_24h, view.dead_letters, view.counted_at) == (0, 0, None)


def test_dead_letters_are_listed_without_being_consumed(world):
    _dead_letter(world, "evt_1", "invoice.paid")
    _dead_letter(world, "evt_2", "customer.subscription.updated")

    first = DeadLetterList.model_validate(world.get("/v1/admin/dead-letters", "usr_root").json_body)
    again = DeadLetterList.model_validate(world.get("/v1/admin/dead-letters", "usr_root").json_body)

    assert sorted((d.event_id, d.type) for d in first.items) == [
        ("evt_1", "invoice.paid"),
        ("evt_2", "customer.subscription.updated"),
    ]
    assert sorted(d.event_id for d in again.items) == ["evt_1", "evt_2"]
    depth = world.sqs.get_queue_attributes(QueueUrl=world.dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert depth["Attributes"]["ApproximateNumberOfMessages"] == "2"


def test_redrive_sends_the_dead_letters_back_once(world):
    _dead_letter(world, "evt_1")
    _dead_letter(world, "evt_2")

    moved = world.post("/v1/admin/dead-letters/redrive", "usr_root", {})
    again = world.post("/v1/admin/dead-letters/redrive", "usr_root", {})

    assert (moved.json_body, again.json_body) == ({"moved": 2}, {"moved": 0})
    back = world.sqs.receive_message(QueueUrl=world.source, MaxNumberOfMessages=10)
    assert sorted(json.loads(m["Body"])["id"] for m in back["Messages"]) == ["evt_1", "evt_2"]
    assert DeadLetterList.model_validate(world.get("/v1/admin/dead-letters", "usr_root").json_body).items == []


def test_dead_letters_are_503_when_the_queue_is_not_configured(world):
    off = bootstrap.settings().model_copy(update={"stripe_events_dlq_url": None})
    with bootstrap.override(settings=off):
        response = world.get("/v1/admin/dead-letters", "usr_root")

    assert response.status_code == 503


def test_migration_0016_counts_existing_tenants_and_servers_before_any_reconcile_run(world):
    from mamba.migrations.versions import m0016_fleet_counters as m0016

    node = _node(world, "big", 8192, 100000)
    _server("aaaaaaaa-0000-4000-8000-000000000001", "tn_a", node, "running", 1024, 5000)
    before = FleetOverview.model_validate(world.get("/v1/admin/overview", "usr_root").json_body)
    logged: list[str] = []

    class Ctx:
        def log(self, line: str) -> None:
            logged.append(line)

    m0016.up(Ctx())  # type: ignore[arg-type]
    after = FleetOverview.model_validate(world.get("/v1/admin/overview", "usr_root").json_body)

    # tenants are counted live on creation; servers and node loads wait for a count
    assert (before.tenants, before.servers, before.counted_at) == ({"active": 2}, {}, None)
    assert (after.tenants, after.servers) == ({"active": 2}, {"running": 1})
    assert after.nodes.committed_memory_mb == 1024 and after.counted_at is not None
    assert after.last_reconcile is None and logged


def test_a_failed_server_is_counted_by_status_but_commits_nothing_on_its_node_when_recounted(world):
    from mamba.services import overview as fleet

    # Given a node with a running server and one whose provisioning failed
    node = _node(world, "big", 8192, 100000)
    _server("aaaaaaaa-0000-4000-8000-000000000001", "tn_a", node, "running", 1024, 5000)
    _server("aaaaaaaa-0000-4000-8000-000000000002", "tn_a", node, "failed", 2048, 10000)

    # When the counters are recounted (the reconcile schedule's hook)
    fleet.refresh_counters(bootstrap.fleet_stats(), datetime.now(UTC))
    view = FleetOverview.model_validate(world.get("/v1/admin/overview", "usr_root").json_body)

    # Then both count by status, and only the running one fills the node, as placement sees it
    assert view.servers == {"running": 1, "failed": 1}
    figures = {n.id: n for n in view.nodes.items}[node]
    assert (figures.committed_memory_mb, figures.committed_disk_mb) == (1024, 5000)


def test_dead_letters_show_the_first_error_each_event_met(world):
    from mamba.domain.errors import DependencyUnavailableError
    from mamba.services import overview as fleet

    errors = bootstrap.dead_letter_errors()
    now = datetime.now(UTC)
    fleet.record_failure(errors, "evt_1", DependencyUnavailableError("Stripe did not answer."), now)
    fleet.record_failure(errors, "evt_1", KeyError("later"), now + timedelta(minutes=1))  # not the first
    _dead_letter(world, "evt_1")
    _dead_letter(world, "evt_2")  # failed before errors were recorded: none

    listed = DeadLetterList.model_validate(world.get("/v1/admin/dead-letters", "usr_root").json_body)

    by_event = {d.event_id: d.first_error for d in listed.items}
    assert by_event == {"evt_1": "SERVICE_UNAVAILABLE: Stripe did not answer.", "evt_2": None}


def test_the_consumer_records_an_events_first_error_when_processing_fails(client):
    from tests.api.billing_world import add_pro_plan, billing_world, link_customer
    from tests.api.test_billing_webhook import post, sub_event
    from tests.billing_support import PRO_PRICE, signed

    with billing_world(client) as w:
        add_pro_plan(w)
        link_customer("tn_a", "cus_a")
        w.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))
        evt = sub_event("customer.subscription.created")
        post(w, *signed(evt))
        w.stripe.down = True  # the consumer's re-fetch fails

        assert len(w.drain()["batchItemFailures"]) == 1

    first = bootstrap.dead_letter_errors().first_errors([evt["id"]])
    assert first[evt["id"]]  # the error's code or class, never the event's content


def test_tenant_counts_follow_creation_and_suspension_without_a_recount(world):
    created = world.post("/v1/tenants", "usr_carol", {"name": "Carol's games"})
    assert created.status_code == 201, created.json_body
    world.post("/v1/admin/tenants/tn_a/suspend", "usr_root", {})
    world.post("/v1/admin/tenants/tn_a/suspend", "usr_root", {})  # again: counted once
    world.post("/v1/admin/tenants/tn_b/suspend", "usr_root", {})
    world.post("/v1/admin/tenants/tn_b/unsuspend", "usr_root", {})

    view = FleetOverview.model_validate(world.get("/v1/admin/overview", "usr_root").json_body)

    assert view.tenants == {"active": 2, "suspended": 1}
    assert world.get("/v1/admin/tenants/tn_a", "usr_root").json_body["status"] == "suspended"
