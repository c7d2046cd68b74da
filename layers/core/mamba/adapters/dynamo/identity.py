"""Identity reads the guard needs on every request, in one BatchGetItem, as domain records."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
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

PLAUSIBLE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
# A read's path parameter -> the items it names, kept for the repositories that read them (each
# ``get`` takes its item from mamba.adapters.dynamo.prefetch); a BatchGetItem holds 100 keys.
READ_AHEAD: dict[str, Callable[[str, str | None], list[tuple[str, str]]]] = {
    "server_id": lambda server_id, _tenant: [keys.server(server_id)],
    "node_id": lambda node_id, _tenant: [keys.node(node_id), keys.node_breaker(node_id), keys.node_health(node_id)],
    "user_id": lambda user_id, _tenant: [keys.user(user_id)],
    "service_account_id": lambda account_id, tenant: [keys.service_account(tenant, account_id)] if tenant else [],
    "blueprint_id": lambda blueprint_id, _tenant: [keys.blueprint(blueprint_id)],
}


class DynamoIdentityRepository:
    def load(
        self,
        user_id: str,
        tenant_id: str | None,
        key_id: str | None = None,
        *,
        read_ahead: Mapping[str, str] | None = None,
    ) -> AuthFacts:
        """``read_ahead``: the path parameters of a read (GET/HEAD). What they name joins the one
        BatchGetItem and is kept for the route's own reads (mamba.adapters.dynamo.prefetch): the
        caller's user and the path's tenant, and ``READ_AHEAD``'s items (a server, a node with its
        breaker and health, another account, a service account, a blueprint), each taken by its
        repository's ``get`` instead of reading it again."""
        # Only what could name an item: an id too long or odd for a key is left to the route's own
        # read (its 404), never a key DynamoDB would refuse for the whole batch.
        path = {name: value for name, value in (read_ahead or {}).items() if PLAUSIBLE_ID.match(value)}
        if is_service_account_id(user_id):
            return self._load_service_account(user_id, tenant_id, key_id, server_id=path.get("server_id"))
        wanted: dict[str, tuple[str, str]] = {"user": keys.user(user_id)}
        if tenant_id is not None:
            wanted["membership"] = keys.membership(tenant_id, user_id)
            wanted["tenant"] = keys.tenant(tenant_id)
        if key_id is not None:
            wanted["api_key"] = keys.api_key(key_id)
        if path.get("user_id") == user_id:
            del path["user_id"]  # the caller: read already
        ahead = [key for name, keys_of in READ_AHEAD.items() if name in path for key in keys_of(path[name], tenant_id)]
        wanted.update({f"ahead:{i}": key for i, key in enumerate(ahead)})
        found = self._batch_get(list(wanted.values()))
        if read_ahead is not None:  # a read: the caller's user and the path's tenant are kept too
            ahead.extend(wanted[name] for name in ("user", "tenant") if name in wanted)
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
