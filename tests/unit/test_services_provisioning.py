"""The provision_server workflow's tasks (mamba.services.provisioning) over the fakes: the
server record, the node and its allocations, the Wings agent and the operation. The ASL
around them runs on moto in tests/statemachines; here each task's paths, on a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from mamba.domain import operations as ops
from mamba.domain import servers as srv
from mamba.domain.errors import (
    ConflictError,
    StartTimeoutError,
    WingsUnavailableError,
)
from mamba.domain.nodes import Allocation, Node
from mamba.services import provisioning as tasks
from mamba.services.servers import PROVISION_STEPS
from mamba.services.task_waits import WaitPorts
from tests.fakes import (
    FakeAllocationRepository,
    FakeNodeAgent,
    FakeNodeRepository,
    FakeOperationRepository,
    FakeServerRepository,
    FakeTaskCallbacks,
    FakeTaskTokens,
    server_entity,
)

T0 = "2026-12-01T10:00:00Z"
UUID = "00000000-0000-4000-8000-000000000001"


class Clock:
    """Epoch seconds that move only when the task sleeps."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def epoch(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class World:
    def __init__(self, status: str = srv.PROVISIONING) -> None:
        self.servers = FakeServerRepository()
        self.nodes = FakeNodeRepository()
        self.allocations = FakeAllocationRepository(self.nodes)
        self.operations = FakeOperationRepository()
        self.agent = FakeNodeAgent()
        self.clock = Clock()
        self.tokens, self.callbacks = FakeTaskTokens(), FakeTaskCallbacks()
        self.waits = WaitPorts(self.tokens, self.callbacks, epoch=self.clock.epoch)
        self.nodes.add(
            Node(id="n1", uuid="n1", name="n1", fqdn="n1.example.org", token_id="t" * 16, created_at=T0, updated_at=T0),
            "token",
        )
        self.allocations.add_many([Allocation("n1", "10.0.0.5", 25565, T0)])
        self.servers.add(server_entity(UUID, "n1", status, ip="10.0.0.5", created_at=T0))
        self.allocations.assign("n1", "10.0.0.5", 25565, UUID)
        self.operations.add(ops.new_operation("op_1", "tn_a", "server.create", PROVISION_STEPS, T0, target=UUID))
        self.ports = tasks.ProvisionPorts(
            servers=self.servers,
            nodes=self.nodes,
            allocations=self.allocations,
            agent_for=lambda node: self.agent,
            operations=self.operations,
            now=lambda: T0,
            epoch=self.clock.epoch,
            sleep=self.clock.sleep,
            waits=self.waits,
        )

    def event(self, **extra: Any) -> dict[str, Any]:
        return {"operation_id": "op_1", "server_uuid": UUID, **extra}

    def status(self) -> str:
        return str(self.servers.get(UUID).status)

    def steps(self) -> dict[str, str]:
        return {step.name: step.status for step in self.operations.find("op_1").steps}


def test_verify_passes_when_the_server_holds_its_allocation():
    world = World()

    result = tasks.verify(world.ports, world.event())

    assert result == {"node_id": "n1"}
    assert (world.steps()["reserve"], world.steps()["persist"]) == ("succeeded", "succeeded")


def test_verify_conflicts_when_the_allocation_is_not_the_servers():
    world = World()
    world.allocations.release("n1", "10.0.0.5", 25565, UUID)

    with pytest.raises(ConflictError):
        tasks.verify(world.ports, world.event())


def test_create_on_wings_marks_installing_and_creates_the_server_once():
    world = World()

    tasks.create_on_wings(world.ports, world.event())
    tasks.create_on_wings(world.ports, world.event())  # a retried task

    assert world.status() == srv.INSTALLING
    assert [c for c in world.agent.calls if c[0] == "create_server"] == [("create_server", "")]
    assert (world.steps()["create_on_wings"], world.steps()["install"]) == ("succeeded", "running")


def test_create_on_wings_stops_when_the_server_was_suspended_meanwhile():
    world = World(status=srv.SUSPENDED)

    with pytest.raises(ConflictError):
        tasks.create_on_wings(world.ports, world.event())
    assert world.agent.servers == {}


def test_create_on_wings_raises_wings_unavailable_when_the_node_does_not_answer():
    world = World()
    world.agent.down = True

    with pytest.raises(WingsUnavailableError):
        tasks.create_on_wings(world.ports, world.event())


@pytest.mark.parametrize(
    ("status", "delivered"),
    [
        (srv.INSTALLING, None),  # the node is installing: the token waits for the callback
        (srv.OFFLINE, ("success", {"state": "succeeded"})),  # the callback came before the wait
        (srv.INSTALL_FAILED, ("failure", "InstallFailedError")),
        (srv.DELETING, ("failure", "ConflictError")),  # taken elsewhere meanwhile
    ],
)
def test_await_install_parks_the_token_or_delivers_what_the_record_already_says(status, delivered):
    world = World(status=status)

    result = tasks.await_install(world.ports, world.event(task_token="tok-1", install_timeout_seconds=900))

    got = world.callbacks.delivered.get("tok-1")
    if delivered is None:
        assert got is None and result == {"waiting": f"install:{UUID}"}
        assert world.tokens.parked[f"install:{UUID}"] == ("tok-1", int(world.clock.now) + 900 + 24 * 3600)
    else:
        assert got is not None and got[0] == delivered[0]
        assert (got[1] if got[0] == "success" else got[1][0]) == delivered[1]
        assert world.tokens.parked == {}


