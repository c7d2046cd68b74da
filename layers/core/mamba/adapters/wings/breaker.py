"""A circuit breaker per node, shared by every Lambda container through one DynamoDB item.

States (item ``NODE#<id>/BREAKER``, see docs/data-model.md):

* **closed**: no item, or ``opened_at`` absent. Calls go through; each failed call adds one
  to ``failures`` (an atomic ADD, so concurrent containers count together), a success
  deletes the item (only when there was one, so a healthy node costs one read per call).
* **open**: ``failures`` reached the threshold and ``opened_at`` was set. Calls fail fast
  with ``WingsUnavailableError`` (no network I/O) until the cool-down has passed.
* **half-open**: after the cool-down, exactly one container wins a conditional write of
  the ``probe_until`` lease and makes the call (the probe). Everybody else still fails fast.
  The probe's success closes the breaker; its failure re-opens it for another cool-down.
  A probe that dies without reporting loses its lease when ``probe_until`` passes.

Every write sets ``ttl`` so a breaker of a deleted node disappears; readers never trust the
TTL alone (DynamoDB deletes late), they compare the timestamps themselves.

If DynamoDB itself cannot be read the breaker lets the call through: the node call then
reports its own failure, and a broken breaker store must not take every node down with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from mamba.adapters.dynamo import keys, prefetch
from mamba.adapters.dynamo.errors import SKIP, get_or_none, translate
from mamba.adapters.dynamo.items import NodeBreakerItem
from mamba.domain.errors import DependencyUnavailableError, WingsUnavailableError
from mamba.observability import logger

# The breaker's own store failing is never the node's failure: these writes log and go on.
STORE_FAILED = "The circuit breaker's store did not answer."


@dataclass(frozen=True)
class BreakerPolicy:
    threshold: int = 5  # consecutive failed calls that open the breaker
    cooldown_seconds: float = 30.0  # how long an open breaker fails fast before a probe
    probe_seconds: float = 20.0  # the probe's lease; longer than a default call's timeouts
    ttl_seconds: int = 24 * 3600


@dataclass(frozen=True)
class Ticket:
    """What ``before_call`` learned: whether there is state to clear on success, and
    whether this call is the half-open probe."""

    node_id: str
    dirty: bool = False
    probe: bool = False


class DynamoCircuitBreaker:
    def __init__(self, policy: BreakerPolicy | None = None, clock: Callable[[], float] = time.time) -> None:
        self.policy = policy or BreakerPolicy()
        self.clock = clock

    def before_call(self, node_id: str) -> Ticket:
        """Allow the call, or raise ``WingsUnavailableError`` while the breaker is open."""
        try:
            kept = prefetch.take(keys.node_breaker(node_id))  # read with the node in this request
            if kept is not None:
                item = NodeBreakerItem.from_raw_data(kept.item) if kept.item is not None else None
            else:
                with translate(unavailable=STORE_FAILED):
                    item = get_or_none(NodeBreakerItem, *keys.node_breaker(node_id), consistent_read=True)
        except DependencyUnavailableError:
            logger.warning("circuit breaker state unreadable; letting the call through", extra={"node_id": node_id})
            return Ticket(node_id)
        if item is None:
            return Ticket(node_id)
        if item.opened_at is None:
            return Ticket(node_id, dirty=True)
        now = self.clock()
        retry_in = item.opened_at + self.policy.cooldown_seconds - now
        if retry_in > 0:
            raise self._open(node_id, retry_in)
        # Half-open: one container claims the probe. The condition pins the same opening
        # (opened_at unchanged) and a free or lapsed lease, so two containers never both win.
        try:
            with translate(on_condition=SKIP, unavailable=STORE_FAILED) as claim:
                item.update(
                    actions=[NodeBreakerItem.probe_until.set(now + self.policy.probe_seconds)],
                    condition=(NodeBreakerItem.opened_at == item.opened_at)
                    & (NodeBreakerItem.probe_until.does_not_exist() | (NodeBreakerItem.probe_until < now)),
                )
        except DependencyUnavailableError:
            logger.warning("circuit breaker probe claim failed; letting the call through", extra={"node_id": node_id})
            return Ticket(node_id, dirty=True)
        if claim.condition_failed:  # another container is the probe
            raise self._open(node_id, self.policy.probe_seconds) from claim.error
        return Ticket(node_id, dirty=True, probe=True)

    def succeeded(self, ticket: Ticket) -> None:
        if not ticket.dirty:
            return
        try:
            with translate(unavailable=STORE_FAILED):
                NodeBreakerItem(*keys.node_breaker(ticket.node_id)).delete()
        except DependencyUnavailableError:
            logger.warning("circuit breaker could not be closed", extra={"node_id": ticket.node_id})

    def failed(self, ticket: Ticket) -> None:
        now = self.clock()
        item = NodeBreakerItem(*keys.node_breaker(ticket.node_id))
        try:
            with translate(unavailable=STORE_FAILED):
                item.update(
                    actions=[
                        NodeBreakerItem.failures.add(1),
                        NodeBreakerItem.node_id.set(ticket.node_id),
                        NodeBreakerItem.ttl.set(int(now) + self.policy.ttl_seconds),
                    ]
                )
                if ticket.probe or (item.failures >= self.policy.threshold and item.opened_at is None):
                    item.update(
                        actions=[NodeBreakerItem.opened_at.set(now), NodeBreakerItem.probe_until.remove()],
                    )
                    logger.warning(
                        "circuit breaker opened", extra={"node_id": ticket.node_id, "failures": item.failures}
                    )
        except DependencyUnavailableError:
            logger.warning("circuit breaker failure not recorded", extra={"node_id": ticket.node_id})

    def state(self, node_id: str) -> str:
        """``closed``, ``open`` or ``half_open`` (for the admin node view and tests)."""
        item = get_or_none(NodeBreakerItem, *keys.node_breaker(node_id), consistent_read=True)
        if item is None or item.opened_at is None:
            return "closed"
        return "open" if self.clock() < item.opened_at + self.policy.cooldown_seconds else "half_open"

    @staticmethod
    def _open(node_id: str, retry_in: float) -> WingsUnavailableError:
        return WingsUnavailableError(
            "The node is not answering; calls to it are paused for a moment. Try again shortly.",
            {"node_id": node_id, "reason": "circuit_open", "retry_in_seconds": max(1, round(retry_in))},
        )
