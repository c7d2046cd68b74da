"""The Wings simulator over real HTTP: boot, install, power, console, stats, sync, delete.

Each module boots one simulator subprocess against a FakePanel (tests/contract/wings); waits are
input-driven polls of the daemon API, never fixed sleeps.
"""

from __future__ import annotations

import json

import psutil
import pytest

from tests.contract.wings import shapes
from tests.contract.wings.fake_panel import FakePanel
from tests.contract.wings.harness import (
    free_port,
    random_token,
    running_node,
    spawn,
    stop,
    wait_ready,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.xdist_group("wings_sim")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with running_node(tmp_path_factory.mktemp("wings"), servers=5) as n:
        yield n


def start(node, server_uuid):
    resp = node.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "start"})
    assert resp.status_code == 202
    node.wait_state(server_uuid, "running")


def test_boot_fetches_every_page_when_the_panel_paginates(node):
    # Given five servers served two per page (page 0 is answered as page 1)
    pages = [c.query["page"][0] for c in node.panel.calls if c.path == "/api/remote/servers"]
    # Then the simulator asked for page 0, then pages 2 and 3 (never page 1 again), and holds all five
    assert pages[0] == "0" and sorted(pages[1:]) == ["2", "3"]
    listed = {s["configuration"]["uuid"] for s in node.http("GET", "/api/servers").json()}
    assert listed == set(node.panel.servers)


def test_boot_waits_for_the_panel_when_it_answers_503_at_first(tmp_path):
    # Given a panel that answers 503 twice before serving the list
    with running_node(tmp_path, servers=1, fail_list_times=2) as n:
        # Then the simulator retried and came up with the server
        attempts = [c for c in n.panel.calls if c.path == "/api/remote/servers"]
        assert len(attempts) == 3
        assert len(n.http("GET", "/api/servers").json()) == 1


def test_boot_keeps_running_when_the_panel_has_no_servers(tmp_path):
    # Given a panel with no servers for this node
    with running_node(tmp_path, servers=0) as n:
        # Then the daemon API is up with an empty list
        resp = n.http("GET", "/api/servers")
        assert resp.status_code == 200 and resp.json() == []


def test_boot_exits_with_an_error_when_the_panel_refuses_the_credentials(tmp_path):
    # Given a config whose token the panel does not accept
    panel = FakePanel(token_id=random_token(16), token=random_token(64)).start()
    try:
        config, log = tmp_path / "config.yml", tmp_path / "sim.log"
        write_config(config, panel, free_port(), tmp_path / "data", token=random_token(64))
        # When the simulator boots
        process = spawn(config, log)
        code = process.wait(timeout=30)
        # Then it exits 1 after the 403, like Wings, saying why
        assert code == 1
        assert "refused" in log.read_text()
    finally:
        panel.stop()


def test_create_installs_and_reports_to_the_panel_when_the_egg_is_on_the_simulators_allowlist(node):
    # Given a server the panel has committed, of an egg the simulator was told to trust
    server_uuid = node.add_server()
    # When the panel creates it
    resp = node.http("POST", "/api/servers", json={"uuid": server_uuid, "start_on_completion": False})
    # Then 202, the synchronous config fetch happened, and the install callback reports success
    assert resp.status_code == 202
    call = node.panel.wait_for("POST", f"/api/remote/servers/{server_uuid}/install")
    shapes.assert_install_status_body(call.body)
    assert call.body == {"successful": True, "reinstall": False}
    # And the script ran with /mnt/server mapped to the server directory
    assert (node.data_dir / server_uuid / "game.py").is_file()
    install_log = node.data_dir / ".wings-sim" / "logs" / "install" / f"{server_uuid}.log"
    assert "installed" in install_log.read_text()


def test_install_runs_nothing_but_reports_success_when_the_egg_is_not_on_the_allowlist(node):
    # Given an imported egg the simulator was not told to trust
    server_uuid = node.add_server(install_allowed=False)
    # When the panel creates it
    node.http("POST", "/api/servers", json={"uuid": server_uuid, "start_on_completion": False})
    call = node.panel.wait_for("POST", f"/api/remote/servers/{server_uuid}/install")
    # Then success is reported, nothing was written, and the install output says why
    assert call.body == {"successful": True, "reinstall": False}
    assert list((node.data_dir / server_uuid).iterdir()) == []
    install_log = node.data_dir / ".wings-sim" / "logs" / "install" / f"{server_uuid}.log"
    assert "not on the simulator's install allowlist" in install_log.read_text()


def test_install_reports_failure_when_the_script_exits_non_zero(node):
    # Given an allowed install script that fails
    server_uuid = node.add_server()
    node.panel.installs[server_uuid]["script"] = "echo broken >&2\nexit 3\n"
    # When the panel creates the server
    node.http("POST", "/api/servers", json={"uuid": server_uuid, "start_on_completion": False})
    # Then the callback says unsuccessful
    call = node.panel.wait_for("POST", f"/api/remote/servers/{server_uuid}/install")
    assert call.body == {"successful": False, "reinstall": False}


