"""A whole node for workflow tests: the real panel (remote API) served over HTTP in this
process on moto, the Wings simulator as a subprocess booted against it, and between the
panel's Wings client and the simulator a small proxy that can be told to fail (tests only).

The node record points at the proxy; the simulator's config.yml points at the panel.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import yaml

from mamba import bootstrap
from mamba.domain.nodes import Node
from tests.contract.wings.harness import free_port, spawn, stop, wait_ready
from tests.server_world import add_node


@contextlib.contextmanager
def panel_over_http() -> Iterator[str]:
    """The real Chalice app on 127.0.0.1 (chalice local's threaded server, whose
    current_request is thread-local), inside the active moto mock."""
    from chalice.config import Config
    from chalice.local import LocalChalice, LocalDevServer, create_local_server

    import app as app_module
    from local import gateway

    gateway.install()
    port = free_port()
    config = Config.create(chalice_stage="test")
    if isinstance(app_module.app, LocalChalice):  # made local by an earlier test of this process
        server = LocalDevServer(app_module.app, config, "127.0.0.1", port)
    else:
        server = create_local_server(app_module.app, config, "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, name="panel-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server.server_close()


@dataclass
class Fault:
    method: str
    path: str
    status: int | None = None  # answer this status without forwarding
    delay: float = 0.0  # forward, then hold the answer this long (the caller times out)
    drop: bool = False  # forward, then close the connection without an answer (a dropped connection)
    times: int = 1
    skip: int = 0  # let this many matching requests through first


@dataclass
class FaultyProxy:
    """Forwards every request to the simulator unless a fault matches it."""

    target: str
    faults: list[Fault] = field(default_factory=list)
    seen: list[tuple[str, str, int]] = field(default_factory=list)
    httpd: ThreadingHTTPServer | None = None

    def start(self) -> FaultyProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _any(self) -> None:
                proxy.handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, name="faulty-proxy", daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self.httpd is not None
        return int(self.httpd.server_address[1])

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def fail(self, method: str, path: str, **kwargs: Any) -> None:
        self.faults.append(Fault(method, path, **kwargs))

    def _fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            matches = path.startswith(fault.path[:-1]) if fault.path.endswith("*") else path == fault.path
            if fault.method == method and matches and fault.times > 0:
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                return fault
        return None

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        fault = self._fault(request.command, path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else None
        if fault is not None and fault.status is not None:
            self.seen.append((request.command, path, fault.status))
            payload = b'{"error":"An unexpected error was encountered while processing this request"}'
            request.send_response(fault.status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
            return
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        answer = requests.request(request.command, self.target + request.path, headers=headers, data=body, timeout=30)
        self.seen.append((request.command, path, answer.status_code))
        if fault is not None and fault.drop:
            # The node did the work; its answer is lost with the connection (the caller sees a
            # reset or an empty reply, never a status).
            request.close_connection = True
            with contextlib.suppress(OSError):
                request.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        try:
            request.send_response(answer.status_code)
            for name, value in answer.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                    request.send_header(name, value)
            request.send_header("Content-Length", str(len(answer.content)))
            request.end_headers()
            request.wfile.write(answer.content)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller gave up (a timeout fault)


@dataclass
class SimNode:
    node: Node
    token: str
    url: str  # the simulator itself
    proxy: FaultyProxy
    process: Any
    log_path: Path

    def http(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return requests.request(method, self.url + path, headers=headers, timeout=15, **kwargs)

    def server_uuids(self) -> list[str]:
        """The servers the simulator knows (GET /api/servers)."""
        return [s["configuration"]["uuid"] for s in self.http("GET", "/api/servers").json()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def simulated_node(
    base: Path,
    panel_url: str,
    name: str = "sim",
    ports: range = range(30000, 30004),
    allow_install: tuple[str, ...] = (),
) -> Iterator[SimNode]:
    """A node record whose daemon address is a FaultyProxy in front of a fresh simulator, which
    runs the install scripts of ``allow_install``'s blueprints besides the local seed's."""
    sim_port = free_port()
    proxy = FaultyProxy(f"http://127.0.0.1:{sim_port}").start()
    node, token = add_node(name, ports=ports, ip="127.0.0.1", fqdn="127.0.0.1", daemon_port=proxy.port, scheme="http")
    data_dir = base / "volumes"
    data_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "debug": False,
        "uuid": node.uuid,
        "token_id": node.token_id,
        "token": token,
        "api": {"host": "127.0.0.1", "port": sim_port, "ssl": {"enabled": False}, "upload_limit": 10},
        "system": {"data": str(data_dir), "sftp": {"bind_port": 2022}},
        "allowed_mounts": [],
        "remote": panel_url,
    }
    config_path, log_path = base / "config.yml", base / "wings-sim.log"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    process = spawn(config_path, log_path, *(arg for egg in allow_install for arg in ("--allow-install", egg)))
    try:
        wait_ready(process, f"http://127.0.0.1:{sim_port}", log_path)
        yield SimNode(node, token, f"http://127.0.0.1:{sim_port}", proxy, process, log_path)
    finally:
        stop(process)
        proxy.stop()


def allocation_holders(node_id: str) -> dict[int, str | None]:
    items, _ = bootstrap.allocation_repository().list(node_id)
    return {a.port: a.server_id for a in items}
