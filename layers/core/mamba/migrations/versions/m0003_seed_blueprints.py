"""0003: seed the two blueprints that run on the local Wings simulator.

* ``bp_line_server``: a small line-based "game server" written in Python. Its install
  script writes ``mamba/data/blueprints/line_server.py`` into ``/mnt/server``; it prints a
  done line, echoes console commands and stops on ``stop``.
* ``bp_command_runner``: runs any shell command given in ``COMMAND``; stopped with SIGTERM.

Both are marked ``local_safe``: the simulator runs their install scripts and processes on
the host (it refuses to for any other blueprint). They are ordinary blueprints in a deployed
panel too, usable with real Wings and the python yolk image.

Up adds each one unless it exists (a re-run changes nothing). Down deletes both.
"""

from __future__ import annotations

from pathlib import Path

from mamba.adapters.dynamo.blueprints import DynamoBlueprintRepository
from mamba.domain.blueprints import Blueprint, Variable, check_blueprint, with_identity
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.migrations.model import MigrationContext

version = "0003"
description = "Seed blueprints: the Python line server and the generic command runner (local_safe)"

LINE_SERVER_ID = "bp_line_server"
COMMAND_RUNNER_ID = "bp_command_runner"
SCRIPT = Path(__file__).resolve().parents[2] / "data" / "blueprints" / "line_server.py"
HEREDOC = "MAMBA_LINE_SERVER_EOF"


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
        local_safe=True,
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
        local_safe=True,
    )
    return check_blueprint(with_identity(blueprint, COMMAND_RUNNER_ID, now, now))


def up(ctx: MigrationContext) -> None:
    repo = DynamoBlueprintRepository()
    for blueprint in (line_server(ctx.now), command_runner(ctx.now)):
        try:
            repo.add(blueprint)
            ctx.log(f"  added blueprint {blueprint.id} ({blueprint.name})")
        except ConflictError:
            ctx.log(f"  blueprint {blueprint.id} exists; left as it is")


def down(ctx: MigrationContext) -> None:
    repo = DynamoBlueprintRepository()
    for blueprint_id in (LINE_SERVER_ID, COMMAND_RUNNER_ID):
        try:
            repo.delete(blueprint_id)
            ctx.log(f"  deleted blueprint {blueprint_id}")
        except NotFoundError:
            ctx.log(f"  blueprint {blueprint_id} was already gone")
