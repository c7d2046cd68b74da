"""server_control / server_files use cases with in-memory ports and a recording Wings agent:
who is told on a console revocation, and what never reaches the node."""

from __future__ import annotations

import pytest

from mamba.auth.context import TenantContext
from mamba.domain.blueprints import Blueprint
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.nodes import Node
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.domain.servers import Server
from mamba.domain.tenancy import Access
from mamba.domain.tenancy import Membership as Member
from mamba.services import server_control as control
from mamba.services import server_files as files
from tests.fakes import (
    FakeBlueprintRepository,
    FakeNodeAgent,
    FakeNodeRepository,
    FakeServerRepository,
    FakeTenancyRepository,
    server_entity,
)

T0 = "2026-11-25T10:00:00Z"
S1, S2, S3 = (
    "11111111-1111-4111-8111-111111111111",
    "22222222-2222-4222-8222-222222222222",
    "33333333-3333-4333-8333-333333333333",
)


def server(uuid: str, node_id: str = "n1", status: str = "offline", tenant_id: str = "tn_a") -> Server:
    return server_entity(uuid, node_id, status, tenant_id=tenant_id, created_at=T0)


class World:
    """The tenant's servers on fake nodes (n1, n2, n3), each node's daemon a FakeNodeAgent
    that knows the servers placed on it; ``down`` nodes do not answer."""

    def __init__(self, servers: dict[str, Server], down: set[str] | None = None, denylist: tuple[str, ...] = ()):
        self.servers = FakeServerRepository()
        self.nodes = FakeNodeRepository()
        self.agents: dict[str, FakeNodeAgent] = {}
        for node_id in ("n1", "n2", "n3"):
            self.nodes.add(
                Node(
                    id=node_id,
                    uuid="u",
                    name=node_id,
                    fqdn="n.example",
                    token_id=node_id.ljust(16, "t"),
                    created_at=T0,
                    updated_at=T0,
                ),
                "k" * 64,
            )
            self.agents[node_id] = FakeNodeAgent(node_id=node_id, down=node_id in (down or set()))
        for uuid, placed in servers.items():
            self.servers.add(placed)
            self.agents[placed.node_id].servers[uuid] = {
                "state": "offline",
                "suspended": False,
                "files": {},
                "logs": [],
            }
        self.blueprints = FakeBlueprintRepository(
            Blueprint(name="b", startup="run", docker_images={"d": "img"}, file_denylist=denylist, id="bp")
        )

    @property
    def calls(self) -> list[tuple[str, str, str]]:
        """(node, method, server uuid) of every request a node answered, node by node."""
        return [
            (node_id, method, uuid) for node_id, agent in sorted(self.agents.items()) for method, uuid in agent.calls
        ]

    def ports(self) -> control.Ports:
        return control.Ports(
            servers=self.servers,
            nodes=self.nodes,
            agent_for=lambda node: self.agents[node.id],
            blueprints=self.blueprints,
            issuer="https://panel.example",
        )


def members_of(tenant_id: str, *bindings: tuple[str, str], page_cap: int = 2) -> FakeTenancyRepository:
    """A tenant's members as (user, role), listed ``page_cap`` per page (so every page is read)."""
    repo = FakeTenancyRepository(page_cap=page_cap)
    for user_id, role in bindings:
        repo.members[(tenant_id, user_id)] = Member(tenant_id, user_id, role, T0)
    return repo


TENANT = TenantContext(tenant_id="tn_a", role="owner", permissions=BUILTIN_ROLES["owner"])
CONSOLE = Access(permissions=frozenset({"servers.console"}))
NO_CONSOLE = Access(permissions=frozenset({"servers.read"}))


def denied(world: World) -> list[tuple[str, str]]:
    return [(node_id, uuid) for node_id, agent in sorted(world.agents.items()) for uuid in agent.denied_jtis]


def jtis(world: World) -> list[list[str]]:
    return [jti for _, agent in sorted(world.agents.items()) for jti in agent.denied_jtis.values()]


def test_losing_the_console_denies_the_jti_on_every_server_of_the_tenant():
    world = World({S1: server(S1, "n1"), S2: server(S2, "n2"), S3: server(S3, "n1", tenant_id="tn_b")})

    told = control.revoke_console(world.ports(), "tn_a", "usr_olga", CONSOLE, NO_CONSOLE)

    assert told == 2
    assert sorted(denied(world)) == [("n1", S1), ("n2", S2)]
    assert jtis(world) == [[control.wings_jwt.jti_for("usr_olga", s)] for s in (S1, S2)]


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
    members = members_of("tn_a", ("u1", "rl_x"), ("u2", "viewer"), ("u3", "rl_x"))

    told = control.revoke_console_for_role(world.ports(), members, "tn_a", "rl_x", frozenset({"servers.read"}))

    assert told == 2
    assert jtis(world) == [[control.wings_jwt.jti_for("u1", S1), control.wings_jwt.jti_for("u3", S1)]]
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
        assert [name for _, name, _ in world.calls if name != "list_directory"] == ["write_file"]


def test_a_deleted_blueprint_leaves_the_denylist_to_the_node():
    world = World({S1: server(S1)}, denylist=("*.jar",))
    world.blueprints.delete("bp")

    files.write_file(world.ports(), TENANT, S1, "/x.jar", "x")

    assert [name for _, name, _ in world.calls] == ["write_file"]


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
    found = [
        (node_id, user, servers) for node_id, a in sorted(world.agents.items()) for user, servers in a.deauthorized
    ]
    return found


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
    members = members_of("tn_a", ("u1", "viewer"), ("u2", "owner"), page_cap=1)

    done = control.deny_tenant_consoles(world.ports(), members, "tn_a")

    assert done == {"servers": 2, "failed": 1}
    jti = control.wings_jwt.jti_for
    told = world.agents["n2"].denied_jtis
    assert sorted((uuid, tuple(sorted(found))) for uuid, found in told.items()) == sorted(
        (s, tuple(sorted((jti("u1", s), jti("u2", s))))) for s in (S2, S3)
    )
