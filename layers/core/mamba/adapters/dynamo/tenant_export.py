"""Every record of one tenant, for its export (``mamba.services.tenant_export``), never with a Scan.

Three Queries, each followed to its last page: the tenant's partition ``TENANT#<tid>``
(profile, members, invitations, roles, operations, usage, credits, notices, audit entries),
gsi2 ``TENANTSERVERS#<tid>`` (its servers) and gsi2 ``TENANTBACKUPS#<tid>`` (its backups).
Records are grouped by their ``kind`` (the sort key's prefix for the few that carry none).
What must never leave the panel is dropped here, by attribute name: password, key and
token hashes, TOTP and other secrets, tokens; and the table's own keys.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import translate
from mamba.adapters.dynamo.items import MainItem

_KEYS = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"})
_SECRET_WORDS = ("hash", "secret", "token", "password")
_deserializer = TypeDeserializer()


def is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _plain(value: Any) -> Any:
    """DynamoDB's types as JSON's: numbers as int or float, sets as sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return None
    return value


def export_record(raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(kind, the record without keys and secrets) of one raw DynamoDB item."""
    item = {name: _deserializer.deserialize(value) for name, value in raw.items()}
    kind = str(item.get("kind") or str(item.get("sk", "record")).split("#", 1)[0].lower())
    clean = {name: _plain(value) for name, value in item.items() if name not in _KEYS and not is_secret(name)}
    clean.pop("kind", None)
    return kind, clean


class DynamoTenantRecords:
    def records(self, tenant_id: str) -> dict[str, list[dict[str, Any]]]:
        client = MainItem._get_connection().connection.client
        table = MainItem.Meta.table_name
        queries: list[dict[str, Any]] = [
            {
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": keys.tenant_partition(tenant_id)}},
            },
            {
                "IndexName": "gsi2",
                "KeyConditionExpression": "gsi2pk = :p",
                "ExpressionAttributeValues": {":p": {"S": keys.servers_of_tenant(tenant_id)}},
            },
            {
                "IndexName": "gsi2",
                "KeyConditionExpression": "gsi2pk = :p",
                "ExpressionAttributeValues": {":p": {"S": keys.backups_of_tenant(tenant_id)}},
            },
        ]
        found: dict[str, list[dict[str, Any]]] = {}
        with translate(unavailable="The tenant's records could not be read; try again."):
            for query in queries:
                for page in client.get_paginator("query").paginate(TableName=table, **query):
                    for raw in page.get("Items", []):
                        kind, record = export_record(raw)
                        found.setdefault(kind, []).append(record)
        return found
