"""Sign-in with a provider through the real app on moto, against the local stand-in identity
provider over real HTTP (local/identity_provider.py): the whole flow for an OpenID Connect
provider (Google, Microsoft) and an OAuth 2.0 one (GitHub, Discord), the account-linking rules,
each refused token or state, 2FA, suspension, and the account page's identities."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from local import identity_provider
from mamba import bootstrap
from tests.api.test_accounts import (  # noqa: F401 - configure is a fixture
    PASSWORD,
    bearer,
    configure,
    login,
    mails_to,
    token_from,
    verified_account,
)

WEB = {"X-Mamba-Client": "web", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def idp() -> Iterator[identity_provider.Running]:
    running = identity_provider.start()
    yield running
    running.stop()


@pytest.fixture
def oauth(client: Any, configure: Any, idp: identity_provider.Running) -> identity_provider.Running:  # noqa: F811
    """The app offers all four providers through the stand-in."""
    env = idp.environment()
    configure(
        oauth_google_client_id="local-google",
        oauth_microsoft_client_id="local-microsoft",
        oauth_github_client_id="local-github",
        oauth_discord_client_id="local-discord",
        oauth_google_discovery_url=env["OAUTH_GOOGLE_DISCOVERY_URL"],
        oauth_microsoft_discovery_url=env["OAUTH_MICROSOFT_DISCOVERY_URL"],
        oauth_github_url=env["OAUTH_GITHUB_URL"],
        oauth_github_api_url=env["OAUTH_GITHUB_API_URL"],
        oauth_discord_url=env["OAUTH_DISCORD_URL"],
        oauth_discord_api_url=env["OAUTH_DISCORD_API_URL"],
        oauth_client_secrets={p: idp.idp.client_secret for p in ("google", "microsoft", "github", "discord")},
    )
    return idp


def cookies_of(response: Any) -> dict[str, str]:
    raw = response.headers.get("Set-Cookie") or []
    jar: SimpleCookie = SimpleCookie()
    for part in [raw] if isinstance(raw, str) else raw:  # several cookies: a list (multiValueHeaders)
        jar.load(part)
    return {name: morsel.value for name, morsel in jar.items()}


class Browser:
    """A browser's part: the cookies it holds for /v1/auth/oauth, and its navigations."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.jar: dict[str, str] = {}

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.jar.items() if v)} if self.jar else {}

    def _keep(self, response: Any) -> None:
        if "Set-Cookie" in response.headers:
            self.jar.update(cookies_of(response))

    def get(self, path: str) -> Any:
        response = self.client.http.get(path, headers=self._cookie_header())
        self._keep(response)
        return response

    def post(self, path: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
        all_headers = {**WEB, "Origin": bootstrap.settings().public_url, **self._cookie_header(), **(headers or {})}
        response = self.client.http.post(path, body=json.dumps(body or {}), headers=all_headers)
        self._keep(response)
        return response


def consent(authorize_url: str, **form: str) -> str:
    """The user picks who signs in on the provider's page: the callback URL it redirects to."""
    parts = urlsplit(authorize_url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    answer = requests.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}", data={**query, **form}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def start(browser: Browser, provider: str, return_to: str = "/servers") -> str:
    started = browser.get(f"/v1/auth/oauth/{provider}/start?return_to={return_to}")
    assert started.status_code == 302, started.body
    return started.headers["Location"]


def sign_in_flow(
    browser: Browser, provider: str, email: str, *, verified: bool = True, fault: str = ""
) -> tuple[Any, str]:
    """start → consent → callback: (the callback's answer, the callback URL)."""
    back = consent(
        start(browser, provider), user="custom", email=email, name="Test Person", verified="1" if verified else "",
        fault=fault,
    )  # fmt: skip
    return browser.get(path_of(back)), back


def page_query(response: Any) -> dict[str, str]:
    assert response.status_code == 302, response.body
    location = response.headers["Location"]
    assert location.startswith("/oauth/complete?"), location
    return {k: v[-1] for k, v in parse_qs(urlsplit(location).query).items()}


# --- the flow ---------------------------------------------------------------------------------


def test_the_enabled_providers_are_listed_for_the_buttons(client, oauth):
    answer = client.http.get("/v1/auth/providers")
    assert answer.status_code == 200
    assert [p["id"] for p in answer.json_body["items"]] == ["google", "microsoft", "github", "discord"]
    assert {p["kind"] for p in answer.json_body["items"]} == {"oidc", "oauth2"}


def test_no_provider_is_listed_when_none_is_configured(client):
    assert client.http.get("/v1/auth/providers").json_body == {"items": []}


def test_start_redirects_with_pkce_s256_state_nonce_and_a_lax_httponly_binding_cookie(client, oauth):
    browser = Browser(client)
    response = browser.get("/v1/auth/oauth/google/start?return_to=/servers")
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert location.path.endswith("/google/authorize")
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == [f"{bootstrap.settings().public_url}/v1/auth/oauth/google/callback"]
    header = response.headers["Set-Cookie"]
    assert "mamba_oauth_state=" in header
    assert all(flag in header for flag in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/v1/auth/oauth"))


@pytest.mark.parametrize("provider", ["google", "microsoft", "github", "discord"])
def test_a_first_sign_in_with_a_verified_email_creates_an_account_and_signs_it_in(client, oauth, provider):
    browser = Browser(client)
    email = f"first-{provider}@example.com"
    called, _ = sign_in_flow(browser, provider, email)
    assert page_query(called) == {"provider": provider}
    assert "mamba_oauth_ticket" in browser.jar

    done = browser.post("/v1/auth/oauth/complete")
    assert done.status_code == 200, done.json_body
    assert done.json_body["status"] == "signed_in" and done.json_body["created"] is True
    assert done.json_body["return_to"] == "/servers"
    assert "mamba_refresh" in browser.jar and "refresh_token" not in done.json_body
    me = client.http.get("/v1/me", headers=bearer(done.json_body["access_token"]))
    assert me.json_body["email"] == email and me.json_body["email_verified"] is True

    identities = client.http.get("/v1/me/identities", headers=bearer(done.json_body["access_token"]))
    assert [i["provider"] for i in identities.json_body["items"]] == [provider]

    # And the next sign-in with the same provider account signs the same account in
    again = Browser(client)
    called, _ = sign_in_flow(again, provider, email)
    second = again.post("/v1/auth/oauth/complete")
    assert second.json_body["status"] == "signed_in" and second.json_body["created"] is False
    me2 = client.http.get("/v1/me", headers=bearer(second.json_body["access_token"]))
    assert me2.json_body["id"] == me.json_body["id"]


@pytest.mark.parametrize("provider", ["google", "microsoft", "github", "discord"])
def test_an_unverified_provider_email_creates_nothing(client, oauth, provider):
    browser = Browser(client)
    called, _ = sign_in_flow(browser, provider, f"unverified-{provider}@example.com", verified=False)
    assert page_query(called)["error"] == "email_unverified"
    assert login(client, f"unverified-{provider}@example.com").status_code == 401
    assert client.http.post(
        "/v1/auth/password/forgot", body=json.dumps({"email": f"unverified-{provider}@example.com"}),
        headers={"Content-Type": "application/json"},
    ).status_code == 202  # fmt: skip
    assert mails_to(f"unverified-{provider}@example.com") == []  # no account to mail


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("wrong_nonce", "nonce_mismatch"), ("expired", "id_token_expired"), ("other_key", "signature_invalid")],
)
def test_a_bad_id_token_is_refused_with_its_reason(client, oauth, fault, reason):
    browser = Browser(client)
    called, _ = sign_in_flow(browser, "google", f"{fault}@example.com", fault=fault)
    assert page_query(called)["error"] == reason
    assert "mamba_oauth_ticket" not in browser.jar
    assert login(client, f"{fault}@example.com").status_code == 401


