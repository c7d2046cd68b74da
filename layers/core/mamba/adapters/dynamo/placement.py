"""What placement and the create transaction read and write (see docs/servers.md).

* Node loads: every node (gsi1 ``NODES``) and the memory and disk its servers commit (one
  gsi1 Query ``NODESERVERS#<id>`` per node; ``failed`` servers hold nothing).
* Free allocations of a node: one consistent Query of its ``ALLOC#`` items, filtered on
  ``server_id`` being absent.
* The reservation: one transaction that (1) bumps the tenant's quota guard on the condition
  that its version is the one read before the quota check, (2) assigns the allocation on the
  condition that nobody holds it, (3) puts the server on the condition that its uuid is new,
  (4) checks that the blueprint still exists and counts the server in its usage (so a blueprint
  in use is never deleted, see ``DynamoBlueprintRepository.delete``).
  Either all of it happens or none does, and the cancellation reason says which part lost.
* Usage is read from gsi2, which DynamoDB updates eventually (usually within a second). So
  that a server reserved a moment ago still counts, the guard item (read consistently) also
  keeps the reservations of the last ``RECENT_SECONDS``; usage adds those gsi2 does not list
  yet. A recent server deleted meanwhile is counted until it ages out: too high, never too low.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, Cancellation, get_or_none, translate
from mamba.adapters.dynamo.items import (
    AllocationItem,
    BlueprintItem,
    BlueprintUsageItem,
    MainItem,
    NodeItem,
    ServerGuardItem,
    ServerItem,
    TenantItem,
)
from mamba.adapters.dynamo.nodes import _allocation, _node
from mamba.adapters.dynamo.servers import _item as server_item
from mamba.adapters.dynamo.users import connection
from mamba.domain.errors import (
    AllocationTakenError,
    ConflictError,
    DependencyUnavailableError,
    DomainError,
    NotFoundError,
    TenantServersChangedError,
)
from mamba.domain.nodes import Allocation
from mamba.domain.placement import NodeLoad, TenantGuard, held_elsewhere
from mamba.domain.quotas import Usage
from mamba.domain.servers import FAILED, PROVISIONING, Server

RECENT_SECONDS = 300  # far longer than gsi2's replication lag
RECENT_MAX = 200
# A node whose health probe failed is skipped by placement; a breaker counts as open until its
# cool-down has passed (then the next call is its half-open probe, which a create may be).
UNHEALTHY = frozenset({"offline", "unauthorized"})


def _holds_resources(item: ServerItem) -> bool:
    return item.status != FAILED


def _recent(raw: str | None) -> tuple[tuple[str, int, int, float], ...]:
    try:
        return tuple((str(u), int(m), int(d), float(t)) for u, m, d, t in json.loads(raw or "[]"))
    except (ValueError, TypeError):
        return ()


def _bump_guard(tx: TransactWrite, server: Server, guard: TenantGuard) -> None:
    """The guard's part of a reservation: its version moves on only from the one read before the
    quota check (a concurrent create of the tenant cancels the transaction), and it remembers the
    reservation for ``usage`` while gsi2 lags."""
    now = time.time()
    recent = [r for r in guard.recent if r[3] >= now - RECENT_SECONDS][-(RECENT_MAX - 1) :]
    recent.append((server.uuid, server.limits.memory_mb, server.limits.disk_mb, now))
    version = ServerGuardItem.version
    condition = version.does_not_exist() if guard.version == 0 else version == guard.version
    tx.update(
        ServerGuardItem(*keys.server_guard(server.tenant_id)),
        actions=[
            ServerGuardItem.version.set(guard.version + 1),
            ServerGuardItem.recent.set(json.dumps(recent)),
            ServerGuardItem.tenant_id.set(server.tenant_id),
            ServerGuardItem.kind.set("server_guard"),
        ],
        condition=condition,
    )


class DynamoPlacementStore:
    def __init__(self, breaker_cooldown_seconds: float | None = None, clock: Callable[[], float] = time.time) -> None:
        if breaker_cooldown_seconds is None:
            from mamba.adapters.wings.breaker import BreakerPolicy

            breaker_cooldown_seconds = BreakerPolicy().cooldown_seconds
        self.breaker_cooldown_seconds = breaker_cooldown_seconds
        self.clock = clock

    def _unavailable(self, node_ids: list[str]) -> dict[str, str]:
        """Why each unreachable node is: its last health probe (``offline``/``unauthorized``) or
        its open circuit breaker. Both items of every node in one BatchGetItem (per 50 nodes)."""
        table = MainItem.Meta.table_name
        client = MainItem._get_connection().connection.client
        found: dict[str, str] = {}
        now = self.clock()
        for start in range(0, len(node_ids), 50):
            chunk = node_ids[start : start + 50]
            by_pk = {keys.node_health(n)[0]: n for n in chunk}  # both items live in the node's partition
            wanted = [key for n in chunk for key in (keys.node_breaker(n), keys.node_health(n))]
            request: dict[str, Any] = {table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in wanted]}}
            for _attempt in range(3):
                raw: dict[str, Any] = client.batch_get_item(RequestItems=request)
                for item in raw.get("Responses", {}).get(table, []):
                    pk, sk = item["pk"]["S"], item["sk"]["S"]
                    node_id = by_pk.get(pk, "")
                    if sk == keys.node_breaker(node_id)[1] and "N" in item.get("opened_at", {}):
                        if float(item["opened_at"]["N"]) + self.breaker_cooldown_seconds > now:
                            found[node_id] = "circuit_open"
                    elif sk == keys.node_health(node_id)[1] and item.get("status", {}).get("S") in UNHEALTHY:
                        found.setdefault(node_id, str(item["status"]["S"]))
                request = raw.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:  # keys still unprocessed after three tries: DynamoDB is throttling
                raise DependencyUnavailableError("The nodes' health could not be read; try again.")
        return found

    def node_loads(self) -> list[NodeLoad]:
        """Every node with the memory and disk its servers commit, and whether it is reachable."""
        with translate(unavailable="The nodes could not be read; try again."):
            nodes = [_node(item) for item in NodeItem.gsi1.query(keys.ALL_NODES) if isinstance(item, NodeItem)]
            unavailable = self._unavailable([node.id for node in nodes])
            loads = []
            for node in nodes:
                memory = disk = 0
                for item in ServerItem.gsi1.query(keys.servers_of_node(node.id)):
                    if isinstance(item, ServerItem) and item.kind == "server" and _holds_resources(item):
                        memory += int(item.memory_mb)
                        disk += int(item.disk_mb)
                loads.append(NodeLoad(node=node, memory_mb=memory, disk_mb=disk, unavailable=unavailable.get(node.id)))
        return loads

    def free_allocations(self, node_id: str, limit: int = 25) -> list[Allocation]:
        """Up to ``limit`` unassigned allocations of the node, by ip then port."""
        with translate(unavailable="The node's allocations could not be read; try again."):
            found = AllocationItem.query(
                keys.node(node_id)[0],
                AllocationItem.sk.startswith(keys.ALLOCATION_PREFIX),
                filter_condition=AllocationItem.server_id.does_not_exist(),
                consistent_read=True,
                limit=limit,
            )
            return [_allocation(item) for item in found]

    def guard(self, tenant_id: str) -> TenantGuard:
        """The tenant's guard (one consistent GetItem); version 0 when none exists yet."""
        with translate(unavailable="The tenant's servers could not be read; try again."):
            item = get_or_none(ServerGuardItem, *keys.server_guard(tenant_id), consistent_read=True)
        if item is None:
            return TenantGuard()
        return TenantGuard(version=int(item.version), recent=_recent(item.recent))

    def guard_version(self, tenant_id: str) -> int:
        return self.guard(tenant_id).version

    def usage(self, tenant_id: str, guard: TenantGuard | None = None, exclude: str | None = None) -> Usage:
        """The tenant's server count and the memory and disk its servers hold: gsi2 (one Query
        per MB) plus the guard's recent reservations gsi2 does not show yet. A recent
        reservation of a server gsi2 lists (a build change, ``reserve_build``) counts with the
        larger of the two, since gsi2 may still show the old limits. ``exclude`` leaves one
        server out (a build change checks the others plus its new limits)."""
        horizon = time.time() - RECENT_SECONDS
        recent: dict[str, tuple[int, int]] = {}
        for server_uuid, memory_mb, disk_mb, at in guard.recent if guard else ():
            if at >= horizon and server_uuid != exclude:
                held = recent.get(server_uuid, (0, 0))
                recent[server_uuid] = (max(held[0], memory_mb), max(held[1], disk_mb))
        servers = memory = disk = 0
        with translate(unavailable="The tenant's servers could not be read; try again."):
            for item in ServerItem.gsi2.query(keys.servers_of_tenant(tenant_id)):
                if not (isinstance(item, ServerItem) and item.kind == "server") or item.server_uuid == exclude:
                    continue
                reserved = recent.pop(item.server_uuid, (0, 0))
                servers += 1
                if _holds_resources(item):
                    memory += max(int(item.memory_mb), reserved[0])
                    disk += max(int(item.disk_mb), reserved[1])
        for server_uuid, (memory_mb, disk_mb) in recent.items():  # reserved, not yet in gsi2 ...
            # ... or deleted since: the reservation wrote the server item in the same transaction,
            # so a consistent read tells a lagging index from a server that is gone (create, delete
            # and create again within RECENT_SECONDS must not be refused for quota). Rarely any.
            with translate(unavailable="The tenant's servers could not be read; try again."):
                exists = get_or_none(
                    ServerItem, *keys.server(server_uuid), consistent_read=True, attributes_to_get=["pk"]
                )
            if exists is not None:
                servers, memory, disk = servers + 1, memory + memory_mb, disk + disk_mb
        return Usage(servers=servers, memory_mb=memory, disk_mb=disk)

    def reserve_build(self, server: Server, guard: TenantGuard) -> None:
        """A build change takes the same quota guard as a create: the guard's version moves on
        only from the one read before the quota check, and the guard remembers the server's new
        limits until gsi2 shows them. A concurrent create or build change of the tenant that
        committed first makes this TenantServersChangedError (the caller reads and checks again),
        so racing requests never pass the quota together."""

        def refused(cancelled: Cancellation) -> DomainError | None:
            return TenantServersChangedError("Another server of this tenant changed meanwhile.")

        with translate(on_cancel=refused, unavailable="The server's new limits could not be reserved; try again."):
            with TransactWrite(connection=connection()) as tx:
                _bump_guard(tx, server, guard)

    def release_build(self, server: Server) -> None:
        """Undo ``reserve_build``: the guard forgets its newest reservation of ``server`` with these
        limits (a build change that never applied no longer counts for ``RECENT_SECONDS``). The
        guard moves on from the version read, as every reservation does, so a reservation another
        request adds meanwhile is never written over: the read and the write are done again.
        Idempotent: nothing to forget writes nothing."""
        held = (server.uuid, server.limits.memory_mb, server.limits.disk_mb)
        for _attempt in range(8):
            guard = self.guard(server.tenant_id)
            mine = [i for i, r in enumerate(guard.recent) if r[:3] == held]
            if not mine:
                return
            recent = [list(r) for i, r in enumerate(guard.recent) if i != mine[-1]]
            version = ServerGuardItem.version
            with translate(
                on_condition=SKIP, unavailable="The server's reserved limits could not be released; try again."
            ) as moved:
                ServerGuardItem(*keys.server_guard(server.tenant_id)).update(
                    actions=[version.set(guard.version + 1), ServerGuardItem.recent.set(json.dumps(recent))],
                    condition=version == guard.version,
                )
            if not moved.condition_failed:
                return
            # another reservation of the tenant committed meanwhile: read again
        raise DependencyUnavailableError("The tenant's servers kept changing; the reserved limits were not released.")

    def reserve(self, server: Server, guard: TenantGuard | int) -> None:
        """Write the server and take its primary allocation, atomically (see the module doc).

        Raises TenantServersChangedError when another create of the tenant committed since
        ``guard_version`` was read, AllocationTakenError when the allocation is no longer
        free, ConflictError when the uuid exists, DependencyUnavailableError otherwise.
        """
        if isinstance(guard, int):
            guard = TenantGuard(version=guard)
        ip, port = server.allocation
        allocation = AllocationItem(*keys.allocation(server.node_id, ip, port))
        extras = server.additional_allocations  # a create that names its extra ports (Pterodactyl's)

        def refused(cancelled: Cancellation) -> DomainError | None:
            # pynamodb sends condition checks, then puts, then updates: the reasons are
            # [blueprint, server, guard, allocation, each extra allocation, blueprint usage].
            if cancelled.failed(2):
                return TenantServersChangedError("Another server of this tenant was created meanwhile.")
            if cancelled.failed(3):
                return AllocationTakenError("The allocation was taken meanwhile.", {"allocation": f"{ip}:{port}"})
            taken = [f"{a}:{p}" for i, (a, p) in enumerate(extras) if cancelled.failed(4 + i)]
            if taken:
                return AllocationTakenError("The allocation was taken meanwhile.", {"allocation": taken[0]})
            if cancelled.failed(1):
                return ConflictError("A server with this uuid exists.", {"uuid": server.uuid})
            if cancelled.failed(0):
                return NotFoundError("Blueprint not found.", {"blueprint_id": server.blueprint_id})
            return None

        with translate(on_cancel=refused, unavailable="The server could not be reserved; try again."):
            with TransactWrite(connection=connection()) as tx:
                _bump_guard(tx, server, guard)
                tx.update(
                    allocation,
                    actions=[AllocationItem.server_id.set(server.uuid)],
                    condition=AllocationItem.pk.exists() & AllocationItem.server_id.does_not_exist(),
                )
                for extra_ip, extra_port in extras:
                    tx.update(
                        AllocationItem(*keys.allocation(server.node_id, extra_ip, extra_port)),
                        actions=[AllocationItem.server_id.set(server.uuid)],
                        condition=AllocationItem.pk.exists() & AllocationItem.server_id.does_not_exist(),
                    )
                tx.save(server_item(server), condition=ServerItem.pk.does_not_exist())
                # The blueprint must still exist, and its usage counter takes the server, in the same
                # transaction as the blueprint's delete checks that counter: neither can slip past the other.
                tx.condition_check(
                    BlueprintItem, *keys.blueprint(server.blueprint_id), condition=BlueprintItem.pk.exists()
                )
                tx.update(
                    BlueprintUsageItem(*keys.blueprint_usage(server.blueprint_id)),
                    actions=[BlueprintUsageItem.servers.add(1), BlueprintUsageItem.kind.set("blueprint_usage")],
                )

    def rearm(self, server: Server, previous: Server, guard: TenantGuard) -> None:
        """An admin's retry of a failed provisioning: ``previous`` (``failed``) becomes ``server``
        (``provisioning``) on its primary allocation, in one transaction with the tenant's guard
        (as ``reserve``), the allocation (free, or still held by this server: a compensation that
        could not reach the node keeps it) and the release of the ports of ``previous`` the server
        no longer uses. Raises TenantServersChangedError, AllocationTakenError, ConflictError
        (the server is no longer failed, or it still holds a port on another node: reason
        ``held_on_node``), DependencyUnavailableError."""
        ip, port = server.allocation
        kept = set(server.allocations)
        with translate(unavailable="The server's ports could not be read; try again."):
            # Only ports the server still holds are released (a completed compensation freed them).
            releases = [
                (node_ip, node_port)
                for node_ip, node_port in previous.allocations
                if (node_ip, node_port) not in kept
                and (held := get_or_none(AllocationItem, *keys.allocation(previous.node_id, node_ip, node_port)))
                and held.server_id == previous.uuid
            ]
        if releases and previous.node_id != server.node_id:
            raise held_elsewhere(previous.uuid, previous.node_id)

        def refused(cancelled: Cancellation) -> ConflictError | None:
            # Puts before updates: [server, guard, allocation, releases...].
            if cancelled.failed(0):
                return ConflictError("The server is no longer failed.", {"server_id": server.uuid})
            if cancelled.failed(1):
                return TenantServersChangedError("Another server of this tenant was created meanwhile.")
            if cancelled.failed(2):
                return AllocationTakenError("The allocation was taken meanwhile.", {"allocation": f"{ip}:{port}"})
            return AllocationTakenError("A port of the server changed meanwhile.", {"server_id": server.uuid})

        with translate(on_cancel=refused, unavailable="The server could not be reserved; try again."):
            with TransactWrite(connection=connection()) as tx:
                _bump_guard(tx, server, guard)
                tx.update(
                    AllocationItem(*keys.allocation(server.node_id, ip, port)),
                    actions=[AllocationItem.server_id.set(server.uuid)],
                    condition=AllocationItem.pk.exists()
                    & (AllocationItem.server_id.does_not_exist() | (AllocationItem.server_id == server.uuid)),
                )
                for node_ip, node_port in releases:
                    tx.update(
                        AllocationItem(*keys.allocation(previous.node_id, node_ip, node_port)),
                        actions=[AllocationItem.server_id.remove()],
                        condition=AllocationItem.server_id == previous.uuid,
                    )
                tx.save(server_item(server), condition=ServerItem.status == FAILED)

    def unreserve(self, server: Server) -> None:
        """Undo ``reserve`` when the workflow could not start: delete the still-provisioning
        server and free its allocations in one transaction (a no-op once either is gone)."""
        # A failed condition: the server moved on, or is gone already (undone before).
        with translate(on_condition=SKIP, unavailable="The reservation could not be undone; try again."):
            with TransactWrite(connection=connection()) as tx:
                tx.delete(ServerItem(*keys.server(server.uuid)), condition=ServerItem.status == PROVISIONING)
                for held_ip, held_port in server.allocations:
                    tx.update(
                        AllocationItem(*keys.allocation(server.node_id, held_ip, held_port)),
                        actions=[AllocationItem.server_id.remove()],
                        condition=AllocationItem.server_id == server.uuid,
                    )
                tx.update(
                    BlueprintUsageItem(*keys.blueprint_usage(server.blueprint_id)),
                    actions=[BlueprintUsageItem.servers.add(-1)],
                )

    def plan_quotas(self, tenant_id: str) -> str | None:
        """The tenant's ``plan_quotas`` JSON (None: no plan, or no such tenant)."""
        item = get_or_none(TenantItem, *keys.tenant(tenant_id), attributes_to_get=["plan_quotas"])
        return item.plan_quotas if item is not None else None


__all__ = ["DynamoPlacementStore"]
