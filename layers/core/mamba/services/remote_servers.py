"""What a node fetches about its servers (wings-contract.md §5.3, §5.4): the paginated list
it loads at boot and one server's configuration document. The document itself is built by
``mamba.domain.wings_config``; this module reads the records it is built from.

Raises NotFoundError (a server not on the calling node) and DependencyUnavailableError.
"""

from __future__ import annotations

from typing import Any, Protocol

from mamba.domain import wings_config
from mamba.domain.blueprints import Blueprint
from mamba.domain.errors import NotFoundError
from mamba.domain.nodes import Node
from mamba.domain.wings_config import BlueprintRuntime
from mamba.services.remote_auth import ServerStore, server_of_node


class BlueprintSource(Protocol):
    def runtime(self, blueprint_id: str) -> BlueprintRuntime: ...


class BlueprintRepository(Protocol):
    def get(self, blueprint_id: str) -> Blueprint: ...


class RepositoryBlueprints:
    """``BlueprintSource`` over the blueprint repository. A server whose blueprint was deleted
    still gets a valid document (empty process configuration) rather than failing a node's
    whole boot: Wings aborts the boot on any error answering the server list."""

    def __init__(self, repository: BlueprintRepository) -> None:
        self.repository = repository
        self._cache: dict[str, BlueprintRuntime] = {}

    def runtime(self, blueprint_id: str) -> BlueprintRuntime:
        if blueprint_id not in self._cache:
            try:
                self._cache[blueprint_id] = wings_config.runtime_of(self.repository.get(blueprint_id))
            except NotFoundError:
                self._cache[blueprint_id] = BlueprintRuntime(id=blueprint_id)
        return self._cache[blueprint_id]


def list_servers(
    node: Node, page: str | None, per_page: str | None, servers: ServerStore, blueprints: BlueprintSource
) -> dict[str, Any]:
    """One page of the node's servers, every status included (``wings_config.server_list``)."""
    number, size = wings_config.page_params(page, per_page)
    found, total = servers.page_on_node(node.id, number, size)
    return wings_config.server_list(node, [(s, blueprints.runtime(s.blueprint_id)) for s in found], total, number, size)


def server_configuration(
    node: Node, server_uuid: str, servers: ServerStore, blueprints: BlueprintSource
) -> dict[str, Any]:
    server = server_of_node(node, server_uuid, servers)
    return wings_config.configuration(node, server, blueprints.runtime(server.blueprint_id))
