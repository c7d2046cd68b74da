"""A world for /api/application/servers: two nodes with locations and free ports, two
blueprints, users without tenants, a plan for API-created tenants (PTERODACTYL_TENANT_PLAN) and
two application keys (read-write and read); workflows are recorded, not run."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mamba import bootstrap
from mamba.domain.nodes import Allocation
from mamba.domain.servers import OFFLINE, Limits, Server
from tests.api.tenancy_helpers import T0, add_user, bearer
from tests.fakes import FakeWorkflows
from tests.server_world import add_blueprint, add_node

BASE = "/api/application/servers"
RIGHTS = ("users", "nodes", "allocations", "locations", "servers", "nests", "eggs")
PLAN = "hosting"
IMAGE = "ghcr.io/pterodactyl/yolks:python_3.12"
OTHER_IMAGE = "ghcr.io/pterodactyl/yolks:python_3.11"


@dataclass
class World:
    client: Any
    workflows: FakeWorkflows
    keys: dict[str, str]

    def call(self, method: str, path: str, body: Any = None, key: str = "rw") -> Any:
        headers = {
            "Authorization": f"Bearer {self.keys[key]}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        data = json.dumps(body) if body is not None else None
        return self.client.http.request(method, path, headers=headers, body=data)

    def started(self, workflow: str) -> list[dict[str, Any]]:
        return [payload for name, _op, payload in self.workflows.started if name == workflow]


def number(kind: str, ref: str, scope: str | None = None) -> int:
    return bootstrap.ptero_ids().number(kind, ref, scope).number


def allocation_number(port: int, node: str = "nd_alpha", ip: str = "10.0.0.1") -> int:
    return number("allocation", f"{node}|{ip}|{port}", node)


def _application_key(client: Any, rights: dict[str, str]) -> str:
    created = client.http.post(
        "/v1/admin/application-keys",
        headers={**bearer("usr_root"), "Content-Type": "application/json"},
        body=json.dumps({"name": "billing", "permissions": rights}),
    )
    assert created.status_code == 201, created.json_body
    return str(created.json_body["key"])


@contextlib.contextmanager
def server_world() -> Iterator[World]:
    from mamba.domain.billing import Plan
    from mamba.domain.quotas import Quotas
    from tests.support import app_on_moto

    with app_on_moto() as client:
        bootstrap.dynamo_tables()
        for user_id in ("usr_alice", "usr_bob", "usr_carol", "usr_dave", "usr_erin"):
            add_user(user_id)
        add_user("usr_root", is_admin=True)
        add_node("alpha", ports=range(25565, 25650), location="fr.sbg", memory_mb=65536)
        add_node("beta", ports=range(30000, 30003), ip="10.0.0.2", location="de.fra")
        # gamma: two IPs, for deploy.dedicated_ip
        gamma, _token = add_node("gamma", ports=range(40000, 40002), ip="10.0.0.3", location="us.nyc")
        bootstrap.allocation_repository().add_many(
            [Allocation(node_id=gamma.id, ip="10.0.0.4", port=40000, created_at=T0)]
        )
        add_blueprint(docker_images={"Python 3.12": IMAGE, "Python 3.11": OTHER_IMAGE})
        add_blueprint("bp_other", name="Other game")
        quotas = Quotas(servers=20, memory_mb=65536, disk_mb=1_000_000, backup_bytes=-1, backups_per_server=4)
        bootstrap.billing_repository().add_plan(Plan(id=PLAN, name="Hosting", quotas=quotas))
        fake = FakeWorkflows()
        settings = bootstrap.settings().model_copy(
            update={"pterodactyl_tenant_plan": PLAN, "pterodactyl_settle_seconds": 0.0}
        )
        with bootstrap.override(workflows=fake, settings=settings):
            keys = {
                "rw": _application_key(client, {r: "read-write" for r in RIGHTS}),
                "ro": _application_key(client, {r: "read" for r in RIGHTS}),
                "servers_only": _application_key(
                    client, {r: "read-write" if r == "servers" else "none" for r in RIGHTS}
                ),
            }
            yield World(client=client, workflows=fake, keys=keys)


def create_body(who: str = "usr_alice", port: int = 25565, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Survival",
        "user": number("user", who),
        "egg": number("egg", "bp_line"),
        "docker_image": "ghcr.io/pterodactyl/yolks:python_3.12",
        "startup": "python3 line_server.py --port {{SERVER_PORT}}",
        "environment": {"MOTD": "welcome"},
        "limits": {"memory": 512, "swap": 0, "disk": 1024, "io": 500, "cpu": 100},
        "feature_limits": {"databases": 0, "backups": 1, "allocations": 0},
        "allocation": {"default": allocation_number(port)},
        "start_on_completion": True,
    }
    body.update(overrides)
    return body


def add_server(
    tenant_id: str, port: int, *, status: str = OFFLINE, node: str = "nd_alpha", ip: str = "10.0.0.1"
) -> Server:
    """An installed server written straight to the table (its allocation taken)."""
    server = Server(
        uuid=str(uuid.uuid4()),
        name=f"srv {port}",
        tenant_id=tenant_id,
        node_id=node,
        blueprint_id="bp_line",
        environment={"MOTD": "hello"},
        allocation=(ip, port),
        docker_image="ghcr.io/pterodactyl/yolks:python_3.12",
        startup="python3 line_server.py --port {{SERVER_PORT}}",
        limits=Limits(memory_mb=512, disk_mb=1024, cpu_percent=100),
        status=status,
        created_at=T0,
        updated_at=T0,
        installed_at=T0,
    )
    bootstrap.server_repository().add(server)
    bootstrap.allocation_repository().assign(node, ip, port, server.uuid)
    return server


def personal_server(world: World, user: str, port: int, status: str = OFFLINE) -> tuple[Server, int]:
    """A server in ``user``'s personal tenant (made through the door once, then marked installed)."""
    created = world.call("POST", BASE, create_body(user, port))
    assert created.status_code == 201, created.json_body
    attrs = created.json_body["attributes"]
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import ServerItem

    ServerItem(*keys.server(attrs["uuid"])).update(
        actions=[ServerItem.status.set(status), ServerItem.installed_at.set(T0)]
    )
    return bootstrap.server_repository().get(attrs["uuid"]), attrs["id"]
