"""The local seed of the simulator's blueprints (``make run``, and the tests that need them).

``seed_blueprints`` adds each blueprint unless its id exists (a re-run changes nothing, and a
blueprint an admin changed locally is left as it is). They were migration 0003 until issue 15:
a migration runs in every deployment, and a production panel has no use for them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from local.blueprints import COMMAND_RUNNER_ID, LINE_SERVER_ID
from mamba.domain.blueprints import Blueprint, Variable, check_blueprint, with_identity
from mamba.domain.errors import ConflictError

SCRIPT = Path(__file__).resolve().parent / "line_server.py"
HEREDOC = "MAMBA_LINE_SERVER_EOF"


class BlueprintAdder(Protocol):
    def add(self, blueprint: Blueprint) -> None:
        """Raises ConflictError when the id exists."""


def line_server(now: str) -> Blueprint:
    source = SCRIPT.read_text(encoding="utf-8")
    install = (
        "#!/bin/sh\n"
        "# Writes the line server into the server's directory.\n"
        "set -e\n"
        "mkdir -p /mnt/server\n"
        f"cat > /mnt/server/line_server.py <<'{HEREDOC}'\n"
        f"{source.rstrip()}\n"
        f"{HEREDOC}\n"
        'echo "installed line_server.py"\n'
    )
    blueprint = Blueprint(
        name="Mamba Line Server",
        author="panel@mamba.local",
        description="A tiny line-based game server in Python: prints a done line, echoes commands, stops on 'stop'.",
        docker_images={"Python 3.12": "ghcr.io/parkervcp/yolks:python_3.12"},
        startup="python3 line_server.py",
        stop_type="command",
        stop_value="stop",
        startup_done=("Line server ready",),
        install_container="python:3.12-slim",
        install_entrypoint="sh",
        install_script=install,
        variables=(
            Variable(
                name="Message of the day",
                env_variable="MOTD",
                description="Shown when the server starts",
                default_value="A Mamba line server",
                rules="required|string|max:64",
            ),
            Variable(
                name="Max players",
                env_variable="MAX_PLAYERS",
                description="Player slots the list command reports",
                default_value="10",
                rules="required|integer|between:1,100",
            ),
        ),
    )
    return check_blueprint(with_identity(blueprint, LINE_SERVER_ID, now, now))


def command_runner(now: str) -> Blueprint:
    blueprint = Blueprint(
        name="Generic Command Runner",
        author="panel@mamba.local",
        description="Runs the shell command in COMMAND in the server directory; stopped with SIGTERM.",
        docker_images={"Debian": "ghcr.io/parkervcp/yolks:debian"},
        startup="{{COMMAND}}",
        stop_type="signal",
        stop_value="SIGTERM",
        startup_done=("runner ready",),
        install_container="ghcr.io/pterodactyl/installers:alpine",
        install_entrypoint="sh",
        install_script='#!/bin/sh\nmkdir -p /mnt/server\necho "nothing to install for the command runner"\n',
        variables=(
            Variable(
                name="Command",
                env_variable="COMMAND",
                description="The shell command to run; print 'runner ready' to mark it started",
                default_value='echo "runner ready"; while read -r line; do echo "> $line"; done',
                rules="required|string|max:2000",
            ),
        ),
    )
    return check_blueprint(with_identity(blueprint, COMMAND_RUNNER_ID, now, now))


def seed_blueprints(repo: BlueprintAdder, now: str, log: Callable[[str], None] = lambda _line: None) -> list[str]:
    """Add the line server and the command runner unless they exist; the ids added."""
    added: list[str] = []
    for blueprint in (line_server(now), command_runner(now)):
        try:
            repo.add(blueprint)
        except ConflictError:
            log(f"blueprint {blueprint.id} exists; left as it is")
            continue
        added.append(blueprint.id)
        log(f"added blueprint {blueprint.id} ({blueprint.name})")
    return added
