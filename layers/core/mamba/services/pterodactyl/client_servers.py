"""Pterodactyl's client API over Mamba's servers: the server a route names, its ``server``
object (``ServerTransformer``), the list of every server the caller may read, stats, startup
variables and allocations (docs/pterodactyl-api.md, "Client API: servers").

The door (``mamba.pterodactyl_web``) has already resolved the path's ``{server}`` and run the
/v1 guard with the route's permission, so ``access`` only takes what the guard proved: the
tenant (``TenantContext``) and the server's uuid. Everything else is read with the same
services /v1 uses (``services.servers.get_server``, ``services.server_control``), so another
tenant's server, a member bound to another server or a malformed id answer 404 as there.

Other client areas (files, backups, schedules, subusers) can take their server from
``access`` and ``load`` too, and a caller's permission keys from ``permission_keys``.

Port and image changes are single conditional writes (``ServerNetworkStore``), read by Wings
when the server next starts, as Pterodactyl's own routes do.

Raises NotFoundError, ValidationError (paging, filters, a variable's rules, an image),
BadIncludeError, ConflictError (a change raced another), AllocationRuleError,
StartupVariableError, DockerImageError, ServerOfflineError, and what ``server_control`` and
``server_lifecycle`` raise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from mamba.auth.context import Principal, TenantContext
from mamba.domain import servers as srv
from mamba.domain.accounts import User
from mamba.domain.blueprints import Blueprint, Variable
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import ConflictError, DomainError, NotFoundError, WingsRejectedError
from mamba.domain.nodes import Allocation, Node
from mamba.domain.pages import Page as PageOf
from mamba.domain.pages import PageRequest
from mamba.domain.pterodactyl import (
    IdRef,
    Page,
    filters,
    includes,
    item,
    matches,
    paged,
    plain_list,
    pterodactyl_permissions,
    short_identifier,
)
from mamba.domain.pterodactyl_servers import limits_attributes
from mamba.domain.servers import Server
from mamba.domain.tenancy import Membership, UserTenant
from mamba.ports import PteroIds, ServerNetworkStore

OWNER_ROLE = "owner"
ALL_PERMISSIONS = "*"
HIDDEN = "[hidden]"
NULL_RESOURCE: dict[str, Any] = {"object": "null_resource", "attributes": None}

# Pterodactyl's ``status`` of a server (null while it is simply installed) from Mamba's.
_STATUS: dict[str, str] = {
    srv.PROVISIONING: "installing",
    srv.INSTALLING: "installing",
    srv.INSTALL_FAILED: "install_failed",
    srv.FAILED: "install_failed",
    srv.SUSPENDED: "suspended",
    srv.RESTORING: "restoring_backup",
}

LIST_FILTERS = ("uuid", "name", "description", "external_id", "*")
LIST_INCLUDES = ("egg", "subusers")
LIST_TYPES = ("", "owner", "admin", "admin-all")


class ServerReader(Protocol):
    def get(self, server_uuid: str) -> Server: ...
    def of_tenant(self, tenant_id: str) -> list[Server]: ...


class NodeReader(Protocol):
    def get(self, node_id: str) -> Node: ...


class BlueprintReader(Protocol):
    def get(self, blueprint_id: str) -> Blueprint: ...


class AllocationReader(Protocol):
    def get(self, node_id: str, ip: str, port: int) -> Allocation: ...
    def set_notes(self, node_id: str, ip: str, port: int, server_id: str, notes: str | None) -> Allocation: ...


class Memberships(Protocol):
    def memberships_of_user(self, user_id: str) -> list[Membership]: ...
    def tenants_of_user(self, user_id: str, page: PageRequest) -> PageOf[UserTenant]: ...


class UserReader(Protocol):
    def get(self, user_id: str) -> User: ...


class FreeAllocations(Protocol):
    def free_allocations(self, node_id: str, limit: int = 25) -> list[Allocation]: ...


@dataclass(frozen=True)
class ClientPorts:
    """What the client API's server views read and change (``bootstrap.ptero_client_ports()``)."""

    servers: ServerReader
    nodes: NodeReader
    blueprints: BlueprintReader
    allocations: AllocationReader
    ids: PteroIds
    memberships: Memberships
    # The network and image routes: where ports and images are written, and where free ports are found.
    network: ServerNetworkStore | None = None
    free: FreeAllocations | None = None
    # Whether the caller has a second factor, for tenants that require one (the list).
    users: UserReader | None = None
    now: Callable[[], str] = field(default=lambda: iso(utcnow()))


