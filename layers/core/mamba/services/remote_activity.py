"""Activity a node reports (wings-contract.md §5.10): stored in its servers' activity logs.

Raises ValidationError (a malformed batch).
"""

from __future__ import annotations

from typing import Any

from mamba.domain import servers as srv
from mamba.domain.errors import NotFoundError
from mamba.domain.nodes import Node
from mamba.domain.servers import Server
from mamba.domain.wings_activity import parse_activity
from mamba.services.remote_auth import ServerStore, server_of_node


def record_activity(node: Node, body: Any, servers: ServerStore) -> tuple[int, int]:
    """Store the node's activity batch in the servers' activity logs. Events that do not start
    with ``server:`` and servers not on this node are skipped (as the reference panel does).
    Returns (stored, skipped). Storing is idempotent, because Wings re-sends a batch after an error."""
    entries = parse_activity(body)
    on_node: dict[str, Server | None] = {}
    kept: list[srv.ActivityEntry] = []
    for entry in entries:
        if not entry.event.startswith("server:"):
            continue
        if entry.server_uuid not in on_node:
            try:
                on_node[entry.server_uuid] = server_of_node(node, entry.server_uuid, servers)
            except NotFoundError:
                on_node[entry.server_uuid] = None
        server = on_node[entry.server_uuid]
        if server is None:
            continue
        kept.append(
            srv.ActivityEntry(
                server_uuid=server.uuid,
                tenant_id=server.tenant_id,
                event=entry.event,
                timestamp=entry.timestamp,
                metadata=entry.metadata,
                user_id=entry.user_id,
                ip=entry.ip,
                node_id=node.id,
            )
        )
    if kept:
        servers.add_activity(kept)
    return len(kept), len(entries) - len(kept)
