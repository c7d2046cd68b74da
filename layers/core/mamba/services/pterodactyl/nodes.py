"""Application API nodes, locations and allocations (docs/pterodactyl-api.md, "Nodes, locations
and allocations"), through the same node registry /v1/admin/nodes uses (``mamba.services.nodes``).

* A **location** is the ``location`` string nodes carry (its Pterodactyl ``short``). One with no
  node yet (made through ``POST /locations``) is kept as a record (kind ``location``) with its
  ``long`` name; so is the ``long`` of any location. Its integer id belongs to the short code.
* A **node**'s Pterodactyl fields are its Mamba fields renamed; ``allocated_resources`` is what
  its servers commit, as placement counts it.
* An **allocation**'s id belongs to ``"<node id>|<ip>|<port>"``, scoped to the node.

Errors: NotFoundError (an unknown id, or one of another node), ValidationError (422), ConflictError
(a location or node still in use, an allocation held by a server, every port already there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mamba.domain.clock import iso as clock_iso
from mamba.domain.clock import utcnow
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.nodes import Allocation, Node, allocation_id
from mamba.domain.placement import NodeLoad, PlacementRequest, why_not
from mamba.domain.pterodactyl import IdRef, iso, item, plain_list
from mamba.domain.servers import FAILED, Server
from mamba.ports import AllocationRepository, NodeRepository, PteroIds, PteroRecords
from mamba.services import nodes as node_service
from mamba.services.pterodactyl.common import by_number, invalid, listing, not_found, taken

NODE, LOCATION, ALLOCATION = "node", "location", "allocation"
NODE_FILTERS = ("uuid", "name", "fqdn", "daemon_token_id")
NODE_SORTS = ("id", "uuid", "memory", "disk")
LOCATION_FILTERS = ("short", "long")
ALLOCATION_FILTERS = ("ip", "port", "ip_alias", "server_id")
NODE_INCLUDES = ("allocations", "location", "servers")
LOCATION_INCLUDES = ("nodes", "servers")
ALLOCATION_INCLUDES = ("node", "server")
NULL_RESOURCE = {"object": "null_resource", "attributes": None}

# Pterodactyl's node fields and the Mamba field each one is.
NODE_FIELDS = {
    "name": "name",
    "fqdn": "fqdn",
    "scheme": "scheme",
    "behind_proxy": "behind_proxy",
    "maintenance_mode": "maintenance",
    "memory": "memory_mb",
    "memory_overallocate": "memory_overallocate_percent",
    "disk": "disk_mb",
    "disk_overallocate": "disk_overallocate_percent",
    "upload_size": "upload_limit_mb",
    "daemon_listen": "daemon_port",
    "daemon_sftp": "sftp_port",
    "daemon_base": "daemon_base",
}


@dataclass(frozen=True)
class NodePorts:
    nodes: NodeRepository
    allocations: AllocationRepository
    loads: Callable[[], list[NodeLoad]]  # every node with what its servers commit (PlacementStore.node_loads)
    servers_on: Callable[[str], list[Server]]  # one node's servers (ServerRepository.on_node)
    ids: PteroIds
    records: PteroRecords
    public_url: str


# --- locations ------------------------------------------------------------------------------


def _all_nodes(ports: NodePorts) -> list[Node]:
    """Every node (one Query per 100), without what its servers commit (``loads`` reads that)."""
    found: list[Node] = []
    cursor: str | None = None
    while True:
        page, cursor = ports.nodes.list(100, cursor)
        found.extend(page)
        if not cursor:
            return found


def _locations(ports: NodePorts, nodes: list[Node] | None = None) -> dict[str, dict[str, Any]]:
    """Every location: the records, and the short code of every node (with no record: no long)."""
    found = ports.records.list(LOCATION)
    for node in nodes if nodes is not None else _all_nodes(ports):
        if node.location and node.location not in found:
            found[node.location] = {"created_at": node.created_at, "updated_at": node.created_at}
    return found


def _location_attrs(short: str, ref: IdRef, record: Mapping[str, Any]) -> dict[str, Any]:
    created = iso(record.get("created_at")) or iso(utcnow())
    return {
        "id": ref.number,
        "short": short,
        "long": record.get("long"),
        "updated_at": iso(record.get("updated_at")) or created,
        "created_at": created,
    }


def _location_item(
    ports: NodePorts, short: str, ref: IdRef, record: Mapping[str, Any], loads: list[NodeLoad], wanted: frozenset[str]
) -> dict[str, Any]:
    relationships: dict[str, Any] = {}
    if "nodes" in wanted:
        here = [load for load in loads if load.node.location == short]
        relationships["nodes"] = plain_list([_node_item(ports, load, {}, frozenset()) for load in here])
    if "servers" in wanted:
        relationships["servers"] = NULL_RESOURCE  # servers are the server area's objects
    return item("location", _location_attrs(short, ref, record), relationships)


def list_locations(ports: NodePorts, query: Mapping[str, str], base_url: str, wanted: frozenset[str]) -> dict[str, Any]:
    loads = ports.loads() if "nodes" in wanted else []
    found = _locations(ports)
    refs = ports.ids.numbers(LOCATION, dict.fromkeys(found))
    rows = [_location_item(ports, s, refs[s], found[s], loads, wanted) for s in found]
    return listing(rows, query, filterable=LOCATION_FILTERS, sortable=("id",), base_url=base_url)


def _find_location(ports: NodePorts, number: str, nodes: list[Node]) -> tuple[str, IdRef, dict[str, Any]]:
    ref = by_number(ports.ids, LOCATION, number)
    record = ports.records.get(LOCATION, ref.ref)
    if record is None:
        used = next((node for node in nodes if node.location == ref.ref), None)
        if used is None:
            raise not_found(LOCATION, number)
        record = {"created_at": used.created_at}
    return ref.ref, ref, record


def get_location(ports: NodePorts, number: str, wanted: frozenset[str]) -> dict[str, Any]:
    short, ref, record = _find_location(ports, number, _all_nodes(ports))
    loads = ports.loads() if "nodes" in wanted else []
    return _location_item(ports, short, ref, record, loads, wanted)


def _check_short(value: str) -> str:
    short = value.strip()
    if not 1 <= len(short) <= 60:
        raise invalid("short", "must be between 1 and 60 characters", "between")
    return short


def create_location(ports: NodePorts, short: str, long: str | None) -> dict[str, Any]:
    """Raises ValidationError (422: the short code is taken, by a record or a node)."""
    short = _check_short(short)
    if short in _locations(ports):
        raise taken("short")
    now = clock_iso(utcnow())
    try:
        ports.records.add(LOCATION, short, {"long": long, "created_at": now, "updated_at": now})
    except ConflictError as exc:
        raise taken("short") from exc
    ref = ports.ids.number(LOCATION, short)
    return item("location", _location_attrs(short, ref, ports.records.get(LOCATION, short) or {}))


def update_location(ports: NodePorts, number: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The ``long`` name changes; the ``short`` code cannot, because nodes name their location by
    it (and the integer id belongs to it): a different short is a 422."""
    short, ref, record = _find_location(ports, number, _all_nodes(ports))
    if fields.get("short") is not None and fields["short"].strip() != short:
        raise invalid("short", "cannot be changed on this panel; create a new location and move the nodes")
    updated = {**record, "updated_at": clock_iso(utcnow())}
    if "long" in fields:
        updated["long"] = fields["long"]
    ports.records.put(LOCATION, short, updated)
    return item("location", _location_attrs(short, ref, updated))


