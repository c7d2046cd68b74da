"""One origin for the panel and the API: which paths are the API's, and the security headers
every response carries. Standard library only.

Deployed, CloudFront routes ``API_PATH_PATTERNS`` to API Gateway and everything else to the
web app's bucket, with a response-headers policy built from ``security_headers`` (infra);
locally, ``local.static_site`` applies the same split and the same headers on ``make run``'s
single port. Both read this module, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable

# CloudFront path patterns of the API (each routed to API Gateway, uncached).
API_PATH_PATTERNS: tuple[str, ...] = (
    "/v1/*",
    "/api/*",
    "/webhooks/*",
    "/health/*",
    "/openapi.json",
    "/docs",
    "/docs/*",
)

HSTS = "max-age=63072000; includeSubDomains"
REFERRER_POLICY = "strict-origin-when-cross-origin"


def is_api_path(path: str) -> bool:
    """True for a path the API answers (query string ignored)."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    for pattern in API_PATH_PATTERNS:
        if pattern.endswith("/*"):
            if path.startswith(pattern[:-1]):
                return True
        elif path == pattern:
            return True
    return False


def content_security_policy(connect_src: Iterable[str] = ()) -> str:
    """A strict policy: no inline script or style, nothing from other origins except what the
    app connects to (``connect_src``: the Wings nodes' https/wss origins, for the console's
    websocket and signed file transfers), and never framed."""
    extra = " ".join(sorted({s for s in connect_src if s and s != "'self'"}))
    connect = f"'self' {extra}".strip()
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        f"connect-src {connect}; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


def node_origins(nodes: Iterable[tuple[str, str, int]]) -> list[str]:
    """The origins the browser reaches Wings on, for each ``(scheme, fqdn, daemon_port)``:
    ``https://host:port`` and ``wss://host:port`` (``http``/``ws`` for a plain-http node)."""
    found: set[str] = set()
    for scheme, fqdn, port in nodes:
        socket = "wss" if scheme == "https" else "ws"
        host = f"[{fqdn}]" if ":" in fqdn else fqdn
        found.update({f"{scheme}://{host}:{port}", f"{socket}://{host}:{port}"})
    return sorted(found)


def security_headers(connect_src: Iterable[str] = (), *, hsts: bool = True) -> dict[str, str]:
    """The headers of every response. HSTS only where the panel is served over https (a
    browser ignores it on http, but ``make run`` leaves it out rather than pretend)."""
    headers = {
        "Content-Security-Policy": content_security_policy(connect_src),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": REFERRER_POLICY,
    }
    if hsts:
        headers["Strict-Transport-Security"] = HSTS
    return headers
