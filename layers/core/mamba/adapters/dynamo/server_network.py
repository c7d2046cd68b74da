"""A server's ports and image as Pterodactyl's client API changes them (``ServerNetworkStore``).

Each change is one write, or one transaction where two items move together (the allocation's
holder and the server's list of ports), conditioned on what the caller read: a change that raced
another one fails as a whole (ConflictError) and nothing is half-written. Wings reads the new
values when the server next starts (its pre-flight sync), as with Pterodactyl's own routes.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import Cancellation, translate
from mamba.adapters.dynamo.items import AllocationItem, ServerItem
from mamba.adapters.dynamo.users import connection
from mamba.domain.errors import ConflictError, DomainError
from mamba.domain.servers import DELETING, Server

UNAVAILABLE = "The server's ports could not be saved; try again."


def _ports(pairs: tuple[tuple[str, int], ...]) -> str:
    """The stored form of additional allocations (as ``DynamoServerRepository`` writes them)."""
    return json.dumps([list(a) for a in pairs])


def _as_read(server: Server) -> Any:
    """The server item still holds the ports (and status class) the caller read."""
    ip, port = server.allocation
    return (
        ServerItem.pk.exists()
        & (ServerItem.allocation_ip == ip)
        & (ServerItem.allocation_port == port)
        & (ServerItem.additional_allocations == _ports(server.additional_allocations))
        & (ServerItem.status != DELETING)
    )


def _changed(server: Server) -> ConflictError:
    return ConflictError("The server's ports changed meanwhile; try again.", {"uuid": server.uuid})


class DynamoServerNetworkStore:
    def add_allocation(self, server: Server, ip: str, port: int, now: str) -> None:
        """Give the free allocation ``ip:port`` of the server's node to the server as an extra port.
        ConflictError when the allocation is taken or gone, or the server changed."""

        def refused(cancelled: Cancellation) -> DomainError | None:
            # pynamodb sends the updates in the order they were added: [allocation, server].
            if cancelled.failed(0):
                return ConflictError("The allocation was taken meanwhile.", {"allocation": f"{ip}:{port}"})
            return _changed(server) if cancelled.failed(1) else None

        with translate(on_cancel=refused, unavailable=UNAVAILABLE):
            with TransactWrite(connection=connection()) as tx:
                tx.update(
                    AllocationItem(*keys.allocation(server.node_id, ip, port)),
                    actions=[AllocationItem.server_id.set(server.uuid)],
                    condition=AllocationItem.pk.exists() & AllocationItem.server_id.does_not_exist(),
                )
                tx.update(
                    ServerItem(*keys.server(server.uuid)),
                    actions=[
                        ServerItem.additional_allocations.set(_ports((*server.additional_allocations, (ip, port)))),
                        ServerItem.updated_at.set(now),
                    ],
                    condition=_as_read(server),
                )

    def remove_allocation(self, server: Server, ip: str, port: int, now: str) -> None:
        """Take the extra port ``ip:port`` from the server and free it (its notes go too, as in
        Pterodactyl). ConflictError when the server changed meanwhile."""
        remaining = tuple(a for a in server.additional_allocations if a != (ip, port))

        def refused(cancelled: Cancellation) -> DomainError | None:
            return _changed(server) if cancelled.failed() else None

        with translate(on_cancel=refused, unavailable=UNAVAILABLE):
            with TransactWrite(connection=connection()) as tx:
                tx.update(
                    AllocationItem(*keys.allocation(server.node_id, ip, port)),
                    actions=[AllocationItem.server_id.remove(), AllocationItem.notes.remove()],
                    condition=AllocationItem.server_id == server.uuid,
                )
                tx.update(
                    ServerItem(*keys.server(server.uuid)),
                    actions=[ServerItem.additional_allocations.set(_ports(remaining)), ServerItem.updated_at.set(now)],
                    condition=_as_read(server),
                )

    def set_primary(self, server: Server, ip: str, port: int, now: str) -> None:
        """Make the server's extra port ``ip:port`` its primary one (the old primary becomes an
        extra port). ConflictError when the server changed meanwhile."""
        others = tuple(a for a in server.allocations if a != (ip, port))
        with translate(on_condition=_changed(server), unavailable=UNAVAILABLE):
            ServerItem(*keys.server(server.uuid)).update(
                actions=[
                    ServerItem.allocation_ip.set(ip),
                    ServerItem.allocation_port.set(port),
                    ServerItem.additional_allocations.set(_ports(others)),
                    ServerItem.updated_at.set(now),
                ],
                condition=_as_read(server),
            )

    def set_image(self, server: Server, image: str, now: str) -> None:
        """The server's Docker image. ConflictError when the server is being deleted or is gone."""
        with translate(on_condition=_changed(server), unavailable=UNAVAILABLE):
            ServerItem(*keys.server(server.uuid)).update(
                actions=[ServerItem.docker_image.set(image), ServerItem.updated_at.set(now)],
                condition=ServerItem.pk.exists() & (ServerItem.status != DELETING),
            )


__all__ = ["DynamoServerNetworkStore"]