def delete_location(ports: NodePorts, number: str) -> None:
    """Raises ConflictError while a node is there (as Pterodactyl refuses it)."""
    nodes = _all_nodes(ports)
    short, ref, _ = _find_location(ports, number, nodes)
    if any(node.location == short for node in nodes):
        raise ConflictError("Cannot delete a location that has nodes.", {"reason": "location_has_nodes"})
    ports.records.delete(LOCATION, short)
    ports.ids.forget(ref)


def location_short(ports: NodePorts, location_id: int) -> str:
    """The short code of an existing location id; 422 ``location_id`` otherwise."""
    ref = ports.ids.by_number(LOCATION, location_id)
    if ref is None or ref.ref not in _locations(ports):
        raise invalid("location_id", "does not exist", "exists")
    return ref.ref


# --- nodes ----------------------------------------------------------------------------------


def _node_attrs(node: Node, ref: IdRef, location: IdRef | None, load: NodeLoad) -> dict[str, Any]:
    return {
        "id": ref.number,
        "uuid": node.uuid,
        "public": True,
        "name": node.name,
        "description": None,
        # A node without a location (Mamba allows one) has no location id: 0 names none.
        "location_id": location.number if location is not None else 0,
        "fqdn": node.fqdn,
        "scheme": node.scheme,
        "behind_proxy": node.behind_proxy,
        "maintenance_mode": node.maintenance,
        "memory": node.memory_mb,
        "memory_overallocate": node.memory_overallocate_percent,
        "disk": node.disk_mb,
        "disk_overallocate": node.disk_overallocate_percent,
        "upload_size": node.upload_limit_mb,
        "daemon_listen": node.daemon_port,
        "daemon_sftp": node.sftp_port,
        "daemon_base": node.daemon_base,
        "created_at": iso(node.created_at),
        "updated_at": iso(node.updated_at) or iso(node.created_at),
        "allocated_resources": {"memory": load.memory_mb, "disk": load.disk_mb},
    }


