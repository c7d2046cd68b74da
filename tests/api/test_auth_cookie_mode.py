"""Cookie mode (``X-Mamba-Client: web``) of login, refresh and logout: the refresh token lives
in an HttpOnly cookie scoped to /v1/auth, rotates on refresh, and needs the panel's Origin."""

from __future__ import annotations

import json
import time
from http.cookies import SimpleCookie
from typing import Any

from mamba import bootstrap
from mamba.auth import totp
from tests.api.test_accounts import EMAIL, PASSWORD, verified_account

WEB = {"X-Mamba-Client": "web", "Content-Type": "application/json"}


def origin() -> str:
    return bootstrap.settings().public_url


def call(client: Any, path: str, body: dict[str, Any] | None = None, *, cookie: str | None = None,
         origin_header: str | None = "panel", web: bool = True) -> Any:  # fmt: skip
    headers = dict(WEB) if web else {"Content-Type": "application/json"}
    if origin_header == "panel":
        headers["Origin"] = origin()
    elif origin_header is not None:
        headers["Origin"] = origin_header
    if cookie is not None:
        headers["Cookie"] = f"mamba_refresh={cookie}"
    return client.http.post(path, body=json.dumps(body or {}), headers=headers)


def set_cookie(response: Any) -> tuple[str, dict[str, str]]:
    """(value, attributes) of the response's mamba_refresh cookie; attribute flags map to ""."""
    header = response.headers["Set-Cookie"]
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    morsel = jar["mamba_refresh"]
    flags = {part.strip().split("=", 1)[0].lower() for part in header.split(";")[1:]}
    return morsel.value, {**{k: str(v) for k, v in morsel.items() if v}, **{f: "" for f in flags if f not in morsel}}


def web_login(client: Any, **extra: Any) -> Any:
    return call(client, "/v1/auth/login", {"email": EMAIL, "password": PASSWORD, **extra})


def test_login_in_cookie_mode_sets_an_httponly_strict_cookie_scoped_to_auth_and_omits_the_token(client):
    verified_account(client)

    # When a browser logs in in cookie mode
    response = web_login(client)

    # Then the body has the access token only, and the refresh token is a locked-down cookie
    assert response.status_code == 200, response.json_body
    assert set(response.json_body) == {"access_token", "token_type", "expires_in"}
    value, attributes = set_cookie(response)
    assert value.count(".") == 1 and len(value) > 20
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "Secure" in header and "SameSite=Strict" in header
    assert attributes["path"] == "/v1/auth"
    assert attributes["max-age"] == str(bootstrap.settings().refresh_ttl_seconds)
    assert response.headers["Cache-Control"] == "no-store"
    me = client.http.get("/v1/me", headers={"Authorization": f"Bearer {response.json_body['access_token']}"})
    assert me.status_code == 200


def test_json_mode_is_unchanged_when_the_client_does_not_ask_for_cookies(client):
    verified_account(client)
    response = call(client, "/v1/auth/login", {"email": EMAIL, "password": PASSWORD}, web=False, origin_header=None)
    assert response.status_code == 200
    assert "refresh_token" in response.json_body and "Set-Cookie" not in response.headers
    missing = call(client, "/v1/auth/refresh", {}, web=False, origin_header=None)
    assert missing.status_code == 400 and missing.json_body["error"]["details"]["fields"][0]["field"] == "refresh_token"


