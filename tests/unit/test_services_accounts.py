"""Account flows over fakes: register, verify, profile and email change, forgot and reset."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from mamba.domain import account_policy
from mamba.domain.accounts import User
from mamba.domain.errors import (
    CaptchaFailedError,
    ConflictError,
    EmailNotVerifiedError,
    RateLimitedError,
    ValidationError,
)
from mamba.services import accounts
from tests.fakes import AccountWorld, FakeCaptcha

T0 = 1_800_000_000  # a multiple of 900 and 3600: window arithmetic stays readable
PASSWORD = "a sufficiently long passphrase"
IP = "203.0.113.7"


def token_in(text: str) -> str:
    found = re.search(r"token=([A-Za-z0-9_\-]+)", text)
    assert found, text
    return found.group(1)


def register(world: AccountWorld, email: str = "Ada@Example.com", **kwargs: object) -> User:
    args: dict[str, object] = {"name": None, "captcha_token": None, "source_ip": IP, "now": T0}
    args.update(kwargs)
    return accounts.register(world.ports, email, PASSWORD, **args)  # type: ignore[arg-type]


@pytest.fixture
def world() -> AccountWorld:
    return AccountWorld()


# --- register and verify ---


def test_register_creates_an_unverified_account_and_mails_a_link_when_valid(world):
    # When someone registers
    user = register(world, name="Ada")

    # Then the account exists, unverified, with a normalised email, and one mail carries a link
    assert (user.email, user.email_verified, user.name) == ("ada@example.com", False, "Ada")
    [(subject, text)] = world.mailer.to("ada@example.com")
    assert "Verify" in subject
    assert "https://panel.example/verify-email?token=" in text
    # And the stored token is a digest, not the mailed token
    assert token_in(text) not in world.tokens.tokens


def test_register_is_a_conflict_when_the_email_is_taken_in_another_case(world):
    register(world, "ada@example.com")

    with pytest.raises(ConflictError):
        register(world, "ADA@example.com")


def test_register_refuses_the_21st_attempt_from_one_ip_within_the_hour(world):
    # Given 20 registrations from one IP in one hour
    for n in range(20):
        register(world, f"user{n}@example.com", now=T0 + n)

    # When a 21st comes, Then it is rate limited until the hour ends
    with pytest.raises(RateLimitedError) as caught:
        register(world, "late@example.com", now=T0 + 100)
    assert caught.value.retry_after == 3600 - 100
    # And it was refused before any account was created
    assert world.users.find_by_email("late@example.com") is None


def test_register_needs_a_solved_captcha_when_captcha_is_enabled(world):
    world.captcha = FakeCaptcha(accept="solved")

    with pytest.raises(CaptchaFailedError):
        register(world, captcha_token="wrong")
    user = register(world, captcha_token="solved")

    assert user.email == "ada@example.com"
    assert world.captcha.seen == [("wrong", IP), ("solved", IP)]


def test_register_keeps_the_account_when_the_mail_cannot_be_sent(world):
    world.mailer.fail = True

    user = register(world)

    assert world.users.get(user.id).email == "ada@example.com"
    assert world.mail_failures == ["Verify your email for Mamba Host Panel"]


def test_verify_email_marks_the_account_verified_once_when_the_mailed_token_is_used(world):
    user = register(world)
    token = token_in(world.mailer.sent[0][2])

    verified = accounts.verify_email(world.ports, token, source_ip=IP, now=T0 + 60)

    assert verified.email_verified is True
    assert world.users.get(user.id).email_verified is True
    with pytest.raises(ValidationError) as caught:  # single use
        accounts.verify_email(world.ports, token, source_ip=IP, now=T0 + 61)
    assert caught.value.details["reason"] == "invalid_token"


def test_verify_email_refuses_the_token_when_it_has_expired(world):
    register(world)
    token = token_in(world.mailer.sent[0][2])

    with pytest.raises(ValidationError):
        accounts.verify_email(world.ports, token, source_ip=IP, now=T0 + 24 * 3600)


def test_verify_email_refuses_a_reset_token(world):
    user = register(world)
    accounts.forgot_password(world.ports, user.email, source_ip=IP, now=T0)
    reset_token = token_in(world.mailer.sent[-1][2])

    with pytest.raises(ValidationError):
        accounts.verify_email(world.ports, reset_token, source_ip=IP, now=T0)


def test_require_verified_email_is_403_email_not_verified_until_verified(world):
    user = register(world)

    with pytest.raises(EmailNotVerifiedError) as caught:
        accounts.require_verified_email(user)
    assert (caught.value.status, caught.value.code) == (403, "EMAIL_NOT_VERIFIED")

    accounts.verify_email(world.ports, token_in(world.mailer.sent[0][2]), source_ip=IP, now=T0)
    accounts.require_verified_email(world.users.get(user.id))  # no error


def test_resend_verification_mails_a_new_link_and_refuses_when_already_verified(world):
    user = register(world)
    accounts.resend_verification(world.ports, user.id, now=T0)
    assert len(world.mailer.to(user.email)) == 2

    accounts.verify_email(world.ports, token_in(world.mailer.sent[-1][2]), source_ip=IP, now=T0)
    with pytest.raises(ConflictError):
        accounts.resend_verification(world.ports, user.id, now=T0)


# --- profile and email change ---


def test_update_profile_changes_and_clears_the_name(world):
    user = register(world, name="Ada")

    renamed = accounts.update_profile(world.ports, user.id, name="Ada L.", change_name=True, via="token", now=T0)
    cleared = accounts.update_profile(world.ports, user.id, name=None, change_name=True, via="token", now=T0)

    assert renamed.name == "Ada L."
    assert cleared.name is None
    assert world.users.get(user.id).name is None


def test_email_change_takes_effect_only_when_the_new_address_is_verified(world):
    # Given a verified account
    user = register(world)
    accounts.verify_email(world.ports, token_in(world.mailer.sent[0][2]), source_ip=IP, now=T0)

    # When it asks to change its email
    pending = accounts.update_profile(
        world.ports, user.id, email="New@Example.org", current_password=PASSWORD, via="token", now=T0
    )

    # Then the current address still is the account's, the new one is pending and got a link,
    # and the current one got a notice
    assert (pending.email, pending.pending_email) == ("ada@example.com", "new@example.org")
    [(_, link_text)] = world.mailer.to("new@example.org")
    [(notice_subject, _)] = world.mailer.to("ada@example.com")[1:]
    assert "being changed" in notice_subject

    # When the link is followed, Then the account moves to the new, verified address
    moved = accounts.verify_email(world.ports, token_in(link_text), source_ip=IP, now=T0 + 5)
    assert (moved.email, moved.email_verified, moved.pending_email) == ("new@example.org", True, None)
    assert world.users.find_by_email("new@example.org").id == user.id
    assert world.users.find_by_email("ada@example.com") is None


def test_email_change_is_a_conflict_when_another_account_has_the_address(world):
    user = register(world, "ada@example.com")
    register(world, "bob@example.com")

    with pytest.raises(ConflictError):
        accounts.update_profile(
            world.ports, user.id, email="bob@example.com", current_password=PASSWORD, via="token", now=T0
        )


def test_email_change_link_fails_when_the_address_was_taken_meanwhile(world):
    user = register(world, "ada@example.com")
    accounts.update_profile(
        world.ports, user.id, email="new@example.org", current_password=PASSWORD, via="token", now=T0
    )
    link = token_in(world.mailer.to("new@example.org")[0][1])
    register(world, "new@example.org")  # someone else registers it first

    with pytest.raises(ConflictError):
        accounts.verify_email(world.ports, link, source_ip=IP, now=T0)
    assert world.users.get(user.id).email == "ada@example.com"


def test_setting_the_current_email_cancels_a_pending_change(world):
    user = register(world)
    accounts.update_profile(
        world.ports, user.id, email="new@example.org", current_password=PASSWORD, via="token", now=T0
    )
    link = token_in(world.mailer.to("new@example.org")[0][1])

    kept = accounts.update_profile(world.ports, user.id, email="ada@example.com", via="token", now=T0)

    assert kept.pending_email is None
    with pytest.raises(ValidationError):  # the old link no longer matches anything
        accounts.verify_email(world.ports, link, source_ip=IP, now=T0)


# --- forgot and reset ---


def test_forgot_mails_a_reset_link_only_when_the_account_exists(world):
    register(world)
    mails_before = len(world.mailer.sent)

    accounts.forgot_password(world.ports, "ada@example.com", source_ip=IP, now=T0)
    accounts.forgot_password(world.ports, "nobody@example.com", source_ip=IP, now=T0)

    assert len(world.mailer.sent) == mails_before + 1
    assert "reset-password?token=" in world.mailer.sent[-1][2]
    # The unknown email cost one password verification, standing in for the real work
    assert world.hasher.verified == [None]


def test_forgot_is_rate_limited_per_email_whether_or_not_it_exists(world):
    for n in range(5):
        accounts.forgot_password(world.ports, "nobody@example.com", source_ip=f"198.51.100.{n}", now=T0)

    with pytest.raises(RateLimitedError):
        accounts.forgot_password(world.ports, "nobody@example.com", source_ip="198.51.100.99", now=T0)


def test_reset_sets_the_password_voids_sessions_and_lifts_the_lock(world):
    # Given a locked account with a reset link
    user = register(world)
    world.users.users[user.id] = replace(world.users.get(user.id), failed_logins=3, locked_until=T0 + 999)
    accounts.forgot_password(world.ports, user.email, source_ip=IP, now=T0)
    token = token_in(world.mailer.sent[-1][2])

    # When the link is used with a new password
    accounts.reset_password(world.ports, token, "another long passphrase", now=T0 + 10)

    # Then the password changed, every earlier session is void, the lock is gone, and the
    # mailbox is proven (the email is verified)
    stored = world.users.get(user.id)
    assert world.hasher.verify(stored.password_hash, "another long passphrase")
    assert stored.sessions_valid_after == T0 + 11
    assert (stored.failed_logins, stored.locked_until, stored.email_verified) == (0, None, True)
    with pytest.raises(ValidationError):  # single use
        accounts.reset_password(world.ports, token, "yet another passphrase", now=T0 + 20)


def test_reset_refuses_a_common_password_before_using_the_token(world):
    user = register(world)
    accounts.forgot_password(world.ports, user.email, source_ip=IP, now=T0)
    token = token_in(world.mailer.sent[-1][2])

    with pytest.raises(ValidationError) as caught:
        accounts.reset_password(world.ports, token, "password1234", now=T0)

    assert caught.value.details == {"field": "password"}
    accounts.reset_password(world.ports, token, "another long passphrase", now=T0)  # still usable


# --- policies ---


@pytest.mark.parametrize(
    "email",
    [
        "plain",
        "a@b",
        "a@b.c",
        "a b@example.com",
        "a@exa mple.com",
        "a@-example.com",
        "a..b@example.com",
        ".a@example.com",
        "a@example.com.",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
        "a@@example.com",
    ],
)
def test_normalise_email_refuses_an_invalid_address(email):
    with pytest.raises(ValidationError):
        account_policy.normalise_email(email)


@pytest.mark.parametrize(
    ("email", "expected"),
    [(" Ada@Example.COM ", "ada@example.com"), ("o'brien+tag@mail.example.co.uk", "o'brien+tag@mail.example.co.uk")],
)
def test_normalise_email_lower_cases_and_strips_a_valid_address(email, expected):
    assert account_policy.normalise_email(email) == expected


@pytest.mark.parametrize(("name", "expected"), [("  Ada  ", "Ada"), ("", None), (None, None), ("Zoë Ñ", "Zoë Ñ")])
def test_check_name_strips_and_keeps_printable_names(name, expected):
    assert account_policy.check_name(name) == expected


@pytest.mark.parametrize("name", ["a" * 101, "tab\there", "bell\x07", "del\x7f", "nl\nx"])
def test_check_name_refuses_long_names_and_control_characters(name):
    with pytest.raises(ValidationError):
        account_policy.check_name(name)
