"""The tenancy and admin rules that need no table: permissions, grants, bindings, tokens."""

from __future__ import annotations

import pytest

from mamba.auth.context import TenantContext
from mamba.domain.accounts import User
from mamba.domain.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from mamba.domain.pages import PageRequest
from mamba.domain.permissions import BUILTIN_ROLES, TENANT_PERMISSIONS
from mamba.domain.tenancy import (
    Membership,
    builtin_roles,
    check_binding,
    check_grant,
    check_permission_list,
    invitation_id,
    make_token,
    parse_token,
)
from mamba.services import admin
from tests.fakes import FakeAdminRepository

NOW = 1_800_000_000


def ctx(role: str = "owner", permissions: frozenset[str] | None = None) -> TenantContext:
    return TenantContext(tenant_id="tn_a", role=role, permissions=permissions or BUILTIN_ROLES[role])


def test_permission_list_is_accepted_when_every_entry_is_a_tenant_permission():
    assert check_permission_list(["servers.read", "servers.read", "files.write"]) == {
        "servers.read",
        "files.write",
    }


def test_permission_list_is_refused_naming_every_entry_outside_the_tenant_catalogue():
    with pytest.raises(ValidationError) as caught:
        check_permission_list(["servers.read", "admin.nodes", "account.read", "nope", "nope"])

    assert caught.value.details == {"field": "permissions", "invalid": ["account.read", "admin.nodes", "nope"]}


@pytest.mark.parametrize(
    ("actor", "granted", "allowed"),
    [
        ("owner", BUILTIN_ROLES["owner"], True),
        ("admin", BUILTIN_ROLES["operator"], True),
        ("admin", BUILTIN_ROLES["owner"], False),
        ("operator", frozenset({"servers.read"}), True),
        ("operator", frozenset({"members.manage"}), False),
        ("viewer", frozenset(), True),
    ],
)
def test_grant_is_allowed_only_within_the_actors_permissions(actor, granted, allowed):
    if allowed:
        check_grant(ctx(actor), granted, "do it")
    else:
        with pytest.raises(ForbiddenError) as caught:
            check_grant(ctx(actor), granted, "do it")
        assert caught.value.details["missing"] == sorted(granted - BUILTIN_ROLES[actor])


@pytest.mark.parametrize(
    ("role", "server_id", "expires_at", "field"),
    [
        ("viewer", None, None, None),
        ("viewer", "srv_1", NOW + 60, None),
        ("owner", None, None, None),
        ("viewer", "bad/id", None, "server_id"),
        ("viewer", "", None, "server_id"),
        ("viewer", None, NOW, "expires_at"),
        ("owner", "srv_1", None, "server_id"),
        ("owner", None, NOW + 60, "expires_at"),
    ],
)
def test_binding_rules(role, server_id, expires_at, field):
    if field is None:
        check_binding(role, server_id, expires_at, NOW)
    else:
        with pytest.raises(ValidationError) as caught:
            check_binding(role, server_id, expires_at, NOW)
        assert caught.value.details["field"] == field


def test_invitation_token_locates_the_invitation_and_only_its_hash_is_kept():
    token, token_hash = make_token("tn_a", "inv_123")

    tenant_id, inv_id, secret = parse_token(token)

    assert (tenant_id, inv_id) == ("tn_a", "inv_123")
    assert secret not in token_hash and len(secret) >= 40
    assert make_token("tn_a", "inv_123")[0] != token


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "tn_a..secret", "tn_a.usr_1.secret"])
def test_malformed_invitation_token_is_not_found(token):
    with pytest.raises(NotFoundError):
        parse_token(token)


def test_invitation_id_is_one_per_tenant_and_address():
    assert invitation_id("tn_a", "x@example.org") == invitation_id("tn_a", "x@example.org")
    assert invitation_id("tn_a", "x@example.org") != invitation_id("tn_b", "x@example.org")


def test_builtin_roles_mirror_the_catalogue_in_code():
    roles = {r.id: r for r in builtin_roles()}

    assert set(roles) == set(BUILTIN_ROLES)
    assert all(r.builtin and r.permissions == BUILTIN_ROLES[r.id] and r.description for r in roles.values())
    assert roles["owner"].permissions == frozenset(TENANT_PERMISSIONS)


