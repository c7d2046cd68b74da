"""Migration 0003: the two seeded local-safe blueprints, and the line server they install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mamba import bootstrap
from mamba.domain.blueprints import install_document, process_configuration
from mamba.domain.errors import NotFoundError
from mamba.migrations.registry import load_migrations
from mamba.migrations.runner import MigrationContext
from mamba.services.blueprints import validate_environment

SEED = next(m for m in load_migrations() if m.version == "0003")


def context(action: str) -> MigrationContext:
    lines: list[str] = []
    return MigrationContext(
        version="0003", action=action, now="2026-11-25T10:00:00Z", log=lines.append, renew_lease=lambda: None
    )


@pytest.fixture
def repo(aws):
    return bootstrap.blueprint_repository()


def test_up_seeds_two_local_safe_blueprints_and_is_idempotent_when_rerun(repo):
    SEED.up(context("up"))
    SEED.up(context("up"))

    found, _ = repo.list()
    assert sorted(b.id for b in found) == ["bp_command_runner", "bp_line_server"]
    assert all(b.local_safe for b in found)
    line = repo.get("bp_line_server")
    assert process_configuration(line)["stop"] == {"type": "command", "value": "stop"}
    assert validate_environment(line, {})["MAX_PLAYERS"] == "10"


def test_down_removes_both_when_rolled_back(repo):
    SEED.up(context("up"))

    SEED.down(context("down"))
    SEED.down(context("down"))

    with pytest.raises(NotFoundError):
        repo.get("bp_line_server")


def test_install_script_writes_a_line_server_that_echoes_and_stops_when_run(repo, tmp_path):
    # Given the seeded install script run with /mnt/server mapped to a temporary directory
    SEED.up(context("up"))
    document = install_document(repo.get("bp_line_server"))
    script = document["script"].replace("/mnt/server", str(tmp_path))
    subprocess.run(["sh", "-c", script], check=True, timeout=30, capture_output=True)

    # When the installed server gets two commands and stop
    env = {**os.environ, "MOTD": "hello", "MAX_PLAYERS": "7", "SERVER_PORT": "25565"}
    done = subprocess.run(
        [sys.executable, "line_server.py"],
        cwd=tmp_path,
        input="say hi\nlist\nstop\nnever reached\n",
        text=True,
        capture_output=True,
        env=env,
        timeout=30,
    )

    # Then it printed the done string, echoed the commands and stopped cleanly on "stop"
    assert done.returncode == 0
    out = done.stdout.splitlines()
    assert any("Line server ready" in line for line in out)
    assert "> say hi" in out and "[Server] hi" in out
    assert "[line-server] There are 0 of a max of 7 players online" in out
    assert out[-1] == "[line-server] Stopping the line server"
    assert (
        Path(tmp_path, "line_server.py").read_text()
        == (Path(__file__).resolve().parents[2] / "layers/core/mamba/data/blueprints/line_server.py").read_text()
    )
