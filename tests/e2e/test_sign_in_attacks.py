"""Password guessing against the running local stack, the ways an attacker would try it
(issue 10, findings 1 and 3): a burst of parallel logins for one account, and guesses through
the nodes' SFTP sign-in, which the tests send to ``/api/remote/sftp/auth`` exactly as the
seeded node's Wings does (its token from its config.yml).

These run on a stack of their own: every HTTP call comes from 127.0.0.1, and a burst of 200
failures would use up that address's login window for the rest of the session's tests. Its
per-IP limit is raised so that the per-account limit (5 per 15 minutes, the default) is the
one that binds.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml

from mamba.auth import totp
from tests.e2e.conftest import Stack, launcher_environment, running_stack
from tests.e2e.test_identity_flow import (
    PASSWORD,
    bearer,
    fresh_email,
    link_token,
    login,
    register,
    session_of,
    verify_from_mailbox,
    wait_for_mail,
)
from tests.e2e.test_server_control import owner_with_line_server

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PARALLEL = 200
ACCOUNT_LIMIT = 5


@pytest.fixture(scope="module")
def attack_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("attack-stack")
    env = launcher_environment(folder)
    env["RATE_LOGIN_IP"] = "100000"
    with running_stack(folder, env) as running:
        yield running


@pytest.fixture(scope="module")
def owned_server(attack_stack: Stack) -> dict[str, Any]:
    """A verified owner, their tenant and a line server provisioned on the seeded node."""
    stack = attack_stack
    with requests.Session() as http:
        email, owner, tenant_id, server = owner_with_line_server(
            http,
            stack,
            "Sftp E2E",
            {"limits": {"memory_mb": 256, "disk_mb": 1024, "cpu_percent": 100}, "environment": {"MOTD": "sftp e2e"}},
        )
        return {"email": email, "owner": owner, "tenant_id": tenant_id, "server": server}


def node_header(stack: Stack) -> dict[str, str]:
    """What the seeded node's Wings sends: ``Bearer <token_id>.<token>`` from its config.yml."""
    config = yaml.safe_load((stack.local_dir / "wings" / "config.yml").read_text())
    return {"Authorization": f"Bearer {config['token_id']}.{config['token']}", "Content-Type": "application/json"}


def sftp(stack: Stack, email: str, server: str, password: str, ip: str) -> requests.Response:
    body = {"type": "password", "username": f"{email}.{server[:8]}", "password": password, "ip": ip}
    return requests.post(f"{stack.api}/api/remote/sftp/auth", json=body, headers=node_header(stack), timeout=30)


def test_parallel_wrong_passwords_cannot_pass_the_account_limit(attack_stack: Stack) -> None:
    stack = attack_stack
    # Given an account
    email = fresh_email("burst")
    with requests.Session() as http:
        register(http, stack, email, "Burst Target")
    # When 200 wrong passwords for it arrive at once
    barrier = threading.Barrier(PARALLEL)
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(number: int) -> None:
        barrier.wait()
        # The local server's listen backlog is small: a refused connection is tried again, as a
        # determined attacker would, so every one of the 200 guesses reaches the panel.
        for retry in range(50):
            try:
                answer = requests.post(
                    f"{stack.api}/v1/auth/login", json={"email": email, "password": f"guess {number} !!"}, timeout=120
                )
                break
            except requests.ConnectionError:
                time.sleep(0.05 * (retry + 1))
        else:
            raise AssertionError("the stack never accepted the connection")
        with lock:
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    counted = Counter(statuses)
    print(f"\n200 parallel wrong passwords on the local stack: {dict(counted)}")
    # Then at most 5 passwords were checked (401); every other attempt was refused unchecked
    assert sum(counted.values()) == PARALLEL
    assert set(counted) <= {401, 429}, counted
    assert counted[401] <= ACCOUNT_LIMIT, counted


def test_sftp_password_guessing_is_throttled(attack_stack: Stack, owned_server: dict[str, Any]) -> None:
    stack, email, server = attack_stack, owned_server["email"], owned_server["server"]
    ip = f"198.51.100.{uuid.uuid4().int % 200 + 1}:50122"
    # Given the owner's SFTP login works with the right password
    assert sftp(stack, email, server, PASSWORD, ip).status_code == 200
    # When an attacker guesses their SFTP password
    guesses = [sftp(stack, email, server, f"guess {n} !!", ip).status_code for n in range(ACCOUNT_LIMIT)]
    # Then after the account's 5 failures even the right password is refused unchecked
    assert guesses == [403] * ACCOUNT_LIMIT
    assert sftp(stack, email, server, PASSWORD, ip).status_code == 403
    # And the panel's own sign-in shares the window
    with requests.Session() as http:
        assert login(http, stack, email).status_code == 429


def test_sftp_password_sign_in_is_refused_when_2fa_is_on(attack_stack: Stack, owned_server: dict[str, Any]) -> None:
    stack, server, tenant_id = attack_stack, owned_server["server"], owned_server["tenant_id"]
    ip = "203.0.113.44:50122"
    with requests.Session() as http:
        # Given a second owner-level member of the tenant, who can sign in to SFTP with a password
        email = fresh_email("sftp-2fa")
        register(http, stack, email, "Two Factor")
        verify_from_mailbox(http, stack, email)
        member = bearer(session_of(http, stack, email)["access_token"])
        invited = http.post(
            f"{stack.api}/v1/tenants/{tenant_id}/members/invitations",
            json={"email": email, "role": "operator"},
            headers=owned_server["owner"],
            timeout=30,
        )
        assert invited.status_code == 201, invited.text
        token = link_token(wait_for_mail(stack, email, "You are invited"))
        accepted = http.post(f"{stack.api}/v1/invitations/accept", json={"token": token}, headers=member, timeout=30)
        assert accepted.status_code == 200, accepted.text
        assert sftp(stack, email, server, PASSWORD, ip).status_code == 200
        # When they turn on 2FA
        secret = http.post(f"{stack.api}/v1/me/2fa/enrol", headers=member, timeout=30).json()["secret"]
        code = totp.code_at(secret, totp.counter_for(time.time()))
        confirmed = http.post(f"{stack.api}/v1/me/2fa/confirm", json={"code": code}, headers=member, timeout=30)
        assert confirmed.status_code == 200, confirmed.text
        # Then their password no longer opens SFTP; an API key with files.sftp does
        assert sftp(stack, email, server, PASSWORD, ip).status_code == 403
        made = http.post(
            f"{stack.api}/v1/me/api-keys",
            json={"name": "sftp", "scopes": ["files.sftp", "files.read", "files.write"]},
            headers=member,
            timeout=30,
        )
        assert made.status_code == 201, made.text
        signed_in = sftp(stack, email, server, made.json()["key"], ip)
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["server"] == server
