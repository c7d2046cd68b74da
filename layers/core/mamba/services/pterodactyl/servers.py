"""Pterodactyl's application API servers onto the same services /v1 uses (docs/pterodactyl-api.md,
"Servers"): a create is ``mamba.services.servers.create_server`` (quotas, placement, the
``provision_server`` workflow); build and startup changes, suspension, reinstall and deletes are
``mamba.services.server_lifecycle``'s workflows. Integer ids come from ``PteroIds`` (one read
each); a server for ``user: N`` lives in that user's personal tenant.

Errors: NotFoundError (an unknown id: Pterodactyl's 404), ValidationError (422 naming the
field), and whatever the services raise (QuotaExceededError, NoCapacityError, ConflictError ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from mamba.auth.context import TenantContext
from mamba.domain import pterodactyl as ptero
from mamba.domain import pterodactyl_servers as view_rules
from mamba.domain import servers as srv
from mamba.domain.errors import AllocationTakenError, ConflictError, NoCapacityError, NotFoundError
from mamba.domain.pages import PageRequest
from mamba.domain.pterodactyl_servers import ServerView, VariableView, field_error
from mamba.domain.tenancy import OWNER
from mamba.services import accounts
from mamba.services import server_lifecycle as lifecycle
from mamba.services import servers as servers_service

if TYPE_CHECKING:
    from mamba.domain.accounts import User
    from mamba.domain.billing import BillingState, Plan
    from mamba.domain.blueprints import Blueprint
    from mamba.domain.fleet import FleetServer, ServerFilter
    from mamba.domain.nodes import Allocation, Node
    from mamba.domain.operations import Operation
    from mamba.domain.pages import Page
    from mamba.domain.tenancy import Membership
    from mamba.ports import PteroIds

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
    # The relationships of ``?include=`` other areas shape (user, node, location, nest, egg,
    # subusers): name → (ports, view) → the relationship. Missing: a null_resource.
    includers: Mapping[str, Callable[[AppServerPorts, ServerView], Any]] | None = None


# --- personal tenants -----------------------------------------------------------------------


def ensure_personal_tenant(ports: AppServerPorts, user: User) -> str:
    """The user's personal tenant, created on first use with the user as owner and the plan
    the host set for API-created tenants (PTERODACTYL_TENANT_PLAN). Its id is derived from the
    user, so finding it again is one read; a concurrent first use loses the conditional create
    and reads the winner's."""
    tenant_id = view_rules.personal_tenant_id(user.id)
    name = PERSONAL_TENANT_NAME.format(name=(user.name or user.email.split("@")[0])[:60])
    _tenant, created = accounts.ensure_tenant(ports.tenants, tenant_id, name, user.id)
    if created and ports.tenant_plan != "free":
        plan = ports.plans.get_plan(ports.tenant_plan)
        state = ports.plans.get_state(tenant_id)
        ports.plans.save_state(replace(state, plan_id=plan.id, quotas=plan.quotas), dunning_due_at=None)
    return tenant_id


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
    """The ``PteroIds`` ref of a blueprint's nest (its category)."""
    # TODO(ptapp): the nests area's ``nest_of`` once it is on main.
    return "General"


def variable_ref(blueprint_id: str, env_variable: str) -> str:
    """A variable's ``PteroIds`` ref (kind ``variable``), the same as the egg's variables use."""
    return f"{blueprint_id}|{env_variable}"


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


