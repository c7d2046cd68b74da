"""Power, console, logs, resources and the console websocket, through the real app on moto and a
real Wings simulator over HTTP (tests/api/server_world.py)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import jwt
import pytest

from tests.api.server_world import TENANT_A, server_world
from tests.contract.wings.harness import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("server-control")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with server_world(tmp_path_factory.mktemp("control")) as w:
        yield w


def error(response) -> dict:
    return response.json_body["error"]


def console_lines(world, label="game"):
    response = world.get("alice", label, "/logs?size=100")
    assert response.status_code == 200, response.body[:300]
    return response.json_body["lines"]


def test_power_start_runs_the_server_and_a_command_comes_back_in_the_console(world):
    # When the owner starts the server
    started = world.post("alice", "game", "/power", {"action": "start"})
    # Then Wings accepted it, and the node reports it running
    assert started.status_code == 202, started.body[:300]
    assert started.json_body == {"server_id": world.servers["game"], "action": "start", "accepted": True}
    wait_until(lambda: world.get("alice", "game", "/resources").json_body["state"] == "running", what="running")
    # When an operator sends a command
    sent = world.post("olga", "game", "/commands", {"command": "say hello from the panel"})
    # Then it is echoed in the console output the logs route reads back
    assert sent.status_code == 204, sent.body[:300]
    wait_until(lambda: "echo: say hello from the panel" in console_lines(world), what="the echoed command")
    # And a kill stops it
    killed = world.post("alice", "game", "/power", {"action": "kill"})
    assert killed.status_code == 202
    wait_until(lambda: world.sim.state(world.servers["game"]) == "offline", what="offline")


def test_power_sends_wait_seconds_so_a_busy_server_reports_instead_of_dropping(world, monkeypatch):
    # Given the Wings client's power call is observed (the request still goes to the simulator)
    from mamba.adapters.wings.client import WingsHttpNodeAgent

    seen = []
    original = WingsHttpNodeAgent.power

    def spy(self, server_uuid, action, *, wait_seconds=None):
        seen.append((action, wait_seconds))
        return original(self, server_uuid, action, wait_seconds=wait_seconds)

    monkeypatch.setattr(WingsHttpNodeAgent, "power", spy)
    # When
    response = world.post("alice", "game", "/power", {"action": "stop"})
    # Then
    assert response.status_code == 202
    assert seen == [("stop", 30)]


def test_command_to_a_stopped_server_is_409_with_wings_reason(world):
    world.sim.http("POST", f"/api/servers/{world.servers['game']}/power", json={"action": "kill"})
    world.sim.wait_state(world.servers["game"], "offline")

    response = world.post("alice", "game", "/commands", {"command": "list"})

    assert response.status_code == 409, response.body[:300]
    assert error(response)["code"] == "WINGS_REJECTED"
    assert "stopped" in error(response)["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"action": "explode"}, "action"), ({}, "action"), ({"action": "start", "extra": 1}, "extra")],
)
def test_power_body_is_400_when_invalid(world, body, field):
    response = world.post("alice", "game", "/power", body)

    assert response.status_code == 400
    assert field in json.dumps(error(response)["details"])


@pytest.mark.parametrize("command", ["", "two\nlines", "x" * 2001, "nul\x00byte"])
def test_command_is_400_when_empty_multiline_or_too_long(world, command):
    response = world.post("alice", "game", "/commands", {"command": command})

    assert response.status_code == 400, response.body[:300]
    assert error(response)["code"] == "VALIDATION_ERROR"


def test_power_is_409_when_the_server_is_suspended_or_still_provisioning(world):
    for label, status in (("suspended", "suspended"), ("provisioning", "provisioning")):
        response = world.post("alice", label, "/power", {"action": "start"})
        assert response.status_code == 409, response.body[:300]
        assert error(response)["code"] == "CONFLICT"
        assert error(response)["details"]["status"] == status


def test_node_down_is_503_node_unavailable_with_advice(world):
    response = world.post("alice", "unreachable", "/power", {"action": "start"})

    assert response.status_code == 503, response.body[:300]
    assert error(response)["code"] == "NODE_UNAVAILABLE"
    assert "Try again" in error(response)["message"]


def test_another_tenants_server_is_404_on_every_control_route(world):
    # Given alice (tenant A) names tenant B's server under her own tenant
    for method, tail, body in (
        ("post", "/power", {"action": "start"}),
        ("post", "/commands", {"command": "list"}),
        ("get", "/logs", None),
        ("get", "/resources", None),
        ("get", "/websocket", None),
    ):
        if method == "get":
            response = world.get("alice", "theirs", tail)
        else:
            response = world.post("alice", "theirs", tail, body)
        # Then it does not exist for her
        assert response.status_code == 404, (tail, response.body[:300])
        assert error(response)["code"] == "NOT_FOUND"


def test_unknown_or_malformed_server_id_is_404(world):
    for server_id in ("00000000-0000-4000-8000-000000000000", "not-a-uuid", "D3AAC109-E5A0-4331-B03E-3454F7E136DC"):
        response = world.client.http.get(
            f"/v1/tenants/{TENANT_A}/servers/{server_id}/resources", headers=world.headers("alice")
        )
        assert response.status_code == 404, server_id


def test_viewer_reads_logs_but_cannot_power_or_open_the_console(world):
    assert world.get("vic", "game", "/logs").status_code == 200
    assert world.post("vic", "game", "/power", {"action": "start"}).status_code == 403
    assert world.post("vic", "game", "/commands", {"command": "list"}).status_code == 403
    assert world.get("vic", "game", "/websocket").status_code == 403


def test_logs_size_is_400_when_out_of_range(world):
    for size in ("0", "101", "abc"):
        response = world.get("alice", "game", f"/logs?size={size}")
        assert response.status_code == 400, size


# --- the websocket token --------------------------------------------------------------------


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def _authenticate(world, answer) -> list[tuple[str, list[str]]]:
    """Open the socket the panel named, send the token's auth, read frames until auth
    success and a status and a stats (or an error)."""
    frames: list[tuple[str, list[str]]] = []
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(answer["socket"], origin=world.sim.panel.url)
        await ws.send_str(json.dumps({"event": "auth", "args": [answer["token"]]}))
        names: set[str] = set()
        while not ({"auth success", "status", "stats"} <= names or names & {"jwt error", "daemon error"}):
            msg = await ws.receive(timeout=15)
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            frame = json.loads(msg.data)
            frames.append((frame["event"], frame.get("args") or []))
            names.add(frame["event"])
        await ws.close()
    return frames


def test_websocket_token_authenticates_on_the_node_and_receives_status_and_stats(world):
    # When an operator asks for a console token
    response = world.get("olga", "game", "/websocket")
    # Then the socket is the node's, and the simulator accepts the token
    assert response.status_code == 200, response.body[:300]
    answer = response.json_body
    assert answer["socket"] == f"{world.sim.url.replace('http://', 'ws://')}/api/servers/{world.servers['game']}/ws"
    events = [name for name, _ in run(_authenticate(world, answer))]
    assert events[0] == "auth success"
    assert {"status", "stats"} <= set(events)


def test_websocket_permissions_follow_the_callers_role(world):
    operator = jwt.decode(
        world.get("olga", "game", "/websocket").json_body["token"], options={"verify_signature": False}
    )
    root = jwt.decode(world.get("root", "game", "/websocket").json_body["token"], options={"verify_signature": False})

    assert operator["permissions"] == [
        "websocket.connect",
        "control.console",
        "control.start",
        "control.stop",
        "control.restart",
        "backup.read",
    ]
    assert "*" not in operator["permissions"] and not any(p.startswith("admin") for p in operator["permissions"])
    assert {"admin.websocket.errors", "admin.websocket.install", "admin.websocket.transfer"} <= set(root["permissions"])


def test_member_who_loses_the_console_has_their_tokens_denied_on_the_node(world):
    # Given olga (operator) holds a console token that works
    answer = world.get("olga", "game", "/websocket").json_body
    # When the owner makes her a viewer (no servers.console)
    changed = world.client.http.patch(
        f"/v1/tenants/{TENANT_A}/members/usr_olga", headers=world.headers("alice"), body=json.dumps({"role": "viewer"})
    )
    assert changed.status_code == 200, changed.body[:300]
    try:
        # Then the node refuses the token she already holds (ws/deny with her jti)
        frames = run(_authenticate(world, answer))
        assert ("jwt error", ["jwt: created too far in past (denylist)"]) in frames
        assert "auth success" not in [name for name, _ in frames]
        # And she gets no new one
        assert world.get("olga", "game", "/websocket").status_code == 403
    finally:
        world.client.http.patch(
            f"/v1/tenants/{TENANT_A}/members/usr_olga",
            headers=world.headers("alice"),
            body=json.dumps({"role": "operator"}),
        )


def test_member_change_that_keeps_the_console_denies_nothing(world):
    # Given vic (viewer, no console) is made an operator: nothing to revoke
    answer_before = world.get("alice", "game", "/websocket").json_body
    response = world.client.http.patch(
        f"/v1/tenants/{TENANT_A}/members/usr_vic", headers=world.headers("alice"), body=json.dumps({"role": "operator"})
    )
    assert response.status_code == 200
    try:
        # Then alice's token still works (nobody's jti was denied on the node)
        assert run(_authenticate(world, answer_before))[0][0] == "auth success"
    finally:
        world.client.http.patch(
            f"/v1/tenants/{TENANT_A}/members/usr_vic",
            headers=world.headers("alice"),
            body=json.dumps({"role": "viewer"}),
        )


def test_console_token_of_an_api_key_carries_only_the_keys_scopes(world):
    # Given alice (owner: power, console, backups) makes a key scoped to the console only
    made = world.client.http.post(
        "/v1/me/api-keys",
        headers=world.headers("alice"),
        body=json.dumps({"name": "console bot", "scopes": ["servers.console"]}),
    )
    assert made.status_code == 201, made.body[:300]
    key = {"Authorization": f"Bearer {made.json_body['key']}"}
    # When the key asks for a console token
    response = world.client.http.get(world.path("game", "/websocket"), headers=key)
    # Then the token cannot start or stop the server, whatever alice's role allows
    assert response.status_code == 200, response.body[:300]
    claims = jwt.decode(response.json_body["token"], world.sim.token, algorithms=["HS256"], audience=world.sim.url)
    assert claims["permissions"] == ["websocket.connect", "control.console"]
    # And the key cannot use the power route itself
    assert (
        world.client.http.post(world.path("game", "/power"), headers=key, body='{"action":"start"}').status_code == 403
    )


def test_a_suspended_servers_console_can_be_watched_but_not_driven(world):
    response = world.get("alice", "suspended", "/websocket")

    assert response.status_code == 200, response.body[:300]
    assert response.json_body["permissions"] == ["websocket.connect", "backup.read"]
    assert world.post("alice", "suspended", "/commands", {"command": "list"}).status_code == 409


def test_suspending_an_account_denies_its_console_tokens_on_the_node(world):
    # Given sam, an operator of tenant A with a working console token
    from mamba import bootstrap
    from mamba.auth.tokens import issue_access
    from tests.api.server_world import _bind, _user

    _user("usr_sam")
    _bind(TENANT_A, "usr_sam", "operator")
    world.tokens["sam"] = issue_access("usr_sam", bootstrap.settings().jwt_secret)
    answer = world.get("sam", "game", "/websocket").json_body
    # When a platform admin suspends the account
    suspended = world.client.http.post("/v1/admin/users/usr_sam/suspend", headers=world.headers("root"))
    assert suspended.status_code == 200, suspended.body[:300]
    # Then the node refuses the token sam already holds
    frames = run(_authenticate(world, answer))
    assert ("jwt error", ["jwt: created too far in past (denylist)"]) in frames
