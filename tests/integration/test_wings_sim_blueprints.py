"""The local seed's two blueprints (``local.blueprints``) install and run on the Wings simulator.

The configuration and install documents are built from the seeded Blueprint objects the way
the remote API serves them (§5.4, §5.6), so a change to either blueprint is tried for real here.
Their egg id is the blueprint's id, as the panel sends it: the simulator runs their install
scripts because its own allowlist names those ids, not because the panel says anything.
"""

from __future__ import annotations

import uuid as uuid_mod
from typing import Any

import pytest

from local.blueprints.seed import command_runner, line_server
from tests.contract.wings import shapes
from tests.contract.wings.fake_panel import game_server_document
from tests.contract.wings.harness import running_node, wait_until

pytestmark = pytest.mark.xdist_group("wings_sim_blueprints")
NOW = "2026-11-25T10:00:00Z"


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with running_node(tmp_path_factory.mktemp("wings")) as n:
        yield n


def register(node, blueprint) -> str:
    server_uuid = str(uuid_mod.uuid4())
    environment: dict[str, Any] = {v.env_variable: v.default_value for v in blueprint.variables}
    document = game_server_document(
        server_uuid,
        "unused",
        environment=environment,
        invocation=blueprint.startup,
        egg={"id": blueprint.id, "file_denylist": list(blueprint.file_denylist)},
    )
    document["process_configuration"] = {
        "startup": {"done": list(blueprint.startup_done), "user_interaction": [], "strip_ansi": blueprint.strip_ansi},
        "stop": {"type": blueprint.stop_type, "value": blueprint.stop_value},
        "configs": [],
    }
    install = {
        "container_image": blueprint.install_container,
        "entrypoint": blueprint.install_entrypoint,
        "script": blueprint.install_script,
    }
    shapes.assert_configuration_document(document)
    shapes.assert_install_document(install)
    node.panel.servers[server_uuid] = document
    node.panel.installs[server_uuid] = install
    resp = node.http("POST", "/api/servers", json={"uuid": server_uuid, "start_on_completion": True})
    assert resp.status_code == 202
    call = node.panel.wait_for("POST", f"/api/remote/servers/{server_uuid}/install")
    assert call.body == {"successful": True, "reinstall": False}
    node.wait_state(server_uuid, "running")
    return server_uuid


def command(node, server_uuid, text):
    assert node.http("POST", f"/api/servers/{server_uuid}/commands", json={"commands": [text]}).status_code == 204


def test_line_server_installs_runs_echoes_and_stops_when_seeded(node):
    # Given the seeded line server created with start_on_completion
    server_uuid = register(node, line_server(NOW))
    # Then its install wrote the script and the done line flipped it to running
    assert (node.data_dir / server_uuid / "line_server.py").is_file()
    assert any("Line server ready" in line for line in node.logs(server_uuid))
    # When a command is sent, it is echoed
    command(node, server_uuid, "say hello")
    wait_until(lambda: "[Server] hello" in node.logs(server_uuid), what="say echo")
    # When it is stopped, the stop command ends it cleanly
    node.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "stop"})
    node.wait_state(server_uuid, "offline")
    assert "[line-server] Stopping the line server" in node.logs(server_uuid)


def test_command_runner_runs_its_command_and_stops_on_sigterm_when_seeded(node):
    # Given the seeded command runner with its default command
    server_uuid = register(node, command_runner(NOW))
    # When a line is sent, the shell loop echoes it
    command(node, server_uuid, "ping")
    wait_until(lambda: "> ping" in node.logs(server_uuid), what="runner echo")
    # When it is stopped, SIGTERM ends it
    node.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "stop"})
    node.wait_state(server_uuid, "offline")
