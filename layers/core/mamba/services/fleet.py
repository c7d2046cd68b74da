"""The platform admin's fleet: servers across tenants, a node's servers with their live state,
and draining a node.

* ``list_servers``: one page of servers across tenants, with each one's tenant and node names
  (``FleetReader``: one Query on an index, never a Scan, then one BatchGetItem for the names).
* ``node_servers``: a node's servers as stored, each with what the node's Wings says of it now
  (one ``GET /api/servers`` with the short probe timeouts and no retries). A node that does not
  answer, refuses the panel's token or has its breaker open gives the stored state and
  ``live = None``: the list an operator opens to see what a dead node held must not fail with it.
* ``drain``: maintenance on. Placement already refuses a node in maintenance
  (``mamba.domain.placement``: reason ``maintenance``), so no new server lands on it, while the
  servers already there keep running and can be moved or deleted. A drain *is* maintenance;
  the separate route says the intent and answers how many servers are left to move.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamba.domain.errors import NotFoundError, WingsNotFoundError, WingsRejectedError, WingsUnavailableError
from mamba.domain.fleet import FleetServer, LiveState, ServerFilter, live_states
from mamba.domain.nodes import Node
from mamba.domain.pages import Page, PageRequest
from mamba.domain.servers import UUID_V4
from mamba.ports import AgentFor, FleetReader, NodeRepository
from mamba.services import nodes as node_service


@dataclass(frozen=True)
class NodeServer:
    entry: FleetServer
    live: LiveState | None  # None: the node did not answer, or does not know the server


@dataclass(frozen=True)
class NodeServers:
    node: Node
    reachable: bool
    page: Page[NodeServer]


@dataclass(frozen=True)
class Drained:
    node: Node
    servers_left: int  # on the node's first page of servers (at most ``DRAIN_COUNT_LIMIT``)


DRAIN_COUNT_LIMIT = 100


def list_servers(reader: FleetReader, wanted: ServerFilter, page: PageRequest) -> Page[FleetServer]:
    return reader.servers(wanted, page)


def server_detail(reader: FleetReader, server_id: str) -> FleetServer:
    """Any tenant's server with its tenant's and node's names. Raises NotFoundError (also for
    an id that is not a server uuid, without reading)."""
    server_id = server_id.lower()
    if not UUID_V4.match(server_id):
        raise NotFoundError("Server not found.", {"server_id": server_id})
    return reader.server(server_id)


def node_servers(
    nodes: NodeRepository, reader: FleetReader, agent_for: AgentFor, node_id: str, page: PageRequest
) -> NodeServers:
    """Raises NotFoundError for an unknown node; never fails because the node is down."""
    node = nodes.get(node_id)
    found = reader.servers(ServerFilter(node_id=node_id), page)
    live: dict[str, LiveState] | None = None
    try:
        live = live_states(agent_for(node).list_servers(probe=True))
    except (WingsUnavailableError, WingsRejectedError, WingsNotFoundError):
        live = None
    items = [NodeServer(entry=e, live=(live or {}).get(e.server.uuid.lower())) for e in found.items]
    return NodeServers(node=node, reachable=live is not None, page=Page(items=items, next_cursor=found.next_cursor))


def drain(nodes: NodeRepository, reader: FleetReader, node_id: str) -> Drained:
    """Maintenance on (idempotent). Raises NotFoundError, ConflictError (a concurrent token rotation)."""
    node = nodes.get(node_id)
    if not node.maintenance:
        node = node_service.update_node(nodes, node_id, {"maintenance": True})
    left = reader.servers(ServerFilter(node_id=node_id), PageRequest(limit=DRAIN_COUNT_LIMIT))
    return Drained(node=node, servers_left=len(left.items))
