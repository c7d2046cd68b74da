"""A local stack (``python -m local.launcher``) for a bench run: free ports, a scratch folder,
stopped when the block ends. The same start as ``make run`` and the e2e tests, so the load
scenario measures what a developer runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.registry import MeasurementError

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 20.0

# What the developer's shell may set that must not reach the stack: it makes its own secrets.
_NOT_INHERITED = (
    "MAMBA_ENV",
    "JWT_SECRET",
    "MAMBA_LOCAL_SECRETS_FILE",
    "MAMBA_LOCAL_DIR",
    "MAMBA_ADMIN_EMAIL",
    "MAMBA_ADMIN_PASSWORD",
    "AWS_ENDPOINT_URL",
    "MOTO_PORT",
    "BILLING_ENABLED",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "LOCAL_STRIPE_PORT",
    "PYTHONDONTWRITEBYTECODE",
)


@dataclass
class Stack:
    api: str
    folder: Path
    info: dict[str, Any]
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def admin_login(self) -> tuple[str, str]:
        stored = dict(
            line.split("=", 1) for line in (self.folder / "admin.txt").read_text().splitlines() if "=" in line
        )
        return stored["email"], stored["password"]


def free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.add(int(probe.getsockname()[1]))
    return sorted(ports)


def environment(folder: Path, overrides: dict[str, str]) -> dict[str, str]:
    api, aws, wings, stripe = free_ports(4)
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(
        {
            "PORT": str(api),
            "LOCAL_AWS_PORT": str(aws),
            "LOCAL_WINGS_PORT": str(wings),
            "LOCAL_STRIPE_PORT": str(stripe),
            "MAMBA_LOCAL_DIR": str(folder),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
            "PYTHONUNBUFFERED": "1",
            **overrides,
        }
    )
    return env


@contextlib.contextmanager
def running(folder: Path, overrides: dict[str, str] | None = None) -> Iterator[Stack]:
    """Start the launcher, wait for its stack.json, yield; SIGINT (then SIGKILL) on the way out."""
    folder.mkdir(parents=True, exist_ok=True)
    env = environment(folder, overrides or {})
    log = folder / "launcher.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.launcher"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    stack = Stack(api=f"http://127.0.0.1:{env['PORT']}", folder=folder, info={}, log=log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        stack_file = folder / "stack.json"
        while not stack_file.exists():
            if process.poll() is not None:
                raise MeasurementError(f"the local stack exited with {process.returncode}:\n{stack.log_tail()}")
            if time.monotonic() > deadline:
                raise MeasurementError(f"the local stack was not ready in {START_TIMEOUT_SECONDS:.0f} s")
            time.sleep(0.2)
        stack.info = json.loads(stack_file.read_text())
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