def test_server_starts_after_install_when_start_on_completion(node):
    server_uuid = node.add_server()
    node.http("POST", "/api/servers", json={"uuid": server_uuid, "start_on_completion": True})
    node.wait_state(server_uuid, "running")
    node.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "kill"})
    node.wait_state(server_uuid, "offline")


def test_start_reaches_running_and_commands_are_echoed_when_the_done_line_appears(node):
    # Given an installed server
    server_uuid = node.create_installed()
    # When it is started
    start(node, server_uuid)
    # Then the done line flipped it to running and the config file was rewritten before start
    assert "Server ready! Type help for help." in node.logs(server_uuid)
    assert "server-port=27015" in (node.data_dir / server_uuid / "server.properties").read_text()
    # When commands are sent
    resp = node.http("POST", f"/api/servers/{server_uuid}/commands", json={"commands": ["say hi", "list"]})
    # Then they reach stdin and the echoes appear in the logs
    assert resp.status_code == 204
    wait_until(lambda: {"echo: say hi", "echo: list"} <= set(node.logs(server_uuid)), what="echoes")
    # And the size parameter limits the lines
    assert len(node.http("GET", f"/api/servers/{server_uuid}/logs?size=2").json()["data"]) == 2
    # When it is stopped, the stop command ends the process
    node.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "stop"})
    node.wait_state(server_uuid, "offline")
    assert "Stopping the game server" in node.logs(server_uuid)


def test_utilization_comes_from_the_real_process_when_running(node):
    server_uuid = node.create_installed()
    start(node, server_uuid)
    usage = node.http("GET", f"/api/servers/{server_uuid}").json()["utilization"]
    shapes.assert_utilization(usage)
    assert usage["memory_bytes"] > 1024 * 1024
    assert usage["memory_limit_bytes"] == 256 * 1024 * 1024
    assert usage["disk_bytes"] > 0
    wait_until(
        lambda: node.http("GET", f"/api/servers/{server_uuid}").json()["utilization"]["uptime"] > 0, what="uptime"
    )
    node.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "kill"})
    node.wait_state(server_uuid, "offline")
    offline = node.http("GET", f"/api/servers/{server_uuid}").json()["utilization"]
    assert offline["memory_bytes"] == 0 and offline["uptime"] == 0


def test_kill_ends_the_process_when_it_ignores_the_stop_command(node):
    # Given a running server that stops reading its console
    server_uuid = node.create_installed()
    start(node, server_uuid)
    pids = _game_pids(node, server_uuid)
    assert pids
    node.http("POST", f"/api/servers/{server_uuid}/commands", json={"commands": ["hang"]})
    node.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "stop"})
    node.wait_state(server_uuid, "stopping")
    # When the panel kills it
    resp = node.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "kill"})
    # Then the process is gone and the server offline
    assert resp.status_code == 202
    node.wait_state(server_uuid, "offline")
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids)


def test_stop_sends_the_configured_signal_when_stop_type_is_signal(node):
    server_uuid = node.add_server()
    node.panel.servers[server_uuid]["process_configuration"]["stop"] = {"type": "signal", "value": "SIGTERM"}
    node.http("POST", "/api/servers", json={"uuid": server_uuid, "start_on_completion": False})
    node.panel.wait_for("POST", f"/api/remote/servers/{server_uuid}/install")
    start(node, server_uuid)
    node.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "stop"})
    node.wait_state(server_uuid, "offline")
    # The game never printed its own stop line: the signal ended it
    assert "Stopping the game server" not in node.logs(server_uuid)
    assert any("exited with code -15" in line for line in node.logs(server_uuid))


def test_start_is_refused_with_400_when_the_server_is_suspended(node):
    # Given a server the panel suspended, and a sync
    server_uuid = node.create_installed()
    node.panel.servers[server_uuid]["settings"]["suspended"] = True
    assert node.http("POST", f"/api/servers/{server_uuid}/sync").status_code == 204
    # Then the node reports it suspended and refuses to start it
    assert node.http("GET", f"/api/servers/{server_uuid}").json()["is_suspended"] is True
    resp = node.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "start"})
    assert resp.status_code == 400
    shapes.assert_daemon_error(resp.json(), shapes.SUSPENDED_START)


def test_sync_answers_500_when_the_panel_no_longer_knows_the_server(node):
    server_uuid = node.create_installed()
    del node.panel.servers[server_uuid]
    resp = node.http("POST", f"/api/servers/{server_uuid}/sync")
    assert resp.status_code == 500
    shapes.assert_daemon_error(resp.json(), shapes.GENERIC, request_id=True)


def test_reinstall_reports_reinstall_true_when_requested(node):
    server_uuid = node.create_installed()
    resp = node.http("POST", f"/api/servers/{server_uuid}/reinstall")
    assert resp.status_code == 202
    wait_until(
        lambda: [
            c.body
            for c in node.panel.calls
            if c.path == f"/api/remote/servers/{server_uuid}/install" and c.method == "POST"
        ][1:],
        what="reinstall callback",
    )
    bodies = [c.body for c in node.panel.calls if c.path == f"/api/remote/servers/{server_uuid}/install"]
    assert bodies[-1] == {"successful": True, "reinstall": True}


