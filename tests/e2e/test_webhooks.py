"""Issue 14's outgoing webhooks on the running local stack: an event emitted on the API path (a
new API key) goes through the events queue, the consumer's ``fan_out`` and the local timer's
``webhook_deliveries`` run, and reaches a receiver on this machine (local mode allows http and
loopback) signed with the webhook's secret and carrying the event's id (docs/webhooks.md)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from mamba.domain import webhooks as rules
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

DEMO_TENANT = "tn_demo"


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.append((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", got
    finally:
        server.shutdown()
        server.server_close()


def _admin(stack: Stack, http: requests.Session) -> dict[str, str]:
    """The seeded admin, owner of the seeded Demo tenant."""
    lines = (stack.local_dir / "admin.txt").read_text().splitlines()
    stored = dict(line.split("=", 1) for line in lines if "=" in line)
    login = http.post(
        f"{stack.api}/v1/auth/login", json={"email": stored["email"], "password": stored["password"]}, timeout=30
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_a_new_api_key_reaches_the_tenants_webhook_signed_through_the_queue(
    stack: Stack, http: requests.Session, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, got = receiver
    headers = _admin(stack, http)
    base = f"{stack.api}/v1/tenants/{DEMO_TENANT}/webhooks"
    # Given a webhook of the Demo tenant on a receiver on this machine
    made = http.post(base, json={"url": url, "events": ["api_key.created"]}, headers=headers, timeout=30)
    assert made.status_code == 201, made.text
    webhook: dict[str, Any] = made.json()
    try:
        # When the owner creates an API key (the request only queues the event)
        key_name = f"e2e-hook-{uuid.uuid4().hex[:8]}"
        key = http.post(
            f"{stack.api}/v1/me/api-keys",
            json={"name": key_name, "scopes": ["servers.read"]},
            headers=headers,
            timeout=30,
        )
        assert key.status_code == 201, key.text

        # Then within seconds the receiver gets it, signed with the secret, naming the event
        deadline = time.monotonic() + 45
        mine: list[tuple[dict[str, str], bytes]] = []
        while time.monotonic() < deadline and not mine:
            mine = [(h, b) for h, b in got if json.loads(b)["payload"].get("key_name") == key_name]
            time.sleep(0.25)
        assert len(mine) == 1, f"the event never reached the webhook: {got}"
        received_headers, body = mine[0]
        event = json.loads(body)
        assert event["type"] == "api_key.created" and event["tenant_id"] == DEMO_TENANT
        assert received_headers["Mamba-Event-Id"] == event["id"]
        assert rules.verify(webhook["secret"], received_headers["Mamba-Signature"], body, now=int(time.time()))

        # And the delivery log shows it delivered
        log = http.get(f"{base}/{webhook['id']}/deliveries", headers=headers, timeout=30).json()["items"]
        assert [(a["event_id"], a["outcome"], a["status_code"]) for a in log] == [(event["id"], "succeeded", 204)]
    finally:
        http.delete(f"{base}/{webhook['id']}", headers=headers, timeout=30)
