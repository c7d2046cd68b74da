"""Metrics history (the metrics table) and a server's event history (the main table).

The metrics table (``MetricsTable``, TTL attribute ``ttl``; docs/data-model.md M1-M5):

* ``NODE#<node_id>`` / ``m#<minute>``: every server of the node at one minute, written by the
  reconcile schedule with **one PutItem per node per minute** (``d``: zlib of
  ``{uuid: [cpu, memory, limit, rx, tx, disk, uptime, state]}``), kept 48 h.
* ``SERVER#<uuid>`` and ``NODE#<node_id>`` / ``r#<hour>``: one hour's rollup of a server (or
  of the node's totals), **one item per server per hour**: its twelve 5-minute points (``p5``)
  and its hourly point (``h``), kept 30 days. The rollup of a day's last hour also carries the
  day's 24 hourly points (``p1``) and is kept 13 months: the hourly series outlives the
  5-minute one without a second write per server.
* ``NODE#<node_id>`` / ``rolled``: the last hour rolled up for the node (so a missed run is
  caught up from the minute items, which outlive it by two days).

Items are binary and compressed because a Query page is 1 MB of *stored* data: a server's
hourly series for 13 months and its 5-minute series for 30 days each fit one page, and
500 node minutes fit three for nodes of up to about 150 servers (docs/metrics.md).

The main table holds what belongs to the server's record and goes with it on delete:
``SERVER#<uuid>`` / ``EVENT#<epoch>#<id>`` (the event history, kept 90 days) and
``SERVER#<uuid>`` / ``POWER`` (the last power action the panel sent).
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable
from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import translate
from mamba.adapters.dynamo.pagination import CursorCodec
from mamba.domain.errors import DependencyUnavailableError
from mamba.domain.metrics import DAY, HOUR, RETENTION, Point, Sample, ServerEvent
from mamba.domain.pages import Page, PageRequest
from mamba.observability import logger

BATCH_WRITE = 25  # BatchWriteItem's limit
UNPROCESSED_TRIES = 5
MAX_PAGES = 3  # the page budget of one metrics query (issue 13)
EVENT_TTL = 90 * DAY
UNAVAILABLE = "The metrics could not be read or written; try again."


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 6)


def _unpack(raw: Any) -> Any:
    data = raw.get("B") if isinstance(raw, dict) else raw
    return json.loads(zlib.decompress(data)) if data else None


node_key = keys.metrics_node
server_key = keys.metrics_server
_minute_sk = keys.metrics_minute
_rollup_sk = keys.metrics_rollup
ROLLED_SK = keys.METRICS_ROLLED


class PageCounter:
    """How many Query pages the store read (the tests check the budget against it)."""

    def __init__(self) -> None:
        self.pages = 0


class DynamoMetricsStore:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self._table = table
        self.counter = PageCounter()

    # --- writes (the reconcile schedule) ----------------------------------------------

    def put_minute(self, node_id: str, t: int, samples: dict[str, Sample]) -> None:
        """The node's minute: one PutItem for all its servers (a repeat overwrites it)."""
        with translate(unavailable=UNAVAILABLE):
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": node_key(node_id)},
                    "sk": {"S": _minute_sk(t)},
                    "d": {"B": _pack({uuid: s.packed() for uuid, s in samples.items()})},
                    "ttl": {"N": str(t + RETENTION["1m"])},
                },
            )

    def put_rollups(self, rows: Iterable[tuple[str, int, list[Point], Point | None, list[Point] | None]]) -> int:
        """Write hour rollups, ``(partition, hour, five-minute points, hour point, the day's
        hourly points or None)``, in BatchWriteItems of 25; returns how many were written."""
        requests = []
        for partition, hour, five, hourly, day in rows:
            item: dict[str, Any] = {
                "pk": {"S": partition},
                "sk": {"S": _rollup_sk(hour)},
                "p5": {"B": _pack([p.packed() for p in five])},
                # The day's last hour carries the day's hourly points and lives 13 months.
                "ttl": {"N": str(hour + (RETENTION["1h"] if day is not None else RETENTION["5m"]))},
            }
            if hourly is not None:
                item["h"] = {"B": _pack(hourly.packed())}
            if day is not None:
                item["p1"] = {"B": _pack([p.packed() for p in day])}
            requests.append({"PutRequest": {"Item": item}})
        written = 0
        with translate(unavailable=UNAVAILABLE):
            for start in range(0, len(requests), BATCH_WRITE):
                pending: list[dict[str, Any]] = requests[start : start + BATCH_WRITE]
                for attempt in range(UNPROCESSED_TRIES):
                    if attempt:
                        time.sleep(0.05 * 2**attempt)  # throttled: back off before the rest
                    answer = self._db.batch_write_item(RequestItems={self._table: pending})
                    pending = (answer.get("UnprocessedItems") or {}).get(self._table) or []
                    if not pending:
                        break
                if pending:
                    # Not written: the caller must not mark the hour done, so the next run redoes it.
                    raise DependencyUnavailableError(UNAVAILABLE, {"unprocessed": len(pending)})
                written += min(BATCH_WRITE, len(requests) - start)
        return written

    def rolled_until(self, node_id: str) -> int | None:
        """The start of the last hour rolled up for the node, or None (never)."""
        with translate(unavailable=UNAVAILABLE):
            item = self._db.get_item(
                TableName=self._table, Key={"pk": {"S": node_key(node_id)}, "sk": {"S": ROLLED_SK}}
            ).get("Item")
        return int(item["hour"]["N"]) if item else None

    def set_rolled(self, node_id: str, hour: int) -> None:
        with translate(unavailable=UNAVAILABLE):
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": node_key(node_id)},
                    "sk": {"S": ROLLED_SK},
                    "hour": {"N": str(hour)},
                    "ttl": {"N": str(hour + RETENTION["1m"])},
                },
            )

    # --- reads -------------------------------------------------------------------------

    def _query(self, partition: str, low: str, high: str, max_pages: int) -> list[dict[str, Any]]:
        """Up to ``max_pages`` Query pages (the query's share of the budget), oldest first. The
        pages are read newest first, so a range that needs more is cut at its *oldest* end (a
        chart keeps its latest points) and logged: the budget holds whatever the data."""
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        with translate(unavailable=UNAVAILABLE):
            for _page in range(max_pages):
                answer = self._db.query(
                    TableName=self._table,
                    KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                    ExpressionAttributeValues={":p": {"S": partition}, ":a": {"S": low}, ":b": {"S": high}},
                    ScanIndexForward=False,
                    **({"ExclusiveStartKey": start} if start else {}),
                )
                self.counter.pages += 1
                items += answer.get("Items", [])
                start = answer.get("LastEvaluatedKey")
                if not start:
                    break
            else:
                logger.warning(
                    "metrics query cut at its page budget", extra={"partition": partition, "pages": max_pages}
                )
        items.reverse()
        return items

    def minutes(
        self, node_id: str, start: int, end: int, *, max_pages: int = MAX_PAGES
    ) -> list[tuple[int, dict[str, Sample]]]:
        """The node's minute items with ``start <= t < end``, oldest first."""
        out = []
        for item in self._query(node_key(node_id), _minute_sk(start), _minute_sk(end - 1), max_pages):
            t = int(item["sk"]["S"][2:])
            samples = {uuid: Sample.unpacked(row) for uuid, row in (_unpack(item["d"]) or {}).items()}
            out.append((t, samples))
        return out

    def last_minute(self, node_id: str, before: int) -> tuple[int, dict[str, Sample]] | None:
        """The node's newest minute item before ``before`` (one Query of one item)."""
        with translate(unavailable=UNAVAILABLE):
            answer = self._db.query(
                TableName=self._table,
                KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={
                    ":p": {"S": node_key(node_id)},
                    ":a": {"S": _minute_sk(0)},
                    ":b": {"S": _minute_sk(before - 1)},
                },
                ScanIndexForward=False,
                Limit=1,
            )
        items = answer.get("Items", [])
        if not items:
            return None
        item = items[0]
        return int(item["sk"]["S"][2:]), {u: Sample.unpacked(r) for u, r in (_unpack(item["d"]) or {}).items()}

    def rollups(
        self, partition: str, start: int, end: int, *, max_pages: int = MAX_PAGES
    ) -> tuple[list[Point], list[Point]]:
        """(five-minute points, hourly points) of the rollups of hours in ``[start, end)``."""
        first = start - start % HOUR
        five: list[Point] = []
        hourly: dict[int, Point] = {}
        for item in self._query(partition, _rollup_sk(first), _rollup_sk(end - 1), max_pages):
            five += [Point.unpacked(row) for row in _unpack(item.get("p5")) or []]
            for row in _unpack(item.get("p1")) or []:
                point = Point.unpacked(row)
                hourly[point.t] = point
            if "h" in item:
                point = Point.unpacked(_unpack(item["h"]))
                hourly[point.t] = point
        return five, [hourly[t] for t in sorted(hourly)]


