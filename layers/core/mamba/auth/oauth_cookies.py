"""The two cookies of a sign-in with an identity provider (docs/oauth.md):

* ``mamba_oauth_state``: the browser binding of a started flow. ``SameSite=Lax`` because the
  provider sends the browser back with a top-level GET from its own site, which a Strict cookie
  would not accompany; ``HttpOnly`` and ``Secure`` like every credential cookie.
* ``mamba_oauth_ticket``: the callback's ticket for the panel's completion page (and the pending
  "prove your account" of a second provider), same attributes.

Both are scoped to ``/v1/auth/oauth`` and live 10 minutes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalice.app import Request

STATE_COOKIE = "mamba_oauth_state"
TICKET_COOKIE = "mamba_oauth_ticket"
COOKIE_PATH = "/v1/auth/oauth"


def read(request: Request, name: str) -> str | None:
    raw = request.headers.get("Cookie") or request.headers.get("cookie")
    if not raw:
        return None
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(str(raw))
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None and morsel.value else None


def _cookie(name: str, value: str, max_age: int) -> str:
    return f"{name}={value}; Max-Age={max_age}; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite=Lax"


def set_state(value: str) -> str:
    # The sign-in rules load with the first sign-in, not with every function's init (docs/performance.md).
    from mamba.domain.oauth import STATE_TTL_SECONDS

    return _cookie(STATE_COOKIE, value, STATE_TTL_SECONDS)


def set_ticket(value: str) -> str:
    from mamba.domain.oauth import TICKET_TTL_SECONDS

    return _cookie(TICKET_COOKIE, value, TICKET_TTL_SECONDS)


def clear_state() -> str:
    return _cookie(STATE_COOKIE, "", 0)


def clear_ticket() -> str:
    return _cookie(TICKET_COOKIE, "", 0)