def test_the_install_callback_resumes_the_waiting_provisioning_and_the_start_records_the_install():
    from mamba.services import remote_install

    world = World(status=srv.INSTALLING)
    tasks.await_install(world.ports, world.event(task_token="tok-1", install_timeout_seconds=900))

    remote_install.report_install(
        world.nodes.get("n1"), UUID, {"successful": True, "reinstall": False}, world.servers, lambda: T0, world.waits
    )
    tasks.skip_start(world.ports, world.event())

    assert world.callbacks.delivered == {"tok-1": ("success", {"state": "succeeded"})}
    assert world.status() == srv.OFFLINE
    assert (world.steps()["install"], world.steps()["start"]) == ("succeeded", "skipped")


def test_a_failed_install_callback_fails_the_waiting_task_with_a_readable_reason():
    from mamba.services import remote_install

    world = World(status=srv.INSTALLING)
    tasks.await_install(world.ports, world.event(task_token="tok-1", install_timeout_seconds=900))

    remote_install.report_install(
        world.nodes.get("n1"), UUID, {"successful": False}, world.servers, lambda: T0, world.waits
    )

    kind, (error, cause) = world.callbacks.delivered["tok-1"]
    assert (kind, error) == ("failure", "InstallFailedError")
    assert "install script failed" in cause


def test_start_powers_the_server_on_and_await_running_records_it():
    world = World(status=srv.OFFLINE)
    world.agent.create_server(UUID)

    started = tasks.start(world.ports, world.event(start_timeout_seconds=30))
    running = tasks.await_running(world.ports, world.event(start=started))

    assert started == {"deadline": int(world.clock.now) + 30, "state": "pending"}
    assert running["state"] == "running"
    assert world.status() == srv.RUNNING and world.steps()["start"] == "succeeded"
    assert ("power", UUID) in world.agent.calls


def test_await_running_is_pending_then_times_out_while_the_node_reports_offline():
    world = World(status=srv.STARTING)
    world.agent.create_server(UUID)  # offline on the node
    deadline = world.clock.now + 1

    pending = tasks.await_running(world.ports, world.event(start={"deadline": deadline}, watch_seconds=0.3))
    world.clock.now = deadline + 1

    assert pending == {"deadline": int(deadline), "state": "pending"}
    with pytest.raises(StartTimeoutError):
        tasks.await_running(world.ports, world.event(start={"deadline": deadline}))


def test_start_failed_leaves_the_installed_server_offline_with_the_reason():
    world = World(status=srv.STARTING)
    error = {"Error": "StartTimeoutError", "Cause": '{"errorMessage": "did not start"}'}

    result = tasks.start_failed(world.ports, world.event(error=error))

    assert result["message"] == "did not start"
    assert (world.status(), world.servers.get(UUID).status_reason) == (srv.OFFLINE, "did not start")
    assert world.steps()["start"] == "failed"


def test_compensate_deletes_on_the_node_frees_the_allocation_and_fails_the_server():
    world = World()
    tasks.verify(world.ports, world.event())
    tasks.create_on_wings(world.ports, world.event())
    error = {"Error": "InstallFailedError", "Cause": '{"errorMessage": "the script failed"}'}

    result = tasks.compensate(world.ports, world.event(error=error))
    again = tasks.compensate(world.ports, world.event(error=error))

    assert result == again and result["message"] == "the script failed"
    assert world.agent.servers == {}
    assert world.allocations.get("n1", "10.0.0.5", 25565).server_id is None
    assert (world.status(), world.servers.get(UUID).status_reason) == (srv.FAILED, "the script failed")
    steps = world.steps()
    assert (steps["reserve"], steps["install"], steps["start"]) == ("compensated", "failed", "skipped")


def test_compensate_is_quiet_when_the_server_is_gone():
    world = World()
    world.servers.delete(UUID)

    assert tasks.compensate(world.ports, world.event(error={}))["code"]


def test_compensate_raises_while_the_node_does_not_answer_and_keeps_the_allocation():
    world = World(status=srv.INSTALLING)
    world.agent.down = True

    with pytest.raises(WingsUnavailableError):
        tasks.compensate(world.ports, world.event(error={}))
    assert world.allocations.get("n1", "10.0.0.5", 25565).server_id == UUID


def test_compensation_incomplete_fails_the_server_but_keeps_its_port_reserved():
    world = World(status=srv.INSTALLING)
    tasks.verify(world.ports, world.event())
    error = {"Error": "InstallTimeoutError", "Cause": '{"errorMessage": "too slow"}'}
    cleanup = {"Error": "WingsUnavailableError", "Cause": '{"errorMessage": "node down"}'}

    tasks.compensation_incomplete(world.ports, world.event(error=error, compensation_error=cleanup))

    server = world.servers.get(UUID)
    assert server.status == srv.FAILED
    assert "too slow" in (server.status_reason or "") and "node down" in (server.status_reason or "")
    assert world.allocations.get("n1", "10.0.0.5", 25565).server_id == UUID
    assert world.steps()["reserve"] == "succeeded"  # not undone


def test_skip_start_records_the_step_skipped():
    world = World(status=srv.OFFLINE)

    tasks.skip_start(world.ports, world.event())

    assert world.steps()["start"] == "skipped"
    assert world.status() == srv.OFFLINE and world.agent.calls == []


def test_create_on_wings_replaces_what_the_node_kept_from_an_earlier_failed_run():
    world = World()
    world.agent.servers[UUID] = {"state": "offline", "suspended": False, "files": {}, "logs": []}

    tasks.create_on_wings(world.ports, world.event())

    calls = [c[0] for c in world.agent.calls if c[0] in ("delete_server", "create_server")]
    assert calls == ["delete_server", "create_server"]
    assert world.status() == srv.INSTALLING
