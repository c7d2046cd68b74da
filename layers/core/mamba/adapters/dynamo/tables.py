"""The one source of table definitions.

Infra (``infra/build.py``), the local stack (``local/``) and the tests all create tables
from ``TABLES``; the pynamodb items in ``items.py`` use the same attribute names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str


@dataclass(frozen=True)
class TableDef:
    logical_id: str  # the CloudFormation resource name
    env_var: str  # the variable that carries the physical name to the functions
    default_name: str  # the physical name in local mode and tests
    hash_key: str
    range_key: str | None = None
    indexes: tuple[Index, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None
    # Point-in-time recovery: on for records; off for the metrics history, which is
    # recomputed from nothing and would double its storage cost to keep.
    point_in_time_recovery: bool = True

    def attribute_names(self) -> list[str]:
        names = [self.hash_key] + ([self.range_key] if self.range_key else [])
        for index in self.indexes:
            names += [index.hash_key, index.range_key]
        return list(dict.fromkeys(names))

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key:
            schema.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        return schema

    def create_table_kwargs(self, name: str) -> dict[str, Any]:
        """Arguments for boto3 ``create_table`` (local stack and tests)."""
        kwargs: dict[str, Any] = {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in self.attribute_names()],
            "KeySchema": self.key_schema(),
        }
        if self.indexes:
            kwargs["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": i.name,
                    "KeySchema": [
                        {"AttributeName": i.hash_key, "KeyType": "HASH"},
                        {"AttributeName": i.range_key, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for i in self.indexes
            ]
        return kwargs

    def cfn_resource(self) -> dict[str, Any]:
        """The CloudFormation resource: on-demand, PITR, SSE with KMS, TTL where used."""
        props = {k: v for k, v in self.create_table_kwargs("").items() if k != "TableName"}
        props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": self.point_in_time_recovery}
        props["SSESpecification"] = {"SSEEnabled": True}
        if self.ttl_attribute:
            props["TimeToLiveSpecification"] = {"AttributeName": self.ttl_attribute, "Enabled": True}
        return {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": props,
        }


MAIN = TableDef(
    logical_id="MainTable",
    env_var="TABLE_MAIN",
    default_name="mamba-main",
    hash_key="pk",
    range_key="sk",
    indexes=(
        Index("gsi1", "gsi1pk", "gsi1sk"),
        Index("gsi2", "gsi2pk", "gsi2sk"),
        # gsi3: the admin listings that need a third key on items whose gsi1 and gsi2 are taken
        # (every server under ``SERVERS``: /v1/admin/servers).
        Index("gsi3", "gsi3pk", "gsi3sk"),
    ),
    ttl_attribute="ttl",
)

# Powertools idempotency's DynamoDB persistence layer: its default attribute names.
IDEMPOTENCY = TableDef(
    logical_id="IdempotencyTable",
    env_var="TABLE_IDEMPOTENCY",
    default_name="mamba-idempotency",
    hash_key="id",
    ttl_attribute="expiration",
)

# The metrics history (issue 13): node minute items and hourly rollups, each expiring by TTL
# (docs/metrics.md). A table of its own: its items are write-heavy, short-lived and binary,
# and need no index or backup.
METRICS = TableDef(
    logical_id="MetricsTable",
    env_var="TABLE_METRICS",
    default_name="mamba-metrics",
    hash_key="pk",
    range_key="sk",
    ttl_attribute="ttl",
    point_in_time_recovery=False,
)

TABLES: tuple[TableDef, ...] = (MAIN, IDEMPOTENCY, METRICS)
