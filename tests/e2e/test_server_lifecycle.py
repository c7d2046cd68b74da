"""A game server's life on the running local stack, as a tenant member, through HTTP only.

Covers what the servers branch provides: create from the seeded Python line-server blueprint,
poll the operation to ``succeeded``, see the server running on the local Wings simulator, read
and list it; quotas and another tenant's 404. The later steps of issue 5's scenario (power,
console, websocket, files, limits, reinstall, stop, delete) join this file once the lifecycle
and control branches are merged.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_identity_flow import bearer, fresh_email, register, session_of, verify_from_mailbox

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


def test_the_free_plan_stops_a_third_server_with_quota_exceeded(stack: Stack, http: requests.Session) -> None:
    headers, tenant_url = member(http, stack, "thrifty")
    body = {"name": "s", "blueprint_id": "bp_line_server", "limits": {"memory_mb": 256, "disk_mb": 512}}

    answers = [http.post(f"{tenant_url}/servers", json=body, headers=headers, timeout=30) for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 403], [a.text for a in answers]
    assert answers[2].json()["error"]["details"]["limit"] == "servers"
    for answer in answers[:2]:
        op = wait_operation(http, tenant_url, headers, answer.json()["operation"]["id"])
        assert op["status"] == "succeeded", op
