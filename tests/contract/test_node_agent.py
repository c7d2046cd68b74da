"""The NodeAgent port over FakeNodeAgent and WingsHttpNodeAgent talking to the Wings
simulator over real HTTP (booted once per module against the FakePanel of tests/contract/wings).

A test makes its own servers; the real daemon installs and starts them in the background, so
each check of state is polled (``eventually``), which the fake answers at once.
"""

from __future__ import annotations

import time
import uuid as uuid_mod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mamba.domain.errors import ValidationError, WingsNotFoundError, WingsRejectedError, WingsUnavailableError
from tests.fakes import FakeNodeAgent


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@dataclass
class Daemon:
    agent: Any
    new_server: Callable[[], str]  # an installed, offline server the panel knows
    unreachable: Any  # an agent of a node that does not answer


class NodeAgentContract:
    @pytest.fixture
    def daemon(self) -> Daemon:
        raise NotImplementedError

    def _state(self, daemon: Daemon, server_uuid: str) -> str:
        return str(daemon.agent.get_server(server_uuid)["state"])

    def test_a_created_server_is_installed_offline_and_listed(self, daemon):
        server_uuid = daemon.new_server()

        listed = {s["configuration"]["uuid"]: s for s in daemon.agent.list_servers()}

        assert self._state(daemon, server_uuid) == "offline"
        assert listed[server_uuid]["state"] == "offline"
        assert daemon.agent.get_server(server_uuid)["is_suspended"] is False

    def test_an_unknown_server_is_not_found(self, daemon):
        unknown = str(uuid_mod.uuid4())

        with pytest.raises(WingsNotFoundError):
            daemon.agent.get_server(unknown)
        with pytest.raises(WingsNotFoundError):
            daemon.agent.power(unknown, "start")
        with pytest.raises(WingsNotFoundError):
            daemon.agent.delete_server(unknown)

    def test_power_start_runs_the_server_and_kill_stops_it(self, daemon):
        server_uuid = daemon.new_server()

        daemon.agent.power(server_uuid, "start")
        running = eventually(lambda: self._state(daemon, server_uuid) == "running")
        daemon.agent.power(server_uuid, "kill")
        stopped = eventually(lambda: self._state(daemon, server_uuid) == "offline")

        assert running and stopped

    def test_commands_are_rejected_while_the_server_is_stopped(self, daemon):
        server_uuid = daemon.new_server()

        with pytest.raises(WingsRejectedError):
            daemon.agent.send_commands(server_uuid, ["say hi"])

    def test_bad_input_is_refused_before_the_node_is_asked(self, daemon):
        server_uuid = daemon.new_server()

        with pytest.raises(ValidationError):
            daemon.agent.power(server_uuid, "explode")
        with pytest.raises(ValidationError):
            daemon.agent.get_server("NOT-A-UUID")

    def test_a_written_file_is_read_listed_and_deleted(self, daemon):
        server_uuid = daemon.new_server()

        daemon.agent.write_file(server_uuid, "/notes.txt", b"hello")
        content = daemon.agent.read_file(server_uuid, "/notes.txt")
        listed = {e["name"]: e for e in daemon.agent.list_directory(server_uuid, "/")}
        daemon.agent.delete_files(server_uuid, "/", ["notes.txt"])

        assert content == b"hello"
        assert (listed["notes.txt"]["size"], listed["notes.txt"]["directory"]) == (5, False)
        with pytest.raises(WingsNotFoundError):
            daemon.agent.read_file(server_uuid, "/notes.txt")

    def test_a_renamed_file_moves_and_the_old_name_is_gone(self, daemon):
        server_uuid = daemon.new_server()
        daemon.agent.write_file(server_uuid, "/old.txt", b"hello")

        daemon.agent.rename(server_uuid, "/", [{"from": "old.txt", "to": "new.txt"}])

        assert daemon.agent.read_file(server_uuid, "/new.txt") == b"hello"
        with pytest.raises(WingsNotFoundError):
            daemon.agent.read_file(server_uuid, "/old.txt")

    def test_console_tokens_are_denied_and_users_deauthorized_without_error(self, daemon):
        server_uuid = daemon.new_server()

        daemon.agent.deny_websocket_tokens(server_uuid, ["jti-1", "jti-2"])
        answered = daemon.agent.deauthorize_user(str(uuid_mod.uuid4()), [server_uuid])

        assert isinstance(answered, bool)

    def test_a_deleted_server_is_gone(self, daemon):
        server_uuid = daemon.new_server()

        daemon.agent.delete_server(server_uuid)

        with pytest.raises(WingsNotFoundError):
            daemon.agent.get_server(server_uuid)
        assert server_uuid not in {s["configuration"]["uuid"] for s in daemon.agent.list_servers()}

    def test_logs_are_lines_of_text(self, daemon):
        server_uuid = daemon.new_server()

        lines = daemon.agent.logs(server_uuid, size=10)

        assert isinstance(lines, list) and all(isinstance(line, str) for line in lines)

    def test_system_describes_the_node(self, daemon):
        info = daemon.agent.system()

        assert {"architecture", "cpu_count", "kernel_version", "os", "version"} <= set(info)

    def test_a_node_that_does_not_answer_is_unavailable(self, daemon):
        with pytest.raises(WingsUnavailableError):
            daemon.unreachable.system(probe=True)
        with pytest.raises(WingsUnavailableError):
            daemon.unreachable.get_server(str(uuid_mod.uuid4()))


