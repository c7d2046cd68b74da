"""Node registry and allocations: the admin use cases behind /v1/admin/nodes.

Each function takes its repositories as parameters (``mamba.ports``); the Dynamo adapters in
``mamba.adapters.dynamo.nodes`` implement them and ``mamba.bootstrap`` builds them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mamba.domain import nodes as domain
from mamba.domain.clock import iso, new_id, new_uuid, utcnow
from mamba.domain.errors import ConflictError, ValidationError
from mamba.domain.nodes import Allocation, AllocationResult, Node
from mamba.ports import AllocationRepository, NodeRepository

MAX_PAGE = 100
DEFAULT_PAGE = 50


def page_limit(value: str | None) -> int:
    """The ``?limit=`` of a list: 1-100, 50 when absent. Raises ValidationError."""
    if value is None or value == "":
        return DEFAULT_PAGE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise ValidationError(
            f"limit must be a number from 1 to {MAX_PAGE}.", {"fields": [{"field": "limit", "message": "out of range"}]}
        )
    return int(value)


# Fields an admin sets; everything else (ids, token, timestamps) is the panel's.
EDITABLE = (
    "name",
    "location",
    "fqdn",
    "scheme",
    "behind_proxy",
    "daemon_port",
    "sftp_port",
    "daemon_base",
    "upload_limit_mb",
    "memory_mb",
    "memory_overallocate_percent",
    "disk_mb",
    "disk_overallocate_percent",
    "maintenance",
    "allowed_tenants",
    "tags",
    "allowed_origins",
)


def _editable(fields: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in fields.items() if k in EDITABLE}
    if values.get("allowed_origins") is not None:
        # Wings compares the browser's Origin exactly, and an origin never ends in a slash.
        values["allowed_origins"] = [str(o).rstrip("/") for o in values["allowed_origins"]]
    for name in ("allowed_tenants", "tags", "allowed_origins"):
        if name in values and values[name] is not None:
            values[name] = tuple(dict.fromkeys(values[name]))  # de-duplicated, order kept
    return values


def create_node(repo: NodeRepository, fields: dict[str, Any], node_id: str | None = None) -> Node:
    """Register a node with a fresh token id and token (the token is stored encrypted).

    Raises ValidationError naming a bad field, ConflictError if the id exists.
    """
    now = iso(utcnow())
    node = Node(
        id=node_id or new_id("node"),
        uuid=new_uuid(),
        token_id=domain.new_token_id(),
        created_at=now,
        updated_at=now,
        **_editable(fields),
    )
    domain.check_node(node)
    repo.add(node, domain.new_token())
    return node


def get_node(repo: NodeRepository, node_id: str) -> Node:
    """Raises NotFoundError."""
    return repo.get(node_id)


def list_nodes(repo: NodeRepository, limit: int, cursor: str | None) -> tuple[list[Node], str | None]:
    return repo.list(limit, cursor)


def update_node(repo: NodeRepository, node_id: str, changes: dict[str, Any]) -> Node:
    """Apply the given fields. Raises NotFoundError, ValidationError, ConflictError (a concurrent rotation)."""
    node = repo.get(node_id)
    updated = dataclasses.replace(node, **_editable(changes), updated_at=iso(utcnow()))
    domain.check_node(updated)
    repo.update(updated)
    return updated


def delete_node(repo: NodeRepository, node_id: str) -> None:
    """Raises NotFoundError, or ConflictError while a server holds one of its allocations."""
    repo.delete(node_id)


def rotate_token(repo: NodeRepository, node_id: str) -> Node:
    """Issue a new token id and token; the old ones stop working at once.

    The node's Wings must get the new config.yml (``node_configuration``) and restart, or
    it can no longer call the panel. Raises NotFoundError, ConflictError.
    """
    return repo.rotate_token(node_id, domain.new_token_id(), domain.new_token(), iso(utcnow()))


def node_configuration_document(
    repo: NodeRepository, node_id: str, remote: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The node's Wings configuration as a mapping; ``extra`` is deep-merged on top (local stack paths)."""
    node = repo.get(node_id)
    document: dict[str, Any] = domain.wings_configuration(node, repo.token(node), remote)
    return _merge(document, extra or {})


def node_configuration(repo: NodeRepository, node_id: str, remote: str, extra: dict[str, Any] | None = None) -> str:
    """The node's ``/etc/pterodactyl/config.yml`` as YAML text. Raises NotFoundError."""
    return render_yaml(node_configuration_document(repo, node_id, remote, extra))


def render_yaml(document: dict[str, Any]) -> str:
    import yaml  # only the configuration route needs it; kept off the cold path

    return str(yaml.safe_dump(document, sort_keys=False, default_flow_style=False))


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# --- allocations ---


def add_allocations(
    nodes: NodeRepository,
    allocations: AllocationRepository,
    node_id: str,
    ip: str,
    ports: list[str | int],
    alias: str | None = None,
    notes: str | None = None,
) -> AllocationResult:
    """Add ``ip`` with ports and ranges (at most 1,000 ports) to a node.

    Ports already on the node are reported in ``conflicts``; the others are created.
    Raises NotFoundError (node), ValidationError (ip, ports), ConflictError when every
    requested port was already taken.
    """
    nodes.get(node_id)
    address = domain.normalize_ip(ip)
    expanded = domain.expand_ports(ports)
    now = iso(utcnow())
    wanted = [Allocation(node_id, address, port, now, alias=alias, notes=notes) for port in expanded]
    result = allocations.add_many(wanted)
    if not result.created:
        raise ConflictError(
            "Every requested allocation already exists on this node.",
            {"conflicts": result.conflicts[:100], "conflict_count": len(result.conflicts)},
        )
    return result


def list_allocations(
    nodes: NodeRepository, allocations: AllocationRepository, node_id: str, limit: int, cursor: str | None
) -> tuple[list[Allocation], str | None]:
    """Raises NotFoundError when the node does not exist."""
    nodes.get(node_id)
    return allocations.list(node_id, limit, cursor)


def delete_allocation(allocations: AllocationRepository, node_id: str, allocation_id: str) -> None:
    """Raises ValidationError (bad id), NotFoundError, ConflictError (assigned to a server)."""
    ip, port = domain.parse_allocation_id(allocation_id)
    allocations.delete(node_id, ip, port)
