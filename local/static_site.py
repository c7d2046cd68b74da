"""``make run`` serves the web app and the API on one port, as CloudFront does deployed.

``install(site)`` wraps ``chalice local``'s gateway (after ``local.gateway.install``):

* a GET or HEAD of a path that is not the API's (``mamba.web_headers.is_api_path``) is
  answered from ``web/dist``: the file if it exists, else ``index.html`` (the app's router
  takes the path), except under ``/assets/``, where a missing file is a 404 (a stale hashed
  chunk must fail loudly, not load HTML as script). Deployed, the CloudFront Function in
  infra applies the same rule;
* every response, the API's included, carries the security headers of
  ``mamba.web_headers`` with ``connect-src`` naming the seeded Wings simulator's http and ws
  origins (read from the node records, refreshed every few seconds since the node is
  seeded after the API starts). No HSTS: the local panel is plain http.

Without a build (no ``web/dist/index.html``) a small page says how to build the app.
Paths are decoded, then any ``..``, dot-file, backslash or NUL segment is refused with 404
before touching the disk, and the resolved file must still lie inside the root (symlinks
included).
"""

from __future__ import annotations

import base64
import mimetypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from mamba.web_headers import is_api_path, node_origins, security_headers

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
ORIGINS_TTL_SECONDS = 5.0

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".wasm": "application/wasm",
    ".txt": "text/plain; charset=utf-8",
}

NOT_BUILT = b"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Mamba Host Panel</title></head>
<body>
<h1>The web app is not built</h1>
<p>The API is running on this port, but <code>web/dist</code> does not exist yet.
Build the app (see docs/web.md), then reload this page.</p>
<p>The API's documentation is at <a href="/docs">/docs</a>.</p>
</body>
</html>
"""


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def safe_path(root: Path, url_path: str) -> Path | None:
    """The file ``url_path`` names inside ``root``, or None when the path tries to leave it
    (``..``, an encoded ``%2e%2e``, a backslash, NUL, a dot-file, a symlink pointing out)."""
    decoded = unquote(url_path.split("?", 1)[0].split("#", 1)[0])
    if "\x00" in decoded or "\\" in decoded:
        return None
    parts = [p for p in decoded.split("/") if p not in ("", ".")]
    if any(p.startswith(".") for p in parts):  # "..", ".env", ".git"
        return None
    base = root.resolve()
    candidate = base.joinpath(*parts).resolve()
    if candidate != base and not candidate.is_relative_to(base):
        return None
    return candidate


@dataclass
class StaticSite:
    root: Path = DIST
    connect_src: Callable[[], list[str]] = lambda: []
    hsts: bool = False

    def headers(self) -> dict[str, str]:
        return security_headers(self.connect_src(), hsts=self.hsts)

    def answer(self, method: str, path: str) -> dict[str, Any]:
        """The gateway-shaped response for a GET or HEAD of a non-API path."""
        index = self.root / "index.html"
        if not index.is_file():
            return self._response(200, NOT_BUILT, "text/html; charset=utf-8", NO_CACHE, method)
        found = safe_path(self.root, path)
        if found is None:
            return self._response(404, b"Not found.\n", "text/plain; charset=utf-8", NO_CACHE, method)
        under_assets = path.split("?", 1)[0].startswith("/assets/")
        if found.is_file():
            cache = IMMUTABLE if under_assets else NO_CACHE
            return self._response(200, found.read_bytes(), content_type(found), cache, method)
        if under_assets:
            return self._response(404, b"Not found.\n", "text/plain; charset=utf-8", NO_CACHE, method)
        return self._response(200, index.read_bytes(), "text/html; charset=utf-8", NO_CACHE, method)

    def _response(self, status: int, body: bytes, ctype: str, cache: str, method: str) -> dict[str, Any]:
        headers = {"Content-Type": ctype, "Cache-Control": cache, **self.headers()}
        # Base64, as a Lambda proxy answer with a binary body: chalice local decodes it.
        return {
            "statusCode": status,
            "headers": headers,
            "multiValueHeaders": {},
            "body": base64.b64encode(b"" if method == "HEAD" else body).decode("ascii"),
            "isBase64Encoded": True,
        }


@dataclass
class NodeOrigins:
    """The Wings origins of the node records, re-read at most every ``ttl`` seconds."""

    read: Callable[[], list[tuple[str, str, int]]]
    ttl: float = ORIGINS_TTL_SECONDS
    last_error: str | None = None
    _cached: list[str] = field(default_factory=list)
    _at: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> list[str]:
        with self._lock:
            if time.monotonic() - self._at >= self.ttl:
                try:
                    self._cached = node_origins(self.read())
                except Exception as exc:  # noqa: BLE001 - moto not up yet: keep the last answer, try again later
                    self.last_error = repr(exc)
                self._at = time.monotonic()
            return list(self._cached)


def stored_nodes() -> list[tuple[str, str, int]]:
    """(scheme, fqdn, daemon_port) of every node record (the first 100: a local stack has one)."""
    from mamba import bootstrap

    found, _ = bootstrap.node_repository().list(100)
    return [(n.scheme, n.fqdn, n.daemon_port) for n in found]


_INSTALLED: list[StaticSite] = []


def install(site: StaticSite) -> None:
    """Serve ``site`` for non-API paths and add its security headers to every response."""
    from chalice import local as chalice_local

    if _INSTALLED:
        _INSTALLED[0] = site
        return
    _INSTALLED.append(site)
    api_handler = chalice_local.LocalGateway.handle_request

    def handle_request(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        current = _INSTALLED[0]
        if method in ("GET", "HEAD") and not is_api_path(path):
            return current.answer(method, path)
        response = api_handler(self, method, path, headers, body)
        for name, value in current.headers().items():
            response["headers"].setdefault(name, value)
        return response

    chalice_local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
