"""Nodes, allocations and a blueprint for the server tests (written straight to the table)."""

from __future__ import annotations

import uuid
from typing import Any

from mamba import bootstrap
from mamba.domain.blueprints import Blueprint, Variable
from mamba.domain.nodes import Allocation, Node, new_token, new_token_id

T0 = "2026-11-25T10:00:00Z"


def add_node(
    name: str,
    *,
    ports: range | list[int] = range(25565, 25567),
    ip: str = "10.0.0.1",
    memory_mb: int = 8192,
    disk_mb: int = 100_000,
    fqdn: str | None = None,
    daemon_port: int = 8080,
    scheme: str = "https",
    token: str | None = None,
    **extra: Any,
) -> tuple[Node, str]:
    node = Node(
        id=f"nd_{name}",
        uuid=str(uuid.uuid4()),
        name=name,
        fqdn=fqdn or f"{name}.example.org",
        token_id=new_token_id(),
        created_at=T0,
        updated_at=T0,
        memory_mb=memory_mb,
        disk_mb=disk_mb,
        daemon_port=daemon_port,
        scheme=scheme,
        **extra,
    )
    token = token or new_token()
    bootstrap.node_repository().add(node, token)
    bootstrap.allocation_repository().add_many(
        [Allocation(node_id=node.id, ip=ip, port=p, created_at=T0) for p in ports]
    )
    return node, token


def add_blueprint(blueprint_id: str = "bp_line", **extra: Any) -> Blueprint:
    values: dict[str, Any] = {
        "name": "Line game",
        "startup": "python3 line_server.py --port {{SERVER_PORT}}",
        "docker_images": {"Python 3.12": "ghcr.io/pterodactyl/yolks:python_3.12"},
        "id": blueprint_id,
        "stop_type": "command",
        "stop_value": "stop",
        "startup_done": ("ready",),
        "install_script": "#!/bin/bash\necho installed > installed.txt\n",
        "variables": (
            Variable(
                name="Message of the day", env_variable="MOTD", default_value="hello", rules="required|string|max:40"
            ),
        ),
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(extra)
    blueprint = Blueprint(**values)
    bootstrap.blueprint_repository().add(blueprint)
    return blueprint


def set_plan_quotas(tenant_id: str, quotas: dict[str, int]) -> None:
    """What billing writes on the tenant record."""
    import json

    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import TenantItem

    TenantItem(*keys.tenant(tenant_id)).update(actions=[TenantItem.plan_quotas.set(json.dumps(quotas))])


def create_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "My game",
        "blueprint_id": "bp_line",
        "limits": {"memory_mb": 512, "disk_mb": 1024, "cpu_percent": 100},
        "environment": {"MOTD": "welcome"},
    }
    body.update(overrides)
    return body
