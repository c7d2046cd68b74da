"""PanelSftpCredentials on fakes: who may sign in to SFTP, with what (issue 10, finding 1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from mamba.auth.sftp import MembershipFacts, PanelSftpCredentials, SftpGrant, SftpRefusedError, client_ip
from mamba.domain.accounts import User
from mamba.domain.errors import RateLimitedError, UnauthorizedError
from tests.fakes import FakeUserRepository

TENANT = "tn_1"


@dataclass
class Account:
    """An account to put in the user fake under a login name."""

    id: str
    totp_enabled: bool = False


def accounts_of(users: dict[str, Account]) -> FakeUserRepository:
    found = FakeUserRepository()
    for login, account in users.items():
        found.add(
            User(id=account.id, email=login, created_at="2027-01-01T00:00:00Z", totp_enabled=account.totp_enabled)
        )
    return found


@dataclass
class Memberships:
    facts_of: dict[str, MembershipFacts] = field(default_factory=dict)

    def facts(self, user_id: str, tenant_id: str) -> MembershipFacts | None:
        return self.facts_of.get(user_id)


@dataclass
class PasswordSignIn:
    """Stands in for sessions.check_password: the right password is "pw"; records each call."""

    accounts: FakeUserRepository
    limited: bool = False
    checked: list[str] = field(default_factory=list)

    def __call__(self, email: str, password: str, source_ip: str, refuse: Any) -> User:
        if self.limited:
            raise RateLimitedError("Too many attempts", retry_after=1, details={})
        user = self.accounts.find_by_email(email)
        if user is None or refuse(user):
            raise UnauthorizedError("bad", {"reason": "invalid_credentials"})
        self.checked.append(email)
        if password != "pw":
            raise UnauthorizedError("bad", {"reason": "invalid_credentials"})
        return user


@dataclass
class Keys:
    """API keys: ``key`` → (user id, scopes, server ids)."""

    keys: dict[str, tuple[str, frozenset[str], frozenset[str]]] = field(default_factory=dict)

    def check(self, key: str, source_ip: str) -> tuple[str, frozenset[str], frozenset[str]] | None:
        return self.keys.get(key)


def member(user_id: str, permissions: set[str] | None, **extra: Any) -> MembershipFacts:
    return MembershipFacts(
        user_id=user_id,
        active=True,
        is_admin=extra.pop("is_admin", False),
        permissions=frozenset(permissions) if permissions is not None else None,
        **extra,
    )


def credentials(
    users: dict[str, Account],
    facts: dict[str, MembershipFacts],
    keys: dict[str, tuple[str, frozenset[str], frozenset[str]]] | None = None,
    **options: Any,
) -> tuple[PanelSftpCredentials, PasswordSignIn]:
    accounts = accounts_of(users)
    sign_in = PasswordSignIn(accounts, limited=options.pop("limited", False))
    made = PanelSftpCredentials(accounts, Memberships(facts), sign_in, Keys(keys or {}), **options)
    return made, sign_in


def refusal(made: PanelSftpCredentials, login: str, secret: str) -> str:
    with pytest.raises(SftpRefusedError) as caught:
        made.grant(login, secret, TENANT, "203.0.113.7")
    return str(caught.value.details["reason"])


FILES = {"files.read", "files.write", "files.sftp"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("203.0.113.7:51234", "203.0.113.7"),
        ("203.0.113.7", "203.0.113.7"),
        ("[2001:db8::7]:51234", "2001:db8::7"),
        ("[2001:DB8:0::7]:2022", "2001:db8::7"),
        ("2001:db8::7", "2001:db8::7"),
        ("[::1]:22", "::1"),
        ("", ""),
        (None, ""),
        ("not an ip:22", ""),
        ("[2001:db8::7", ""),
    ],
)
def test_client_ip_reads_what_wings_sends_when_it_has_a_port_or_brackets(raw, expected):
    assert client_ip(raw) == expected


def test_password_is_not_checked_when_the_login_windows_are_used_up():
    made, sign_in = credentials({"a": Account("usr_a")}, {"usr_a": member("usr_a", FILES)}, limited=True)

    assert refusal(made, "a", "pw") == "rate_limited"
    assert sign_in.checked == []


@pytest.mark.parametrize(
    ("account", "facts"),
    [
        (Account("usr_a", totp_enabled=True), member("usr_a", FILES)),
        (Account("usr_a"), member("usr_a", FILES, tenant_requires_2fa=True, needs_2fa=True)),
        (Account("usr_a", totp_enabled=True), member("usr_a", FILES, tenant_requires_2fa=True)),
    ],
    ids=["2fa-on", "tenant-requires-not-enrolled", "tenant-requires-enrolled"],
)
def test_sftp_password_sign_in_is_refused_when_2fa_is_on(account, facts):
    made, sign_in = credentials({"a": account}, {"usr_a": facts})

    assert refusal(made, "a", "pw") == "invalid_credentials"
    assert sign_in.checked == []  # the password itself was never compared


def test_api_key_needs_files_sftp_in_its_scopes_and_in_the_role():
    everything = frozenset(FILES)
    keys = {
        "mhp_ok": ("usr_a", everything, frozenset()),
        "mhp_no_scope": ("usr_a", frozenset({"files.read", "files.write"}), frozenset()),
        "mhp_b": ("usr_b", everything, frozenset()),
    }
    facts = {"usr_a": member("usr_a", FILES), "usr_b": member("usr_b", {"files.read", "files.write"})}
    made, _ = credentials({"a": Account("usr_a"), "b": Account("usr_b")}, facts, keys)

    assert made.grant("a", "mhp_ok", TENANT, "") == SftpGrant("usr_a", everything, frozenset(), "api_key")
    assert refusal(made, "a", "mhp_no_scope") == "api_key_without_files_sftp"
    assert refusal(made, "b", "mhp_b") == "role_without_files_sftp"
    assert refusal(made, "b", "mhp_ok") == "invalid_api_key"  # someone else's key


def test_admin_api_key_sftp_is_limited_to_the_key_scopes():
    keys = {"mhp_read": ("usr_root", frozenset({"files.sftp", "files.read"}), frozenset({"srv_1"}))}
    facts = {"usr_root": member("usr_root", None, is_admin=True)}
    users = {"root": Account("usr_root")}
    allowed, _ = credentials(users, facts, keys, admin_access=True)
    default, _ = credentials(users, facts, keys)

    grant = allowed.grant("root", "mhp_read", TENANT, "")

    assert grant.permissions == frozenset({"files.read"}) and grant.server_scope == frozenset({"srv_1"})
    assert allowed.grant("root", "pw", TENANT, "").permissions == frozenset({"*"})
    assert refusal(default, "root", "pw") == "admin_sftp_disabled"
    assert refusal(default, "root", "mhp_read") == "admin_sftp_disabled"


def test_suspended_tenant_signs_in_nobody():
    keys = {"mhp_ok": ("usr_a", frozenset(FILES), frozenset())}
    made, _ = credentials({"a": Account("usr_a")}, {"usr_a": member("usr_a", FILES, tenant_suspended=True)}, keys)

    assert refusal(made, "a", "pw") == "tenant_suspended"
    assert refusal(made, "a", "mhp_ok") == "tenant_suspended"


def test_refusal_of_a_non_member_is_not_filed_as_a_members():
    made, _ = credentials({"a": Account("usr_a")}, {"usr_a": member("usr_a", None)})

    with pytest.raises(SftpRefusedError) as caught:
        made.grant("a", "pw", TENANT, "")

    assert caught.value.details["reason"] == "not_a_member"
    assert (caught.value.user_id, caught.value.member) == ("usr_a", False)
