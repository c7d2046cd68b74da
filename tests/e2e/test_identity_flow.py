"""Identity end to end on the running local stack: accounts, mail, tenants, invitations,
sessions, rate limits and lockout, through HTTP only (tokens are read from the mailbox).

Every call comes from 127.0.0.1 (``chalice local`` gives every request that source IP), so
the per-IP limits are shared by the whole e2e session: each test uses its own accounts and
makes few failed attempts. The lockout needs ten consecutive failures, but the per-account
limit answers 429 from the sixth failure in a 15-minute window on; that test therefore runs
on a second stack whose login window is a few seconds, and waits out each 429 as told by
``Retry-After``, which is how a patient attacker would meet the lockout (and then learns
nothing from it: a locked account answers as a wrong password does).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests

from local.mailbox import list_messages
from tests.e2e.conftest import Stack, launcher_environment, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

MAIL_WAIT_SECONDS = 30.0  # an upper bound for the spool (it polls every 0.5 s), not a measurement
TUNED_LOGIN_WINDOW_SECONDS = 3
PASSWORD = "correct horse battery staple 42"
JSON = {"Content-Type": "application/json"}


# --- helpers -----------------------------------------------------------------------------


def fresh_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.org"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for_mail(stack: Stack, to: str, subject: str) -> str:
    """The text of the first spooled message to ``to`` whose subject contains ``subject``."""
    mail_dir = Path(stack.info["mail_dir"])
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while True:
        for summary in list_messages(mail_dir):
            if to in summary.to and subject in summary.subject:
                message = message_from_bytes(summary.path.read_bytes(), policy=policy.default)
                body = message.get_body(preferencelist=("plain", "html"))
                return str(body.get_content() if body is not None else message.get_payload())
        assert time.monotonic() < deadline, f"no mail to {to} about {subject!r} in {mail_dir}"
        time.sleep(0.2)


def link_token(text: str) -> str:
    """The ``token=`` of the first link in a mail."""
    found = re.search(r"https?://\S+?[?&]token=([^\s&\"'<>]+)", text)
    assert found, f"no link with token= in:\n{text}"
    return unquote(found.group(1))


def register(http: requests.Session, stack: Stack, email: str, name: str) -> dict[str, Any]:
    response = http.post(
        f"{stack.api}/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": name},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def verify_from_mailbox(http: requests.Session, stack: Stack, email: str) -> None:
    token = link_token(wait_for_mail(stack, email, "Verify your email"))
    response = http.post(f"{stack.api}/v1/auth/verify-email", json={"token": token}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == {"email": email, "email_verified": True}


def login(http: requests.Session, stack: Stack, email: str, password: str = PASSWORD) -> requests.Response:
    return http.post(f"{stack.api}/v1/auth/login", json={"email": email, "password": password}, timeout=30)


def session_of(http: requests.Session, stack: Stack, email: str) -> dict[str, Any]:
    response = login(http, stack, email)
    assert response.status_code == 200, response.text
    pair = dict(response.json())
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == 15 * 60
    return pair


def refresh(http: requests.Session, stack: Stack, refresh_token: str) -> requests.Response:
    return http.post(f"{stack.api}/v1/auth/refresh", json={"refresh_token": refresh_token}, timeout=30)


# --- the flow ------------------------------------------------------------------------------


def test_identity_flow_from_registration_to_logout_when_the_stack_is_up(stack: Stack, http: requests.Session) -> None:
    owner_email, friend_email = fresh_email("owner"), fresh_email("friend")

    # Given an owner who registered; before verifying she can log in but not create a tenant
    me = register(http, stack, owner_email, "Olga Owner")
    assert (me["email"], me["email_verified"]) == (owner_email, False)
    early = session_of(http, stack, owner_email)
    refused = http.post(
        f"{stack.api}/v1/tenants", json={"name": "Too early"}, headers=bearer(early["access_token"]), timeout=30
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "EMAIL_NOT_VERIFIED"

    # When she verifies from the link in her mailbox and logs in
    verify_from_mailbox(http, stack, owner_email)
    owner = session_of(http, stack, owner_email)
    profile = http.get(f"{stack.api}/v1/me", headers=bearer(owner["access_token"]), timeout=30)
    assert profile.status_code == 200, profile.text
    assert (profile.json()["email"], profile.json()["email_verified"]) == (owner_email, True)

    # Then she creates a tenant and is its owner
    created = http.post(
        f"{stack.api}/v1/tenants", json={"name": "Olga's Games"}, headers=bearer(owner["access_token"]), timeout=30
    )
    assert created.status_code == 201, created.text
    tenant = created.json()
    assert tenant["name"] == "Olga's Games" and tenant["id"]
    tenant_url = f"{stack.api}/v1/tenants/{tenant['id']}"

    # Given a second user, registered and verified the same way
    friend_id = register(http, stack, friend_email, "Fred Friend")["id"]
    verify_from_mailbox(http, stack, friend_email)
    friend = session_of(http, stack, friend_email)
    # who cannot see the tenant yet: it does not exist for him
    outside = http.get(tenant_url, headers=bearer(friend["access_token"]), timeout=30)
    assert outside.status_code == 404, outside.text

    # When the owner invites him as an operator and he accepts with the token from his mailbox
    invited = http.post(
        f"{tenant_url}/members/invitations",
        json={"email": friend_email, "role": "operator"},
        headers=bearer(owner["access_token"]),
        timeout=30,
    )
    assert invited.status_code == 201, invited.text
    invitation_token = link_token(wait_for_mail(stack, friend_email, "You are invited"))
    accepted = http.post(
        f"{stack.api}/v1/invitations/accept",
        json={"token": invitation_token},
        headers=bearer(friend["access_token"]),
        timeout=30,
    )
    assert accepted.status_code == 200, accepted.text

    # Then he is a member with the operator's rights: he reads the tenant but cannot rename it
    inside = http.get(tenant_url, headers=bearer(friend["access_token"]), timeout=30)
    assert inside.status_code == 200, inside.text
    rename = http.patch(tenant_url, json={"name": "Fred's now"}, headers=bearer(friend["access_token"]), timeout=30)
    assert rename.status_code == 403, rename.text
    assert rename.json()["error"]["code"] == "FORBIDDEN"
    members = http.get(f"{tenant_url}/members", headers=bearer(owner["access_token"]), timeout=30)
    assert members.status_code == 200, members.text
    roles = {m["user_id"]: m["role"] for m in members.json()["items"]}
    assert roles == {me["id"]: "owner", friend_id: "operator"}

    # When the owner refreshes, her refresh token is rotated
    rotated = refresh(http, stack, owner["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    newest = rotated.json()
    assert newest["refresh_token"] != owner["refresh_token"]
    assert http.get(f"{stack.api}/v1/me", headers=bearer(newest["access_token"]), timeout=30).status_code == 200

    # When the old refresh token is presented again (as a thief holding a copy would)
    reused = refresh(http, stack, owner["refresh_token"])
    # Then it is refused and the whole family is revoked: the newest refresh token fails too
    assert reused.status_code == 401, reused.text
    assert reused.json()["error"]["code"] == "UNAUTHORIZED"
    after_reuse = refresh(http, stack, newest["refresh_token"])
    assert after_reuse.status_code == 401, after_reuse.text

    # When she logs in again and logs out everywhere
    last = session_of(http, stack, owner_email)
    logged_out = http.post(
        f"{stack.api}/v1/auth/logout", json={"refresh_token": last["refresh_token"], "everywhere": True}, timeout=30
    )
    assert logged_out.status_code == 200, logged_out.text
    # Then neither that refresh token nor her access tokens work any more
    assert refresh(http, stack, last["refresh_token"]).status_code == 401
    gone = http.get(f"{stack.api}/v1/me", headers=bearer(last["access_token"]), timeout=30)
    assert gone.status_code == 401, gone.text
    # while the friend's session, another user's, is untouched
    assert http.get(tenant_url, headers=bearer(friend["access_token"]), timeout=30).status_code == 200


def test_sixth_failed_login_is_429_with_retry_after_when_within_the_window(
    stack: Stack, http: requests.Session
) -> None:
    # Given an account, and five failed logins (the per-account limit of a 15-minute window)
    email = fresh_email("throttled")
    register(http, stack, email, "Theo Throttled")
    for attempt in range(5):
        failed = login(http, stack, email, password=f"wrong password {attempt} !!")
        assert failed.status_code == 401, (attempt, failed.text)
    # When the sixth attempt comes, even with the right password
    sixth = login(http, stack, email)
    # Then it is refused until the window ends
    assert sixth.status_code == 429, sixth.text
    assert sixth.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(sixth.headers["Retry-After"]) <= 15 * 60


# --- lockout, on a stack with a short login window ------------------------------------------


@pytest.fixture(scope="module")
def short_window_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A second local stack whose login rate-limit window is a few seconds (every other
    limit, and the lockout policy, at their defaults)."""
    folder = tmp_path_factory.mktemp("short-window-stack")
    env = launcher_environment(folder)
    env["RATE_LOGIN_WINDOW_SECONDS"] = str(TUNED_LOGIN_WINDOW_SECONDS)
    with running_stack(folder, env) as running:
        yield running