def _relationships(ports: AppServerPorts, view: ServerView, wanted: Iterable[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in wanted:
        if name == "variables":
            found[name] = ptero.plain_list(
                [ptero.item("server_variable", view_rules.variable_attributes(v, view.server)) for v in view.variables]
            )
        elif name == "allocations":
            found[name] = ptero.plain_list(_allocations(ports, view))
        elif name == "subusers":
            found[name] = ptero.plain_list(_subusers(ports, view))
        elif ports.includers and name in ports.includers:
            found[name] = ports.includers[name](ports, view)
        else:
            found[name] = {"object": "null_resource", "attributes": None}
    return found


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


def render(ports: AppServerPorts, view: ServerView, wanted: Iterable[str] = ()) -> dict[str, Any]:
    wanted = list(wanted)
    return ptero.item(
        "server", view_rules.server_attributes(view), _relationships(ports, view, wanted) if wanted else None
    )


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


def get_server(ports: AppServerPorts, number: str, query: Mapping[str, str]) -> dict[str, Any]:
    wanted = ptero.includes(query, view_rules.SERVER_INCLUDES)
    return render(ports, _view(ports, server_by_number(ports, number)), sorted(wanted))


def get_server_by_external(ports: AppServerPorts, external_id: str, query: Mapping[str, str]) -> dict[str, Any]:
    wanted = ptero.includes(query, view_rules.SERVER_INCLUDES)
    ref = ports.ids.by_external("server", external_id)
    server = _server_of(ports, ref.ref if ref is not None else None, external_id)
    return render(ports, _view(ports, server), sorted(wanted))


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


def list_servers(ports: AppServerPorts, query: Mapping[str, str], base_url: str) -> dict[str, Any]:
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
    return ptero.paged([render(ports, v, wanted) for v in views], page, total, base_url)


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
        environment={k: v for k, v in body.environment.items() if v is not None},
        docker_image=body.docker_image,
        start_on_completion=body.start_on_completion,
        startup=body.startup,
        skip_install_script=body.skip_scripts,
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
            for allocation in ports.free.free_allocations(node.id, 100):
                if view_rules.port_in_ranges(allocation.port, body.deploy_port_range):
                    spots.append((node.id, allocation.ip, allocation.port))
        if not cursor:
            return spots


def create_server(
    ports: AppServerPorts, body: NewServer, *, correlation_id: str | None = None
) -> tuple[dict[str, Any], Operation]:
    """Reserve the server in its user's personal tenant and start ``provision_server``, exactly
    as /v1's create (quotas of the tenant's plan, the allocation's node must have room)."""
    if body.additional_allocations:
        raise field_error(
            "allocation.additional", "is not supported: a server starts with one port; add more later", "prohibited"
        )
    user = _user(ports, body.user)
    blueprint = _blueprint(ports, body.egg)
    command = _command(body, blueprint)
    if body.external_id is not None and ports.ids.by_external("server", body.external_id) is not None:
        raise field_error("external_id", "has already been taken", "unique")
    if body.deploy_locations is None:
        if body.allocation is None:
            raise field_error("allocation.default", "is required when deploy is not given", "required")
        spots = [_free_allocation(ports, body.allocation, "allocation.default")]
    else:
        spots = _deploy_spots(ports, body)
    tenant_id = ensure_personal_tenant(ports, user)
    tenant = TenantContext(tenant_id=tenant_id, role=OWNER, permissions=frozenset())
    server, op = _create_on_first_spot(ports, tenant, command, spots, correlation_id)
    number = ports.ids.number("server", server.uuid, tenant_id)
    if body.external_id is not None:
        try:
            ports.ids.set_external(number, body.external_id)
        except ConflictError as exc:
            raise field_error("external_id", "has already been taken", "unique") from exc
    return render(ports, _view(ports, ports.create.servers.get(server.uuid))), op


def _create_on_first_spot(
    ports: AppServerPorts,
    tenant: TenantContext,
    command: srv.CreateServer,
    spots: list[tuple[str, str, int]],
    correlation_id: str | None,
) -> tuple[srv.Server, Operation]:
    last: Exception | None = None
    for node_id, ip, port in spots:
        pinned = replace(command, node_id=node_id, allocation=(ip, port))
        try:
            return servers_service.create_server(ports.create, tenant, pinned, correlation_id=correlation_id)
        except (AllocationTakenError, NoCapacityError) as exc:
            last = exc
    if isinstance(last, AllocationTakenError) and len(spots) == 1:
        raise field_error("allocation.default", "must be an existing, unassigned allocation", "exists") from last
    if last is not None and len(spots) == 1:
        raise last  # the one named port: placement's own reason (room, maintenance, reachability)
    raise NoCapacityError(
        "No node in the requested locations has a free port and room for this server.",
        {"candidates": len(spots)},
    ) from last


# --- changes --------------------------------------------------------------------------------


def _admin_tenant(server: srv.Server) -> TenantContext:
    """The platform acts on the server's tenant, as /v1's admin routes do."""
    return TenantContext(tenant_id=server.tenant_id, role="platform", permissions=frozenset())


def update_details(ports: AppServerPorts, number: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """PATCH .../details: name, description, external_id. ``user`` must stay the server's user:
    a server lives in a tenant, so it cannot move to another user's (docs/pterodactyl-api.md)."""
    server = server_by_number(ports, number)
    view = _view(ports, server)
    if int(body["user"]) != view.user:
        raise field_error("user", "cannot change: a server stays in its tenant (transfer it in Mamba instead)", "same")
    ref = ports.ids.number("server", server.uuid, server.tenant_id)
    if "external_id" in body and body["external_id"] != ref.external_id:
        try:
            ports.ids.set_external(ref, body["external_id"])
        except ConflictError as exc:
            raise field_error("external_id", "has already been taken", "unique") from exc
    description = body.get("description")
    lifecycle.update_server(
        ports.lifecycle,
        _admin_tenant(server),
        server.uuid,
        {"name": body["name"], "description": description if description is not None else ""},
    )
    return render(ports, _view(ports, ports.create.servers.get(server.uuid)))


def update_build(ports: AppServerPorts, number: str, limits: Mapping[str, Any], allocations: Mapping[str, Any]) -> (
    dict[str, Any]
):  # fmt: skip
    """PATCH .../build through ``update_server_build`` (quota-checked, Wings synced, rolled back
    if the node cannot take it). The primary port and the port set cannot change here."""
    server = server_by_number(ports, number)
    view = _view(ports, server)
    if int(allocations["allocation"]) != view.allocation:
        raise field_error("allocation", "cannot change here: set the primary port from the client API", "same")
    if allocations.get("add_allocations") or allocations.get("remove_allocations"):
        raise field_error(
            "add_allocations", "is not supported: ports are added from the client API network routes", "prohibited"
        )
    names = {"memory": "memory_mb", "disk": "disk_mb", "swap": "swap_mb", "io": "io_weight", "cpu": "cpu_percent",
             "threads": "threads", "oom_disabled": "oom_disabled"}  # fmt: skip
    # A limit left out (or null) keeps its value; an empty threads string clears the cpuset.
    changes = {names[k]: v for k, v in limits.items() if k in names and (v is not None or k == "threads")}
    if "threads" in changes:
        changes["threads"] = changes["threads"] or None
    current = {name: getattr(server.limits, name) for name in changes}
    if changes != current:
        lifecycle.update_server(ports.lifecycle, _admin_tenant(server), server.uuid, {"limits": changes})
    return render(ports, _view(ports, ports.create.servers.get(server.uuid)))


def update_startup(ports: AppServerPorts, number: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """PATCH .../startup: the environment through ``update_server_build`` (each value checked by
    its variable's rules). The egg, image and startup command are the server's and cannot
    change through this door."""
    server = server_by_number(ports, number)
    view = _view(ports, server)
    if int(body["egg"]) != view.egg:
        raise field_error("egg", "cannot change: reinstall as a new server with the other egg", "same")
    if body["image"] != server.docker_image:
        raise field_error("image", "cannot change here: use the client API's settings/docker-image", "same")
    if body["startup"] != server.startup:
        raise field_error("startup", "cannot change: the startup command is the egg's", "same")
    # Pterodactyl drops keys that are no variable of the egg (clients send back the whole
    # container environment, STARTUP and P_SERVER_* included) and so does this door.
    blueprint = ports.blueprints.get(server.blueprint_id)
    known = {v.env_variable for v in blueprint.variables}
    environment = {
        k: v
        for k, v in dict(body.get("environment") or {}).items()
        if k in known and view_rules.env_text(server.environment.get(k)) != view_rules.env_text(v)
    }
    if environment:
        lifecycle.update_server(ports.lifecycle, _admin_tenant(server), server.uuid, {"environment": environment})
    return render(ports, _view(ports, ports.create.servers.get(server.uuid)))


def suspend(ports: AppServerPorts, number: str) -> Operation:
    return lifecycle.suspend_server(ports.lifecycle, server_by_number(ports, number).uuid)


def unsuspend(ports: AppServerPorts, number: str) -> Operation:
    return lifecycle.unsuspend_server(ports.lifecycle, server_by_number(ports, number).uuid)


def reinstall(ports: AppServerPorts, number: str) -> Operation:
    server = server_by_number(ports, number)
    return lifecycle.reinstall_server(ports.lifecycle, _admin_tenant(server), server.uuid)


def delete(ports: AppServerPorts, number: str, *, force: bool = False) -> Operation:
    """DELETE (and .../force): the delete workflow; ``force`` skips a node that does not answer.
    The server's integer id is kept until the workflow removed the record (a retried delete of
    the same id still finds it); its external id is released at once so it can be reused."""
    server = server_by_number(ports, number)
    op = lifecycle.delete_server(ports.lifecycle, _admin_tenant(server), server.uuid, force=force)
    ref = ports.ids.number("server", server.uuid, server.tenant_id)
    if ref.external_id is not None:
        ports.ids.set_external(ref, None)
    return op
