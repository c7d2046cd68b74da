"""What placement and the create transaction read and write (see docs/servers.md).

* Node loads: every node (gsi1 ``NODES``) and the memory and disk its servers commit (one
  gsi1 Query ``NODESERVERS#<id>`` per node; ``failed`` servers hold nothing).
* Free allocations of a node: one consistent Query of its ``ALLOC#`` items, filtered on
  ``server_id`` being absent.
* The reservation: one transaction that (1) bumps the tenant's quota guard on the condition
  that its version is the one read before the quota check, (2) assigns the allocation on the
  condition that nobody holds it, (3) puts the server on the condition that its uuid is new.
  Either all three happen or none does, and the cancellation reason says which one lost.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import AllocationItem, NodeItem, ServerGuardItem, ServerItem, TenantItem
from mamba.adapters.dynamo.nodes import _allocation, _node
from mamba.adapters.dynamo.servers import _item as server_item
from mamba.adapters.dynamo.users import CONDITION_FAILED, cancellation_codes, connection
from mamba.domain.errors import (
    AllocationTakenError,
    ConflictError,
    DependencyUnavailableError,
    TenantServersChangedError,
)
from mamba.domain.nodes import Allocation
from mamba.domain.placement import NodeLoad
from mamba.domain.quotas import Usage
from mamba.domain.servers import FAILED, PROVISIONING, Server


def _holds_resources(item: ServerItem) -> bool:
    return item.status != FAILED


class DynamoPlacementStore:
    def node_loads(self) -> list[NodeLoad]:
        """Every node with the memory and disk its servers commit."""
        try:
            nodes = [_node(item) for item in NodeItem.gsi1.query(keys.ALL_NODES) if isinstance(item, NodeItem)]
            loads = []
            for node in nodes:
                memory = disk = 0
                for item in ServerItem.gsi1.query(keys.servers_of_node(node.id)):
                    if isinstance(item, ServerItem) and item.kind == "server" and _holds_resources(item):
                        memory += int(item.memory_mb)
                        disk += int(item.disk_mb)
                loads.append(NodeLoad(node=node, memory_mb=memory, disk_mb=disk))
        except PynamoDBException as exc:
            raise DependencyUnavailableError("The nodes could not be read; try again.") from exc
        return loads

    def free_allocations(self, node_id: str, limit: int = 25) -> list[Allocation]:
        """Up to ``limit`` unassigned allocations of the node, by ip then port."""
        try:
            found = AllocationItem.query(
                keys.node(node_id)[0],
                AllocationItem.sk.startswith(keys.ALLOCATION_PREFIX),
                filter_condition=AllocationItem.server_id.does_not_exist(),
                consistent_read=True,
                limit=limit,
            )
            return [_allocation(item) for item in found]
        except PynamoDBException as exc:
            raise DependencyUnavailableError("The node's allocations could not be read; try again.") from exc

    def guard_version(self, tenant_id: str) -> int:
        try:
            return int(ServerGuardItem.get(*keys.server_guard(tenant_id), consistent_read=True).version)
        except DoesNotExist:
            return 0

    def usage(self, tenant_id: str) -> Usage:
        """The tenant's server count and the memory and disk its servers hold (one gsi2 Query per MB)."""
        servers = memory = disk = 0
        try:
            for item in ServerItem.gsi2.query(keys.servers_of_tenant(tenant_id)):
                if not (isinstance(item, ServerItem) and item.kind == "server"):
                    continue
                servers += 1
                if _holds_resources(item):
                    memory += int(item.memory_mb)
                    disk += int(item.disk_mb)
        except PynamoDBException as exc:
            raise DependencyUnavailableError("The tenant's servers could not be read; try again.") from exc
        return Usage(servers=servers, memory_mb=memory, disk_mb=disk)

    def reserve(self, server: Server, guard_version: int) -> None:
        """Write the server and take its primary allocation, atomically (see the module doc).

        Raises TenantServersChangedError when another create of the tenant committed since
        ``guard_version`` was read, AllocationTakenError when the allocation is no longer
        free, ConflictError when the uuid exists, DependencyUnavailableError otherwise.
        """
        ip, port = server.allocation
        guard = ServerGuardItem(*keys.server_guard(server.tenant_id))
        allocation = AllocationItem(*keys.allocation(server.node_id, ip, port))
        guard_condition = (
            ServerGuardItem.version.does_not_exist() if guard_version == 0 else ServerGuardItem.version == guard_version
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.update(
                    guard,
                    actions=[
                        ServerGuardItem.version.set(guard_version + 1),
                        ServerGuardItem.tenant_id.set(server.tenant_id),
                        ServerGuardItem.kind.set("server_guard"),
                    ],
                    condition=guard_condition,
                )
                tx.update(
                    allocation,
                    actions=[AllocationItem.server_id.set(server.uuid)],
                    condition=AllocationItem.pk.exists() & AllocationItem.server_id.does_not_exist(),
                )
                tx.save(server_item(server), condition=ServerItem.pk.does_not_exist())
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            if CONDITION_FAILED not in codes:
                raise DependencyUnavailableError("The server could not be reserved; try again.") from exc
            # pynamodb sends puts before updates: the reasons are [server, guard, allocation].
            if codes[1] == CONDITION_FAILED:
                raise TenantServersChangedError("Another server of this tenant was created meanwhile.") from exc
            if codes[2] == CONDITION_FAILED:
                taken = {"allocation": f"{ip}:{port}"}
                raise AllocationTakenError("The allocation was taken meanwhile.", taken) from exc
            raise ConflictError("A server with this uuid exists.", {"uuid": server.uuid}) from exc

    def unreserve(self, server: Server) -> None:
        """Undo ``reserve`` when the workflow could not start: delete the still-provisioning
        server and free its allocation in one transaction (a no-op once either is gone)."""
        ip, port = server.allocation
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.delete(ServerItem(*keys.server(server.uuid)), condition=ServerItem.status == PROVISIONING)
                tx.update(
                    AllocationItem(*keys.allocation(server.node_id, ip, port)),
                    actions=[AllocationItem.server_id.remove()],
                    condition=AllocationItem.server_id == server.uuid,
                )
        except TransactWriteError as exc:
            if CONDITION_FAILED not in cancellation_codes(exc):
                raise DependencyUnavailableError("The reservation could not be undone; try again.") from exc

    def plan_quotas(self, tenant_id: str) -> str | None:
        """The tenant's ``plan_quotas`` JSON (None: no plan, or no such tenant)."""
        try:
            item = TenantItem.get(*keys.tenant(tenant_id), attributes_to_get=["plan_quotas"])
        except DoesNotExist:
            return None
        return item.plan_quotas


__all__ = ["DynamoPlacementStore"]