def test_refresh_reads_and_rotates_the_cookie_and_reuse_revokes_the_family(client):
    verified_account(client)
    first, _ = set_cookie(web_login(client))

    # When the browser refreshes with its cookie (no body)
    rotated = call(client, "/v1/auth/refresh", cookie=first)

    # Then a new access token comes back and the cookie is replaced by the next one
    assert rotated.status_code == 200, rotated.json_body
    assert "refresh_token" not in rotated.json_body and rotated.json_body["access_token"]
    second, attributes = set_cookie(rotated)
    assert second != first and attributes["path"] == "/v1/auth"

    # When the old cookie is replayed, Then 401 reused, the cookie is cleared, and the family is dead
    reused = call(client, "/v1/auth/refresh", cookie=first)
    assert reused.status_code == 401 and reused.json_body["error"]["details"]["reason"] == "reused"
    cleared, cleared_attributes = set_cookie(reused)
    assert cleared == "" and cleared_attributes["max-age"] == "0"
    newest = call(client, "/v1/auth/refresh", cookie=second)
    assert newest.status_code == 401 and newest.json_body["error"]["details"]["reason"] == "revoked"


def test_refresh_ignores_a_token_in_the_body_in_cookie_mode_and_is_401_without_the_cookie(client):
    verified_account(client)
    token = call(client, "/v1/auth/login", {"email": EMAIL, "password": PASSWORD}, web=False).json_body
    response = call(client, "/v1/auth/refresh", {"refresh_token": token["refresh_token"]})
    assert response.status_code == 401 and response.json_body["error"]["details"]["reason"] == "no_cookie"


def test_cookie_mode_is_403_when_the_origin_is_foreign_or_absent(client):
    verified_account(client)
    cookie, _ = set_cookie(web_login(client))

    # When the cookie comes with another site's Origin, or none, or "null"
    for bad in ("https://evil.example", None, "null", origin() + ".evil.example"):
        refused = call(client, "/v1/auth/refresh", cookie=cookie, origin_header=bad)
        # Then 403, the cookie untouched and still usable
        assert refused.status_code == 403, (bad, refused.json_body)
        assert refused.json_body["error"]["details"]["reason"] == "origin"
        assert "Set-Cookie" not in refused.headers
    assert call(client, "/v1/auth/logout", cookie=cookie, origin_header="https://evil.example").status_code == 403
    assert web_login(client).status_code == 200
    assert call(client, "/v1/auth/login", {"email": EMAIL, "password": PASSWORD}, origin_header=None).status_code == 403
    assert call(client, "/v1/auth/refresh", cookie=cookie).status_code == 200


def test_logout_in_cookie_mode_ends_the_session_and_clears_the_cookie(client):
    verified_account(client)
    cookie, _ = set_cookie(web_login(client))

    out = call(client, "/v1/auth/logout", cookie=cookie)

    assert out.status_code == 200 and out.json_body == {"status": "logged_out"}
    cleared, attributes = set_cookie(out)
    assert cleared == "" and attributes["max-age"] == "0" and attributes["path"] == "/v1/auth"
    assert call(client, "/v1/auth/refresh", cookie=cookie).status_code == 401
    # a second logout without a cookie is still fine (idempotent) and still clears
    again = call(client, "/v1/auth/logout")
    assert again.status_code == 200 and set_cookie(again)[0] == ""


def test_login_with_a_totp_code_in_cookie_mode_sets_the_cookie_when_2fa_is_on(client):
    from tests.api.security_world import PASSWORD as ALICE_PASSWORD
    from tests.api.security_world import build_world

    world = build_world()
    headers = world.headers("alice")
    secret = client.http.post("/v1/me/2fa/enrol", headers=headers, body="{}").json_body["secret"]
    counter = totp.counter_for(time.time())
    confirm = {"code": totp.code_at(secret, counter)}
    assert client.http.post("/v1/me/2fa/confirm", headers=headers, body=json.dumps(confirm)).status_code == 200

    body = {"email": "alice@example.org", "password": ALICE_PASSWORD}
    without = call(client, "/v1/auth/login", body)
    assert without.status_code == 401 and "Set-Cookie" not in without.headers
    assert without.json_body["error"]["details"]["reason"] == "totp_required"
    response = call(client, "/v1/auth/login", {**body, "totp_code": totp.code_at(secret, counter + 1)})

    assert response.status_code == 200, response.json_body
    assert "refresh_token" not in response.json_body and set_cookie(response)[0]
