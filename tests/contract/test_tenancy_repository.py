"""Tenants, members, invitations and custom roles over FakeTenancyRepository and
DynamoTenantRepository on moto: the last-owner rule, custom roles' versions and member
counts, invitations consumed once, 2FA required only by an actor who has it.

Users and tenants are unique per test (a worker's moto is shared).
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

import pytest

from mamba.domain.accounts import User
from mamba.domain.errors import ConflictError, NotFoundError, TenantLimitError
from mamba.domain.pages import PageRequest
from mamba.domain.tenancy import Invitation, Membership, Role, Tenant
from tests.fakes import FakeTenancyRepository

T0, T1 = "2026-11-25T10:00:00Z", "2026-11-25T10:00:01Z"


def uid() -> str:
    return secrets.token_hex(4)


class TenancyContract:
    @pytest.fixture
    def world(self) -> tuple[Any, Any]:
        """(tenancy repository, user repository)"""
        raise NotImplementedError

    def _user(self, world: Any, *, totp: bool = False) -> str:
        _, users = world
        user_id = f"usr_{uid()}"
        users.add(User(id=user_id, email=f"{user_id}@example.org", created_at=T0, name=f"N {user_id}"))
        if totp:
            world_users_enable_totp(users, user_id)
        return user_id

    def _tenant(self, world: Any) -> tuple[str, str]:
        repo, _ = world
        owner, tenant_id = self._user(world), f"tn_{uid()}"
        repo.add_with_owner(Tenant(tenant_id, "Games", T0), Membership(tenant_id, owner, "owner", T0))
        return tenant_id, owner

    def _role(self, world: Any, tenant_id: str, name: str = "Mods") -> Role:
        repo, _ = world
        role = Role(f"rl_{uid()}", name, frozenset({"servers.read"}), False, tenant_id=tenant_id, created_at=T0)
        repo.add_role(role)
        return repo.get_role(tenant_id, role.id)

    def _join(self, world: Any, tenant_id: str, role: str = "viewer", version: int | None = None) -> Membership:
        repo, _ = world
        user_id = self._user(world)
        invitation = Invitation(f"inv_{uid()}", tenant_id, f"{user_id}@example.org", role, "hash", "x", T0, 2**31)
        repo.put_invitation(invitation)
        member = Membership(tenant_id, user_id, role, T0)
        repo.accept_invitation(invitation, member, version)
        return member

    # --- tenants ---

    def test_a_tenant_is_made_with_its_owner(self, world):
        repo, _ = world
        tenant_id, owner = self._tenant(world)

        info = repo.get_tenant(tenant_id)

        assert (info.name, info.status, info.owner_count, info.require_2fa) == ("Games", "active", 1, False)
        assert repo.get_member(tenant_id, owner).role == "owner"
        assert [m.tenant_id for m in repo.memberships_of_user(owner)] == [tenant_id]
        assert [t.tenant.id for t in repo.tenants_of_user(owner, PageRequest()).items] == [tenant_id]

    def test_add_with_owner_refuses_an_existing_tenant_an_unknown_owner_and_one_over_the_cap(self, world):
        repo, _ = world
        tenant_id, owner = self._tenant(world)

        with pytest.raises(ConflictError):
            repo.add_with_owner(Tenant(tenant_id, "Again", T0), Membership(tenant_id, owner, "owner", T0))
        with pytest.raises(NotFoundError):
            new = f"tn_{uid()}"
            repo.add_with_owner(Tenant(new, "X", T0), Membership(new, f"usr_{uid()}", "owner", T0))
        capped = self._user(world)
        first = f"tn_{uid()}"
        repo.add_with_owner(Tenant(first, "1", T0), Membership(first, capped, "owner", T0), max_owned=1)
        with pytest.raises(TenantLimitError):
            second = f"tn_{uid()}"
            repo.add_with_owner(Tenant(second, "2", T0), Membership(second, capped, "owner", T0), max_owned=1)

    def test_update_tenant_renames_and_requires_2fa_only_from_an_actor_with_it(self, world):
        repo, _ = world
        tenant_id, owner = self._tenant(world)

        renamed = repo.update_tenant(tenant_id, name="Renamed", require_2fa=None, actor_id=owner, now=T1)

        assert (renamed.name, renamed.updated_at) == ("Renamed", T1)
        with pytest.raises(ConflictError):
            repo.update_tenant(tenant_id, name=None, require_2fa=True, actor_id=owner, now=T1)
        with pytest.raises(NotFoundError):
            repo.update_tenant(f"tn_{uid()}", name="x", require_2fa=None, actor_id=owner, now=T1)
        secured = self._user(world, totp=True)
        assert repo.update_tenant(tenant_id, name=None, require_2fa=True, actor_id=secured, now=T1).require_2fa

    # --- members ---

    def test_members_are_listed_with_their_contacts(self, world):
        repo, _ = world
        tenant_id, owner = self._tenant(world)
        joined = self._join(world, tenant_id)

        listed = repo.list_members(tenant_id, PageRequest(limit=10)).items
        contacts = repo.contacts([owner, joined.user_id, f"usr_{uid()}"])

        assert {m.user_id for m in listed} == {owner, joined.user_id}
        assert contacts[owner].email == f"{owner}@example.org" and len(contacts) == 2
        assert repo.is_member_email(tenant_id, f"{joined.user_id}@example.org")
        assert not repo.is_member_email(tenant_id, "nobody@example.org")

    def test_the_last_owner_cannot_leave_or_be_demoted(self, world):
        repo, _ = world
        tenant_id, owner = self._tenant(world)
        current = repo.get_member(tenant_id, owner)

        with pytest.raises(ConflictError) as demoted:
            repo.change_binding(current, replace(current, role="viewer"), None)
        with pytest.raises(ConflictError):
            repo.remove_member(current)
        assert demoted.value.details == {"reason": "last_owner"}
        assert repo.get_tenant(tenant_id).owner_count == 1

    def test_a_second_owner_lets_the_first_one_go(self, world):
        repo, _ = world
        tenant_id, owner = self._tenant(world)
        other = self._join(world, tenant_id)
        repo.change_binding(other, replace(other, role="owner"), None)

        repo.remove_member(repo.get_member(tenant_id, owner))

        assert repo.get_tenant(tenant_id).owner_count == 1
        with pytest.raises(NotFoundError):
            repo.get_member(tenant_id, owner)

    def test_change_binding_conflicts_when_the_member_changed_meanwhile(self, world):
        repo, _ = world
        tenant_id, _ = self._tenant(world)
        member = self._join(world, tenant_id)
        repo.change_binding(member, replace(member, role="operator"), None)

        with pytest.raises(ConflictError):
            repo.change_binding(member, replace(member, role="admin"), None)  # read as viewer, now operator
        assert repo.get_member(tenant_id, member.user_id).role == "operator"

    # --- invitations ---

    def test_an_invitation_is_consumed_once_by_its_token(self, world):
        repo, _ = world
        tenant_id, _ = self._tenant(world)
        user_id = self._user(world)
        invitation = Invitation(f"inv_{uid()}", tenant_id, "x@example.org", "viewer", "hash-1", "usr_x", T0, 2**31)
        repo.put_invitation(invitation)
        listed = repo.list_invitations(tenant_id, PageRequest()).items

        with pytest.raises(NotFoundError):
            repo.accept_invitation(
                replace(invitation, token_hash="hash-2"), Membership(tenant_id, user_id, "viewer", T0), None
            )
        repo.accept_invitation(invitation, Membership(tenant_id, user_id, "viewer", T0), None)

        assert listed == [invitation]
        assert repo.get_member(tenant_id, user_id).role == "viewer"
        with pytest.raises(NotFoundError):
            repo.get_invitation(tenant_id, invitation.id)

    def test_a_member_cannot_accept_a_second_invitation(self, world):
        repo, _ = world
        tenant_id, owner = self._tenant(world)
        invitation = Invitation(f"inv_{uid()}", tenant_id, "x@example.org", "viewer", "h", "x", T0, 2**31)
        repo.put_invitation(invitation)

        with pytest.raises(ConflictError):
            repo.accept_invitation(invitation, Membership(tenant_id, owner, "viewer", T0), None)
        assert repo.get_invitation(tenant_id, invitation.id) == invitation

    def test_delete_invitation_is_not_found_the_second_time(self, world):
        repo, _ = world
        tenant_id, _ = self._tenant(world)
        invitation = Invitation(f"inv_{uid()}", tenant_id, "x@example.org", "viewer", "h", "x", T0, 2**31)
        repo.put_invitation(invitation)

        repo.delete_invitation(tenant_id, invitation.id)

        with pytest.raises(NotFoundError):
            repo.delete_invitation(tenant_id, invitation.id)

    # --- custom roles ---

    def test_a_role_name_is_unique_in_its_tenant_whatever_the_case(self, world):
        tenant_id, _ = self._tenant(world)
        self._role(world, tenant_id, "Mods")

        with pytest.raises(ConflictError):
            self._role(world, tenant_id, " mods ")
        other, _ = self._tenant(world)
        assert self._role(world, other, "Mods").members == 0

    def test_binding_a_role_counts_its_members_and_needs_its_current_version(self, world):
        repo, _ = world
        tenant_id, _ = self._tenant(world)
        role = self._role(world, tenant_id)

        member = self._join(world, tenant_id, role.id, role.version)
        with pytest.raises(ConflictError) as stale:
            self._join(world, tenant_id, role.id, role.version + 1)

        assert repo.get_role(tenant_id, role.id).members == 1
        assert stale.value.details == {"reason": "role_changed"}
        with pytest.raises(ConflictError):
            repo.delete_role(role)
        repo.remove_member(member)
        repo.delete_role(repo.get_role(tenant_id, role.id))
        with pytest.raises(NotFoundError):
            repo.get_role(tenant_id, role.id)

    def test_update_role_needs_the_version_read_and_sync_copies_its_permissions(self, world):
        repo, _ = world
        tenant_id, _ = self._tenant(world)
        role = self._role(world, tenant_id)
        member = self._join(world, tenant_id, role.id, role.version)
        wider = replace(role, name="Moderators", permissions=frozenset({"servers.read", "servers.power"}), version=1)

        repo.update_role(role, wider)
        with pytest.raises(ConflictError):
            repo.update_role(role, replace(wider, name="Stale"))
        changed = repo.sync_role_bindings(repo.get_role(tenant_id, role.id))

        stored = repo.get_role(tenant_id, role.id)
        assert (stored.name, stored.version, stored.permissions) == ("Moderators", 1, wider.permissions)
        assert changed == 1
        assert repo.get_member(tenant_id, member.user_id).permissions == wider.permissions


def world_users_enable_totp(users: Any, user_id: str) -> None:
    """Turn 2FA on for a user through whichever user repository the world has."""
    if hasattr(users, "users"):
        users.users[user_id] = replace(users.users[user_id], totp_enabled=True)
    else:
        from mamba.adapters.dynamo import keys
        from mamba.adapters.dynamo.items import UserItem

        UserItem(*keys.user(user_id)).update(actions=[UserItem.totp_enabled.set(True)])


class TestTenancyOnFake(TenancyContract):
    @pytest.fixture
    def world(self) -> tuple[Any, Any]:
        repo = FakeTenancyRepository()
        return repo, repo.users


class TestTenancyOnDynamo(TenancyContract):
    @pytest.fixture
    def world(self, request: pytest.FixtureRequest) -> tuple[Any, Any]:
        request.getfixturevalue("aws")
        from mamba import bootstrap
        from mamba.adapters.dynamo.users import DynamoUserRepository

        bootstrap.dynamo_tables()
        return bootstrap.tenancy_repository(), DynamoUserRepository()


# --- the platform admin's view -----------------------------------------------------------------


class AdminRepositoryContract:
    @pytest.fixture
    def world(self) -> tuple[Any, Any, Any]:
        """(admin repository, tenancy repository, user repository)"""
        raise NotImplementedError

    def _user(self, world: Any, created_at: str = T0) -> str:
        _, _, users = world
        user_id = f"usr_{uid()}"
        users.add(User(id=user_id, email=f"{user_id}@example.org", created_at=created_at))
        return user_id

    def test_a_user_is_flagged_suspended_and_let_back_without_reviving_old_sessions(self, world):
        admin, _, users = world
        user_id = self._user(world)

        flagged = admin.set_user_admin(user_id, True, T1)
        suspended = admin.set_user_status(user_id, "suspended", 1_800_000_001, T1, credentials_reset_at=T1)
        back = admin.set_user_status(user_id, "active", None, T1)

        assert flagged.is_admin and suspended.status == "suspended" and back.status == "active"
        stored = users.get(user_id)
        assert (stored.sessions_valid_after, stored.credentials_reset_at) == (1_800_000_001, T1)

    def test_a_change_made_by_an_admin_needs_them_still_an_active_admin(self, world):
        from mamba.domain.errors import LastAdminError

        admin, _, _ = world
        actor, target = self._user(world), self._user(world)
        admin.set_user_admin(actor, True, T1)

        granted = admin.set_user_admin(target, True, T1, actor_id=actor)
        admin.set_user_admin(actor, False, T1, actor_id=target)

        assert granted.is_admin
        with pytest.raises(LastAdminError):
            admin.set_user_admin(target, False, T1, actor_id=actor)
        with pytest.raises(LastAdminError):
            admin.set_user_status(target, "suspended", None, T1, actor_id=actor)
        with pytest.raises(NotFoundError):
            admin.set_user_admin(f"usr_{uid()}", True, T1, actor_id=target)
        assert admin.get_user(target).is_admin and admin.get_user(target).status == "active"

    def test_status_changes_never_create_an_unknown_user_or_tenant(self, world):
        admin, _, _ = world

        with pytest.raises(NotFoundError):
            admin.set_user_status(f"usr_{uid()}", "suspended", None, T1)
        with pytest.raises(NotFoundError):
            admin.set_user_admin(f"usr_{uid()}", True, T1)
        with pytest.raises(NotFoundError):
            admin.set_tenant_status(f"tn_{uid()}", "suspended", T1)
        with pytest.raises(NotFoundError):
            admin.get_user(f"usr_{uid()}")

    def test_a_tenant_is_suspended_and_its_owner_shows_its_membership(self, world):
        admin, tenancy, _ = world
        owner, tenant_id = self._user(world), f"tn_{uid()}"
        tenancy.add_with_owner(Tenant(tenant_id, "Games", T0), Membership(tenant_id, owner, "owner", T0))

        suspended = admin.set_tenant_status(tenant_id, "suspended", T1)

        assert (suspended.status, suspended.updated_at, admin.get_tenant(tenant_id).status) == (
            "suspended",
            T1,
            "suspended",
        )
        assert [(m.tenant_id, m.role) for m in admin.memberships_of_user(owner)] == [(tenant_id, "owner")]

    def test_users_and_tenants_are_listed_in_creation_order(self, world):
        admin, tenancy, _ = world
        made = [self._user(world, created_at=f"2999-01-01T00:00:0{n}Z") for n in range(3)]
        seen, cursor = [], None
        while True:
            page = admin.list_users(PageRequest(limit=2, cursor=cursor))
            seen += [u.id for u in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        tenant_id = f"tn_{uid()}"
        tenancy.add_with_owner(
            Tenant(tenant_id, "Last", "2999-01-01T00:00:09Z"), Membership(tenant_id, made[0], "owner", T0)
        )
        tenants, cursor = [], None
        while True:
            listed = admin.list_tenants(PageRequest(limit=50, cursor=cursor))
            tenants += [t.id for t in listed.items]
            cursor = listed.next_cursor
            if cursor is None:
                break

        assert [i for i in seen if i in made] == made
        assert tenants[-1] == tenant_id


class TestAdminRepositoryOnFake(AdminRepositoryContract):
    @pytest.fixture
    def world(self) -> tuple[Any, Any, Any]:
        from tests.fakes import FakeAdminRepository

        admin = FakeAdminRepository()
        return admin, admin.tenancy, admin.users


class TestAdminRepositoryOnDynamo(AdminRepositoryContract):
    @pytest.fixture
    def world(self, request: pytest.FixtureRequest) -> tuple[Any, Any, Any]:
        request.getfixturevalue("aws")
        from mamba import bootstrap
        from mamba.adapters.dynamo.users import DynamoUserRepository

        bootstrap.dynamo_tables()
        return bootstrap.admin_repository(), bootstrap.tenancy_repository(), DynamoUserRepository()


# --- the guard's one read ------------------------------------------------------------------------


class IdentityRepositoryContract:
    @pytest.fixture
    def world(self) -> tuple[Any, Any, Any, Any]:
        """(identity repository, tenancy repository, user repository, API key repository)"""
        raise NotImplementedError

    def test_load_reads_the_user_membership_tenant_and_key_of_one_request(self, world):
        from mamba.domain.api_keys import ApiKey

        identity, tenancy, users, keys = world
        owner, tenant_id, key_id = f"usr_{uid()}", f"tn_{uid()}", f"key{uid()}"
        users.add(User(id=owner, email=f"{owner}@example.org", created_at=T0))
        tenancy.add_with_owner(Tenant(tenant_id, "Games", T0), Membership(tenant_id, owner, "owner", T0))
        key = ApiKey(key_id, owner, "ci", ("servers.read",), T0, "h" * 64, "abcd")
        keys.add(key)

        facts = identity.load(owner, tenant_id, key_id)

        assert facts.user == users.get(owner)
        assert (facts.membership.role, facts.membership.tenant_id) == ("owner", tenant_id)
        assert (facts.tenant.id, facts.tenant.status, facts.tenant.owner_count) == (tenant_id, "active", 1)
        assert facts.api_key == key

    def test_what_does_not_exist_is_none(self, world):
        identity, _, users, _ = world
        user_id = f"usr_{uid()}"
        users.add(User(id=user_id, email=f"{user_id}@example.org", created_at=T0))

        alone = identity.load(user_id, None)
        elsewhere = identity.load(user_id, f"tn_{uid()}", f"key{uid()}")
        nobody = identity.load(f"usr_{uid()}", None)

        assert (alone.membership, alone.tenant, alone.api_key) == (None, None, None)
        assert (elsewhere.membership, elsewhere.tenant, elsewhere.api_key) == (None, None, None)
        assert nobody.user is None


class TestIdentityRepositoryOnFake(IdentityRepositoryContract):
    @pytest.fixture
    def world(self) -> tuple[Any, Any, Any, Any]:
        from tests.fakes import FakeIdentityRepository

        identity = FakeIdentityRepository()
        return identity, identity.tenancy, identity.users, identity.keys


class TestIdentityRepositoryOnDynamo(IdentityRepositoryContract):
    @pytest.fixture
    def world(self, request: pytest.FixtureRequest) -> tuple[Any, Any, Any, Any]:
        request.getfixturevalue("aws")
        from mamba import bootstrap
        from mamba.adapters.dynamo.identity import DynamoIdentityRepository
        from mamba.adapters.dynamo.users import DynamoUserRepository

        bootstrap.dynamo_tables()
        return (
            DynamoIdentityRepository(),
            bootstrap.tenancy_repository(),
            DynamoUserRepository(),
            bootstrap.api_key_repository(),
        )