def test_a_tampered_state_is_refused(client, oauth):
    browser = Browser(client)
    back = consent(start(browser, "github"), user="custom", email="tamper@example.com", verified="1")
    tampered = back.replace("state=", "state=x")
    assert page_query(browser.get(path_of(tampered)))["error"] == "state_invalid"


def test_a_callback_in_another_browser_is_refused(client, oauth):
    browser = Browser(client)
    back = consent(start(browser, "google"), user="custom", email="csrf@example.com", verified="1")
    other = Browser(client)  # no binding cookie: a login CSRF or a stolen redirect
    assert page_query(other.get(path_of(back)))["error"] == "state_invalid"


def test_a_replayed_callback_is_refused(client, oauth):
    # Given a callback the panel took already, with the browser's binding cookie still in hand
    browser = Browser(client)
    back = consent(start(browser, "discord"), user="custom", email="replay@example.com", verified="1")
    binding = browser.jar["mamba_oauth_state"]
    assert "error" not in page_query(browser.get(path_of(back)))
    # When the same callback URL is opened again with that cookie
    browser.jar["mamba_oauth_state"] = binding
    # Then the state is gone: refused
    assert page_query(browser.get(path_of(back)))["error"] == "state_invalid"


def test_a_replayed_code_is_refused_by_the_provider(client, oauth):
    # Given a code the panel redeemed already (the stand-in, like a real provider, refuses a reuse)
    browser = Browser(client)
    authorize = start(browser, "google")
    back = consent(authorize, user="custom", email="code@example.com", verified="1")
    assert "error" not in page_query(browser.get(path_of(back)))
    # When a new flow in this browser is answered with the old code
    fresh = start(browser, "google")
    state = parse_qs(urlsplit(fresh).query)["state"][0]
    code = parse_qs(urlsplit(back).query)["code"][0]
    answer = browser.get(f"/v1/auth/oauth/google/callback?code={code}&state={state}")
    # Then the exchange fails and nothing signs in
    assert page_query(answer)["error"] == "code_rejected"


