"""The daemon side of wings-contract.md, replayed over real HTTP against the Wings simulator.

The same shape checks (tests/contract/wings/shapes.py) are applied to the panel's remote API by
tests/contract/remote; here they check the simulator and the FakePanel it boots against.
"""

from __future__ import annotations

import pytest

from tests.contract.wings import shapes

pytestmark = pytest.mark.xdist_group("wings_sim_contract")

SERVER_ROUTES = [
    ("GET", ""),
    ("DELETE", ""),
    ("GET", "/logs"),
    ("POST", "/power"),
    ("POST", "/commands"),
    ("POST", "/install"),
    ("POST", "/reinstall"),
    ("POST", "/sync"),
    ("POST", "/ws/deny"),
    ("GET", "/files/contents?file=a"),
    ("GET", "/files/list-directory"),
    ("PUT", "/files/rename"),
    ("POST", "/files/copy"),
    ("POST", "/files/write?file=a"),
    ("POST", "/files/create-directory"),
    ("POST", "/files/delete"),
    ("POST", "/files/compress"),
    ("POST", "/files/decompress"),
    ("POST", "/files/chmod"),
    ("GET", "/files/pull"),
    ("POST", "/backup"),
]


def test_requests_without_bearer_get_401_with_www_authenticate_when_header_missing_or_wrong_scheme(node):
    for headers in ({}, {"Authorization": f"Token {node.token}"}, {"Authorization": "Bearer"}):
        # Given a request without a usable bearer
        # When it reaches the daemon API
        resp = node.http("GET", "/api/servers", token=None, headers=headers)
        # Then 401 with the exact body and the challenge header
        assert resp.status_code == 401
        shapes.assert_daemon_error(resp.json(), shapes.NOT_AUTHENTICATED, request_id=False)
        assert resp.headers["WWW-Authenticate"] == "Bearer"
        shapes.assert_common_headers(resp.headers, node.panel.url)


def test_requests_get_403_when_bearer_is_not_the_node_token(node):
    # Given the remote-style credential token_id.token, which is wrong for P→W (§8.1)
    for token in (f"{node.token_id}.{node.token}", node.token[:-1] + ("y" if node.token.endswith("x") else "x")):
        # When it calls the daemon
        resp = node.http("GET", "/api/system", token=token)
        # Then 403 with the exact body
        assert resp.status_code == 403
        shapes.assert_daemon_error(resp.json(), shapes.FORBIDDEN, request_id=False)


@pytest.mark.parametrize(("method", "suffix"), SERVER_ROUTES)
def test_server_routes_answer_404_when_server_is_unknown(node, method, suffix):
    # Given a uuid the node does not hold (uppercase of a known one: lookups are case-sensitive)
    known = sorted(node.panel.servers)[0]
    # When any server route is called
    resp = node.http(method, f"/api/servers/{known.upper()}{suffix}", json={})
    # Then 404 with the exact body
    assert resp.status_code == 404
    shapes.assert_daemon_error(resp.json(), shapes.NO_SERVER, request_id=False)


def test_cors_reflects_allowed_origin_and_options_is_204_when_preflight(node):
    # Given an origin listed in allowed_origins
    resp = node.http("OPTIONS", "/api/servers", token=None, headers={"Origin": "http://allowed.example"})
    # Then the preflight is 204 without auth, reflecting that origin
    assert resp.status_code == 204
    shapes.assert_common_headers(resp.headers, "http://allowed.example")
    # And an unknown origin gets the panel's origin
    resp = node.http("GET", "/api/system", headers={"Origin": "http://evil.example"})
    shapes.assert_common_headers(resp.headers, node.panel.url)


def test_system_matches_both_versions_when_queried(node):
    # When the panel asks for system information, plain and ?v=2
    v1 = node.http("GET", "/api/system")
    v2 = node.http("GET", "/api/system?v=2")
    # Then both shapes match §2.3
    assert v1.status_code == v2.status_code == 200
    shapes.assert_system_v1(v1.json())
    shapes.assert_system_v2(v2.json())
    assert v2.json()["docker"]["containers"]["total"] >= 3


def test_server_list_and_detail_match_the_server_object_when_booted(node):
    # When the panel lists the node's servers
    listed = node.http("GET", "/api/servers").json()
    # Then every booted server is there with the §2.4 shape
    assert {s["configuration"]["uuid"] for s in listed} >= set(node.panel.servers)
    for obj in listed:
        shapes.assert_server_object(obj)
    one = sorted(node.panel.servers)[0]
    detail = node.http("GET", f"/api/servers/{one}")
    assert detail.status_code == 200
    shapes.assert_server_object(detail.json())
    assert detail.json()["state"] == "offline"