def _node_item(ports: NodePorts, load: NodeLoad, refs: Mapping[str, IdRef], wanted: frozenset[str]) -> dict[str, Any]:
    node = load.node
    ref = refs.get(node.id) or ports.ids.number(NODE, node.id)
    location = ports.ids.number(LOCATION, node.location) if node.location else None
    relationships: dict[str, Any] = {}
    if "allocations" in wanted:
        everything = _all_allocations(ports, node.id)
        numbers = _allocation_refs(ports, node.id, everything)
        relationships["allocations"] = plain_list([_allocation_item(a, numbers) for a in everything])
    if "location" in wanted:
        relationships["location"] = (
            item("location", _location_attrs(node.location, location, ports.records.get(LOCATION, node.location) or {}))
            if location is not None
            else NULL_RESOURCE
        )
    if "servers" in wanted:
        relationships["servers"] = NULL_RESOURCE  # servers are the server area's objects
    return item("node", _node_attrs(node, ref, location, load), relationships)


def list_nodes(ports: NodePorts, query: Mapping[str, str], base_url: str, wanted: frozenset[str]) -> dict[str, Any]:
    loads = ports.loads()
    token_id = next((v for k, v in query.items() if k == "filter[daemon_token_id]" and v), None)
    if token_id is not None:  # not an attribute (the token id stays out of the answer), so filtered here
        loads = [load for load in loads if load.node.token_id == token_id]
    refs = ports.ids.numbers(NODE, {load.node.id: None for load in loads})
    rows = [_node_item(ports, load, refs, wanted) for load in loads]
    return listing(rows, query, filterable=NODE_FILTERS[:3], sortable=NODE_SORTS, base_url=base_url)


