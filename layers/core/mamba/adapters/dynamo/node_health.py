"""Node health and node events in the main table (see docs/data-model.md).

* ``NODE#<id>/HEALTH``: the last probe of a node (one item, overwritten by each probe).
* ``NODE#<id>/EVENT#<at>#<event_id>``: alerts about a node, also under gsi1 ``NODE_EVENTS`` so
  every node's events can be read in time order (notifications, the admin view).
"""

from __future__ import annotations

import json
import uuid

from mamba.adapters.dynamo import keys, prefetch
from mamba.adapters.dynamo.errors import get_or_none, translate
from mamba.adapters.dynamo.items import NodeEventItem, NodeHealthItem
from mamba.domain.nodes import NodeEvent, NodeHealth


def _health(item: NodeHealthItem) -> NodeHealth:
    return NodeHealth(
        node_id=item.node_id,
        status=item.status,
        checked_at=item.checked_at,
        version=item.version,
        last_seen_at=item.last_seen_at,
        consecutive_failures=int(item.consecutive_failures or 0),
        last_error=item.last_error,
        alerted=bool(item.alerted),
    )


class DynamoNodeHealthStore:
    def get(self, node_id: str) -> NodeHealth | None:
        key = keys.node_health(node_id)
        ahead = prefetch.take(key)  # read with the caller by the guard (a node route's read)
        if ahead is not None:
            return _health(NodeHealthItem.from_raw_data(ahead.item)) if ahead.item is not None else None
        item = get_or_none(NodeHealthItem, *key, consistent_read=True)
        return _health(item) if item is not None else None

    def save(self, health: NodeHealth) -> None:
        pk, sk = keys.node_health(health.node_id)
        with translate(unavailable="The node's health could not be saved."):
            NodeHealthItem(
                pk,
                sk,
                kind="node_health",
                node_id=health.node_id,
                status=health.status,
                version=health.version,
                last_seen_at=health.last_seen_at,
                checked_at=health.checked_at,
                consecutive_failures=health.consecutive_failures,
                last_error=health.last_error,
                alerted=health.alerted,
            ).save()

    def add_event(self, event: NodeEvent) -> None:
        event_id = uuid.uuid4().hex
        pk, sk = keys.node_event(event.node_id, event.at, event_id)
        NodeEventItem(
            pk,
            sk,
            kind="node_event",
            gsi1pk=keys.ALL_NODE_EVENTS,
            gsi1sk=keys.created_sort(event.at, event_id),
            event_id=event_id,
            node_id=event.node_id,
            type=event.type,
            created_at=event.at,
            detail=json.dumps(event.detail),
        ).save()

    def events(self, node_id: str, limit: int = 50) -> list[NodeEvent]:
        """A node's events, newest first."""
        pk, _ = keys.node_health(node_id)
        found = NodeEventItem.query(
            pk, NodeEventItem.sk.startswith(keys.NODE_EVENT_PREFIX), scan_index_forward=False, limit=limit
        )
        return [NodeEvent(i.node_id, i.type, i.created_at, json.loads(i.detail or "{}")) for i in found]

    def health_of(self, node_ids: list[str]) -> dict[str, NodeHealth]:
        """The health of many nodes in one BatchGetItem per 100 (for the admin node list)."""
        wanted = [keys.node_health(node_id) for node_id in dict.fromkeys(node_ids)]
        found: dict[str, NodeHealth] = {}
        for start in range(0, len(wanted), 100):
            for item in NodeHealthItem.batch_get(wanted[start : start + 100]):
                found[item.node_id] = _health(item)
        return found
