"""The account-linking rules and the return_to check of the provider sign-in (mamba.domain.oauth)."""

from __future__ import annotations

import pytest

from mamba.domain.oauth import decide, normalise_email, safe_return_to

ME, OTHER = "usr_me", "usr_other"


@pytest.mark.parametrize(
    ("linked_to", "signed_in", "email_verified", "email_owner", "expected"),
    [
        # an identity already linked: it is the credential, whatever its email says now
        (ME, None, True, ME, "sign_in"),
        (ME, None, False, None, "sign_in"),
        (ME, ME, True, ME, "already_linked"),
        (ME, OTHER, True, None, "identity_taken"),
        (ME, OTHER, False, None, "identity_taken"),
        # not linked, email not verified by the provider: nothing is created or linked, signed in or not
        (None, None, False, None, "email_unverified"),
        (None, None, False, ME, "email_unverified"),
        (None, ME, False, None, "email_unverified"),
        (None, ME, False, OTHER, "email_unverified"),
        # not linked, verified, signed in: linked to the caller (they proved their account by signing in)
        (None, ME, True, None, "link"),
        (None, ME, True, ME, "link"),
        (None, ME, True, OTHER, "link"),
        # not linked, verified, signed out: a new account, or proof from the address's account
        (None, None, True, None, "create"),
        (None, None, True, OTHER, "prove"),
    ],
)
def test_decide_follows_the_linking_rules(linked_to, signed_in, email_verified, email_owner, expected):
    assert decide(
        linked_to=linked_to, signed_in=signed_in, email_verified=email_verified, email_owner=email_owner
    ) == expected  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/servers", "/servers"),
        ("/t/tn_1/servers/abc?tab=console#top", "/t/tn_1/servers/abc?tab=console#top"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("servers", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/path", "/"),
        ("/\\evil.example", "/"),
        ("/a\\b", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=y", "/"),
        ("/" + "a" * 600, "/"),
    ],
)
def test_return_to_is_only_a_path_of_the_panel(value, expected):
    assert safe_return_to(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("Ada@Example.COM ", "ada@example.com"), ("", None), (None, None), ("no-at-sign", None)]
)
def test_provider_emails_are_compared_in_lower_case(value, expected):
    assert normalise_email(value) == expected
