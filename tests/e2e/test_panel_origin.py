"""make run's one origin: the web app (or the not-built page) on the API's port, the security
headers with the Wings simulator in connect-src, the panel URL first in the banner, and
cookie mode over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_the_panel_is_served_on_the_api_port_with_security_headers(stack: Stack, http: requests.Session) -> None:
    # Given the stack's panel URL
    panel = stack.info["panel"]
    assert panel == f"{stack.api}/"

    # When a browser opens an app route (the Wings node is seeded a moment after the API starts)
    wings = [w.rstrip("/") for w in stack.info.get("wings") or []]
    assert wings, stack.info
    deadline = time.monotonic() + 20
    while True:
        response = http.get(f"{stack.api}/tenants/tn_x/servers", timeout=10)
        csp = response.headers["Content-Security-Policy"]
        if all(w in csp for w in wings) or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    # Then an HTML page comes back with the strict headers, naming the node's http and ws origins
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, csp
    for origin in wings:
        assert origin in csp and origin.replace("http://", "ws://", 1) in csp, (origin, csp)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # and the API next to it still answers JSON, with the same headers
    live = http.get(f"{stack.api}/health/live", timeout=10)
    assert live.json() == {"status": "ok"} and live.headers["X-Frame-Options"] == "DENY"


def test_the_banner_prints_the_panel_url_before_anything_else(stack: Stack) -> None:
    # The log interleaves the API's own output; the banner is the block that says "ready".
    lines = stack.log.read_text(errors="replace").splitlines()
    ready = next(i for i, line in enumerate(lines) if line.startswith("Mamba local stack is ready"))
    assert lines[ready - 1] == f"Open the panel: {stack.info['panel']}", lines[ready - 2 : ready + 2]


def test_cookie_mode_rotates_the_cookie_over_http_when_the_origin_is_the_panel(
    stack: Stack, http: requests.Session
) -> None:
    # Given the seeded admin, who can log in (its credentials are in the banner's Admin line)
    admin = next(line for line in stack.log.read_text().splitlines() if line.strip().startswith("Admin"))
    email, password = _credentials(admin)
    web = {"X-Mamba-Client": "web", "Origin": stack.api, "Content-Type": "application/json"}

    # When it logs in in cookie mode, then refreshes with the cookie only
    login = http.post(f"{stack.api}/v1/auth/login", json={"email": email, "password": password}, headers=web)
    assert login.status_code == 200, login.text
    first = login.cookies.get("mamba_refresh", path="/v1/auth")
    refreshed = requests.post(
        f"{stack.api}/v1/auth/refresh", headers={**web, "Cookie": f"mamba_refresh={first}"}, timeout=10
    )

    # Then the token never appears in a body and the cookie rotates
    assert "refresh_token" not in login.json() and first
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.cookies.get("mamba_refresh") not in (None, first)
    assert "HttpOnly" in refreshed.headers["Set-Cookie"] and "SameSite=Strict" in refreshed.headers["Set-Cookie"]


def _credentials(admin_line: str) -> tuple[str, str]:
    import re

    found = re.search(r"Admin\s+(\S+@\S+) / (\S+)", admin_line)
    assert found, admin_line
    return found.group(1), found.group(2)
