"""Nodes (Wings daemons) and their allocations: values, checks and token generation.

Standard library only. A node's ``token`` never lives on the ``Node`` value: it is the
HMAC key for every Wings JWT and the second half of the credential Wings presents, so the
repository stores it encrypted and hands it out only through ``NodeRepository.token``.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from mamba.domain.errors import ValidationError

# Wings listens on every interface of its own host (its config.yml `api.host`); the panel never binds it.
WINGS_LISTEN_ADDRESS = "0.0.0.0"  # noqa: S104  # nosec B104

TOKEN_ID_LENGTH = 16
TOKEN_LENGTH = 64
# Alphanumerics only: Wings presents ``<token_id>.<token>`` and the panel splits on the dot.
TOKEN_ALPHABET = string.ascii_letters + string.digits

MAX_PORTS_PER_REQUEST = 1000
SCHEMES = ("http", "https")

_FQDN = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")
_PORT_SPEC = re.compile(r"^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$")


def new_token_id() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_ID_LENGTH))


def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


@dataclass(frozen=True)
class Node:
    """A Wings node as the panel knows it. ``token_id`` is public (it is indexed); the token is not here."""

    id: str
    uuid: str
    name: str
    fqdn: str
    token_id: str
    created_at: str
    updated_at: str
    location: str = ""
    scheme: str = "https"
    behind_proxy: bool = False
    daemon_port: int = 8080
    sftp_port: int = 2022
    daemon_base: str = "/var/lib/pterodactyl/volumes"
    upload_limit_mb: int = 100
    memory_mb: int = 0
    memory_overallocate_percent: int = 0
    disk_mb: int = 0
    disk_overallocate_percent: int = 0
    maintenance: bool = False
    allowed_tenants: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # Browser origins Wings accepts for the console websocket and file transfers (its
    # ``allowed_origins``). Empty: the panel's own origin, which is what a one-origin
    # deployment needs (docs/nodes.md); list more only for another front end.
    allowed_origins: tuple[str, ...] = ()

    @property
    def connection_address(self) -> str:
        """Where the panel reaches the daemon: ``{scheme}://{fqdn}:{daemon_port}``."""
        return f"{self.scheme}://{self.fqdn}:{self.daemon_port}"

    @property
    def websocket_base(self) -> str:
        return f"{'wss' if self.scheme == 'https' else 'ws'}://{self.fqdn}:{self.daemon_port}"

    @property
    def memory_capacity_mb(self) -> int:
        """Memory that may be allocated, with over-allocation (a negative percentage never shrinks it)."""
        return self.memory_mb * (100 + max(self.memory_overallocate_percent, 0)) // 100

    @property
    def disk_capacity_mb(self) -> int:
        return self.disk_mb * (100 + max(self.disk_overallocate_percent, 0)) // 100

    def allows_tenant(self, tenant_id: str) -> bool:
        """An empty allowed list means every tenant may use the node."""
        return not self.allowed_tenants or tenant_id in self.allowed_tenants


def check_node(node: Node) -> None:
    """Raise ValidationError naming the first bad field of ``node``."""
    if node.scheme not in SCHEMES:
        raise _bad("scheme", f"must be one of {', '.join(SCHEMES)}")
    if not _FQDN.match(node.fqdn) and not _is_ip(node.fqdn):
        raise _bad("fqdn", "must be a host name or an IP address")
    for name in ("daemon_port", "sftp_port"):
        port = getattr(node, name)
        if not 1 <= port <= 65535:
            raise _bad(name, "must be between 1 and 65535")
    for name in ("memory_mb", "disk_mb"):
        if getattr(node, name) < 0:
            raise _bad(name, "must not be negative")
    for name in ("memory_overallocate_percent", "disk_overallocate_percent"):
        if getattr(node, name) < -1:
            raise _bad(name, "must be -1 (no limit) or more")
    for origin in node.allowed_origins:
        if not _ORIGIN.match(origin):
            raise _bad("allowed_origins", f"{origin!r} is not an origin: scheme://host[:port], no path")
    if "." in node.token_id or len(node.token_id) != TOKEN_ID_LENGTH:
        raise _bad("token_id", f"must be {TOKEN_ID_LENGTH} characters without a dot")


# What a browser sends as ``Origin`` (Wings compares it exactly): no path, no trailing slash.
_ORIGIN = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")


