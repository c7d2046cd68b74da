"""A Wings simulator that talks to the panel's real remote API, for the lifecycle workflows.

* ``RemoteBridge``: a local HTTP server that hands every request to the current test's
  ``chalice.test.Client`` of the real app (so the simulator's callbacks, ``GET
  /api/remote/servers/{uuid}``, the install callback, run the real remote API on moto).
  The test swaps the target client; between tests it answers 503.
* ``SimNode``: one simulator process per test module, started on first use, with a fixed
  token id and token; each test registers a node with those credentials in its moto world.
* ``LifecycleWorld``: a node, allocations, the seeded line-server blueprint and a tenant
  with installed servers, created through the real repositories and a real Wings create.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid as uuid_mod
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from local.blueprints.seed import line_server
from mamba import bootstrap
from mamba.auth.context import TenantContext
from mamba.domain.nodes import Allocation, Node
from mamba.domain.servers import INSTALLING, Limits, Server
from tests.contract.wings.harness import free_port, random_token, spawn, stop, wait_ready, write_config

NOW = "2026-12-01T10:00:00Z"
IP = "127.0.0.1"


class RemoteBridge:
    def __init__(self) -> None:
        self.client: Any = None
        self._lock = threading.Lock()
        bridge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                with bridge._lock:
                    client = bridge.client
                    if client is None:
                        status, out, out_headers = 503, b'{"errors":[]}', {"Content-Type": "application/json"}
                    else:
                        response = client.http.request(self.command, self.path, headers=headers, body=body)
                        status, out, out_headers = response.status_code, response.body, response.headers
                self.send_response(status)
                for key, value in (out_headers or {}).items():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(out or b"")))
                self.end_headers()
                self.wfile.write(out or b"")

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, name="remote-bridge", daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class SimNode:
    """A simulator process booted against the bridge (started by ``ensure``)."""

    base: Path
    bridge: RemoteBridge
    token_id: str = field(default_factory=lambda: random_token(16))
    token: str = field(default_factory=lambda: random_token(64))
    port: int = field(default_factory=free_port)
    process: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ensure(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        panel = SimpleNamespace(token_id=self.token_id, token=self.token, url=self.bridge.url)
        config, log = self.base / "config.yml", self.base / "wings-sim.log"
        write_config(config, panel, self.port, self.base / "data")  # type: ignore[arg-type]
        self.process = spawn(config, log, "--token-check-seconds", "0.2")
        wait_ready(self.process, self.url, log)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


@contextlib.contextmanager
def sim_node(base: Path) -> Iterator[SimNode]:
    bridge = RemoteBridge()
    node = SimNode(base=base, bridge=bridge)
    try:
        yield node
    finally:
        node.stop()
        bridge.close()


def wait_for(check: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class LifecycleWorld:
    sim: SimNode
    node: Node
    blueprint_id: str
    tenant: TenantContext
    ports: list[int]

    @property
    def deps(self) -> Any:
        return bootstrap.server_lifecycle()

    @property
    def agent(self) -> Any:
        return bootstrap.agent_for(self.node)

    def server(self, server_uuid: str) -> Server:
        return bootstrap.server_repository().get(server_uuid)

    def allocation_holder(self, port: int) -> str | None:
        return bootstrap.allocation_repository().get(self.node.id, IP, port).server_id

    def create_installed(self, *, name: str = "srv", memory_mb: int = 512) -> Server:
        """A server in the DB holding the next free port, created on the simulator (which reads
        its configuration from the real remote API) and installed (the real install callback)."""
        port = next(p for p in self.ports if self.allocation_holder(p) is None)
        server_uuid = str(uuid_mod.uuid4())
        bootstrap.allocation_repository().assign(self.node.id, IP, port, server_uuid)
        server = Server(
            uuid=server_uuid,
            name=name,
            tenant_id=self.tenant.tenant_id,
            node_id=self.node.id,
            blueprint_id=self.blueprint_id,
            allocation=(IP, port),
            docker_image="ghcr.io/parkervcp/yolks:python_3.12",
            startup="python3 line_server.py",
            environment={"MOTD": "hello", "MAX_PLAYERS": 10},
            limits=Limits(memory_mb=memory_mb, disk_mb=1024, cpu_percent=100),
            status=INSTALLING,
            created_at=NOW,
            updated_at=NOW,
        )
        bootstrap.server_repository().add(server)
        self.agent.create_server(server_uuid)
        wait_for(lambda: self.server(server_uuid).status == "offline", what=f"{server_uuid} installed")
        return self.server(server_uuid)

    def wings_state(self, server_uuid: str) -> str:
        return str(self.agent.get_server(server_uuid)["state"])

    def start(self, server_uuid: str) -> None:
        self.agent.power(server_uuid, "start", wait_seconds=10)
        wait_for(lambda: self.wings_state(server_uuid) == "running", what=f"{server_uuid} running")


def build_world(sim: SimNode, client: Any, ports: int = 4) -> LifecycleWorld:
    """Register the simulator as a node of this test's moto world, then boot it if needed."""
    node = Node(
        id=f"nd_{uuid_mod.uuid4().hex[:10]}",
        uuid=str(uuid_mod.uuid4()),
        name="sim",
        fqdn="127.0.0.1",
        scheme="http",
        daemon_port=sim.port,
        token_id=sim.token_id,
        created_at=NOW,
        updated_at=NOW,
        memory_mb=16384,
        disk_mb=65536,
    )
    bootstrap.node_repository().add(node, sim.token)
    first = 30000 + (uuid_mod.uuid4().int % 20000)
    bootstrap.allocation_repository().add_many(
        [Allocation(node_id=node.id, ip=IP, port=first + i, created_at=NOW) for i in range(ports)]
    )
    blueprint = line_server(NOW)
    bootstrap.blueprint_repository().add(blueprint)
    sim.bridge.client = client
    sim.ensure()
    tenant = TenantContext(tenant_id=f"tn_{uuid_mod.uuid4().hex[:8]}", role="owner", permissions=frozenset())
    return LifecycleWorld(sim, node, blueprint.id, tenant, [first + i for i in range(ports)])
