"""Cookie mode for browsers: the refresh token in an ``HttpOnly`` cookie, never in script's reach.

A browser client asks for it with the header ``X-Mamba-Client: web`` on ``/v1/auth/login``,
``/v1/auth/refresh`` and ``/v1/auth/logout`` (docs/accounts.md#cookie-mode). Then:

* the refresh token travels only as the cookie ``mamba_refresh``: ``HttpOnly`` (no script
  reads it, so an XSS cannot steal the session), ``Secure``, ``SameSite=Strict`` (no other
  site's request carries it) and ``Path=/v1/auth`` (only the auth routes ever receive it);
* the JSON answer carries the access token and omits ``refresh_token``;
* the request's ``Origin`` must be the panel's own (``MAMBA_PUBLIC_URL``), else 403: a
  second line against cross-site requests behind SameSite, and a custom header a cross-site
  form cannot send.

A header rather than a body flag: refresh and logout then need no body at all, and a
cross-origin page cannot add a custom header without a CORS preflight the API never grants.
API clients (no header) keep the JSON-body mode unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mamba.domain.errors import ForbiddenError

if TYPE_CHECKING:
    from chalice.app import Request

CLIENT_HEADER = "X-Mamba-Client"
WEB_CLIENT = "web"
COOKIE_NAME = "mamba_refresh"
COOKIE_PATH = "/v1/auth"


def wants_cookie(request: Request) -> bool:
    """True when the client asked for cookie mode (``X-Mamba-Client: web``)."""
    return str(request.headers.get(CLIENT_HEADER, "")).strip().lower() == WEB_CLIENT


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lowercased, without a default port; "" when the
    URL is malformed (a bad port), which then matches no panel origin."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port is None or port == default else f"{scheme}://{host}:{port}"


def check_origin(request: Request, public_url: str) -> None:
    """Raise ForbiddenError (403, ``details.reason = "origin"``) unless the request's ``Origin``
    is the panel's own. A missing Origin is refused too: browsers send it on every POST."""
    given = str(request.headers.get("Origin", "")).strip()
    expected = origin_of(public_url)
    if not given or not expected or origin_of(given) != expected:
        raise ForbiddenError(
            "This request must come from the panel's own pages.",
            {"reason": "origin", "expected": origin_of(public_url)},
        )


def read_cookie(request: Request) -> str | None:
    """The refresh token from the ``Cookie`` header, or None."""
    raw = request.headers.get("Cookie") or request.headers.get("cookie")
    if not raw:
        return None
    # Imported here: http.cookies costs every cold start ~10 ms and only refresh and logout need it.
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(str(raw))
    except CookieError:
        return None
    morsel = jar.get(COOKIE_NAME)
    return morsel.value if morsel is not None and morsel.value else None


def set_cookie(token: str, max_age: int) -> str:
    """The ``Set-Cookie`` value that stores ``token`` for ``max_age`` seconds."""
    return f"{COOKIE_NAME}={token}; Max-Age={max_age}; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite=Strict"


def clear_cookie() -> str:
    """The ``Set-Cookie`` value that deletes the cookie (same name, path and attributes)."""
    return f"{COOKIE_NAME}=; Max-Age=0; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite=Strict"
