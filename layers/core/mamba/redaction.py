"""What an error's details may show to whom.

Errors raised deep in the services carry details an operator needs: the node a Wings call
went to (``node_id``, the call's ``method``/``path``/``wings_status``), or placement counts
(``nodes_considered``, ``ruled_out``). A tenant must not learn the platform's node ids, names
or capacity from them, so the one error translation (``mamba.web``) passes a non-admin
caller's error through ``for_tenant``; admin routes and the logs keep everything.
"""

from __future__ import annotations

from typing import Any

# Details about the platform's nodes and their capacity (never the tenant's own data).
NODE_DETAILS = frozenset(
    {
        "node_id",
        "node",
        "node_name",
        "node_uuid",
        "nodes",
        "fqdn",
        "nodes_considered",
        "ruled_out",
        "assigned",
    }
)
# A failed Wings call is described by these together; ``path`` alone is the tenant's own file
# path (a denied file, a folder too large to check) and stays.
WINGS_CALL = frozenset({"method", "path", "wings_status"})


def strip(details: Any) -> Any:
    """``details`` without node facts, at any depth (lists and nested objects included)."""
    if isinstance(details, dict):
        hidden = NODE_DETAILS | WINGS_CALL if details.keys() & {"method", "wings_status"} else NODE_DETAILS
        return {k: strip(v) for k, v in details.items() if k not in hidden}
    if isinstance(details, list):
        return [strip(v) for v in details]
    return details


def reveals_nodes(details: Any) -> bool:
    return bool(strip(details) != details)
