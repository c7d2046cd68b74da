"""A tenant world whose servers live on a real Wings simulator, for the control and files routes.

The simulator boots against the FakePanel of tests/contract/wings (which serves the servers'
Wings configuration); the panel under test (the real app on moto) holds a node record whose
address and token are the simulator's, a blueprint, and server records with the same uuids.
Every power, console and file call therefore crosses real HTTP to the simulator.

* tenant ``tn_a``: ``usr_alice`` (owner), ``usr_vic`` (viewer), ``usr_olga`` (operator);
* tenant ``tn_b``: ``usr_bob`` (owner), with a server of its own;
* ``usr_root``: platform admin, also an owner of ``tn_a``.
"""

from __future__ import annotations

import contextlib
import json
import uuid as uuid_mod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamba import bootstrap
from mamba.auth.tokens import issue_access
from tests.contract.wings.harness import Node as SimNode
from tests.contract.wings.harness import free_port, running_node

T0 = "2026-11-25T10:00:00Z"
TENANT_A, TENANT_B = "tn_a", "tn_b"
NODE_ID, DEAD_NODE_ID = "node_sim", "node_dead"
BLUEPRINT_ID = "bp_game"
# The simulator's egg denies secret.key itself; the panel's blueprint adds patterns Wings does not
# know, so a 403 for them proves the panel refused before asking the node.
# "config/license.key" names a path under a folder, for the parent-folder checks.
DENYLIST = ("secret.key", "*.lock", "/protected/", "config/license.key")


@dataclass
class ServerWorld:
    client: Any
    sim: SimNode
    tokens: dict[str, str]
    servers: dict[str, str] = field(default_factory=dict)  # label → uuid

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", "Content-Type": "application/json"}

    def path(self, label: str, tail: str, tenant: str = TENANT_A) -> str:
        return f"/v1/tenants/{tenant}/servers/{self.servers[label]}{tail}"

    def get(self, who: str, label: str, tail: str, tenant: str = TENANT_A) -> Any:
        return self.client.http.get(self.path(label, tail, tenant), headers=self.headers(who))

    def post(self, who: str, label: str, tail: str, body: dict[str, Any], tenant: str = TENANT_A) -> Any:
        return self.client.http.post(self.path(label, tail, tenant), headers=self.headers(who), body=json.dumps(body))


def _user(user_id: str, *, is_admin: bool = False) -> None:
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.domain.accounts import User

    DynamoUserRepository().add(
        User(id=user_id, email=f"{user_id}@example.org", created_at=T0, is_admin=is_admin, email_verified=True)
    )


def _bind(tenant_id: str, user_id: str, role: str) -> None:
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import MembershipItem

    MembershipItem(
        *keys.membership(tenant_id, user_id),
        kind="membership",
        gsi1pk=keys.memberships_of_user(user_id),
        gsi1sk=keys.user_membership_sort(tenant_id),
        tenant_id=tenant_id,
        user_id=user_id,
        role=role,
        created_at=T0,
    ).save()


def add_server(server_uuid: str, tenant_id: str, *, status: str = "offline", node_id: str = NODE_ID) -> None:
    from mamba.domain.servers import Limits, Server

    bootstrap.server_repository().add(
        Server(
            uuid=server_uuid,
            name=f"game {server_uuid[:8]}",
            tenant_id=tenant_id,
            node_id=node_id,
            blueprint_id=BLUEPRINT_ID,
            allocation=("127.0.0.1", 27015),
            docker_image="ghcr.io/pterodactyl/yolks:python_3.12",
            startup="{{PYTHON_BIN}} -u game.py",
            limits=Limits(memory_mb=256, disk_mb=1024, cpu_percent=100),
            status=status,
            created_at=T0,
            updated_at=T0,
        )
    )


def build(client: Any, sim: SimNode) -> ServerWorld:
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.blueprints import Blueprint
    from mamba.domain.nodes import Node
    from mamba.domain.tenancy import Membership, Tenant

    bootstrap.dynamo_tables()
    for user_id in ("usr_alice", "usr_vic", "usr_olga", "usr_bob"):
        _user(user_id)
    _user("usr_root", is_admin=True)
    tenants = DynamoTenantRepository()
    for tenant_id, owner in ((TENANT_A, "usr_alice"), (TENANT_B, "usr_bob")):
        tenants.add_with_owner(
            Tenant(id=tenant_id, name=tenant_id, created_at=T0),
            Membership(tenant_id=tenant_id, user_id=owner, role="owner", created_at=T0),
        )
    _bind(TENANT_A, "usr_vic", "viewer")
    _bind(TENANT_A, "usr_olga", "operator")
    _bind(TENANT_A, "usr_root", "owner")

    port = int(sim.url.rsplit(":", 1)[1])
    nodes = bootstrap.node_repository()
    for node_id, node_port, token_id in ((NODE_ID, port, sim.token_id), (DEAD_NODE_ID, free_port(), "D" * 16)):
        nodes.add(
            Node(
                id=node_id,
                uuid=str(uuid_mod.uuid4()),
                name=node_id,
                fqdn="127.0.0.1",
                token_id=token_id,
                created_at=T0,
                updated_at=T0,
                scheme="http",
                daemon_port=node_port,
                upload_limit_mb=1,
            ),
            sim.token,
        )
    bootstrap.blueprint_repository().add(
        Blueprint(
            id=BLUEPRINT_ID,
            name="Test game",
            startup="{{PYTHON_BIN}} -u game.py",
            docker_images={"Python": "ghcr.io/pterodactyl/yolks:python_3.12"},
            file_denylist=DENYLIST,
            created_at=T0,
            updated_at=T0,
        )
    )
    secret = bootstrap.settings().jwt_secret
    world = ServerWorld(
        client=client,
        sim=sim,
        tokens={name: issue_access(f"usr_{name}", secret) for name in ("alice", "vic", "olga", "bob", "root")},
    )
    for label in ("game", "files"):
        world.servers[label] = sim.create_installed()
        add_server(world.servers[label], TENANT_A)
    world.servers["theirs"] = sim.create_installed()
    add_server(world.servers["theirs"], TENANT_B)
    world.servers["suspended"] = str(uuid_mod.uuid4())
    add_server(world.servers["suspended"], TENANT_A, status="suspended")
    world.servers["provisioning"] = str(uuid_mod.uuid4())
    add_server(world.servers["provisioning"], TENANT_A, status="provisioning")
    world.servers["unreachable"] = str(uuid_mod.uuid4())
    add_server(world.servers["unreachable"], TENANT_A, node_id=DEAD_NODE_ID)
    return world


@contextlib.contextmanager
def server_world(base: Path) -> Iterator[ServerWorld]:
    from tests.support import app_on_moto

    with running_node(base) as sim, app_on_moto() as client:
        yield build(client, sim)