def deployable_nodes(
    ports: NodePorts,
    query: Mapping[str, str],
    base_url: str,
    memory: int,
    disk: int,
    location_ids: list[int],
) -> dict[str, Any]:
    """``GET /nodes/deployable``: nodes placement would give a server of ``memory`` and ``disk``
    now (not in maintenance, with room after over-allocation, in one of ``location_ids``)."""
    shorts = {ref.ref for n in location_ids if (ref := ports.ids.by_number(LOCATION, n)) is not None}
    fitting = []
    for load in ports.loads():
        if location_ids and load.node.location not in shorts:
            continue
        # The platform's view: a node kept for some tenants is still a node to deploy on.
        request = PlacementRequest(tenant_id=next(iter(load.node.allowed_tenants), ""), memory_mb=memory, disk_mb=disk)
        if why_not(load, request) is None:
            fitting.append(load)
    refs = ports.ids.numbers(NODE, {load.node.id: None for load in fitting})
    rows = [_node_item(ports, load, refs, frozenset()) for load in fitting]
    return listing(rows, query, filterable=(), sortable=("id",), base_url=base_url)


def find_node(ports: NodePorts, number: str) -> tuple[NodeLoad, IdRef]:
    """The node behind an integer id with what its servers commit: its read and its servers' Query
    (placement counts every server but a failed one, as here)."""
    ref = by_number(ports.ids, NODE, number)
    try:
        node = ports.nodes.get(ref.ref)
    except NotFoundError as exc:
        raise not_found(NODE, number) from exc
    held = [server for server in ports.servers_on(node.id) if server.status != FAILED]
    memory = sum(server.limits.memory_mb for server in held)
    disk = sum(server.limits.disk_mb for server in held)
    return NodeLoad(node=node, memory_mb=memory, disk_mb=disk), ref


def get_node(ports: NodePorts, number: str, wanted: frozenset[str]) -> dict[str, Any]:
    load, ref = find_node(ports, number)
    return _node_item(ports, load, {ref.ref: ref}, wanted)


def node_configuration(ports: NodePorts, number: str) -> dict[str, Any]:
    """The node's Wings configuration as JSON, as ``/v1/admin/nodes/{id}/configuration`` renders
    it as YAML (with the node's token). ``allowed_origins`` is sent only when the node lists its
    own (Pterodactyl has no such key; without it Wings takes ``remote``'s origin, the same one)."""
    load, _ = find_node(ports, number)
    document = node_service.node_configuration_document(ports.nodes, load.node.id, ports.public_url)
    if not load.node.allowed_origins:
        document.pop("allowed_origins", None)
    return document


def _node_fields(ports: NodePorts, fields: Mapping[str, Any]) -> dict[str, Any]:
    mamba = {NODE_FIELDS[k]: v for k, v in fields.items() if k in NODE_FIELDS and v is not None}
    if fields.get("location_id") is not None:
        mamba["location"] = location_short(ports, int(fields["location_id"]))
    return mamba


def create_node(ports: NodePorts, fields: Mapping[str, Any], wanted: frozenset[str]) -> dict[str, Any]:
    """Through ``mamba.services.nodes.create_node`` (a fresh token id and token)."""
    created = node_service.create_node(ports.nodes, _node_fields(ports, fields))
    ref = ports.ids.number(NODE, created.id)
    return _node_item(ports, NodeLoad(node=created), {created.id: ref}, wanted)


