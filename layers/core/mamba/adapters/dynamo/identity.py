"""Identity reads the guard needs on every request, in one BatchGetItem, as domain records."""

from __future__ import annotations

from typing import Any

from mamba.adapters.dynamo import keys, prefetch
from mamba.adapters.dynamo.api_keys import api_key_record
from mamba.adapters.dynamo.errors import translate
from mamba.adapters.dynamo.items import ApiKeyItem, MainItem, MembershipItem, TenantItem, UserItem
from mamba.adapters.dynamo.tenants import membership_record, tenant_record
from mamba.adapters.dynamo.users import user_record
from mamba.domain.accounts import AuthFacts
from mamba.domain.errors import DependencyUnavailableError
from mamba.domain.service_accounts import is_service_account_id


class DynamoIdentityRepository:
    def load(
        self,
        user_id: str,
        tenant_id: str | None,
        key_id: str | None = None,
        *,
        server_id: str | None = None,
        node_id: str | None = None,
        keep_user: bool = False,
        other_user_id: str | None = None,
        service_account_id: str | None = None,
    ) -> AuthFacts:
        """``server_id``: a read of one server's resource; its item joins the batch and is kept for
        ``DynamoServerRepository.get`` (mamba.adapters.dynamo.prefetch). ``node_id``: a read of one
        node's resource; the node, its breaker and its health item join it, kept for
        ``DynamoNodeRepository.get``, the Wings client's breaker and ``DynamoNodeHealthStore``.
        ``keep_user``: a read; the caller's user item is kept for ``DynamoUserRepository.get``
        (a page of the caller's own sessions reads it again otherwise); ``other_user_id``: a read
        of another account (an admin's user page), whose item joins the batch and is kept too;
        ``service_account_id``: a read of one of the tenant's service accounts, the same way."""
        if is_service_account_id(user_id):
            return self._load_service_account(user_id, tenant_id, key_id, server_id=server_id)
        wanted: dict[str, tuple[str, str]] = {"user": keys.user(user_id)}
        if tenant_id is not None:
            wanted["membership"] = keys.membership(tenant_id, user_id)
            wanted["tenant"] = keys.tenant(tenant_id)
        if key_id is not None:
            wanted["api_key"] = keys.api_key(key_id)
        if server_id is not None:
            wanted["server"] = keys.server(server_id)
        if other_user_id is not None:
            wanted["other_user"] = keys.user(other_user_id)
        if service_account_id is not None and tenant_id is not None:
            wanted["service_account"] = keys.service_account(tenant_id, service_account_id)
        if node_id is not None:
            wanted.update(node=keys.node(node_id), breaker=keys.node_breaker(node_id), health=keys.node_health(node_id))
        found = self._batch_get(list(wanted.values()))
        ahead = [
            wanted[name]
            for name in ("server", "node", "breaker", "health", "other_user", "service_account")
            if name in wanted
        ]
        if keep_user:  # a read: the caller's user and the path's tenant, for the route's own reads
            ahead.extend(wanted[name] for name in ("user", "tenant") if name in wanted)
        if ahead:
            prefetch.keep({key: found.get(key) for key in ahead})

        def raw(name: str) -> dict[str, Any] | None:
            key = wanted.get(name)
            return found.get(key) if key is not None else None

        user, membership, tenant, api_key = raw("user"), raw("membership"), raw("tenant"), raw("api_key")
        return AuthFacts(
            user=user_record(UserItem.from_raw_data(user)) if user is not None else None,
            membership=membership_record(MembershipItem.from_raw_data(membership)) if membership is not None else None,
            tenant=tenant_record(TenantItem.from_raw_data(tenant)) if tenant is not None else None,
            api_key=api_key_record(ApiKeyItem.from_raw_data(api_key)) if api_key is not None else None,
        )

    def _load_service_account(
        self, account_id: str, tenant_id: str | None, key_id: str | None, *, server_id: str | None
    ) -> AuthFacts:
        """A service account's key: the account under the path's tenant (its binding), the
        tenant and the key, in the same one BatchGetItem. No user item exists for it."""
        from mamba.adapters.dynamo.service_accounts import service_account_from_raw

        wanted: dict[str, tuple[str, str]] = {}
        if key_id is not None:
            wanted["api_key"] = keys.api_key(key_id)
        if tenant_id is not None:
            wanted["service_account"] = keys.service_account(tenant_id, account_id)
            wanted["tenant"] = keys.tenant(tenant_id)
        if server_id is not None:
            wanted["server"] = keys.server(server_id)
        found = self._batch_get(list(wanted.values())) if wanted else {}
        if server_id is not None:
            prefetch.keep({wanted["server"]: found.get(wanted["server"])})

        def raw(name: str) -> dict[str, Any] | None:
            key = wanted.get(name)
            return found.get(key) if key is not None else None

        account, tenant, api_key = raw("service_account"), raw("tenant"), raw("api_key")
        return AuthFacts(
            user=None,
            tenant=tenant_record(TenantItem.from_raw_data(tenant)) if tenant is not None else None,
            api_key=api_key_record(ApiKeyItem.from_raw_data(api_key)) if api_key is not None else None,
            service_account=service_account_from_raw(account) if account is not None else None,
        )

    @staticmethod
    def _batch_get(wanted: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        return batch_get(wanted)


def batch_get(wanted: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Consistent BatchGetItem of main-table keys: the raw items found, by key."""
    table = MainItem.Meta.table_name
    client = MainItem._get_connection().connection.client
    request: dict[str, Any] = {
        table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in wanted], "ConsistentRead": True}
    }
    found: dict[tuple[str, str], dict[str, Any]] = {}
    # Unprocessed keys are retried; a throttled read must never look like "not a member".
    for _attempt in range(3):
        # Throttling or an unreachable table is a 503, never a 500 or an empty identity.
        with translate():
            raw: dict[str, Any] = client.batch_get_item(RequestItems=request)
        for item in raw.get("Responses", {}).get(table, []):
            found[(item["pk"]["S"], item["sk"]["S"])] = item
        request = raw.get("UnprocessedKeys") or {}
        if not request:
            return found
    raise DependencyUnavailableError("The identity store is busy; try again.")
