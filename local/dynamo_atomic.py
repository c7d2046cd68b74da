"""Single-item writes in moto's DynamoDB made atomic, as they are in DynamoDB.

DynamoDB applies each write to an item atomically: two concurrent ``ADD hits 1`` both
count, and a condition is checked against the item as it is when the write applies. moto
5.2.5 reads, changes and stores the item without a lock, so under concurrent requests
(the threaded moto server of ``make run``, or tests that send requests from threads) an
update is now and then lost: 200 parallel ``ADD 1`` on one item ended at 198. The panel's
rate limits and lockout rely on that atomicity (docs/accounts.md), so the local stack must
have it too. One process-wide lock around moto's write operations gives it; the cost is
nothing that matters on one machine.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_LOCK = threading.RLock()


def serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    if getattr(method, "_mamba_serialized", False):
        return method

    @functools.wraps(method)
    def write(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    write._mamba_serialized = True  # type: ignore[attr-defined]
    return write


def patched() -> dict[str, Callable[..., Any]]:
    """The serialized version of each write method moto's backend has (name → method)."""
    return {name: serialized(getattr(DynamoDBBackend, name)) for name in WRITES if hasattr(DynamoDBBackend, name)}


def install() -> None:
    """Serialize moto's DynamoDB writes in this process (idempotent)."""
    for name, method in patched().items():
        setattr(DynamoDBBackend, name, method)
