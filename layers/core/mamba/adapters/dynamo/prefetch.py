"""Items a request read ahead in one batch, for the repository that needs them to take once.

A read of a server's resource cost the guard's BatchGetItem (user, membership, tenant), a GetItem
of the server the path names and, for the Wings routes, a GetItem of the node, another of the same
node item for its token and one of the node's breaker state: five requests where the budget is two
(ARCHITECTURE.md §9). The keys are known in advance, so:

* for a read (GET/HEAD) under ``.../servers/{server_id}``, the guard asks for the server in its own
  BatchGetItem (``DynamoIdentityRepository.load``) and ``DynamoServerRepository.get`` takes it;
* ``DynamoNodeRepository.get`` reads the node and its breaker state in one BatchGetItem, and
  ``token()`` and ``DynamoCircuitBreaker.before_call`` take them.

These are the same consistent reads, a few milliseconds earlier, in the same request: nothing is
kept beyond it (entries carry the request id, so a later request never sees them; each is taken
at most once, so a second read in one request reads again), and outside a request (tasks,
schedules) nothing is kept at all. An item that does not exist is kept as such, so a miss is not
read twice either. The ownership checks are unchanged: services still compare the record's tenant.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mamba.observability import current_request_id

Key = tuple[str, str]
Raw = dict[str, Any]


@dataclass(frozen=True)
class Kept:
    item: Raw | None  # None: read, and there is no such item


_ITEMS: ContextVar[tuple[str, dict[Key, Kept]] | None] = ContextVar("mamba_prefetched", default=None)


def active() -> bool:
    """Whether reads ahead can be kept: inside a request (one with a request id)."""
    return bool(current_request_id())


def keep(items: dict[Key, Raw | None]) -> None:
    """Keep raw items read for this request (None for one that does not exist)."""
    request_id = current_request_id()
    if not request_id or not items:
        return
    current = _ITEMS.get()
    kept = current[1] if current is not None and current[0] == request_id else {}
    kept.update({key: Kept(raw) for key, raw in items.items()})
    _ITEMS.set((request_id, kept))


def take(key: Key) -> Kept | None:
    """What this request read ahead under ``key``, once; None when it read nothing there."""
    current = _ITEMS.get()
    if current is None or current[0] != current_request_id():
        return None
    return current[1].pop(key, None)
