"""Pure parts of the account flows: fixed windows, the rate-limit helpers, the account
settings and the mail texts."""

from __future__ import annotations

import secrets

import pytest

from mamba import config, mail_templates
from mamba.auth import passwords
from mamba.config import ConfigError, describe, load_settings
from mamba.domain.errors import RateLimitedError
from mamba.domain.ratelimit import Limit
from mamba.services import abuse
from tests.fakes import FakeRateLimiter

STRONG = secrets.token_urlsafe(48)
T0 = 1_800_000_000  # a multiple of 900 and 3600


def _env(**overrides: str) -> dict[str, str]:
    return {"MAMBA_ENV": "test", "MAMBA_LOCAL_SECRETS_FILE": "/nonexistent", "JWT_SECRET": STRONG, **overrides}


# --- fixed windows ---


@pytest.mark.parametrize(
    ("now", "start", "retry_after"),
    [(T0, T0, 900), (T0 + 1, T0, 899), (T0 + 899, T0, 1), (T0 + 900, T0 + 900, 900)],
)
def test_limit_aligns_windows_to_multiples_of_their_length(now, start, retry_after):
    limit = Limit("login-account", 5, 900)

    assert limit.window_start(now) == start
    assert limit.retry_after(now) == retry_after


@pytest.mark.parametrize(("count", "exceeded"), [(0, False), (4, False), (5, True), (6, True)])
def test_limit_is_exceeded_once_max_events_used_the_window(count, exceeded):
    assert Limit("x", 5, 900).exceeded(count) is exceeded


@pytest.mark.parametrize(("max_", "window"), [(0, 900), (5, 0)])
def test_limit_refuses_a_zero_max_or_window(max_, window):
    with pytest.raises(ValueError):
        Limit("x", max_, window)


def test_count_refuses_the_attempt_after_max_and_names_no_counter():
    limiter, limit = FakeRateLimiter(), Limit("register-ip", 2, 3600)
    abuse.count(limiter, limit, "203.0.113.7", T0)
    abuse.count(limiter, limit, "203.0.113.7", T0 + 1)

    with pytest.raises(RateLimitedError) as caught:
        abuse.count(limiter, limit, "203.0.113.7", T0 + 10)

    assert caught.value.retry_after == 3590
    assert caught.value.details == {}


def test_refuse_if_exceeded_waits_for_the_longest_tripped_window():
    limiter = FakeRateLimiter()
    short, long_ = Limit("a", 1, 60), Limit("b", 1, 3600)
    abuse.record(limiter, [(short, "s"), (long_, "s")], T0)

    with pytest.raises(RateLimitedError) as caught:
        abuse.refuse_if_exceeded(limiter, [(short, "s"), (long_, "s")], T0 + 30)

    assert caught.value.retry_after == 3570
    abuse.refuse_if_exceeded(limiter, [(short, "other"), (long_, "other")], T0)  # other subjects are free


# --- settings ---


def test_argon2_settings_default_to_the_stated_params():
    settings = load_settings(_env())

    assert (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism) == (
        passwords.PARAMS.time_cost,
        passwords.PARAMS.memory_cost,
        passwords.PARAMS.parallelism,
    )


def test_account_limits_are_read_from_their_variables():
    settings = load_settings(_env(RATE_LOGIN_ACCOUNT="3", LOCKOUT_AFTER="7", ARGON2_TIME_COST="3"))

    assert (settings.rate_login_account, settings.lockout_after, settings.argon2_time_cost) == (3, 7, 3)


def test_captcha_is_disabled_by_default_outside_deployed_mode():
    assert load_settings(_env()).captcha_provider == "disabled"


@pytest.mark.parametrize(("provider", "outcome"), [("", "CAPTCHA_PROVIDER is required"), ("disabled", None)])
def test_captcha_provider_must_be_chosen_explicitly_when_deployed(monkeypatch, provider, outcome):
    # Given deployed mode whose secret store holds a strong JWT_SECRET
    monkeypatch.setattr(config, "_deployed_secrets", lambda environ: {"JWT_SECRET": STRONG})
    environ = {"MAMBA_ENV": "deployed", "MAMBA_SECRETS_ID": "mamba/prod", "CAPTCHA_PROVIDER": provider}

    if outcome is None:
        # When "disabled" is said out loud, Then it is accepted
        assert load_settings(environ).captcha_provider == "disabled"
    else:
        # When nothing is said, Then the panel refuses to start, naming the variable
        with pytest.raises(ConfigError, match=outcome):
            load_settings(environ)


@pytest.mark.parametrize("provider", ["turnstile", "hcaptcha"])
def test_captcha_provider_needs_its_secret_and_names_it(provider):
    with pytest.raises(ConfigError, match="CAPTCHA_SECRET_KEY"):
        load_settings(_env(CAPTCHA_PROVIDER=provider))


def test_captcha_secret_is_kept_out_of_describe_and_used_for_redaction():
    secret = "0x4AAAAAAA" + secrets.token_hex(16)
    settings = load_settings(_env(CAPTCHA_PROVIDER="Turnstile", CAPTCHA_SECRET_KEY=secret))

    assert settings.captcha_provider == "turnstile"
    assert secret not in describe(settings) + repr(settings)
    assert '"CAPTCHA_SECRET_KEY": "set"' in describe(settings)
    assert secret in settings.secret_values()


def test_captcha_provider_refuses_an_unknown_name():
    with pytest.raises(ConfigError, match="CAPTCHA_PROVIDER must be"):
        load_settings(_env(CAPTCHA_PROVIDER="recaptcha"))


# --- mail texts ---


def test_verification_mail_links_to_the_public_url_with_the_token():
    mail = mail_templates.verification("https://panel.example/", "abc_DEF-123", 24 * 3600, "Ada")

    assert "https://panel.example/verify-email?token=abc_DEF-123" in mail.text
    assert "24 hours" in mail.text
    assert mail.text.startswith("Hello Ada,")


def test_lockout_mail_states_the_duration_and_the_source():
    mail = mail_templates.lockout("https://panel.example", 10, 1800, "203.0.113.7")

    assert "30 minutes" in mail.text
    assert "203.0.113.7" in mail.text
    assert "10 failed" in mail.text


@pytest.mark.parametrize(
    "mail",
    [
        mail_templates.verification("http://127.0.0.1:43033", "t" * 32, 86400, "Ada"),
        mail_templates.email_change("http://127.0.0.1:43033", "t" * 32, 86400, "new@example.org", "Ada"),
        mail_templates.email_change_notice("new@example.org", "Ada"),
        mail_templates.password_reset("http://127.0.0.1:43033", "t" * 32, 3600, "Ada"),
        mail_templates.lockout("http://127.0.0.1:43033", 10, 1800, "203.0.113.7", "Ada"),
    ],
    ids=["verification", "email-change", "notice", "reset", "lockout"],
)
def test_account_mail_goes_out_as_plain_7bit_text_when_the_url_is_short(mail):
    from email.message import EmailMessage

    message = EmailMessage()
    message.set_content(mail.text)

    assert max(len(line) for line in mail.text.splitlines()) <= 78
    assert message["Content-Transfer-Encoding"] == "7bit"