def update_node(ports: NodePorts, number: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The given fields; ``reset_secret: true`` issues a new token id and token (the node's Wings
    needs its configuration again)."""
    load, ref = find_node(ports, number)
    changes = _node_fields(ports, fields)
    # The node as written, not read again: a read in the same request may be served from what
    # this request read before the write (mamba.adapters.dynamo.prefetch).
    node = node_service.update_node(ports.nodes, load.node.id, changes) if changes else load.node
    if fields.get("reset_secret"):
        node_service.rotate_token(ports.nodes, load.node.id)
    fresh = NodeLoad(node=node, memory_mb=load.memory_mb, disk_mb=load.disk_mb)
    return _node_item(ports, fresh, {node.id: ref}, frozenset())


def delete_node(ports: NodePorts, number: str) -> None:
    """Raises ConflictError while a server holds one of its allocations."""
    load, ref = find_node(ports, number)
    node_service.delete_node(ports.nodes, load.node.id)
    ports.ids.forget(ref)


# --- allocations ----------------------------------------------------------------------------


def allocation_ref(node_id: str, ip: str, port: int) -> str:
    return f"{node_id}|{ip}|{port}"


def _all_allocations(ports: NodePorts, node_id: str) -> list[Allocation]:
    found: list[Allocation] = []
    cursor: str | None = None
    while True:
        page, cursor = ports.allocations.list(node_id, 100, cursor)
        found.extend(page)
        if not cursor:
            return found


def _allocation_refs(ports: NodePorts, node_id: str, allocations: list[Allocation]) -> dict[str, IdRef]:
    return ports.ids.numbers(ALLOCATION, {allocation_ref(node_id, a.ip, a.port): node_id for a in allocations})


def _allocation_item(allocation: Allocation, refs: Mapping[str, IdRef]) -> dict[str, Any]:
    ref = refs[allocation_ref(allocation.node_id, allocation.ip, allocation.port)]
    return item(
        "allocation",
        {
            "id": ref.number,
            "ip": allocation.ip,
            "alias": allocation.alias,
            "port": allocation.port,
            "notes": allocation.notes,
            "assigned": allocation.assigned,
        },
    )


def list_allocations(
    ports: NodePorts, number: str, query: Mapping[str, str], base_url: str, wanted: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A node's allocations; ``filter[ip|port]`` exact, ``filter[ip_alias]`` partial,
    ``filter[server_id]`` a server's integer id (anything else: the unassigned ones);
    ``include=node`` (``server``: a null resource, servers being the server area's objects)."""
    load, node_ref = find_node(ports, number)
    everything = _all_allocations(ports, load.node.id)
    server_filter = query.get("filter[server_id]")
    if server_filter is not None:
        server = ports.ids.by_number("server", int(server_filter)) if server_filter.isdigit() else None
        if server_filter.isdigit():
            everything = [a for a in everything if server is not None and a.server_id == server.ref]
        else:
            everything = [a for a in everything if not a.assigned]
    refs = _allocation_refs(ports, load.node.id, everything)
    rows = [_allocation_item(a, refs) for a in everything]
    for row in rows:  # Pterodactyl filters its model's ``ip_alias``, which it sends as ``alias``
        row["attributes"]["ip_alias"] = row["attributes"]["alias"]
    page = listing(
        rows, query, filterable=("ip", "port", "ip_alias"), sortable=("id",), base_url=base_url, exact=("ip", "port")
    )
    node = _node_item(ports, load, {load.node.id: node_ref}, frozenset()) if "node" in wanted else None
    for row in page["data"]:
        row["attributes"].pop("ip_alias", None)
        relationships: dict[str, Any] = {}
        if node is not None:
            relationships["node"] = node
        if "server" in wanted:
            relationships["server"] = NULL_RESOURCE
        if relationships:
            row["attributes"]["relationships"] = relationships
    return page


def add_allocations(ports: NodePorts, number: str, ip: str, ports_: list[str], alias: str | None) -> None:
    """``POST /nodes/{id}/allocations``: the same add as /v1 (ports and ranges, at most 1,000)."""
    load, _ = find_node(ports, number)
    node_service.add_allocations(ports.nodes, ports.allocations, load.node.id, ip, list(ports_), alias=alias)


def delete_allocation(ports: NodePorts, number: str, allocation_number: str) -> None:
    """Raises NotFoundError (unknown, or another node's), ConflictError (a server holds it)."""
    load, _ = find_node(ports, number)
    ref = by_number(ports.ids, ALLOCATION, allocation_number)
    if ref.scope != load.node.id:
        raise not_found(ALLOCATION, allocation_number)
    _, ip, port = ref.ref.rsplit("|", 2)
    node_service.delete_allocation(ports.allocations, load.node.id, allocation_id(ip, int(port)))
    ports.ids.forget(ref)
