"""Issue 14 on the running local stack: an event emitted on the API path (a new API key) goes
through the events queue, the launcher's poller and the consumer, and shows in the owner's
notifications and unread count; marking it read clears it (docs/notifications.md)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _admin(stack: Stack, http: requests.Session) -> dict[str, str]:
    """The seeded admin: a platform admin and the owner of the seeded Demo tenant."""
    lines = (stack.local_dir / "admin.txt").read_text().splitlines()
    stored = dict(line.split("=", 1) for line in lines if "=" in line)
    login = http.post(
        f"{stack.api}/v1/auth/login", json={"email": stored["email"], "password": stored["password"]}, timeout=30
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def _mine(stack: Stack, http: requests.Session, headers: dict[str, str], key_name: str) -> list[dict[str, Any]]:
    listed = http.get(f"{stack.api}/v1/me/notifications?unread=true&limit=100", headers=headers, timeout=30)
    assert listed.status_code == 200, listed.text
    return [n for n in listed.json()["items"] if n["payload"].get("key_name") == key_name]


def test_an_api_key_reaches_the_owners_notifications_through_the_queue(stack: Stack, http: requests.Session) -> None:
    headers = _admin(stack, http)
    before = http.get(f"{stack.api}/v1/me", headers=headers, timeout=30).json()["unread_notifications"]
    key_name = f"e2e-{uuid.uuid4().hex[:8]}"

    # When the owner creates an API key (the request only queues the event)
    made = http.post(
        f"{stack.api}/v1/me/api-keys", json={"name": key_name, "scopes": ["servers.read"]}, headers=headers, timeout=30
    )
    assert made.status_code == 201, made.text

    # Then the poller and the consumer deliver it within seconds
    deadline = time.monotonic() + 30
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not found:
        found = _mine(stack, http, headers, key_name)
        time.sleep(0.25)
    assert [n["type"] for n in found] == ["api_key.created"], "the event never reached the notifications"
    me = http.get(f"{stack.api}/v1/me", headers=headers, timeout=30).json()
    assert me["unread_notifications"] == before + len(found)

    # And marking it read takes it off the unread list and the count
    read = http.post(
        f"{stack.api}/v1/me/notifications/read", json={"ids": [found[0]["id"]]}, headers=headers, timeout=30
    )
    assert read.status_code == 200 and read.json()["marked"] == 1
    assert _mine(stack, http, headers, key_name) == []
