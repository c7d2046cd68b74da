"""The fleet routes on moto (issue 12): /v1/admin/servers, /v1/admin/nodes/{id}/servers with live
state from a real Wings simulator over HTTP, and drain. Servers (tests/api/server_world.py):
tn_a holds game, files, suspended, provisioning on node_sim and unreachable on node_dead (a port
nobody listens on); tn_b holds theirs on node_sim."""

from __future__ import annotations

import pytest

from tests.api.server_world import DEAD_NODE_ID, NODE_ID, TENANT_A, TENANT_B, server_world
from tests.support import DynamoCounter

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("admin-fleet")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with server_world(tmp_path_factory.mktemp("fleet")) as w:
        yield w


def get(world, path: str, who: str | None = "root"):
    headers = world.headers(who) if who else {}
    return world.client.http.get(path, headers=headers)


def uuids(response) -> set[str]:
    assert response.status_code == 200, response.json_body
    return {item["uuid"] for item in response.json_body["items"]}


def walk(world, query: str, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        tail = f"&cursor={cursor}" if cursor else ""
        response = get(world, f"/v1/admin/servers?limit={limit}{query}{tail}")
        assert response.status_code == 200, response.json_body
        assert len(response.json_body["items"]) <= limit
        seen += [item["uuid"] for item in response.json_body["items"]]
        cursor = response.json_body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


def test_servers_need_a_token_and_the_admin_permission(world):
    assert get(world, "/v1/admin/servers", who=None).status_code == 401
    refused = get(world, "/v1/admin/servers", who="alice")
    assert refused.status_code == 403
    assert refused.json_body["error"]["code"] == "FORBIDDEN"
    assert get(world, "/v1/admin/servers").status_code == 200


def test_servers_across_tenants_with_tenant_and_node_names(world):
    response = get(world, "/v1/admin/servers")
    assert uuids(response) == set(world.servers.values())
    by_uuid = {item["uuid"]: item for item in response.json_body["items"]}
    theirs = by_uuid[world.servers["theirs"]]
    assert theirs["tenant"] == {"id": TENANT_B, "name": TENANT_B}
    assert theirs["node"] == {"id": NODE_ID, "name": NODE_ID}
    assert by_uuid[world.servers["unreachable"]]["node"]["id"] == DEAD_NODE_ID
    assert by_uuid[world.servers["suspended"]]["status"] == "suspended"


def test_servers_page_with_a_cursor_and_every_server_once(world):
    seen = walk(world, "", limit=2)
    assert len(seen) == len(set(seen)) == len(world.servers)
    assert set(seen) == set(world.servers.values())


def test_a_cursor_of_another_filter_is_refused(world):
    first = get(world, "/v1/admin/servers?limit=1")
    cursor = first.json_body["next_cursor"]
    assert cursor
    other = get(world, f"/v1/admin/servers?limit=1&status=offline&cursor={cursor}")
    assert other.status_code == 400
    assert other.json_body["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("query", "labels"),
    [
        ("status=suspended", {"suspended"}),
        ("status=provisioning", {"provisioning"}),
        (f"node_id={DEAD_NODE_ID}", {"unreachable"}),
        (f"tenant_id={TENANT_B}", {"theirs"}),
        (f"tenant_id={TENANT_A}&node_id={NODE_ID}&status=offline", {"game", "files"}),
        (f"tenant_id={TENANT_A}&status=suspended", {"suspended"}),
        ("tenant_id=tn_nobody", set()),
    ],
)
def test_each_filter_selects_exactly_its_servers(world, query, labels):
    assert set(walk(world, f"&{query}", limit=100)) == {world.servers[label] for label in labels}


def test_q_is_a_case_insensitive_prefix_of_the_name_or_uuid(world):
    target = world.servers["theirs"]
    assert set(walk(world, f"&q={target[:6].upper()}", limit=100)) == {target}
    assert set(walk(world, f"&q=GAME%20{target[:8].upper()}", limit=100)) == {target}
    assert set(walk(world, "&q=game", limit=100)) == set(world.servers.values())
    assert walk(world, "&q=zz-no-such-server", limit=100) == []


def test_filters_are_checked(world):
    assert get(world, "/v1/admin/servers?q=" + "x" * 65).status_code == 400
    assert get(world, "/v1/admin/servers?status=%20").status_code == 400
    assert get(world, "/v1/admin/servers?limit=0").status_code == 400


@pytest.mark.parametrize("query", ["", "?status=offline", f"?tenant_id={TENANT_A}", f"?node_id={NODE_ID}", "?q=game"])
def test_no_scan_runs_and_a_page_costs_one_query(world, monkeypatch, query):
    counter = DynamoCounter(monkeypatch)
    assert get(world, f"/v1/admin/servers{query}").status_code == 200
    assert "Scan" not in counter.actions
    assert counter.actions.count("Query") == 1, counter.actions


def test_node_servers_show_the_live_state_from_wings(world):
    response = get(world, f"/v1/admin/nodes/{NODE_ID}/servers")
    assert response.status_code == 200, response.json_body
    body = response.json_body
    assert body["node_reachable"] is True
    by_uuid = {item["uuid"]: item for item in body["items"]}
    assert set(by_uuid) == {world.servers[k] for k in ("game", "files", "theirs", "suspended", "provisioning")}
    installed = by_uuid[world.servers["game"]]
    assert installed["live"] is not None
    assert installed["live"]["state"] in {"offline", "running", "starting", "stopping"}
    assert installed["tenant"]["name"] == TENANT_A
    # Known to the panel, never created on the simulator: stored state only.
    assert by_uuid[world.servers["provisioning"]]["live"] is None


def test_node_servers_follow_a_power_change(world):
    started = world.post("alice", "game", "/power", {"action": "start"})
    assert started.status_code in (202, 204), started.json_body
    states: set[str] = set()
    for _ in range(50):
        item = next(
            i for i in get(world, f"/v1/admin/nodes/{NODE_ID}/servers").json_body["items"]
            if i["uuid"] == world.servers["game"]
        )  # fmt: skip
        states.add(item["live"]["state"])
        if item["live"]["state"] == "running":
            break
    assert "running" in states or "starting" in states
    world.post("alice", "game", "/power", {"action": "kill"})


def test_a_node_that_does_not_answer_gives_the_stored_state(world):
    response = get(world, f"/v1/admin/nodes/{DEAD_NODE_ID}/servers")
    assert response.status_code == 200, response.json_body
    assert response.json_body["node_reachable"] is False
    [item] = response.json_body["items"]
    assert item["uuid"] == world.servers["unreachable"]
    assert item["live"] is None
    assert item["status"] == "offline"


def test_node_servers_permission_and_unknown_node(world):
    assert get(world, f"/v1/admin/nodes/{NODE_ID}/servers", who=None).status_code == 401
    assert get(world, f"/v1/admin/nodes/{NODE_ID}/servers", who="alice").status_code == 403
    assert get(world, "/v1/admin/nodes/node_nowhere/servers").status_code == 404


def test_drain_turns_maintenance_on_and_counts_the_servers_left(world):
    path = f"/v1/admin/nodes/{DEAD_NODE_ID}/drain"
    assert world.client.http.post(path, headers=world.headers("alice")).status_code == 403
    assert world.client.http.post(path).status_code == 401
    response = world.client.http.post(path, headers=world.headers("root"))
    assert response.status_code == 200, response.json_body
    assert response.json_body["node"]["maintenance"] is True
    assert response.json_body["servers_left"] == 1
    again = world.client.http.post(path, headers=world.headers("root"))
    assert again.status_code == 200
    assert again.json_body["node"]["maintenance"] is True
    assert get(world, f"/v1/admin/nodes/{DEAD_NODE_ID}").json_body["maintenance"] is True
    assert (
        world.client.http.post("/v1/admin/nodes/node_nowhere/drain", headers=world.headers("root")).status_code == 404
    )


@pytest.mark.parametrize("node_id", [NODE_ID, DEAD_NODE_ID])
def test_node_servers_run_no_scan(world, monkeypatch, node_id):
    counter = DynamoCounter(monkeypatch)
    assert get(world, f"/v1/admin/nodes/{node_id}/servers").status_code == 200
    assert "Scan" not in counter.actions
    assert counter.actions.count("Query") == 1, counter.actions


def test_server_detail_needs_the_admin_permission_and_shows_any_tenants_server(world):
    theirs = world.servers["theirs"]
    assert get(world, f"/v1/admin/servers/{theirs}", who=None).status_code == 401
    assert get(world, f"/v1/admin/servers/{theirs}", who="alice").status_code == 403

    response = get(world, f"/v1/admin/servers/{theirs.upper()}")

    assert response.status_code == 200, response.json_body
    body = response.json_body
    assert (body["uuid"], body["tenant"], body["node"]["id"]) == (theirs, {"id": TENANT_B, "name": TENANT_B}, NODE_ID)
    assert body["allocations"][0] == body["allocation"]
    assert "status_reason" in body and body["blueprint_id"]


def test_server_detail_is_404_for_an_unknown_or_malformed_id_and_costs_no_query(world, monkeypatch):
    counter = DynamoCounter(monkeypatch)
    assert get(world, f"/v1/admin/servers/{world.servers['game']}").status_code == 200
    assert "Scan" not in counter.actions and "Query" not in counter.actions
    assert counter.actions[-2:] == ["GetItem", "BatchGetItem"], counter.actions  # after the caller's own read

    assert get(world, "/v1/admin/servers/00000000-0000-4000-8000-000000000000").status_code == 404
    assert get(world, "/v1/admin/servers/not-a-uuid").status_code == 404
