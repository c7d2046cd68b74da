"""Pterodactyl's application API servers onto the same services /v1 uses (docs/pterodactyl-api.md,
"Servers"): a create is ``mamba.services.servers.create_server`` (quotas, placement, the
``provision_server`` workflow); build and startup changes, suspension, reinstall and deletes are
``mamba.services.server_lifecycle``'s workflows. Integer ids come from ``PteroIds`` (one read
each); a server for ``user: N`` lives in that user's personal tenant.

Errors: NotFoundError (an unknown id: Pterodactyl's 404), ValidationError (422 naming the
field), and whatever the services raise (QuotaExceededError, NoCapacityError, ConflictError ...).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from mamba.auth.context import TenantContext
from mamba.domain import pterodactyl as ptero
from mamba.domain import pterodactyl_servers as view_rules
from mamba.domain import server_lifecycle as life
from mamba.domain import servers as srv
from mamba.domain.errors import (
    AllocationTakenError,
    ConflictError,
    DependencyUnavailableError,
    NoCapacityError,
    NotFoundError,
    WingsUnavailableError,
)
from mamba.domain.operations import FINAL as FINAL_STATUSES
from mamba.domain.pages import PageRequest
from mamba.domain.pterodactyl_servers import ServerView, VariableView, field_error
from mamba.domain.tenancy import OWNER
from mamba.services import accounts
from mamba.services import server_lifecycle as lifecycle
from mamba.services import servers as servers_service
from mamba.services.pterodactyl import nests
from mamba.services.pterodactyl.nests import NestPorts

if TYPE_CHECKING:
    from mamba.domain.accounts import User
    from mamba.domain.billing import BillingState, Plan
    from mamba.domain.blueprints import Blueprint
    from mamba.domain.fleet import FleetServer, ServerFilter
    from mamba.domain.nodes import Allocation, Node
    from mamba.domain.operations import Operation
    from mamba.domain.pages import Page
    from mamba.domain.tenancy import Membership
    from mamba.ports import PteroIds, ServerNetworkStore
    from mamba.services.pterodactyl.nodes import NodePorts
    from mamba.services.pterodactyl.users import UserPorts

NOT_FOUND = "The requested resource could not be found on the server."
FULL_PAGE = 100  # the fleet is read in pages of this many servers (a Query each, never a Scan)
PERSONAL_TENANT_NAME = "{name}'s servers"


# --- ports ----------------------------------------------------------------------------------


class Fleet(Protocol):
    def servers(self, wanted: ServerFilter, page: PageRequest) -> Page[FleetServer]: ...


class Tenants(accounts.TenantRepository, Protocol):
    def list_members(self, tenant_id: str, page: PageRequest) -> Page[Membership]: ...


class Users(Protocol):
    def get(self, user_id: str) -> User: ...


class Blueprints(Protocol):
    def get(self, blueprint_id: str) -> Blueprint: ...


class Nodes(Protocol):
    def get(self, node_id: str) -> Node: ...
    def list(self, limit: int = ..., cursor: str | None = None) -> tuple[list[Node], str | None]: ...


class Allocations(Protocol):
    def get(self, node_id: str, ip: str, port: int) -> Allocation: ...
    def list(
        self, node_id: str, limit: int = ..., cursor: str | None = None
    ) -> tuple[list[Allocation], str | None]: ...


class FreeAllocations(Protocol):
    def free_allocations(self, node_id: str, limit: int = 25) -> list[Allocation]: ...


class Plans(Protocol):
    def get_plan(self, plan_id: str) -> Plan: ...
    def get_state(self, tenant_id: str) -> BillingState: ...
    def save_state(self, state: BillingState, *, dunning_due_at: int | None) -> None: ...


@dataclass(frozen=True)
class AppServerPorts:
    ids: PteroIds
    fleet: Fleet
    tenants: Tenants
    users: Users
    blueprints: Blueprints
    nodes: Nodes
    allocations: Allocations
    free: FreeAllocations
    plans: Plans
    create: servers_service.ServerPorts
    lifecycle: lifecycle.Lifecycle
    tenant_plan: str = "free"  # PTERODACTYL_TENANT_PLAN
    settle_seconds: float = 0.0  # PTERODACTYL_SETTLE_SECONDS
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    # The areas whose objects ``?include=user,node,location,nest,egg`` shows, shaped by their own
    # transformers (None: that include is a null_resource).
    network: ServerNetworkStore | None = None  # a server's ports and image (the client API's store)
    user_area: UserPorts | None = None
    node_area: NodePorts | None = None
    nest_area: NestPorts | None = None


# --- personal tenants -----------------------------------------------------------------------


def ensure_personal_tenant(ports: AppServerPorts, user: User) -> str:
    """The user's personal tenant, created on first use with the user as owner and the plan
    the host set for API-created tenants (PTERODACTYL_TENANT_PLAN). Its id is derived from the
    user, so finding it again is one read; a concurrent first use loses the conditional create
    and reads the winner's."""
    tenant_id = view_rules.personal_tenant_id(user.id)
    try:
        ports.tenants.get(tenant_id)
        return tenant_id
    except NotFoundError:
        pass
    # The plan is read before the tenant is made: a plan id that names nothing refuses the
    # create instead of leaving a tenant on the wrong plan.
    plan = _tenant_plan(ports)
    label = "".join(c for c in (user.name or user.email.split("@")[0]) if c.isprintable()).strip()[:40]
    _tenant, created = accounts.ensure_tenant(
        ports.tenants, tenant_id, PERSONAL_TENANT_NAME.format(name=label or "My"), user.id
    )
    if created and plan is not None:
        state = ports.plans.get_state(tenant_id)
        ports.plans.save_state(replace(state, plan_id=plan.id, quotas=plan.quotas), dunning_due_at=None)
    return tenant_id


