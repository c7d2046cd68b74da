"""The running local stack, started once per test session (``python -m local.launcher``).

The launcher runs with free ports and a temporary ``MAMBA_LOCAL_DIR``, without the test
session's JWT_SECRET, so it generates its own secrets file as ``make run`` does. Tests
marked ``stops_stack`` interrupt it and therefore run last.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from bench.stack import environment

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 20.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stops_stack: interrupts the session's local stack (runs last)")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Stable sort: everything else keeps its order, the stack-stopping tests go last.
    items.sort(key=lambda item: item.get_closest_marker("stops_stack") is not None)


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    api: str
    aws: str
    api_port: int
    aws_port: int
    local_dir: Path
    log: Path
    info: dict[str, Any]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def launcher_environment(folder: Path) -> dict[str, str]:
    """The environment of a fresh `make run` (bench.stack.environment: free ports, never the
    default 8080 or 8420 that a developer's stack may hold, ``folder`` as the local dir, nothing
    of the session's secrets) plus what the e2e tests need of it."""
    return environment(
        folder,
        {
            # Every body the local Stripe serves or sends, for the pinned-shape check (test_billing_flow.py).
            "STRIPE_STANDIN_RECORD": str(folder / "stripe-records.jsonl"),
            # Every e2e test and browser journey signs up and verifies from 127.0.0.1, together
            # more than one address may do in an hour (20 sign-ups, 30 verifications); the limits
            # themselves are tested at the API level (tests/api/test_accounts.py).
            "RATE_REGISTER_IP": "1000",
            "RATE_VERIFY_IP": "1000",
            # Every journey signs in several times: argon2id at the test session's cost (tests/conftest.py);
            # production's cost is pinned by tests/unit/test_password_cost.py.
            "ARGON2_TIME_COST": os.environ["ARGON2_TIME_COST"],
            "ARGON2_MEMORY_KIB": os.environ["ARGON2_MEMORY_KIB"],
            # Backups (tests/e2e/test_backups.py): cut a 50 MiB archive into several parts.
            "BACKUP_PART_SIZE_BYTES": str(16 * 1024 * 1024),
        },
    )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> int:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@contextlib.contextmanager
def running_stack(folder: Path, env: dict[str, str]) -> Iterator[Stack]:
    """Start ``python -m local.launcher`` with ``env``, wait for its stack.json, stop it on exit."""
    api_port, aws_port = int(env["PORT"]), int(env["LOCAL_AWS_PORT"])
    log = folder / "launcher.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.launcher"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    api = f"http://127.0.0.1:{api_port}"
    running = Stack(process, api, f"http://127.0.0.1:{aws_port}", api_port, aws_port, folder, log, {})
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        stack_file = folder / "stack.json"
        while not stack_file.exists():
            if process.poll() is not None:
                pytest.fail(f"the launcher exited with {process.returncode}:\n{running.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the stack was not ready in {START_TIMEOUT_SECONDS:.0f} s:\n{running.log_tail()}")
            time.sleep(0.2)
        running.info = json.loads(stack_file.read_text())
        yield running
    finally:
        stop(process)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("local-stack")
    with running_stack(folder, launcher_environment(folder)) as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