class DynamoServerEvents:
    """A server's event history and the last power action the panel sent it (main table)."""

    def __init__(self, dynamodb: Any, table: str, codec: CursorCodec) -> None:
        self._db = dynamodb
        self._table = table
        self._codec = codec

    def add(self, event: ServerEvent, tenant_id: str) -> None:
        """Record one event (a repeat with the same id overwrites it: harmless)."""
        with translate(unavailable="The server's event could not be written; try again."):
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": keys.server(event.server_uuid)[0]},
                    "sk": {"S": keys.server_event(event.at, event.id)},
                    "kind": {"S": "server_event"},
                    "event_id": {"S": event.id},
                    "type": {"S": event.type},
                    "at": {"N": str(event.at)},
                    "tenant_id": {"S": tenant_id},
                    "details": {"S": json.dumps(event.details, sort_keys=True)},
                    "ttl": {"N": str(event.at + EVENT_TTL)},
                },
            )

    @staticmethod
    def _event(server_uuid: str, item: dict[str, Any]) -> ServerEvent:
        return ServerEvent(
            id=item["event_id"]["S"],
            server_uuid=server_uuid,
            type=item["type"]["S"],
            at=int(item["at"]["N"]),
            details=json.loads(item.get("details", {}).get("S") or "{}"),
        )

    def since(self, server_uuid: str, since: int) -> list[ServerEvent]:
        """The server's events at or after ``since`` (the crash-loop window: a few items)."""
        with translate(unavailable="The server's events could not be read; try again."):
            answer = self._db.query(
                TableName=self._table,
                KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={
                    ":p": {"S": keys.server(server_uuid)[0]},
                    ":a": {"S": keys.server_event(since, "")},
                    ":b": {"S": keys.SERVER_EVENTS_END},
                },
                ConsistentRead=True,
            )
        return [self._event(server_uuid, item) for item in answer.get("Items", [])]

    def page(self, server_uuid: str, page: PageRequest) -> Page[ServerEvent]:
        """One page of the server's events, newest first (one Query)."""
        scope = f"events:{server_uuid}"
        start = self._codec.decode(page.cursor, scope)
        with translate(unavailable="The server's events could not be read; try again."):
            answer = self._db.query(
                TableName=self._table,
                KeyConditionExpression="pk = :p AND begins_with(sk, :e)",
                ExpressionAttributeValues={
                    ":p": {"S": keys.server(server_uuid)[0]},
                    ":e": {"S": keys.SERVER_EVENT_PREFIX},
                },
                ScanIndexForward=False,
                # One more than asked: when it exists there is a next page, so a client never
                # fetches an empty last page.
                Limit=page.limit + 1,
                **({"ExclusiveStartKey": start} if start else {}),
            )
        raw = answer.get("Items", [])
        items = [self._event(server_uuid, item) for item in raw[: page.limit]]
        last = {"pk": raw[page.limit - 1]["pk"], "sk": raw[page.limit - 1]["sk"]} if len(raw) > page.limit else None
        return Page(items=items, next_cursor=self._codec.encode(last, scope))

    def mark_power(self, server_uuid: str, action: str, at: int) -> None:
        """Remember the power action the panel just sent (the crash rule's "asked by the panel")."""
        with translate(unavailable="The power action could not be recorded; try again."):
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": keys.server(server_uuid)[0]},
                    "sk": {"S": keys.SERVER_POWER},
                    "kind": {"S": "server_power"},
                    "action": {"S": action},
                    "at": {"N": str(at)},
                    "ttl": {"N": str(at + DAY)},
                },
            )

    def last_power(self, server_uuid: str) -> tuple[str, int] | None:
        with translate(unavailable="The server's power state could not be read; try again."):
            item = self._db.get_item(
                TableName=self._table,
                Key={"pk": {"S": keys.server(server_uuid)[0]}, "sk": {"S": keys.SERVER_POWER}},
                ConsistentRead=True,
            ).get("Item")
        return (item["action"]["S"], int(item["at"]["N"])) if item else None
