"""server_control / server_files use cases with in-memory ports and a recording Wings agent:
who is told on a console revocation, and what never reaches the node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from mamba.auth.context import TenantContext
from mamba.domain.blueprints import Blueprint
from mamba.domain.errors import ConflictError, NotFoundError, WingsUnavailableError
from mamba.domain.nodes import Node
from mamba.domain.pages import Page
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.domain.servers import Server
from mamba.domain.tenancy import Access
from mamba.services import server_control as control
from mamba.services import server_files as files
from tests.fakes import server_entity

T0 = "2026-11-25T10:00:00Z"
S1, S2, S3 = (
    "11111111-1111-4111-8111-111111111111",
    "22222222-2222-4222-8222-222222222222",
    "33333333-3333-4333-8333-333333333333",
)


def server(uuid: str, node_id: str = "n1", status: str = "offline", tenant_id: str = "tn_a") -> Server:
    return server_entity(uuid, node_id, status, tenant_id=tenant_id, created_at=T0)


@dataclass
class Agent:
    node_id: str
    calls: list[tuple[Any, ...]]
    down: bool = False

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise WingsUnavailableError("The node could not be reached.", {"node_id": self.node_id})
            self.calls.append((self.node_id, name, args, kwargs))
            return [] if name == "list_directory" else None

        return call


@dataclass
class World:
    servers: dict[str, Server]
    down: set[str] = field(default_factory=set)
    denylist: tuple[str, ...] = ()
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def get(self, uuid: str) -> Server:
        if uuid not in self.servers:
            raise NotFoundError("Server not found.")
        return self.servers[uuid]

    def of_tenant(self, tenant_id: str) -> list[Server]:
        return [s for s in self.servers.values() if s.tenant_id == tenant_id]

    def ports(self) -> control.Ports:
        world = self

        class Nodes:
            def get(self, node_id: str) -> Node:
                return Node(
                    id=node_id,
                    uuid="u",
                    name=node_id,
                    fqdn="n.example",
                    token_id="t" * 16,
                    created_at=T0,
                    updated_at=T0,
                )

            def token(self, node: Node) -> str:
                return "k" * 64

        class Blueprints:
            def get(self, blueprint_id: str) -> Blueprint:
                return Blueprint(name="b", startup="run", docker_images={"d": "img"}, file_denylist=world.denylist)

        return control.Ports(
            servers=self,
            nodes=Nodes(),
            agent_for=lambda node: Agent(node.id, world.calls, down=node.id in world.down),
            blueprints=Blueprints(),
            issuer="https://panel.example",
        )


TENANT = TenantContext(tenant_id="tn_a", role="owner", permissions=BUILTIN_ROLES["owner"])
CONSOLE = Access(permissions=frozenset({"servers.console"}))
NO_CONSOLE = Access(permissions=frozenset({"servers.read"}))


def denied(world: World) -> list[tuple[str, str]]:
    return [(node, args[0]) for node, name, args, _ in world.calls if name == "deny_websocket_tokens"]


def test_losing_the_console_denies_the_jti_on_every_server_of_the_tenant():
    world = World({S1: server(S1, "n1"), S2: server(S2, "n2"), S3: server(S3, "n1", tenant_id="tn_b")})

    told = control.revoke_console(world.ports(), "tn_a", "usr_olga", CONSOLE, NO_CONSOLE)

    assert told == 2
    assert sorted(denied(world)) == [("n1", S1), ("n2", S2)]
    jtis = [args[1] for _, name, args, _ in world.calls]
    assert jtis == [[control.wings_jwt.jti_for("usr_olga", s)] for s in (S1, S2)]


def test_keeping_the_console_or_never_having_it_tells_no_node():
    world = World({S1: server(S1)})

    assert control.revoke_console(world.ports(), "tn_a", "u", CONSOLE, CONSOLE) == 0
    assert control.revoke_console(world.ports(), "tn_a", "u", NO_CONSOLE, None) == 0
    assert control.revoke_console(world.ports(), "tn_a", "u", None, None) == 0
    assert world.calls == []


def test_a_scope_change_revokes_only_the_server_left_behind():
    world = World({S1: server(S1), S2: server(S2)})
    before = Access(permissions=frozenset({"servers.console"}), server_scope=S1)
    after = Access(permissions=frozenset({"servers.console"}), server_scope=S2)

    assert control.revoke_console(world.ports(), "tn_a", "u", before, after) == 1
    assert denied(world) == [("n1", S1)]


def test_servers_not_on_a_node_are_skipped_and_a_node_down_does_not_stop_the_others():
    world = World(
        {S1: server(S1, "n1"), S2: server(S2, "n2"), S3: server(S3, "n3", status="provisioning")}, down={"n1"}
    )

    told = control.revoke_console(world.ports(), "tn_a", "u", CONSOLE, None)

    assert told == 1
    assert denied(world) == [("n2", S2)]


def test_role_revocation_walks_every_page_of_members_bound_to_the_role():
    world = World({S1: server(S1)})

    @dataclass
    class Member:
        user_id: str
        role: str
        server_id: str | None = None

    pages = {
        None: Page(items=[Member("u1", "rl_x"), Member("u2", "viewer")], next_cursor="c2"),
        "c2": Page(items=[Member("u3", "rl_x")], next_cursor=None),
    }

    class Members:
        def list_members(self, tenant_id, page):
            return pages[page.cursor]

    told = control.revoke_console_for_role(world.ports(), Members(), "tn_a", "rl_x", frozenset({"servers.read"}))

    assert told == 2
    assert [args[1] for _, name, args, _ in world.calls if name == "deny_websocket_tokens"] == [
        [control.wings_jwt.jti_for("u1", S1)],
        [control.wings_jwt.jti_for("u3", S1)],
    ]
    # and their open sockets and SFTP sessions are closed on the node
    assert deauthorized(world) == [("n1", "u1", [S1]), ("n1", "u3", [S1])]


@pytest.mark.parametrize("status", ["provisioning", "deleting", "failed"])
def test_nothing_reaches_the_node_when_the_server_is_not_on_it(status):
    world = World({S1: server(S1, status=status)})

    with pytest.raises(ConflictError):
        files.list_directory(world.ports(), TENANT, S1, "/")
    with pytest.raises(ConflictError):
        control.websocket(world.ports(), TENANT, "u", S1)
    assert world.calls == []


def test_another_tenants_server_is_not_found_before_any_node_call():
    world = World({S1: server(S1, tenant_id="tn_b")})

    with pytest.raises(NotFoundError):
        control.power(world.ports(), TENANT, S1, "start")
    assert world.calls == []


@pytest.mark.parametrize(
    ("patterns", "path", "refused"),
    [
        (("config.yml",), "/config.yml", True),
        (("config.yml",), "/plugins/config.yml", True),
        (("/config.yml",), "/plugins/config.yml", False),
        (("*.jar", "!allowed.jar"), "/allowed.jar", False),
        (("*.jar", "!allowed.jar"), "/mods/other.jar", True),
        (("/secret/",), "/secret", True),
        (("/secret/",), "/secret/deep/x.txt", True),
        (("logs/**/*.log",), "/logs/a/b/c.log", True),
        (("logs/**/*.log",), "/world/a.log", False),
        ((), "/anything", False),
    ],
)
def test_denylist_follows_gitignore_semantics_and_refuses_before_the_node(patterns, path, refused):
    world = World({S1: server(S1)}, denylist=patterns)

    if refused:
        with pytest.raises(files.FileDeniedError):
            files.write_file(world.ports(), TENANT, S1, path, "x")
        assert world.calls == []
    else:
        files.write_file(world.ports(), TENANT, S1, path, "x")
        # (the node is listed first: a write through a link is refused, see test_services_server_files_denylist)
        assert [name for _, name, _, _ in world.calls if name != "list_directory"] == ["write_file"]


def test_a_deleted_blueprint_leaves_the_denylist_to_the_node():
    world = World({S1: server(S1)}, denylist=("*.jar",))
    ports = world.ports()

    class Gone:
        def get(self, blueprint_id):
            raise NotFoundError("Blueprint not found.")

    from dataclasses import replace

    files.write_file(replace(ports, blueprints=Gone()), TENANT, S1, "/x.jar", "x")

    assert [name for _, name, _, _ in world.calls] == ["write_file"]


def test_websocket_permissions_are_narrowed_to_what_the_door_passes():
    world = World({S1: server(S1)})

    narrowed = control.websocket(world.ports(), TENANT, "u", S1, permissions=frozenset({"servers.console"}))
    full = control.websocket(world.ports(), TENANT, "u", S1)

    assert narrowed["permissions"] == ["websocket.connect", "control.console"]
    assert "control.start" in full["permissions"]
    assert narrowed["socket"] == f"wss://n.example:8080/api/servers/{S1}/ws"


def test_a_suspended_server_is_neither_started_nor_written():
    world = World({S1: server(S1, status="suspended")})

    with pytest.raises(ConflictError):
        files.write_file(world.ports(), TENANT, S1, "/a.txt", "x")
    assert world.calls == []
    with pytest.raises(ConflictError):
        control.power(world.ports(), TENANT, S1, "start")


def deauthorized(world: World) -> list[tuple[str, str, list[str]]]:
    return [(node, args[0], args[1]) for node, name, args, _ in world.calls if name == "deauthorize_user"]


def test_a_removed_member_is_deauthorized_once_per_node_on_every_server_they_reached():
    world = World({S1: server(S1, "n1"), S2: server(S2, "n1"), S3: server(S3, "n2")})

    done = control.deauthorize_member(world.ports(), "tn_a", "usr_olga", NO_CONSOLE, None)

    assert done == 2
    assert sorted(deauthorized(world)) == [("n1", "usr_olga", [S1, S2]), ("n2", "usr_olga", [S3])]


def test_a_change_that_keeps_access_deauthorizes_nobody_and_a_lost_scope_only_its_server():
    world = World({S1: server(S1), S2: server(S2)})

    assert control.deauthorize_member(world.ports(), "tn_a", "u", CONSOLE, CONSOLE) == 0
    assert world.calls == []
    before = Access(permissions=frozenset({"servers.console"}), server_scope=S1)
    after = Access(permissions=frozenset({"servers.console"}), server_scope=S2)
    assert control.deauthorize_member(world.ports(), "tn_a", "u", before, after) == 1
    assert deauthorized(world) == [("n1", "u", [S1])]


def test_suspension_denies_every_members_console_on_every_server_and_skips_a_node_that_is_down():
    world = World({S1: server(S1, "n1"), S2: server(S2, "n2"), S3: server(S3, "n2")}, down={"n1"})

    @dataclass
    class Member:
        user_id: str

    class Members:
        def list_members(self, tenant_id, page):
            if page.cursor is None:
                return Page(items=[Member("u1")], next_cursor="c2")
            return Page(items=[Member("u2")], next_cursor=None)

    done = control.deny_tenant_consoles(world.ports(), Members(), "tn_a")

    assert done == {"servers": 2, "failed": 1}
    jti = control.wings_jwt.jti_for
    assert sorted((args[0], tuple(args[1])) for _, name, args, _ in world.calls) == sorted(
        (s, (jti("u1", s), jti("u2", s))) for s in (S2, S3)
    )
