"""Start the Wings simulator as a subprocess against a FakePanel, and talk to it over real HTTP."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import string
import subprocess
import sys
import time
import uuid as uuid_mod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import requests
import yaml

from tests.contract.wings.fake_panel import GAME_EGG_ID, FakePanel, game_install_document, game_server_document

ROOT = Path(__file__).resolve().parents[3]
ALNUM = string.ascii_letters + string.digits
POLL = 0.05


def random_token(length: int) -> str:
    return "".join(secrets.choice(ALNUM) for _ in range(length))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll ``check`` every 50 ms until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL)


@dataclass
class Node:
    url: str
    token_id: str
    token: str
    panel: FakePanel
    data_dir: Path
    process: subprocess.Popen[str]
    log_path: Path

    def http(self, method: str, path: str, token: str | None = "default", **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token == "default":
            token = self.token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.url + path, headers=headers, timeout=15, **kwargs)

    def mint(self, lifetime: int = 600, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": self.panel.url,
            "aud": self.url,
            "jti": secrets.token_hex(16),
            "iat": now,
            "nbf": now - 300,
            "exp": now + lifetime,
            "unique_id": random_token(16),
        }
        payload.update(claims)
        return jwt.encode(payload, self.token, algorithm="HS256")

    def add_server(self, install_allowed: bool = True, **settings: Any) -> str:
        """A server of the test game's egg, or (``install_allowed=False``) of an egg the simulator does not trust."""
        server_uuid = str(uuid_mod.uuid4())
        if not install_allowed:
            settings.setdefault("egg", {"id": str(uuid_mod.uuid4()), "file_denylist": []})
        self.panel.servers[server_uuid] = game_server_document(server_uuid, sys.executable, **settings)
        self.panel.installs[server_uuid] = game_install_document()
        return server_uuid

    def create_installed(self) -> str:
        """A server created through the API, its install callback received."""
        server_uuid = self.add_server()
        resp = self.http("POST", "/api/servers", json={"uuid": server_uuid, "start_on_completion": False})
        assert resp.status_code == 202, resp.text
        self.panel.wait_for("POST", f"/api/remote/servers/{server_uuid}/install")
        return server_uuid

    def state(self, server_uuid: str) -> str:
        return str(self.http("GET", f"/api/servers/{server_uuid}").json()["state"])

    def wait_state(self, server_uuid: str, state: str, timeout: float = 15.0) -> None:
        wait_until(lambda: self.state(server_uuid) == state, timeout, f"{server_uuid} to be {state}")

    def logs(self, server_uuid: str) -> list[str]:
        return self.http("GET", f"/api/servers/{server_uuid}/logs").json()["data"] or []

    def stderr(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def write_config(path: Path, panel: FakePanel, port: int, data_dir: Path, **extra: Any) -> None:
    config = {
        "debug": False,
        "uuid": str(uuid_mod.uuid4()),
        "token_id": panel.token_id,
        "token": panel.token,
        "api": {"host": "0.0.0.0", "port": port, "ssl": {"enabled": False}, "upload_limit": 1},
        "system": {"data": str(data_dir), "sftp": {"bind_port": 2022}},
        "allowed_mounts": [],
        "remote": panel.url,
        "allowed_origins": ["http://allowed.example"],
        "remote_query": {"boot_servers_per_page": 2},
    }
    config.update(extra)
    path.write_text(yaml.safe_dump(config), encoding="utf-8")


def spawn(config_path: Path, log_path: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT}"
    with log_path.open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "local.wings_sim", "--config", str(config_path), *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )


def wait_ready(process: subprocess.Popen[str], url: str, log_path: Path, timeout: float = 20.0) -> None:
    """Ready once the daemon API answers at all (it listens only after the boot, §5.11)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"simulator exited {process.returncode}: {log_path.read_text()}")
        try:
            requests.get(url + "/api/system", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(POLL)
    raise AssertionError(f"simulator not ready in {timeout}s: {log_path.read_text()}")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def running_node(base: Path, servers: int = 0, fail_list_times: int = 0, **config: Any) -> Iterator[Node]:
    """A FakePanel with ``servers`` game servers, and a simulator booted against it."""
    panel = FakePanel(token_id=random_token(16), token=random_token(64), fail_list_times=fail_list_times).start()
    port = free_port()
    data_dir = base / "data"
    config_path, log_path = base / "config.yml", base / "wings-sim.log"
    write_config(config_path, panel, port, data_dir, **config)
    for _ in range(servers):
        server_uuid = str(uuid_mod.uuid4())
        panel.servers[server_uuid] = game_server_document(server_uuid, sys.executable)
        panel.installs[server_uuid] = game_install_document()
    process = spawn(config_path, log_path, "--token-check-seconds", "0.2", "--allow-install", GAME_EGG_ID)
    node = Node(f"http://127.0.0.1:{port}", panel.token_id, panel.token, panel, data_dir, process, log_path)
    try:
        wait_ready(node.process, node.url, log_path)
        yield node
    finally:
        stop(node.process)
        panel.stop()
