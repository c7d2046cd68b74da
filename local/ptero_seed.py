"""The seeded data as Pterodactyl's clients see it (``make run``; docs/pterodactyl-api.md, "Trying it locally").

Pterodactyl's clients address nodes, locations, allocations, nests and eggs by integer id, and the
panel hands those out on first use (``mamba.ports.PteroIds``). ``claim_ids`` claims them for the
seeded node, its location, its free allocations and the seeded blueprints right after the seed, in a
fixed order, so a fresh ``make run`` always has node 1 in location 1 with allocations 1-30, and the
line server and the command runner as eggs 1 and 2 of nest 1 (their category, ``General`` by
default): a WHMCS product or a py-dactyl script written
against a fresh stack works on the next one. Claiming an id twice returns the first one, so a
restart changes nothing.

The launcher prints the ids and writes them to ``stack.json`` under ``pterodactyl``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from local.blueprints import COMMAND_RUNNER_ID, LINE_SERVER_ID

SEEDED_EGGS: tuple[str, ...] = (LINE_SERVER_ID, COMMAND_RUNNER_ID)


def claim_ids(node_id: str, blueprint_ids: Sequence[str] = SEEDED_EGGS) -> dict[str, Any]:
    """Claim the Pterodactyl ids of the seeded node, its location and allocations, and the blueprints;
    return them as ``{"node", "location", "allocations": {"ip:port": id}, "nests": {blueprint: its nest's
    id}, "eggs": {blueprint: id}}``."""
    from mamba import bootstrap
    from mamba.services.pterodactyl.nests import EGG, NEST, nest_of
    from mamba.services.pterodactyl.nodes import ALLOCATION, LOCATION, NODE, allocation_ref

    ids = bootstrap.ptero_ids()
    node = bootstrap.node_repository().get(node_id)
    seeded: dict[str, Any] = {
        "node": ids.number(NODE, node.id).number,
        "location": ids.number(LOCATION, node.location).number,
    }
    allocations = _allocations(node.id)
    claimed = ids.numbers(ALLOCATION, {allocation_ref(node.id, ip, port): node.id for ip, port in allocations})
    seeded["allocations"] = {
        f"{ip}:{port}": claimed[allocation_ref(node.id, ip, port)].number for ip, port in allocations
    }
    blueprints = bootstrap.blueprint_repository()
    # The nest first (a blueprint's category, as the application API groups eggs), then its egg
    seeded["nests"] = {b: ids.number(NEST, nest_of(blueprints.get(b))).number for b in blueprint_ids}
    seeded["eggs"] = {b: ids.number(EGG, b).number for b in blueprint_ids}
    return seeded


def _allocations(node_id: str) -> list[tuple[str, int]]:
    """Every allocation of the node, in port order (the order their ids are claimed in)."""
    from mamba import bootstrap

    repo = bootstrap.allocation_repository()
    found: list[tuple[str, int]] = []
    cursor: str | None = None
    while True:
        page, cursor = repo.list(node_id, limit=100, cursor=cursor)
        found += [(a.ip, a.port) for a in page]
        if not cursor:
            return sorted(found, key=lambda pair: (pair[0], pair[1]))


def summary(seeded: dict[str, Any]) -> str:
    """One banner line: the ids a Pterodactyl client needs on a fresh stack."""
    ports = sorted(seeded["allocations"].values())
    allocations = f"{ports[0]}-{ports[-1]}" if ports else "none"
    eggs = ", ".join(f"{blueprint} = {number}" for blueprint, number in seeded["eggs"].items())
    nests = ", ".join(str(n) for n in sorted(set(seeded["nests"].values())))
    return f"node {seeded['node']}, location {seeded['location']}, allocations {allocations}; nest {nests}: eggs {eggs}"