def test_member_effective_permissions_come_from_the_copy_or_the_builtin_role():
    custom = Membership("tn_a", "usr_a", "rl_x", "t", permissions=frozenset({"servers.read"}))
    builtin = Membership("tn_a", "usr_b", "viewer", "t")
    unknown = Membership("tn_a", "usr_c", "gone", "t")

    assert custom.effective_permissions == {"servers.read"}
    assert builtin.effective_permissions == BUILTIN_ROLES["viewer"]
    assert unknown.effective_permissions == frozenset()
    assert Membership("tn_a", "u", "viewer", "t", expires_at=NOW).expired(NOW)
    assert not Membership("tn_a", "u", "viewer", "t", expires_at=NOW + 1).expired(NOW)


def admin_world(*user_ids: str) -> FakeAdminRepository:
    """The users; ``usr_root`` is the acting platform admin (a change needs the actor still an admin)."""
    repo = FakeAdminRepository()
    for user_id in user_ids:
        repo.users.add(
            User(
                id=user_id,
                email=f"{user_id}@example.org",
                created_at="2027-01-01T00:00:00Z",
                is_admin=user_id == "usr_root",
            )
        )
    return repo


def test_suspend_revokes_sessions_up_to_the_next_second_and_unsuspend_keeps_them_revoked():
    repo = admin_world("usr_root", "usr_a")

    suspended = admin.suspend_user(repo, "usr_root", "usr_a", clock=lambda: NOW)
    back = admin.unsuspend_user(repo, "usr_a")

    assert (suspended.status, back.status) == ("suspended", "active")
    assert repo.users.get("usr_a").sessions_valid_after == NOW + 1


def test_admin_suspension_revokes_api_keys_and_voids_older_ones_for_good():
    # Given an account with two live API keys
    from tests.fakes import FakeApiKeyRepository

    repo, keys = admin_world("usr_root", "usr_a"), FakeApiKeyRepository()
    keys.give("usr_a", "key_1", "key_2")

    # When an admin suspends it, and later lifts the suspension
    admin.suspend_user(
        repo, "usr_root", "usr_a", api_keys=keys, clock=lambda: NOW, now=lambda: "2027-01-15T08:00:00.5Z"
    )
    admin.unsuspend_user(repo, "usr_a")

    # Then both keys were revoked at the suspension, and the credential reset time stays set
    # (the guard refuses every key created before it, also after the unsuspend)
    assert keys.revocations() == [
        ("usr_a", "key_1", "2027-01-15T08:00:00.5Z"),
        ("usr_a", "key_2", "2027-01-15T08:00:00.5Z"),
    ]
    assert repo.users.get("usr_a").credentials_reset_at == "2027-01-15T08:00:00.5Z"


def test_admin_cannot_suspend_or_unflag_themselves_but_can_flag_others():
    repo = admin_world("usr_root", "usr_b")
    repo.users.set_admin("usr_b", True)

    with pytest.raises(ConflictError):
        admin.suspend_user(repo, "usr_root", "usr_root")
    with pytest.raises(ConflictError):
        admin.set_admin(repo, "usr_root", "usr_root", False)
    admin.set_admin(repo, "usr_root", "usr_root", True)
    admin.set_admin(repo, "usr_root", "usr_b", False)

    assert (repo.users.get("usr_root").is_admin, repo.users.get("usr_b").is_admin) == (True, False)
    assert repo.users.get("usr_root").status == "active"


def test_user_search_narrows_the_page_read_case_insensitively_and_keeps_the_cursor():
    repo = admin_world("usr_root", "usr_carol", "usr_dave")

    first = admin.list_users(repo, PageRequest(limit=2), "ROOT@EXAMPLE")
    rest = admin.list_users(repo, PageRequest(limit=2, cursor=first.next_cursor), "ROOT@EXAMPLE")

    # the first page read carol and dave: no match, but the cursor leads on to root
    assert (first.items, first.next_cursor is not None) == ([], True)
    assert ([u.id for u in rest.items], rest.next_cursor) == (["usr_root"], None)


def test_a_search_over_64_characters_is_refused():
    with pytest.raises(ValidationError):
        admin.list_tenants(admin_world(), PageRequest(limit=10), "x" * 65)
    assert admin.search_text("  MiXed ") == "mixed" and admin.search_text("   ") is None
