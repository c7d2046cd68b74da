"""`make run`: the seeded node boots against this panel's remote API and the admin node list
shows it online once the node_health schedule has probed it."""

from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _admin_headers(stack: Stack, http: requests.Session) -> dict[str, str]:
    stored = dict(
        line.split("=", 1) for line in (stack.local_dir / "admin.txt").read_text().splitlines() if "=" in line
    )
    login = http.post(
        f"{stack.api}/v1/auth/login", json={"email": stored["email"], "password": stored["password"]}, timeout=30
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_admin_node_list_shows_the_seeded_node_online_when_the_schedule_has_probed_it(
    stack: Stack, http: requests.Session
) -> None:
    # Given the running stack and the platform admin
    headers = _admin_headers(stack, http)

    # When the admin lists nodes until the schedule's first probes have run (every 15 s locally)
    deadline = time.monotonic() + 90
    items: list[dict] = []
    while time.monotonic() < deadline:
        response = http.get(f"{stack.api}/v1/admin/nodes", headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if items and all(item["health"]["status"] == "online" for item in items):
            break
        time.sleep(1)

    # Then the seeded node is online, with the simulator's Wings version and a last-seen time
    assert items, "the seed enrols a node"
    health = items[0]["health"]
    assert health["status"] == "online", items
    assert health["version"] and health["last_seen_at"]
