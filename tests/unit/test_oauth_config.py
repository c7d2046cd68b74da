"""The sign-in providers' configuration (docs/oauth.md#configuration): a provider is offered
when its client id is set, and then its client secret is required; the secret is never shown."""

from __future__ import annotations

import secrets

import pytest

from mamba.config import ConfigError, describe, load_settings

STRONG = secrets.token_urlsafe(48)
CLIENT_SECRET = "GOCSPX-" + secrets.token_urlsafe(24)


def _env(**overrides: str) -> dict[str, str]:
    return {"MAMBA_ENV": "test", "MAMBA_LOCAL_SECRETS_FILE": "/nonexistent", "JWT_SECRET": STRONG, **overrides}


def test_no_provider_is_offered_by_default():
    assert load_settings(_env()).oauth_clients() == {}


def test_a_client_id_with_its_secret_offers_the_provider_and_the_secret_stays_hidden():
    settings = load_settings(
        _env(OAUTH_GOOGLE_CLIENT_ID="123.apps.googleusercontent.com", OAUTH_GOOGLE_CLIENT_SECRET=CLIENT_SECRET)
    )
    assert settings.oauth_clients() == {"google": ("123.apps.googleusercontent.com", CLIENT_SECRET)}
    assert CLIENT_SECRET in settings.secret_values()  # so the log filter redacts it
    assert CLIENT_SECRET not in repr(settings) and CLIENT_SECRET not in describe(settings)
    assert '"OAUTH_GOOGLE_CLIENT_SECRET": "set"' in describe(settings)


@pytest.mark.parametrize(("secret", "problem"), [(None, "is required when"), ("short", "is too short")])
def test_a_client_id_without_a_usable_secret_refuses_to_start_naming_it(secret, problem):
    env = _env(OAUTH_DISCORD_CLIENT_ID="1234567890")
    if secret is not None:
        env["OAUTH_DISCORD_CLIENT_SECRET"] = secret
    with pytest.raises(ConfigError, match=f"OAUTH_DISCORD_CLIENT_SECRET {problem}"):
        load_settings(env)


def test_a_secret_without_its_client_id_offers_nothing():
    assert load_settings(_env(OAUTH_GITHUB_CLIENT_SECRET=CLIENT_SECRET)).oauth_clients() == {}


def test_the_endpoints_default_to_the_providers_own():
    settings = load_settings(_env())
    assert settings.oauth_google_discovery_url == "https://accounts.google.com/.well-known/openid-configuration"
    assert settings.oauth_microsoft_discovery_url.startswith("https://login.microsoftonline.com/common/v2.0/")
    assert (settings.oauth_github_url, settings.oauth_github_api_url) == (
        "https://github.com",
        "https://api.github.com",
    )
    assert settings.oauth_discord_api_url == "https://discord.com/api/v10"
