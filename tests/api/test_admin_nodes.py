"""/v1/admin/nodes and allocations through the real app, guard and repositories on moto."""

from __future__ import annotations

import json

import pytest
import yaml

from mamba.schemas.nodes import AllocationList, AllocationsCreated, NodeList, NodeOut
from tests.api.admin_support import callers

NODE = {"name": "Frankfurt 1", "location": "fra", "fqdn": "node1.example.com", "memory_mb": 65536, "disk_mb": 512000}


@pytest.fixture
def who(client):
    return callers()


def post(client, path, body, headers):
    return client.http.post(path, body=json.dumps(body), headers={**headers, "Content-Type": "application/json"})


def patch(client, path, body, headers):
    return client.http.patch(path, body=json.dumps(body), headers={**headers, "Content-Type": "application/json"})


@pytest.fixture
def node(client, who):
    response = post(client, "/v1/admin/nodes", NODE, who["admin"])
    assert response.status_code == 201, response.json_body
    return response.json_body


def test_admin_creates_a_node_with_a_token_id_when_the_body_is_valid(client, who):
    response = post(client, "/v1/admin/nodes", {**NODE, "tags": ["ssd", "ssd", "eu"]}, who["admin"])

    assert response.status_code == 201, response.json_body
    body = NodeOut.model_validate(response.json_body)
    assert len(body.token_id) == 16 and "." not in body.token_id
    assert body.connection_address == "https://node1.example.com:8080"
    assert body.tags == ["ssd", "eu"]
    assert "token" not in response.json_body


