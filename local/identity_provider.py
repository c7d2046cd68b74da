"""A stand-in identity provider for the local stack: Google, Microsoft, GitHub and Discord on one
port, with the endpoints the panel's adapters call on the real ones (docs/oauth.md#locally).

* ``/google`` and ``/microsoft``: OpenID Connect: the discovery document, ``authorize`` (a
  consent page listing test users), ``token`` (checks the client secret, the redirect URI, the
  PKCE S256 verifier, and that a code is used once), ``jwks`` (an RSA key generated at start),
  ``userinfo``. Microsoft's document names its issuer with ``{tenantid}`` as the real
  multi-tenant one does.
* ``/github``: ``/login/oauth/authorize``, ``/login/oauth/access_token`` and the API's
  ``/api/user`` and ``/api/user/emails``, shaped as GitHub documents them.
* ``/discord``: ``/oauth2/authorize``, ``/api/oauth2/token`` and ``/api/users/@me``.

The consent page can also issue a broken ID token on purpose (a wrong nonce, an expired token,
one signed by a key outside the JWKS), so the browser tests can show each is refused, and
``POST /_standin/rotate`` rotates the signing key (the panel must refetch the JWKS).

Run alone: ``python -m local.identity_provider --port 8430 --secret <client secret>``; the
launcher starts it in-process (``start``) and points the panel at it. Binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

HOST = "127.0.0.1"
OIDC = ("google", "microsoft")
NAMES = {"google": "Google", "microsoft": "Microsoft", "github": "GitHub", "discord": "Discord"}
MICROSOFT_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"  # the consumer-accounts tenant's id
FAULTS = {
    "": "A valid ID token",
    "wrong_nonce": "An ID token with another nonce",
    "expired": "An expired ID token",
    "other_key": "An ID token signed by a key outside the JWKS",
}


@dataclass(frozen=True)
class TestUser:
    email: str
    name: str
    verified: bool = True


TEST_USERS = (
    TestUser("ada@mamba.local", "Ada Lovelace"),
    TestUser("grace@mamba.local", "Grace Hopper"),
    TestUser("unverified@mamba.local", "Not Verified", verified=False),
)


def client_id(provider: str) -> str:
    return f"local-{provider}"


def subject(provider: str, email: str) -> str:
    """Stable per (provider, email); numeric for GitHub and Discord, as their ids are."""
    digest = hashlib.sha256(f"{provider}:{email.lower()}".encode()).hexdigest()
    return str(int(digest[:15], 16)) if provider in ("github", "discord") else digest[:24]


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)


@dataclass
class Grant:
    provider: str
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    nonce: str
    user: TestUser
    fault: str
    scope: str
    used: bool = False


@dataclass
class IdentityProvider:
    base: str
    client_secret: str
    keys: list[RSAKey] = field(default_factory=lambda: [_key("k1")])
    stranger: RSAKey = field(default_factory=lambda: _key("k1"))  # same kid, other key: a forgery
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, Grant] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issuer(self, provider: str) -> str:
        if provider == "microsoft":
            return f"{self.base}/microsoft/{MICROSOFT_TENANT}/v2.0"
        return f"{self.base}/{provider}"

    def discovery(self, provider: str) -> dict[str, Any]:
        issuer = f"{self.base}/microsoft/{{tenantid}}/v2.0" if provider == "microsoft" else self.issuer(provider)
        root = f"{self.base}/{provider}"
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{root}/authorize",
            "token_endpoint": f"{root}/token",
            "userinfo_endpoint": f"{root}/userinfo",
            "jwks_uri": f"{root}/jwks",
            "response_types_supported": ["code", "id_token", "code id_token"],
            "subject_types_supported": ["public" if provider == "google" else "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "email", "email_verified", "exp", "iat", "iss", "name", "sub", "nonce"],
            "code_challenge_methods_supported": ["plain", "S256"],
        }

    def jwks(self) -> dict[str, Any]:
        return KeySet(list(self.keys)).as_dict(private=False)

    def rotate(self) -> str:
        with self.lock:
            kid = f"k{len(self.keys) + 1}"
            self.keys = [_key(kid), *self.keys[:1]]  # the new key signs; the previous stays published a while
            return kid

    def claims(self, grant: Grant) -> dict[str, Any]:
        now = int(time.time())
        user = grant.user
        claims: dict[str, Any] = {
            "iss": self.issuer(grant.provider),
            "aud": grant.client_id,
            "sub": subject(grant.provider, user.email),
            "iat": now,
            "exp": now + 3600,
            "nonce": grant.nonce,
            "email": user.email,
            "name": user.name,
        }
        if grant.provider == "google":
            claims.update(azp=grant.client_id, email_verified=user.verified, given_name=user.name.split()[0])
        else:
            claims.update(
                tid=MICROSOFT_TENANT,
                oid=subject("microsoft-oid", user.email),
                preferred_username=user.email,
                ver="2.0",
            )
            if user.verified:
                claims["xms_edov"] = True
        if grant.fault == "wrong_nonce":
            claims["nonce"] = secrets.token_urlsafe(16)
        elif grant.fault == "expired":
            claims.update(iat=now - 7200, exp=now - 3600)
        return claims

    def id_token(self, grant: Grant) -> str:
        key = self.stranger if grant.fault == "other_key" else self.keys[0]
        header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, self.claims(grant), key)


def _consent_page(idp: IdentityProvider, provider: str, query: dict[str, str]) -> str:
    name = NAMES[provider]
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in query.items()
    )
    fault = ""
    if provider in OIDC:
        options = "".join(f'<option value="{k}">{html.escape(v)}</option>' for k, v in FAULTS.items())
        fault = f'<p><label for="fault">Token</label> <select id="fault" name="fault">{options}</select></p>'
    users = "".join(
        f'<li><button type="submit" name="user" value="{html.escape(u.email)}">'
        f"Continue as {html.escape(u.name)} ({html.escape(u.email)}, "
        f"{'verified' if u.verified else 'unverified'})</button></li>"
        for u in TEST_USERS
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name} (local stand-in)</title></head>
<body><main>
<h1>Sign in to {name}</h1>
<p>This is the local stand-in for {name}. Choose who signs in, then consent.</p>
<form method="post">
{hidden}
{fault}
<ul>{users}</ul>
<fieldset><legend>Another test user</legend>
<p><label for="email">Email</label> <input id="email" name="email" type="email"></p>
<p><label for="name">Name</label> <input id="name" name="name"></p>
<p><input id="verified" name="verified" type="checkbox" value="1" checked>
<label for="verified">The email is verified</label></p>
<button type="submit" name="user" value="custom">Continue as this user</button>
</fieldset>
<p><button type="submit" name="deny" value="1">Deny</button></p>
</form>
</main></body></html>"""


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    # --- plumbing ---

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def _route(self) -> tuple[str, str, dict[str, str]]:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        provider, _, rest = parts.path.lstrip("/").partition("/")
        return provider, "/" + rest, query

    def _bearer(self) -> Grant | None:
        auth = self.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        return self.server.idp.tokens.get(token)

    # --- GET ---

    def do_GET(self) -> None:
        idp = self.server.idp
        provider, path, query = self._route()
        if provider in OIDC:
            if path == "/.well-known/openid-configuration":
                return self._json(200, idp.discovery(provider))
            if path == "/jwks":
                return self._json(200, idp.jwks())
            if path == "/authorize":
                return self._authorize_page(provider, query)
            if path == "/userinfo":
                grant = self._bearer()
                if grant is None:
                    return self._json(401, {"error": "invalid_token"})
                claims = idp.claims(grant)
                return self._json(200, {k: v for k, v in claims.items() if k not in ("iss", "aud", "iat", "exp")})
        if provider == "github":
            if path == "/login/oauth/authorize":
                return self._authorize_page(provider, query)
            if path in ("/api/user", "/api/user/emails"):
                return self._github(path)
        if provider == "discord":
            if path == "/oauth2/authorize":
                return self._authorize_page(provider, query)
            if path == "/api/users/@me":
                return self._discord()
        if provider == "_standin" and path == "/health":
            return self._json(200, {"status": "ok"})
        return self._json(404, {"error": "not_found"})

    def _authorize_page(self, provider: str, query: dict[str, str]) -> None:
        if query.get("client_id") != client_id(provider) or query.get("response_type") != "code":
            return self._send(400, b"unknown client or response type", "text/plain")
        if provider in OIDC and "openid" not in query.get("scope", "").split():
            return self._send(400, b"the openid scope is required", "text/plain")
        if not query.get("code_challenge") or query.get("code_challenge_method") != "S256":
            return self._send(400, b"PKCE with S256 is required here", "text/plain")
        self._send(200, _consent_page(self.server.idp, provider, query).encode(), "text/html; charset=utf-8")

    def _github(self, path: str) -> None:
        grant = self._bearer()
        if grant is None or grant.provider != "github":
            return self._json(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
        user = grant.user
        if path == "/api/user":
            return self._json(
                200,
                {
                    "login": user.email.split("@")[0],
                    "id": int(subject("github", user.email)),
                    "node_id": "MDQ6VXNlcjE=",
                    "type": "User",
                    "name": user.name,
                    "email": None,  # a private email, as most users keep it: hence /user/emails
                },
            )
        return self._json(
            200,
            [
                {"email": user.email, "primary": True, "verified": user.verified, "visibility": "private"},
                {
                    "email": f"{subject('github', user.email)}+noreply@users.noreply.github.com",
                    "primary": False,
                    "verified": True,
                    "visibility": None,
                },
            ],
        )

    def _discord(self) -> None:
        grant = self._bearer()
        if grant is None or grant.provider != "discord":
            return self._json(401, {"message": "401: Unauthorized", "code": 0})
        user = grant.user
        return self._json(
            200,
            {
                "id": subject("discord", user.email),
                "username": user.email.split("@")[0],
                "global_name": user.name,
                "discriminator": "0",
                "avatar": None,
                "verified": user.verified,
                "email": user.email,
                "flags": 0,
                "mfa_enabled": False,
            },
        )

    # --- POST ---

    def do_POST(self) -> None:
        provider, path, query = self._route()
        if provider == "_standin" and path == "/rotate":
            return self._json(200, {"kid": self.server.idp.rotate()})
        consent = {
            "google": "/authorize",
            "microsoft": "/authorize",
            "github": "/login/oauth/authorize",
            "discord": "/oauth2/authorize",
        }
        token = {
            "google": "/token",
            "microsoft": "/token",
            "github": "/login/oauth/access_token",
            "discord": "/api/oauth2/token",
        }
        if provider in consent and path == consent[provider]:
            return self._consent(provider, {**query, **self._form()})
        if provider in token and path == token[provider]:
            return self._token(provider, self._form())
        return self._json(404, {"error": "not_found"})

    def _consent(self, provider: str, form: dict[str, str]) -> None:
        redirect = form.get("redirect_uri", "")
        state = form.get("state", "")
        if not redirect.startswith(("http://127.0.0.1", "http://localhost", "https://")):
            return self._send(400, b"bad redirect_uri", "text/plain")
        sep = "&" if "?" in redirect else "?"
        if form.get("deny"):
            target = f"{redirect}{sep}{urlencode({'error': 'access_denied', 'state': state})}"
            return self._send(302, b"", "text/plain", {"Location": target})
        chosen = form.get("user", "")
        if chosen == "custom":
            user = TestUser(
                form.get("email", "").strip().lower(),
                form.get("name", "").strip() or "Test User",
                form.get("verified") == "1",
            )
        else:
            user = next((u for u in TEST_USERS if u.email == chosen), TEST_USERS[0])
        if "@" not in user.email:
            return self._send(400, b"an email is needed", "text/plain")
        code = secrets.token_urlsafe(24)
        with self.server.idp.lock:
            self.server.idp.grants[code] = Grant(
                provider=provider,
                client_id=form.get("client_id", ""),
                redirect_uri=redirect,
                challenge=form.get("code_challenge", ""),
                method=form.get("code_challenge_method", ""),
                nonce=form.get("nonce", ""),
                user=user,
                fault=form.get("fault", "") if form.get("fault", "") in FAULTS else "",
                scope=form.get("scope", ""),
            )
        target = f"{redirect}{sep}{urlencode({'code': code, 'state': state})}"
        self._send(302, b"", "text/plain", {"Location": target})

    def _client(self, form: dict[str, str]) -> tuple[str, str]:
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            return cid, secret
        return form.get("client_id", ""), form.get("client_secret", "")

    def _token(self, provider: str, form: dict[str, str]) -> None:
        idp = self.server.idp
        if not (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            # RFC 6749 §4.1.3: the token request is a form; the real providers refuse anything else.
            return self._json(400, {"error": "invalid_request", "error_description": "a form body is required"})
        cid, secret = self._client(form)
        if cid != client_id(provider) or not secrets.compare_digest(secret, idp.client_secret):
            return self._json(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return self._json(400, {"error": "unsupported_grant_type"})
        with idp.lock:
            grant = idp.grants.get(form.get("code", ""))
            replayed = grant is not None and grant.used
            if grant is not None:
                grant.used = True
        if grant is None or replayed or grant.provider != provider:
            # A code works once: a replay is refused (a real provider also revokes what it issued).
            return self._json(400, {"error": "invalid_grant", "error_description": "The code is invalid or used."})
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._json(400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
        if s256(form.get("code_verifier", "")) != grant.challenge:
            return self._json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        access = secrets.token_urlsafe(24)
        with idp.lock:
            idp.tokens[access] = grant
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer" if provider == "github" else "Bearer",
            "scope": grant.scope,
            "expires_in": 3599,
        }
        if provider in OIDC:
            answer["id_token"] = idp.id_token(grant)
        self._json(200, answer)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, idp: IdentityProvider) -> None:
        super().__init__((HOST, port), Handler)
        self.idp = idp


@dataclass
class Running:
    server: Server
    thread: threading.Thread
    base: str

    @property
    def idp(self) -> IdentityProvider:
        return self.server.idp

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def environment(self) -> dict[str, str]:
        """The panel's settings that make it offer all four providers through this stand-in."""
        env: dict[str, str] = {
            "OAUTH_GOOGLE_DISCOVERY_URL": f"{self.base}/google/.well-known/openid-configuration",
            "OAUTH_MICROSOFT_DISCOVERY_URL": f"{self.base}/microsoft/.well-known/openid-configuration",
            "OAUTH_GITHUB_URL": f"{self.base}/github",
            "OAUTH_GITHUB_API_URL": f"{self.base}/github/api",
            "OAUTH_DISCORD_URL": f"{self.base}/discord",
            "OAUTH_DISCORD_API_URL": f"{self.base}/discord/api",
        }
        for provider in NAMES:
            env[f"OAUTH_{provider.upper()}_CLIENT_ID"] = client_id(provider)
            env[f"OAUTH_{provider.upper()}_CLIENT_SECRET"] = self.idp.client_secret
        return env


def start(port: int = 0, client_secret: str | None = None) -> Running:
    """Serve on 127.0.0.1:``port`` (0: any free port) in a daemon thread."""
    idp = IdentityProvider(base="", client_secret=client_secret or secrets.token_urlsafe(32))
    server = Server(port, idp)
    idp.base = f"http://{HOST}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="identity-provider", daemon=True)
    thread.start()
    return Running(server, thread, idp.base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8430)
    parser.add_argument("--secret", default=None, help="the client secret of all four providers")
    args = parser.parse_args()
    running = start(args.port, args.secret)
    print(json.dumps({"base": running.base, **running.environment()}, indent=2), flush=True)
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":
    main()
