"""Power, console, logs, live resources and the console websocket of a tenant's server.

Every use case starts from the verified ``TenantContext`` and a ``{server_id}`` (the server's
uuid): ``tenant_server`` reads it with one GetItem and answers 404 unless it belongs to the
tenant. The node is then reached through its own Wings client (``Ports.agent_for``), and a
node failure arrives as the client's typed errors: 503 ``NODE_UNAVAILABLE``, 409/422
``WINGS_REJECTED`` with Wings' reason, 404 ``WINGS_NOT_FOUND``.

* power sends ``wait_seconds`` (``POWER_WAIT_SECONDS``): Wings then waits for the server's
  power lock instead of silently dropping an action while another one runs;
* a console token is minted only for ``servers.console`` (the route's permission) and its
  Wings permissions are mapped from the caller's role (``wings_jwt.websocket_permissions``);
* ``revoke_console`` calls Wings' ``ws/deny`` with the member's ``jti`` on every server where
  a change of their binding took console access away (role change, scope change, removal);
  ``deauthorize_member`` also closes their open sockets and SFTP sessions there (Wings
  ``deauthorize-user``), and ``deny_tenant_consoles`` denies every member's tokens when the
  tenant is suspended;
* a suspended server or tenant gets a read-only console token (no ``control.*``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from mamba.auth import wings_jwt
from mamba.auth.context import TenantContext
from mamba.domain import servers as srv
from mamba.domain.blueprints import Blueprint
from mamba.domain.errors import ConflictError, DomainError, NotFoundError, ValidationError
from mamba.domain.nodes import Node
from mamba.domain.pages import Page, PageRequest
from mamba.domain.servers import Server
from mamba.domain.tenancy import Access
from mamba.observability import logger
from mamba.ports import AgentFor, HostResolver, NodeAgent

if TYPE_CHECKING:
    from mamba.domain.tenancy import Membership, UserTenant
    from mamba.services.metrics import EventStore

POWER_ACTIONS = ("start", "stop", "restart", "kill")
# How long Wings waits for the per-server power lock before reporting the action failed (0..300).
POWER_WAIT_SECONDS = 30
MAX_COMMAND_LENGTH = 2000
LOG_LINES_DEFAULT = 100
CONSOLE = "servers.console"
# What a console token of a suspended server or tenant leaves out: every ``control.*`` grant.
READ_ONLY_STRIPPED = frozenset({"servers.console", "servers.power"})

# A server Wings knows and that the panel lets a tenant drive.
CONTROLLABLE = (srv.OFFLINE, srv.STARTING, srv.RUNNING, srv.STOPPING)
# A server that exists on its node (its console and files can be reached).
ON_NODE = (
    srv.INSTALLING,
    srv.INSTALL_FAILED,
    srv.OFFLINE,
    srv.STARTING,
    srv.RUNNING,
    srv.STOPPING,
    srv.SUSPENDED,
)


class ServerReader(Protocol):
    def get(self, server_uuid: str) -> Server: ...
    def of_tenant(self, tenant_id: str) -> list[Server]: ...


class NodeReader(Protocol):
    def get(self, node_id: str) -> Node: ...
    def token(self, node: Node) -> str: ...


class BlueprintSource(Protocol):
    def get(self, blueprint_id: str) -> Blueprint: ...


@dataclass(frozen=True)
class Ports:
    servers: ServerReader
    nodes: NodeReader
    agent_for: AgentFor
    blueprints: BlueprintSource
    issuer: str  # the panel's public URL: the ``iss`` of every Wings JWT
    resolver: HostResolver | None = None  # files/pull; None refuses every host name
    # Where a power request is remembered, so the exit it causes is not taken for a crash
    # (services/metrics.py); None: not remembered.
    power_marks: EventStore | None = None


@dataclass(frozen=True)
class Target:
    server: Server
    node: Node
    agent: NodeAgent


def tenant_server(ports: Ports, tenant: TenantContext, server_id: str) -> Server:
    """The tenant's server ``server_id``; 404 for an unknown id or another tenant's server."""
    from mamba.services.servers import get_server

    return get_server(ports.servers, tenant, server_id)


def target(ports: Ports, tenant: TenantContext, server_id: str, allowed: tuple[str, ...] = ON_NODE) -> Target:
    """The server, its node and the node's Wings client; 409 when the server's status does not
    allow the call (it is being provisioned or deleted, or it failed)."""
    server = tenant_server(ports, tenant, server_id)
    srv.require_status(server, *allowed)
    node = ports.nodes.get(server.node_id)
    return Target(server=server, node=node, agent=ports.agent_for(node))


def require_not_suspended(server: Server) -> None:
    """409 for a suspended server: it can be read, stopped and killed, not started or changed."""
    if server.suspended:
        raise ConflictError(
            "The server is suspended; this is possible again once it is unsuspended.",
            {"uuid": server.uuid, "status": server.status},
        )


# --- power, console, logs -------------------------------------------------------------------


def power(ports: Ports, tenant: TenantContext, server_id: str, action: str) -> dict[str, Any]:
    """Send a power action; Wings answers at once and works in the background (watch the
    websocket ``status`` or ``GET .../resources``). 409 for a suspended or not-ready server."""
    if action not in POWER_ACTIONS:
        raise ValidationError(
            "action must be start, stop, restart or kill.",
            {"fields": [{"field": "action", "message": "must be start, stop, restart or kill"}]},
        )
    t = target(ports, tenant, server_id, CONTROLLABLE)
    if action in ("start", "restart"):
        require_not_suspended(t.server)
    if ports.power_marks is not None:
        # Before the call: the exit it causes may be seen by a reconcile run before this returns.
        from mamba.services.metrics import mark_power

        mark_power(ports.power_marks, t.server.uuid, action, int(time.time()))
    t.agent.power(t.server.uuid, action, wait_seconds=POWER_WAIT_SECONDS)
    return {"server_id": t.server.uuid, "action": action, "accepted": True}


def check_command(command: str) -> str:
    if not command.strip():
        raise ValidationError("command is required.", {"fields": [{"field": "command", "message": "is required"}]})
    if len(command) > MAX_COMMAND_LENGTH:
        raise ValidationError(
            f"command must be at most {MAX_COMMAND_LENGTH} characters.",
            {"fields": [{"field": "command", "message": "too long"}]},
        )
    if any(c in command for c in "\r\n\x00"):
        # Wings writes each command followed by a newline: one request, one command.
        raise ValidationError(
            "command must be a single line.", {"fields": [{"field": "command", "message": "must be one line"}]}
        )
    return command


def send_command(ports: Ports, tenant: TenantContext, server_id: str, command: str) -> None:
    """Write one line to the server's console. A stopped server: 409 with Wings' reason."""
    check_command(command)
    t = target(ports, tenant, server_id, CONTROLLABLE)
    t.agent.send_commands(t.server.uuid, [command])


def logs(ports: Ports, tenant: TenantContext, server_id: str, size: int = LOG_LINES_DEFAULT) -> list[str]:
    """The last ``size`` (1..100) console lines."""
    if not 1 <= size <= 100:
        raise ValidationError("size must be between 1 and 100.", {"fields": [{"field": "size", "message": "1..100"}]})
    t = target(ports, tenant, server_id, ON_NODE)
    lines: list[str] = t.agent.logs(t.server.uuid, size)
    return lines


def resources(ports: Ports, tenant: TenantContext, server_id: str) -> dict[str, Any]:
    """What Wings reports right now: ``state``, ``is_suspended`` and ``utilization``."""
    t = target(ports, tenant, server_id, ON_NODE)
    live = t.agent.get_server(t.server.uuid)
    return {
        "server_id": t.server.uuid,
        "status": t.server.status,
        "state": str(live.get("state") or "offline"),
        "is_suspended": bool(live.get("is_suspended")),
        "utilization": dict(cast("dict[str, object]", live.get("utilization") or {})),
    }


# --- the console websocket -------------------------------------------------------------------


def node_key(ports: Ports, node: Node) -> wings_jwt.NodeKey:
    return wings_jwt.NodeKey(token=ports.nodes.token(node), address=node.connection_address)


def websocket(
    ports: Ports,
    tenant: TenantContext,
    user_id: str,
    server_id: str,
    *,
    permissions: frozenset[str] | None = None,
    platform_admin: bool = False,
) -> dict[str, Any]:
    """``{token, socket, expires_at}`` for the server's console on its node (10 minutes).

    The caller holds ``servers.console`` (the route's permission, checked by the guard); the
    token's Wings permissions follow the rest of ``permissions`` (the tenant's, narrowed to an
    API key's scopes by the door; default: the tenant's). A suspended server or tenant gets a
    read-only token (``websocket.connect``, ``backup.read``; never ``control.*``).
    """
    t = target(ports, tenant, server_id, ON_NODE)
    held = tenant.permissions if permissions is None else permissions
    if t.server.suspended or tenant.suspended:
        # A suspended server's (or a suspended tenant's) console can be watched, not driven:
        # the token carries no ``control.*`` permission, so Wings refuses commands and power.
        held = frozenset(held) - READ_ONLY_STRIPPED
    granted = wings_jwt.websocket_permissions(held, platform_admin=platform_admin)
    issued = int(time.time())
    token = wings_jwt.websocket_token(
        node_key(ports, t.node),
        issuer=ports.issuer,
        user_id=user_id,
        server_uuid=t.server.uuid,
        permissions=granted,
        now=issued,
    )
    return {
        "token": token,
        "socket": f"{t.node.websocket_base}/api/servers/{t.server.uuid}/ws",
        "expires_at": issued + wings_jwt.WEBSOCKET_LIFETIME,
        "permissions": granted,
    }


def console_servers(access: Access | None, servers: Iterable[Server]) -> set[str]:
    """The uuids of ``servers`` whose console ``access`` opens."""
    if access is None or CONSOLE not in access.permissions:
        return set()
    return {s.uuid for s in servers if access.server_scope is None or s.uuid == access.server_scope}


def revoke_console(ports: Ports, tenant_id: str, user_id: str, before: Access | None, after: Access | None) -> int:
    """Deny the member's console tokens (``ws/deny`` with their ``jti``) on every server of the
    tenant where ``before`` opened the console and ``after`` no longer does. Returns how many
    servers were told.

    Best effort per server: the binding change is already committed, a node that is down is
    logged (its tokens die within ``WEBSOCKET_LIFETIME`` anyway, and a restarted Wings refuses
    every older token).
    """
    if before is None or CONSOLE not in before.permissions:
        return 0
    servers = [s for s in ports.servers.of_tenant(tenant_id) if s.status in ON_NODE]
    lost = console_servers(before, servers) - console_servers(after, servers)
    told = 0
    nodes: dict[str, Any] = {}
    for server in servers:
        if server.uuid not in lost:
            continue
        try:
            if server.node_id not in nodes:
                nodes[server.node_id] = ports.agent_for(ports.nodes.get(server.node_id))
            nodes[server.node_id].deny_websocket_tokens(server.uuid, [wings_jwt.jti_for(user_id, server.uuid)])
            told += 1
        except DomainError as exc:
            logger.warning(
                "console revocation not delivered",
                extra={"server_uuid": server.uuid, "node_id": server.node_id, "error": exc.code},
            )
    return told


def _reach(access: Access | None, servers: Iterable[Server]) -> set[str]:
    """The uuids of ``servers`` a binding reaches at all (its server scope)."""
    if access is None:
        return set()
    return {s.uuid for s in servers if access.server_scope is None or s.uuid == access.server_scope}


def deauthorize_member(ports: Ports, tenant_id: str, user_id: str, before: Access | None, after: Access | None) -> int:
    """Close the member's open console sockets and SFTP sessions (Wings ``deauthorize-user``)
    on every server of the tenant that ``before`` reached and ``after`` no longer reaches or
    no longer opens the console of. One call per node. Returns how many nodes did it.

    Best effort, like ``revoke_console``: the binding change is the source of truth and is
    already committed; a node that is down or too old to know the route (404/405: Wings 1.11)
    is logged, and ``ws/deny`` (``revoke_console``) still refuses the member's console tokens.
    """
    if before is None:
        return 0
    servers = [s for s in ports.servers.of_tenant(tenant_id) if s.status in ON_NODE]
    lost = (_reach(before, servers) - _reach(after, servers)) | (
        console_servers(before, servers) - console_servers(after, servers)
    )
    by_node: dict[str, list[str]] = {}
    for server in servers:
        if server.uuid in lost:
            by_node.setdefault(server.node_id, []).append(server.uuid)
    done = 0
    for node_id, uuids in by_node.items():
        try:
            supported = ports.agent_for(ports.nodes.get(node_id)).deauthorize_user(user_id, uuids)
        except DomainError as exc:
            logger.warning("member deauthorization not delivered", extra={"node_id": node_id, "error": exc.code})
            continue
        if supported is False:
            logger.info("node has no deauthorize-user route; ws/deny only", extra={"node_id": node_id})
            continue
        done += 1
    return done


def deauthorize_after_change(
    ports: Ports, tenant_id: str, user_id: str, before: MemberView | None, after: MemberView | None
) -> int:
    """``deauthorize_member`` for a binding that changed from ``before`` to ``after`` (None: removed)."""
    return deauthorize_member(ports, tenant_id, user_id, access_of(before), access_of(after))


def deny_tenant_consoles(ports: Ports, members: MemberPages, tenant_id: str) -> dict[str, int]:
    """The tenant was suspended: deny every member's console tokens (``ws/deny`` with their
    ``jti``) on every server of the tenant, so a token minted before the suspension (with
    ``control.*``) stops working at once; new tokens are read-only (``websocket``).

    One call per server with all members' jtis. Best effort per node: a node that fails is
    logged and its remaining servers are skipped (its tokens die within
    ``WEBSOCKET_LIFETIME``, and a restarted Wings refuses every older token)."""
    user_ids: list[str] = []
    cursor: str | None = None
    while True:
        page = members.list_members(tenant_id, PageRequest(limit=100, cursor=cursor))
        user_ids.extend(m.user_id for m in page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    servers = [s for s in ports.servers.of_tenant(tenant_id) if s.status in ON_NODE]
    done = {"servers": 0, "failed": 0}
    agents: dict[str, Any] = {}
    down: set[str] = set()
    for server in servers:
        if not user_ids:
            break
        if server.node_id in down:
            done["failed"] += 1
            continue
        try:
            if server.node_id not in agents:
                agents[server.node_id] = ports.agent_for(ports.nodes.get(server.node_id))
            agents[server.node_id].deny_websocket_tokens(
                server.uuid, [wings_jwt.jti_for(user_id, server.uuid) for user_id in user_ids]
            )
            done["servers"] += 1
        except DomainError as exc:
            down.add(server.node_id)
            done["failed"] += 1
            logger.warning(
                "suspension console denial not delivered",
                extra={"server_uuid": server.uuid, "node_id": server.node_id, "error": exc.code},
            )
    return done


class MemberView(Protocol):
    """What ``revoke_console`` reads of a membership (``mamba.domain.tenancy.Membership``)."""

    @property
    def effective_permissions(self) -> frozenset[str]: ...
    @property
    def server_id(self) -> str | None: ...


def access_of(member: MemberView | None) -> Access | None:
    if member is None:
        return None
    return Access(permissions=frozenset(member.effective_permissions), server_scope=member.server_id)


def revoke_console_after_change(
    ports: Ports, tenant_id: str, user_id: str, before: MemberView | None, after: MemberView | None
) -> int:
    """``revoke_console`` for a binding that changed from ``before`` to ``after`` (None: removed)."""
    return revoke_console(ports, tenant_id, user_id, access_of(before), access_of(after))


class MemberPages(Protocol):
    def list_members(self, tenant_id: str, page: PageRequest) -> Page[Membership]: ...


def revoke_console_for_role(
    ports: Ports, members: MemberPages, tenant_id: str, role_id: str, new_permissions: frozenset[str]
) -> int:
    """A custom role lost ``servers.console``: revoke the console of every member bound to it
    (``ws/deny``) and close their open sockets and SFTP sessions (``deauthorize_member``)."""
    told = 0
    cursor: str | None = None
    while True:
        page = members.list_members(tenant_id, PageRequest(limit=100, cursor=cursor))
        for member in page.items:
            if member.role != role_id:
                continue
            before = Access(permissions=frozenset({CONSOLE}), server_scope=member.server_id)
            after = Access(permissions=frozenset(new_permissions), server_scope=member.server_id)
            told += revoke_console(ports, tenant_id, member.user_id, before, after)
            deauthorize_member(ports, tenant_id, member.user_id, before, after)
        cursor = page.next_cursor
        if not cursor:
            return told


class MembershipsOfUser(Protocol):
    def tenants_of_user(self, user_id: str, page: PageRequest) -> Page[UserTenant]: ...
    def get_member(self, tenant_id: str, user_id: str) -> Membership: ...


def revoke_console_everywhere(ports: Ports, memberships: MembershipsOfUser, user_id: str) -> int:
    """The account was suspended: revoke the user's console tokens on every server of every
    tenant where their binding opened the console."""
    told = 0
    cursor: str | None = None
    while True:
        page = memberships.tenants_of_user(user_id, PageRequest(limit=100, cursor=cursor))
        for joined in page.items:
            tenant_id = joined.tenant.id
            try:
                member = memberships.get_member(tenant_id, user_id)
            except NotFoundError:
                continue
            told += revoke_console(ports, tenant_id, user_id, access_of(member), None)
        cursor = page.next_cursor
        if not cursor:
            return told