@pytest.mark.parametrize(
    "bad", ["not-a-uuid", "D3AAC109-E5A0-4331-B03E-3454F7E136DC", "d3aac109-e5a0-1331-b03e-3454f7e136dc"]
)
def test_create_answers_422_when_uuid_is_not_lowercase_v4(node, bad):
    # When the panel creates a server with a malformed uuid
    resp = node.http("POST", "/api/servers", json={"uuid": bad, "start_on_completion": False})
    # Then 422 with the exact body
    assert resp.status_code == 422
    shapes.assert_daemon_error(resp.json(), shapes.INVALID, request_id=False)


def test_create_answers_500_when_panel_does_not_know_the_server(node):
    # Given a well-formed uuid the panel has no row for
    missing = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
    # When the panel (wrongly) calls create before committing
    resp = node.http("POST", "/api/servers", json={"uuid": missing, "start_on_completion": False})
    # Then the synchronous callback fails and the generic 500 comes back
    assert resp.status_code == 500
    shapes.assert_daemon_error(resp.json(), shapes.GENERIC, request_id=True)


def test_power_and_commands_errors_match_the_contract_when_inputs_are_wrong(node):
    one = sorted(node.panel.servers)[0]
    # When an unknown power action is sent
    resp = node.http("POST", f"/api/servers/{one}/power", json={"action": "explode"})
    # Then 422 with the exact message
    assert resp.status_code == 422
    shapes.assert_daemon_error(resp.json(), shapes.BAD_POWER)
    # When a command goes to a stopped server (checked before the body is parsed)
    resp = node.http("POST", f"/api/servers/{one}/commands", data=b"not json")
    # Then 502
    assert resp.status_code == 502
    shapes.assert_daemon_error(resp.json(), shapes.STOPPED_COMMANDS)


def test_malformed_bodies_answer_400_when_empty_or_not_json(node):
    one = sorted(node.panel.servers)[0]
    # When the body is empty, then 400 without request_id; when it is not JSON, 400 with request_id
    empty = node.http("POST", f"/api/servers/{one}/power", data=b"")
    garbage = node.http("POST", f"/api/servers/{one}/power", data=b"{nope")
    assert empty.status_code == garbage.status_code == 400
    shapes.assert_daemon_error(empty.json(), request_id=False)
    shapes.assert_daemon_error(garbage.json(), shapes.GENERIC, request_id=True)


def test_logs_match_the_shape_when_server_never_ran(node):
    one = sorted(node.panel.servers)[0]
    resp = node.http("GET", f"/api/servers/{one}/logs?size=5")
    assert resp.status_code == 200
    shapes.assert_logs(resp.json())


def test_file_stats_match_the_shape_when_listing(node):
    one = sorted(node.panel.servers)[0]
    # Given a file and a directory in the server root
    node.http("POST", f"/api/servers/{one}/files/write?file=hello.txt", data=b"hi\n")
    node.http("POST", f"/api/servers/{one}/files/create-directory", json={"name": "logs", "path": "/"})
    # When the panel lists the root
    resp = node.http("GET", f"/api/servers/{one}/files/list-directory?directory=/")
    # Then every entry is a §2.5 stat object
    assert resp.status_code == 200
    entries = {e["name"]: e for e in resp.json()}
    for entry in entries.values():
        shapes.assert_stat(entry)
    assert entries["hello.txt"]["file"] and entries["hello.txt"]["size"] == 3
    assert entries["hello.txt"]["mode_bits"] == "644"
    assert entries["logs"]["directory"] and entries["logs"]["mime"] == "inode/directory"


def test_boot_calls_carry_the_remote_headers_and_the_fake_panel_pages_match_the_contract(node):
    # Given the calls the simulator made while booting
    boot = [c for c in node.panel.calls if c.path == "/api/remote/servers"]
    # Then it asked for page 0 first, then page 2 (the fake reports current_page 1 for page 0)
    assert [c.query["page"] for c in boot] == [["0"], ["2"]]
    for call in node.panel.calls:
        shapes.assert_remote_headers(call.headers, node.token_id, node.token)
    # And the fake panel's pages obey the same remote-side shape the real panel is held to
    for page in (0, 1, 2):
        shapes.assert_server_list_page(node.panel.page({"page": [str(page)], "per_page": ["2"]}), page, 2)
    for uuid, document in node.panel.servers.items():
        shapes.assert_configuration_document(document)
        shapes.assert_install_document(node.panel.installs[uuid])
    reset = node.panel.wait_for("POST", "/api/remote/servers/reset")
    assert reset.body is None and reset.headers.get("Content-Length") == "4"  # the literal JSON null
