"""The provider sign-in on the running local stack, over plain HTTP (the browser's part is
web/tests/oauth.spec.ts): ``make run``'s launcher starts the stand-in identity provider and
points the panel at it, so every provider's button leads somewhere real and a sign-in ends in a
session, with nothing on the internet involved."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
TIMEOUT = 15


def test_the_stack_offers_all_four_providers_through_its_stand_in(stack: Stack) -> None:
    providers = requests.get(f"{stack.api}/v1/auth/providers", timeout=TIMEOUT).json()["items"]
    assert [p["id"] for p in providers] == ["google", "microsoft", "github", "discord"]
    idp = stack.info["identity_provider"]
    assert idp.startswith("http://127.0.0.1:")
    discovery = requests.get(f"{idp}/google/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert discovery["token_endpoint"] == f"{idp}/google/token"
    assert [k["kty"] for k in requests.get(discovery["jwks_uri"], timeout=TIMEOUT).json()["keys"]] == ["RSA"]


@pytest.mark.parametrize("provider", ["microsoft", "discord"])
def test_a_sign_in_through_the_stand_in_ends_in_a_session(stack: Stack, provider: str) -> None:
    # Given a browser (a cookie jar) at the panel's sign-in button
    browser = requests.Session()
    started = browser.get(
        f"{stack.api}/v1/auth/oauth/{provider}/start?return_to=/servers", allow_redirects=False, timeout=TIMEOUT
    )
    assert started.status_code == 302
    authorize = started.headers["Location"]
    assert authorize.startswith(stack.info["identity_provider"])

    # When a fresh user consents on the stand-in's page and the browser follows it back
    query = {k: v[-1] for k, v in parse_qs(urlsplit(authorize).query).items()}
    email = f"e2e-{provider}-{uuid.uuid4().hex[:8]}@example.com"
    consent = browser.post(
        authorize.split("?")[0], data={**query, "user": "custom", "email": email, "verified": "1"},
        allow_redirects=False, timeout=TIMEOUT,
    )  # fmt: skip
    # (requests keeps Secure cookies to https; Chromium sends them to 127.0.0.1, so this does by hand)
    binding = f"mamba_oauth_state={started.cookies['mamba_oauth_state']}"
    back = browser.get(consent.headers["Location"], headers={"Cookie": binding}, allow_redirects=False, timeout=TIMEOUT)
    assert back.headers["Location"] == f"/oauth/complete?provider={provider}"
    done = browser.post(
        f"{stack.api}/v1/auth/oauth/complete",
        json={},
        headers={
            "X-Mamba-Client": "web",
            "Origin": stack.api,
            "Cookie": f"mamba_oauth_ticket={back.cookies['mamba_oauth_ticket']}",
        },
        timeout=TIMEOUT,
    )

    # Then it is a signed-in session of a new account with that verified address
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "signed_in" and done.json()["created"] is True
    me = requests.get(
        f"{stack.api}/v1/me", headers={"Authorization": f"Bearer {done.json()['access_token']}"}, timeout=TIMEOUT
    ).json()
    assert me["email"] == email and me["email_verified"] is True