def test_node_routes_are_forbidden_when_the_caller_is_not_a_platform_admin(client, who, node):
    for method, path in [
        ("get", "/v1/admin/nodes"),
        ("get", f"/v1/admin/nodes/{node['id']}"),
        ("get", f"/v1/admin/nodes/{node['id']}/configuration"),
        ("get", f"/v1/admin/nodes/{node['id']}/allocations"),
    ]:
        response = getattr(client.http, method)(path, headers=who["user"])
        assert response.status_code == 403, path
    assert client.http.get("/v1/admin/nodes").status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fqdn": "not a host!"}, "fqdn"),
        ({"scheme": "ftp"}, "scheme"),
        ({"daemon_port": 70000}, "daemon_port"),
        ({"memory_mb": -1}, "memory_mb"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_create_is_400_naming_the_field_when_it_is_invalid(client, who, change, field):
    response = post(client, "/v1/admin/nodes", {**NODE, **change}, who["admin"])

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "VALIDATION_ERROR"
    assert field in json.dumps(response.json_body["error"]["details"])


def test_list_pages_nodes_with_a_cursor_when_there_are_more_than_the_limit(client, who):
    for i in range(3):
        post(client, "/v1/admin/nodes", {**NODE, "name": f"n{i}"}, who["admin"])

    first = client.http.get("/v1/admin/nodes?limit=2", headers=who["admin"])
    page = NodeList.model_validate(first.json_body)
    second = client.http.get(f"/v1/admin/nodes?limit=2&cursor={page.next_cursor}", headers=who["admin"])

    assert [n.name for n in page.items] + [n["name"] for n in second.json_body["items"]] == ["n0", "n1", "n2"]
    assert second.json_body["next_cursor"] is None
    assert client.http.get("/v1/admin/nodes?cursor=%%%", headers=who["admin"]).status_code == 400
    assert client.http.get("/v1/admin/nodes?limit=0", headers=who["admin"]).status_code == 400


def test_patch_changes_only_the_given_fields_when_the_node_exists(client, who, node):
    response = patch(client, f"/v1/admin/nodes/{node['id']}", {"maintenance": True, "scheme": "http"}, who["admin"])

    assert response.status_code == 200, response.json_body
    assert response.json_body["maintenance"] is True
    assert response.json_body["connection_address"] == "http://node1.example.com:8080"
    assert response.json_body["name"] == NODE["name"]
    again = client.http.get(f"/v1/admin/nodes/{node['id']}", headers=who["admin"])
    assert again.json_body["maintenance"] is True


def test_unknown_node_is_404_when_read_changed_or_deleted(client, who):
    assert client.http.get("/v1/admin/nodes/node_nope", headers=who["admin"]).status_code == 404
    assert patch(client, "/v1/admin/nodes/node_nope", {"name": "x"}, who["admin"]).status_code == 404
    assert client.http.delete("/v1/admin/nodes/node_nope", headers=who["admin"]).status_code == 404
    assert post(client, "/v1/admin/nodes/node_nope/rotate-token", {}, who["admin"]).status_code == 404
    assert client.http.get("/v1/admin/nodes/node_nope/configuration", headers=who["admin"]).status_code == 404
    assert (
        post(
            client, "/v1/admin/nodes/node_nope/allocations", {"ip": "10.0.0.1", "ports": [1]}, who["admin"]
        ).status_code
        == 404
    )


def test_configuration_is_the_wings_config_yml_when_fetched(client, who, node):
    # When the configuration is fetched
    response = client.http.get(f"/v1/admin/nodes/{node['id']}/configuration", headers=who["admin"])

    # Then it is YAML with every key and type of wings-contract §6
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-yaml"
    config = yaml.safe_load(response.body)
    assert config["debug"] is False
    assert config["uuid"] == node["uuid"]
    assert config["token_id"] == node["token_id"]
    assert isinstance(config["token"], str) and len(config["token"]) == 64 and "." not in config["token"]
    assert config["token"].isalnum() and config["token_id"].isalnum()
    assert config["api"]["host"] == "0.0.0.0"
    assert config["api"]["port"] == 8080 and isinstance(config["api"]["port"], int)
    assert config["api"]["ssl"] == {
        "enabled": True,
        "cert": "/etc/letsencrypt/live/node1.example.com/fullchain.pem",
        "key": "/etc/letsencrypt/live/node1.example.com/privkey.pem",
    }
    assert config["api"]["upload_limit"] == 100
    assert config["system"] == {"data": "/var/lib/pterodactyl/volumes", "sftp": {"bind_port": 2022}}
    assert config["allowed_mounts"] == []
    assert config["remote"] == "http://127.0.0.1:8000"
    assert not config["remote"].endswith("/")


def test_configuration_allows_the_panels_origin_when_the_node_lists_none(client, who, node):
    # Given a node registered without allowed_origins
    assert node["allowed_origins"] == []
    # When its configuration is fetched
    config = yaml.safe_load(client.http.get(f"/v1/admin/nodes/{node['id']}/configuration", headers=who["admin"]).body)
    # Then Wings accepts the browser from the panel's origin (console, uploads), explicitly
    assert config["allowed_origins"] == ["http://127.0.0.1:8000"]


def test_configuration_carries_the_nodes_allowed_origins_when_set(client, who, node):
    # Given an admin lists the origins of two front ends (a trailing slash is dropped)
    origins = ["https://panel.example.com/", "https://staff.example.com:8443"]
    response = patch(client, f"/v1/admin/nodes/{node['id']}", {"allowed_origins": origins}, who["admin"])
    assert response.status_code == 200, response.json_body
    assert response.json_body["allowed_origins"] == ["https://panel.example.com", "https://staff.example.com:8443"]
    # When the configuration is fetched
    config = yaml.safe_load(client.http.get(f"/v1/admin/nodes/{node['id']}/configuration", headers=who["admin"]).body)
    # Then those are the origins Wings accepts
    assert config["allowed_origins"] == ["https://panel.example.com", "https://staff.example.com:8443"]


@pytest.mark.parametrize("origin", ["https://panel.example.com/api", "panel.example.com", "ftp://panel.example.com"])
def test_an_allowed_origin_with_a_path_or_no_scheme_is_refused_naming_the_field(client, who, node, origin):
    response = patch(client, f"/v1/admin/nodes/{node['id']}", {"allowed_origins": [origin]}, who["admin"])
    assert response.status_code in (400, 422)
    assert response.json_body["error"]["details"]["fields"][0]["field"] == "allowed_origins"


def test_configuration_disables_ssl_when_the_node_is_behind_a_proxy(client, who, node):
    patch(client, f"/v1/admin/nodes/{node['id']}", {"behind_proxy": True}, who["admin"])

    response = client.http.get(f"/v1/admin/nodes/{node['id']}/configuration", headers=who["admin"])

    assert yaml.safe_load(response.body)["api"]["ssl"]["enabled"] is False


def test_rotation_changes_the_token_in_the_configuration_when_requested(client, who, node):
    before = yaml.safe_load(client.http.get(f"/v1/admin/nodes/{node['id']}/configuration", headers=who["admin"]).body)

    response = post(client, f"/v1/admin/nodes/{node['id']}/rotate-token", {}, who["admin"])

    assert response.status_code == 200
    after = yaml.safe_load(client.http.get(f"/v1/admin/nodes/{node['id']}/configuration", headers=who["admin"]).body)
    assert response.json_body["token_id"] == after["token_id"] != before["token_id"]
    assert after["token"] != before["token"]
    from mamba import bootstrap

    assert bootstrap.node_repository().find_by_token_id(before["token_id"]) is None


def test_allocations_accept_a_thousand_ports_when_given_as_ranges(client, who, node):
    # When 1,000 ports are added as two ranges
    response = post(
        client,
        f"/v1/admin/nodes/{node['id']}/allocations",
        {"ip": "10.0.0.5", "ports": ["25000-25499", "30000-30499"], "alias": "play.example.com", "notes": "bulk"},
        who["admin"],
    )

    # Then all are created and listed in port order
    assert response.status_code == 201, response.json_body
    created = AllocationsCreated.model_validate(response.json_body)
    assert len(created.items) == 1000 and created.conflicts == []
    listed = client.http.get(f"/v1/admin/nodes/{node['id']}/allocations?limit=100", headers=who["admin"])
    page = AllocationList.model_validate(listed.json_body)
    assert [a.port for a in page.items[:2]] == [25000, 25001]
    assert page.items[0].alias == "play.example.com" and page.items[0].assigned is False
    assert page.next_cursor


def test_allocations_refuse_more_than_a_thousand_ports_when_ranges_add_up(client, who, node):
    response = post(
        client, f"/v1/admin/nodes/{node['id']}/allocations", {"ip": "10.0.0.5", "ports": ["1-1001"]}, who["admin"]
    )

    assert response.status_code == 400
    assert "ports" in json.dumps(response.json_body["error"]["details"])


@pytest.mark.parametrize(
    "body",
    [{"ip": "10.0.0.999", "ports": [1]}, {"ip": "10.0.0.5", "ports": ["5-2"]}, {"ip": "10.0.0.5", "ports": ["abc"]}],
)
def test_allocations_are_400_when_the_ip_or_a_port_is_bad(client, who, node, body):
    response = post(client, f"/v1/admin/nodes/{node['id']}/allocations", body, who["admin"])

    assert response.status_code == 400


def test_duplicate_allocations_are_reported_when_some_exist(client, who, node):
    path = f"/v1/admin/nodes/{node['id']}/allocations"
    post(client, path, {"ip": "10.0.0.5", "ports": ["25565"]}, who["admin"])

    partial = post(client, path, {"ip": "10.0.0.5", "ports": ["25565-25566"]}, who["admin"])
    full = post(client, path, {"ip": "10.0.0.5", "ports": [25565, 25566]}, who["admin"])

    assert partial.status_code == 201
    assert partial.json_body["conflicts"] == ["10.0.0.5:25565"]
    assert [a["port"] for a in partial.json_body["items"]] == [25566]
    assert full.status_code == 409
    assert full.json_body["error"]["code"] == "CONFLICT"


def test_assigned_allocation_delete_is_409_when_a_server_holds_it(client, who, node):
    path = f"/v1/admin/nodes/{node['id']}/allocations"
    post(client, path, {"ip": "10.0.0.5", "ports": [25565, 25566]}, who["admin"])
    from mamba import bootstrap

    bootstrap.allocation_repository().assign(node["id"], "10.0.0.5", 25565, "srv_1")

    held = client.http.delete(f"{path}/10.0.0.5_25565", headers=who["admin"])
    free = client.http.delete(f"{path}/10.0.0.5_25566", headers=who["admin"])
    gone = client.http.delete(f"{path}/10.0.0.5_25566", headers=who["admin"])
    bad = client.http.delete(f"{path}/nonsense", headers=who["admin"])

    assert held.status_code == 409 and held.json_body["error"]["code"] == "CONFLICT"
    assert free.status_code == 204
    assert gone.status_code == 404
    assert bad.status_code == 400
    node_delete = client.http.delete(f"/v1/admin/nodes/{node['id']}", headers=who["admin"])
    assert node_delete.status_code == 409


def test_node_delete_removes_it_when_no_server_holds_an_allocation(client, who, node):
    response = client.http.delete(f"/v1/admin/nodes/{node['id']}", headers=who["admin"])

    assert response.status_code == 204
    assert client.http.get(f"/v1/admin/nodes/{node['id']}", headers=who["admin"]).status_code == 404
