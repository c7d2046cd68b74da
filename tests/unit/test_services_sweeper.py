"""mamba.services.sweeper on fakes: which records it leaves alone and what it does to the others
(the same paths on moto with the Wings simulator: tests/statemachines/test_fault_sweeper.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mamba.domain import operations as ops
from mamba.domain import servers as srv
from mamba.domain.errors import DependencyUnavailableError
from mamba.services import provisioning, sweeper
from tests.fakes import FakeNodeAgent, FakeWorkflows
from tests.unit.test_services_server_lifecycle import deps, make

NOW = 1_800_000_000.0  # the sweeper's clock
OLD = "2027-01-15T07:00:00Z"  # NOW - 1 hour: past the grace period
YOUNG = "2027-01-15T07:59:00Z"  # a minute before NOW
SRV = "0000000a-0000-4000-8000-000000000000"


class CountingWorkflows(FakeWorkflows):
    def __init__(self) -> None:
        super().__init__()
        self.described: list[str] = []

    def status(self, workflow: str, operation_id: str, attempt: int = 1) -> str | None:
        self.described.append(operation_id)
        return super().status(workflow, operation_id, attempt)


def world(*servers: srv.Server) -> tuple[sweeper.SweepPorts, Any]:
    life = deps({s.uuid: s for s in servers}, {"nd_a": FakeNodeAgent()})
    workflows = CountingWorkflows()
    life = replace(life, workflows=workflows)
    for server in servers:
        for ip, port in server.allocations:
            life.allocations.rows[(server.node_id, ip, port)] = replace(
                life.allocations.rows.get((server.node_id, ip, port)) or _allocation(server, ip, port),
                server_id=server.uuid,
            )
    prov = provisioning.ProvisionPorts(
        servers=life.servers,
        nodes=life.nodes,
        allocations=life.allocations,
        agent_for=life.agent_for,
        operations=life.operations,
        now=lambda: "2027-01-15T08:00:00Z",
    )
    ports = sweeper.SweepPorts(
        operations=life.operations,
        workflows=workflows,
        nodes=life.nodes,
        servers=life.servers,
        provisioning=prov,
        lifecycle=life,
        backups=None,
        epoch=lambda: NOW,
        now=lambda: "2027-01-15T08:00:00Z",
    )
    return ports, life


def _allocation(server: srv.Server, ip: str, port: int) -> Any:
    from mamba.domain.nodes import Allocation

    return Allocation(node_id=server.node_id, ip=ip, port=port, created_at=OLD)


def operation(op_id: str, workflow: str, status: str, updated_at: str, **payload: Any) -> ops.Operation:
    op = ops.new_operation(op_id, "tn_a", workflow, ["kill", "finish"], updated_at, target=SRV, workflow=workflow,
                           input={"operation_id": op_id, "server_uuid": SRV, **payload})  # fmt: skip
    return replace(op, status=status, updated_at=updated_at)


def test_a_young_operation_is_left_alone_without_asking_step_functions() -> None:
    ports, life = world(make(SRV, "nd_a", srv.PROVISIONING))
    life.operations.add(operation("op_young", "provision_server", "pending", YOUNG))

    report = sweeper.sweep(ports)

    assert ports.workflows.described == [] and ports.workflows.started == []
    assert report.as_dict() == {"restarted": [], "closed": [], "failed_servers": [], "retried_deletes": [], "errors": 0}
    assert life.servers.get(SRV).status == srv.PROVISIONING  # its operation is live


def test_a_running_execution_keeps_its_server_even_when_the_record_is_old() -> None:
    server = replace(make(SRV, "nd_a", srv.PROVISIONING), updated_at=OLD)
    ports, life = world(server)
    life.operations.add(operation("op_live", "provision_server", "running", OLD))
    ports.workflows.statuses[("provision_server", "op_live")] = "RUNNING"

    report = sweeper.sweep(ports)

    assert report.failed_servers == [] and report.closed == []
    assert life.servers.get(SRV).status == srv.PROVISIONING


def test_an_ended_lifecycle_execution_is_closed_failed_and_releases_the_servers_lock() -> None:
    ports, life = world(make(SRV, "nd_a", srv.OFFLINE))
    life.operations.add(operation("op_build", "update_server_build", "running", OLD, lock=True))
    life.locks.acquire(SRV, "op_build", "update_server_build", now=OLD, now_epoch=0, seconds=10**10)
    ports.workflows.statuses[("update_server_build", "op_build")] = "TIMED_OUT"

    report = sweeper.sweep(ports)

    closed = life.operations.find("op_build")
    assert report.closed == ["op_build"]
    assert closed.status == "failed" and closed.error["code"] == "WORKFLOW_INTERRUPTED"
    assert "timed_out" in closed.error["message"]
    assert life.locks.holder(SRV) is None


def test_a_stranded_provisioning_server_is_failed_and_its_port_freed() -> None:
    server = replace(make(SRV, "nd_a", srv.PROVISIONING), updated_at=OLD)
    ports, life = world(server)

    report = sweeper.sweep(ports)

    assert report.failed_servers == [SRV]
    stored = life.servers.get(SRV)
    assert stored.status == srv.FAILED and stored.status_reason == sweeper.NEVER_STARTED
    assert life.allocations.get("nd_a", *server.allocation).server_id is None


def test_one_records_failure_is_counted_and_the_others_are_still_swept() -> None:
    broken, fine = "0000000b-0000-4000-8000-000000000000", "0000000c-0000-4000-8000-000000000000"
    ports, life = world(
        replace(make(broken, "nd_a", srv.PROVISIONING), updated_at=OLD),
        replace(make(fine, "nd_a", srv.PROVISIONING), updated_at=OLD),
    )
    release = life.allocations.release

    def flaky(node_id: str, ip: str, port: int, server_id: str) -> None:
        if server_id == broken:
            raise DependencyUnavailableError("DynamoDB did not answer.")
        release(node_id, ip, port, server_id)

    ports.provisioning.allocations = type("Flaky", (), {"release": staticmethod(flaky)})()

    report = sweeper.sweep(ports)

    assert report.errors == 1 and report.failed_servers == [fine]
    assert life.servers.get(broken).status == srv.PROVISIONING  # left for the next run


def test_an_ended_reinstall_puts_the_server_back_to_the_status_it_had() -> None:
    ports, life = world(make(SRV, "nd_a", srv.INSTALLING))
    life.operations.add(operation("op_again", "reinstall_server", "running", OLD, lock=True, previous_status="running"))
    life.locks.acquire(SRV, "op_again", "reinstall_server", now=OLD, now_epoch=0, seconds=10**10)
    ports.workflows.statuses[("reinstall_server", "op_again")] = "ABORTED"

    report = sweeper.sweep(ports)

    assert report.closed == ["op_again"]
    assert life.servers.get(SRV).status not in (srv.INSTALLING, srv.PROVISIONING)
    assert life.locks.holder(SRV) is None
    assert life.operations.find("op_again").status == "failed"


def test_a_stuck_delete_is_not_retried_while_its_node_is_offline() -> None:
    ports, life = world(replace(make(SRV, "nd_a", srv.DELETING), updated_at="2027-01-14T00:00:00Z"))
    ports.unreachable = lambda node_ids: {"nd_a"}

    report = sweeper.sweep(ports)

    assert report.retried_deletes == [] and ports.workflows.started == []
    assert life.servers.get(SRV).status == srv.DELETING

    ports.unreachable = lambda node_ids: set()
    assert sweeper.sweep(ports).retried_deletes == [SRV]
    assert [w for w, _, _ in ports.workflows.started] == ["delete_server"]


def test_a_succeeded_execution_whose_closing_write_was_lost_is_closed_succeeded_not_undone() -> None:
    ports, life = world(make(SRV, "nd_a", srv.OFFLINE))
    life.operations.add(operation("op_done", "update_server_build", "running", OLD, lock=True))
    life.locks.acquire(SRV, "op_done", "update_server_build", now=OLD, now_epoch=0, seconds=10**10)
    ports.workflows.statuses[("update_server_build", "op_done")] = "SUCCEEDED"

    report = sweeper.sweep(ports)

    assert report.closed == ["op_done"]
    done = life.operations.find("op_done")
    assert done.status == "succeeded" and done.error is None
    assert life.locks.holder(SRV) is None and life.servers.get(SRV).status == srv.OFFLINE


def _build_change(ports: sweeper.SweepPorts, life: Any, agent: FakeNodeAgent) -> tuple[Any, Any]:
    """A build change of SRV from 256 to 1024 MiB that saved the new build, then its workflow died.
    Returns the lifecycle ports (with a quota guard and ``agent`` as the node) and the previous limits."""
    from mamba.domain import server_lifecycle as rules
    from tests.fakes import FakePlacementStore

    before = life.servers.get(SRV)
    small, big = replace(before.limits, memory_mb=256), replace(before.limits, memory_mb=1024)
    life.servers.save(replace(before, limits=big))
    life = replace(life, placement=FakePlacementStore(servers=life.servers), agent_for=lambda n: agent)
    ports.lifecycle = life
    life.placement.builds[SRV] = big  # the quota guard holds the new limits
    payload = {"lock": True, "limits": rules.limits_to_dict(big), "previous_limits": rules.limits_to_dict(small)}
    life.operations.add(operation("op_grow", "update_server_build", "running", OLD, **payload))
    life.locks.acquire(SRV, "op_grow", "update_server_build", now=OLD, now_epoch=0, seconds=10**10)
    return life, small


def test_a_build_change_whose_workflow_died_gets_its_previous_build_back_and_frees_its_quota() -> None:
    # Given a build change that saved the bigger build, then its execution failed unclosed
    agent = FakeNodeAgent()
    agent.servers[SRV] = {"state": "offline", "suspended": False, "files": {}, "logs": []}
    ports, life = world(make(SRV, "nd_a", srv.OFFLINE))
    life, small = _build_change(ports, life, agent)
    ports.workflows.statuses[("update_server_build", "op_grow")] = "FAILED"

    # When the sweeper runs
    report = sweeper.sweep(ports)

    # Then the record holds the previous build again, the node was told, the guard forgot the
    # new limits, the lock is free and the operation says what happened
    assert report.closed == ["op_grow"]
    assert life.servers.get(SRV).limits == small
    assert ("sync", SRV) in agent.calls
    assert SRV not in life.placement.builds and life.placement.released_builds == [SRV]
    assert life.locks.holder(SRV) is None
    closed = life.operations.find("op_grow")
    assert closed.status == "failed" and closed.error["code"] == "WORKFLOW_INTERRUPTED"
    assert "undone" in closed.error["message"]


def test_a_build_change_whose_workflow_died_is_undone_even_when_its_node_is_down() -> None:
    # Given the same, with the server's node unreachable now
    ports, life = world(make(SRV, "nd_a", srv.OFFLINE))
    life, small = _build_change(ports, life, FakeNodeAgent(down=True))
    ports.workflows.statuses[("update_server_build", "op_grow")] = "TIMED_OUT"

    report = sweeper.sweep(ports)

    # Then the record and the quota are put back (the node reads the record on its next sync)
    assert report.closed == ["op_grow"] and report.errors == 0
    assert life.servers.get(SRV).limits == small and SRV not in life.placement.builds
    assert life.locks.holder(SRV) is None


def _tenant_world(by: str, previous_status: str = "active") -> tuple[sweeper.SweepPorts, Any, Any]:
    from mamba.domain.tenancy import Tenant
    from tests.fakes import FakeAdminRepository

    ports, life = world(make(SRV, "nd_a", srv.SUSPENDED))
    admin = FakeAdminRepository()
    admin.tenancy.tenants["tn_a"] = Tenant(id="tn_a", name="A", created_at=OLD, status="suspended")
    ports.tenants = admin
    op = ops.new_operation("op_susp", "tn_a", "admin.suspend_tenant", ["servers", "finish"], OLD, target="tn_a",
                           workflow="suspend_tenant", input={"by": by, "previous_status": previous_status})  # fmt: skip
    life.operations.add(replace(op, status="running", updated_at=OLD))
    ports.workflows.statuses[("suspend_tenant", "op_susp")] = "FAILED"
    return ports, life, admin


def test_an_admin_suspension_whose_workflow_died_is_undone() -> None:
    # Given an admin's tenant suspension whose workflow died with one server suspended
    ports, life, admin = _tenant_world("tenant_admin")

    # When the sweeper runs
    report = sweeper.sweep(ports)

    # Then the tenant is active again, reactivate_tenant brings back what the dead run suspended,
    # and the failed operation says so
    assert report.closed == ["op_susp"]
    assert admin.get_tenant("tn_a").status == "active"
    ((workflow, _name, payload),) = ports.workflows.started
    assert (workflow, payload["by"]) == ("reactivate_tenant", "tenant_admin")
    closed = life.operations.find("op_susp")
    assert closed.status == "failed" and "suspension was undone" in closed.error["message"]


def test_an_admin_suspension_of_a_tenant_suspended_before_stays_when_its_workflow_died() -> None:
    ports, life, admin = _tenant_world("tenant_admin", previous_status="suspended")

    sweeper.sweep(ports)

    assert admin.get_tenant("tn_a").status == "suspended" and ports.workflows.started == []
    assert life.operations.find("op_susp").status == "failed"


def test_a_billing_suspension_whose_workflow_died_is_started_again() -> None:
    # Given billing's suspension (the customer has not paid) whose workflow died half way
    ports, life, admin = _tenant_world("billing")

    sweeper.sweep(ports)

    # Then billing's decision stands: the suspension runs again as a new operation
    ((workflow, name, payload),) = ports.workflows.started
    assert (workflow, payload["by"]) == ("suspend_tenant", "billing") and name != "op_susp"
    assert admin.get_tenant("tn_a").status == "suspended"
    assert f"started again as operation {name}" in life.operations.find("op_susp").error["message"]
