"""Each real provider's documented answers (recorded in tests/fixtures/oauth/*.json: Google's and
Microsoft's discovery documents, token answers and ID token claims, GitHub's and Discord's token
answers and user APIs) served over HTTP to the same adapter code production runs
(mamba/adapters/oauth_providers.py): the authorization URL it builds, what it sends to the token
endpoint, and the profile it reads, including the cases where the email does not count as verified."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from mamba.adapters import oauth_providers as op
from mamba.domain.oauth import OAuthRefusedError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oauth"
SECRET = "recorded-shapes-client-secret"
REDIRECT = "https://panel.example/v1/auth/oauth/{p}/callback"
KEY = RSAKey.generate_key(2048, parameters={"kid": "recorded", "use": "sig", "alg": "RS256"}, private=True)


def fixture(provider: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{provider}.json").read_text())


class Provider:
    """One provider's recorded answers on a local port; ``overrides`` changes them per test."""

    def __init__(self, name: str, base: str) -> None:
        self.name = name
        self.base = base
        self.data = fixture(name)
        self.requests: list[tuple[str, str, dict[str, str], dict[str, str]]] = []  # method, path, form, headers

    def local(self, url: str) -> str:
        """A recorded endpoint URL as served here: https://host/path → <base>/<provider>/host/path."""
        parts = urlsplit(url)
        return f"{self.base}/{self.name}/{parts.netloc}{parts.path}"

    def discovery(self) -> dict[str, Any]:
        doc = dict(self.data["discovery"])
        for key, value in doc.items():
            if key.endswith(("_endpoint", "_uri")) and isinstance(value, str):
                doc[key] = self.local(value)
        return doc

    def id_token(self) -> str:
        claims = dict(self.data["id_token_claims"])
        now = int(time.time())
        claims.update(iat=now, exp=now + 3600, nbf=now) if "nbf" in claims else claims.update(iat=now, exp=now + 3600)
        return jwt.encode({"alg": "RS256", "kid": KEY.kid, "typ": "JWT"}, claims, KEY)

    def answer(self, method: str, path: str) -> tuple[int, Any]:
        rest = path.removeprefix(f"/{self.name}")
        data = self.data
        if self.name in ("google", "microsoft"):
            doc = data["discovery"]
            if rest == "/.well-known/openid-configuration":
                return 200, self.discovery()
            if self.local(doc["jwks_uri"]).endswith(rest):
                return 200, KeySet([KEY]).as_dict(private=False)
            if method == "POST" and self.local(doc["token_endpoint"]).endswith(rest):
                return 200, {**data["token"], "id_token": self.id_token()}
        if self.name == "github":
            if method == "POST" and rest == "/web/login/oauth/access_token":
                return 200, data["token"]
            if rest == "/api/user":
                return 200, data["user"]
            if rest == "/api/user/emails":
                return 200, data["emails"]
        if self.name == "discord":
            if method == "POST" and rest == "/api/oauth2/token":
                return 200, data["token"]
            if rest == "/api/users/@me":
                return 200, data["user"]
        return 404, {"error": "not_found", "path": path}


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        name = self.path.split("/")[1]
        provider = self.server.providers[name]
        form = {k: v[-1] for k, v in parse_qs(raw).items()}
        provider.requests.append((method, self.path, form, dict(self.headers)))
        status, body = provider.answer(method, self.path.split("?")[0])
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    providers: dict[str, Provider]


