"""A game server's life on the running local stack, as a tenant member, through HTTP only.

Issue 5's "done when" scenario in one test, in its order: create from the seeded Python
line-server blueprint and poll the operation to ``succeeded``; start it and see it running;
send a command and read it back; open the websocket (auth success, status, stats); write,
read, rename and delete a file, upload and download one through signed URLs; change the
memory limit and see it synced; reinstall; stop; delete, after which no allocation, record or
directory is left. Also: start_on_completion, another tenant's 404, the free-plan quota.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_identity_flow import bearer, fresh_email, register, session_of, verify_from_mailbox
from tests.e2e.test_server_control import _websocket_events

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

OPERATION_WAIT_SECONDS = 60.0  # an upper bound for the install on the simulator, not a measurement


def member(http: requests.Session, stack: Stack, label: str) -> tuple[dict[str, str], str]:
    """A verified user who owns a fresh tenant: (auth headers, tenant URL)."""
    email = fresh_email(label)
    register(http, stack, email, label.title())
    verify_from_mailbox(http, stack, email)
    headers = bearer(session_of(http, stack, email)["access_token"])
    created = http.post(f"{stack.api}/v1/tenants", json={"name": f"{label} games"}, headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    return headers, f"{stack.api}/v1/tenants/{created.json()['id']}"


def wait_operation(http: requests.Session, tenant_url: str, headers: dict[str, str], op_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + OPERATION_WAIT_SECONDS
    while True:
        op = http.get(f"{tenant_url}/operations/{op_id}", headers=headers, timeout=30).json()
        if op["status"] in ("succeeded", "failed"):
            return dict(op)
        assert time.monotonic() < deadline, op
        time.sleep(0.2)


def test_a_member_creates_a_server_and_it_runs_on_the_local_node(stack: Stack, http: requests.Session) -> None:
    headers, tenant_url = member(http, stack, "gamer")

    # When she creates a server from the seeded Python line-server blueprint, started when installed
    created = http.post(
        f"{tenant_url}/servers",
        json={
            "name": "Line world",
            "blueprint_id": "bp_line_server",
            "limits": {"memory_mb": 512, "disk_mb": 1024, "cpu_percent": 100},
            "environment": {},
            "start_on_completion": True,
        },
        headers=headers,
        timeout=30,
    )

    # Then the answer is 202 with the reserved server and its operation
    assert created.status_code == 202, created.text
    server, operation = created.json()["server"], created.json()["operation"]
    assert server["status"] == "provisioning" and server["id"] == server["uuid"]
    assert set(server["allocation"]) == {"ip", "port"} and server["node_id"]

    # And the operation succeeds step by step, after which the server is running
    done = wait_operation(http, tenant_url, headers, operation["id"])
    assert done["status"] == "succeeded", done
    assert [(s["name"], s["status"]) for s in done["steps"]] == [
        ("reserve", "succeeded"),
        ("persist", "succeeded"),
        ("create_on_wings", "succeeded"),
        ("install", "succeeded"),
        ("start", "succeeded"),
    ]
    got = http.get(f"{tenant_url}/servers/{server['id']}", headers=headers, timeout=30)
    assert got.status_code == 200 and got.json()["status"] == "running", got.text
    assert got.json()["installed_at"]
    listed = http.get(f"{tenant_url}/servers?status=running", headers=headers, timeout=30).json()
    assert [s["id"] for s in listed["items"]] == [server["id"]]

    # And another tenant's member gets 404 for it
    stranger, stranger_url = member(http, stack, "stranger")
    assert http.get(f"{stranger_url}/servers/{server['id']}", headers=stranger, timeout=30).status_code == 404
    other_path = stranger_url.rsplit("/", 1)[0] + "/" + tenant_url.rsplit("/", 1)[1]
    assert http.get(f"{other_path}/servers/{server['id']}", headers=stranger, timeout=30).status_code == 404


def admin_headers(http: requests.Session, stack: Stack) -> dict[str, str]:
    stored = dict(
        line.split("=", 1) for line in (stack.local_dir / "admin.txt").read_text().splitlines() if "=" in line
    )
    return bearer(session_of_password(http, stack, stored["email"], stored["password"]))


def session_of_password(http: requests.Session, stack: Stack, email: str, password: str) -> str:
    response = http.post(f"{stack.api}/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def allocation_of(http: requests.Session, stack: Stack, admin: dict[str, str], node_id: str, port: int) -> dict:
    url = f"{stack.api}/v1/admin/nodes/{node_id}/allocations?limit=100"
    items = http.get(url, headers=admin, timeout=30).json()["items"]
    return next(a for a in items if a["port"] == port)


def wait_until(check: Any, what: str) -> Any:
    deadline = time.monotonic() + OPERATION_WAIT_SECONDS
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def test_issue_5_scenario_from_create_to_delete_leaves_nothing(stack: Stack, http: requests.Session) -> None:
    headers, tenant_url = member(http, stack, "lifer")
    admin = admin_headers(http, stack)

    # 1. Create a server from the seeded Python game blueprint; the operation succeeds
    body = {"name": "Lifer", "blueprint_id": "bp_line_server", "limits": {"memory_mb": 512, "disk_mb": 1024}}
    created = http.post(f"{tenant_url}/servers", json=body, headers=headers, timeout=30)
    assert created.status_code == 202, created.text
    server = created.json()["server"]
    done = wait_operation(http, tenant_url, headers, created.json()["operation"]["id"])
    assert done["status"] == "succeeded", done
    server_url = f"{tenant_url}/servers/{server['id']}"
    port = server["allocation"]["port"]
    assert allocation_of(http, stack, admin, server["node_id"], port)["server_id"] == server["id"]
    # (the server's data directory; the simulator's own scratch under .wings-sim is not the server's)
    volumes = [p for p in Path(stack.local_dir).rglob(server["id"]) if p.is_dir() and ".wings-sim" not in p.parts]
    assert volumes, "the simulator keeps the server's files in a directory named after its uuid"

    def node_state() -> Any:
        return http.get(f"{server_url}/resources", headers=headers, timeout=30).json()

    # 2. Start it and see it running
    started = http.post(f"{server_url}/power", json={"action": "start"}, headers=headers, timeout=30)
    assert started.status_code == 202, started.text
    wait_until(lambda: node_state().get("state") == "running", "running")

    # 3. Send a command and read it back from the console output
    sent = http.post(f"{server_url}/commands", json={"command": "say hello lifer"}, headers=headers, timeout=30)
    assert sent.status_code == 204, sent.text
    wait_until(
        lambda: "[Server] hello lifer" in http.get(f"{server_url}/logs", headers=headers, timeout=30).json()["lines"],
        "the command's answer in the console",
    )

    # 4. Open the websocket with the minted token: auth success, status and stats
    socket = http.get(f"{server_url}/websocket", headers=headers, timeout=30).json()
    assert _websocket_events(socket, origin=stack.api) >= {"auth success", "status", "stats"}

    # 5. Write, read, rename and delete a file; upload and download one through signed URLs
    files = f"{server_url}/files"
    wrote = http.post(f"{files}/write", json={"path": "/notes/a.txt", "content": "alpha"}, headers=headers, timeout=30)
    assert wrote.status_code == 204, wrote.text
    read = http.get(f"{files}/contents", params={"file": "/notes/a.txt"}, headers=headers, timeout=30).json()
    assert read["content"] == "alpha"
    renamed = http.post(
        f"{files}/rename", json={"root": "/notes", "files": [{"from": "a.txt", "to": "b.txt"}]}, headers=headers,
        timeout=30,
    )  # fmt: skip
    assert renamed.status_code == 204, renamed.text
    upload = http.post(f"{files}/upload-url", json={"directory": "/notes"}, headers=headers, timeout=30).json()
    assert requests.post(upload["url"], files={"files": ("up.txt", b"uploaded")}, timeout=30).status_code == 200
    listed = http.get(f"{files}/list", params={"directory": "/notes"}, headers=headers, timeout=30).json()["items"]
    assert sorted(entry["name"] for entry in listed) == ["b.txt", "up.txt"]
    download = http.post(f"{files}/download-url", json={"path": "/notes/up.txt"}, headers=headers, timeout=30).json()
    assert requests.get(download["url"], timeout=30).content == b"uploaded"
    removed = http.post(f"{files}/delete", json={"root": "/", "files": ["notes"]}, headers=headers, timeout=30)
    assert removed.status_code == 204, removed.text
    root = http.get(f"{files}/list", headers=headers, timeout=30).json()["items"]
    assert "notes" not in [entry["name"] for entry in root]

    # 6. Change the memory limit and see it synced to the node
    patched = http.patch(server_url, json={"limits": {"memory_mb": 768}}, headers=headers, timeout=30)
    assert patched.status_code == 202, patched.text
    synced = wait_operation(http, tenant_url, headers, patched.json()["operation"]["id"])
    assert synced["status"] == "succeeded", synced
    assert http.get(server_url, headers=headers, timeout=30).json()["limits"]["memory_mb"] == 768
    wait_until(
        lambda: node_state()["utilization"].get("memory_limit_bytes") == 768 * 1024 * 1024, "the node's memory limit"
    )

    # 7. Reinstall
    reinstalled = http.post(f"{server_url}/reinstall", json={}, headers=headers, timeout=30)
    assert reinstalled.status_code == 202, reinstalled.text
    redone = wait_operation(http, tenant_url, headers, reinstalled.json()["operation"]["id"])
    assert redone["status"] == "succeeded", redone

    # 8. Stop (start it again first if the reinstall left it stopped)
    if node_state().get("state") != "running":
        assert (
            http.post(f"{server_url}/power", json={"action": "start"}, headers=headers, timeout=30).status_code == 202
        )
        wait_until(lambda: node_state().get("state") == "running", "running again")
    stopped = http.post(f"{server_url}/power", json={"action": "stop"}, headers=headers, timeout=30)
    assert stopped.status_code == 202, stopped.text
    wait_until(lambda: node_state().get("state") == "offline", "offline")

    # 9. Delete: no record, allocation or directory is left
    deleted = http.delete(server_url, headers=headers, timeout=30)
    assert deleted.status_code == 202, deleted.text
    gone = wait_operation(http, tenant_url, headers, deleted.json()["operation"]["id"])
    assert gone["status"] == "succeeded", gone
    assert http.get(server_url, headers=headers, timeout=30).status_code == 404
    assert allocation_of(http, stack, admin, server["node_id"], port)["server_id"] is None
    wait_until(lambda: not any(v.exists() for v in volumes), "the server's directory to go (Wings removes it later)")


def test_the_free_plan_stops_a_third_server_with_quota_exceeded(stack: Stack, http: requests.Session) -> None:
    headers, tenant_url = member(http, stack, "thrifty")
    body = {"name": "s", "blueprint_id": "bp_line_server", "limits": {"memory_mb": 256, "disk_mb": 512}}

    answers = [http.post(f"{tenant_url}/servers", json=body, headers=headers, timeout=30) for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 403], [a.text for a in answers]
    assert answers[2].json()["error"]["details"]["limit"] == "servers"
    for answer in answers[:2]:
        op = wait_operation(http, tenant_url, headers, answer.json()["operation"]["id"])
        assert op["status"] == "succeeded", op
