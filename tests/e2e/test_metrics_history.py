"""`make run`: the reconcile schedule of the running stack stores the seeded node's minutes, and
the admin's node metrics answer them as JSON and as the same CSV."""

from __future__ import annotations

import csv
import io
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


def test_the_seeded_nodes_minutes_are_charted_once_the_schedule_has_run(stack: Stack, http: requests.Session) -> None:
    # Given the running stack and the platform admin
    headers = _admin_headers(stack, http)
    nodes = http.get(f"{stack.api}/v1/admin/nodes", headers=headers, timeout=30).json()["items"]
    assert nodes, "the seed enrols a node"
    url = f"{stack.api}/v1/admin/nodes/{nodes[0]['id']}/metrics"

    # When the admin asks for the last hour until the schedule (every 10 s locally) has stored a minute
    deadline = time.monotonic() + 90
    body: dict = {}
    while time.monotonic() < deadline:
        response = http.get(url, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["points"]:
            break
        time.sleep(2)

    # Then there are 1-minute points, online, and the CSV says the same
    assert body["resolution"] == "1m" and body["points"], stack.log_tail()
    assert {p["state"] for p in body["points"]} == {"online"}
    last = body["points"][-1]["t"]
    as_csv = http.get(url, params={"format": "csv", "to": str(last + 60)}, headers=headers, timeout=30)
    assert as_csv.status_code == 200 and as_csv.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows and rows[-1]["t"] == str(last)
    assert '"schedule":"reconcile_servers"' not in stack.log.read_text(errors="replace").replace(" ", "")
