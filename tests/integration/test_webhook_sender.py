"""``HttpWebhookSender`` over real sockets: it connects to the checked address (never resolving the
name again) while TLS verifies the URL's host name; a wrong certificate, a refused connection, a
slow receiver and a redirect each end as the delivery rules expect (mamba.domain.webhooks)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamba.adapters import webhook_http
from mamba.adapters.webhook_http import HttpWebhookSender
from mamba.domain.webhooks import Request, retryable
from tests.webhook_receiver import Receiver, running_receiver

PUBLIC = "93.184.215.14"


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    with running_receiver(tmp_path) as r:
        yield r


def _request(url: str) -> Request:
    return Request(
        url=url, body=b'{"id":"evt_1"}', headers={"Content-Type": "application/json", "Mamba-Event-Id": "evt_1"}
    )


def test_the_post_reaches_the_checked_address_with_the_urls_host_verified_by_tls(receiver: Receiver) -> None:
    dialled: list[tuple[str, int]] = []

    def dial(address: str, port: int) -> tuple[str, int]:
        dialled.append((address, port))
        return receiver.dial(address, port)

    answer = HttpWebhookSender(dial=dial, ca_certs=receiver.ca_path).post(_request(receiver.url), [PUBLIC])

    assert (answer.status, answer.error, answer.excerpt) == (200, None, '{"ok": true}')
    assert dialled == [(PUBLIC, receiver.port)]
    [got] = receiver.received
    assert got.headers["Mamba-Event-Id"] == "evt_1" and got.body == b'{"id":"evt_1"}'


def test_a_certificate_for_another_host_fails_as_tls_and_is_not_retried(receiver: Receiver) -> None:
    url = receiver.url.replace(receiver.host, "other.example.test")
    answer = HttpWebhookSender(dial=receiver.dial, ca_certs=receiver.ca_path).post(_request(url), [PUBLIC])
    assert (answer.status, answer.error) == (None, "tls")
    assert not retryable(answer) and receiver.received == []


def test_a_refused_connection_is_retryable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    answer = HttpWebhookSender(dial=lambda a, p: ("127.0.0.1", port)).post(
        _request("http://hooks.example.test/x"), [PUBLIC]
    )
    assert (answer.status, answer.error) == (None, "connection") and retryable(answer)


def _one_shot_server(reply: bytes, delay: float = 0.0) -> tuple[int, threading.Thread]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            time.sleep(delay)
            try:
                conn.sendall(reply)
            except OSError:
                pass
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server.getsockname()[1], thread


def test_a_slow_receiver_times_out_and_is_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_http, "READ_TIMEOUT", 0.3)
    port, _ = _one_shot_server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", delay=1.5)
    answer = HttpWebhookSender(dial=lambda a, p: ("127.0.0.1", port)).post(
        _request("http://hooks.example.test/x"), [PUBLIC]
    )
    assert (answer.status, answer.error) == (None, "timeout") and retryable(answer)


def test_a_redirect_is_an_answer_not_followed() -> None:
    port, _ = _one_shot_server(b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n")
    answer = HttpWebhookSender(dial=lambda a, p: ("127.0.0.1", port)).post(
        _request("http://hooks.example.test/x"), [PUBLIC]
    )
    assert answer.status == 302 and not retryable(answer)


def test_a_429_carries_its_retry_after() -> None:
    port, _ = _one_shot_server(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: 4\r\n\r\nslow")
    answer = HttpWebhookSender(dial=lambda a, p: ("127.0.0.1", port)).post(
        _request("http://hooks.example.test/x"), [PUBLIC]
    )
    assert (answer.status, answer.retry_after, answer.excerpt) == (429, 120, "slow") and retryable(answer)
