"""Workflows that wait on a node's callback with a task token (issue 13 item 5; docs/architecture.md "Workflows").

``provision_server`` and ``reinstall_server`` wait for the install callback, ``backup_server``
for the backup completion and ``restore_backup`` for the restore callback. Each waits in one
``.waitForTaskToken`` Task, however long the node takes: no polling loop, no state transitions
while it waits (a poll every 10 s cost three transitions a poll). The Task's
``TimeoutSecondsPath`` ends a wait that no callback ends; its Catch turns ``States.Timeout``
into a readable error and runs the workflow's existing compensation.

The handshake has two sides that may run in either order:

* the waiting task ``park``s the token under the wait's subject, **then** reads the record
  the callback updates, and delivers the outcome itself when the callback came first;
* the callback saves the record, **then** ``deliver``s the outcome to the parked token.

Whichever side runs second sees the other's write (DynamoDB's reads here are consistent), so
one of them always delivers. Both may: the second delivery finds the task no longer waiting
(``TaskCallbacks`` answers False) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mamba.domain.errors import DependencyUnavailableError
from mamba.observability import logger
from mamba.ports import TaskCallbacks, TaskTokenStore

# A parked token outlives its wait's timeout by this much before DynamoDB's TTL drops it.
TOKEN_GRACE_SECONDS = 24 * 3600


def install_subject(server_uuid: str) -> str:
    """The install (or reinstall) of a server: Wings' ``POST /api/remote/servers/{uuid}/install``."""
    return f"install:{server_uuid}"


def backup_subject(backup_uuid: str) -> str:
    """A backup's upload: Wings' ``POST /api/remote/backups/{uuid}``."""
    return f"backup:{backup_uuid}"


def restore_subject(backup_uuid: str) -> str:
    """A restore from a backup: Wings' ``POST /api/remote/backups/{uuid}/restore``."""
    return f"restore:{backup_uuid}"


@dataclass(frozen=True)
class Outcome:
    """How a wait ends: ``output`` for the workflow's next state, or a failure whose ``error``
    is the typed error name the ASL catches and whose ``cause`` a user can read."""

    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    cause: str = ""

    @classmethod
    def failed(cls, error: str, cause: str) -> Outcome:
        return cls(error=error, cause=cause)


@dataclass(frozen=True)
class WaitPorts:
    tokens: TaskTokenStore
    callbacks: TaskCallbacks
    epoch: Callable[[], float]


def park(
    ports: WaitPorts, subject: str, token: str, timeout_seconds: int, decided: Callable[[], Outcome | None]
) -> dict[str, Any]:
    """The waiting task: keep ``token`` under ``subject``, then ask ``decided`` whether the
    callback already came (its outcome, or None while the node works) and if so deliver it.
    Raises DependencyUnavailableError (retried by the ASL with a fresh token)."""
    if not token:
        raise ValueError("a waiting task needs its task token ($$.Task.Token)")
    now = int(ports.epoch())
    ports.tokens.park(subject, token, now, now + max(int(timeout_seconds), 1) + TOKEN_GRACE_SECONDS)
    outcome = decided()
    if outcome is None:
        return {"waiting": subject}
    delivered = _send(ports, token, outcome)
    if delivered:
        ports.tokens.forget(subject, token)
    return {"waiting": subject, "delivered": delivered}


def deliver(ports: WaitPorts, subject: str, outcome: Outcome) -> bool:
    """The callback: resume the task waiting on ``subject`` with ``outcome``. False when no
    task waits (none parked yet: it will see the record; or it ended). Never raises for
    Step Functions being unreachable: the record is saved and the callback must still be
    acknowledged (Wings deletes its archive otherwise); the token stays, so the node's retry
    of the callback or the waiting task's own timeout ends the wait."""
    try:
        token = ports.tokens.token(subject)
        if token is None:
            return False
        delivered = _send(ports, token, outcome)
        ports.tokens.forget(subject, token)  # delivered, or its task no longer waits
    except DependencyUnavailableError:
        logger.warning("a waiting workflow could not be resumed", extra={"subject": subject})
        return False
    return delivered


def _send(ports: WaitPorts, token: str, outcome: Outcome) -> bool:
    if outcome.error is not None:
        return ports.callbacks.fail_task(token, outcome.error, outcome.cause)
    return ports.callbacks.succeed_task(token, outcome.output)
