"""Power, console, websocket and files of a server on the running local stack, end to end.

The server record is written straight into the stack's DynamoDB (creating servers through the
API is the provisioning workflow's part); everything after that is the real thing: the node
(`make run`'s Wings simulator) creates the server by fetching its configuration from the
panel's remote API, installs the seeded line-server blueprint and calls back; the tenant member
then drives it through the panel's HTTP API only.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import requests
import yaml

from tests.e2e.conftest import Stack
from tests.e2e.test_identity_flow import bearer, fresh_email, register, session_of, verify_from_mailbox

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

LOCAL_NODE = "node_local"
LINE_SERVER = "bp_line_server"
WAIT = 60.0


def wait_until(check: Any, what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def stack_servers(stack: Stack) -> Iterator[Any]:
    """The server repository pointed at the stack's DynamoDB for one test, then put back."""
    from mamba import bootstrap
    from mamba.adapters.dynamo import items
    from mamba.adapters.dynamo.servers import DynamoServerRepository

    saved = (items.MainItem.Meta.table_name, items.MainItem.Meta.region, items.MainItem.Meta.host)
    items.bind("mamba-main", "us-east-1", stack.aws)
    try:
        yield DynamoServerRepository()
    finally:
        items.bind(*saved)
        bootstrap.reset()


def test_member_drives_a_server_on_the_local_node_through_the_api(
    stack: Stack, http: requests.Session, stack_servers: Any
) -> None:
    from mamba.domain.servers import Limits, Server

    # Given a verified user who owns a tenant
    email = fresh_email("control")
    register(http, stack, email, "Control E2E")
    verify_from_mailbox(http, stack, email)
    owner = bearer(session_of(http, stack, email)["access_token"])
    made = http.post(f"{stack.api}/v1/tenants", json={"name": "Control E2E"}, headers=owner, timeout=30)
    assert made.status_code == 201, made.text
    tenant_id = made.json()["id"]
    # And a line server of that tenant on the local node, created and installed by the node
    server_uuid = str(uuid.uuid4())
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    stack_servers.add(
        Server(
            uuid=server_uuid,
            name="control e2e",
            tenant_id=tenant_id,
            node_id=LOCAL_NODE,
            blueprint_id=LINE_SERVER,
            allocation=("127.0.0.1", 25573),
            docker_image="ghcr.io/parkervcp/yolks:python_3.12",
            startup="python3 line_server.py",
            environment={"MOTD": "control e2e", "MAX_PLAYERS": "5"},
            limits=Limits(memory_mb=256, disk_mb=1024, cpu_percent=100),
            status="installing",
            created_at=now,
            updated_at=now,
        )
    )
    (wings,) = stack.info["wings"]
    node_token = yaml.safe_load((stack.local_dir / "wings" / "config.yml").read_text())["token"]
    node = {"Authorization": f"Bearer {node_token}"}
    created = http.post(
        f"{wings}/api/servers", json={"uuid": server_uuid, "start_on_completion": False}, headers=node, timeout=30
    )
    assert created.status_code == 202, created.text
    try:
        wait_until(lambda: stack_servers.get(server_uuid).status == "offline", "the install callback")
        base = f"{stack.api}/v1/tenants/{tenant_id}/servers/{server_uuid}"

        # When the owner starts it, it runs
        started = http.post(f"{base}/power", json={"action": "start"}, headers=owner, timeout=30)
        assert started.status_code == 202, started.text
        wait_until(
            lambda: http.get(f"{base}/resources", headers=owner, timeout=30).json().get("state") == "running",
            "running",
        )
        # And a command comes back in the console
        sent = http.post(f"{base}/commands", json={"command": "say hello e2e"}, headers=owner, timeout=30)
        assert sent.status_code == 204, sent.text
        wait_until(
            lambda: "[Server] hello e2e" in http.get(f"{base}/logs", headers=owner, timeout=30).json()["lines"],
            "the command's answer in the logs",
        )

        # And the minted websocket token opens the node's console
        socket = http.get(f"{base}/websocket", headers=owner, timeout=30).json()
        assert socket["socket"].startswith(wings.replace("http://", "ws://"))
        assert _websocket_events(socket, origin=stack.api) >= {"auth success", "status", "stats"}

        # And files round-trip through the API and the signed URLs
        files = f"{base}/files"
        wrote = http.post(f"{files}/write", json={"path": "/e2e/a.txt", "content": "alpha"}, headers=owner, timeout=30)
        assert wrote.status_code == 204, wrote.text
        got = http.get(f"{files}/contents", params={"file": "/e2e/a.txt"}, headers=owner, timeout=30)
        assert got.json()["content"] == "alpha"
        moved = http.post(
            f"{files}/rename",
            json={"root": "/e2e", "files": [{"from": "a.txt", "to": "b.txt"}]},
            headers=owner,
            timeout=30,
        )
        assert moved.status_code == 204, moved.text
        upload = http.post(f"{files}/upload-url", json={"directory": "/e2e"}, headers=owner, timeout=30).json()
        assert requests.post(upload["url"], files={"files": ("up.txt", b"uploaded")}, timeout=30).status_code == 200
        listed = http.get(f"{files}/list", params={"directory": "/e2e"}, headers=owner, timeout=30).json()
        assert sorted(entry["name"] for entry in listed["items"]) == ["b.txt", "up.txt"]
        download = http.post(f"{files}/download-url", json={"path": "/e2e/up.txt"}, headers=owner, timeout=30).json()
        assert requests.get(download["url"], timeout=30).content == b"uploaded"
        gone = http.post(f"{files}/delete", json={"root": "/", "files": ["e2e"]}, headers=owner, timeout=30)
        assert gone.status_code == 204, gone.text
        root = http.get(f"{files}/list", headers=owner, timeout=30).json()["items"]
        assert "e2e" not in [entry["name"] for entry in root]

        # And a kill stops it
        killed = http.post(f"{base}/power", json={"action": "kill"}, headers=owner, timeout=30)
        assert killed.status_code == 202, killed.text
        wait_until(
            lambda: http.get(f"{base}/resources", headers=owner, timeout=30).json().get("state") == "offline",
            "offline",
        )
    finally:
        http.delete(f"{wings}/api/servers/{server_uuid}", headers=node, timeout=30)
        stack_servers.delete(server_uuid)


def _websocket_events(answer: dict[str, Any], origin: str) -> set[str]:
    async def scenario() -> set[str]:
        seen: set[str] = set()
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(answer["socket"], origin=origin)
            await ws.send_str(json.dumps({"event": "auth", "args": [answer["token"]]}))
            while not {"auth success", "status", "stats"} <= seen:
                msg = await ws.receive(timeout=30)
                assert msg.type == aiohttp.WSMsgType.TEXT, msg
                event = json.loads(msg.data)["event"]
                assert event not in ("jwt error", "daemon error"), msg.data
                seen.add(event)
            await ws.close()
        return seen

    return asyncio.run(asyncio.wait_for(scenario(), 90))