# --- the server a client route names ---------------------------------------------------------


def access(principal: Principal, server: IdRef | None) -> tuple[TenantContext, str]:
    """The verified tenant and the uuid of the path's server (a client ``{server}`` route).
    The guard proved both; a route without a server is a NotFoundError."""
    if server is None or principal.tenant is None:
        raise NotFoundError("The requested resource could not be found on the server.", {})
    return principal.tenant, server.ref


def load(servers: ServerReader, tenant: TenantContext, server_uuid: str) -> Server:
    """The tenant's server, read as /v1 reads it (404 outside the tenant or the member's scope)."""
    from mamba.services.servers import get_server

    return get_server(servers, tenant, server_uuid)


def is_owner(tenant: TenantContext) -> bool:
    """Pterodactyl's server owner is, in Mamba, an owner of the server's tenant."""
    return tenant.role == OWNER_ROLE and tenant.server_scope is None


def held(principal: Principal, tenant: TenantContext) -> frozenset[str]:
    """The Mamba permissions the caller holds on the tenant, narrowed to an API key's scopes."""
    return principal.allowed(tenant.permissions)


def permission_keys(principal: Principal, tenant: TenantContext) -> list[str]:
    """Pterodactyl's ``meta.user_permissions``: ``["*"]`` for the tenant's owners (with a
    session or an unscoped key), else the keys of the table their permissions grant."""
    if is_owner(tenant) and principal.scopes is None:
        return [ALL_PERMISSIONS]
    return pterodactyl_permissions(held(principal, tenant))


def may(principal: Principal, tenant: TenantContext, key: str) -> bool:
    """Whether the caller holds Pterodactyl's permission ``key`` on the tenant's servers."""
    from mamba.domain.pterodactyl import PERMISSION_MAP

    mamba = PERMISSION_MAP.get(key)
    return mamba is not None and mamba in held(principal, tenant)


# --- numbers -------------------------------------------------------------------------------


def allocation_ref(node_id: str, ip: str, port: int) -> str:
    """The ``PteroIds`` ref of an allocation: ``node_id|ip|port`` (scope: the node)."""
    return f"{node_id}|{ip}|{port}"


def server_number(ids: PteroIds, server: Server) -> IdRef:
    return ids.number("server", server.uuid, server.tenant_id)


def allocation_numbers(ids: PteroIds, *servers: Server) -> dict[str, int]:
    """The integer ids of the servers' allocations by ``allocation_ref`` (one batch read for a
    whole page of servers; new ones are claimed)."""
    refs = {allocation_ref(s.node_id, ip, port): s.node_id for s in servers for ip, port in s.allocations}
    return {ref: found.number for ref, found in ids.numbers("allocation", refs).items()} if refs else {}


# --- the transformer -----------------------------------------------------------------------


def status_of(server: Server) -> str | None:
    return _STATUS.get(server.status)


