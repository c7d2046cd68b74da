"""An admin-suspended tenant loses every control path, on the running local stack (issue 10,
finding 4): the suspend_tenant workflow runs on moto's Step Functions with the real tasks,
and the seeded node is a Wings simulator that syncs from this panel.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
import requests
import yaml

from tests.e2e.conftest import Stack
from tests.e2e.test_billing_flow import admin_headers
from tests.e2e.test_identity_flow import bearer, fresh_email, register, session_of, verify_from_mailbox
from tests.e2e.test_server_control import finished, owner_with_line_server, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

CONTROL = {"control.console", "control.start", "control.stop", "control.restart"}


def _auth_frames(answer: dict[str, Any], origin: str) -> list[tuple[str, list[str]]]:
    """Open the node's socket with the panel's token; the frames until auth succeeds or fails."""

    async def scenario() -> list[tuple[str, list[str]]]:
        frames: list[tuple[str, list[str]]] = []
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(answer["socket"], origin=origin)
            await ws.send_str(json.dumps({"event": "auth", "args": [answer["token"]]}))
            while not {name for name, _ in frames} & {"auth success", "jwt error", "daemon error"}:
                msg = await ws.receive(timeout=30)
                assert msg.type == aiohttp.WSMsgType.TEXT, msg
                frame = json.loads(msg.data)
                frames.append((frame["event"], frame.get("args") or []))
            await ws.close()
        return frames

    return asyncio.run(asyncio.wait_for(scenario(), 60))


def test_admin_suspension_stops_every_control_path_on_the_local_node(stack: Stack, http: requests.Session) -> None:
    # Given a verified user who owns a tenant with a running line server on the local node
    _, owner, tenant_id, server_uuid = owner_with_line_server(
        http,
        stack,
        "Suspend E2E",
        {"limits": {"memory_mb": 256, "disk_mb": 512, "cpu_percent": 100}, "start_on_completion": True},
    )
    (wings,) = stack.info["wings"]
    node_token = yaml.safe_load((stack.local_dir / "wings" / "config.yml").read_text())["token"]

    def on_node() -> dict[str, Any]:
        found = http.get(
            f"{wings}/api/servers/{server_uuid}", headers={"Authorization": f"Bearer {node_token}"}, timeout=10
        )
        assert found.status_code == 200, found.text
        body: dict[str, Any] = found.json()
        return body

    base = f"{stack.api}/v1/tenants/{tenant_id}/servers/{server_uuid}"
    admin = admin_headers(http, stack)
    try:
        wait_until(lambda: on_node()["state"] == "running", "running", timeout=180)
        # And the owner holds a console token with control permissions
        before = http.get(f"{base}/websocket", headers=owner, timeout=30).json()
        assert CONTROL <= set(before["permissions"]), before["permissions"]

        # When a platform admin suspends the tenant
        suspended = http.post(f"{stack.api}/v1/admin/tenants/{tenant_id}/suspend", headers=admin, timeout=30)
        assert suspended.status_code == 200, suspended.text

        # Then the workflow suspends the server on the node and kills it
        wait_until(lambda: on_node()["is_suspended"] and on_node()["state"] == "offline", "suspended", timeout=60)

        # And the node refuses the token issued before the suspension (the workflow's
        # DenyConsoles step runs once every server is suspended)
        def refused() -> bool:
            frames = _auth_frames(before, origin=stack.api)
            return ("jwt error", ["jwt: created too far in past (denylist)"]) in frames

        wait_until(refused, "the old token refused", timeout=30)

        # And a new token only watches: it connects, with no control permission (a token
        # minted in the very second of the deny is refused too, wings-contract.md §3.4, so
        # the owner may have to ask again)
        def read_only_token_connects() -> bool:
            after = http.get(f"{base}/websocket", headers=owner, timeout=30).json()
            assert "websocket.connect" in after["permissions"] and not CONTROL & set(after["permissions"])
            return "auth success" in [name for name, _ in _auth_frames(after, origin=stack.api)]

        wait_until(read_only_token_connects, "a read-only token that connects", timeout=15)
        # And power, commands and file writes are refused
        for tail, body in (
            ("/power", {"action": "start"}),
            ("/commands", {"command": "say hi"}),
            ("/files/write", {"path": "/x.txt", "content": "x"}),
        ):
            refused = http.post(f"{base}{tail}", json=body, headers=owner, timeout=30)
            assert refused.status_code == 403, (tail, refused.text)
            assert refused.json()["error"]["code"] == "TENANT_SUSPENDED"

        # When the admin lifts the suspension
        lifted = http.post(f"{stack.api}/v1/admin/tenants/{tenant_id}/unsuspend", headers=admin, timeout=30)
        assert lifted.status_code == 200, lifted.text

        # Then the server is back on the node and can be started again
        wait_until(lambda: not on_node()["is_suspended"], "unsuspended", timeout=60)
        wait_until(
            lambda: http.get(base, headers=owner, timeout=30).json()["status"] == "offline", "offline in the panel"
        )
        assert http.post(f"{base}/power", json={"action": "start"}, headers=owner, timeout=30).status_code == 202
    finally:
        http.post(f"{stack.api}/v1/admin/tenants/{tenant_id}/unsuspend", headers=admin, timeout=30)
        deleted = http.delete(base, headers=owner, timeout=30)
        assert deleted.status_code == 202, deleted.text
        done = wait_until(lambda: finished(http, stack, tenant_id, deleted.json()["operation"]["id"], owner), "delete")
        assert done["status"] == "succeeded", done


def test_removed_member_loses_console_socket_on_the_local_node(stack: Stack, http: requests.Session) -> None:
    from tests.e2e.test_identity_flow import link_token, wait_for_mail

    # Given an owner with a line server on the local node, and an operator of the tenant
    email = fresh_email("remove-owner")
    register(http, stack, email, "Remove E2E")
    verify_from_mailbox(http, stack, email)
    owner = bearer(session_of(http, stack, email)["access_token"])
    tenant_id = http.post(f"{stack.api}/v1/tenants", json={"name": "Remove E2E"}, headers=owner, timeout=30).json()[
        "id"
    ]
    created = http.post(
        f"{stack.api}/v1/tenants/{tenant_id}/servers",
        json={"name": "remove e2e", "blueprint_id": "bp_line_server", "limits": {"memory_mb": 256, "disk_mb": 512}},
        headers=owner,
        timeout=30,
    )
    assert created.status_code == 202, created.text
    server_uuid = created.json()["server"]["id"]
    op = wait_until(lambda: finished(http, stack, tenant_id, created.json()["operation"]["id"], owner), "provisioning")
    assert op["status"] == "succeeded", op
    base = f"{stack.api}/v1/tenants/{tenant_id}/servers/{server_uuid}"
    operator_email = fresh_email("remove-operator")
    register(http, stack, operator_email, "Operator")
    verify_from_mailbox(http, stack, operator_email)
    operator_session = session_of(http, stack, operator_email)
    operator = bearer(operator_session["access_token"])
    invited = http.post(
        f"{stack.api}/v1/tenants/{tenant_id}/members/invitations",
        json={"email": operator_email, "role": "operator"},
        headers=owner,
        timeout=30,
    )
    assert invited.status_code == 201, invited.text
    token = link_token(wait_for_mail(stack, operator_email, "You are invited"))
    accepted = http.post(f"{stack.api}/v1/invitations/accept", json={"token": token}, headers=operator, timeout=30)
    assert accepted.status_code == 200, accepted.text
    me = http.get(f"{stack.api}/v1/me", headers=operator, timeout=30).json()
    try:
        # And the operator has the server's console open
        answer = http.get(f"{base}/websocket", headers=operator, timeout=30).json()

        def remove() -> int:
            url = f"{stack.api}/v1/tenants/{tenant_id}/members/{me['id']}"
            return http.delete(url, headers=owner, timeout=30).status_code

        # When the owner removes the operator
        close_code = _close_code_after(answer, origin=stack.api, act=remove)

        # Then the node closes the open socket at once (deauthorize-user)
        assert close_code == 4409
        # And the token the operator holds no longer opens a new one (ws/deny)
        frames = _auth_frames(answer, origin=stack.api)
        assert ("jwt error", ["jwt: created too far in past (denylist)"]) in frames, frames
    finally:
        deleted = http.delete(base, headers=owner, timeout=30)
        assert deleted.status_code == 202, deleted.text
        done = wait_until(lambda: finished(http, stack, tenant_id, deleted.json()["operation"]["id"], owner), "delete")
        assert done["status"] == "succeeded", done


def _close_code_after(answer: dict[str, Any], origin: str, act: Any) -> int | None:
    """Authenticate on the node's socket, run ``act`` (a blocking API call, in a thread), then
    read until the node closes the socket: the close code (None if it stayed open 10 s)."""

    async def scenario() -> int | None:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(answer["socket"], origin=origin)
            await ws.send_str(json.dumps({"event": "auth", "args": [answer["token"]]}))
            while True:
                msg = await ws.receive(timeout=30)
                assert msg.type == aiohttp.WSMsgType.TEXT, msg
                if json.loads(msg.data)["event"] == "auth success":
                    break
            assert await asyncio.to_thread(act) == 204
            loop = asyncio.get_running_loop()
            end = loop.time() + 10
            while loop.time() < end:
                try:
                    msg = await ws.receive(timeout=max(0.1, end - loop.time()))
                except TimeoutError:
                    return None
                if msg.type == aiohttp.WSMsgType.CLOSE:
                    return int(msg.data)
                if msg.type != aiohttp.WSMsgType.TEXT:
                    return None
            return None

    return asyncio.run(asyncio.wait_for(scenario(), 60))
