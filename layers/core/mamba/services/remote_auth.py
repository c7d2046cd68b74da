"""Who calls the Wings callback API (wings-contract.md §5.1): the node behind a
``Bearer <token_id>.<token>``, and the servers it may speak of.

Every remote use case (``remote_servers``, ``remote_install``, ``remote_activity``, the
SFTP login in ``mamba.auth.sftp`` and the backup callbacks) takes the ``Node`` that
``authenticate_node`` returned. A node only ever sees servers assigned to it; anything else
is 404, exactly like an unknown uuid. Nothing here holds a lock or waits: Wings calls back
*during* the panel's own calls to it (create, sync, every start), so each callback is a
handful of single-item reads and writes.

Errors raised (all ``DomainError``; the door renders them as ``{"errors": [...]}``):
``ValidationError`` 400, ``UnauthorizedError`` 401, ``ForbiddenError`` 403,
``NotFoundError`` 404, ``ConflictError`` 409, ``DependencyUnavailableError`` 503.
"""

from __future__ import annotations

import hmac
from typing import Protocol

from mamba.domain import servers as srv
from mamba.domain.errors import ForbiddenError, NotFoundError, UnauthorizedError, ValidationError
from mamba.domain.nodes import Node
from mamba.domain.servers import Server


class NodeDirectory(Protocol):
    def find_by_token_id(self, token_id: str) -> Node | None: ...
    def token(self, node: Node) -> str: ...


class ServerStore(Protocol):
    """The servers as the remote use cases read and write them."""

    def get(self, server_uuid: str) -> Server: ...
    def save(self, server: Server) -> None: ...
    def on_node(self, node_id: str) -> list[Server]: ...
    def page_on_node(self, node_id: str, page: int, per_page: int) -> tuple[list[Server], int]: ...
    def add_activity(self, entries: list[srv.ActivityEntry]) -> int: ...


def authenticate_node(authorization: str | None, nodes: NodeDirectory) -> Node:
    """``Authorization: Bearer <token_id>.<token>`` → the node.

    No header or another scheme → 401; not exactly two non-empty dot-separated parts → 400;
    an unknown token id or a wrong token → 403. The token is compared in constant time.
    """
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise UnauthorizedError("The required authorization heads were not present in the request.")
    parts = value.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise ValidationError("The authorization header is not of the form <token_id>.<token>.")
    token_id, token = parts
    node = nodes.find_by_token_id(token_id)
    expected = nodes.token(node) if node is not None else ""
    # compare_digest runs even for an unknown id, so the answer's timing says nothing.
    same = hmac.compare_digest(token.encode(), (expected or "\0" * len(token)).encode())
    if node is None or not expected or not same:
        raise ForbiddenError("You are not authorized to access this resource.")
    return node


def server_of_node(node: Node, server_uuid: str, servers: ServerStore) -> Server:
    """The server, if it is assigned to ``node``; otherwise 404 (as if it did not exist)."""
    if not srv.UUID_V4.match(server_uuid):
        raise NotFoundError("The requested server does not exist.", {"uuid": server_uuid})
    try:
        server = servers.get(server_uuid)
    except NotFoundError:
        server = None
    if server is None or server.node_id != node.id:
        raise NotFoundError("The requested server does not exist.", {"uuid": server_uuid})
    return server
