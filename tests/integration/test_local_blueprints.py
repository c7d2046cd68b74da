"""The local seed of the simulator's blueprints (``local.blueprints``), and the line server they install."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from local.blueprints import SIMULATOR_BLUEPRINT_IDS
from local.blueprints.seed import seed_blueprints
from mamba import bootstrap, cli
from mamba.domain.blueprints import install_document, process_configuration
from mamba.services.blueprints import validate_environment

NOW = "2026-11-25T10:00:00Z"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(aws):
    return bootstrap.blueprint_repository()


def test_local_seed_adds_the_two_simulator_blueprints_and_is_idempotent_when_rerun(repo):
    lines: list[str] = []

    first = seed_blueprints(repo, NOW, log=lines.append)
    again = seed_blueprints(repo, NOW, log=lines.append)

    found, _ = repo.list()
    assert sorted(first) == sorted(b.id for b in found) == sorted(SIMULATOR_BLUEPRINT_IDS)
    assert again == [] and sum("exists" in line for line in lines) == 2
    line = repo.get("bp_line_server")
    assert process_configuration(line)["stop"] == {"type": "command", "value": "stop"}
    assert validate_environment(line, {})["MAX_PLAYERS"] == "10"


def test_local_seed_leaves_a_blueprint_changed_locally_as_it_is_when_rerun(repo):
    # Given the seeded line server, renamed by an admin
    seed_blueprints(repo, NOW)
    repo.save(replace(repo.get("bp_line_server"), name="Renamed"))
    # When the stack seeds again
    seed_blueprints(repo, NOW)
    # Then the change stays
    assert repo.get("bp_line_server").name == "Renamed"


def test_no_migration_seeds_a_blueprint_when_a_new_deployment_migrates(repo):
    # When a new deployment runs every migration, and nothing from the local seed
    applied = cli.migrate_up()
    # Then 0003 (which once seeded them) ran, and there are no blueprints: the simulator's come only from local/
    assert "0003" in applied
    found, _ = repo.list()
    assert found == []


def test_install_script_writes_a_line_server_that_echoes_and_stops_when_run(repo, tmp_path):
    # Given the seeded install script run with /mnt/server mapped to a temporary directory
    seed_blueprints(repo, NOW)
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
    assert Path(tmp_path, "line_server.py").read_text() == (ROOT / "local/blueprints/line_server.py").read_text()