def panel_origin(public_url: str) -> str:
    """The origin of the panel's URL (a PublicUrl with a path still serves the app at its origin)."""
    scheme, _, rest = public_url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def allowed_origins(node: Node, public_url: str) -> list[str]:
    """The node's ``allowed_origins``: its own list, or the panel's origin."""
    return list(node.allowed_origins) or [panel_origin(public_url)]


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _bad(name: str, message: str) -> ValidationError:
    return ValidationError(f"{name} {message}.", {"fields": [{"field": name, "message": message}]})


@dataclass(frozen=True)
class Allocation:
    """One ``ip:port`` of a node. ``server_id`` is set while a server holds it."""

    node_id: str
    ip: str
    port: int
    created_at: str
    alias: str | None = None
    notes: str | None = None
    server_id: str | None = None

    @property
    def id(self) -> str:
        return allocation_id(self.ip, self.port)

    @property
    def assigned(self) -> bool:
        return self.server_id is not None


def allocation_id(ip: str, port: int) -> str:
    """The public id of an allocation: ``<ip>_<port>`` (an IPv6 address has colons, never ``_``)."""
    return f"{ip}_{port}"


def parse_allocation_id(value: str) -> tuple[str, int]:
    ip, sep, port = value.rpartition("_")
    if not sep or not port.isdigit():
        raise ValidationError("Not an allocation id.", {"allocation_id": value})
    return normalize_ip(ip, "allocation_id"), int(port)


def normalize_ip(value: str, field_name: str = "ip") -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as exc:
        raise _bad(field_name, "must be an IPv4 or IPv6 address") from exc


def expand_ports(specs: list[str | int]) -> list[int]:
    """Expand ``["25565", "25570-25580", 27015]`` into a sorted list of distinct ports.

    Raises ValidationError naming the bad entry, or when more than 1,000 ports result.
    """
    ports: set[int] = set()
    for spec in specs:
        text = str(spec)
        match = _PORT_SPEC.match(text)
        if not match:
            raise ValidationError(
                f"{text!r} is not a port or a range such as 25565-25600.",
                {"fields": [{"field": "ports", "message": f"bad entry {text!r}"}]},
            )
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if not (1 <= low <= 65535 and 1 <= high <= 65535) or high < low:
            raise ValidationError(
                f"{text!r} is outside 1-65535 or its range is reversed.",
                {"fields": [{"field": "ports", "message": f"bad entry {text!r}"}]},
            )
        if high - low + 1 > MAX_PORTS_PER_REQUEST:
            raise _too_many()
        ports.update(range(low, high + 1))
        if len(ports) > MAX_PORTS_PER_REQUEST:
            raise _too_many()
    if not ports:
        raise ValidationError("At least one port is required.", {"fields": [{"field": "ports", "message": "empty"}]})
    return sorted(ports)


def _too_many() -> ValidationError:
    return ValidationError(
        f"At most {MAX_PORTS_PER_REQUEST} ports per request.",
        {"fields": [{"field": "ports", "message": f"more than {MAX_PORTS_PER_REQUEST} ports"}]},
    )


@dataclass
class AllocationResult:
    """What an add-allocations call did: the allocations created and the ``ip:port`` already taken."""

    created: list[Allocation] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def wings_configuration(node: Node, token: str, remote: str) -> dict[str, object]:
    """The node's Wings ``config.yml`` document (wings-contract.md §6), in key order.

    ``remote`` is the panel's public origin; a trailing slash is dropped because Wings
    appends ``/api/remote`` and compares it with the browser's ``Origin``.
    """
    ssl_enabled = node.scheme == "https" and not node.behind_proxy
    return {
        "debug": False,
        "uuid": node.uuid,
        "token_id": node.token_id,
        "token": token,
        "api": {
            "host": WINGS_LISTEN_ADDRESS,
            "port": node.daemon_port,
            "ssl": {
                "enabled": ssl_enabled,
                "cert": f"/etc/letsencrypt/live/{node.fqdn.lower()}/fullchain.pem",
                "key": f"/etc/letsencrypt/live/{node.fqdn.lower()}/privkey.pem",
            },
            "upload_limit": node.upload_limit_mb,
        },
        "system": {
            "data": node.daemon_base,
            "sftp": {"bind_port": node.sftp_port},
        },
        "allowed_mounts": [],
        "remote": remote.rstrip("/"),
        "allowed_origins": allowed_origins(node, remote),
    }


@dataclass(frozen=True)
class NodeHealth:
    node_id: str
    status: str
    checked_at: str
    version: str | None = None
    last_seen_at: str | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    alerted: bool = False


@dataclass(frozen=True)
class NodeEvent:
    node_id: str
    type: str
    at: str
    detail: dict[str, Any]
