"""The Wings client against the Wings simulator (local/wings_sim) over real HTTP.

The simulator boots against the FakePanel of tests/contract/wings, so these tests exercise
the client's real requests and the typed errors produced from the simulator's real answers.
"""

from __future__ import annotations

import pytest

from mamba.adapters.wings.client import NodeEndpoint, WingsHttpNodeAgent
from mamba.domain.errors import WingsNotFoundError, WingsRejectedError, WingsUnavailableError
from tests.contract.wings.harness import running_node

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wings-client-sim")]


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with running_node(tmp_path_factory.mktemp("wings-client")) as n:
        yield n


@pytest.fixture(scope="module")
def agent(node) -> WingsHttpNodeAgent:
    return WingsHttpNodeAgent(NodeEndpoint("sim", node.url, node.token), retries=0, request_id=lambda: "req-sim-0001")


@pytest.fixture(scope="module")
def installed(node) -> str:
    return node.create_installed()


def test_system_reports_the_wings_version_when_the_simulator_answers(agent):
    info = agent.system(probe=True)

    assert isinstance(info["version"], str) and info["version"]


def test_wrong_token_is_rejected_when_the_node_refuses_it(node):
    stranger = WingsHttpNodeAgent(NodeEndpoint("sim", node.url, "x" * 64), retries=0)

    with pytest.raises(WingsRejectedError) as caught:
        stranger.system()

    assert caught.value.details["wings_status"] == 403


def test_server_detail_and_list_include_the_server_when_it_was_created(agent, installed):
    assert agent.get_server(installed)["state"] in ("offline", "starting", "running", "stopping")
    assert any(s["configuration"]["uuid"] == installed for s in agent.list_servers())


def test_unknown_server_is_not_found_when_asked_for(agent):
    with pytest.raises(WingsNotFoundError):
        agent.get_server("00000000-0000-4000-8000-000000000000")


def test_files_round_trip_when_written_read_listed_and_deleted(agent, installed):
    # Given a file written through the client
    agent.write_file(installed, "/notes/hello.txt", b"hello wings\n")

    # When it is read and listed
    content = agent.read_file(installed, "/notes/hello.txt")
    names = [entry["name"] for entry in agent.list_directory(installed, "/notes")]

    # Then the bytes and the listing match, and after delete it is gone (404 or 500: both typed)
    assert content == b"hello wings\n"
    assert "hello.txt" in names
    agent.delete_files(installed, "/notes", ["hello.txt"])
    with pytest.raises(WingsNotFoundError):
        agent.read_file(installed, "/notes/hello.txt")


def test_missing_directory_is_not_found_when_listed(agent, installed):
    with pytest.raises(WingsNotFoundError):
        agent.list_directory(installed, "/does/not/exist")


def test_commands_to_a_stopped_server_are_rejected_when_it_is_offline(agent, installed):
    agent.power(installed, "kill")

    with pytest.raises(WingsRejectedError) as caught:
        agent.send_commands(installed, ["say hi"])

    assert "stopped" in caught.value.message


def test_invalid_power_body_is_rejected_with_422_when_wings_validates_it(node, installed):
    raw = WingsHttpNodeAgent(NodeEndpoint("sim", node.url, node.token), retries=0)

    with pytest.raises(WingsRejectedError) as caught:
        raw._call("POST", f"/api/servers/{installed}/power", body={"action": "explode"}, idempotent=False)

    assert caught.value.status == 422


def test_node_that_stopped_is_unavailable_when_called(tmp_path):
    with running_node(tmp_path) as n:
        url, token = n.url, n.token
    gone = WingsHttpNodeAgent(NodeEndpoint("sim", url, token), retries=0)

    with pytest.raises(WingsUnavailableError):
        gone.system()
