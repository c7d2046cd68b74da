"""POST/GET /v1/tenants/{tenant_id}/servers: quotas, placement, reservation, the 202 shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from mamba.schemas.servers import ServerCreated, ServerList, ServerOut
from tests.api.tenancy_helpers import Api, join, make_world
from tests.fakes import FakeWorkflows
from tests.server_world import add_blueprint, add_node, create_body, set_plan_quotas

BASE = "/v1/tenants/tn_a/servers"


@pytest.fixture
def world(client: Any) -> Iterator[tuple[Api, FakeWorkflows]]:
    api = make_world(client)
    add_blueprint()
    recorder = FakeWorkflows()
    set_plan_quotas("tn_a", {"servers": 10, "memory_mb": 8192, "disk_mb": 50_000})
    with bootstrap.override(workflows=recorder):
        yield api, recorder


def allocation_holder(node_id: str, ip: str, port: int) -> str | None:
    return bootstrap.allocation_repository().get(node_id, ip, port).server_id


def test_create_answers_202_with_server_and_operation_when_a_node_has_room(world):
    # Given a node with free ports
    api, recorder = world
    add_node("alpha")

    # When alice creates a server
    response = api.post(BASE, "usr_alice", create_body(start_on_completion=True))

    # Then the server is reserved (provisioning, allocation taken) and the workflow started
    assert response.status_code == 202, response.json_body
    created = ServerCreated.model_validate(response.json_body)
    server = created.server
    assert server.id == server.uuid and server.status == "provisioning" and server.node_id == "nd_alpha"
    assert (server.allocation.ip, server.allocation.port) == ("10.0.0.1", 25565)
    assert allocation_holder("nd_alpha", "10.0.0.1", 25565) == server.uuid
    assert created.operation.type == "provision_server" and created.operation.status == "pending"
    assert [s.name for s in created.operation.steps] == ["reserve", "persist", "create_on_wings", "install", "start"]
    ((workflow, op_id, payload),) = recorder.started
    assert (workflow, op_id) == ("provision_server", created.operation.id)
    assert payload["server_uuid"] == server.uuid and payload["start_on_completion"] is True
    assert payload["install_timeout_seconds"] > 0 and payload["poll_seconds"] >= 0
    stored = bootstrap.server_repository().get(server.uuid)
    assert stored.environment == {"MOTD": "welcome"} and stored.tenant_id == "tn_a"
    # And its Pterodactyl identifier is claimed at once: the client API finds it by its 8 characters
    found = bootstrap.ptero_ids().by_identifier(server.uuid[:8])
    assert found is not None and (found.ref, found.scope) == (server.uuid, "tn_a")


def test_get_and_list_show_the_server_when_it_belongs_to_the_tenant(world):
    api, _ = world
    add_node("alpha")
    server_id = api.post(BASE, "usr_alice", create_body()).json_body["server"]["id"]

    got = api.get(f"{BASE}/{server_id}", "usr_alice")
    listed = api.get(BASE, "usr_alice")

    assert got.status_code == 200
    assert ServerOut.model_validate(got.json_body).name == "My game"
    page = ServerList.model_validate(listed.json_body)
    assert [s.id for s in page.items] == [server_id] and page.next_cursor is None


def test_another_tenants_server_is_404_when_asked_through_either_tenant(world):
    api, _ = world
    add_node("alpha")
    server_id = api.post(BASE, "usr_alice", create_body()).json_body["server"]["id"]

    through_b = api.get(f"/v1/tenants/tn_b/servers/{server_id}", "usr_bob")
    listed_b = api.get("/v1/tenants/tn_b/servers", "usr_bob")

    assert through_b.status_code == 404 and through_b.json_body["error"]["code"] == "NOT_FOUND"
    assert listed_b.json_body["items"] == []


def test_unknown_or_malformed_server_id_is_404(world):
    api, _ = world

    assert api.get(f"{BASE}/00000000-0000-4000-8000-000000000000", "usr_alice").status_code == 404
    assert api.get(f"{BASE}/not-a-uuid", "usr_alice").status_code == 404


def test_list_pages_with_a_cursor_and_filters_by_status(world):
    # Given three servers, one of them marked running
    api, _ = world
    add_node("alpha", ports=range(25565, 25570))
    ids = [api.post(BASE, "usr_alice", create_body(name=f"s{i}")).json_body["server"]["id"] for i in range(3)]
    repo = bootstrap.server_repository()
    from dataclasses import replace

    repo.save(replace(repo.get(ids[1]), status="running"))

    # When listed two at a time, and filtered by status
    first = api.get(f"{BASE}?limit=2", "usr_alice").json_body
    second = api.get(f"{BASE}?limit=2&cursor={first['next_cursor']}", "usr_alice").json_body
    running = api.get(f"{BASE}?status=running", "usr_alice").json_body

    # Then the pages cover every server once, and the filter keeps only the running one
    assert [s["id"] for s in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None
    assert [s["id"] for s in running["items"]] == [ids[1]]
    assert api.get(f"{BASE}?status=bogus", "usr_alice").status_code == 400


def test_a_cursor_of_another_tenant_is_refused(world):
    api, _ = world
    add_node("alpha", ports=range(25565, 25570))
    for i in range(2):
        api.post(BASE, "usr_alice", create_body(name=f"s{i}"))
    cursor = api.get(f"{BASE}?limit=1", "usr_alice").json_body["next_cursor"]

    replayed = api.get(f"/v1/tenants/tn_b/servers?cursor={cursor}", "usr_bob")

    assert replayed.status_code == 400


def test_over_quota_is_403_naming_the_limit_before_anything_is_written(world):
    # Given a plan allowing 1024 MiB of memory
    api, recorder = world
    add_node("alpha")
    set_plan_quotas("tn_a", {"servers": 5, "memory_mb": 1024, "disk_mb": 50_000})

    # When a server asks for 2048 MiB
    response = api.post(BASE, "usr_alice", create_body(limits={"memory_mb": 2048, "disk_mb": 1024}))

    # Then 403 QUOTA_EXCEEDED names memory_mb, and no allocation or server was taken
    assert response.status_code == 403
    error = response.json_body["error"]
    assert error["code"] == "QUOTA_EXCEEDED" and error["details"]["limit"] == "memory_mb"
    assert allocation_holder("nd_alpha", "10.0.0.1", 25565) is None
    assert recorder.started == [] and api.get(BASE, "usr_alice").json_body["items"] == []


def test_server_count_quota_counts_the_tenants_servers(world):
    api, _ = world
    add_node("alpha", ports=range(25565, 25570))
    set_plan_quotas("tn_a", {"servers": 1, "memory_mb": -1, "disk_mb": -1})

    first = api.post(BASE, "usr_alice", create_body())
    second = api.post(BASE, "usr_alice", create_body())

    assert first.status_code == 202
    assert second.status_code == 403 and second.json_body["error"]["details"]["limit"] == "servers"


def test_no_node_with_room_is_409_no_capacity(world):
    api, _ = world
    add_node("small", memory_mb=256)

    response = api.post(BASE, "usr_alice", create_body())

    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "NO_CAPACITY"
    # The placement counts (why each node was ruled out) are for admins and the log only
    # (issue 10: tenant errors do not reveal the platform's nodes).
    assert response.json_body["error"]["details"] == {}


def test_no_free_port_is_409_no_capacity(world):
    api, _ = world
    add_node("alpha", ports=[25565])
    assert api.post(BASE, "usr_alice", create_body()).status_code == 202

    response = api.post(BASE, "usr_alice", create_body())

    assert response.status_code == 409 and response.json_body["error"]["code"] == "NO_CAPACITY"


def test_placement_prefers_the_least_committed_node_and_honours_location(world):
    api, _ = world
    add_node("busy", memory_mb=4096, location="fra", ip="10.0.0.1")
    add_node("idle", memory_mb=16384, location="fra", ip="10.0.0.2")
    add_node("far", memory_mb=65536, location="nyc", ip="10.0.0.3")

    placed = api.post(BASE, "usr_alice", create_body(location="fra")).json_body["server"]

    assert placed["node_id"] == "nd_idle"


def test_environment_breaking_a_variable_rule_is_400(world):
    api, _ = world
    add_node("alpha")

    response = api.post(BASE, "usr_alice", create_body(environment={"MOTD": "x" * 41}))
    unknown = api.post(BASE, "usr_alice", create_body(environment={"NOPE": "1"}))

    assert response.status_code == 400
    assert response.json_body["error"]["details"]["fields"][0]["field"] == "environment.MOTD"
    assert unknown.status_code == 400
    assert allocation_holder("nd_alpha", "10.0.0.1", 25565) is None


def test_unknown_blueprint_is_404(world):
    api, _ = world
    add_node("alpha")

    assert api.post(BASE, "usr_alice", create_body(blueprint_id="bp_none")).status_code == 404


def test_the_reservation_is_undone_when_the_workflow_cannot_start(world):
    api, recorder = world
    add_node("alpha")
    recorder.fail = True

    response = api.post(BASE, "usr_alice", create_body())

    assert response.status_code == 503
    assert allocation_holder("nd_alpha", "10.0.0.1", 25565) is None
    assert api.get(BASE, "usr_alice").json_body["items"] == []


def test_viewer_may_list_but_not_create(world):
    api, _ = world
    add_node("alpha")
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")

    assert api.get(BASE, "usr_carol").status_code == 200
    denied = api.post(BASE, "usr_carol", create_body())
    assert denied.status_code == 403 and denied.json_body["error"]["code"] == "FORBIDDEN"


def test_tenant_id_in_the_body_is_refused(world):
    api, _ = world
    add_node("alpha")

    assert api.post(BASE, "usr_alice", create_body(tenant_id="tn_b")).status_code == 400


def test_variable_value_longer_than_the_cap_is_refused(world):
    # Given a blueprint whose variable has no max rule (so only the cap bounds it)
    from mamba.domain.blueprints import Variable

    api, recorder = world
    add_node("alpha")
    add_blueprint("bp_open", variables=(Variable(name="Notes", env_variable="NOTES", rules="nullable|string"),))
    # When a value one character over the default 1 KiB cap is sent
    response = api.post(BASE, "usr_alice", create_body(blueprint_id="bp_open", environment={"NOTES": "x" * 1025}))
    # Then it is a 400 naming the field, and nothing was reserved or started
    assert response.status_code == 400, response.json_body
    error = response.json_body["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["fields"] == [
        {"field": "environment.NOTES", "message": "Notes may not be longer than 1024 characters"}
    ]
    assert recorder.started == []
    assert allocation_holder("nd_alpha", "10.0.0.1", 25565) is None
    # While exactly 1 KiB passes, and a blueprint that raised its cap takes more
    assert (
        api.post(BASE, "usr_alice", create_body(blueprint_id="bp_open", environment={"NOTES": "x" * 1024})).status_code
        == 202
    )
    add_blueprint(
        "bp_long",
        variable_max_length=8192,
        variables=(Variable(name="Notes", env_variable="NOTES", rules="nullable|string"),),
    )
    longer = api.post(BASE, "usr_alice", create_body(blueprint_id="bp_long", environment={"NOTES": "x" * 8000}))
    assert longer.status_code == 202, longer.json_body
