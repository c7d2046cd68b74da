"""local.static_site: the web app on make run's port, SPA fallback, caching, traversal, headers."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from local.static_site import NodeOrigins, StaticSite, safe_path
from mamba import web_headers


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text('<!doctype html><script type="module" src="/assets/app-1a2b.js"></script>')
    (root / "assets" / "app-1a2b.js").write_text("console.log('app')")
    (root / "assets" / "app-1a2b.css").write_text("body{}")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the root")
    (root / ".env").write_text("SECRET=1")
    return root


def body(answer: dict) -> bytes:
    assert answer["isBase64Encoded"] is True
    return base64.b64decode(answer["body"])


def site(root: Path) -> StaticSite:
    return StaticSite(root=root, connect_src=lambda: ["http://127.0.0.1:8081", "ws://127.0.0.1:8081"])


def test_a_file_is_served_with_its_type_and_hashed_assets_are_cached_for_a_year(dist):
    answer = site(dist).answer("GET", "/assets/app-1a2b.js")
    assert answer["statusCode"] == 200 and body(answer) == b"console.log('app')"
    assert answer["headers"]["Content-Type"] == "text/javascript; charset=utf-8"
    assert answer["headers"]["Cache-Control"] == "public, max-age=31536000, immutable"
    css = site(dist).answer("GET", "/assets/app-1a2b.css")
    assert css["headers"]["Content-Type"].startswith("text/css")
    assert site(dist).answer("GET", "/favicon.svg")["headers"]["Content-Type"] == "image/svg+xml"


@pytest.mark.parametrize(
    "path", ["/", "/verify-email?token=abc", "/tenants/tn_1/billing", "/t/x/files/server.properties"]
)
def test_an_app_route_falls_back_to_index_html_without_caching_when_no_file_matches(dist, path):
    answer = site(dist).answer("GET", path)
    assert answer["statusCode"] == 200 and body(answer).startswith(b"<!doctype html>")
    assert answer["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert answer["headers"]["Cache-Control"] == "no-cache"


def test_a_missing_asset_is_404_not_the_app_when_a_hashed_chunk_is_stale(dist):
    answer = site(dist).answer("GET", "/assets/app-old.js")
    assert answer["statusCode"] == 404 and b"<html" not in body(answer)


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/..%5csecret.txt",
        "/.env",
        "/assets/%00.js",
        "/%2e%2e%2F%2e%2e%2F%2e%2e%2Fetc%2Fpasswd",
    ],
)
def test_path_traversal_never_reads_outside_the_root(dist, path):
    answer = site(dist).answer("GET", path)
    assert answer["statusCode"] == 404
    assert b"outside the root" not in body(answer) and b"SECRET" not in body(answer)
    assert b"root:" not in body(answer)


def test_a_symlink_out_of_the_root_is_refused(dist, tmp_path):
    (dist / "link.txt").symlink_to(tmp_path / "secret.txt")
    assert safe_path(dist, "/link.txt") is None
    assert site(dist).answer("GET", "/link.txt")["statusCode"] == 404


def test_without_a_build_a_plain_page_says_the_app_is_not_built(tmp_path):
    answer = site(tmp_path / "nothing").answer("GET", "/tenants")
    assert answer["statusCode"] == 200 and b"not built" in body(answer)
    assert b"<script" not in body(answer)


def test_head_answers_headers_without_a_body(dist):
    answer = site(dist).answer("HEAD", "/assets/app-1a2b.js")
    assert answer["statusCode"] == 200 and body(answer) == b""


def test_every_answer_carries_the_strict_security_headers_with_the_nodes_in_connect_src(dist):
    headers = site(dist).answer("GET", "/")["headers"]
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert "connect-src 'self' http://127.0.0.1:8081 ws://127.0.0.1:8081;" in csp
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers  # plain http locally


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/v1/plans", True),
        ("/api/remote/servers", True),
        ("/webhooks/stripe", True),
        ("/health/ready", True),
        ("/openapi.json", True),
        ("/docs", True),
        ("/docs/assets/swagger-ui.css", True),
        ("/", False),
        ("/v1", False),
        ("/documents", False),
        ("/verify-email?token=x", False),
    ],
)
def test_api_paths_are_exactly_the_routed_prefixes(path, api):
    assert web_headers.is_api_path(path) is api


def test_node_origins_are_read_again_after_the_ttl_and_failures_keep_the_last_answer():
    calls: list[int] = []
    nodes = [("http", "127.0.0.1", 8081)]

    def read() -> list[tuple[str, str, int]]:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("moto not up")
        return nodes

    origins = NodeOrigins(read, ttl=0)
    assert origins() == ["http://127.0.0.1:8081", "ws://127.0.0.1:8081"]
    assert origins() == ["http://127.0.0.1:8081", "ws://127.0.0.1:8081"]  # the failed read kept it
    nodes.append(("https", "node.example.org", 443))
    assert "wss://node.example.org:443" in origins()
