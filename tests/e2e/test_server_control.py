"""Power, console, websocket and files of a server on the running local stack, end to end.

A tenant owner creates a line server through the API (the provision_server workflow places it
on `make run`'s node, a Wings simulator, which installs it and calls back), then drives it
through the panel's HTTP API only, and deletes it at the end.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_identity_flow import bearer, fresh_email, register, session_of, verify_from_mailbox

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

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


def finished(http: requests.Session, stack: Stack, tenant_id: str, op_id: str, owner: dict[str, str]) -> Any:
    op = http.get(f"{stack.api}/v1/tenants/{tenant_id}/operations/{op_id}", headers=owner, timeout=30).json()
    return op if op["status"] in ("succeeded", "failed") else None


def owner_with_line_server(
    http: requests.Session, stack: Stack, label: str, server: dict[str, Any]
) -> tuple[str, dict[str, str], str, str]:
    """A verified user who owns a new tenant with a line server provisioned on the local node
    (``server``: the create body beyond name and blueprint). Returns (email, owner headers,
    tenant id, server uuid)."""
    email = fresh_email(label.split()[0].lower())
    register(http, stack, email, label)
    verify_from_mailbox(http, stack, email)
    owner = bearer(session_of(http, stack, email)["access_token"])
    made = http.post(f"{stack.api}/v1/tenants", json={"name": label}, headers=owner, timeout=30)
    assert made.status_code == 201, made.text
    tenant_id = made.json()["id"]
    created = http.post(
        f"{stack.api}/v1/tenants/{tenant_id}/servers",
        json={"name": label.lower(), "blueprint_id": LINE_SERVER, **server},
        headers=owner,
        timeout=30,
    )
    assert created.status_code == 202, created.text
    op = wait_until(lambda: finished(http, stack, tenant_id, created.json()["operation"]["id"], owner), "provisioning")
    assert op["status"] == "succeeded", op
    return email, owner, tenant_id, created.json()["server"]["id"]


def test_member_drives_a_server_on_the_local_node_through_the_api(stack: Stack, http: requests.Session) -> None:
    # Given a verified user who owns a tenant, and a line server the API created, installed on the local node
    _, owner, tenant_id, server_uuid = owner_with_line_server(
        http,
        stack,
        "Control E2E",
        {"limits": {"memory_mb": 256, "disk_mb": 1024, "cpu_percent": 100}, "environment": {"MOTD": "control e2e"}},
    )
    (wings,) = stack.info["wings"]
    try:
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
        deleted = http.delete(f"{stack.api}/v1/tenants/{tenant_id}/servers/{server_uuid}", headers=owner, timeout=30)
        assert deleted.status_code == 202, deleted.text
        done = wait_until(lambda: finished(http, stack, tenant_id, deleted.json()["operation"]["id"], owner), "delete")
        assert done["status"] == "succeeded", done


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
