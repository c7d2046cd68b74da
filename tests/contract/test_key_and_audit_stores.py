"""API keys and the audit log, each one base class over the fake of tests/fakes.py and the
DynamoDB adapter on moto. Users and tenants are unique per test (a worker's moto is shared)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from mamba.domain.api_keys import ApiKey
from mamba.domain.audit import AuditEntry, AuditFilter
from mamba.domain.errors import ConflictError, NotFoundError
from tests.fakes import FakeApiKeyRepository, FakeAuditLog


def uid() -> str:
    return secrets.token_hex(4)


def key(user_id: str, created_at: str = "2026-11-25T10:00:00Z", **kw: Any) -> ApiKey:
    return ApiKey(
        id=f"key{uid()}",
        user_id=user_id,
        name="ci",
        scopes=("servers.read",),
        created_at=created_at,
        secret_hash="h" * 64,
        hint="abcd",
        **kw,
    )


class ApiKeyRepositoryContract:
    @pytest.fixture
    def repo(self) -> Any:
        raise NotImplementedError

    def test_add_stores_the_key_and_refuses_the_same_id_twice(self, repo):
        user = f"usr_{uid()}"
        made = key(user, server_ids=("srv_1",), allowed_ips=("10.0.0.0/8",), expires_at=1_900_000_000)
        repo.add(made)

        with pytest.raises(ConflictError):
            repo.add(made)
        assert repo.list_for_user(user, 10, None).items == [made]

    def test_list_for_user_is_newest_first_paged_and_the_users_own(self, repo):
        user = f"usr_{uid()}"
        made = [key(user, created_at=f"2026-11-25T10:00:0{n}Z") for n in range(3)]
        for each in [*made, key(f"usr_{uid()}")]:
            repo.add(each)

        first = repo.list_for_user(user, 2, None)
        rest = repo.list_for_user(user, 2, first.next_cursor)

        assert [k.id for k in first.items + rest.items] == [k.id for k in reversed(made)]
        assert first.next_cursor and rest.next_cursor is None

    def test_revoke_keeps_the_first_time_and_is_not_found_for_another_user(self, repo):
        user = f"usr_{uid()}"
        made = key(user)
        repo.add(made)

        first = repo.revoke(user, made.id, "2026-11-25T11:00:00Z")
        again = repo.revoke(user, made.id, "2026-11-25T12:00:00Z")

        assert (first.revoked_at, again.revoked_at) == ("2026-11-25T11:00:00Z", "2026-11-25T11:00:00Z")
        with pytest.raises(NotFoundError):
            repo.revoke(f"usr_{uid()}", made.id, "2026-11-25T12:00:00Z")
        with pytest.raises(NotFoundError):
            repo.revoke(user, f"key{uid()}", "2026-11-25T12:00:00Z")

    def test_revoke_all_revokes_the_live_keys_and_counts_them(self, repo):
        user, other = f"usr_{uid()}", f"usr_{uid()}"
        mine = [key(user), key(user), key(user)]
        for each in [*mine, key(other)]:
            repo.add(each)
        repo.revoke(user, mine[0].id, "2026-11-25T11:00:00Z")

        count = repo.revoke_all(user, "2026-11-25T12:00:00Z")

        listed = {k.id: k.revoked_at for k in repo.list_for_user(user, 10, None).items}
        assert count == 2
        assert listed == {
            mine[0].id: "2026-11-25T11:00:00Z",
            mine[1].id: "2026-11-25T12:00:00Z",
            mine[2].id: "2026-11-25T12:00:00Z",
        }
        assert repo.list_for_user(other, 10, None).items[0].revoked_at is None

    def test_touch_records_a_use_at_most_once_per_interval(self, repo):
        user = f"usr_{uid()}"
        made = key(user)
        repo.add(made)

        repo.touch(made.id, 1000, "203.0.113.9", 60)
        repo.touch(made.id, 1030, "198.51.100.1", 60)
        between = repo.list_for_user(user, 10, None).items[0]
        repo.touch(made.id, 1060, "", 60)

        after = repo.list_for_user(user, 10, None).items[0]
        assert (between.last_used_at, between.last_used_ip) == (1000, "203.0.113.9")
        assert (after.last_used_at, after.last_used_ip) == (1060, None)
        repo.touch(f"key{uid()}", 1000, "203.0.113.9", 60)  # an unknown key: nothing, no error

    def test_get_is_the_owners_key_only(self, repo):
        user = f"usr_{uid()}"
        made = key(user)
        repo.add(made)

        assert repo.get(user, made.id) == made
        with pytest.raises(NotFoundError):
            repo.get(f"usr_{uid()}", made.id)
        with pytest.raises(NotFoundError):
            repo.get(user, f"key{uid()}")

    def test_rotate_stores_the_new_key_and_ends_the_old_one_once(self, repo):
        user = f"usr_{uid()}"
        old = key(user, expires_at=1_900_000_000)
        repo.add(old)
        new = key(user, created_at="2026-11-25T11:00:00Z", expires_at=1_900_000_000)

        repo.rotate(old, new, 1_800_000_000)

        listed = {k.id: k for k in repo.list_for_user(user, 10, None).items}
        assert listed[new.id] == new
        assert (listed[old.id].expires_at, listed[old.id].replaced_by) == (1_800_000_000, new.id)
        # A second rotation of the same key, or one from a stale read, changes nothing.
        with pytest.raises(ConflictError):
            repo.rotate(old, key(user), 1_800_000_000)
        assert len(repo.list_for_user(user, 10, None).items) == 2

    def test_rotate_is_a_conflict_when_the_key_was_revoked_meanwhile(self, repo):
        user = f"usr_{uid()}"
        old = key(user)
        repo.add(old)
        repo.revoke(user, old.id, "2026-11-25T11:00:00Z")

        with pytest.raises(ConflictError):
            repo.rotate(old, key(user), 1_800_000_000)
        assert [k.id for k in repo.list_for_user(user, 10, None).items] == [old.id]


class TestApiKeyRepositoryOnFake(ApiKeyRepositoryContract):
    @pytest.fixture
    def repo(self) -> Any:
        return FakeApiKeyRepository()


class TestApiKeyRepositoryOnDynamo(ApiKeyRepositoryContract):
    @pytest.fixture
    def repo(self, request: pytest.FixtureRequest) -> Any:
        request.getfixturevalue("aws")
        from mamba import bootstrap

        return bootstrap.api_key_repository()


# --- the audit log ---------------------------------------------------------------------------


def entry(tenant_id: str | None, second: int, **kw: Any) -> AuditEntry:
    kw.setdefault("action", "servers.create")
    kw.setdefault("result", "success")
    return AuditEntry(id=f"au{uid()}", at=f"2026-11-25T10:00:{second:02d}.000000Z", tenant_id=tenant_id, **kw)


def everything(log: Any, tenant_id: str | None, filters: AuditFilter, security: bool = False) -> list[AuditEntry]:
    """Every page: a filtered page of the adapter may be short while a cursor leads on."""
    found, cursor = [], None
    while True:
        page = log.list(tenant_id, filters, 2, cursor, security)
        found += page.items
        cursor = page.next_cursor
        if cursor is None:
            return found


class AuditLogContract:
    @pytest.fixture
    def log(self) -> Any:
        raise NotImplementedError

    def test_entries_round_trip_newest_first_in_their_tenants_partition(self, log):
        tenant = f"tn_{uid()}"
        made = [
            entry(tenant, n, actor_id="usr_1", actor_via="token", status=201, details={"n": n}, ip="203.0.113.9")
            for n in range(3)
        ]
        for each in made:
            log.append(each)
        log.append(entry(f"tn_{uid()}", 5))

        assert everything(log, tenant, AuditFilter()) == list(reversed(made))

    def test_append_refuses_to_overwrite_an_entry(self, log):
        tenant = f"tn_{uid()}"
        made = entry(tenant, 1)
        log.append(made)

        with pytest.raises(ConflictError):
            log.append(made)

    def test_filters_narrow_by_action_actor_result_and_inclusive_time_bounds(self, log):
        tenant = f"tn_{uid()}"
        made = [
            entry(tenant, 1, actor_id="usr_a"),
            entry(tenant, 2, actor_id="usr_b", result="denied", action="servers.delete"),
            entry(tenant, 3, actor_id="usr_a", result="denied"),
            entry(tenant, 4, actor_id="usr_a"),
        ]
        for each in made:
            log.append(each)

        by_actor = everything(log, tenant, AuditFilter(actor_id="usr_a", result="denied"))
        by_action = everything(log, tenant, AuditFilter(action="servers.delete"))
        window = everything(log, tenant, AuditFilter(since=made[1].at, until=made[2].at))

        assert [e.id for e in by_actor] == [made[2].id]
        assert [e.id for e in by_action] == [made[1].id]
        assert [e.id for e in window] == [made[2].id, made[1].id]

    def test_security_entries_go_to_the_security_log_whatever_tenant_they_name(self, log):
        tenant = f"tn_{uid()}"
        refused = entry(tenant, 1, action="login", result="denied", security=True, actor_id=f"usr_{uid()}")
        log.append(refused)

        in_tenant = everything(log, tenant, AuditFilter())
        in_security = everything(log, None, AuditFilter(actor_id=refused.actor_id), security=True)

        assert in_tenant == []
        assert in_security == [refused]

    def test_platform_entries_have_no_tenant(self, log):
        actor = f"usr_{uid()}"
        made = entry(None, 1, action="account.login", actor_id=actor)
        log.append(made)

        assert everything(log, None, AuditFilter(actor_id=actor)) == [made]


class TestAuditLogOnFake(AuditLogContract):
    @pytest.fixture
    def log(self) -> Any:
        return FakeAuditLog()


class TestAuditLogOnDynamo(AuditLogContract):
    @pytest.fixture
    def log(self, request: pytest.FixtureRequest) -> Any:
        request.getfixturevalue("aws")
        from mamba import bootstrap

        return bootstrap.audit_log()
