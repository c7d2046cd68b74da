"""The writes of a server's lifecycle operations (see docs/server-lifecycle.md).

* ``SERVER#<uuid>/LOCK``: the one lifecycle operation running on a server, taken with a
  conditional put and released by the workflow's last state (``DynamoServerLocks``).
* Status and build changes are conditional UpdateItems on ``SERVER#<uuid>/PROFILE`` (not
  whole-item replaces), so a concurrent install callback or reconcile run is never undone.
* The reconcile schedule writes a node's observations in one TransactWriteItems per 100
  servers; if one server changed under it, the batch falls back to one conditional update
  per server so that the others are still written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, get_or_none, translate
from mamba.adapters.dynamo.items import (
    BlueprintUsageItem,
    MainItem,
    ServerItem,
    ServerLockItem,
    ServerSuspensionItem,
)
from mamba.adapters.dynamo.users import connection
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.server_lifecycle import ObservedServer
from mamba.domain.servers import FeatureLimits, Limits

TRANSACTION_LIMIT = 100


def _unavailable(what: str) -> str:
    return f"The server's {what} could not be written; try again."


class DynamoServerLocks:
    def acquire(
        self, server_uuid: str, operation_id: str, operation_type: str, *, now: str, now_epoch: int, seconds: int
    ) -> None:
        """Take the server's lock; ConflictError (409) naming the holder when it is held."""
        pk, sk = keys.server_lock(server_uuid)
        item = ServerLockItem(
            pk,
            sk,
            kind="server_lock",
            server_uuid=server_uuid,
            operation_id=operation_id,
            operation_type=operation_type,
            acquired_at=now,
            ttl=now_epoch + seconds,
        )
        with translate(on_condition=SKIP, unavailable=_unavailable("lock")) as put:
            item.save(condition=ServerLockItem.pk.does_not_exist() | (ServerLockItem.ttl < now_epoch))
        if put.condition_failed:
            holder = self.holder(server_uuid)
            raise ConflictError(
                "Another operation is running on this server; wait for it to finish.",
                {
                    "uuid": server_uuid,
                    "operation_id": holder[0] if holder else None,
                    "operation_type": holder[1] if holder else None,
                },
            ) from put.error

    def holder(self, server_uuid: str) -> tuple[str, str] | None:
        """(operation id, operation type) of the lock, or None."""
        item = get_or_none(ServerLockItem, *keys.server_lock(server_uuid), consistent_read=True)
        return (item.operation_id, item.operation_type) if item is not None else None

    def release(self, server_uuid: str, operation_id: str) -> None:
        """Release the lock if ``operation_id`` holds it (a no-op otherwise, so it can be repeated)."""
        with translate(on_condition=SKIP, unavailable=_unavailable("lock")):
            ServerLockItem(*keys.server_lock(server_uuid)).delete(condition=ServerLockItem.operation_id == operation_id)


