"""The seeded local node: a node record pointing at a Wings simulator that the launcher starts.

``start_local_node`` (called by ``local.launcher`` once the API answers):

1. registers the node ``node_local`` (``http://127.0.0.1:<port>``) through the panel's own
   service, with allocations ``127.0.0.1:25565-25594``, unless it exists;
2. writes its ``config.yml`` with the panel's renderer (``mamba node config`` prints the same
   document), with ``system.data`` inside the local directory;
3. starts ``python -m local.wings_sim --config <local dir>/wings/config.yml`` as a child in
   its own process group, registers its stop with the launcher's cleanup, and waits until
   it serves (it boots by fetching the node's servers from the panel).

Environment: ``LOCAL_WINGS_PORT`` (default 8080, or a free port when 8080 is taken);
``LOCAL_WINGS_ALLOW_INSTALL``, comma-separated egg (blueprint) ids whose install scripts the
simulator may run on this machine besides the local seed's (``--allow-install``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
LOCAL_NODE_ID = "node_local"
DEFAULT_WINGS_PORT = 8080
LOCAL_PORTS = ["25565-25594"]
READY_SECONDS = 30.0
STOP_GRACE_SECONDS = 5.0


class NodeStartError(RuntimeError):
    """The simulator could not start; the message says why."""


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def pick_port(environ: dict[str, str]) -> int:
    """``LOCAL_WINGS_PORT`` if set (it must be free), else 8080, else any free port."""
    given = environ.get("LOCAL_WINGS_PORT")
    if given:
        if not given.isdigit() or not 0 < int(given) < 65536:
            raise NodeStartError(f"LOCAL_WINGS_PORT must be a port number, not {given!r}")
        if not _free(int(given)):
            raise NodeStartError(f"{HOST}:{given} is in use; set LOCAL_WINGS_PORT to a free port")
        return int(given)
    if _free(DEFAULT_WINGS_PORT):
        return DEFAULT_WINGS_PORT
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def seed_node(port: int) -> Any:
    """The local node record (created with its allocations on first run)."""
    from mamba import bootstrap
    from mamba.domain.errors import ConflictError, NotFoundError
    from mamba.services import nodes

    repo = bootstrap.node_repository()
    try:
        node = repo.get(LOCAL_NODE_ID)
    except NotFoundError:
        node = nodes.create_node(
            repo,
            {
                "name": "Local simulator",
                "location": "local",
                "fqdn": HOST,
                "scheme": "http",
                "daemon_port": port,
                "sftp_port": 2022,
                "memory_mb": 16384,
                "disk_mb": 51200,
                "tags": ["local", "simulator"],
            },
            node_id=LOCAL_NODE_ID,
        )
    if node.daemon_port != port:
        node = nodes.update_node(repo, node.id, {"daemon_port": port})
    with contextlib.suppress(ConflictError):  # already there from an earlier run
        nodes.add_allocations(repo, bootstrap.allocation_repository(), node.id, HOST, list(LOCAL_PORTS), alias="local")
    return node


def write_config(folder: Path, public_url: str) -> Path:
    """Render the node's config.yml with the panel's renderer, data kept under ``folder``."""
    from mamba import bootstrap
    from mamba.services import nodes

    wings_dir = folder / "wings"
    data_dir = wings_dir / "volumes"
    data_dir.mkdir(parents=True, exist_ok=True)
    text = nodes.node_configuration(
        bootstrap.node_repository(), LOCAL_NODE_ID, public_url, extra={"system": {"data": str(data_dir)}}
    )
    path = wings_dir / "config.yml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the node token
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return path


def simulator_command(config: Path, environ: dict[str, str]) -> list[str]:
    """``python -m local.wings_sim`` for the seeded node, with ``LOCAL_WINGS_ALLOW_INSTALL``'s eggs."""
    command = [sys.executable, "-m", "local.wings_sim", "--config", str(config), "--watch-parent"]
    for egg_id in (environ.get("LOCAL_WINGS_ALLOW_INSTALL") or "").split(","):
        if egg_id.strip():
            command += ["--allow-install", egg_id.strip()]
    return command


def start_simulator(config: Path, environ: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    env = dict(environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)])
    log = log_path.open("ab")
    try:
        return subprocess.Popen(
            simulator_command(config, environ),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,  # its own group: its game-server children are stopped with it
        )
    finally:
        log.close()


def wait_serving(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = READY_SECONDS) -> None:
    """Wait until the daemon API answers (any HTTP status: 401 without a token is expected)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-800:] if log_path.exists() else ""
            raise NodeStartError(f"the Wings simulator exited with status {process.returncode}: {tail.strip()}")
        try:
            with urllib.request.urlopen(f"{url}/api/system", timeout=2):  # noqa: S310 (our own loopback URL)
                return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise NodeStartError(f"the Wings simulator did not answer on {url} within {timeout:.0f} s (log: {log_path})")


def stop_simulator(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(STOP_GRACE_SECONDS)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # any game server left in the group


def start_local_node(folder: Path, environ: dict[str, str], cleanup: contextlib.ExitStack) -> list[str]:
    """Seed the node, write its config.yml, start its simulator; returns the node URLs for stack.json."""
    port = pick_port(environ)
    seed_node(port)
    config = write_config(folder, environ["MAMBA_PUBLIC_URL"])
    log_path = folder / "wings" / "wings-sim.log"
    process = start_simulator(config, environ, log_path)
    cleanup.callback(stop_simulator, process)
    url = f"http://{HOST}:{port}"
    wait_serving(url, process, log_path)
    return [url]
