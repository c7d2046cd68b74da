"""Node health: probe every node's ``GET /api/system`` and keep status, version and last-seen.

Run by the ``node_health`` schedule (functions/schedules/node_health.py). Each probe uses the
Wings client's short ``probe`` timeouts and no retries, so one dead node costs seconds, not
minutes, and the next schedule run is the retry.

* ``online``: the node answered; ``version`` and ``last_seen_at`` are updated.
* ``offline``: network error, timeout, a 5xx, or its circuit breaker is open.
* ``unauthorized``: the node answered but refused the panel's token (rotated on one side only).

The third consecutive failed probe raises one ``node.down`` event (an alert notifications can
use); the first success after an alert raises ``node.recovered``. Events are not repeated while
the node stays down.

Errors: none escape ``probe_all`` for a single node (one node's failure never stops the
others); the health store's ``DependencyUnavailableError`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from mamba.domain.errors import DomainError, WingsRejectedError, WingsUnauthorizedError, WingsUnavailableError
from mamba.domain.nodes import Node, NodeEvent, NodeHealth

if TYPE_CHECKING:
    from mamba.ports import EventPublisher

ALERT_AFTER_FAILURES = 3
ONLINE = "online"
OFFLINE = "offline"
UNAUTHORIZED = "unauthorized"
UNKNOWN = "unknown"
NODE_DOWN = "node.down"
NODE_RECOVERED = "node.recovered"


class Prober(Protocol):
    def system(self, *, probe: bool = False, extended: bool = False) -> dict[str, object]: ...


class HealthStore(Protocol):
    def get(self, node_id: str) -> NodeHealth | None: ...
    def save(self, health: NodeHealth) -> None: ...
    def add_event(self, event: NodeEvent) -> None: ...


class NodeSource(Protocol):
    def list(self, limit: int = ..., cursor: str | None = None) -> tuple[list[Node], str | None]: ...


def describe(health: NodeHealth | None) -> dict[str, Any]:
    """The health fields the admin node API shows next to a node."""
    if health is None:
        return {"status": UNKNOWN, "version": None, "last_seen_at": None, "checked_at": None}
    return {
        "status": health.status,
        "version": health.version,
        "last_seen_at": health.last_seen_at,
        "checked_at": health.checked_at,
    }


def all_nodes(nodes: NodeSource, page_size: int = 100) -> Iterator[Node]:
    cursor: str | None = None
    while True:
        page, cursor = nodes.list(page_size, cursor)
        yield from page
        if not cursor:
            return


def judge(
    node_id: str, previous: NodeHealth | None, outcome: dict[str, Any] | DomainError, now: str
) -> tuple[NodeHealth, NodeEvent | None]:
    """The new health of a node from the previous one and a probe's outcome (pure)."""
    before = previous or NodeHealth(node_id=node_id, status=UNKNOWN, checked_at=now)
    if isinstance(outcome, dict):
        version = outcome.get("version")
        health = replace(
            before,
            status=ONLINE,
            checked_at=now,
            version=str(version) if version is not None else before.version,
            last_seen_at=now,
            consecutive_failures=0,
            last_error=None,
            alerted=False,
        )
        event = NodeEvent(node_id, NODE_RECOVERED, now, {"version": health.version}) if before.alerted else None
        return health, event
    status = OFFLINE
    if isinstance(outcome, WingsUnauthorizedError):
        status = UNAUTHORIZED
    failures = before.consecutive_failures + 1
    alert = failures >= ALERT_AFTER_FAILURES and not before.alerted
    health = replace(
        before,
        status=status,
        checked_at=now,
        consecutive_failures=failures,
        last_error=outcome.message,
        alerted=before.alerted or alert,
    )
    event = None
    if alert:
        event = NodeEvent(
            node_id,
            NODE_DOWN,
            now,
            {"status": status, "failures": failures, "last_seen_at": before.last_seen_at, "error": outcome.message},
        )
    return health, event


def notify(publisher: EventPublisher | None, node: Node, previous: NodeHealth | None, event: NodeEvent | None) -> None:
    """``node.down`` / ``node.recovered`` for the platform admins (docs/notifications.md),
    published before the new health is saved: the dedupe key comes from the health before this
    probe (the last time the node was seen, or the last failed check), which a run that fails
    before its save repeats, so its retry publishes the same id and nobody hears it twice."""
    if publisher is None or event is None:
        return
    from mamba.domain.events import make_event
    from mamba.services.emit import emit

    before = previous.last_seen_at if event.type == NODE_DOWN and previous else None
    if event.type == NODE_RECOVERED and previous is not None:
        before = previous.checked_at
    emit(
        publisher,
        make_event(
            event.type,
            dedupe_key=f"{node.id}:{before or 'never'}",
            occurred_at=event.at,
            tenant_id=None,
            payload={"node_id": node.id, "node_name": node.name},
        ),
    )


def _judge_and_save(
    node: Node, store: HealthStore, outcome: dict[str, Any] | DomainError, now: str, publisher: EventPublisher | None
) -> NodeHealth:
    previous = store.get(node.id)
    health, event = judge(node.id, previous, outcome, now)
    notify(publisher, node, previous, event)
    store.save(health)
    if event is not None:
        store.add_event(event)
    return health


def probe_node(
    node: Node, agent: Prober, store: HealthStore, now: str, publisher: EventPublisher | None = None
) -> NodeHealth:
    try:
        outcome: dict[str, Any] | DomainError = agent.system(probe=True)
    except (WingsUnavailableError, WingsRejectedError, DomainError) as exc:
        outcome = exc
    return _judge_and_save(node, store, outcome, now, publisher)


def probe_all(
    nodes: NodeSource,
    agent_for: Callable[[Node], Prober],
    store: HealthStore,
    clock: Callable[[], str],
    publisher: EventPublisher | None = None,
) -> dict[str, str]:
    """Probe every node once; returns ``{node_id: status}``."""
    found: dict[str, str] = {}
    for node in all_nodes(nodes):
        try:
            agent = agent_for(node)
        except DomainError as exc:  # e.g. its token cannot be decrypted: the node is unusable
            found[node.id] = _judge_and_save(node, store, exc, clock(), publisher).status
            continue
        found[node.id] = probe_node(node, agent, store, clock(), publisher).status
    return found