class TestNodeAgentOnFake(NodeAgentContract):
    @pytest.fixture
    def daemon(self) -> Daemon:
        fake = FakeNodeAgent()

        def new_server() -> str:
            server_uuid = str(uuid_mod.uuid4())
            fake.create_server(server_uuid)
            return server_uuid

        return Daemon(fake, new_server, FakeNodeAgent(down=True))


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.contract.wings.harness import running_node

    with running_node(tmp_path_factory.mktemp("wings-agent")) as node:
        yield node


class TestNodeAgentOnWingsSimulator(NodeAgentContract):
    @pytest.fixture
    def daemon(self, simulator: Any) -> Daemon:
        from mamba.adapters.wings.client import NodeEndpoint, WingsHttpNodeAgent
        from tests.contract.wings.harness import free_port

        agent = WingsHttpNodeAgent(NodeEndpoint("nd_sim", simulator.url, simulator.token, False), retries=0)

        def new_server() -> str:
            server_uuid = simulator.add_server()
            agent.create_server(server_uuid)
            simulator.panel.wait_for("POST", f"/api/remote/servers/{server_uuid}/install")
            return server_uuid

        closed = f"http://127.0.0.1:{free_port()}"
        return Daemon(agent, new_server, WingsHttpNodeAgent(NodeEndpoint("nd_gone", closed, "t", False), retries=0))


# --- the host resolver of files/pull --------------------------------------------------------------


class HostResolverContract:
    """Only what needs no DNS server: address literals and names that cannot exist."""

    @pytest.fixture
    def resolver(self) -> Any:
        raise NotImplementedError

    def test_an_address_literal_resolves_to_itself(self, resolver):
        assert resolver.resolve("127.0.0.1", 443) == ["127.0.0.1"]
        assert resolver.resolve("::1", 443) == ["::1"]

    def test_a_name_that_cannot_exist_resolves_to_nothing(self, resolver):
        # RFC 6761: .invalid never resolves; a label IDNA cannot encode neither.
        assert resolver.resolve("no-such-host.invalid", 443) == []
        assert resolver.resolve("a" * 64 + ".example", 443) == []


class TestHostResolverOnFake(HostResolverContract):
    @pytest.fixture
    def resolver(self) -> Any:
        from tests.fakes import FakeHostResolver

        return FakeHostResolver()


class TestHostResolverOnSocket(HostResolverContract):
    @pytest.fixture
    def resolver(self) -> Any:
        from mamba.adapters.dns import SocketHostResolver

        return SocketHostResolver()
