"""SiteverifyCaptcha against a siteverify endpoint served on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from mamba.adapters.captcha import VERIFY_URLS, SiteverifyCaptcha
from mamba.domain.errors import CaptchaFailedError, DependencyUnavailableError


class Provider(BaseHTTPRequestHandler):
    """Answers with whatever the test put in ``Provider.answer`` and records each form."""

    answer: tuple[int, Any] = (200, {"success": True})
    forms: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:
        Provider.forms.append(parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()))
        status, body = Provider.answer
        payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Provider.forms = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/siteverify"
    finally:
        server.shutdown()
        server.server_close()


def _captcha(url: str, provider: str = "hcaptcha") -> SiteverifyCaptcha:
    return SiteverifyCaptcha(provider, "our-secret", url, timeout=(1.0, 2.0))


def test_an_accepted_token_passes_and_the_form_carries_secret_token_and_ip(provider):
    Provider.answer = (200, {"success": True, "hostname": "panel.example"})

    _captcha(provider).verify("token-from-widget", "203.0.113.7")

    assert Provider.forms == [
        {"secret": ["our-secret"], "response": ["token-from-widget"], "remoteip": ["203.0.113.7"]}
    ]


@pytest.mark.parametrize("token", [None, "", "   ", "x" * 4097])
def test_a_missing_or_oversized_token_fails_without_asking_the_provider(provider, token):
    with pytest.raises(CaptchaFailedError) as caught:
        _captcha(provider).verify(token, "203.0.113.7")

    assert caught.value.details["reason"] == "missing"
    assert Provider.forms == []


def test_a_rejected_token_is_captcha_failed_with_the_provider_codes(provider):
    Provider.answer = (200, {"success": False, "error-codes": ["timeout-or-duplicate"]})

    with pytest.raises(CaptchaFailedError) as caught:
        _captcha(provider, "turnstile").verify("used-token", "")

    assert caught.value.details == {"field": "captcha_token", "reason": "rejected", "codes": ["timeout-or-duplicate"]}
    assert "remoteip" not in Provider.forms[0]


@pytest.mark.parametrize(
    "answer",
    [
        (200, {"success": False, "error-codes": ["invalid-input-secret"]}),
        (500, {"success": True}),
        (200, "not json"),
        (200, ["not", "an", "object"]),
    ],
    ids=["our-secret-refused", "server-error", "not-json", "not-an-object"],
)
def test_a_provider_fault_or_our_bad_secret_is_503_not_the_users_fault(provider, answer):
    Provider.answer = answer

    with pytest.raises(DependencyUnavailableError):
        _captcha(provider).verify("token", "203.0.113.7")


def test_an_unreachable_provider_is_503():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(DependencyUnavailableError):
        _captcha(f"http://127.0.0.1:{port}/siteverify").verify("token", "203.0.113.7")


def test_each_provider_has_its_public_siteverify_url_by_default():
    assert SiteverifyCaptcha("turnstile", "s").url == VERIFY_URLS["turnstile"]
    assert SiteverifyCaptcha("hcaptcha", "s").url.startswith("https://")
    with pytest.raises(ValueError):
        SiteverifyCaptcha("recaptcha", "s")
