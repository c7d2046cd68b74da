"""The platform admin's fleet lists: which servers a filter selects, and a server with its
tenant's and node's names (``/v1/admin/servers``, ``/v1/admin/nodes/{id}/servers``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mamba.domain.errors import ValidationError
from mamba.domain.servers import Server

MAX_QUERY = 64  # q is a prefix of a name (≤ 64 characters by the server rules) or a uuid (36)
FILTERS = ("status", "node_id", "tenant_id", "q")


def _field_error(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field} {message}.", {"fields": [{"field": field, "message": message, "type": field}]})


@dataclass(frozen=True)
class ServerFilter:
    """Exact ``status``, ``node_id``, ``tenant_id``; ``q`` a case-insensitive prefix of the
    server's name or uuid (stored lowercased)."""

    status: str | None = None
    node_id: str | None = None
    tenant_id: str | None = None
    q: str | None = None

    @classmethod
    def from_query(cls, query: dict[str, str]) -> ServerFilter:
        """Raises ValidationError when ``q`` is longer than MAX_QUERY or a filter is blank."""
        values: dict[str, Any] = {}
        for name in FILTERS:
            raw = query.get(name)
            if raw is None:
                continue
            value = raw.strip()
            if not value:
                raise _field_error(name, "must not be blank")
            if len(value) > MAX_QUERY:
                raise _field_error(name, f"must be at most {MAX_QUERY} characters")
            values[name] = value.lower() if name == "q" else value
        return cls(**values)

    def matches(self, server: Server) -> bool:
        """The whole filter on one server (the adapter's Query may apply part of it already)."""
        if self.status and server.status != self.status:
            return False
        if self.node_id and server.node_id != self.node_id:
            return False
        if self.tenant_id and server.tenant_id != self.tenant_id:
            return False
        if self.q:
            return server.name.lower().startswith(self.q) or server.uuid.lower().startswith(self.q)
        return True


@dataclass(frozen=True)
class FleetServer:
    """A server with the names an operator reads it by (None when the tenant or node is gone)."""

    server: Server
    tenant_name: str | None
    node_name: str | None


@dataclass(frozen=True)
class LiveState:
    """What the node's Wings said about a server just now (wings-contract.md §2.4)."""

    state: str  # running | starting | stopping | offline
    is_suspended: bool


def live_states(documents: list[dict[str, Any]]) -> dict[str, LiveState]:
    """Wings' ``GET /api/servers`` answer by server uuid; entries without a uuid are skipped."""
    states: dict[str, LiveState] = {}
    for document in documents:
        configuration = document.get("configuration") if isinstance(document, dict) else None
        server_uuid = configuration.get("uuid") if isinstance(configuration, dict) else None
        if not isinstance(server_uuid, str):
            continue
        state = document.get("state")
        states[server_uuid.lower()] = LiveState(
            state=state if isinstance(state, str) else "offline",
            is_suspended=bool(document.get("is_suspended")),
        )
    return states
