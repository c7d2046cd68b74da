"""The simulator's console websocket (wings-contract.md §3.3, §3.4, §4) with a real websocket client."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from tests.contract.wings import shapes
from tests.contract.wings.harness import running_node

pytestmark = pytest.mark.xdist_group("wings_sim_ws")
WAIT = 15.0
USER = "9f1c0a34-2f6e-4d8b-a1de-6a2f1a7b9c10"


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with running_node(tmp_path_factory.mktemp("wings"), servers=1) as n:
        yield n


@pytest.fixture
def server(node):
    server_uuid = node.create_installed()
    yield server_uuid
    node.http("DELETE", f"/api/servers/{server_uuid}")


class Socket:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[tuple[str, list[str]]] = []

    async def send(self, event: str, *args: str) -> None:
        frame: dict[str, object] = {"event": event}
        if args:
            frame["args"] = list(args)
        await self.ws.send_str(json.dumps(frame))

    async def until(self, event: str, arg: str | None = None, timeout: float = WAIT) -> list[str]:
        """Read frames until ``event`` (with ``arg`` among its args, if given) arrives."""
        deadline = time.monotonic() + timeout
        while True:
            msg = await self.ws.receive(timeout=max(0.01, deadline - time.monotonic()))
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"socket closed waiting for {event}: {msg}")
            name, args = shapes.assert_ws_frame(msg.data)
            self.seen.append((name, args))
            if name == event and (arg is None or any(arg in a for a in args)):
                return args


def ws_url(node, server_uuid):
    return node.url.replace("http://", "ws://") + f"/api/servers/{server_uuid}/ws"


async def connect(session, node, server_uuid, origin=None):
    ws = await session.ws_connect(ws_url(node, server_uuid), origin=origin or node.panel.url)
    return Socket(ws)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def owner_token(node, server_uuid, **claims):
    return node.mint(server_uuid=server_uuid, permissions=["*"], user_uuid=USER, **claims)


def test_upgrade_is_refused_with_403_when_origin_is_not_allowed(node, server):
    async def scenario():
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_url(node, server), origin="http://evil.example")
            assert refused.value.status == 403
            # An origin from allowed_origins is accepted
            ok = await session.ws_connect(ws_url(node, server), origin="http://allowed.example")
            await ok.close()

    run(scenario())


def test_upgrade_is_404_json_when_server_is_unknown(node):
    resp = node.http(
        "GET", "/api/servers/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d/ws", token=None, headers={"Origin": node.panel.url}
    )
    assert resp.status_code == 404
    shapes.assert_daemon_error(resp.json(), shapes.NO_SERVER)


def test_auth_sends_auth_success_status_and_stats_when_token_is_valid_and_server_offline(node, server):
    async def scenario():
        async with aiohttp.ClientSession() as session:
            sock = await connect(session, node, server)
            # Given nothing is processed before auth
            await sock.send("send stats")
            assert await sock.until("jwt error") == ["jwt: no jwt present"]
            # When the client authenticates
            await sock.send("auth", owner_token(node, server))
            # Then auth success, status offline and one stats frame
            await sock.until("auth success")
            assert await sock.until("status") == ["offline"]
            stats = await sock.until("stats")
            shapes.assert_utilization(json.loads(stats[0]))
            # And a token refresh answers only auth success
            await sock.send("auth", owner_token(node, server))
            await sock.until("auth success")
            await sock.ws.close()

    run(scenario())


def test_auth_is_refused_when_token_lacks_connect_permission_or_signature_is_bad(node, server):
    async def scenario():
        async with aiohttp.ClientSession() as session:
            sock = await connect(session, node, server)
            await sock.send("auth", node.mint(server_uuid=server, permissions=["control.console"]))
            assert await sock.until("jwt error") == ["jwt: missing connect permission"]
            await sock.send("auth", owner_token(node, server)[:-3] + "AAA")
            (text,) = await sock.until("daemon error")
            assert text.startswith("Error Event [")
            await sock.send("auth", owner_token(node, server, iat=int(time.time()) - 3600))
            assert await sock.until("jwt error") == ["jwt: created too far in past (denylist)"]
            await sock.ws.close()

    run(scenario())


def test_console_power_commands_and_stats_flow_when_authenticated(node, server):
    async def scenario():
        async with aiohttp.ClientSession() as session:
            sock = await connect(session, node, server)
            await sock.send("auth", owner_token(node, server))
            await sock.until("status")
            # When the client starts the server
            await sock.send("set state", "start")
            # Then status moves through starting to running, with console output from the process
            await sock.until("status", "starting")
            await sock.until("console output", "Server ready!")
            await sock.until("status", "running")
            # And stats arrive while running
            usage = json.loads((await sock.until("stats"))[0])
            assert usage["state"] == "running"
            # When a command is sent, its echo comes back as console output
            await sock.send("send command", "say hello")
            await sock.until("console output", "echo: say hello")
            # When logs are requested, the recent lines are replayed
            await sock.send("send logs", "")
            await sock.until("console output", "Booting alpha")
            # When the client stops the server, the stop command ends it
            await sock.send("set state", "stop")
            await sock.until("status", "stopping")
            await sock.until("status", "offline")
            await sock.ws.close()

    run(scenario())


def test_commands_and_power_are_ignored_when_permissions_are_missing(node, server):
    async def scenario():
        async with aiohttp.ClientSession() as session:
            sock = await connect(session, node, server)
            await sock.send("auth", node.mint(server_uuid=server, permissions=["websocket.connect"]))
            await sock.until("status")
            await sock.send("set state", "start")
            await sock.send("send stats")
            # The stats reply proves the start was processed (and ignored) before it
            assert json.loads((await sock.until("stats"))[0])["state"] == "offline"
            await sock.ws.close()

    run(scenario())
    assert node.state(server) == "offline"


def test_denied_jti_gets_jwt_error_on_the_next_message_when_revoked(node, server):
    async def scenario():
        async with aiohttp.ClientSession() as session:
            sock = await connect(session, node, server)
            await sock.send("auth", owner_token(node, server, jti="revoke-me", iat=int(time.time())))
            await sock.until("status")
            # When the panel denies the token's jti
            resp = await asyncio.to_thread(
                node.http, "POST", f"/api/servers/{server}/ws/deny", json={"jtis": ["revoke-me"]}
            )
            assert resp.status_code == 204
            # Then the next message is answered with a jwt error
            await sock.send("send stats")
            assert await sock.until("jwt error") == ["jwt: created too far in past (denylist)"]
            await sock.ws.close()

    run(scenario())


def test_token_for_another_server_fails_on_use_when_socket_is_for_this_one(node, server):
    async def scenario():
        async with aiohttp.ClientSession() as session:
            sock = await connect(session, node, server)
            other = next(uuid for uuid in sorted(node.panel.servers) if uuid != server)
            await sock.send("auth", owner_token(node, other))
            await sock.until("auth success")
            await sock.send("send stats")
            assert await sock.until("jwt error") == ["jwt: server uuid mismatch"]
            await sock.ws.close()

    run(scenario())


def test_token_expiring_then_expired_events_arrive_when_exp_approaches(node, server):
    async def scenario():
        async with aiohttp.ClientSession() as session:
            sock = await connect(session, node, server)
            await sock.send("auth", owner_token(node, server, exp=int(time.time()) + 2))
            await sock.until("auth success")
            await sock.until("token expiring")
            await sock.until("token expired")
            await sock.send("send stats")
            assert await sock.until("jwt error") == ["jwt: exp claim is invalid"]
            await sock.ws.close()

    run(scenario())


def test_socket_closes_with_1001_when_the_server_is_deleted(node):
    server_uuid = node.create_installed()

    async def scenario():
        async with aiohttp.ClientSession() as session:
            sock = await connect(session, node, server_uuid)
            await sock.send("auth", owner_token(node, server_uuid))
            await sock.until("status")
            await asyncio.to_thread(node.http, "DELETE", f"/api/servers/{server_uuid}")
            await sock.until("deleted")
            msg = await sock.ws.receive(timeout=WAIT)
            assert msg.type == aiohttp.WSMsgType.CLOSE
            assert (msg.data, msg.extra) == (1001, "server deleted")

    run(scenario())


def test_deauthorize_user_closes_only_that_users_sockets_on_the_listed_servers(node, server):
    other_user = "0b5e3a1c-7d2f-4e8a-9c6b-1f2e3d4c5b6a"

    async def scenario():
        async with aiohttp.ClientSession() as session:
            # Given two users with a console open on the server
            mine = await connect(session, node, server)
            await mine.send("auth", owner_token(node, server))
            await mine.until("status")
            theirs = await connect(session, node, server)
            await theirs.send("auth", node.mint(server_uuid=server, permissions=["*"], user_uuid=other_user))
            await theirs.until("status")
            # When the panel deauthorizes the first user on that server (§9)
            resp = await asyncio.to_thread(
                node.http, "POST", "/api/deauthorize-user", json={"user": USER, "servers": [server]}
            )
            assert resp.status_code == 204
            # Then that user's socket is closed at once, and the other user's stays open
            msg = await mine.ws.receive(timeout=WAIT)
            while msg.type == aiohttp.WSMsgType.TEXT:  # frames sent before the close (stats)
                msg = await mine.ws.receive(timeout=WAIT)
            assert msg.type == aiohttp.WSMsgType.CLOSE
            assert (msg.data, msg.extra) == (4409, "deauthorized")
            await theirs.send("send stats")
            await theirs.until("stats")
            await theirs.ws.close()

    run(scenario())


def test_deauthorize_user_needs_a_user_and_the_node_token(node):
    assert node.http("POST", "/api/deauthorize-user", json={"servers": []}).status_code == 400
    assert node.http("POST", "/api/deauthorize-user", token="wrong", json={"user": USER}).status_code == 403
