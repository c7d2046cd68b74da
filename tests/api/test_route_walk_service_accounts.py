"""Every guarded route, walked with service accounts' keys (issue 17 item 3): scopes, servers,
IPs, expiry, revocation and tenant isolation, each proven on every route it applies to.

The walk reuses tests/api/test_route_security.py's world and route classes (so a route added
later is covered with no edit here), and adds, in tenant A, service accounts whose bindings
hold every tenant permission, with keys that each differ from a full key in one way:

* a key scoped to one other permission → 403 on every tenant route;
* a key of tenant B's service account → 404 on every tenant A route;
* a revoked key, and an expired one → 401 on every guarded route;
* a key whose networks exclude the caller → 403 ``ip_not_allowed`` on every guarded route;
* a key limited to another server, and an account bound to another server → 403 on every
  server route;
* an account whose binding expired → 404 on every tenant route;
* a full key on any account or admin route → 403 (a service account has no account of its own).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mamba.domain import permissions as perms
from tests.api.test_route_security import (
    ACCOUNT,
    ADMIN,
    OTHER_SERVER,
    SERVER,
    T0,
    TENANT,
    TENANT_A,
    TENANT_B,
    Api,
    _params,
    build_world,
)


@dataclass
class Keys:
    """The walk's service-account keys, by label (see the module docstring)."""

    plain: dict[str, str] = field(default_factory=dict)

    def headers(self, label: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.plain[label]}"}


def _account(tenant_id: str, account_id: str, *, server_id: str | None = None, expires_at: int | None = None) -> Any:
    """A service account bound to a custom role that holds every tenant permission, written
    directly (the API never binds a service account beyond its creator, nor an expired one)."""
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.service_accounts import ServiceAccountItem
    from mamba.domain.service_accounts import ServiceAccount

    account = ServiceAccount(
        id=account_id,
        tenant_id=tenant_id,
        name=account_id,
        role="rl_walk_all",
        created_at=T0,
        created_by="usr_alice",
        permissions=frozenset(perms.TENANT_PERMISSIONS),
        server_id=server_id,
        expires_at=expires_at,
    )
    ServiceAccountItem(
        *keys.service_account(tenant_id, account_id),
        kind="service_account",
        service_account_id=account_id,
        tenant_id=tenant_id,
        name=account_id,
        role=account.role,
        permissions=sorted(perms.TENANT_PERMISSIONS),
        server_id=server_id,
        expires_at=expires_at,
        created_at=T0,
        created_by="usr_alice",
        keys_version=0,
    ).save()
    return account


def _key(
    account: Any,
    *,
    scopes: list[str] | None = None,
    server_ids: tuple[str, ...] = (),
    allowed_ips: tuple[str, ...] = (),
    expires_at: int | None = None,
) -> tuple[str, str]:
    """(key id, whole key) of a new key of ``account``, stored as the product stores it."""
    from mamba import bootstrap
    from mamba.auth import api_keys as key_format
    from mamba.domain.api_keys import ApiKey
    from mamba.domain.clock import new_id

    secret = key_format.new_secret()
    key = ApiKey(
        id=new_id("key"),
        user_id=account.id,
        name="walk",
        scopes=tuple(sorted(scopes if scopes is not None else perms.TENANT_PERMISSIONS)),
        created_at=T0,
        secret_hash=key_format.hash_secret(secret),
        hint=secret[-4:],
        server_ids=server_ids,
        allowed_ips=allowed_ips,
        expires_at=expires_at,
    )
    repo = bootstrap.service_account_repository()
    stored = repo.get(account.tenant_id, account.id)  # the current keys_version
    repo.add_key(stored, key)
    return key.id, key_format.format_key(account.id, key.id, secret)


def _build_keys() -> Keys:
    from mamba.adapters.dynamo.api_keys import DynamoApiKeyRepository

    found = Keys()
    # Each account holds at most two keys, as the product allows.
    main = _account(TENANT_A, "sa_walk_main")
    found.plain["full"] = _key(main)[1]
    found.plain["narrow_tenant"] = _key(main, scopes=["tenant.read"])[1]
    narrow = _account(TENANT_A, "sa_walk_narrow")
    found.plain["narrow_servers"] = _key(narrow, scopes=["servers.read"])[1]
    other_tenant = _account(TENANT_B, "sa_walk_b")
    found.plain["other_tenant"] = _key(other_tenant)[1]
    ended = _account(TENANT_A, "sa_walk_ended")
    revoked_id, found.plain["revoked"] = _key(ended)
    DynamoApiKeyRepository().revoke("sa_walk_ended", revoked_id, "2026-11-26T10:00:00Z")
    found.plain["expired"] = _key(ended, expires_at=int(time.time()) + 2)[1]
    fenced = _account(TENANT_A, "sa_walk_fenced")
    found.plain["ip_fenced"] = _key(fenced, allowed_ips=("203.0.113.0/24",))[1]
    found.plain["other_server_key"] = _key(fenced, server_ids=(OTHER_SERVER,))[1]
    scoped = _account(TENANT_A, "sa_walk_scoped", server_id=OTHER_SERVER)
    found.plain["other_server_binding"] = _key(scoped)[1]
    lapsed = _account(TENANT_A, "sa_walk_lapsed", expires_at=int(time.time()) + 2)
    found.plain["lapsed_binding"] = _key(lapsed)[1]
    time.sleep(2.1)  # the expired key's and the lapsed binding's end passes (expiry is checked against the clock)
    return found


