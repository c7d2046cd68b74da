"""The fleet overview's reads (F1-F3 in docs/data-model.md) and the counters they read (F4).

``read`` answers in at most three DynamoDB calls, never a Scan:

1. Query gsi1 ``NODES`` (every node profile; the fleet's nodes fit one 1 MB page by far);
2. one BatchGetItem of the ``STATS`` counters, the last reconcile run and each node's
   ``HEALTH`` (up to 96 nodes; more are reported with status ``unknown``);
3. Query gsi1 ``OPS`` for the last 24 hours, ``status = failed`` as a filter, ``Select=COUNT``.

The counters are whole-fleet sums, so ``refresh`` recomputes them from the records (the
tenants' and the nodes' indexes, then each node's servers) and writes them with one PutItem
each. It runs where reading widely is allowed: the reconcile schedule after each run, and
migration 0016 once for existing data. Reading a request's worth of the source records
would cost one Query per node; the counters cost one BatchGetItem for the whole fleet.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import MainItem
from mamba.domain.overview import FleetCounts, NodeFigure
from mamba.domain.servers import FAILED

BATCH_KEYS = 100  # BatchGetItem's limit
STATS_KINDS = ("TENANTS", "SERVERS", "NODELOAD")
COUNT = "c_"  # the prefix of a counter's attributes
UNAVAILABLE = "The fleet figures could not be read; try again."

_plain = TypeDeserializer()


def _value(item: dict[str, Any] | None, name: str) -> Any:
    raw = (item or {}).get(name)
    return _plain.deserialize(raw) if raw is not None else None


class DynamoFleetStats:
    def __init__(self, dynamodb: Any) -> None:
        self._db = dynamodb

    @property
    def _table(self) -> str:
        return str(MainItem.Meta.table_name)

    # --- the overview (request path: ≤ 3 calls) ---------------------------------------

    def read(self, since: str) -> FleetCounts:
        with translate(unavailable=UNAVAILABLE):
            nodes = self._db.query(
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p",
                ExpressionAttributeValues={":p": {"S": keys.ALL_NODES}},
            ).get("Items", [])
            fixed = [keys.stats(kind) for kind in STATS_KINDS] + [keys.LAST_RECONCILE]
            node_ids = [str(_value(n, "node_id")) for n in nodes]
            health_keys = [keys.node_health(nid) for nid in node_ids[: BATCH_KEYS - len(fixed)]]
            wanted = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in fixed + health_keys]
            found = self._db.batch_get_item(RequestItems={self._table: {"Keys": wanted}})
            failed = self._db.query(
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p AND gsi1sk >= :since",
                FilterExpression="#s = :failed",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":p": {"S": keys.ALL_OPERATIONS},
                    ":since": {"S": since},
                    ":failed": {"S": "failed"},
                },
                Select="COUNT",
            )
        # A throttled BatchGetItem may return some keys unprocessed: those figures read as
        # absent (zero/unknown) rather than costing a fourth call.
        items = {(_value(i, "pk"), _value(i, "sk")): i for i in found.get("Responses", {}).get(self._table, [])}
        load = _counts(items.get(keys.stats("NODELOAD")))
        figures = []
        for node in nodes:
            nid = str(_value(node, "node_id"))
            health = items.get(keys.node_health(nid))
            figures.append(
                NodeFigure(
                    node_id=nid,
                    name=str(_value(node, "name")),
                    status=str(_value(health, "status")) if health else "unknown",
                    memory_mb=int(_value(node, "memory_mb") or 0),
                    disk_mb=int(_value(node, "disk_mb") or 0),
                    committed_memory_mb=load.get(f"{nid}#memory_mb", 0),
                    committed_disk_mb=load.get(f"{nid}#disk_mb", 0),
                )
            )
        last = items.get(keys.LAST_RECONCILE)
        return FleetCounts(
            tenants_by_status=_counts(items.get(keys.stats("TENANTS"))),
            servers_by_status=_counts(items.get(keys.stats("SERVERS"))),
            nodes=figures,
            failed_operations_24h=int(failed.get("Count", 0)),
            last_reconcile=json.loads(str(_value(last, "summary"))) if last else None,
            counted_at=str(_value(items.get(keys.stats("SERVERS")), "counted_at") or "") or None,
        )

    # --- the counters (schedules and migrations only: reads every tenant and server) ----

    def refresh(self, now: str) -> None:
        tenants: Counter[str] = Counter()
        for item in self._query_all("gsi1", keys.ALL_TENANTS):
            tenants[str(_value(item, "status") or "active")] += 1
        servers: Counter[str] = Counter()
        load: Counter[str] = Counter()
        for node in self._query_all("gsi1", keys.ALL_NODES):
            nid = str(_value(node, "node_id"))
            for server in self._query_all("gsi1", keys.servers_of_node(nid)):
                status = str(_value(server, "status"))
                servers[status] += 1
                if status == FAILED:
                    # As placement counts it (adapters/dynamo/placement.py): a server whose
                    # provisioning failed holds no memory or disk, so its node is not fuller.
                    continue
                load[f"{nid}#memory_mb"] += int(_value(server, "memory_mb") or 0)
                load[f"{nid}#disk_mb"] += int(_value(server, "disk_mb") or 0)
        with translate(unavailable=UNAVAILABLE):
            for kind, counts in (("TENANTS", tenants), ("SERVERS", servers), ("NODELOAD", load)):
                pk, sk = keys.stats(kind)
                self._db.put_item(
                    TableName=self._table,
                    Item={
                        "pk": {"S": pk},
                        "sk": {"S": sk},
                        "kind": {"S": "stats"},
                        "counted_at": {"S": now},
                        # One number attribute per status (or node#resource): a write path can
                        # keep one up to date with ADD in its own transaction.
                        **{f"{COUNT}{name}": {"N": str(n)} for name, n in counts.items()},
                    },
                )

    def record_reconcile(self, summary: dict[str, object]) -> None:
        pk, sk = keys.LAST_RECONCILE
        with translate(unavailable=UNAVAILABLE):
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": pk},
                    "sk": {"S": sk},
                    "kind": {"S": "reconcile_run"},
                    "summary": {"S": json.dumps(summary)},
                },
            )

    def _query_all(self, index: str, partition: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        with translate(unavailable=UNAVAILABLE):
            while True:
                page = self._db.query(
                    TableName=self._table,
                    IndexName=index,
                    KeyConditionExpression=f"{index}pk = :p",
                    ExpressionAttributeValues={":p": {"S": partition}},
                    **({"ExclusiveStartKey": start} if start else {}),
                )
                out += page.get("Items", [])
                start = page.get("LastEvaluatedKey")
                if not start:
                    return out


def _counts(item: dict[str, Any] | None) -> dict[str, int]:
    if not item:
        return {}
    counts = {name[len(COUNT) :]: int(_plain.deserialize(v)) for name, v in item.items() if name.startswith(COUNT)}
    # A status that emptied reads as absent; a count below zero (a status change counted
    # before the first refresh of data older than the counters) as absent until the next one.
    return {name: n for name, n in counts.items() if n > 0}


FIRST_ERROR_TTL = 15 * 86400  # the dead-letter queue keeps a message 14 days


class DynamoDeadLetterErrors:
    """The first error of each failed Stripe event (``STRIPEEVT#<id>/FIRSTERROR``, F5): put
    once (``attribute_not_exists``), so later failures never overwrite it; TTL'd."""

    def __init__(self, dynamodb: Any) -> None:
        self._db = dynamodb

    def record_first(self, event_id: str, error: str, at: str, now_epoch: int) -> None:
        pk, sk = keys.stripe_event_first_error(event_id)
        with translate(on_condition=SKIP, unavailable=UNAVAILABLE):
            self._db.put_item(
                TableName=str(MainItem.Meta.table_name),
                Item={
                    "pk": {"S": pk},
                    "sk": {"S": sk},
                    "kind": {"S": "stripe_event_error"},
                    "error": {"S": error},
                    "at": {"S": at},
                    "ttl": {"N": str(now_epoch + FIRST_ERROR_TTL)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )

    def first_errors(self, event_ids: list[str]) -> dict[str, str]:
        wanted = [keys.stripe_event_first_error(e) for e in dict.fromkeys(event_ids)]
        table = str(MainItem.Meta.table_name)
        found: dict[str, str] = {}
        with translate(unavailable=UNAVAILABLE):
            for start in range(0, len(wanted), BATCH_KEYS):
                keys_ = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in wanted[start : start + BATCH_KEYS]]
                answer = self._db.batch_get_item(RequestItems={table: {"Keys": keys_}})
                for item in answer.get("Responses", {}).get(table, []):
                    found[str(_value(item, "pk")).removeprefix("STRIPEEVT#")] = str(_value(item, "error"))
        return found