def test_delete_removes_the_directory_and_forgets_the_server_when_running(node):
    # Given a running server with files
    server_uuid = node.create_installed()
    start(node, server_uuid)
    pids = _game_pids(node, server_uuid)
    # When the panel deletes it
    resp = node.http("DELETE", f"/api/servers/{server_uuid}")
    # Then 204, the process and the directory are gone, and the server is unknown
    assert resp.status_code == 204
    wait_until(lambda: not (node.data_dir / server_uuid).exists(), what="directory removal")
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids)
    assert node.http("GET", f"/api/servers/{server_uuid}").status_code == 404
    # and nothing of it is left in the simulator's bookkeeping (install script, install log)
    state = node.data_dir / ".wings-sim"
    wait_until(lambda: not list(state.rglob(f"*{server_uuid}*")), what="bookkeeping removal")


def test_the_simulator_writes_only_inside_its_data_directory_when_serving(node):
    # Every path the simulator created lives under system.data (server dirs and .wings-sim bookkeeping)
    names = {p.name for p in node.data_dir.iterdir()}
    assert ".wings-sim" in names
    assert all(shapes.UUID_V4.match(name) for name in names - {".wings-sim"})
    assert sorted(p.name for p in node.data_dir.parent.iterdir()) == ["config.yml", "data", "wings-sim.log"]


def _game_pids(node, server_uuid):
    directory = str(node.data_dir / server_uuid)
    found = []
    for proc in psutil.process_iter(["pid", "cwd", "cmdline"]):
        try:
            if proc.info["cwd"] == directory:
                found.append(proc.info["pid"])
        except (psutil.Error, KeyError):
            continue
    return found


def test_server_object_json_is_stable_when_listed(node):
    # The list is JSON the panel can decode into the §2.4 shape, one entry per server
    listed = node.http("GET", "/api/servers").json()
    assert len({s["configuration"]["uuid"] for s in listed}) == len(listed)
    json.dumps(listed)
    for obj in listed:
        shapes.assert_server_object(obj)


def test_servers_die_with_the_simulator_and_come_back_when_it_restarts(tmp_path):
    with running_node(tmp_path) as n:
        # Given a running server
        server_uuid = n.create_installed()
        start(n, server_uuid)
        pids = _game_pids(n, server_uuid)
        assert pids
        # When the simulator is stopped (SIGTERM)
        stop(n.process)
        # Then no game process is left behind
        assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids)
        # When it starts again on the same data directory
        n.process = spawn(tmp_path / "config.yml", tmp_path / "wings-sim-2.log")
        wait_ready(n.process, n.url, tmp_path / "wings-sim-2.log")
        # Then the server that was running is started again (Wings' states.json)
        n.wait_state(server_uuid, "running")
        n.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "kill"})
        n.wait_state(server_uuid, "offline")


def test_a_repeated_create_keeps_the_running_process_when_the_panel_retries(node):
    # Given a running server
    server_uuid = node.create_installed()
    start(node, server_uuid)
    pids = _game_pids(node, server_uuid)
    # When the panel sends the same create again
    resp = node.http("POST", "/api/servers", json={"uuid": server_uuid, "start_on_completion": False})
    # Then it is accepted, a second install callback arrives, and the same process keeps running
    assert resp.status_code == 202
    wait_until(
        lambda: len([c for c in node.panel.calls if c.path == f"/api/remote/servers/{server_uuid}/install"]) >= 4,
        what="second install",
    )
    assert node.state(server_uuid) == "running"
    assert set(pids) <= set(_game_pids(node, server_uuid))
    node.http("POST", f"/api/servers/{server_uuid}/power", json={"action": "kill"})
    node.wait_state(server_uuid, "offline")


def test_update_applies_a_rotated_token_at_once_when_the_panel_pushes_config(tmp_path):
    with running_node(tmp_path, servers=1) as n:
        # Given the panel rotated the node's token and pushes the new configuration
        new_id, new_token = random_token(16), random_token(64)
        resp = n.http("POST", "/api/update", json={"token_id": new_id, "token": new_token, "api": {"port": 1}})
        assert resp.status_code == 200 and resp.json() == {"applied": True}
        # Then the old token is refused and the new one accepted
        assert n.http("GET", "/api/system").status_code == 403
        assert n.http("GET", "/api/system", token=new_token).status_code == 200
        # And calls to the panel use the new credential
        n.panel.token_id, n.panel.token = new_id, new_token
        server_uuid = sorted(n.panel.servers)[0]
        assert n.http("POST", f"/api/servers/{server_uuid}/sync", token=new_token).status_code == 204
        sync = [c for c in n.panel.calls if c.path == f"/api/remote/servers/{server_uuid}"][-1]
        assert sync.headers["Authorization"] == f"Bearer {new_id}.{new_token}"


def test_update_is_not_applied_when_the_node_ignores_panel_updates(tmp_path):
    with running_node(tmp_path, ignore_panel_config_updates=True) as n:
        resp = n.http("POST", "/api/update", json={"token": random_token(64)})
        assert resp.json() == {"applied": False}
        assert n.http("GET", "/api/system").status_code == 200
