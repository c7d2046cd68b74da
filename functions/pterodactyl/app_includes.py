"""``?include=`` on the application API's users, nodes, locations, allocations, nests and eggs: as
Pterodactyl, each included relationship re-checks the key's read right on its own resource, and one
the key may not read is ``{"object": "null_resource", "attributes": null}``."""

from __future__ import annotations

from collections.abc import Mapping

from mamba.domain.pterodactyl import includes
from mamba.pterodactyl_web import PteroCtx

# Each relationship and the application key resource it is read from.
RESOURCES: dict[str, str] = {
    "allocations": "allocations",
    "node": "nodes",
    "nodes": "nodes",
    "location": "locations",
    "servers": "servers",
    "server": "servers",
    "eggs": "eggs",
    "nest": "nests",
    "variables": "eggs",
    "config": "eggs",
    "script": "eggs",
}


def asked(ctx: PteroCtx, allowed: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """The includes asked for (a 400 for one Pterodactyl does not offer), split into those the key
    may read and those it may not (its rights came with it through the door: no second read)."""
    wanted = includes(ctx.query, allowed)
    granted = frozenset(name for name in wanted if ctx.may_read(RESOURCES[name]))
    return granted, wanted - granted


def refusing(body: Mapping[str, object], refused: frozenset[str]) -> Mapping[str, object]:
    """``body`` (one object or a list) with each refused relationship as Pterodactyl's null resource."""
    if not refused:
        return body
    rows = body.get("data") if body.get("object") == "list" else [body]
    for row in rows if isinstance(rows, list) else []:
        attributes = row.get("attributes") if isinstance(row, dict) else None
        if isinstance(attributes, dict):
            relationships = attributes.setdefault("relationships", {})
            for name in sorted(refused):
                relationships[name] = {"object": "null_resource", "attributes": None}
    return body
