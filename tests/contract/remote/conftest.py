"""A world for the panel's remote API: two nodes, a blueprint, a tenant with members, servers.

Module-scoped (one moto world, many read calls); tests that change a server use their own
server uuid so they do not disturb the others.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mamba.domain.blueprints import Blueprint, ConfigFile, Replacement
from mamba.domain.nodes import Node, new_token, new_token_id
from mamba.domain.servers import OFFLINE, SUSPENDED, Limits, Server
from tests.support import app_on_moto

NOW = "2026-11-25T12:00:00Z"
PASSWORD = "correct horse battery staple 42"


@dataclass
class NodeCreds:
    node: Node
    token: str

    @property
    def header(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.node.token_id}.{self.token}",
            "Accept": "application/vnd.pterodactyl.v1+json",
            "Content-Type": "application/json",
            "User-Agent": f"Pterodactyl Wings/v1.11.11 (id:{self.node.token_id})",
        }


@dataclass
class World:
    http: Any
    a: NodeCreds
    b: NodeCreds
    blueprint: Blueprint
    servers_a: list[Server] = field(default_factory=list)
    server_b: Server | None = None
    suspended: Server | None = None
    users: dict[str, str] = field(default_factory=dict)  # name → user id
    emails: dict[str, str] = field(default_factory=dict)  # name → email


def new_server_uuid() -> str:
    return str(uuid.uuid4())


def make_server(
    node: Node, blueprint: Blueprint, tenant_id: str, *, status: str = OFFLINE, port: int = 25565
) -> Server:
    return Server(
        uuid=new_server_uuid(),
        name=f"srv-{port}",
        tenant_id=tenant_id,
        node_id=node.id,
        blueprint_id=blueprint.id,
        allocation=("0.0.0.0", port),
        additional_allocations=(("0.0.0.0", port + 1),),
        docker_image="ghcr.io/pterodactyl/yolks:python_3.12",
        startup="python3 game.py --port {{SERVER_PORT}}",
        environment={"MOTD": "hello", "MAX_PLAYERS": 20, "PVP": True},
        limits=Limits(memory_mb=512, disk_mb=1024, cpu_percent=100, threads="0-1"),
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )


def _node(name: str) -> tuple[Node, str]:
    node_id = f"nd_{uuid.uuid4().hex[:10]}"
    node = Node(
        id=node_id,
        uuid=str(uuid.uuid4()),
        name=name,
        fqdn=f"{name}.example.org",
        token_id=new_token_id(),
        created_at=NOW,
        updated_at=NOW,
        location="fra",
    )
    return node, new_token()


def add_membership(
    tenant_id: str, user_id: str, role: str, permissions: list[str] | None, server_id: str | None
) -> None:
    """A membership item written directly (no invitation flow)."""
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import MembershipItem

    pk, sk = keys.membership(tenant_id, user_id)
    MembershipItem(
        pk,
        sk,
        kind="membership",
        tenant_id=tenant_id,
        user_id=user_id,
        role=role,
        created_at=NOW,
        permissions=permissions,
        server_id=server_id,
        gsi1pk=keys.memberships_of_user(user_id),
        gsi1sk=keys.user_membership_sort(tenant_id),
    ).save()


def build_world(http: Any) -> World:
    from mamba import bootstrap
    from mamba.domain.accounts import User
    from mamba.domain.tenancy import Membership, Tenant

    nodes = bootstrap.node_repository()
    node_a, token_a = _node("alpha")
    node_b, token_b = _node("bravo")
    nodes.add(node_a, token_a)
    nodes.add(node_b, token_b)

    blueprint = Blueprint(
        name="Line game",
        startup="python3 game.py",
        docker_images={"Python 3.12": "ghcr.io/pterodactyl/yolks:python_3.12"},
        id=f"bp_{uuid.uuid4().hex[:10]}",
        stop_type="command",
        stop_value="^C",
        startup_done=("Server ready",),
        config_files=(
            ConfigFile(
                file="server.properties",
                parser="properties",
                replace=(
                    Replacement("server-port", "{{server.build.default.port}}"),
                    Replacement("motd", "{{server.build.env.MOTD}} on {{server.build.default.ip}}"),
                    Replacement("enable-query", "true", if_value="false"),
                ),
            ),
        ),
        install_script="#!/bin/bash\r\ncd /mnt/server\r\necho installed > installed.txt\r\n",
        file_denylist=("*.secret",),
        created_at=NOW,
        updated_at=NOW,
    )
    bootstrap.blueprint_repository().add(blueprint)

    hasher = bootstrap.password_hasher()  # the cost Settings state (cheap in tests)
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.adapters.dynamo.users import DynamoUserRepository

    users = DynamoUserRepository()
    world = World(http=http, a=NodeCreds(node_a, token_a), b=NodeCreds(node_b, token_b), blueprint=blueprint)
    for name in ("owner", "viewer", "writer", "nothing", "scoped", "admin", "outsider"):
        user_id = f"usr_{name}_{uuid.uuid4().hex[:6]}"
        email = f"{name}.{uuid.uuid4().hex[:4]}@example.org"
        users.add(
            User(
                id=user_id,
                email=email,
                created_at=NOW,
                password_hash=hasher.hash(PASSWORD),
                is_admin=name == "admin",
                email_verified=True,
            )
        )
        world.users[name], world.emails[name] = user_id, email
    tenant_id = f"tn_{uuid.uuid4().hex[:8]}"
    DynamoTenantRepository().add_with_owner(
        Tenant(id=tenant_id, name="Contract", created_at=NOW),
        Membership(tenant_id=tenant_id, user_id=world.users["owner"], role="owner", created_at=NOW),
    )

    servers = bootstrap.server_repository()
    world.servers_a = [make_server(node_a, blueprint, tenant_id, port=25565 + 10 * i) for i in range(3)]
    world.suspended = make_server(node_a, blueprint, tenant_id, status=SUSPENDED, port=25600)
    world.server_b = make_server(node_b, blueprint, tenant_id, port=25700)
    for server in [*world.servers_a, world.suspended, world.server_b]:
        servers.add(server)

    add_membership(tenant_id, world.users["viewer"], "viewer", None, None)
    add_membership(tenant_id, world.users["writer"], "custom", ["files.read", "files.write"], None)
    add_membership(tenant_id, world.users["nothing"], "custom", ["servers.read"], None)
    add_membership(tenant_id, world.users["scoped"], "custom", ["files.read", "files.write"], world.servers_a[1].uuid)
    world.tenant_id = tenant_id  # type: ignore[attr-defined]
    return world


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with app_on_moto() as client:
        yield build_world(client.http)
