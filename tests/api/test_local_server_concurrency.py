"""``chalice local`` under concurrent clients and odd methods (local.concurrency), over real HTTP."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from chalice import Chalice
from chalice import app as chalice_app
from chalice import local as chalice_local
from chalice.config import Config

from local import concurrency, gateway
from mamba import web


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A scratch app wired like the product (http_middleware), served by chalice local's own
    server with local.concurrency installed (undone after the test); yields the port."""
    monkeypatch.setattr(concurrency, "_PATCHED", False)
    for owner, name in (
        (chalice_app.Chalice, "current_request"),
        (chalice_app.Chalice, "lambda_context"),
        (chalice_local.ThreadedHTTPServer, "request_queue_size"),
        (chalice_local.LocalDevServer, "__init__"),
    ):
        monkeypatch.setattr(owner, name, owner.__dict__.get(name), raising=False)
        if name in ("current_request", "lambda_context"):
            monkeypatch.delattr(owner, name)
    gateway.install()
    concurrency.install()

    app = Chalice(app_name="concurrency")
    app.register_middleware(web.http_middleware, "http")

    @app.route("/echo")
    def echo() -> dict[str, Any]:
        asked = app.current_request.headers["x-who"]
        time.sleep(0.05)  # another request's thread runs meanwhile
        return {"asked": asked, "seen": app.current_request.headers["x-who"]}

    server = chalice_local.LocalDevServer(app, Config.create(chalice_app=app, app_name="concurrency"), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server.server_address[1])
    finally:
        server.shutdown()
        server.server.server_close()
        thread.join(5)


def call(port: int, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        return response.status, dict(response.headers), json.loads(raw) if raw else None
    finally:
        connection.close()


def test_each_request_sees_its_own_current_request_when_forty_arrive_at_once(served: int) -> None:
    # When forty clients call at the same time, each with its own header
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(lambda i: call(served, "GET", "/echo", {"x-who": f"client-{i}"}), range(40)))

    # Then every view read its own request, before and after the others ran
    assert [status for status, _, _ in answers] == [200] * 40
    assert [body for _, _, body in answers] == [{"asked": f"client-{i}", "seen": f"client-{i}"} for i in range(40)]


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "PURGE"])
def test_a_method_the_server_does_not_know_answers_405_in_the_error_shape_when_the_path_exists(
    served: int, method: str
) -> None:
    status, headers, body = call(served, method, "/echo", {"X-Request-Id": "odd-method-0001"})

    assert status == 405
    assert headers["Content-Type"] == "application/json"
    assert headers["Allow"] == "GET"
    assert body["error"]["code"] == "METHOD_NOT_ALLOWED" and body["request_id"] == "odd-method-0001"


def test_a_method_the_server_does_not_know_answers_404_in_the_error_shape_when_the_path_does_not(served: int) -> None:
    status, _, body = call(served, "TRACE", "/no/such/route")

    assert status == 404 and body["error"]["code"] == "NOT_FOUND"


def test_the_listen_backlog_holds_a_crowd_not_five_connections(served: int) -> None:
    assert chalice_local.ThreadedHTTPServer.request_queue_size >= 1024