@dataclass
class Walk:
    api: Api
    keys: Keys


@pytest.fixture(scope="module")
def walk() -> Iterator[Walk]:
    from tests.support import app_on_moto

    with app_on_moto() as client:
        api = Api(client, build_world(client))
        yield Walk(api, _build_keys())


@pytest.fixture
def billing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from mamba import web

    monkeypatch.setattr(web, "_check_billing_enabled", lambda: None)


def _error(response: Any) -> dict[str, Any]:
    body = response.json_body
    assert isinstance(body, dict) and "error" in body, (response.status_code, response.body[:300])
    return dict(body["error"])


@pytest.mark.parametrize("spec", _params(TENANT))
def test_tenant_route_is_403_when_the_service_account_key_lacks_the_scope(walk, billing_on, spec):
    key = "narrow_servers" if spec.permission == "tenant.read" else "narrow_tenant"

    response = walk.api.call(spec, walk.keys.headers(key))

    assert response.status_code == 403, (response.status_code, response.body[:300])
    assert _error(response)["details"]["permission"] == spec.permission


@pytest.mark.parametrize("spec", _params(TENANT))
def test_tenant_route_is_404_for_a_service_account_of_another_tenant(walk, billing_on, spec):
    response = walk.api.call(spec, walk.keys.headers("other_tenant"))

    assert response.status_code == 404, (response.status_code, response.body[:300])
    assert _error(response)["code"] == "NOT_FOUND"


@pytest.mark.parametrize("spec", _params(TENANT))
def test_tenant_route_is_404_when_the_service_accounts_binding_has_expired(walk, billing_on, spec):
    response = walk.api.call(spec, walk.keys.headers("lapsed_binding"))

    assert response.status_code == 404, (response.status_code, response.body[:300])


@pytest.mark.parametrize("label", ["revoked", "expired"])
@pytest.mark.parametrize("spec", _params(TENANT + ACCOUNT + ADMIN))
def test_guarded_route_is_401_for_a_revoked_or_expired_service_account_key(walk, billing_on, spec, label):
    response = walk.api.call(spec, walk.keys.headers(label))

    assert response.status_code == 401, (response.status_code, response.body[:300])
    assert _error(response)["details"]["reason"] == label


@pytest.mark.parametrize("spec", _params(TENANT + ACCOUNT + ADMIN))
def test_guarded_route_is_403_when_the_caller_is_outside_the_keys_networks(walk, billing_on, spec):
    response = walk.api.call(spec, walk.keys.headers("ip_fenced"))

    assert response.status_code == 403, (response.status_code, response.body[:300])
    assert _error(response)["details"]["reason"] == "ip_not_allowed"


@pytest.mark.parametrize("label", ["other_server_key", "other_server_binding"])
@pytest.mark.parametrize("spec", _params(SERVER))
def test_server_route_is_403_when_the_key_or_the_binding_is_limited_to_another_server(walk, billing_on, spec, label):
    response = walk.api.call(spec, walk.keys.headers(label))

    assert response.status_code == 403, (response.status_code, response.body[:300])


@pytest.mark.parametrize("spec", _params(ACCOUNT + ADMIN))
def test_account_and_admin_routes_are_403_for_a_service_account(walk, billing_on, spec):
    response = walk.api.call(spec, walk.keys.headers("full"))

    assert response.status_code == 403, (response.status_code, response.body[:300])
    assert _error(response)["details"]["reason"] == "service_account"


def test_full_key_passes_the_guard_on_a_tenant_read(walk):
    # The other checks are refusals; this one proves the keys above differ from a working one
    # in exactly the way each test names.
    response = walk.api.client.http.get(f"/v1/tenants/{TENANT_A}", headers=walk.keys.headers("full"))

    assert response.status_code == 200, (response.status_code, response.body[:300])
