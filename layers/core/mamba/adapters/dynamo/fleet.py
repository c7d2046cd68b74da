"""The platform admin's view of the fleet: servers across tenants (``/v1/admin/servers``) and
one node's servers (``/v1/admin/nodes/{id}/servers``), never with a Scan.

A page is one Query on the narrowest index the filters allow, then one BatchGetItem for the
names of the page's tenants and nodes:

* ``node_id`` given: gsi1 ``NODESERVERS#<node_id>`` (uuid order);
* else ``tenant_id`` given: gsi2 ``TENANTSERVERS#<tid>`` (creation order);
* else: gsi3 ``SERVERS`` (creation order; migration 0014 fills it for older servers).

The other exact filters (status, tenant, node) are DynamoDB filter expressions on that Query;
``q`` (a case-insensitive prefix of the name or uuid) is applied to the items the Query read,
because DynamoDB cannot compare case-insensitively. Each page reads at most ``limit`` items,
so a filtered page may be short (even empty) while ``next_cursor`` still leads on: the cost
of a page stays bounded however rare the matches are.
"""

from __future__ import annotations

from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import translate
from mamba.adapters.dynamo.identity import DynamoIdentityRepository
from mamba.adapters.dynamo.items import NodeItem, ServerItem, TenantItem
from mamba.adapters.dynamo.pagination import CursorCodec
from mamba.adapters.dynamo.servers import _OnePage, _server
from mamba.domain.errors import NotFoundError
from mamba.domain.fleet import FleetServer, ServerFilter
from mamba.domain.pages import Page, PageRequest

_BATCH = 100  # BatchGetItem's most keys per request


def _one_page(query: Any, *args: Any, limit: int, **kwargs: Any) -> _OnePage:
    """The first DynamoDB answer of ``query`` (page size ``limit + 1``), cut at ``limit``."""
    return _OnePage(query(*args, page_size=limit + 1, limit=limit + 1, **kwargs), limit)


class DynamoFleetReader:
    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors

    def servers(self, wanted: ServerFilter, page: PageRequest) -> Page[FleetServer]:
        index: Any
        if wanted.node_id:
            index, partition = ServerItem.gsi1, keys.servers_of_node(wanted.node_id)
        elif wanted.tenant_id:
            index, partition = ServerItem.gsi2, keys.servers_of_tenant(wanted.tenant_id)
        else:
            index, partition = ServerItem.gsi3, keys.ALL_SERVERS
        condition: Any = None
        for attribute, value in (
            (ServerItem.status, wanted.status),
            (ServerItem.tenant_id, wanted.tenant_id),
            (ServerItem.node_id, wanted.node_id),
        ):
            if value:
                condition = (attribute == value) if condition is None else (condition & (attribute == value))
        scope = f"admin.servers:{wanted.node_id or ''}:{wanted.tenant_id or ''}:{wanted.status or ''}:{wanted.q or ''}"
        start = self._cursors.decode(page.cursor, scope)
        with translate(unavailable="The servers could not be read; try again."):
            results = _one_page(
                index.query, partition, limit=page.limit, last_evaluated_key=start, filter_condition=condition
            )
            found = [_server(item) for item in results if isinstance(item, ServerItem) and item.kind == "server"]
        cursor = self._cursors.encode(results.last_evaluated_key, scope)
        matching = [s for s in found if wanted.matches(s)]
        names = self._names({s.tenant_id for s in matching}, {s.node_id for s in matching})
        items = [
            FleetServer(
                server=s,
                tenant_name=names.get(keys.tenant(s.tenant_id)),
                node_name=names.get(keys.node(s.node_id)),
            )
            for s in matching
        ]
        return Page(items=items, next_cursor=cursor)

    def server(self, server_uuid: str) -> FleetServer:
        """One server (a consistent GetItem) and its names (one BatchGetItem). Raises NotFoundError."""
        with translate(
            on_missing=NotFoundError("Server not found.", {"server_id": server_uuid}),
            unavailable="The server could not be read; try again.",
        ):
            s = _server(ServerItem.get(*keys.server(server_uuid), consistent_read=True))
            names = self._names({s.tenant_id}, {s.node_id})
        return FleetServer(
            server=s, tenant_name=names.get(keys.tenant(s.tenant_id)), node_name=names.get(keys.node(s.node_id))
        )

    def servers_on_node(self, node_id: str, page: PageRequest) -> Page[FleetServer]:
        return self.servers(ServerFilter(node_id=node_id), page)

    @staticmethod
    def _names(tenant_ids: set[str], node_ids: set[str]) -> dict[tuple[str, str], str]:
        """The names of these tenants and nodes (one BatchGetItem per 100 keys); a deleted one is absent."""
        wanted = [keys.tenant(t) for t in sorted(tenant_ids)] + [keys.node(n) for n in sorted(node_ids)]
        names: dict[tuple[str, str], str] = {}
        for start in range(0, len(wanted), _BATCH):
            found = DynamoIdentityRepository._batch_get(wanted[start : start + _BATCH])
            for key, raw in found.items():
                kind = raw.get("kind", {}).get("S")
                item = TenantItem.from_raw_data(raw) if kind == "tenant" else NodeItem.from_raw_data(raw)
                names[key] = item.name
        return names
