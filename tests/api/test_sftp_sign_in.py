"""SFTP sign-in (``POST /api/remote/sftp/auth``) tried as an attacker would, through the real
app on moto, called exactly as Wings calls it (issue 10, finding 1).

The world is the remote contract's (two nodes, a tenant with members, servers); each test
makes its own accounts, so rate-limit windows and lockouts never leak between tests.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain import clock
from tests.contract.remote.conftest import NOW, PASSWORD, World, add_membership, build_world, make_server
from tests.support import app_on_moto

WRONG = "not the password at all"
IP = "203.0.113.7"


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with app_on_moto() as client:
        yield build_world(client.http)


@pytest.fixture
def settings() -> Iterator[Any]:
    """Change Settings for one test (bootstrap.override: the SFTP and account ports are
    rebuilt from them, and forgotten after the test)."""
    original = bootstrap.settings()
    with contextlib.ExitStack() as overrides:

        def apply(**changes: Any) -> None:
            overrides.enter_context(bootstrap.override(settings=original.model_copy(update=changes)))

        yield apply


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The sign-in clock, frozen at the start of a fresh 15-minute window."""

    class Frozen:
        now = (int(clock.now_epoch()) // 900 + 1) * 900 + uuid.uuid4().int % 100 * 900 * 4

    monkeypatch.setattr(clock, "now_epoch", lambda: Frozen.now)
    return Frozen


def new_user(world: World, *, role: str | None = "owner", totp: bool = False, admin: bool = False) -> tuple[str, str]:
    """A fresh account (id, email), a member of the world's tenant with ``role`` (None: not a member)."""
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.domain.accounts import User

    user_id = f"usr_{uuid.uuid4().hex[:10]}"
    email = f"{user_id}@example.org"
    DynamoUserRepository().add(
        User(
            id=user_id,
            email=email,
            created_at=NOW,
            password_hash=bootstrap.password_hasher().hash(PASSWORD),  # the session's cost (Settings)
            is_admin=admin,
            email_verified=True,
        )
    )
    if totp:  # enrolment is the 2FA flow's write; here only its outcome matters
        from mamba.adapters.dynamo import keys
        from mamba.adapters.dynamo.items import UserItem

        UserItem(*keys.user(user_id)).update(actions=[UserItem.totp_enabled.set(True)])
    if role is not None:
        add_membership(world.tenant_id, user_id, role, None, None)  # type: ignore[attr-defined]
    return user_id, email


def new_tenant(world: World, owner_id: str, **fields: Any) -> tuple[str, Any]:
    """A second tenant owned by ``owner_id``, with TenantItem ``fields`` set, and a server on node A."""
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import TenantItem
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.tenancy import Membership, Tenant

    tenant_id = f"tn_{uuid.uuid4().hex[:8]}"
    DynamoTenantRepository().add_with_owner(
        Tenant(id=tenant_id, name="Other", created_at=NOW),
        Membership(tenant_id=tenant_id, user_id=owner_id, role="owner", created_at=NOW),
    )
    if fields:
        TenantItem(*keys.tenant(tenant_id)).update(
            actions=[getattr(TenantItem, name).set(value) for name, value in fields.items()]
        )
    server = make_server(world.a.node, world.blueprint, tenant_id, port=26000 + uuid.uuid4().int % 1000)
    bootstrap.server_repository().add(server)
    return tenant_id, server


def sftp(world: World, email: str, server: Any, password: str = PASSWORD, ip: str = f"{IP}:51234") -> Any:
    """The call Wings makes when someone signs in to its SFTP server (wings-contract.md §5.8)."""
    body = {
        "type": "password",
        "username": f"{email}.{server.uuid[:8]}",
        "password": password,
        "ip": ip,
        "session_id": "q83vEjRWeJA=",
        "client_version": "U1NILTIuMC1PcGVuU1NIXzkuNg==",
    }
    return world.http.post("/api/remote/sftp/auth", body=json.dumps(body), headers=world.a.header)


def web_login(world: World, email: str, password: str = PASSWORD) -> Any:
    return world.http.post(
        "/v1/auth/login",
        body=json.dumps({"email": email, "password": password}),
        headers={"Content-Type": "application/json"},
    )


def api_key(user_id: str, scopes: list[str], *, admin: bool = False, servers: list[str] | None = None) -> str:
    from mamba.services.api_keys import create_key

    created = create_key(
        bootstrap.api_key_repository(),
        user_id,
        name="sftp",
        scopes=scopes,
        is_admin=admin,
        via="token",
        email_verified=True,
        server_ids=servers,
    )
    return str(created.plaintext)


def entries(tenant_id: str | None = None, *, security: bool = False) -> list[Any]:
    from mamba.services import audit

    page = audit.list_platform_entries(
        bootstrap.audit_log(), audit.make_filter(action="sftp.sign_in"), tenant_id=tenant_id, security=security
    )
    return page.items


# --- throttling and lockout --------------------------------------------------------------------


def test_sftp_password_guessing_is_throttled(world, frozen):
    # Given a member of the tenant
    _, email = new_user(world)
    server = world.servers_a[0]

    # When an attacker guesses SFTP passwords: the login windows allow 5 failures
    guesses = [sftp(world, email, server, WRONG).status_code for _ in range(5)]
    # Then the next attempt is refused even with the right password (it is never checked)
    right = sftp(world, email, server)

    assert guesses == [403] * 5
    assert right.status_code == 403
    assert right.json_body["errors"][0]["status"] == "403"
    # And the panel's own sign-in for that account is in the same window: 429
    assert web_login(world, email).status_code == 429
    # And the refusal was audited in the security log with its reason
    refused = [e for e in entries(security=True) if e.details.get("username", "").startswith(email)]
    assert refused[0].details["reason"] == "rate_limited" and refused[0].ip == IP
    # And once the window has passed, the right password works again
    frozen.now += 900
    assert sftp(world, email, server).status_code == 200


def test_sftp_failures_count_towards_the_lockout_of_the_web_sign_in(world, frozen):
    # Given 10 consecutive wrong SFTP passwords over two windows
    _, email = new_user(world)
    server = world.servers_a[0]
    for _window in range(2):
        assert [sftp(world, email, server, WRONG).status_code for _ in range(5)] == [403] * 5
        frozen.now += 900

    # Then the account is locked: the right password fails on the web as a wrong one does,
    # and on SFTP too
    assert web_login(world, email).status_code == 401
    assert sftp(world, email, server).status_code == 403
    frozen.now += 1800
    assert web_login(world, email).status_code == 200


@pytest.mark.parametrize("ip", ["[2001:db8::7]:51234", "2001:db8::7", "[2001:DB8:0::7]:2022"])
def test_sftp_guesses_from_one_ipv6_address_share_the_ip_window(world, frozen, settings, ip):
    # Given a per-IP limit of 3 failures, and three accounts
    settings(rate_login_ip=3)
    targets = [new_user(world)[1] for _ in range(3)]
    server = world.servers_a[0]

    # When one IPv6 client (written the ways Wings may send it) guesses one password per account
    guesses = [sftp(world, email, server, WRONG, ip=ip).status_code for email in targets]
    # Then a fourth account's right password is refused from that address, not from another
    _, fourth = new_user(world)
    assert guesses == [403] * 3
    assert sftp(world, fourth, server, ip="[2001:db8::7]:40000").status_code == 403
    assert sftp(world, fourth, server, ip="198.51.100.9:40000").status_code == 200


# --- second factor -------------------------------------------------------------------------------


def test_sftp_password_sign_in_is_refused_when_2fa_is_on(world, frozen):
    # Given an owner with 2FA enabled
    user_id, email = new_user(world, totp=True)
    server = world.servers_a[0]

    # When they sign in to SFTP with their (right) password
    response = sftp(world, email, server)

    # Then it is refused; an API key with files.sftp works, one without does not
    assert response.status_code == 403
    assert sftp(world, email, server, api_key(user_id, ["files.sftp", "files.read", "files.write"])).status_code == 200
    assert sftp(world, email, server, api_key(user_id, ["files.read", "files.write"])).status_code == 403


def test_sftp_password_sign_in_is_refused_when_the_tenant_requires_2fa(world, frozen):
    # Given a member enrolled in 2FA of a tenant that requires it, and one who is not enrolled
    enrolled, enrolled_email = new_user(world, role=None, totp=True)
    tenant_id, server = new_tenant(world, enrolled, require_2fa=True)
    plain, plain_email = new_user(world, role=None)
    add_membership(tenant_id, plain, "owner", None, None)

    # Then neither signs in with a password; the enrolled one can with a files.sftp key,
    # the one who has not enrolled cannot at all (as on every HTTP route of that tenant)
    assert sftp(world, enrolled_email, server).status_code == 403
    assert sftp(world, plain_email, server).status_code == 403
    assert sftp(world, enrolled_email, server, api_key(enrolled, ["files.sftp", "files.read"])).status_code == 200
    assert sftp(world, plain_email, server, api_key(plain, ["files.sftp", "files.read"])).status_code == 403


# --- platform admins ------------------------------------------------------------------------------


def test_admin_api_key_sftp_is_limited_to_the_key_scopes(world, frozen, settings):
    # Given platform admin SFTP allowed, and an admin who is not a member of the tenant
    settings(sftp_admin_access=True)
    admin_id, email = new_user(world, role=None, admin=True)
    first, second = world.servers_a[0], world.servers_a[1]
    reader = api_key(admin_id, ["files.sftp", "files.read"], admin=True)
    one_server = api_key(admin_id, ["files.sftp", "files.read", "files.write"], admin=True, servers=[second.uuid])

    # When the admin signs in with keys
    read_only = sftp(world, email, first, reader)

    # Then each key gets what it allows, never the admin's "*"
    assert read_only.status_code == 200
    assert read_only.json_body["permissions"] == ["file.read", "file.read-content"]
    assert sftp(world, email, first, one_server).status_code == 403
    assert sftp(world, email, second, one_server).json_body["permissions"] == [
        "file.read",
        "file.read-content",
        "file.create",
        "file.update",
        "file.delete",
    ]
    # And a password sign-in gets the admin grant only because the setting allows it
    assert sftp(world, email, first).json_body["permissions"] == ["*"]


def test_admin_password_sftp_gets_nothing_unless_the_setting_allows_it(world, frozen):
    # Given an admin who is not a member, and SFTP_ADMIN_ACCESS at its default (off)
    _, email = new_user(world, role=None, admin=True)
    # Then their right password opens nothing
    assert sftp(world, email, world.servers_a[0]).status_code == 403
    assert [e.details["reason"] for e in entries(security=True) if e.details.get("username", "").startswith(email)] == [
        "admin_sftp_disabled"
    ]


# --- suspension --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "suspension", [{"status": "suspended"}, {"billing_state": "suspended"}], ids=["by-an-admin", "by-billing"]
)
def test_sftp_sign_in_is_refused_when_the_tenant_is_suspended(world, frozen, suspension):
    # Given the owner of a suspended tenant
    owner, email = new_user(world, role=None)
    tenant_id, server = new_tenant(world, owner, **suspension)

    # When they sign in with the right password or a full key
    by_password = sftp(world, email, server)
    by_key = sftp(world, email, server, api_key(owner, ["files.sftp", "files.read", "files.write"]))

    # Then both are refused, and the refusals are in the tenant's log (the owner was proven)
    assert (by_password.status_code, by_key.status_code) == (403, 403)
    reasons = [(e.actor_id, e.details["reason"]) for e in entries(tenant_id)]
    assert reasons == [(owner, "tenant_suspended")] * 2


def test_sftp_sign_in_is_refused_when_the_server_is_suspended(world, frozen):
    _, email = new_user(world)
    assert sftp(world, email, world.suspended).status_code == 403


# --- audit ----------------------------------------------------------------------------------------


def test_every_sftp_sign_in_is_audited_in_the_right_log(world, frozen):
    # Given a member
    user_id, email = new_user(world, role="viewer")
    server = world.servers_a[2]

    # When they sign in, and someone else tries their address with a wrong password
    assert sftp(world, email, server).status_code == 200
    assert sftp(world, email, server, WRONG).status_code == 403

    # Then the success is in the tenant's log, naming the member, the server and the IP
    mine = [e for e in entries(world.tenant_id) if e.actor_id == user_id]
    assert [(e.result, e.actor_via, e.target, e.ip) for e in mine] == [
        ("success", "password", f"servers/{server.uuid}", IP)
    ]
    # And the unproven attempt only in the security log, with what was typed, never the password
    [refused] = [e for e in entries(security=True) if e.details.get("username", "").startswith(email)]
    assert refused.result == "denied" and refused.actor_id is None
    assert refused.details["reason"] == "invalid_credentials"
    assert refused.details["tenant_id"] == world.tenant_id
    assert WRONG not in repr(refused)
