"""mamba.services.service_accounts on fakes: who may bind what, session-only minting, the
active-key limit with its concurrency guard, and the 7-day expiry notice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.auth.context import TenantContext
from mamba.domain import permissions as perms
from mamba.domain.errors import ConflictError, ForbiddenError, SessionRequiredError, ValidationError
from mamba.domain.pages import PageRequest
from mamba.domain.service_accounts import KeyLimitError
from mamba.services import service_accounts as svc
from tests.fakes import FakeApiKeyRepository, FakeMailer, FakeServiceAccountRepository, FakeTenancyRepository

NOW = 1_800_000_000
OWNER = TenantContext("tn_a", "owner", frozenset(perms.TENANT_PERMISSIONS))
OPERATOR = TenantContext("tn_a", "operator", perms.BUILTIN_ROLES["operator"] | {"members.manage"})


@pytest.fixture
def ports() -> svc.Ports:
    keys = FakeApiKeyRepository()
    return svc.Ports(accounts=FakeServiceAccountRepository(keys), keys=keys, tenancy=FakeTenancyRepository())


def _create(ports: svc.Ports, actor: TenantContext = OWNER, via: str = "token", **over: object):
    args: dict[str, object] = {"name": "ci", "role": "viewer", **over}
    return svc.create_service_account(ports, actor, actor_id="usr_a", via=via, epoch=lambda: NOW, **args)  # type: ignore[arg-type]


def _key(ports: svc.Ports, account_id: str, actor: TenantContext = OWNER, **over: object):
    args: dict[str, object] = {"name": "k", "scopes": ["servers.read"], **over}
    return svc.create_key(ports, actor, account_id, via="token", epoch=lambda: NOW, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("actor", "role", "over", "error"),
    [
        (OWNER, "owner", {}, ValidationError),  # never an owner
        (OPERATOR, "admin", {}, ForbiddenError),  # a role beyond the actor's own
        (replace(OWNER, expires_at=NOW + 60), "viewer", {}, ForbiddenError),  # a permanent grant from a temporary one
        (replace(OWNER, server_scope="srv_1"), "viewer", {}, ForbiddenError),  # wider than the actor's server
        (OWNER, "viewer", {"expires_at": NOW - 1}, ValidationError),
        (OWNER, "rl_missing", {}, ValidationError),
    ],
)
def test_create_is_refused_when_the_binding_breaks_a_members_rule(ports, actor, role, over, error):
    with pytest.raises(error):
        _create(ports, actor, role=role, **over)


def test_create_and_keys_need_a_session(ports):
    with pytest.raises(SessionRequiredError):
        _create(ports, via="api_key")
    account = _create(ports)
    with pytest.raises(SessionRequiredError):
        svc.create_key(ports, OWNER, account.id, via="service_account", name="k", scopes=["servers.read"])


def test_key_is_refused_when_the_maker_lacks_some_of_the_accounts_permissions(ports):
    account = _create(ports, role="admin")
    with pytest.raises(ForbiddenError):
        _key(ports, account.id, actor=OPERATOR)


def test_key_scopes_must_be_tenant_permissions(ports):
    account = _create(ports)
    with pytest.raises(ValidationError):
        _key(ports, account.id, scopes=["admin.users"])
    with pytest.raises(ValidationError):
        _key(ports, account.id, scopes=["account.write"])


def test_third_active_key_is_refused_and_revoking_one_makes_room(ports):
    account = _create(ports)
    first = _key(ports, account.id)
    _key(ports, account.id)
    with pytest.raises(KeyLimitError):
        _key(ports, account.id)

    svc.revoke_key(ports, OWNER, account.id, first.key.id)

    assert _key(ports, account.id).plaintext.startswith(f"mhp_{account.id}.")


def test_key_creation_from_a_stale_count_is_a_conflict(ports):
    # Given the account as read before another key was created (its keys_version moved on)
    account = _create(ports)
    stale = ports.accounts.get("tn_a", account.id)
    _key(ports, account.id)
    key = _key(ports, account.id).key

    # When a creation that counted the keys from the stale read commits
    with pytest.raises(ConflictError):
        ports.accounts.add_key(stale, replace(key, id="key_racing"))


def test_keys_of_another_tenants_account_are_not_found(ports):
    account = _create(ports)
    other = TenantContext("tn_b", "owner", frozenset(perms.TENANT_PERMISSIONS))
    from mamba.domain.errors import NotFoundError

    with pytest.raises(NotFoundError):
        svc.list_keys(ports, other, account.id)
    assert svc.list_service_accounts(ports, other, PageRequest()).items == []


def test_delete_revokes_every_key(ports):
    account = _create(ports)
    key = _key(ports, account.id)

    svc.delete_service_account(ports, OWNER, account.id, via="token")

    assert ports.keys.keys[key.key.id].revoked_at is not None
    assert account.id not in {a.id for a in ports.accounts.accounts.values()}


def test_expiry_notice_is_sent_once_per_key_and_retried_after_a_failed_mail(ports):
    account = _create(ports)
    _key(ports, account.id, expires_at=NOW + 2 * 86400)
    _key(ports, account.id, expires_at=NOW + 20 * 86400)  # outside the window
    recipients = lambda tenant_id: [("owner@example.org", "de")]  # noqa: E731
    mail_for = lambda expiring, language: (language, f"{expiring.key.prefix} expires")  # noqa: E731

    failed = svc.notify_expiring_keys(ports.accounts, FakeMailer(fail=True), recipients, mail_for, now=NOW)
    mailer = FakeMailer()
    sent = svc.notify_expiring_keys(ports.accounts, mailer, recipients, mail_for, now=NOW + 60)
    again = svc.notify_expiring_keys(ports.accounts, mailer, recipients, mail_for, now=NOW + 120)

    assert (failed["failed"], sent["sent"], again["sent"]) == (1, 1, 0)
    assert len(mailer.sent) == 1 and mailer.sent[0][:2] == ("owner@example.org", "de")


def test_a_new_key_is_announced_in_the_accounts_tenant():
    from tests.fakes import FakeEventPublisher

    keys, events = FakeApiKeyRepository(), FakeEventPublisher()
    ports = svc.Ports(FakeServiceAccountRepository(keys), keys, FakeTenancyRepository(), events)
    account = _create(ports)

    _key(ports, account.id, name="ci 2026-12")

    [event] = events.published
    assert (event.type, event.tenant_id) == ("api_key.created", "tn_a")
    assert event.payload == {"key_name": "ci 2026-12", "owner_email": "service account ci"}


def test_service_accounts_lose_the_console_with_their_role_and_on_a_suspension(ports):
    # Given a console-holding service account bound to a custom role, on a tenant with one server
    from mamba.domain.tenancy import Role
    from mamba.services import server_control as control
    from tests.unit.test_services_server_control import S1, World, jtis, server

    ports.tenancy.roles[("tn_a", "rl_ops")] = Role(
        "rl_ops", "Ops", frozenset({"servers.read", "servers.console"}), False, tenant_id="tn_a"
    )
    account = _create(ports, role="rl_ops")
    walked = svc.AsMembers(ports.accounts)
    world = World({S1: server(S1)})

    # When the role loses the console, then the tenant is suspended
    told = control.revoke_console_for_role(world.ports(), walked, "tn_a", "rl_ops", frozenset({"servers.read"}))
    done = control.deny_tenant_consoles(world.ports(), walked, "tn_a")

    # Then the node refuses the account's console token both times
    assert told == 1 and done == {"servers": 1, "failed": 0}
    denied = [jti for call in jtis(world) for jti in call]
    assert len(denied) >= 2 and set(denied) == {control.wings_jwt.jti_for(account.id, S1)}