def render_startup(startup: str, environment: Mapping[str, Any], variables: Sequence[Variable] = ()) -> str:
    """The startup command with each ``{{VAR}}`` replaced by the server's value (else the
    variable's default), as Pterodactyl shows ``invocation``."""
    values = {v.env_variable: v.default_value for v in variables}
    values.update({k: _text(v) for k, v in environment.items()})
    rendered = startup
    for name, value in values.items():
        rendered = rendered.replace("{{" + name + "}}", value).replace("{{env." + name + "}}", value)
    return rendered


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def allocation_item(allocation: Allocation | None, ip: str, port: int, number: int, *, primary: bool) -> dict[str, Any]:
    """Pterodactyl's client ``allocation`` (``ip_alias`` and ``notes`` from the node's record)."""
    return item(
        "allocation",
        {
            "id": number,
            "ip": ip,
            "ip_alias": allocation.alias if allocation is not None else None,
            "port": port,
            "notes": allocation.notes if allocation is not None else None,
            "is_default": primary,
        },
    )


def variable_item(variable: Variable, server: Server) -> dict[str, Any]:
    """Pterodactyl's client ``egg_variable``."""
    value = server.environment.get(variable.env_variable)
    return item(
        "egg_variable",
        {
            "name": variable.name,
            "description": variable.description,
            "env_variable": variable.env_variable,
            "default_value": variable.default_value,
            "server_value": None if value is None else _text(value),
            "is_editable": variable.user_editable,
            "rules": variable.rules,
        },
    )


def viewable_variables(blueprint: Blueprint) -> list[Variable]:
    return [v for v in blueprint.variables if v.user_viewable]


def allocation_record(ports: ClientPorts, server: Server, ip: str, port: int) -> Allocation | None:
    try:
        return ports.allocations.get(server.node_id, ip, port)
    except NotFoundError:
        return None


def allocation_items(
    ports: ClientPorts, server: Server, *, only_primary: bool = False, numbers: Mapping[str, int] | None = None
) -> list[dict[str, Any]]:
    """The server's allocations, the primary first (``only_primary``: without ``allocation.read``,
    Pterodactyl lists only the primary one, without its notes). ``numbers``: the page's ids, read
    once for all its servers (``allocation_numbers``)."""
    numbers = numbers if numbers is not None else allocation_numbers(ports.ids, server)
    wanted = [server.allocation] if only_primary else list(server.allocations)
    items = []
    for ip, port in wanted:
        record = allocation_record(ports, server, ip, port)
        number = numbers[allocation_ref(server.node_id, ip, port)]
        entry = allocation_item(record, ip, port, number, primary=(ip, port) == server.allocation)
        if only_primary:
            entry["attributes"]["notes"] = None
        items.append(entry)
    return items


@dataclass(frozen=True)
class Viewer:
    """Who looks at a server: what decides the attributes they see."""

    owner: bool
    keys: frozenset[str]  # Pterodactyl permission keys (``*`` for an owner)

    def can(self, key: str) -> bool:
        return ALL_PERMISSIONS in self.keys or key in self.keys


def viewer(principal: Principal, tenant: TenantContext) -> Viewer:
    return Viewer(owner=is_owner(tenant), keys=frozenset(permission_keys(principal, tenant)))