class DynamoServerLifecycleStore:
    def set_status(
        self, server_uuid: str, status: str, expected: Iterable[str], *, now: str, reason: str | None = None
    ) -> None:
        """Move the server to ``status`` (with ``reason``, or none: a stale one is cleared) if
        it is in one of the ``expected`` statuses. ConflictError when it is not (someone else
        changed it), NotFoundError when it is gone."""
        expected = list(expected)
        item = ServerItem(*keys.server(server_uuid))
        why = ServerItem.status_reason.set(reason) if reason else ServerItem.status_reason.remove()
        with translate(on_condition=SKIP, unavailable=_unavailable("status")) as update:
            item.update(
                actions=[ServerItem.status.set(status), ServerItem.updated_at.set(now), why],
                condition=ServerItem.pk.exists() & ServerItem.status.is_in(*expected),
            )
        if update.condition_failed:
            self._explain(server_uuid, expected, update.error)

    def set_suspension(
        self, server_uuid: str, status: str, expected: Iterable[str], *, by: str | None, now: str
    ) -> None:
        """Move the status (as ``set_status``) and, in the same transaction, record who
        suspended the server (``by``) or forget it (None)."""
        expected = list(expected)
        pk, sk = keys.server_suspension(server_uuid)
        # Only the profile update has a condition (pynamodb orders the items itself).
        with translate(on_condition=SKIP, unavailable=_unavailable("status")) as write:
            with TransactWrite(connection=connection()) as tx:
                tx.update(
                    ServerItem(*keys.server(server_uuid)),
                    actions=[
                        ServerItem.status.set(status),
                        ServerItem.updated_at.set(now),
                        ServerItem.status_reason.remove(),
                    ],
                    condition=ServerItem.pk.exists() & ServerItem.status.is_in(*expected),
                )
                if by is None:
                    tx.delete(ServerSuspensionItem(pk, sk))
                else:
                    tx.save(
                        ServerSuspensionItem(
                            pk, sk, kind="server_suspension", server_uuid=server_uuid, suspended_by=by, suspended_at=now
                        )
                    )
        if write.condition_failed:
            self._explain(server_uuid, expected, write.error)

    def suspended_by(self, server_uuid: str) -> str | None:
        """``admin`` or ``billing`` while the server is suspended, else None."""
        item = get_or_none(ServerSuspensionItem, *keys.server_suspension(server_uuid), consistent_read=True)
        return str(item.suspended_by) if item is not None else None

    def set_build(
        self,
        server_uuid: str,
        limits: Limits,
        expected: Iterable[str],
        *,
        now: str,
        environment: dict[str, Any] | None = None,
    ) -> None:
        """Write the limits (and the environment, when given) if the server is in one of the
        ``expected`` statuses."""
        expected = list(expected)
        item = ServerItem(*keys.server(server_uuid))
        threads = ServerItem.threads.set(limits.threads) if limits.threads is not None else ServerItem.threads.remove()
        extra = [] if environment is None else [ServerItem.environment.set(json.dumps(environment))]
        with translate(on_condition=SKIP, unavailable=_unavailable("limits")) as update:
            item.update(
                actions=[
                    *extra,
                    ServerItem.memory_mb.set(limits.memory_mb),
                    ServerItem.disk_mb.set(limits.disk_mb),
                    ServerItem.cpu_percent.set(limits.cpu_percent),
                    ServerItem.swap_mb.set(limits.swap_mb),
                    ServerItem.io_weight.set(limits.io_weight),
                    threads,
                    ServerItem.oom_disabled.set(limits.oom_disabled),
                    ServerItem.updated_at.set(now),
                ],
                condition=ServerItem.pk.exists() & ServerItem.status.is_in(*expected),
            )
        if update.condition_failed:
            self._explain(server_uuid, expected, update.error)

    def set_profile(
        self,
        server_uuid: str,
        *,
        name: str | None,
        description: str | None,
        now: str,
        feature_limits: FeatureLimits | None = None,
        startup: str | None = None,
    ) -> None:
        """Rename or re-describe a server, set its feature limits or its startup command (any
        status but a deleted one)."""
        actions: list[Any] = [ServerItem.updated_at.set(now)]
        if name is not None:
            actions.append(ServerItem.name.set(name))
        if description is not None:
            actions.append(ServerItem.description.set(description))
        if feature_limits is not None:
            actions.append(ServerItem.backup_limit.set(feature_limits.backups))
            actions.append(ServerItem.allocation_limit.set(feature_limits.allocations))
        if startup is not None:
            actions.append(ServerItem.startup.set(startup))
        with translate(
            on_condition=NotFoundError("Server not found.", {"uuid": server_uuid}), unavailable=_unavailable("profile")
        ):
            ServerItem(*keys.server(server_uuid)).update(actions=actions, condition=ServerItem.pk.exists())

    def _explain(self, server_uuid: str, expected: list[str], exc: Exception | None) -> None:
        current = get_or_none(ServerItem, *keys.server(server_uuid), consistent_read=True)
        if current is None:
            raise NotFoundError("Server not found.", {"uuid": server_uuid}) from exc
        raise ConflictError(
            f"The server is {current.status}; this needs it to be {' or '.join(expected)}.",
            {"uuid": server_uuid, "status": current.status},
        ) from exc

    def remove(self, server_uuid: str) -> int:
        """Delete every record of the server: its activity log, run intervals and run state
        (metering), suspension, backup and operation locks, then its profile last (so a retried
        step that stopped half-way still finds the server and finishes). Idempotent; returns
        how many items were deleted."""
        pk, _ = keys.server(server_uuid)
        with translate(unavailable=_unavailable("records")):
            records = [item for item in MainItem.query(pk, consistent_read=True) if item.sk != "PROFILE"]
            with MainItem.batch_write() as batch:
                for record in records:
                    batch.delete(record)
            self._remove_profile(server_uuid)
        return len(records) + 1

    def _remove_profile(self, server_uuid: str) -> None:
        """Delete the profile and take the server out of its blueprint's usage in one transaction,
        so that a retried removal never counts a server twice (the delete's condition fails then)."""
        profile = get_or_none(ServerItem, *keys.server(server_uuid), consistent_read=True)
        if profile is None:
            return
        with translate(on_condition=SKIP):
            with TransactWrite(connection=connection()) as tx:
                tx.delete(ServerItem(*keys.server(server_uuid)), condition=ServerItem.pk.exists())
                tx.update(
                    BlueprintUsageItem(*keys.blueprint_usage(profile.blueprint_id)),
                    actions=[BlueprintUsageItem.servers.add(-1)],
                )

    def record_observations(self, rows: list[ObservedServer], *, now: str) -> int:
        """Write each row's utilization (and new status) under the condition that the status
        is still the one read. Returns how many servers were written."""
        written = 0
        for start in range(0, len(rows), TRANSACTION_LIMIT):
            chunk = rows[start : start + TRANSACTION_LIMIT]
            # Any cancellation (a server changed under the batch, or a concurrent write) falls back
            # to one conditional update per server, so that the other servers are still written.
            with translate(on_cancel=lambda _: SKIP, unavailable=_unavailable("observation")) as write:
                with TransactWrite(connection=connection()) as tx:
                    for row in chunk:
                        tx.update(
                            ServerItem(*keys.server(row.server_uuid)),
                            actions=self._observation_actions(row, now),
                            condition=ServerItem.pk.exists() & (ServerItem.status == row.expected_status),
                        )
            written += self._record_one_by_one(chunk, now) if write.condition_failed else len(chunk)
        return written

    def _observation_actions(self, row: ObservedServer, now: str) -> list[Any]:
        actions: list[Any] = [
            ServerItem.utilization.set(json.dumps(row.utilization, sort_keys=True)),
            ServerItem.observed_at.set(now),
        ]
        if row.new_status is not None and row.new_status != row.expected_status:
            actions += [ServerItem.status.set(row.new_status), ServerItem.updated_at.set(now)]
        return actions

    def _record_one_by_one(self, rows: list[ObservedServer], now: str) -> int:
        written = 0
        for row in rows:
            with translate(on_condition=SKIP, unavailable=_unavailable("observation")) as update:
                ServerItem(*keys.server(row.server_uuid)).update(
                    actions=self._observation_actions(row, now),
                    condition=ServerItem.pk.exists() & (ServerItem.status == row.expected_status),
                )
            written += 0 if update.condition_failed else 1
        return written

    def utilization(self, server_uuid: str) -> tuple[dict[str, Any] | None, str | None]:
        """The last utilization the reconcile schedule stored, and when."""
        with translate(on_missing=NotFoundError("Server not found.", {"uuid": server_uuid})):
            item = ServerItem.get(*keys.server(server_uuid), consistent_read=True)
        return (json.loads(item.utilization) if item.utilization else None), item.observed_at