def _tenant_plan(ports: AppServerPorts) -> Plan | None:
    """PTERODACTYL_TENANT_PLAN's plan (None: the free plan). One that names no plan is the host's
    configuration, not the caller's request: a 503 naming the setting."""
    if ports.tenant_plan == "free":
        return None
    try:
        return ports.plans.get_plan(ports.tenant_plan)
    except NotFoundError as exc:
        raise DependencyUnavailableError(
            "The plan for API-created tenants (PTERODACTYL_TENANT_PLAN) does not exist; the host must fix it.",
            {"plan_id": ports.tenant_plan},
        ) from exc


def owner_of(ports: AppServerPorts, tenant_id: str) -> str | None:
    """The user a tenant's servers show as their ``user``: a personal tenant's user, else the
    tenant's first owner (one Query of its members)."""
    personal = view_rules.personal_tenant_user(tenant_id)
    if personal is not None:
        return personal
    cursor: str | None = None
    while True:
        page = ports.tenants.list_members(tenant_id, PageRequest(limit=100, cursor=cursor))
        owner = next((m.user_id for m in page.items if m.role == OWNER and m.server_id is None), None)
        if owner is not None or page.next_cursor is None:
            return owner
        cursor = page.next_cursor


# --- reading servers as Pterodactyl's -------------------------------------------------------


class _Resolver:
    """Every integer id a batch of servers needs, read in one batch per kind; blueprints,
    nodes and tenant owners read once each per request."""

    def __init__(self, ports: AppServerPorts) -> None:
        self.ports = ports
        self._blueprints: dict[str, Blueprint | None] = {}
        self._nodes: dict[str, Node | None] = {}
        self._owners: dict[str, str | None] = {}
        self._variables: dict[str, tuple[VariableView, ...]] = {}

    def blueprint(self, blueprint_id: str) -> Blueprint | None:
        if blueprint_id not in self._blueprints:
            try:
                self._blueprints[blueprint_id] = self.ports.blueprints.get(blueprint_id)
            except NotFoundError:
                self._blueprints[blueprint_id] = None
        return self._blueprints[blueprint_id]

    def node(self, node_id: str) -> Node | None:
        if node_id not in self._nodes:
            try:
                self._nodes[node_id] = self.ports.nodes.get(node_id)
            except NotFoundError:
                self._nodes[node_id] = None
        return self._nodes[node_id]

    def owner(self, tenant_id: str) -> str | None:
        if tenant_id not in self._owners:
            self._owners[tenant_id] = owner_of(self.ports, tenant_id)
        return self._owners[tenant_id]

    def variables(self, blueprint_id: str, egg: int) -> tuple[VariableView, ...]:
        if blueprint_id not in self._variables:
            self._variables[blueprint_id] = _variables(self.ports, self.blueprint(blueprint_id), egg)
        return self._variables[blueprint_id]

    def views(self, servers: list[srv.Server]) -> list[ServerView]:
        ids = self.ports.ids
        numbers = ids.numbers("server", {s.uuid: s.tenant_id for s in servers})
        nodes = ids.numbers("node", {s.node_id: None for s in servers})
        allocations = ids.numbers(
            "allocation", {view_rules.allocation_ref(s.node_id, *s.allocation): s.node_id for s in servers}
        )
        eggs = ids.numbers("egg", {s.blueprint_id: None for s in servers})
        owners = {s.tenant_id: self.owner(s.tenant_id) for s in servers}
        users = ids.numbers("user", {u: None for u in owners.values() if u})
        nests = ids.numbers("nest", {nest_ref(self.blueprint(s.blueprint_id)): None for s in servers})
        views = []
        for server in servers:
            node = self.node(server.node_id)
            owner = owners[server.tenant_id]
            egg = eggs[server.blueprint_id].number
            blueprint = self.blueprint(server.blueprint_id)
            views.append(
                ServerView(
                    server=server,
                    number=numbers[server.uuid].number,
                    external_id=numbers[server.uuid].external_id,
                    user=users[owner].number if owner else 0,
                    node=nodes[server.node_id].number,
                    allocation=allocations[view_rules.allocation_ref(server.node_id, *server.allocation)].number,
                    nest=nests[nest_ref(blueprint)].number,
                    egg=egg,
                    location=node.location if node is not None else "",
                    variables=self.variables(server.blueprint_id, egg),
                )
            )
        return views


