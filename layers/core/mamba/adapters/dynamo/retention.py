"""A tenant's own records, for the retention job and account deletion (R1-R3 in docs/data-model.md).

Everything a tenant owns lives in its partition ``TENANT#<tid>`` (profile, members, invitations,
roles and their name claims, operations, usage, billing notices, the server guard, the backup
counter, the audit log and the credit ledger), so its deletion is a Query of that partition,
never a Scan. Servers, backups and their records are not in it: the ``delete_server`` workflow
removes those first (``mamba.services.retention``).

``purge`` deletes in two steps, so a run cut short is finished by the next one:

1. every record but the kept ones and the profile, in BatchWriteItem calls of 25, a Query page
   at a time, up to a budget per call (a tenant with years of hourly usage rows takes a few);
2. one transaction: delete the profile (on ``attribute_exists``), put the tombstone, take the
   tenant off the fleet overview's ``STATS/TENANTS`` count, and delete the Stripe customer's
   link to the tenant (a late webhook for that customer is then "a customer of no tenant").

The profile goes last because it carries the ``DUNNING`` index entry that brings the tenant
back to the retention job: while it exists, the job comes back and finishes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import MainItem
from mamba.domain.retention import Purged

BATCH = 25  # BatchWriteItem's limit
UNAVAILABLE = "The tenant's records could not be deleted; the job tries again."
OPEN_STATUSES = ("pending", "running")

_plain = TypeDeserializer()


def _text(item: dict[str, Any], name: str) -> str | None:
    raw = item.get(name)
    return str(_plain.deserialize(raw)) if raw is not None else None


def _kind(sk: str) -> str:
    """A record's kind for the counts: its sort key's prefix (``MEMBER#u`` → ``member``)."""
    return sk.split("#", 1)[0].lower()


class DynamoTenantData:
    def __init__(self, dynamodb: Any) -> None:
        self._db = dynamodb

    @property
    def _table(self) -> str:
        return str(MainItem.Meta.table_name)

    def open_operations(self, tenant_id: str, since: str) -> int:
        with translate(unavailable=UNAVAILABLE):
            answer = self._db.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :op)",
                FilterExpression="#s IN (:pending, :running) AND created_at >= :since",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":pk": {"S": keys.tenant_partition(tenant_id)},
                    ":op": {"S": "OP#"},
                    ":pending": {"S": OPEN_STATUSES[0]},
                    ":running": {"S": OPEN_STATUSES[1]},
                    ":since": {"S": since},
                },
                Select="COUNT",
                ConsistentRead=True,
            )
        return int(answer.get("Count", 0))

    def _pages(self, tenant_id: str) -> Iterator[list[dict[str, Any]]]:
        """The tenant's records, a Query page (1 MB) at a time: keys and what the last step needs."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": keys.tenant_partition(tenant_id)}},
            "ProjectionExpression": "pk, sk, #s, #n, stripe_customer_id, created_at",
            "ExpressionAttributeNames": {"#s": "status", "#n": "name"},
            "ConsistentRead": True,
        }
        while True:
            with translate(unavailable=UNAVAILABLE):
                page = self._db.query(**request)
            yield list(page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _delete_batch(self, batch: list[dict[str, Any]]) -> None:
        """Delete up to 25 records; what DynamoDB leaves unprocessed (throttling) is sent again."""
        requests = [{"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}} for item in batch]
        for attempt in range(5):
            with translate(unavailable=UNAVAILABLE):
                answer = self._db.batch_write_item(RequestItems={self._table: requests})
            requests = answer.get("UnprocessedItems", {}).get(self._table, [])
            if not requests:
                return
            time.sleep(0.1 * 2**attempt)
        from mamba.domain.errors import DependencyUnavailableError

        raise DependencyUnavailableError(UNAVAILABLE, {"unprocessed": len(requests)})

    def purge(self, tenant_id: str, deleted_at: str, budget: int) -> Purged:
        removed: Counter[str] = Counter()
        profile: dict[str, Any] | None = None
        for page in self._pages(tenant_id):
            doomed: list[dict[str, Any]] = []
            for item in page:
                sk = str(_text(item, "sk"))
                if sk == "PROFILE":
                    profile = item
                elif not sk.startswith(keys.KEPT_TENANT_PREFIXES):
                    doomed.append(item)
            for start in range(0, len(doomed), BATCH):
                self._delete_batch(doomed[start : start + BATCH])
            removed.update(_kind(str(_text(i, "sk"))) for i in doomed)
            if sum(removed.values()) >= budget:
                return Purged(dict(removed), finished=False)  # the next call goes on from here
        if profile is not None and self._remove_profile(tenant_id, profile, deleted_at):
            removed["profile"] += 1
        return Purged(dict(removed), finished=True)

    def _remove_profile(self, tenant_id: str, profile: dict[str, Any], deleted_at: str) -> bool:
        status = _text(profile, "status") or "active"
        customer = _text(profile, "stripe_customer_id")
        pk, sk = keys.tenant(tenant_id)
        tomb_pk, tomb_sk = keys.tenant_tombstone(tenant_id)
        stats_pk, stats_sk = keys.stats("TENANTS")
        tombstone: dict[str, Any] = {
            "pk": {"S": tomb_pk},
            "sk": {"S": tomb_sk},
            "kind": {"S": "tenant_deleted"},
            "tenant_id": {"S": tenant_id},
            "deleted_at": {"S": deleted_at},
        }
        for name in ("name", "created_at"):
            if _text(profile, name) is not None:
                tombstone[name] = {"S": str(_text(profile, name))}
        if customer:
            tombstone["stripe_customer_id"] = {"S": customer}
        writes: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {"Put": {"TableName": self._table, "Item": tombstone}},
            {
                # Counted on write (F6): the tenant leaves the count of its status.
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": stats_pk}, "sk": {"S": stats_sk}},
                    "UpdateExpression": "ADD #c :minus",
                    "ExpressionAttributeNames": {"#c": f"c_{'suspended' if status == 'suspended' else 'active'}"},
                    "ExpressionAttributeValues": {":minus": {"N": "-1"}},
                }
            },
        ]
        if customer:
            cus_pk, cus_sk = keys.stripe_customer(customer)
            writes.append(
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": {"pk": {"S": cus_pk}, "sk": {"S": cus_sk}},
                        "ConditionExpression": "attribute_not_exists(pk) OR tenant_id = :t",
                        "ExpressionAttributeValues": {":t": {"S": tenant_id}},
                    }
                }
            )
        # A failed condition: the profile went meanwhile (another run finished first).
        with translate(on_condition=SKIP, unavailable=UNAVAILABLE) as outcome:
            self._db.transact_write_items(TransactItems=writes)
        return not outcome.condition_failed
