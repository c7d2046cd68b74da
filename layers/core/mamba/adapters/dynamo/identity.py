"""Identity reads the guard needs on every request, in one BatchGetItem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import MainItem, MembershipItem, TenantItem, UserItem


@dataclass(frozen=True)
class AuthFacts:
    user: UserItem | None
    membership: MembershipItem | None = None
    tenant: TenantItem | None = None
    api_key: Any = None  # the API key item (mamba.adapters.dynamo.items.ApiKeyItem) or None


class DynamoIdentityRepository:
    def load(self, user_id: str, tenant_id: str | None, key_id: str | None = None) -> AuthFacts:
        wanted: dict[str, tuple[str, str]] = {"user": keys.user(user_id)}
        if tenant_id is not None:
            wanted["membership"] = keys.membership(tenant_id, user_id)
            wanted["tenant"] = keys.tenant(tenant_id)
        if key_id is not None:
            wanted["api_key"] = keys.api_key(key_id)
        found = self._batch_get(list(wanted.values()))
        from mamba.adapters.dynamo import items

        classes: dict[str, Any] = {
            "user": UserItem,
            "membership": MembershipItem,
            "tenant": TenantItem,
            "api_key": getattr(items, "ApiKeyItem", MainItem),
        }
        loaded = {
            name: classes[name].from_raw_data(found[key]) if key in found else None for name, key in wanted.items()
        }
        return AuthFacts(**loaded)

    @staticmethod
    def _batch_get(wanted: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        table = MainItem.Meta.table_name
        client = MainItem._get_connection().connection.client
        request: dict[str, Any] = {
            table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in wanted], "ConsistentRead": True}
        }
        found: dict[tuple[str, str], dict[str, Any]] = {}
        # Unprocessed keys are retried; a throttled read must never look like "not a member".
        for _attempt in range(3):
            raw: dict[str, Any] = client.batch_get_item(RequestItems=request)
            for item in raw.get("Responses", {}).get(table, []):
                found[(item["pk"]["S"], item["sk"]["S"])] = item
            request = raw.get("UnprocessedKeys") or {}
            if not request:
                return found
        from mamba.domain.errors import DependencyUnavailableError

        raise DependencyUnavailableError("The identity store is busy; try again.")
