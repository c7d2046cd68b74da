"""/api/application/nodes, /locations and a node's /allocations on moto through the product app
(docs/pterodactyl-api.md, "Nodes, locations and allocations"): the same node registry as
/v1/admin/nodes, every answer checked against Pterodactyl's own shape."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.api.pterodactyl_app_world import Api, application_key
from tests.api.security_world import build_world
from tests.contract.pterodactyl_shapes import assert_shape


def _no_meta(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "meta"}


@pytest.fixture
def api(client) -> Api:
    world = build_world()
    api = Api(client, application_key(client, world))
    api.world = world  # type: ignore[attr-defined]
    return api


def _location(api: Api, short: str = "fra", long: str | None = "Frankfurt") -> dict:
    made = api.post("/locations", {"short": short, "long": long})
    assert made.status_code == 201, made.json_body
    return made.json_body["attributes"]


def _node(api: Api, location_id: int, name: str = "FRA-1", **over) -> dict:
    body = {
        "name": name,
        "location_id": location_id,
        "fqdn": "node1.example.com",
        "scheme": "https",
        "memory": 8192,
        "memory_overallocate": 0,
        "disk": 100000,
        "disk_overallocate": 10,
        "daemon_listen": 8080,
        "daemon_sftp": 2022,
        **over,
    }
    made = api.post("/nodes", body)
    assert made.status_code == 201, made.json_body
    return made.json_body["attributes"]


def test_a_location_is_created_read_listed_renamed_and_deleted(api):
    made = api.post("/locations", {"short": "fra", "long": "Frankfurt"})

    assert made.status_code == 201
    assert_shape("application_location", _no_meta(made.json_body))
    location = made.json_body["attributes"]
    assert made.json_body["meta"]["resource"].endswith(f"/api/application/locations/{location['id']}")
    assert api.get(f"/locations/{location['id']}").json_body["attributes"] == location
    listed = api.get("/locations?filter[long]=frank").json_body
    assert [loc["attributes"]["short"] for loc in listed["data"]] == ["fra"]
    assert listed["meta"]["pagination"]["total"] == 1
    changed = api.patch(f"/locations/{location['id']}", {"long": "Frankfurt am Main"})
    assert changed.status_code == 200 and changed.json_body["attributes"]["long"] == "Frankfurt am Main"
    assert_shape("application_location", changed.json_body)
    assert api.delete(f"/locations/{location['id']}").status_code == 204
    assert api.get(f"/locations/{location['id']}").status_code == 404


def test_py_dactyls_shortcode_and_description_are_a_locations_short_and_long(api):
    made = api.post("/locations", {"shortcode": "nyc", "description": "New York"})

    assert made.status_code == 201, made.json_body
    assert (made.json_body["attributes"]["short"], made.json_body["attributes"]["long"]) == ("nyc", "New York")
    changed = api.patch(f"/locations/{made.json_body['attributes']['id']}", {"description": "NYC"})
    assert changed.json_body["attributes"]["long"] == "NYC"


def test_a_taken_short_code_is_a_422_and_it_cannot_be_renamed(api):
    location = _location(api)

    taken = api.post("/locations", {"short": "fra"})
    assert taken.status_code == 422 and taken.json_body["errors"][0]["meta"]["source_field"] == "short"
    renamed = api.patch(f"/locations/{location['id']}", {"short": "ams"})
    assert renamed.status_code == 422 and renamed.json_body["errors"][0]["meta"]["source_field"] == "short"


def test_a_nodes_location_is_a_location_and_one_with_nodes_is_not_deleted(api, client):
    # A node registered on /v1 with a location nobody made here
    made = client.http.post(
        "/v1/admin/nodes",
        headers=api.world.headers("root"),
        body=json.dumps(
            {"name": "AMS 1", "location": "ams", "fqdn": "ams1.example.com", "memory_mb": 1024, "disk_mb": 1024}
        ),
    )
    assert made.status_code == 201, made.json_body

    listed = api.get("/locations?include=nodes").json_body["data"]
    assert [(loc["attributes"]["short"], loc["attributes"]["long"]) for loc in listed] == [("ams", None)]
    assert_shape(
        "application_location",
        {**listed[0], "attributes": {k: v for k, v in listed[0]["attributes"].items() if k != "relationships"}},
    )
    nodes = listed[0]["attributes"]["relationships"]["nodes"]["data"]
    assert [n["attributes"]["name"] for n in nodes] == ["AMS 1"]
    refused = api.delete(f"/locations/{listed[0]['attributes']['id']}")
    assert refused.status_code == 409


def test_a_node_is_registered_in_the_same_registry_read_and_listed(api, client):
    location = _location(api)

    node = _node(api, location["id"])

    assert_shape("application_node", {"object": "node", "attributes": node})
    assert (node["location_id"], node["memory"], node["disk_overallocate"], node["daemon_listen"]) == (
        location["id"],
        8192,
        10,
        8080,
    )
    assert node["allocated_resources"] == {"memory": 0, "disk": 0}
    v1 = client.http.get("/v1/admin/nodes", headers=api.world.headers("root")).json_body["items"]
    assert [(n["name"], n["location"], n["memory_mb"]) for n in v1] == [("FRA-1", "fra", 8192)]
    got = api.get(f"/nodes/{node['id']}")
    assert got.status_code == 200 and got.json_body["attributes"] == node
    second = _node(api, location["id"], name="FRA-2", memory=16384)
    by_memory = api.get("/nodes?sort=-memory").json_body
    assert_shape("application_user_list", {**by_memory, "data": []})  # the list envelope and its pagination
    assert [n["attributes"]["id"] for n in by_memory["data"]] == [second["id"], node["id"]]
    assert [n["attributes"]["name"] for n in api.get("/nodes?filter[name]=fra-2").json_body["data"]] == ["FRA-2"]


def test_a_node_with_includes_carries_its_location_and_allocations(api):
    location = _location(api)
    node = _node(api, location["id"])
    assert api.post(f"/nodes/{node['id']}/allocations", {"ip": "10.0.0.5", "ports": ["25565"]}).status_code == 204

    body = api.get(f"/nodes/{node['id']}?include=location,allocations").json_body

    relationships = body["attributes"].pop("relationships")
    assert_shape("application_node", body)
    assert_shape("application_location", relationships["location"])
    assert relationships["location"]["attributes"]["short"] == "fra"
    assert [a["attributes"]["port"] for a in relationships["allocations"]["data"]] == [25565]
    assert api.get(f"/nodes/{node['id']}?include=secrets").status_code == 400


def test_the_configuration_is_the_same_wings_document_as_v1_with_the_token(api, client):
    node = _node(api, _location(api)["id"])

    config = api.get(f"/nodes/{node['id']}/configuration")

    assert config.status_code == 200
    assert_shape("application_node_configuration", config.json_body)
    v1_nodes = client.http.get("/v1/admin/nodes", headers=api.world.headers("root")).json_body["items"]
    yml = client.http.get(f"/v1/admin/nodes/{v1_nodes[0]['id']}/configuration", headers=api.world.headers("root"))
    expected = yaml.safe_load(yml.body)
    expected.pop("allowed_origins")
    assert config.json_body == expected
    assert len(config.json_body["token"]) == 64 and config.json_body["api"]["ssl"]["enabled"] is True


def test_patch_changes_fields_and_reset_secret_issues_a_new_token(api):
    node = _node(api, _location(api)["id"])
    before = api.get(f"/nodes/{node['id']}/configuration").json_body

    changed = api.patch(f"/nodes/{node['id']}", {"memory": 4096, "maintenance_mode": True, "reset_secret": True})

    assert changed.status_code == 200, changed.json_body
    assert_shape("application_node", changed.json_body)
    assert changed.json_body["attributes"]["memory"] == 4096
    assert changed.json_body["attributes"]["maintenance_mode"] is True
    after = api.get(f"/nodes/{node['id']}/configuration").json_body
    assert after["token_id"] != before["token_id"] and after["token"] != before["token"]
    bad = api.patch(f"/nodes/{node['id']}", {"location_id": 999})
    assert bad.status_code == 422 and bad.json_body["errors"][0]["meta"]["source_field"] == "location_id"


def test_allocations_are_added_from_ports_and_ranges_listed_filtered_and_deleted(api):
    node = _node(api, _location(api)["id"])

    added = api.post(
        f"/nodes/{node['id']}/allocations",
        {"ip": "10.0.0.5", "alias": "play.example.com", "ports": ["25565", "25570-25572"]},
    )

    assert added.status_code == 204
    listed = api.get(f"/nodes/{node['id']}/allocations").json_body
    assert listed["meta"]["pagination"]["total"] == 4
    for allocation in listed["data"]:
        assert_shape("application_allocation", allocation)
    assert [a["attributes"]["port"] for a in listed["data"]] == [25565, 25570, 25571, 25572]
    assert listed["data"][0]["attributes"]["alias"] == "play.example.com"
    assert listed["data"][0]["attributes"]["assigned"] is False
    with_node = api.get(f"/nodes/{node['id']}/allocations?include=node,server").json_body["data"][0]["attributes"]
    relationships = with_node.pop("relationships")
    assert (
        relationships["node"]["attributes"]["id"] == node["id"] and relationships["server"]["object"] == "null_resource"
    )
    assert_shape("application_node", relationships["node"])
    only = api.get(f"/nodes/{node['id']}/allocations?filter[port]=25571").json_body["data"]
    assert [a["attributes"]["port"] for a in only] == [25571]
    assert (
        api.get(f"/nodes/{node['id']}/allocations?filter[ip_alias]=PLAY").json_body["meta"]["pagination"]["total"] == 4
    )
    assert (
        api.get(f"/nodes/{node['id']}/allocations?filter[server_id]=none").json_body["meta"]["pagination"]["total"] == 4
    )
    assert api.get(f"/nodes/{node['id']}/allocations?filter[server_id]=7").json_body["data"] == []
    doomed = only[0]["attributes"]["id"]
    assert api.delete(f"/nodes/{node['id']}/allocations/{doomed}").status_code == 204
    assert api.delete(f"/nodes/{node['id']}/allocations/{doomed}").status_code == 404
    assert api.get(f"/nodes/{node['id']}/allocations").json_body["meta"]["pagination"]["total"] == 3
    again = api.post(f"/nodes/{node['id']}/allocations", {"ip": "10.0.0.5", "ports": ["25565"]})
    assert again.status_code == 409


def test_an_allocation_of_another_node_is_not_found_under_this_one(api):
    location = _location(api)
    first, second = _node(api, location["id"]), _node(api, location["id"], name="FRA-2")
    api.post(f"/nodes/{first['id']}/allocations", {"ip": "10.0.0.5", "ports": ["25565"]})
    allocation = api.get(f"/nodes/{first['id']}/allocations").json_body["data"][0]["attributes"]["id"]

    assert api.delete(f"/nodes/{second['id']}/allocations/{allocation}").status_code == 404
    assert api.get(f"/nodes/{first['id']}/allocations").json_body["meta"]["pagination"]["total"] == 1


def test_deployable_nodes_have_room_and_are_not_in_maintenance(api):
    fra, ams = _location(api), _location(api, "ams", "Amsterdam")
    small = _node(api, fra["id"], name="small", memory=1024)
    big = _node(api, ams["id"], name="big", memory=65536)
    resting = _node(api, ams["id"], name="resting", memory=65536, maintenance_mode=True)

    roomy = api.get("/nodes/deployable?memory=2048&disk=1000").json_body
    assert [n["attributes"]["id"] for n in roomy["data"]] == [big["id"]]
    anywhere = api.get("/nodes/deployable?memory=512&disk=1000").json_body["data"]
    assert {n["attributes"]["id"] for n in anywhere} == {small["id"], big["id"]} and resting["id"] not in anywhere
    in_fra = api.get(f"/nodes/deployable?memory=512&disk=1000&location_ids[]={fra['id']}").json_body["data"]
    assert [n["attributes"]["id"] for n in in_fra] == [small["id"]]
    missing = api.get("/nodes/deployable?disk=1")
    assert missing.status_code == 422 and missing.json_body["errors"][0]["meta"]["source_field"] == "memory"


def test_a_node_is_deleted_and_then_not_found(api):
    node = _node(api, _location(api)["id"])

    assert api.delete(f"/nodes/{node['id']}").status_code == 204
    gone = api.get(f"/nodes/{node['id']}")
    assert gone.status_code == 404
    assert_shape("error_not_found", gone.json_body)


def test_a_key_without_the_nodes_right_is_refused_but_may_read_locations(api, client):
    key = application_key(client, api.world, default="none", locations="read")
    limited = Api(client, key)

    assert limited.get("/nodes").status_code == 403
    assert limited.get("/locations").status_code == 200
    assert limited.post("/locations", {"short": "x"}).status_code == 403


def test_allocated_resources_are_what_the_nodes_servers_commit(api):
    from mamba import bootstrap
    from tests.api.server_world import add_server

    node = _node(api, _location(api)["id"])
    node_id = bootstrap.ptero_ids().by_number("node", node["id"]).ref

    add_server("7c9e6679-7425-40de-944b-e07fc1f90ae7", "tn_a", node_id=node_id)
    add_server("8d9e6679-7425-40de-944b-e07fc1f90ae8", "tn_b", node_id=node_id)

    got = api.get(f"/nodes/{node['id']}").json_body["attributes"]
    assert got["allocated_resources"] == {"memory": 512, "disk": 2048}


def test_an_assigned_allocation_is_found_by_its_servers_id_and_not_deleted(api):
    from mamba import bootstrap

    node = _node(api, _location(api)["id"])
    node_id = bootstrap.ptero_ids().by_number("node", node["id"]).ref
    api.post(f"/nodes/{node['id']}/allocations", {"ip": "10.0.0.5", "ports": ["25565-25566"]})
    server = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    bootstrap.allocation_repository().assign(node_id, "10.0.0.5", 25566, server)
    number = bootstrap.ptero_ids().number("server", server, "tn_a").number

    held = api.get(f"/nodes/{node['id']}/allocations?filter[server_id]={number}").json_body["data"]
    free = api.get(f"/nodes/{node['id']}/allocations?filter[server_id]=").json_body["data"]  # as Pterodactyl

    assert [(a["attributes"]["port"], a["attributes"]["assigned"]) for a in held] == [(25566, True)]
    assert [a["attributes"]["port"] for a in free] == [25565]  # empty or not a number: the unassigned ones
    unassigned = api.get(f"/nodes/{node['id']}/allocations?filter[server_id]=none").json_body["data"]
    assert [a["attributes"]["port"] for a in unassigned] == [25565]
    refused = api.delete(f"/nodes/{node['id']}/allocations/{held[0]['attributes']['id']}")
    assert refused.status_code == 409
    assert api.delete(f"/nodes/{node['id']}").status_code == 409  # a server holds one of its allocations


def test_every_list_is_pterodactyls_paged_list_of_its_objects(api):
    location = _location(api)
    node = _node(api, location["id"])
    api.post(f"/nodes/{node['id']}/allocations", {"ip": "10.0.0.5", "ports": ["25565"]})

    for path, fixture in (
        ("/locations", "application_location"),
        ("/nodes", "application_node"),
        ("/nodes/deployable?memory=1&disk=1", "application_node"),
        (f"/nodes/{node['id']}/allocations", "application_allocation"),
        ("/users", "application_user"),
    ):
        body = api.get(path).json_body
        assert set(body) == {"object", "data", "meta"} and body["object"] == "list", path
        pagination = body["meta"]["pagination"]
        assert set(pagination) == {"total", "count", "per_page", "current_page", "total_pages", "links"}, path
        assert pagination["count"] == len(body["data"]) >= 1, path
        for row in body["data"]:
            assert_shape(fixture, row)
    external = api.post(
        "/users",
        {"email": "e@example.org", "username": "e", "first_name": "E", "last_name": "F", "external_id": "ext-1"},
    )
    assert_shape("application_user", api.get("/users/external/ext-1").json_body)
    assert external.status_code == 201
