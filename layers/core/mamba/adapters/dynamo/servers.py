"""Servers and their activity log in the main table (see docs/data-model.md).

* ``SERVER#<uuid>/PROFILE``: the server; gsi1 ``NODESERVERS#<node_id>`` / ``<uuid>`` lists a
  node's servers (the remote API's boot list), gsi2 ``TENANTSERVERS#<tid>`` /
  ``<created_at>#<uuid>`` a tenant's.
* ``SERVER#<uuid>/ACTIVITY#<timestamp>#<id>``: activity entries, in time order under the server.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from typing import Any

from mamba.adapters.dynamo import keys, prefetch
from mamba.adapters.dynamo.errors import translate
from mamba.adapters.dynamo.items import ServerActivityItem, ServerItem
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.servers import ActivityEntry, FeatureLimits, Limits, Server


def _server(item: ServerItem) -> Server:
    return Server(
        uuid=item.server_uuid,
        name=item.name,
        description=item.description or "",
        tenant_id=item.tenant_id,
        node_id=item.node_id,
        blueprint_id=item.blueprint_id,
        allocation=(item.allocation_ip, int(item.allocation_port)),
        additional_allocations=tuple((str(ip), int(port)) for ip, port in json.loads(item.additional_allocations)),
        docker_image=item.docker_image,
        startup=item.startup,
        environment=json.loads(item.environment or "{}"),
        limits=Limits(
            memory_mb=int(item.memory_mb),
            disk_mb=int(item.disk_mb),
            cpu_percent=int(item.cpu_percent),
            swap_mb=int(item.swap_mb),
            io_weight=int(item.io_weight),
            threads=item.threads,
            oom_disabled=bool(item.oom_disabled),
        ),
        feature_limits=FeatureLimits(backups=int(item.backup_limit), allocations=int(item.allocation_limit)),
        status=item.status,
        skip_install_script=bool(item.skip_install_script),
        installed_at=item.installed_at,
        status_reason=item.status_reason,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _item(server: Server) -> ServerItem:
    pk, sk = keys.server(server.uuid)
    return ServerItem(
        pk,
        sk,
        kind="server",
        gsi1pk=keys.servers_of_node(server.node_id),
        gsi1sk=server.uuid,
        gsi2pk=keys.servers_of_tenant(server.tenant_id),
        gsi2sk=keys.created_sort(server.created_at, server.uuid),
        gsi3pk=keys.ALL_SERVERS,
        gsi3sk=keys.created_sort(server.created_at, server.uuid),
        server_uuid=server.uuid,
        short_id=server.short_id,
        name=server.name,
        description=server.description,
        tenant_id=server.tenant_id,
        node_id=server.node_id,
        blueprint_id=server.blueprint_id,
        status=server.status,
        allocation_ip=server.allocation[0],
        allocation_port=server.allocation[1],
        additional_allocations=json.dumps([list(a) for a in server.additional_allocations]),
        docker_image=server.docker_image,
        startup=server.startup,
        environment=json.dumps(server.environment),
        memory_mb=server.limits.memory_mb,
        swap_mb=server.limits.swap_mb,
        disk_mb=server.limits.disk_mb,
        cpu_percent=server.limits.cpu_percent,
        io_weight=server.limits.io_weight,
        threads=server.limits.threads,
        oom_disabled=server.limits.oom_disabled,
        backup_limit=server.feature_limits.backups,
        allocation_limit=server.feature_limits.allocations,
        skip_install_script=server.skip_install_script,
        installed_at=server.installed_at,
        status_reason=server.status_reason,
        created_at=server.created_at,
        updated_at=server.updated_at,
    )


class DynamoServerRepository:
    def __init__(self, cursors: CursorCodec | None = None) -> None:
        self._cursors = cursors

    def page_of_tenant(self, tenant_id: str, page: PageRequest, status: str | None = None) -> Page[Server]:
        """One page of a tenant's servers, oldest first: one Query on gsi2 (a status filter is
        applied by DynamoDB to the items that Query reads, so a filtered page may be short
        while ``next_cursor`` still leads on)."""
        if self._cursors is None:
            raise RuntimeError("built without a cursor codec (use bootstrap.server_repository())")
        condition = (ServerItem.status == status) if status else None
        with translate(unavailable="The tenant's servers could not be read; try again."):
            found, cursor = query_page(
                self._cursors,
                _first_page(ServerItem.gsi2.query),
                keys.servers_of_tenant(tenant_id),
                scope=f"servers:{tenant_id}:{status or ''}",
                page=page,
                filter_condition=condition,
            )
        return Page(items=[_server(item) for item in found], next_cursor=cursor)

    def add(self, server: Server) -> None:
        """Raises ConflictError when a server with this uuid exists."""
        with translate(
            on_condition=ConflictError("A server with this uuid exists.", {"uuid": server.uuid}),
            unavailable="The server could not be saved; try again.",
        ):
            _item(server).save(condition=ServerItem.pk.does_not_exist())

    def get(self, server_uuid: str) -> Server:
        """One consistent GetItem, or none when the guard's batch of this request read it already
        (mamba.adapters.dynamo.prefetch). Raises NotFoundError."""
        kept = prefetch.take(keys.server(server_uuid))
        if kept is not None:
            if kept.item is None:
                raise NotFoundError("Server not found.", {"uuid": server_uuid})
            return _server(ServerItem.from_raw_data(kept.item))
        with translate(on_missing=NotFoundError("Server not found.", {"uuid": server_uuid})):
            return _server(ServerItem.get(*keys.server(server_uuid), consistent_read=True))

    def save(self, server: Server) -> None:
        """Replace an existing server (its node, tenant and created_at keep the index keys right)."""
        with translate(
            on_condition=NotFoundError("Server not found.", {"uuid": server.uuid}),
            unavailable="The server could not be saved; try again.",
        ):
            _item(server).save(condition=ServerItem.pk.exists())

    def delete(self, server_uuid: str) -> None:
        ServerItem(*keys.server(server_uuid)).delete()

    def on_node(self, node_id: str) -> list[Server]:
        """Every server assigned to ``node_id``, by uuid (one Query per 1 MB page of gsi1)."""
        with translate(unavailable="The node's servers could not be read; try again."):
            items = ServerItem.gsi1.query(keys.servers_of_node(node_id))
            return [_server(item) for item in items if isinstance(item, ServerItem) and item.kind == "server"]

    def page_on_node(self, node_id: str, page: int, per_page: int) -> tuple[list[Server], int]:
        """One page (1-based) of a node's servers in uuid order, and the total.

        Wings asks for numbered pages (Laravel-style) at boot only; the node's servers are read
        through gsi1 and sliced, which for the few hundred servers a node holds costs one Query.
        """
        servers = self.on_node(node_id)
        start = (page - 1) * per_page
        return servers[start : start + per_page], len(servers)

    def of_tenant(self, tenant_id: str) -> list[Server]:
        with translate(unavailable="The tenant's servers could not be read; try again."):
            items = ServerItem.gsi2.query(keys.servers_of_tenant(tenant_id))
            return [_server(item) for item in items if isinstance(item, ServerItem) and item.kind == "server"]

    def add_activity(self, entries: list[ActivityEntry]) -> int:
        """Store activity entries (one BatchWriteItem per 25). Returns how many were written.

        Wings re-sends a batch the panel answered with an error, so the sort key includes the
        entry's own timestamp and an id derived from its content: a duplicate overwrites itself.
        """
        with translate(unavailable="The activity could not be stored; try again."):
            with ServerActivityItem.batch_write() as batch:
                for entry in entries:
                    entry_id = entry.entry_id or _content_id(entry)
                    pk, sk = keys.server_activity(entry.server_uuid, entry.timestamp, entry_id)
                    batch.save(
                        ServerActivityItem(
                            pk,
                            sk,
                            kind="server_activity",
                            entry_id=entry_id,
                            server_uuid=entry.server_uuid,
                            tenant_id=entry.tenant_id,
                            node_id=entry.node_id,
                            event=entry.event,
                            user_id=entry.user_id,
                            ip=entry.ip,
                            timestamp=entry.timestamp,
                            metadata=json.dumps(entry.metadata),
                            source=entry.source,
                        )
                    )
        return len(entries)

    def activity(self, server_uuid: str, limit: int = 100) -> list[ActivityEntry]:
        """The newest ``limit`` activity entries of a server, newest first."""
        pk, _ = keys.server(server_uuid)
        items = ServerActivityItem.query(
            pk, ServerActivityItem.sk.startswith(keys.SERVER_ACTIVITY_PREFIX), scan_index_forward=False, limit=limit
        )
        return [
            ActivityEntry(
                server_uuid=item.server_uuid,
                tenant_id=item.tenant_id,
                event=item.event,
                timestamp=item.timestamp,
                metadata=json.loads(item.metadata or "{}"),
                user_id=item.user_id,
                ip=item.ip,
                node_id=item.node_id,
                source=item.source,
                entry_id=item.entry_id,
            )
            for item in items
        ]


def _first_page(query: Any) -> Any:
    """``query`` limited to DynamoDB's first answer when a filter is given: pynamodb would
    otherwise keep querying until ``limit`` items matched, and a page must cost one Query."""

    def one(*args: Any, **kwargs: Any) -> Any:
        results = query(*args, **kwargs)
        if kwargs.get("filter_condition") is None:
            return results
        return _OnePage(results, int(kwargs["limit"]))

    return one


class _OnePage:
    """The first page of a ResultIterator, cut at ``limit`` items with the matching cursor key."""

    def __init__(self, results: Any, limit: int) -> None:
        self._results = results
        self._limit = limit
        self.last_evaluated_key: dict[str, Any] | None = None

    def __iter__(self) -> Any:
        pages = self._results.page_iter
        raw = next(pages).get("Items") or []
        taken = raw[: self._limit]
        if len(raw) > self._limit:
            self.last_evaluated_key = {key: taken[-1][key] for key in pages.key_names}
        else:
            self.last_evaluated_key = pages.last_evaluated_key
        map_fn = self._results._map_fn
        for item in taken:
            yield map_fn(item) if map_fn else item


def _content_id(entry: ActivityEntry) -> str:
    raw = json.dumps([entry.event, entry.user_id, entry.ip, entry.metadata], sort_keys=True)
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, raw))