def test_return_to_outside_the_panel_falls_back_to_the_root(client, oauth):
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        browser = Browser(client)
        authorize = browser.get(f"/v1/auth/oauth/google/start?return_to={evil}").headers["Location"]
        back = consent(authorize, user="custom", email="redirect@example.com", verified="1")
        browser.get(path_of(back))
        assert browser.post("/v1/auth/oauth/complete").json_body["return_to"] == "/"


def test_complete_needs_the_panels_origin(client, oauth):
    browser = Browser(client)
    sign_in_flow(browser, "google", "origin@example.com")
    refused = browser.post("/v1/auth/oauth/complete", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json_body["error"]["details"]["reason"] == "origin"


def test_a_ticket_works_once(client, oauth):
    browser = Browser(client)
    sign_in_flow(browser, "github", "once@example.com")
    ticket = browser.jar["mamba_oauth_ticket"]
    assert browser.post("/v1/auth/oauth/complete").status_code == 200
    browser.jar["mamba_oauth_ticket"] = ticket
    again = browser.post("/v1/auth/oauth/complete")
    assert again.status_code == 400 and again.json_body["error"]["details"]["reason"] == "ticket_invalid"


def test_an_unknown_provider_redirects_to_the_page(client, oauth):
    assert page_query(client.http.get("/v1/auth/oauth/myspace/start"))["error"] == "provider_unknown"


# --- an account that holds the email already ---------------------------------------------------


def test_an_existing_account_is_not_linked_silently_and_its_password_proves_it(client, oauth):
    owner = verified_account(client, "owner@example.com")
    browser = Browser(client)
    called, _ = sign_in_flow(browser, "google", "owner@example.com")
    assert "error" not in page_query(called)

    asked = browser.post("/v1/auth/oauth/complete")
    assert asked.status_code == 200
    assert asked.json_body["status"] == "link_required" and "access_token" not in asked.json_body
    assert asked.json_body["methods"] == ["password", "mail"]
    token = login(client, "owner@example.com").json_body["access_token"]
    assert client.http.get("/v1/me/identities", headers=bearer(token)).json_body["items"] == []

    wrong = browser.post("/v1/auth/oauth/prove/password", {"password": "not the password at all"})
    assert wrong.status_code == 401
    proved = browser.post("/v1/auth/oauth/prove/password", {"password": PASSWORD})
    assert proved.status_code == 200, proved.json_body
    assert proved.json_body["status"] == "signed_in" and proved.json_body["linked"] is True
    me = client.http.get("/v1/me", headers=bearer(proved.json_body["access_token"]))
    assert me.json_body["id"] == owner["id"]
    assert [i["provider"] for i in client.http.get("/v1/me/identities", headers=bearer(token)).json_body["items"]] == [
        "google"
    ]


def test_a_second_provider_is_proven_by_signing_in_with_the_first(client, oauth):
    # Given an account created by a GitHub sign-in
    first = Browser(client)
    sign_in_flow(first, "github", "two@example.com")
    created = first.post("/v1/auth/oauth/complete").json_body
    # When Discord with the same email is used: proof is asked, and GitHub is offered as one
    browser = Browser(client)
    sign_in_flow(browser, "discord", "two@example.com")
    asked = browser.post("/v1/auth/oauth/complete").json_body
    assert asked["status"] == "link_required" and asked["methods"] == ["github", "mail"]
    # And signing in with GitHub in this browser links Discord
    _called, _ = sign_in_flow(browser, "github", "two@example.com")
    done = browser.post("/v1/auth/oauth/complete").json_body
    assert done["status"] == "signed_in"
    listed = client.http.get("/v1/me/identities", headers=bearer(done["access_token"])).json_body["items"]
    assert sorted(i["provider"] for i in listed) == ["discord", "github"]
    assert created["access_token"] != done["access_token"]


def test_a_mailed_link_proves_the_account(client, oauth):
    verified_account(client, "mailed@example.com")
    browser = Browser(client)
    sign_in_flow(browser, "microsoft", "mailed@example.com")
    assert browser.post("/v1/auth/oauth/complete").json_body["status"] == "link_required"
    assert browser.post("/v1/auth/oauth/prove/mail").status_code == 202
    subject, text = mails_to("mailed@example.com")[-1]
    assert "Microsoft" in subject and "/oauth/link?token=" in text

    # The link is opened (maybe in another browser): it links, and hands a sign-in ticket
    other = Browser(client)
    confirmed = other.post("/v1/auth/oauth/link/confirm", {"token": token_from(text)})
    assert confirmed.status_code == 200 and confirmed.json_body == {"status": "linked", "provider": "microsoft"}
    done = other.post("/v1/auth/oauth/complete")
    assert done.json_body["status"] == "signed_in"
    again = Browser(client).post("/v1/auth/oauth/link/confirm", {"token": token_from(text)})
    assert again.status_code == 400


# --- signing in like a password login ---------------------------------------------------------


def test_two_factor_is_asked_and_a_wrong_code_counts(client, oauth):
    import time

    from mamba.auth import totp

    browser = Browser(client)
    sign_in_flow(browser, "google", "twofa@example.com")
    token = browser.post("/v1/auth/oauth/complete").json_body["access_token"]
    auth = {**bearer(token), "Content-Type": "application/json"}
    secret = client.http.post("/v1/me/2fa/enrol", headers=auth).json_body["secret"]
    step = totp.counter_for(time.time())
    confirmed = client.http.post(
        "/v1/me/2fa/confirm", body=json.dumps({"code": totp.code_at(secret, step)}), headers=auth
    )
    assert confirmed.status_code == 200, confirmed.json_body

    again = Browser(client)
    sign_in_flow(again, "google", "twofa@example.com")
    asked = again.post("/v1/auth/oauth/complete")
    assert asked.status_code == 401 and asked.json_body["error"]["details"]["reason"] == "totp_required"
    wrong = again.post("/v1/auth/oauth/complete", {"totp_code": "000000"})
    assert wrong.status_code == 401 and wrong.json_body["error"]["details"]["reason"] == "totp_invalid"
    assert bootstrap.user_repository().find_by_email("twofa@example.com").failed_logins == 1


def test_a_suspended_account_is_refused(client, oauth):
    browser = Browser(client)
    sign_in_flow(browser, "github", "suspended@example.com")
    user = bootstrap.user_repository().find_by_email("suspended@example.com")
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem

    UserItem(*keys.user(user.id)).update(actions=[UserItem.status.set("suspended")])
    refused = browser.post("/v1/auth/oauth/complete")
    assert refused.status_code == 401 and refused.json_body["error"]["details"]["reason"] == "inactive"


# --- the account page -------------------------------------------------------------------------


def test_linking_from_the_account_page_and_removing_with_the_last_way_in_kept(client, oauth):
    browser = Browser(client)
    sign_in_flow(browser, "discord", "linker@example.com")
    token = browser.post("/v1/auth/oauth/complete").json_body["access_token"]
    auth = {**bearer(token), "Content-Type": "application/json"}

    # Link Google (another email at Google: a signed-in caller links whatever they prove)
    started = client.http.post("/v1/me/identities", body=json.dumps({"provider": "google"}), headers=auth)
    assert started.status_code == 200, started.json_body
    browser.jar.update(cookies_of(started))
    back = consent(started.json_body["authorize_url"], user="custom", email="other@example.com", verified="1")
    assert page_query(browser.get(path_of(back))) == {"provider": "google", "result": "linked"}
    listed = client.http.get("/v1/me/identities", headers=auth).json_body["items"]
    assert sorted(i["provider"] for i in listed) == ["discord", "google"]

    # Remove one; the last one (no password) is refused
    google = next(i for i in listed if i["provider"] == "google")
    assert client.http.delete(f"/v1/me/identities/{google['id']}", headers=auth).status_code == 204
    discord = next(i for i in listed if i["provider"] == "discord")
    refused = client.http.delete(f"/v1/me/identities/{discord['id']}", headers=auth)
    assert refused.status_code == 409 and refused.json_body["error"]["details"]["reason"] == "last_sign_in_method"
    assert client.http.delete("/v1/me/identities/idn_nothing", headers=auth).status_code == 404


def test_an_identity_of_another_account_cannot_be_linked(client, oauth):
    owner = Browser(client)
    sign_in_flow(owner, "github", "holder@example.com")
    owner.post("/v1/auth/oauth/complete")
    verified_account(client, "someone@example.com")
    token = login(client, "someone@example.com").json_body["access_token"]
    started = client.http.post(
        "/v1/me/identities", body=json.dumps({"provider": "github"}),
        headers={**bearer(token), "Content-Type": "application/json"},
    )  # fmt: skip
    browser = Browser(client)
    browser.jar.update(cookies_of(started))
    back = consent(started.json_body["authorize_url"], user="custom", email="holder@example.com", verified="1")
    assert page_query(browser.get(path_of(back)))["error"] == "identity_taken"


def test_jwks_key_rotation_is_followed(client, oauth):
    browser = Browser(client)
    sign_in_flow(browser, "google", "rotate@example.com")
    assert browser.post("/v1/auth/oauth/complete").status_code == 200
    for provider in bootstrap.identity_providers().values():
        provider.jwks_refetch_after = 0  # type: ignore[attr-defined]
    requests.post(f"{oauth.base}/_standin/rotate", timeout=5)
    again = Browser(client)
    called, _ = sign_in_flow(again, "google", "rotate@example.com")
    assert "error" not in page_query(called)


def test_deleting_the_account_unlinks_its_sign_ins_so_the_provider_account_starts_afresh(client, oauth):
    # Given an account with a password and Google linked
    verified_account(client, "leaver@example.com")
    browser = Browser(client)
    sign_in_flow(browser, "google", "leaver@example.com")
    browser.post("/v1/auth/oauth/complete")
    token = browser.post("/v1/auth/oauth/prove/password", {"password": PASSWORD}).json_body["access_token"]
    assert len(client.http.get("/v1/me/identities", headers=bearer(token)).json_body["items"]) == 1

    # When the account is deleted
    deleted = client.http.delete(
        "/v1/me", body=json.dumps({"current_password": PASSWORD}),
        headers={**bearer(token), "Content-Type": "application/json"},
    )  # fmt: skip
    assert deleted.status_code == 200, deleted.json_body

    # Then its link is gone with it: the same Google account creates a new account
    from mamba.adapters.dynamo.oauth import DynamoOAuthStore

    assert DynamoOAuthStore().find("google", identity_provider.subject("google", "leaver@example.com")) is None
    again = Browser(client)
    sign_in_flow(again, "google", "leaver@example.com")
    assert again.post("/v1/auth/oauth/complete").json_body["created"] is True


def test_the_callback_is_in_the_platform_audit_log_with_its_outcome_and_account(client, oauth):
    from mamba.domain.audit import AuditFilter

    browser = Browser(client)
    sign_in_flow(browser, "github", "audited@example.com")
    user = bootstrap.user_repository().find_by_email("audited@example.com")
    refused, _ = sign_in_flow(Browser(client), "google", "unverified-audit@example.com", verified=False)
    assert page_query(refused)["error"] == "email_unverified"

    callbacks = bootstrap.audit_log().list(None, AuditFilter(action="oauth_callback"), 50, None).items
    created = next(e for e in callbacks if e.result == "success")
    assert created.actor_id == user.id and created.details["outcome"] == "create"
    assert created.details["provider"] == "github"
    denied = next(e for e in callbacks if e.result != "success")
    assert denied.details["reason"] == "email_unverified" and denied.actor_id is None
