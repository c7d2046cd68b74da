"""Identity reads the guard needs on every request."""

from __future__ import annotations

from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import MainItem, MembershipItem, UserItem


class DynamoIdentityRepository:
    def user_and_membership(self, user_id: str, tenant_id: str | None) -> tuple[UserItem | None, MembershipItem | None]:
        """The user and (optionally) their membership of ``tenant_id``, in one BatchGetItem."""
        wanted = [keys.user(user_id)]
        if tenant_id is not None:
            wanted.append(keys.membership(tenant_id, user_id))
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
                break
        user_raw = found.get(keys.user(user_id))
        user = UserItem.from_raw_data(user_raw) if user_raw else None
        membership = None
        if tenant_id is not None:
            member_raw = found.get(keys.membership(tenant_id, user_id))
            membership = MembershipItem.from_raw_data(member_raw) if member_raw else None
        return user, membership