@pytest.fixture
def served() -> Iterator[dict[str, Provider]]:
    server = Server(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.providers = {p: Provider(p, base) for p in ("google", "microsoft", "github", "discord")}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.providers
    server.shutdown()
    server.server_close()


def adapter(provider: Provider) -> op._Provider:
    base, data = provider.base, provider.data
    if provider.name == "google":
        config = op.ClientConfig("google", data["client_id"], SECRET)
        return op.OidcProvider(config, f"{base}/google/.well-known/openid-configuration")
    if provider.name == "microsoft":
        config = op.ClientConfig("microsoft", data["client_id"], SECRET)
        return op.MicrosoftProvider(config, f"{base}/microsoft/.well-known/openid-configuration")
    config = op.ClientConfig(provider.name, f"{provider.name}-client", SECRET)
    cls = op.GitHubProvider if provider.name == "github" else op.DiscordProvider
    return cls(config, f"{base}/{provider.name}/web", f"{base}/{provider.name}/api")


def nonce_of(provider: Provider) -> str:
    return str(provider.data.get("id_token_claims", {}).get("nonce", "unused-by-oauth2"))


def sign_in(provider: Provider) -> tuple[Any, str, str]:
    """authorize → (the provider's redirect) → profile: (profile, authorization URL, verifier)."""
    client = adapter(provider)
    redirect = REDIRECT.format(p=provider.name)
    url, verifier = client.authorize(redirect_uri=redirect, state="state-1", nonce=nonce_of(provider))
    profile = client.profile(code="code-1", redirect_uri=redirect, code_verifier=verifier, nonce=nonce_of(provider))
    return profile, url, verifier


@pytest.mark.parametrize("name", ["google", "microsoft", "github", "discord"])
def test_the_recorded_answers_give_the_documented_profile(served, name):
    provider = served[name]
    profile, _, _ = sign_in(provider)
    expected = provider.data["expected"]
    assert (profile.provider, profile.subject, profile.email, profile.email_verified, profile.name) == (
        name, expected["subject"], expected["email"], expected["email_verified"], expected["name"],
    )  # fmt: skip


@pytest.mark.parametrize("name", ["google", "microsoft", "github", "discord"])
def test_the_authorization_url_asks_for_a_code_with_pkce_s256_and_the_state(served, name):
    provider = served[name]
    _, url, verifier = sign_in(provider)
    query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["response_type"] == "code" and query["state"] == "state-1"
    assert query["code_challenge_method"] == "S256" and query["code_challenge"] == challenge
    assert 43 <= len(verifier) <= 128
    assert query["redirect_uri"] == REDIRECT.format(p=name)
    if name in ("google", "microsoft"):
        assert query["nonce"] == nonce_of(provider) and set(query["scope"].split()) == {"openid", "email", "profile"}
        recorded = urlsplit(provider.data["discovery"]["authorization_endpoint"])
        assert urlsplit(url).path.endswith(recorded.netloc + recorded.path)
    else:
        assert "nonce" not in query
        assert urlsplit(url).path.endswith({"github": "/login/oauth/authorize", "discord": "/oauth2/authorize"}[name])


@pytest.mark.parametrize("name", ["google", "microsoft", "github", "discord"])
def test_the_code_is_exchanged_with_the_verifier_and_the_client_credentials(served, name):
    provider = served[name]
    _, _, verifier = sign_in(provider)
    method, _, form, _ = next(r for r in provider.requests if r[0] == "POST")
    assert method == "POST" and form["grant_type"] == "authorization_code" and form["code"] == "code-1"
    assert form["code_verifier"] == verifier and form["client_secret"] == SECRET
    assert form["redirect_uri"] == REDIRECT.format(p=name)
    _, _, _, token_headers = next(r for r in provider.requests if r[0] == "POST")
    assert token_headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert token_headers["Accept"] == "application/json"  # GitHub answers a query string otherwise
    user_calls = [r for r in provider.requests if r[0] == "GET" and "/api/" in r[1]]
    for _, _, _, headers in user_calls:  # GitHub and Discord: the user API with the access token
        assert headers["Authorization"] == f"Bearer {provider.data['token']['access_token']}"


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("google", lambda d: d["id_token_claims"].update(email_verified=False)),
        ("microsoft", lambda d: d["id_token_claims"].pop("xms_edov")),  # an email the tenant typed in, unchecked
        ("github", lambda d: d["emails"][0].update(verified=False)),
        ("github", lambda d: d["emails"][0].update(primary=False)),  # no primary address at all
        ("discord", lambda d: d["user"].update(verified=False)),
        ("discord", lambda d: d["user"].update(email=None)),  # the email scope not granted
    ],
)
def test_an_email_the_provider_did_not_verify_does_not_count(served, name, change):
    provider = served[name]
    change(provider.data)
    profile, _, _ = sign_in(provider)
    assert profile.email_verified is False


def test_a_microsoft_token_of_another_tenant_than_it_claims_is_refused(served):
    provider = served["microsoft"]
    provider.data["id_token_claims"]["tid"] = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(OAuthRefusedError) as refused:
        sign_in(provider)
    assert refused.value.details["reason"] == "id_token_invalid"


def test_an_id_token_for_another_client_is_refused(served):
    provider = served["google"]
    provider.data["id_token_claims"]["aud"] = "someone-else.apps.googleusercontent.com"
    with pytest.raises(OAuthRefusedError) as refused:
        sign_in(provider)
    assert refused.value.details["reason"] == "id_token_invalid"


def test_an_unknown_key_refetches_the_jwks_once_and_not_more_than_once_a_minute(served):
    global KEY
    provider = served["google"]
    client = adapter(provider)
    redirect = REDIRECT.format(p="google")
    nonce = nonce_of(provider)

    def jwks_fetches() -> int:
        return sum(1 for method, path, _, _ in provider.requests if method == "GET" and path.endswith("/certs"))

    # Given a sign-in that fetched the JWKS
    _url, verifier = client.authorize(redirect_uri=redirect, state="s", nonce=nonce)
    client.profile(code="c", redirect_uri=redirect, code_verifier=verifier, nonce=nonce)
    assert jwks_fetches() == 1
    original = KEY
    try:
        # When the provider rotates to a key the cached set does not hold, right away: refused, no refetch
        KEY = RSAKey.generate_key(2048, parameters={"kid": "rotated", "use": "sig", "alg": "RS256"}, private=True)
        with pytest.raises(OAuthRefusedError) as refused:
            client.profile(code="c", redirect_uri=redirect, code_verifier=verifier, nonce=nonce)
        assert refused.value.details["reason"] == "signature_invalid" and jwks_fetches() == 1
        # Then, once the cached set is older than the refetch interval, the new key is fetched and accepted
        client.jwks_refetch_after = 0  # type: ignore[attr-defined]
        assert client.profile(code="c", redirect_uri=redirect, code_verifier=verifier, nonce=nonce).subject
        assert jwks_fetches() == 2
    finally:
        KEY = original