def test_tenth_consecutive_failure_locks_the_account_and_mails_its_owner_when_paced_under_the_limit(
    short_window_stack: Stack, http: requests.Session
) -> None:
    stack = short_window_stack
    # Given an account on the stack whose login window is a few seconds
    email = fresh_email("locked")
    register(http, stack, email, "Lena Locked")
    # When someone keeps guessing, waiting out each 429 as Retry-After says, until ten failed
    failures, throttled = 0, 0
    while failures < 10:
        attempt = login(http, stack, email, password=f"guess number {failures} !!")
        if attempt.status_code == 429:
            throttled += 1
            assert throttled <= 10, "the per-account window never reopened"
            time.sleep(int(attempt.headers["Retry-After"]))
            continue
        assert attempt.status_code == 401, attempt.text
        failures += 1
    # Then the owner is told by mail
    mail = wait_for_mail(stack, email, "account was locked")
    assert "10 failed sign-in attempts" in mail
    # and the account stays locked, even for the right password, once the window's own limit
    # (checked first, and perhaps still full of the last failures) has passed; the lock
    # answers as a wrong password does (401, no Retry-After), so it tells a guesser nothing
    locked = login(http, stack, email)
    for _wait in range(3):
        if locked.status_code != 429:
            break
        time.sleep(int(locked.headers["Retry-After"]))
        locked = login(http, stack, email)
    assert locked.status_code == 401, locked.text
    assert locked.json()["error"]["details"] == {"reason": "invalid_credentials"}
    assert "Retry-After" not in locked.headers