def nest_ref(blueprint: Blueprint | None) -> str:
    """The ``PteroIds`` ref of a blueprint's nest (its category), as the nests area numbers it."""
    return nests.nest_of(blueprint) if blueprint is not None else nests.DEFAULT_NEST


variable_ref = nests.variable_ref  # a server's variables carry their egg variable's ids


def _variables(ports: AppServerPorts, blueprint: Blueprint | None, egg: int) -> tuple[VariableView, ...]:
    if blueprint is None:
        return ()
    refs = {variable_ref(blueprint.id, v.env_variable): None for v in blueprint.variables}
    numbers = ports.ids.numbers("variable", refs) if refs else {}
    return tuple(
        VariableView(
            number=numbers[variable_ref(blueprint.id, v.env_variable)].number,
            egg=egg,
            name=v.name,
            description=v.description,
            env_variable=v.env_variable,
            default_value=v.default_value,
            user_viewable=v.user_viewable,
            user_editable=v.user_editable,
            rules=v.rules,
            created_at=blueprint.created_at or None,
            updated_at=blueprint.updated_at or None,
        )
        for v in blueprint.variables
    )


Readable = Callable[[str], bool]  # may the caller's key read this application resource?


def _anything(resource: str) -> bool:
    return True


def _relationships(
    ports: AppServerPorts, view: ServerView, wanted: Iterable[str], readable: Readable
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in wanted:
        if not readable(view_rules.INCLUDE_RIGHTS[name]):
            found[name] = NULL_RESOURCE
        elif name == "databases":
            found[name] = ptero.plain_list([])  # no managed databases in Mamba
        elif name == "transfer":
            found[name] = NULL_RESOURCE  # no transfer is ever running: servers do not move nodes
        elif name == "variables":
            found[name] = ptero.plain_list(
                [ptero.item("server_variable", view_rules.variable_attributes(v, view.server)) for v in view.variables]
            )
        elif name == "allocations":
            found[name] = ptero.plain_list(_allocations(ports, view))
        elif name == "subusers":
            found[name] = ptero.plain_list(_subusers(ports, view))
        else:
            found[name] = _other_area(ports, view, name)
    return found


NULL_RESOURCE: dict[str, Any] = {"object": "null_resource", "attributes": None}


def _other_area(ports: AppServerPorts, view: ServerView, name: str) -> Any:
    """``user``, ``node``, ``location``, ``nest`` or ``egg``, shaped by its area's transformer; a
    null_resource when that object is gone (a deleted owner, a node without a location)."""
    from mamba.services.pterodactyl import nodes, users

    try:
        if name == "user" and ports.user_area is not None:
            owner = ports.ids.by_number("user", view.user)
            if owner is None:
                return NULL_RESOURCE
            return users.user_object(ports.user_area, ports.users.get(owner.ref), owner)
        if name == "node" and ports.node_area is not None:
            return nodes.get_node(ports.node_area, str(view.node), frozenset())
        if name == "location" and ports.node_area is not None and view.location:
            location = ports.ids.number("location", view.location)
            return nodes.get_location(ports.node_area, str(location.number), frozenset())
        if name == "nest" and ports.nest_area is not None:
            return nests.get_nest(ports.nest_area, str(view.nest), frozenset())
        if name == "egg" and ports.nest_area is not None:
            return nests.get_egg(ports.nest_area, str(view.nest), str(view.egg), frozenset())
    except NotFoundError:
        return NULL_RESOURCE
    return NULL_RESOURCE


def _allocations(ports: AppServerPorts, view: ServerView) -> list[dict[str, Any]]:
    server = view.server
    refs = {view_rules.allocation_ref(server.node_id, ip, port): server.node_id for ip, port in server.allocations}
    numbers = ports.ids.numbers("allocation", refs)
    items = []
    for ip, port in server.allocations:
        try:
            record = ports.allocations.get(server.node_id, ip, port)
            alias, notes = record.alias, record.notes
        except NotFoundError:
            alias = notes = None
        items.append(
            ptero.item(
                "allocation",
                {
                    "id": numbers[view_rules.allocation_ref(server.node_id, ip, port)].number,
                    "ip": ip,
                    "alias": alias,
                    "port": port,
                    "notes": notes,
                    "assigned": True,
                },
            )
        )
    return items


def _subusers(ports: AppServerPorts, view: ServerView) -> list[dict[str, Any]]:
    """The tenant's members bound to this server (Mamba's subusers), as Pterodactyl's
    application ``subuser``: their Pterodactyl permission keys from the one table."""
    server = view.server
    members: list[Membership] = []
    cursor: str | None = None
    while True:
        page = ports.tenants.list_members(server.tenant_id, PageRequest(limit=100, cursor=cursor))
        members += [m for m in page.items if m.server_id == server.uuid]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    users = ports.ids.numbers("user", {m.user_id: None for m in members})
    return [
        ptero.item(
            "subuser",
            {
                "id": users[m.user_id].number,
                "user_id": users[m.user_id].number,
                "server_id": view.number,
                "permissions": ptero.pterodactyl_permissions(m.effective_permissions),
                "created_at": ptero.iso(m.created_at),
                "updated_at": ptero.iso(m.created_at),
            },
        )
        for m in members
    ]


def render(
    ports: AppServerPorts, view: ServerView, wanted: Iterable[str] = (), readable: Readable = _anything
) -> dict[str, Any]:
    wanted = list(wanted)
    relationships = _relationships(ports, view, wanted, readable) if wanted else None
    return ptero.item("server", view_rules.server_attributes(view), relationships)


def _view(ports: AppServerPorts, server: srv.Server) -> ServerView:
    return _Resolver(ports).views([server])[0]


def server_by_number(ports: AppServerPorts, number: str | int) -> srv.Server:
    """The server with this integer id (one read of the id, one of the server); 404 otherwise."""
    text = str(number)
    if not text.isdigit():
        raise NotFoundError(NOT_FOUND, {"server": text})
    ref = ports.ids.by_number("server", int(text))
    return _server_of(ports, ref.ref if ref is not None else None, text)


def _server_of(ports: AppServerPorts, server_uuid: str | None, asked: str) -> srv.Server:
    if server_uuid is None:
        raise NotFoundError(NOT_FOUND, {"server": asked})
    try:
        return ports.create.servers.get(server_uuid)
    except NotFoundError as exc:
        raise NotFoundError(NOT_FOUND, {"server": asked}) from exc


def get_server(
    ports: AppServerPorts, number: str, query: Mapping[str, str], readable: Readable = _anything
) -> dict[str, Any]:
    wanted = ptero.includes(query, view_rules.SERVER_INCLUDES)
    return render(ports, _view(ports, server_by_number(ports, number)), sorted(wanted), readable)


def get_server_by_external(
    ports: AppServerPorts, external_id: str, query: Mapping[str, str], readable: Readable = _anything
) -> dict[str, Any]:
    wanted = ptero.includes(query, view_rules.SERVER_INCLUDES)
    ref = ports.ids.by_external("server", external_id)
    server = _server_of(ports, ref.ref if ref is not None else None, external_id)
    return render(ports, _view(ports, server), sorted(wanted), readable)


def _every_server(ports: AppServerPorts) -> list[srv.Server]:
    """Every server of the platform, a page of the fleet's index at a time (Queries, no Scan)."""
    from mamba.domain.fleet import ServerFilter

    found: list[srv.Server] = []
    cursor: str | None = None
    while True:
        page = ports.fleet.servers(ServerFilter(), PageRequest(limit=FULL_PAGE, cursor=cursor))
        found += [row.server for row in page.items]
        if not page.next_cursor:
            return found
        cursor = page.next_cursor


def list_servers(
    ports: AppServerPorts, query: Mapping[str, str], base_url: str, readable: Readable = _anything
) -> dict[str, Any]:
    """GET /api/application/servers: every server (filters, sort, pages, includes). Pterodactyl
    pages by integer id, so the whole fleet and its ids are read (Queries and BatchGetItems) and
    ordered; only the page shown reads its nodes, owners, eggs and variables."""
    page = ptero.Page.from_query(query)
    wanted = sorted(ptero.includes(query, view_rules.SERVER_INCLUDES))
    chosen = ptero.filters(query, view_rules.SERVER_FILTERS)
    servers = _every_server(ports)
    numbers = ports.ids.numbers("server", {s.uuid: s.tenant_id for s in servers})
    rows = [view_rules.ServerRow(s, numbers[s.uuid].number, numbers[s.uuid].external_id) for s in servers]
    matching = [row for row in rows if view_rules.matches_filters(row, chosen)]
    ordered = view_rules.sorted_views(matching, ptero.sort_key(query, view_rules.SERVER_SORTS))
    shown, total = ptero.page_of(ordered, page)
    views = _Resolver(ports).views([row.server for row in shown])
    return ptero.paged([render(ports, v, wanted, readable) for v in views], page, total, base_url)


# --- create ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewServer:
    """POST /api/application/servers, checked by the door's model."""

    name: str
    user: int
    egg: int
    docker_image: str
    startup: str
    environment: dict[str, Any]
    memory: int
    swap: int
    disk: int
    io: int
    cpu: int
    threads: str | None
    description: str = ""
    external_id: str | None = None
    oom_disabled: bool = True
    start_on_completion: bool = False
    skip_scripts: bool = False
    allocation: int | None = None
    additional_allocations: tuple[int, ...] = ()
    deploy_locations: tuple[int, ...] | None = None  # None: no ``deploy`` block
    deploy_port_range: tuple[str, ...] = ()
    dedicated_ip: bool = False  # deploy only on an IP no server holds a port of
    allocation_limit: int = 0  # feature_limits.allocations
    backup_limit: int | None = None  # feature_limits.backups (None: the plan's)


def _user(ports: AppServerPorts, number: int, field: str = "user") -> User:
    ref = ports.ids.by_number("user", number)
    if ref is None:
        raise field_error(field, "must be an existing user", "exists")
    try:
        return ports.users.get(ref.ref)
    except NotFoundError as exc:
        raise field_error(field, "must be an existing user", "exists") from exc


def _blueprint(ports: AppServerPorts, number: int) -> Blueprint:
    ref = ports.ids.by_number("egg", number)
    if ref is None:
        raise field_error("egg", "must be an existing egg", "exists")
    try:
        return ports.blueprints.get(ref.ref)
    except NotFoundError as exc:
        raise field_error("egg", "must be an existing egg", "exists") from exc


def _free_allocation(ports: AppServerPorts, number: int, field: str) -> tuple[str, str, int]:
    ref = ports.ids.by_number("allocation", number)
    if ref is None:
        raise field_error(field, "must be an existing, unassigned allocation", "exists")
    node_id, ip, port = view_rules.parse_allocation_ref(ref.ref)
    try:
        record = ports.allocations.get(node_id, ip, port)
    except NotFoundError as exc:
        raise field_error(field, "must be an existing, unassigned allocation", "exists") from exc
    if record.server_id is not None:
        raise field_error(field, "must be an existing, unassigned allocation", "exists")
    return node_id, ip, port


def _command(body: NewServer, blueprint: Blueprint) -> srv.CreateServer:
    if body.docker_image not in blueprint.docker_images.values():
        raise field_error("docker_image", "must be one of the egg's images", "in")
    # Pterodactyl reads only the egg's variables from ``environment``; other keys are dropped.
    known = {v.env_variable for v in blueprint.variables}
    return srv.CreateServer(
        name=body.name,
        description=body.description,
        blueprint_id=blueprint.id,
        memory_mb=body.memory,
        disk_mb=body.disk,
        cpu_percent=body.cpu,
        swap_mb=body.swap,
        io_weight=body.io,
        threads=body.threads or None,
        oom_disabled=body.oom_disabled,
        environment={k: v for k, v in body.environment.items() if v is not None and k in known},
        docker_image=body.docker_image,
        start_on_completion=body.start_on_completion,
        startup=body.startup,
        skip_install_script=body.skip_scripts,
        allocation_limit=body.allocation_limit,
        backup_limit=body.backup_limit,
    )


def _deploy_spots(ports: AppServerPorts, body: NewServer) -> list[tuple[str, str, int]]:
    """``deploy``: free ports of the nodes in the named locations (any location when the list is
    empty) within ``port_range``, in node order; each is tried as a pinned create, so placement
    still decides whether the node can take the server."""
    locations: set[str] | None = None
    if body.deploy_locations:
        locations = set()
        for number in body.deploy_locations:
            ref = ports.ids.by_number("location", number)
            if ref is None:
                raise field_error("deploy.locations", "must name existing locations", "exists")
            locations.add(ref.ref)
    spots: list[tuple[str, str, int]] = []
    cursor: str | None = None
    while True:
        nodes, cursor = ports.nodes.list(limit=100, cursor=cursor)
        for node in nodes:
            if locations is not None and node.location not in locations:
                continue
            busy = _busy_ips(ports, node.id) if body.dedicated_ip else set()
            for allocation in ports.free.free_allocations(node.id, 100):
                if allocation.ip not in busy and view_rules.port_in_ranges(allocation.port, body.deploy_port_range):
                    spots.append((node.id, allocation.ip, allocation.port))
        if not cursor:
            return spots


def _busy_ips(ports: AppServerPorts, node_id: str) -> set[str]:
    """``deploy.dedicated_ip``: the node's IPs on which some server already holds a port (one
    Query per 100 of the node's allocations)."""
    busy: set[str] = set()
    cursor: str | None = None
    while True:
        page, cursor = ports.allocations.list(node_id, 100, cursor)
        busy |= {a.ip for a in page if a.server_id}
        if not cursor:
            return busy


def create_server(
    ports: AppServerPorts, body: NewServer, *, correlation_id: str | None = None
) -> tuple[dict[str, Any], Operation]:
    """Reserve the server in its user's personal tenant and start ``provision_server``, exactly
    as /v1's create (quotas of the tenant's plan, the allocation's node must have room)."""
    user = _user(ports, body.user)
    blueprint = _blueprint(ports, body.egg)
    command = _command(body, blueprint)
    if body.external_id is not None and ports.ids.by_external("server", body.external_id) is not None:
        raise field_error("external_id", "has already been taken", "unique")
    if body.deploy_locations is None:
        if body.allocation is None:
            raise field_error("allocation.default", "is required when deploy is not given", "required")
        spots = [_free_allocation(ports, body.allocation, "allocation.default")]
        node_id = spots[0][0]
        extras: list[tuple[str, int]] = []
        for number in dict.fromkeys(body.additional_allocations):
            extra_node, ip, port = _free_allocation(ports, number, "allocation.additional")
            if extra_node != node_id or (ip, port) == spots[0][1:]:
                raise field_error("allocation.additional", "must be other free allocations of the same node", "exists")
            extras.append((ip, port))
        # Reserved with the primary port, in the same transaction (all of them or none).
        command = replace(command, additional_allocations=tuple(extras))
    else:
        if body.additional_allocations:
            raise field_error("allocation.additional", "goes with allocation.default, not deploy", "prohibited")
        spots = _deploy_spots(ports, body)
    tenant_id = ensure_personal_tenant(ports, user)
    tenant = TenantContext(tenant_id=tenant_id, role=OWNER, permissions=frozenset())
    # The server's uuid, integer id and external id are claimed before it is reserved, so two
    # creates racing for one external id cannot both make a server; a create that fails gives
    # its claims back.
    server_uuid = ports.create.new_uuid()
    ref = ports.ids.number("server", server_uuid, tenant_id)
    try:
        if body.external_id is not None:
            try:
                ref = ports.ids.set_external(ref, body.external_id)
            except ConflictError as exc:
                raise field_error("external_id", "has already been taken", "unique") from exc
        create = replace(ports.create, new_uuid=lambda: server_uuid)
        server, op = _create_on_first_spot(create, tenant, command, spots, correlation_id)
    except Exception:
        ports.ids.forget(ref)
        raise
    return render(ports, _view(ports, ports.create.servers.get(server.uuid))), op


def _create_on_first_spot(
    create: servers_service.ServerPorts,
    tenant: TenantContext,
    command: srv.CreateServer,
    spots: list[tuple[str, str, int]],
    correlation_id: str | None,
) -> tuple[srv.Server, Operation]:
    last: Exception | None = None
    ruled_out: set[str] = set()  # nodes placement refused: their other ports would be refused too
    for node_id, ip, port in spots:
        if node_id in ruled_out:
            continue
        pinned = replace(command, node_id=node_id, allocation=(ip, port))
        try:
            return servers_service.create_server(create, tenant, pinned, correlation_id=correlation_id)
        except AllocationTakenError as exc:
            last = exc  # taken meanwhile: the node's next free port
        except NoCapacityError as exc:
            last = exc
            ruled_out.add(node_id)
    if isinstance(last, AllocationTakenError) and len(spots) == 1:
        raise field_error("allocation.default", "must be an existing, unassigned allocation", "exists") from last
    if last is not None and len(spots) == 1:
        raise last  # the one named port: placement's own reason (room, maintenance, reachability)
    raise NoCapacityError(
        "No node in the requested locations has a free port and room for this server.",
        {"candidates": len(spots)},
    ) from last


# --- changes --------------------------------------------------------------------------------

SETTLE_POLL_SECONDS = 0.25


def settle(ports: AppServerPorts, op: Operation | None) -> None:
    """Wait (at most ``settle_seconds``) for a workflow to finish before answering, as
    Pterodactyl answers once the daemon acted: a suspend, build change or delete is then visible
    to the caller's next request. A workflow that failed is the node's 503; one still running
    when the time is up is left to finish (the answer means "started", ``status`` tells more)."""
    if op is None or ports.settle_seconds <= 0:
        return
    deadline = ports.clock() + ports.settle_seconds
    current = op
    while current.status not in FINAL_STATUSES and ports.clock() < deadline:
        ports.sleep(SETTLE_POLL_SECONDS)
        current = ports.create.operations.get(op.tenant_id, op.id)
    if current.status == "failed":
        raise WingsUnavailableError(
            "The node could not apply the change; it was rolled back where it could be.",
            {"operation_id": op.id, "error": dict(current.error or {})},
        )


def _admin_tenant(server: srv.Server) -> TenantContext:
    """The platform acts on the server's tenant, as /v1's admin routes do."""
    return TenantContext(tenant_id=server.tenant_id, role="platform", permissions=frozenset())


def _owns(ports: AppServerPorts, tenant_id: str, user_number: int) -> bool:
    """Whether the user with this integer id is an owner of the tenant (its member list read)."""
    ref = ports.ids.by_number("user", user_number)
    if ref is None:
        return False
    cursor: str | None = None
    while True:
        page = ports.tenants.list_members(tenant_id, PageRequest(limit=100, cursor=cursor))
        if any(m.user_id == ref.ref and m.role == OWNER and m.server_id is None for m in page.items):
            return True
        if not page.next_cursor:
            return False
        cursor = page.next_cursor


def update_details(ports: AppServerPorts, number: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """PATCH .../details: name, description, external_id. ``user`` must be the server's user or
    another owner of its tenant (nothing moves then): a server lives in a tenant, so it cannot
    move to another user's (docs/pterodactyl-api.md)."""
    server = server_by_number(ports, number)
    view = _view(ports, server)
    if int(body["user"]) != view.user and not _owns(ports, server.tenant_id, int(body["user"])):
        raise field_error("user", "cannot change: a server stays in its tenant (transfer it in Mamba instead)", "same")
    ref = ports.ids.number("server", server.uuid, server.tenant_id)
    if "external_id" in body and body["external_id"] != ref.external_id:
        try:
            ports.ids.set_external(ref, body["external_id"])
        except ConflictError as exc:
            raise field_error("external_id", "has already been taken", "unique") from exc
    changes: dict[str, Any] = {"name": body["name"]}
    if "description" in body:  # sent as null: cleared, as Pterodactyl does; left out: kept
        changes["description"] = body["description"] or ""
    lifecycle.update_server(ports.lifecycle, _admin_tenant(server), server.uuid, changes)
    return render(ports, _view(ports, ports.create.servers.get(server.uuid)))


def update_build(
    ports: AppServerPorts,
    number: str,
    limits: Mapping[str, Any],
    allocations: Mapping[str, Any],
    feature_limits: Mapping[str, int | None] | None = None,
) -> dict[str, Any]:
    """PATCH .../build. Everything is checked before the first write (the ports whole, the limits
    by the domain's rules); the limits then go through ``update_server_build`` first (quota, the
    server's lock: the likely refusals, before anything changed), then the ports (the client API's
    network store, each write conditioned on the server read) and the feature limits are written,
    and the route waits for the build workflow (``settle``)."""
    server = server_by_number(ports, number)
    plan = _plan_ports(ports, server, allocations)
    names = {"memory": "memory_mb", "disk": "disk_mb", "swap": "swap_mb", "io": "io_weight", "cpu": "cpu_percent",
             "threads": "threads", "oom_disabled": "oom_disabled"}  # fmt: skip
    # A limit left out (or null) keeps its value; an empty threads string clears the cpuset.
    changes = {names[k]: v for k, v in limits.items() if k in names and (v is not None or k == "threads")}
    if "threads" in changes:
        changes["threads"] = changes["threads"] or None
    life.merge_limits(server.limits, changes)  # ValidationError before anything is written
    op = None
    if changes != {name: getattr(server.limits, name) for name in changes}:
        _, op = lifecycle.update_server(ports.lifecycle, _admin_tenant(server), server.uuid, {"limits": changes})
    server = _apply_ports(ports, server, plan)
    _set_feature_limits(ports, server, feature_limits or {})
    settle(ports, op)
    return render(ports, _view(ports, ports.create.servers.get(server.uuid)))


def _set_feature_limits(ports: AppServerPorts, server: srv.Server, wanted: Mapping[str, int | None]) -> srv.Server:
    """``feature_limits.backups``/``allocations`` (one left out or null keeps its value): the
    server's own values, panel-only (Wings knows none of them), written at once."""
    current = server.feature_limits
    updated = replace(
        current,
        backups=current.backups if wanted.get("backups") is None else int(wanted["backups"] or 0),
        allocations=current.allocations if wanted.get("allocations") is None else int(wanted["allocations"] or 0),
    )
    if updated == current:
        return server
    ports.lifecycle.store.set_profile(
        server.uuid, name=None, description=None, now=ports.create.now(), feature_limits=updated
    )
    return ports.create.servers.get(server.uuid)


def _spot(ports: AppServerPorts, server: srv.Server, number: int, field: str) -> tuple[str, int]:
    """An allocation id as a port of the server's node; 422 on ``field`` otherwise."""
    ref = ports.ids.by_number("allocation", int(number))
    if ref is None:
        raise field_error(field, "must name existing allocations of the server's node", "exists")
    node_id, ip, port = view_rules.parse_allocation_ref(ref.ref)
    if node_id != server.node_id:
        raise field_error(field, "must name existing allocations of the server's node", "exists")
    return ip, port


@dataclass(frozen=True)
class _PortPlan:
    adds: list[tuple[str, int]]
    primary: tuple[str, int]
    removes: list[tuple[str, int]]


def _plan_ports(ports: AppServerPorts, server: srv.Server, wanted: Mapping[str, Any]) -> _PortPlan:
    """``add_allocations``, ``allocation`` (the primary port) and ``remove_allocations``, checked
    whole: each added port free on the server's node, the primary one of the server's ports once
    the adds are in, the primary port never removed. 422 naming the field; nothing written."""
    adds = [_spot(ports, server, n, "add_allocations") for n in wanted.get("add_allocations") or ()]
    removes = [_spot(ports, server, n, "remove_allocations") for n in wanted.get("remove_allocations") or ()]
    primary = _spot(ports, server, int(wanted["allocation"]), "allocation")
    adds = [spot for spot in dict.fromkeys(adds) if spot not in server.allocations]
    for ip, port in adds:
        try:
            holder = ports.allocations.get(server.node_id, ip, port).server_id
        except NotFoundError:
            holder = "gone"
        if holder is not None:
            raise field_error("add_allocations", "must name unassigned allocations of the server's node", "exists")
    if primary not in (*server.allocations, *adds):
        raise field_error("allocation", "must be one of the server's allocations", "exists")
    if primary in removes:
        raise field_error("remove_allocations", "cannot hold the server's primary allocation", "different")
    removes = [spot for spot in dict.fromkeys(removes) if spot in server.allocations]
    return _PortPlan(adds=adds, primary=primary, removes=removes)


def _apply_ports(ports: AppServerPorts, server: srv.Server, plan: _PortPlan) -> srv.Server:
    """The planned port changes, one conditioned write each (a change that raced another is a
    409); Wings binds them at the server's next start, as with the client API's."""
    if not plan.adds and not plan.removes and plan.primary == server.allocation:
        return server
    network = ports.network
    if network is None:
        raise RuntimeError("these AppServerPorts were built without the network store")
    now = ports.create.now
    for ip, port in plan.adds:
        network.add_allocation(server, ip, port, now())
        server = ports.create.servers.get(server.uuid)
    if plan.primary != server.allocation:
        network.set_primary(server, *plan.primary, now())
        server = ports.create.servers.get(server.uuid)
    for ip, port in plan.removes:
        network.remove_allocation(server, ip, port, now())
        server = ports.create.servers.get(server.uuid)
    return server


def update_startup(ports: AppServerPorts, number: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """PATCH .../startup: the environment through ``update_server_build`` (each value checked by
    its variable's rules; the server's lock and the rules are the likely refusals, so it goes
    first and a refusal leaves everything as it was), then the image (one of the egg's, used from
    the next start, as the client API's docker-image setting) and the startup command (Wings reads
    both at the next start). The egg stays the server's."""
    server = server_by_number(ports, number)
    view = _view(ports, server)
    if int(body["egg"]) != view.egg:
        raise field_error("egg", "cannot change: reinstall as a new server with the other egg", "same")
    blueprint = ports.blueprints.get(server.blueprint_id)
    image = body["image"] if body["image"] != server.docker_image else None
    startup = body["startup"] if body["startup"] != server.startup else None
    if image is not None and image not in blueprint.docker_images.values():
        raise field_error("image", "must be one of the egg's images", "in")
    # Pterodactyl drops keys that are no variable of the egg (clients send back the whole
    # container environment, STARTUP and P_SERVER_* included) and so does this door.
    known = {v.env_variable for v in blueprint.variables}
    environment = {
        k: v
        for k, v in dict(body.get("environment") or {}).items()
        if k in known and view_rules.env_text(server.environment.get(k)) != view_rules.env_text(v)
    }
    op = None
    if environment:
        _, op = lifecycle.update_server(
            ports.lifecycle, _admin_tenant(server), server.uuid, {"environment": environment}
        )
    if image is not None:
        if ports.network is None:
            raise RuntimeError("these AppServerPorts were built without the network store")
        ports.network.set_image(ports.create.servers.get(server.uuid), image, ports.create.now())
    if startup is not None:  # an administrator's own command, as Pterodactyl lets them set one
        ports.lifecycle.store.set_profile(
            server.uuid, name=None, description=None, now=ports.create.now(), startup=startup
        )
    settle(ports, op)
    return render(ports, _view(ports, ports.create.servers.get(server.uuid)))


def suspend(ports: AppServerPorts, number: str) -> Operation:
    op = lifecycle.suspend_server(ports.lifecycle, server_by_number(ports, number).uuid)
    settle(ports, op)
    return op


def unsuspend(ports: AppServerPorts, number: str) -> Operation:
    op = lifecycle.unsuspend_server(ports.lifecycle, server_by_number(ports, number).uuid)
    settle(ports, op)
    return op


def reinstall(ports: AppServerPorts, number: str) -> Operation:
    server = server_by_number(ports, number)
    return lifecycle.reinstall_server(ports.lifecycle, _admin_tenant(server), server.uuid)


def delete(ports: AppServerPorts, number: str, *, force: bool = False) -> Operation:
    """DELETE (and .../force): the delete workflow; ``force`` skips a node that does not answer.
    The external id is released at once, so the billing system may reuse it; the integer id
    stays while the record does (a retried delete of the same id still finds it)."""
    server = server_by_number(ports, number)
    op = lifecycle.delete_server(ports.lifecycle, _admin_tenant(server), server.uuid, force=force)
    ref = ports.ids.number("server", server.uuid, server.tenant_id)
    if ref.external_id is not None:
        ref = ports.ids.set_external(ref, None)
    settle(ports, op)
    try:
        ports.create.servers.get(server.uuid)
    except NotFoundError:
        ports.ids.forget(ref)  # deleted in time: its identifier goes too (the number is never reused)
    return op
