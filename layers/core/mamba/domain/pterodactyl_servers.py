"""Pterodactyl's application servers: how a Mamba server reads as ``object: server``, and what
its create, build and startup bodies mean for Mamba (docs/pterodactyl-api.md, "Servers").

Standard library only. The use cases (ids, personal tenants, the workflows) are
``mamba.services.pterodactyl.servers``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mamba.domain import servers as srv
from mamba.domain.errors import ValidationError
from mamba.domain.pterodactyl import iso, short_identifier

# A personal tenant's id is derived from its user, so finding it again is one read; the hyphen
# keeps it out of ``new_id``'s alphabet, so no tenant created any other way can ever hold it.
PERSONAL_TENANT_PREFIX = "tn_pt-"

SERVER_FILTERS: tuple[str, ...] = ("uuid", "uuidShort", "name", "description", "image", "external_id")
SERVER_SORTS: tuple[str, ...] = ("id", "uuid")
SERVER_INCLUDES: tuple[str, ...] = (
    "allocations",
    "user",
    "subusers",
    "nest",
    "egg",
    "variables",
    "location",
    "node",
    "databases",
    "transfer",
)
# The application key right each include needs, as Pterodactyl's transformer re-checks it: a key
# without it gets a null_resource for that relationship (the server itself still shows).
INCLUDE_RIGHTS: dict[str, str] = {
    "allocations": "allocations",
    "user": "users",
    "subusers": "users",
    "nest": "nests",
    "egg": "eggs",
    "variables": "servers",
    "location": "locations",
    "node": "nodes",
    "databases": "servers",
    "transfer": "servers",
}

# Pterodactyl's server ``status`` is null for a server that is simply installed (running or
# not); the others name the one thing in progress or wrong.
_STATUS: dict[str, str | None] = {
    srv.PROVISIONING: "installing",
    srv.INSTALLING: "installing",
    srv.INSTALL_FAILED: "install_failed",
    srv.FAILED: "install_failed",
    srv.SUSPENDED: "suspended",
    srv.RESTORING: "restoring_backup",
}


def personal_tenant_id(user_id: str) -> str:
    return f"{PERSONAL_TENANT_PREFIX}{user_id}"


def personal_tenant_user(tenant_id: str) -> str | None:
    """The user a personal tenant belongs to (None: not a personal tenant)."""
    return tenant_id.removeprefix(PERSONAL_TENANT_PREFIX) if tenant_id.startswith(PERSONAL_TENANT_PREFIX) else None


def status_of(server: srv.Server) -> str | None:
    return _STATUS.get(server.status)


def allocation_ref(node_id: str, ip: str, port: int) -> str:
    """The ``PteroIds`` ref of an allocation (kind ``allocation``, scope the node)."""
    return f"{node_id}|{ip}|{port}"


def parse_allocation_ref(ref: str) -> tuple[str, str, int]:
    node_id, ip, port = ref.rsplit("|", 2)
    return node_id, ip, int(port)


@dataclass(frozen=True)
class VariableView:
    """A blueprint variable as the application API shows it on a server (``server_variable``)."""

    number: int
    egg: int
    name: str
    description: str
    env_variable: str
    default_value: str
    user_viewable: bool
    user_editable: bool
    rules: str
    created_at: str | None
    updated_at: str | None


@dataclass(frozen=True)
class ServerView:
    """A server with every integer id and name Pterodactyl's shape needs, resolved."""

    server: srv.Server
    number: int
    external_id: str | None
    user: int
    node: int
    allocation: int
    nest: int
    egg: int
    location: str
    variables: tuple[VariableView, ...] = ()
    relationships: dict[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def env_text(value: Any) -> str | None:
    """A variable's value as the container sees it (to tell a real change from a resend)."""
    return None if value is None else _text(value)


def environment(view: ServerView) -> dict[str, Any]:
    """``container.environment``: each blueprint variable's value (the server's, else the
    default) as a string, plus the four variables the panel adds for Wings."""
    server = view.server
    env: dict[str, Any] = {v.env_variable: _text(server.environment.get(v.env_variable, v.default_value))
                           for v in view.variables}  # fmt: skip
    for key, value in server.environment.items():
        env.setdefault(key, _text(value))
    env["STARTUP"] = server.startup
    env["P_SERVER_LOCATION"] = view.location
    env["P_SERVER_UUID"] = server.uuid
    env["P_SERVER_ALLOCATION_LIMIT"] = server.feature_limits.allocations
    return env


def server_attributes(view: ServerView) -> dict[str, Any]:
    """``object: server`` of the application API (Pterodactyl's application ServerTransformer)."""
    server = view.server
    limits = server.limits
    return {
        "id": view.number,
        "external_id": view.external_id,
        "uuid": server.uuid,
        "identifier": short_identifier(server.uuid),
        "name": server.name,
        "description": server.description,
        "status": status_of(server),
        "suspended": server.suspended,
        "limits": limits_attributes(limits),
        "feature_limits": {
            "databases": 0,  # no managed databases in Mamba (docs/pterodactyl-api.md)
            "allocations": server.feature_limits.allocations,
            "backups": server.feature_limits.backups,
        },
        "user": view.user,
        "node": view.node,
        "allocation": view.allocation,
        "nest": view.nest,
        "egg": view.egg,
        "container": {
            "startup_command": server.startup,
            "image": server.docker_image,
            "installed": 1 if server.installed_at else 0,
            "environment": environment(view),
        },
        "updated_at": iso(server.updated_at),
        "created_at": iso(server.created_at),
    }


def limits_attributes(limits: srv.Limits) -> dict[str, Any]:
    """A server's ``limits`` as both of Pterodactyl's server objects show them."""
    return {
        "memory": limits.memory_mb,
        "swap": limits.swap_mb,
        "disk": limits.disk_mb,
        "io": limits.io_weight,
        "cpu": limits.cpu_percent,
        "threads": limits.threads,
        "oom_disabled": limits.oom_disabled,
    }


EPOCH = "1970-01-01T00:00:00.000000Z"


def laravel_date(value: str | None) -> str | None:
    """``Model::toArray()``'s date (``2024-01-01T12:00:00.000000Z``), used by variables."""
    moment = iso(value)
    return None if moment is None else moment.replace("+00:00", ".000000Z")


def variable_attributes(variable: VariableView, server: srv.Server) -> dict[str, Any]:
    """``object: server_variable``: the egg variable plus the server's value (null if unset)."""
    value = server.environment.get(variable.env_variable)
    return {
        "id": variable.number,
        "egg_id": variable.egg,
        "name": variable.name,
        "description": variable.description or None,
        "env_variable": variable.env_variable,
        "default_value": variable.default_value,
        "user_viewable": variable.user_viewable,
        "user_editable": variable.user_editable,
        "rules": variable.rules,
        # Pterodactyl's are never null; a blueprint that kept no date shows the epoch.
        "created_at": laravel_date(variable.created_at) or EPOCH,
        "updated_at": laravel_date(variable.updated_at or variable.created_at) or EPOCH,
        "server_value": None if value is None else _text(value),
    }


# --- filters and sort of GET /api/application/servers -------------------------------------


@dataclass(frozen=True)
class ServerRow:
    """What filtering and ordering a server list needs: the server and its two ids (the page
    shown is then resolved in full, so a list never reads every server's node, user and egg)."""

    server: srv.Server
    number: int
    external_id: str | None


def filter_value(view: ServerRow | ServerView, name: str) -> Any:
    server = view.server
    return {
        "uuid": server.uuid,
        "uuidShort": short_identifier(server.uuid),
        "name": server.name,
        "description": server.description,
        "image": server.docker_image,
        "external_id": view.external_id,
    }[name]


def matches_filters(view: ServerRow | ServerView, wanted: Mapping[str, str]) -> bool:
    """Pterodactyl's server filters: partial and case-insensitive, ``external_id`` exact."""
    for name, value in wanted.items():
        actual = filter_value(view, name)
        if name == "external_id":
            if actual != value:
                return False
        elif value.lower() not in str(actual or "").lower():
            return False
    return True


def sorted_views[R: (ServerRow, ServerView)](views: Sequence[R], sort: tuple[str, bool] | None) -> list[R]:
    """By integer id (Pterodactyl's default order), or by ``?sort=[-]id|uuid``."""
    name, descending = sort or ("id", False)
    if name == "uuid":
        return sorted(views, key=lambda v: v.server.uuid, reverse=descending)
    return sorted(views, key=lambda v: v.number, reverse=descending)


# --- request bodies -----------------------------------------------------------------------


def field_error(name: str, message: str, rule: str = "invalid") -> ValidationError:
    """A 422 naming one field as Pterodactyl does (``meta.source_field``)."""
    return ValidationError(
        f"The {name} field {message}.", {"fields": [{"field": name, "message": message, "type": rule}]}
    )


def port_in_ranges(port: int, ranges: Sequence[str]) -> bool:
    """``deploy.port_range``: ``"25565"`` or ``"25565-25570"`` entries; empty means any port."""
    if not ranges:
        return True
    for entry in ranges:
        low, _, high = entry.strip().partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError as exc:
            raise field_error("deploy.port_range", "must hold ports or ranges such as 25565-25570", "regex") from exc
        if first <= port <= last:
            return True
    return False
