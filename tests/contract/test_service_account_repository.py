"""Service accounts and their keys: one base class over the fake of tests/fakes.py and the
DynamoDB adapter on moto. Tenants and accounts are unique per test (a worker's moto is shared)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from mamba.domain.api_keys import ApiKey
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.pages import PageRequest
from mamba.domain.service_accounts import ServiceAccount
from tests.fakes import FakeApiKeyRepository, FakeServiceAccountRepository

EXPIRY = 1_900_000_000
EXPIRY_DAY = datetime.fromtimestamp(EXPIRY, UTC).date().isoformat()


def uid() -> str:
    return secrets.token_hex(4)


def account(tenant_id: str, **kw: Any) -> ServiceAccount:
    return ServiceAccount(
        id=f"sa_{uid()}",
        tenant_id=tenant_id,
        name="ci",
        role="viewer",
        created_at="2026-11-25T10:00:00Z",
        created_by="usr_a",
        **kw,
    )


def key(owner: str, created_at: str = "2026-11-25T10:00:00Z", **kw: Any) -> ApiKey:
    return ApiKey(
        id=f"key{uid()}",
        user_id=owner,
        name="k",
        scopes=("servers.read",),
        created_at=created_at,
        secret_hash="h" * 64,
        hint="abcd",
        **kw,
    )


class ServiceAccountRepositoryContract:
    @pytest.fixture
    def repos(self) -> tuple[Any, Any]:
        """(service accounts, API keys) sharing their key store."""
        raise NotImplementedError

    def test_add_get_and_list_stay_in_the_tenant(self, repos):
        accounts, _ = repos
        tenant = f"tn_{uid()}"
        made = account(tenant, server_id="srv_1", expires_at=EXPIRY, description="d")
        accounts.add(made, None)

        assert accounts.get(tenant, made.id) == made
        assert [a.id for a in accounts.list_accounts(tenant, PageRequest()).items] == [made.id]
        with pytest.raises(NotFoundError):
            accounts.get(f"tn_{uid()}", made.id)
        assert accounts.list_accounts(f"tn_{uid()}", PageRequest()).items == []

    def test_update_and_delete_need_the_role_they_were_decided_on(self, repos):
        accounts, _ = repos
        made = account(f"tn_{uid()}")
        accounts.add(made, None)
        changed = replace(made, role="operator", name="renamed", server_id="srv_2")
        accounts.update(made, changed, None)

        with pytest.raises(ConflictError):
            accounts.update(made, replace(made, role="admin"), None)  # read before the change
        with pytest.raises(ConflictError):
            accounts.delete(made)
        assert accounts.get(made.tenant_id, made.id).role == "operator"
        accounts.delete(changed)
        with pytest.raises(NotFoundError):
            accounts.get(made.tenant_id, made.id)

    def test_add_key_bumps_the_version_and_refuses_a_stale_count(self, repos):
        accounts, api_keys = repos
        made = account(f"tn_{uid()}")
        accounts.add(made, None)
        first = key(made.id)
        accounts.add_key(made, first)

        with pytest.raises(ConflictError):
            accounts.add_key(made, key(made.id))  # counted at version 0, which moved on
        current = accounts.get(made.tenant_id, made.id)
        second = key(made.id, created_at="2026-11-25T11:00:00Z")
        accounts.add_key(current, second)

        assert [k.id for k in accounts.all_keys(made.id)] == [second.id, first.id]
        assert [k.id for k in api_keys.list_for_user(made.id, 10, None).items] == [second.id, first.id]

    def test_list_keys_pages_newest_first_and_only_under_the_accounts_tenant(self, repos):
        accounts, _ = repos
        made = account(f"tn_{uid()}")
        accounts.add(made, None)
        made_keys = []
        for n in range(3):
            current = accounts.get(made.tenant_id, made.id)
            made_keys.append(key(made.id, created_at=f"2026-11-25T10:00:0{n}Z"))
            accounts.add_key(current, made_keys[-1])

        first = accounts.list_keys(made.tenant_id, made.id, 2, None)
        rest = accounts.list_keys(made.tenant_id, made.id, 2, first.next_cursor)

        assert [k.id for k in first.items + rest.items] == [k.id for k in reversed(made_keys)]
        assert first.next_cursor and rest.next_cursor is None
        assert accounts.list_keys(f"tn_{uid()}", made.id, 10, None).items == []

    def test_expiring_keys_are_found_by_day_and_notified_once(self, repos):
        accounts, api_keys = repos
        made = account(f"tn_{uid()}")
        accounts.add(made, None)
        expiring, revoked = key(made.id, expires_at=EXPIRY), key(made.id, expires_at=EXPIRY)
        accounts.add_key(made, expiring)
        accounts.add_key(accounts.get(made.tenant_id, made.id), revoked)
        api_keys.revoke(made.id, revoked.id, "2026-11-25T11:00:00Z")

        found = [e for e in accounts.expiring_keys([EXPIRY_DAY]) if e.service_account_id == made.id]

        assert [(e.key.id, e.tenant_id, e.service_account_name) for e in found] == [(expiring.id, made.tenant_id, "ci")]
        assert accounts.claim_expiry_notice(expiring.id, "2026-11-25T12:00:00Z") is True
        assert accounts.claim_expiry_notice(expiring.id, "2026-11-25T12:00:01Z") is False
        assert [e for e in accounts.expiring_keys([EXPIRY_DAY]) if e.service_account_id == made.id] == []
        accounts.release_expiry_notice(expiring.id)
        assert accounts.claim_expiry_notice(expiring.id, "2026-11-25T13:00:00Z") is True


class TestServiceAccountRepositoryOnFake(ServiceAccountRepositoryContract):
    @pytest.fixture
    def repos(self) -> tuple[Any, Any]:
        keys = FakeApiKeyRepository()
        return FakeServiceAccountRepository(keys), keys


class TestServiceAccountRepositoryOnDynamo(ServiceAccountRepositoryContract):
    @pytest.fixture
    def repos(self, request: pytest.FixtureRequest) -> tuple[Any, Any]:
        request.getfixturevalue("aws")
        from mamba import bootstrap

        return bootstrap.service_account_repository(), bootstrap.api_key_repository()