def server_item(
    ports: ClientPorts,
    server: Server,
    seen_by: Viewer,
    *,
    node: Node | None = None,
    blueprint: Blueprint | None = None,
    number: IdRef | None = None,
    wanted: frozenset[str] = frozenset(),
    allocation_ids: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Pterodactyl's client ``server`` with its default relationships (allocations, variables)
    and the ``include=`` ones asked for (egg; subusers are answered as a null resource). A list
    passes what it read once for its page (node, blueprint, numbers)."""
    node = node or ports.nodes.get(server.node_id)
    blueprint = blueprint or ports.blueprints.get(server.blueprint_id)
    number = number or server_number(ports.ids, server)
    startup_read = seen_by.can("startup.read")
    variables = viewable_variables(blueprint)
    limits = server.limits
    attributes: dict[str, Any] = {
        "server_owner": seen_by.owner,
        "identifier": short_identifier(server.uuid),
        "internal_id": number.number,
        "uuid": server.uuid,
        "name": server.name,
        "node": node.name,
        "is_node_under_maintenance": node.maintenance,
        "sftp_details": {"ip": node.fqdn, "port": node.sftp_port},
        "description": server.description,
        "limits": limits_attributes(limits),
        "invocation": render_startup(server.startup, server.environment, variables) if startup_read else HIDDEN,
        "docker_image": server.docker_image,
        "egg_features": list(blueprint.features) or None,
        "feature_limits": {
            "databases": 0,  # Mamba has no managed databases (the database routes answer 501)
            "allocations": server.feature_limits.allocations,
            "backups": server.feature_limits.backups,
        },
        "status": status_of(server),
        "is_suspended": server.suspended,
        "is_installing": server.status in (srv.PROVISIONING, srv.INSTALLING),
        "is_transferring": False,  # Mamba does not move servers between nodes
    }
    relationships: dict[str, Any] = {
        "allocations": plain_list(
            allocation_items(ports, server, only_primary=not seen_by.can("allocation.read"), numbers=allocation_ids)
        ),
        "variables": plain_list([variable_item(v, server) for v in variables]) if startup_read else NULL_RESOURCE,
    }
    if "egg" in wanted:
        relationships["egg"] = item("egg", {"uuid": blueprint.id, "name": blueprint.name})
    if "subusers" in wanted:
        relationships["subusers"] = NULL_RESOURCE
    return item("server", attributes, relationships)


def details(
    ports: ClientPorts, principal: Principal, server_ref: IdRef | None, query: Mapping[str, str]
) -> dict[str, Any]:
    """``GET /api/client/servers/{server}``: the server with ``meta.is_server_owner`` and
    ``meta.user_permissions``."""
    tenant, server_uuid = access(principal, server_ref)
    server = load(ports.servers, tenant, server_uuid)
    seen_by = viewer(principal, tenant)
    # A server named by its identifier arrives with its number (the door read it); by its uuid, not.
    number = server_ref if server_ref is not None and server_ref.number else None
    body = server_item(ports, server, seen_by, number=number, wanted=includes(query, LIST_INCLUDES))
    body["meta"] = {"is_server_owner": seen_by.owner, "user_permissions": sorted(seen_by.keys)}
    return body


# --- GET /api/client --------------------------------------------------------------------------


def readable_bindings(principal: Principal, bindings: Iterable[Membership], now: float) -> list[Membership]:
    """The caller's bindings that let them read servers (an API key's scopes narrow them)."""
    return [b for b in bindings if not b.expired(now) and "servers.read" in principal.allowed(b.effective_permissions)]


def tenants_requiring_2fa(ports: ClientPorts, user_id: str) -> set[str]:
    """The user's tenants that require two-factor authentication, when the user has no second
    factor (else none): the guard refuses every route of those tenants to such a user, so the
    list must not show their servers either."""
    if ports.users is None or ports.users.get(user_id).has_second_factor:
        return set()
    blocked: set[str] = set()
    cursor: str | None = None
    while True:
        page = ports.memberships.tenants_of_user(user_id, PageRequest(100, cursor))
        blocked |= {row.tenant.id for row in page.items if row.tenant.require_2fa}
        cursor = page.next_cursor
        if not cursor:
            return blocked


def _tenant_context(binding: Membership) -> TenantContext:
    return TenantContext(
        tenant_id=binding.tenant_id,
        role=binding.role,
        permissions=binding.effective_permissions,
        server_scope=binding.server_id,
        expires_at=binding.expires_at,
    )


def _matches_any(server: Server, ref: IdRef, wanted: str) -> bool:
    """``filter[*]``: name, uuid, identifier or external id, or ``ip:port`` of an allocation."""
    if ":" in wanted:
        ip, _, port = wanted.rpartition(":")
        return any(a_ip == ip and str(a_port) == port for a_ip, a_port in server.allocations)
    return any(
        matches(value, wanted) for value in (server.name, server.uuid, short_identifier(server.uuid), ref.external_id)
    )


def _kept(server: Server, ref: IdRef, wanted: Mapping[str, str]) -> bool:
    checks = {
        "uuid": server.uuid,
        "name": server.name,
        "description": server.description,
        "external_id": ref.external_id or "",
    }
    for name, value in wanted.items():
        if name == "*":
            if not _matches_any(server, ref, value):
                return False
        elif not matches(checks[name], value):
            return False
    return True


def list_servers(
    ports: ClientPorts, principal: Principal, query: Mapping[str, str], *, now: float, base_url: str = ""
) -> dict[str, Any]:
    """``GET /api/client``: the servers of every tenant where the caller may read them
    (``servers.read``, narrowed by an API key's scopes; a subuser sees their one server).

    ``type=owner`` keeps the tenants the caller owns. ``type=admin``/``admin-all`` are
    Pterodactyl's views of other people's servers for root admins: Mamba's client API never
    opens a server of a tenant the caller is not a member of (the guard answers 404), so
    ``admin`` is empty and ``admin-all`` is the caller's own list, for admins; for anyone
    else both are empty, as in Pterodactyl. A tenant that requires 2FA of a caller without a
    second factor is left out (its routes refuse them). Oldest first, paged (per_page ≤ 100).
    """
    page = Page.from_query(query)
    kind = (query.get("type") or "").strip()
    wanted = filters(query, LIST_FILTERS)
    asked = includes(query, LIST_INCLUDES)
    bindings = readable_bindings(principal, ports.memberships.memberships_of_user(principal.user_id), now)
    if kind not in LIST_TYPES or kind == "admin" or (kind == "admin-all" and not principal.is_admin):
        bindings = []
    elif kind == "owner":
        bindings = [b for b in bindings if b.role == OWNER_ROLE and b.server_id is None]
    if bindings:
        refused = tenants_requiring_2fa(ports, principal.user_id)
        bindings = [b for b in bindings if b.tenant_id not in refused]
    found: list[tuple[Server, TenantContext]] = []
    for binding in sorted(bindings, key=lambda b: b.tenant_id):
        tenant = _tenant_context(binding)
        for server in ports.servers.of_tenant(binding.tenant_id):
            if server.status == srv.DELETING or (binding.server_id and binding.server_id != server.uuid):
                continue
            if principal.key_servers and server.uuid not in principal.key_servers:
                continue  # a key limited to some servers lists only those
            found.append((server, tenant))
    found.sort(key=lambda pair: (pair[0].created_at, pair[0].uuid))
    refs = ports.ids.numbers("server", {s.uuid: s.tenant_id for s, _ in found}) if found else {}
    kept = [(s, t) for s, t in found if _kept(s, refs[s.uuid], wanted)]
    shown = page.slice(kept)
    allocation_ids = allocation_numbers(ports.ids, *(server for server, _ in shown))
    nodes: dict[str, Node] = {}
    blueprints: dict[str, Blueprint] = {}
    items = []
    for server, tenant in shown:
        node = nodes.get(server.node_id) or nodes.setdefault(server.node_id, ports.nodes.get(server.node_id))
        blueprint = blueprints.get(server.blueprint_id) or blueprints.setdefault(
            server.blueprint_id, ports.blueprints.get(server.blueprint_id)
        )
        items.append(
            server_item(
                ports,
                server,
                viewer(principal, tenant),
                node=node,
                blueprint=blueprint,
                number=refs[server.uuid],
                wanted=asked,
                allocation_ids=allocation_ids,
            )
        )
    return paged(items, page, len(kept), base_url)


# --- resources --------------------------------------------------------------------------------


def stats_item(resources: Mapping[str, Any]) -> dict[str, Any]:
    """Pterodactyl's ``stats`` from what ``server_control.resources`` read off Wings."""
    use = resources.get("utilization") or {}
    network = use.get("network") or {}
    state = str(resources.get("state") or "offline")
    return item(
        "stats",
        {
            "current_state": state if state in srv.WINGS_STATES else "offline",
            "is_suspended": bool(resources.get("is_suspended")) or resources.get("status") == srv.SUSPENDED,
            "resources": {
                "memory_bytes": int(use.get("memory_bytes") or 0),
                "cpu_absolute": float(use.get("cpu_absolute") or 0),
                "disk_bytes": int(use.get("disk_bytes") or 0),
                "network_rx_bytes": int(network.get("rx_bytes") or 0),
                "network_tx_bytes": int(network.get("tx_bytes") or 0),
                "uptime": int(use.get("uptime") or 0),
            },
        },
    )


# --- activity -----------------------------------------------------------------------------

ACTIVITY_WINDOW = 500


class ActivityReader(Protocol):
    def activity(self, server_uuid: str, limit: int = 100) -> list[srv.ActivityEntry]: ...


def server_activity(repo: ActivityReader, server: Server) -> list[Any]:
    """The server's activity log (what Wings and the panel reported), newest first, at most
    ``ACTIVITY_WINDOW`` entries, as ``client_account.Activity`` rows."""
    from mamba.services.pterodactyl.client_account import Activity

    return [
        Activity(
            id=entry.entry_id or f"{entry.timestamp}:{entry.event}",
            event=entry.event,
            timestamp=entry.timestamp,
            properties=entry.metadata if isinstance(entry.metadata, dict) else {},
            ip=entry.ip,
            is_api=entry.source == "api",
            actor_id=entry.user_id,
        )
        for entry in repo.activity(server.uuid, ACTIVITY_WINDOW)
    ]


def panel_activity(log: Any, tenant: TenantContext, server: Server, now: datetime) -> list[Any]:
    """What was done to the server through the panel (either door), from the tenant's audit log:
    its successful changes whose path names the server, as ``server:<action>`` events. Only for
    a caller who may read the tenant's audit log (``audit.read``: the same entries /v1 shows
    them); the read is bounded as the account's is (``client_account.ACTIVITY_PAGES`` pages of
    the last ``ACTIVITY_DAYS`` days)."""
    from mamba.domain.audit import AuditFilter
    from mamba.services.audit import stamp
    from mamba.services.pterodactyl.client_account import ACTIVITY_DAYS, ACTIVITY_PAGES, from_audit

    marks = (f"/servers/{server.uuid}", f"/servers/{short_identifier(server.uuid)}")
    wanted = AuditFilter(result="success", since=stamp(now - timedelta(days=ACTIVITY_DAYS)))
    found: list[Any] = []
    cursor: str | None = None
    for _ in range(ACTIVITY_PAGES):
        page = log.list(tenant.tenant_id, wanted, 100, cursor)
        for entry in page.items:
            target = entry.target or ""
            if any(target.endswith(mark) or f"{mark}/" in target for mark in marks):
                row = from_audit(entry)
                found.append(replace(row, event=f"server:{row.event}"))
        cursor = page.next_cursor
        if not cursor or len(found) >= ACTIVITY_WINDOW:
            break
    return found[:ACTIVITY_WINDOW]


# --- startup ------------------------------------------------------------------------------


def startup_list(server: Server, blueprint: Blueprint) -> dict[str, Any]:
    """``GET .../startup``: the user-viewable variables with the rendered and raw startup
    command and the images the blueprint offers (not paged)."""
    variables = viewable_variables(blueprint)
    body = plain_list([variable_item(v, server) for v in variables])
    body["meta"] = {
        "startup_command": render_startup(server.startup, server.environment, variables),
        "docker_images": dict(blueprint.docker_images),
        "raw_startup_command": server.startup,
    }
    return body


class StartupVariableError(DomainError):
    """Pterodactyl's 400 for a variable that does not exist or may not be edited."""

    status = 400


def editable_variable(blueprint: Blueprint, key: str) -> Variable:
    """The variable ``key`` of the blueprint, if users may see and edit it (Pterodactyl's 400s)."""
    variable = blueprint.variable(key)
    if variable is None or not variable.user_viewable:
        raise StartupVariableError(
            "The environment variable you are trying to edit does not exist.", {"field": "key", "key": key}
        )
    if not variable.user_editable:
        raise StartupVariableError(
            "The environment variable you are trying to edit is read-only.", {"field": "key", "key": key}
        )
    return variable


def variable_answer(server: Server, blueprint: Blueprint, variable: Variable, value: Any) -> dict[str, Any]:
    """``PUT .../startup/variable``: the variable as it will be (the build change runs as a
    workflow) with the startup command rendered with it."""
    environment = {**server.environment, variable.env_variable: variable.default_value if value is None else value}
    changed = replace_environment(server, environment)
    body = variable_item(variable, changed)
    body["meta"] = {
        "startup_command": render_startup(server.startup, environment, viewable_variables(blueprint)),
        "raw_startup_command": server.startup,
    }
    return body


def replace_environment(server: Server, environment: dict[str, Any]) -> Server:
    return replace(server, environment=environment)


# --- allocations --------------------------------------------------------------------------


def allocation_list(ports: ClientPorts, server: Server) -> dict[str, Any]:
    """``GET .../network/allocations``: every allocation of the server, the primary first (not paged)."""
    return plain_list(allocation_items(ports, server))


def allocation_of(ports: ClientPorts, server: Server, number: int) -> tuple[str, int]:
    """The server's allocation with Pterodactyl id ``number``; 404 for any other."""
    ref = ports.ids.by_number("allocation", number)
    if ref is not None:
        node_id, _, rest = ref.ref.partition("|")
        ip, _, port = rest.rpartition("|")
        if node_id == server.node_id and port.isdigit() and (ip, int(port)) in server.allocations:
            return ip, int(port)
    raise NotFoundError("The requested resource could not be found on the server.", {"allocation": number})


def number_of(reference: str) -> int:
    """An integer id from the path; anything else is a 404 (no such object)."""
    if not reference.isdigit():
        raise NotFoundError("The requested resource could not be found on the server.", {"id": reference})
    return int(reference)


def set_allocation_notes(
    ports: ClientPorts, tenant: TenantContext, server_uuid: str, number: int, notes: str | None
) -> dict[str, Any]:
    """``POST .../network/allocations/{id}``: the notes of one of the server's allocations."""
    server = load(ports.servers, tenant, server_uuid)
    ip, port = allocation_of(ports, server, number)
    saved = ports.allocations.set_notes(server.node_id, ip, port, server.uuid, (notes or "").strip() or None)
    return allocation_item(saved, ip, port, number, primary=(ip, port) == server.allocation)


# --- changing the server's ports and image ------------------------------------------------

# How many free ports of the node an assignment looks through, and how often it tries again when
# another server takes the one it picked.
FREE_LOOKUP = 100
ASSIGN_ATTEMPTS = 5


class AllocationRuleError(DomainError):
    """Pterodactyl's 400s of the network routes (limit reached, the primary port, none free)."""

    status = 400


class DockerImageError(DomainError):
    """Pterodactyl's 400 for an image an administrator set by hand."""

    status = 400


def _wired[T](port: T | None, name: str) -> T:
    if port is None:
        raise RuntimeError(f"these ClientPorts were built without {name}")
    return port


def assign_allocation(ports: ClientPorts, tenant: TenantContext, server_uuid: str) -> dict[str, Any]:
    """``POST .../network/allocations``: one more free port of the server's node (its primary
    ip first), within the server's allocation limit (which counts the primary port, as in
    Pterodactyl). Raises AllocationRuleError (limit, none free), ConflictError."""
    network, free = _wired(ports.network, "network"), _wired(ports.free, "free")
    for _ in range(ASSIGN_ATTEMPTS):
        server = load(ports.servers, tenant, server_uuid)
        if len(server.allocations) >= server.feature_limits.allocations:
            raise AllocationRuleError(
                "Cannot assign additional allocations to this server: limit has been reached.",
                {"limit": server.feature_limits.allocations},
            )
        candidates = sorted(
            free.free_allocations(server.node_id, FREE_LOOKUP), key=lambda a: (a.ip != server.allocation[0], a.port)
        )
        if not candidates:
            raise AllocationRuleError(
                "There are no free allocations on this server's node.", {"node_id": server.node_id}
            )
        chosen = candidates[0]
        try:
            network.add_allocation(server, chosen.ip, chosen.port, ports.now())
        except ConflictError:
            continue  # taken by another server, or this server changed: read again and pick again
        number = ports.ids.number("allocation", allocation_ref(server.node_id, chosen.ip, chosen.port), server.node_id)
        return allocation_item(chosen, chosen.ip, chosen.port, number.number, primary=False)
    raise ConflictError("The server's ports kept changing; try again.", {"uuid": server_uuid})


def set_primary_allocation(ports: ClientPorts, tenant: TenantContext, server_uuid: str, number: int) -> dict[str, Any]:
    """``POST .../network/allocations/{id}/primary``: that port becomes the primary one (the
    server binds it from its next start). Raises NotFoundError, ConflictError."""
    server = load(ports.servers, tenant, server_uuid)
    ip, port = allocation_of(ports, server, number)
    if (ip, port) != server.allocation:
        _wired(ports.network, "network").set_primary(server, ip, port, ports.now())
    return allocation_item(allocation_record(ports, server, ip, port), ip, port, number, primary=True)


def delete_allocation(ports: ClientPorts, tenant: TenantContext, server_uuid: str, number: int) -> None:
    """``DELETE .../network/allocations/{id}``: free one of the server's extra ports (never the
    primary one). Raises NotFoundError, AllocationRuleError, ConflictError."""
    server = load(ports.servers, tenant, server_uuid)
    ip, port = allocation_of(ports, server, number)
    if (ip, port) == server.allocation:
        raise AllocationRuleError(
            "You cannot delete the primary allocation for this server.", {"allocation": f"{ip}:{port}"}
        )
    _wired(ports.network, "network").remove_allocation(server, ip, port, ports.now())


def set_docker_image(ports: ClientPorts, tenant: TenantContext, server_uuid: str, image: str) -> None:
    """``PUT .../settings/docker-image``: one of the images the server's blueprint offers; a server
    whose image an administrator set by hand keeps it. Used from the next start. Raises
    ValidationError (not an image of the blueprint), DockerImageError, ConflictError."""
    from mamba.domain.errors import ValidationError

    server = load(ports.servers, tenant, server_uuid)
    offered = set(ports.blueprints.get(server.blueprint_id).docker_images.values())
    if server.docker_image not in offered:
        raise DockerImageError(
            "This server's Docker image has been manually set by an administrator and cannot be updated.",
            {"docker_image": server.docker_image},
        )
    if image not in offered:
        raise ValidationError(
            "The docker image must be one of the images the server's egg offers.",
            {"fields": [{"field": "docker_image", "message": "must be one of the egg's images", "type": "in"}]},
        )
    if image != server.docker_image:
        _wired(ports.network, "network").set_image(server, image, ports.now())


# --- console ------------------------------------------------------------------------------


class ServerOfflineError(WingsRejectedError):
    """Pterodactyl's 502 for a command to a server that is not running (the node refused it)."""

    status = 502


def send_command(control_ports: Any, tenant: TenantContext, server_uuid: str, command: str) -> None:
    """``POST .../command`` through ``server_control.send_command``; the node's refusal for a
    stopped server is Pterodactyl's 502 (not /v1's 409), which its tools look for."""
    from mamba.domain.errors import WingsUnauthorizedError
    from mamba.services import server_control

    try:
        server_control.send_command(control_ports, tenant, server_uuid, command)
    except WingsUnauthorizedError:
        raise
    except WingsRejectedError as exc:
        raise ServerOfflineError(
            "Server must be online in order to send commands.", {"uuid": server_uuid}, status=502
        ) from exc
