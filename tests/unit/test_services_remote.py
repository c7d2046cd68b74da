"""The Wings callback use cases (mamba.services.remote_*) over the fakes: node authentication,
the boot listing and configuration, install and reset reports, transfers and activity. The
same routes run over HTTP against the simulator in tests/contract/remote."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.domain import servers as srv
from mamba.domain import wings_config
from mamba.domain.blueprints import Blueprint
from mamba.domain.errors import ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError
from mamba.domain.nodes import Node
from mamba.services import remote_activity, remote_auth, remote_install, remote_servers
from tests.fakes import FakeBlueprintRepository, FakeNodeRepository, FakeServerRepository, server_entity

T0, T1 = "2026-12-01T10:00:00Z", "2026-12-01T10:05:00Z"
TOKEN_ID, TOKEN = "abcdefghijklmnop", "s" * 64
S1, S2, S3 = (f"0000000{n}-0000-4000-8000-000000000000" for n in (1, 2, 3))


class World:
    def __init__(self) -> None:
        self.nodes, self.servers = FakeNodeRepository(), FakeServerRepository()
        self.node = Node(id="n1", uuid="n1", name="n1", fqdn="n1.example.org", token_id=TOKEN_ID, created_at=T0,
                         updated_at=T0, location="fra")  # fmt: skip
        self.nodes.add(self.node, TOKEN)
        blueprint = Blueprint(
            name="Line", startup="run", docker_images={"Py": "img"}, id="bp", stop_type="command", stop_value="^C",
            install_script="echo hi\r\n", file_denylist=("secret.key",),
        )  # fmt: skip
        self.blueprints = remote_servers.RepositoryBlueprints(FakeBlueprintRepository(blueprint))
        for uuid, status in ((S1, srv.RUNNING), (S2, srv.INSTALLING), (S3, srv.OFFLINE)):
            placed = server_entity(uuid, "n1", status, created_at=T0)
            self.servers.add(replace(placed, environment={"MOTD": "hi {{server.name}}"}))
        self.servers.add(server_entity("00000000-0000-4000-8000-0000000000ff", "n2", srv.RUNNING))

    def status(self, uuid: str) -> str:
        return str(self.servers.get(uuid).status)


@pytest.fixture
def world() -> World:
    return World()


# --- authentication ---


def test_a_node_authenticates_with_its_token_id_and_token(world):
    assert remote_auth.authenticate_node(f"Bearer {TOKEN_ID}.{TOKEN}", world.nodes) == world.node


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (None, UnauthorizedError),
        ("Basic abc", UnauthorizedError),
        (f"Bearer {TOKEN}", ValidationError),  # the bare token, not <token_id>.<token>
        ("Bearer a.b.c", ValidationError),
        (f"Bearer {TOKEN_ID}.wrong", ForbiddenError),
        (f"Bearer unknownunknown00.{TOKEN}", ForbiddenError),
    ],
)
def test_a_node_is_refused_with_the_status_its_credential_earns(world, header, error):
    with pytest.raises(error):
        remote_auth.authenticate_node(header, world.nodes)


def test_a_rotated_token_stops_authenticating_at_once(world):
    world.nodes.rotate_token("n1", "newtokenid000000", "n" * 64, T1)

    with pytest.raises(ForbiddenError):
        remote_auth.authenticate_node(f"Bearer {TOKEN_ID}.{TOKEN}", world.nodes)
    assert remote_auth.authenticate_node(f"Bearer newtokenid000000.{'n' * 64}", world.nodes).id == "n1"


# --- boot listing and configuration ---


def test_another_nodes_server_does_not_exist_for_this_node(world):
    with pytest.raises(NotFoundError):
        remote_auth.server_of_node(world.node, "00000000-0000-4000-8000-0000000000ff", world.servers)
    with pytest.raises(NotFoundError):
        remote_auth.server_of_node(world.node, "not-a-uuid", world.servers)


def test_the_boot_listing_pages_the_nodes_servers_with_integer_meta(world):
    first = remote_servers.list_servers(world.node, "0", "2", world.servers, world.blueprints)
    last = remote_servers.list_servers(world.node, "2", "2", world.servers, world.blueprints)

    assert [s["uuid"] for s in first["data"]] == [S1, S2]
    assert first["meta"] == {"current_page": 1, "from": 1, "last_page": 2, "per_page": 2, "to": 2, "total": 3}
    assert [s["uuid"] for s in last["data"]] == [S3] and last["meta"]["to"] == 3


@pytest.mark.parametrize(
    ("page", "per_page", "expected"), [(None, None, (1, 50)), ("-3", "0", (1, 50)), ("x", "9999", (1, 500))]
)
def test_page_params_read_as_laravel_does(page, per_page, expected):
    assert wings_config.page_params(page, per_page) == expected


def test_a_servers_configuration_resolves_placeholders_and_sends_a_signal_for_ctrl_c(world):
    document = remote_servers.server_configuration(world.node, S1, world.servers, world.blueprints)

    settings = document["settings"]
    assert settings["environment"]["MOTD"] == "hi {{server.name}}"  # Wings resolves only config.*
    assert settings["environment"]["P_SERVER_LOCATION"] == "fra"
    assert settings["egg"] == {"id": "bp", "file_denylist": ["secret.key"]}
    assert document["process_configuration"]["stop"] == {"type": "signal", "value": "SIGINT"}
    assert settings["allocations"]["mappings"] == {"127.0.0.1": [25565]}


def test_a_server_whose_blueprint_was_deleted_still_gets_a_valid_document(world):
    world.blueprints.repository.delete("bp")

    document = remote_servers.server_configuration(world.node, S3, world.servers, world.blueprints)

    assert document["process_configuration"]["configs"] == []
    assert document["settings"]["uuid"] == S3


@pytest.mark.parametrize(
    ("stop_type", "value", "expected"),
    [
        ("command", "stop", {"type": "command", "value": "stop"}),
        ("command", "^SIGTERM", {"type": "signal", "value": "SIGTERM"}),
        ("signal", "kill", {"type": "signal", "value": "SIGKILL"}),
        ("signal", "bogus", {"type": "signal", "value": "SIGTERM"}),
        ("stop", "", {"type": "stop", "value": ""}),
    ],
)
def test_stop_configuration_is_what_wings_understands(stop_type, value, expected):
    assert wings_config.stop_configuration(stop_type, value) == expected


# --- install, reset, transfer ---


def test_the_install_script_has_unix_line_ends(world):
    script = remote_install.install_script(world.node, S2, world.servers, world.blueprints)

    assert script["script"] == "echo hi\n"
    assert script["container_image"].startswith("ghcr.io/pterodactyl/installers")


def test_an_install_report_moves_the_server_on(world):
    done = remote_install.report_install(
        world.node, S2, {"successful": True, "reinstall": False}, world.servers, lambda: T1
    )
    failed = remote_install.report_install(world.node, S3, {"successful": False}, world.servers, lambda: T1)

    assert (done.status, done.installed_at) == (srv.OFFLINE, T1)
    assert failed.status == srv.INSTALL_FAILED
    assert (world.status(S2), world.status(S3)) == (srv.OFFLINE, srv.INSTALL_FAILED)


@pytest.mark.parametrize("body", [None, [], {}, {"successful": "yes"}, {"successful": True, "reinstall": 1}])
def test_an_install_report_with_a_bad_body_changes_nothing(world, body):
    with pytest.raises(ValidationError):
        remote_install.report_install(world.node, S2, body, world.servers, lambda: T1)
    assert world.status(S2) == srv.INSTALLING


def test_a_reset_fails_running_installs_and_stops_running_servers_of_this_node_only(world):
    changed = remote_install.reset(world.node, world.servers, lambda: T1)

    assert changed == 2
    assert (world.status(S1), world.status(S2), world.status(S3)) == (srv.OFFLINE, srv.INSTALL_FAILED, srv.OFFLINE)
    assert world.status("00000000-0000-4000-8000-0000000000ff") == srv.RUNNING


def test_a_transfer_result_conflicts_since_no_transfer_runs(world):
    with pytest.raises(ConflictError):
        remote_install.transfer_result(world.node, S1, world.servers)
    with pytest.raises(NotFoundError):
        remote_install.transfer_result(world.node, "00000000-0000-4000-8000-0000000000ff", world.servers)


# --- activity ---


def test_activity_keeps_this_nodes_server_events_and_a_resent_batch_stores_nothing_new(world):
    body = {
        "data": [
            {"server": S1, "event": "server:power.start", "timestamp": T0, "user": "usr_1", "ip": "203.0.113.9"},
            {"server": S1, "event": "auth:sftp.login", "timestamp": T0},  # not a server event
            {"server": "00000000-0000-4000-8000-0000000000ff", "event": "server:power.stop", "timestamp": T0},
            {"server": S3, "event": "server:console.command", "timestamp": T1, "metadata": {"command": "say"}},
        ]
    }

    stored = remote_activity.record_activity(world.node, body, world.servers)
    again = remote_activity.record_activity(world.node, body, world.servers)

    assert stored == again == (2, 2)
    [start] = world.servers.activity(S1)
    assert (start.event, start.user_id, start.ip, start.node_id, start.tenant_id) == (
        "server:power.start",
        "usr_1",
        "203.0.113.9",
        "n1",
        "tn_a",
    )
    assert [e.metadata for e in world.servers.activity(S3)] == [{"command": "say"}]


@pytest.mark.parametrize("body", [None, {"data": "x"}, {"data": [1]}, {"data": [{"server": S1, "event": 3}]}])
def test_an_activity_batch_with_a_bad_shape_is_refused(world, body):
    with pytest.raises(ValidationError):
        remote_activity.record_activity(world.node, body, world.servers)
    assert world.servers.activity(S1) == []
