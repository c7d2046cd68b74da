"""The node-health schedule end to end: moto, the real node repository (KMS token) and a
daemon stand-in over real HTTP."""

from __future__ import annotations

import pytest

from mamba.domain.nodes import Node, new_token, new_token_id
from tests.integration.test_wings_client import FakeDaemon, Reply


@pytest.fixture
def daemon():
    d = FakeDaemon()
    yield d
    d.close()


def enrol(daemon: FakeDaemon) -> tuple[Node, str]:
    from mamba import bootstrap

    port = int(daemon.url.rsplit(":", 1)[1])
    node = Node(
        id="nd_health",
        uuid="5b0f6c7e-1f3a-4e55-9d2c-0a4f3b2c1d10",
        name="health",
        fqdn="127.0.0.1",
        scheme="http",
        daemon_port=port,
        token_id=new_token_id(),
        created_at="2026-11-25T12:00:00Z",
        updated_at="2026-11-25T12:00:00Z",
    )
    token = new_token()
    bootstrap.node_repository().add(node, token)
    return node, token


def run_schedule() -> dict:
    from functions.schedules import node_health

    return node_health.handler({"detail-type": "Scheduled Event"}, None)


def test_schedule_records_online_with_version_when_the_node_answers(aws, daemon):
    from mamba import bootstrap

    # Given an enrolled node whose daemon answers /api/system
    node, token = enrol(daemon)
    daemon.replies.append(Reply(200, {"architecture": "amd64", "cpu_count": 4, "version": "1.11.11"}))

    # When the schedule runs
    result = run_schedule()

    # Then the node is online with its version, probed with the bare node token
    assert result == {"nodes": {node.id: "online"}}
    health = bootstrap.node_health_store().get(node.id)
    assert (health.status, health.version) == ("online", "1.11.11")
    assert health.last_seen_at is not None
    assert daemon.seen[0].path == "/api/system"
    assert daemon.seen[0].headers["Authorization"] == f"Bearer {token}"


def test_schedule_raises_one_node_down_event_when_three_probes_fail(aws, daemon):
    from mamba import bootstrap

    # Given an enrolled node that answers once, then only with 503
    node, _ = enrol(daemon)
    daemon.replies.append(Reply(200, {"version": "1.11.11"}))
    run_schedule()
    daemon.default = Reply(503, b"")

    # When the schedule runs three more times
    for _ in range(3):
        run_schedule()

    # Then the node is offline, with one node.down event that keeps the last-seen time
    store = bootstrap.node_health_store()
    health = store.get(node.id)
    assert (health.status, health.consecutive_failures, health.alerted) == ("offline", 3, True)
    events = store.events(node.id)
    assert [e.type for e in events] == ["node.down"]
    assert events[0].detail["last_seen_at"] == health.last_seen_at
    assert store.health_of([node.id, "nd_unknown"]).keys() == {node.id}
    assert len(daemon.seen) == 4  # probes are not retried


def test_admin_node_list_shows_health_when_the_schedule_has_probed(client, daemon):
    from tests.api.admin_support import callers

    # Given an enrolled node probed once while up, and one never probed
    who = callers()
    node, _ = enrol(daemon)
    daemon.replies.append(Reply(200, {"version": "1.11.11"}))
    run_schedule()
    never = client.http.post(
        "/v1/admin/nodes",
        body='{"name": "Never", "location": "fra", "fqdn": "never.example.org", "memory_mb": 1024, "disk_mb": 1024}',
        headers={**who["admin"], "Content-Type": "application/json"},
    ).json_body

    # When an admin lists nodes and reads one
    listing = client.http.get("/v1/admin/nodes", headers=who["admin"]).json_body
    single = client.http.get(f"/v1/admin/nodes/{node.id}", headers=who["admin"]).json_body

    # Then the probed node shows online with its version, the other unknown
    health = {item["id"]: item["health"] for item in listing["items"]}
    assert health[node.id]["status"] == "online" and health[node.id]["version"] == "1.11.11"
    assert health[never["id"]] == {"status": "unknown", "version": None, "last_seen_at": None, "checked_at": None}
    assert single["health"]["last_seen_at"] == health[node.id]["last_seen_at"]
