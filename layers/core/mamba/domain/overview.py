"""The fleet overview's figures and the dead letters of the Stripe events queue (stdlib only)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DeadLetterMessage:
    """One message as the dead-letter queue holds it (the raw Stripe event body)."""

    message_id: str
    body: str
    receive_count: int
    first_received_at: str | None  # ISO time of the first delivery to the consumer


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    event_id: str | None
    type: str | None
    receive_count: int
    first_received_at: str | None
    first_error: str | None


def read_dead_letter(message: DeadLetterMessage, first_error: str | None = None) -> DeadLetter:
    """The event id and type from a dead letter's body; a body that is not a JSON object
    (it should never be: the webhook queues only verified events) keeps its message id only."""
    try:
        event = json.loads(message.body)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        event = {}
    event_id = event.get("id")
    event_type = event.get("type")
    return DeadLetter(
        message_id=message.message_id,
        event_id=event_id if isinstance(event_id, str) else None,
        type=event_type if isinstance(event_type, str) else None,
        receive_count=message.receive_count,
        first_received_at=message.first_received_at,
        first_error=first_error,
    )


@dataclass(frozen=True)
class NodeFigure:
    """One node in the overview: its health and what its servers commit of its capacity."""

    node_id: str
    name: str
    status: str  # online | offline | unauthorized | unknown (never probed yet)
    memory_mb: int
    disk_mb: int
    committed_memory_mb: int
    committed_disk_mb: int


@dataclass(frozen=True)
class FleetCounts:
    """What the overview's DynamoDB reads return (at most 3 calls)."""

    tenants_by_status: dict[str, int] = field(default_factory=dict)
    servers_by_status: dict[str, int] = field(default_factory=dict)
    nodes: list[NodeFigure] = field(default_factory=list)
    failed_operations_24h: int = 0
    last_reconcile: dict[str, object] | None = None
    counted_at: str | None = None  # when the tenant and server counters were last refreshed
