"""provision_server on moto with the real task handlers, against the Wings simulator over real
HTTP (through a proxy that injects node faults). Every fault ends in the documented state with
nothing orphaned: allocations free, no server on the node, the operation failed with a reason."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from mamba import bootstrap
from mamba.auth.context import TenantContext
from mamba.domain.operations import Operation
from mamba.domain.servers import CreateServer, ProvisionTiming, Server
from mamba.services import servers as service
from tests.api.tenancy_helpers import add_user
from tests.server_world import add_blueprint, set_plan_quotas
from tests.statemachines.conftest import Deployed
from tests.statemachines.provision_support import SimNode, allocation_holders, panel_over_http, simulated_node
from tests.statemachines.test_server_lifecycle_workflows import clear_breaker

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("provision-sim")]

TENANT = TenantContext(tenant_id="tn_prov", role="owner", permissions=frozenset({"servers.create"}))


@dataclass
class World:
    deployed: Deployed
    node: SimNode

    def create(self, start: bool = False, blueprint_id: str = "bp_line", **timing: Any) -> tuple[Server, Operation]:
        from functions.api.servers import ports

        p = ports()
        p.timing = ProvisionTiming(
            install_timeout_seconds=timing.get("install_timeout", 60), start_timeout_seconds=30, poll_seconds=0,
            watch_seconds=1.0,
        )  # fmt: skip
        cmd = CreateServer(
            name="game", blueprint_id=blueprint_id, memory_mb=256, disk_mb=512, start_on_completion=start
        )
        return service.create_server(p, TENANT, cmd)

    def create_pinned(self) -> tuple[Server, Operation]:
        """As Pterodactyl's application API creates: a named port (30001) with an extra one (30003)."""
        from functions.api.servers import ports

        p = ports()
        p.timing = ProvisionTiming(install_timeout_seconds=60, start_timeout_seconds=30, poll_seconds=0,
                                   watch_seconds=1.0)  # fmt: skip
        cmd = CreateServer(
            name="pinned", blueprint_id="bp_line", memory_mb=256, disk_mb=512, node_id=self.node.node.id,
            allocation=("127.0.0.1", 30001), additional_allocations=(("127.0.0.1", 30003),),
        )  # fmt: skip
        return service.create_server(p, TENANT, cmd)

    def finish(self, op: Operation) -> tuple[Operation, dict[str, Any]]:
        described = self.deployed.wait(self.deployed.execution_arn("provision_server", op.id), timeout_s=60)
        return bootstrap.operation_repository().get(TENANT.tenant_id, op.id), described


def line_blueprint(blueprint_id: str, install_script: str | None = None) -> None:
    from local.blueprints.seed import line_server

    seeded = line_server("2026-11-25T10:00:00Z")
    add_blueprint(
        blueprint_id,
        name=seeded.name,
        startup=seeded.startup,
        docker_images=seeded.docker_images,
        stop_value=seeded.stop_value,
        startup_done=seeded.startup_done,
        install_container=seeded.install_container,
        install_entrypoint=seeded.install_entrypoint,
        install_script=install_script or seeded.install_script,
        variables=seeded.variables,
    )


@pytest.fixture
def world(deployed_workflows: Deployed, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.tenancy import Membership, Tenant

    bootstrap.dynamo_tables()
    add_user("usr_owner")
    DynamoTenantRepository().add_with_owner(
        Tenant(id=TENANT.tenant_id, name="Provisioning", created_at="2026-11-25T10:00:00Z"),
        Membership(tenant_id=TENANT.tenant_id, user_id="usr_owner", role="owner", created_at="2026-11-25T10:00:00Z"),
    )
    set_plan_quotas(TENANT.tenant_id, {"servers": 10, "memory_mb": -1, "disk_mb": -1})
    line_blueprint("bp_line")
    line_blueprint("bp_broken", install_script="#!/bin/sh\necho 'downloading...'\nexit 3\n")
    line_blueprint("bp_slow", install_script="#!/bin/sh\nsleep 30\n")
    allowed = ("bp_line", "bp_broken", "bp_slow")  # the simulator runs their install scripts
    with panel_over_http() as panel_url, simulated_node(tmp_path, panel_url, allow_install=allowed) as node:
        yield World(deployed_workflows, node)


def assert_nothing_orphaned(world: World, server: Server) -> None:
    stored = bootstrap.server_repository().get(server.uuid)
    assert stored.status == "failed" and stored.status_reason
    assert set(allocation_holders(world.node.node.id).values()) == {None}
    assert server.uuid not in world.node.server_uuids()


def test_provision_installs_and_starts_the_server_when_the_node_is_healthy(world):
    # Given a healthy node
    # When a server is created with start_on_completion
    server, op = world.create(start=True)
    finished, described = world.finish(op)

    # Then the operation succeeded step by step and the server runs on the node
    assert described["status"] == "SUCCEEDED", world.deployed.history(described["executionArn"])[-3:]
    assert finished.status == "succeeded" and finished.error is None
    assert [(s.name, s.status) for s in finished.steps] == [
        ("reserve", "succeeded"),
        ("persist", "succeeded"),
        ("create_on_wings", "succeeded"),
        ("install", "succeeded"),
        ("start", "succeeded"),
    ]
    stored = bootstrap.server_repository().get(server.uuid)
    assert stored.status == "running" and stored.installed_at
    assert world.node.http("GET", f"/api/servers/{server.uuid}").json()["state"] == "running"
    assert allocation_holders(world.node.node.id)[server.allocation[1]] == server.uuid


def test_provision_without_start_leaves_the_server_offline_and_skips_the_start(world):
    server, op = world.create(start=False)
    finished, _ = world.finish(op)

    assert finished.status == "succeeded"
    assert finished.steps[-1].status == "skipped"
    assert bootstrap.server_repository().get(server.uuid).status == "offline"
    assert world.node.http("GET", f"/api/servers/{server.uuid}").json()["state"] == "offline"


def test_create_500_is_retried_then_compensated_when_the_node_keeps_failing(world):
    # Given a node whose create route answers 500 on every attempt
    world.node.proxy.fail("POST", "/api/servers", status=500, times=10)

    # When a server is provisioned
    server, op = world.create()
    finished, described = world.finish(op)

    # Then the retries ran out, the operation failed with NODE_UNAVAILABLE, nothing is left
    assert described["status"] == "FAILED"
    assert [s for s in world.node.proxy.seen if s[:2] == ("POST", "/api/servers")] == [
        ("POST", "/api/servers", 500)
    ] * 3
    assert finished.status == "failed" and finished.error is not None
    assert finished.error["code"] == "NODE_UNAVAILABLE"
    assert {s.name: s.status for s in finished.steps}["create_on_wings"] == "failed"
    assert_nothing_orphaned(world, server)


def test_a_pinned_create_with_an_extra_port_is_provisioned_holding_both(world):
    server, op = world.create_pinned()
    finished, _ = world.finish(op)

    assert finished.status == "succeeded", finished.error
    holders = allocation_holders(world.node.node.id)
    assert (holders[30001], holders[30003]) == (server.uuid, server.uuid) and holders[30000] is None
    stored = bootstrap.server_repository().get(server.uuid)
    assert stored.allocation == ("127.0.0.1", 30001) and stored.additional_allocations == (("127.0.0.1", 30003),)
    assert world.node.server_uuids().count(server.uuid) == 1


def test_a_pinned_create_the_node_keeps_refusing_frees_both_ports(world):
    world.node.proxy.fail("POST", "/api/servers", status=500, times=10)

    server, op = world.create_pinned()
    finished, _ = world.finish(op)

    assert finished.status == "failed"
    assert_nothing_orphaned(world, server)  # every allocation of the node is free again


def test_create_500_once_is_retried_and_the_server_is_provisioned(world):
    world.node.proxy.fail("POST", "/api/servers", status=500, times=1)

    server, op = world.create()
    finished, _ = world.finish(op)

    assert finished.status == "succeeded"
    assert world.node.server_uuids().count(server.uuid) == 1


def test_create_timeout_whose_answer_was_lost_is_not_created_twice(world):
    # Given a node that creates the server but whose answer arrives after the client gave up
    with slow_client():
        world.node.proxy.fail("POST", "/api/servers", delay=2.5, times=1)

        # When the server is provisioned
        server, op = world.create()
        finished, _ = world.finish(op)

        # Then the retry found the server on the node instead of creating it again
        assert finished.status == "succeeded"
        assert [s[:2] for s in world.node.proxy.seen].count(("POST", "/api/servers")) == 1
        assert world.node.server_uuids().count(server.uuid) == 1


def test_create_timeout_then_a_failing_node_is_compensated_by_deleting_on_the_node(world):
    # Given a create that times out (the node did create it) and a node that then answers 500
    with slow_client():
        world.node.proxy.fail("POST", "/api/servers", delay=2.5, times=1)
        world.node.proxy.fail("GET", "/api/servers/*", status=500, times=3, skip=1)  # after the first attempt's look

        # When the server is provisioned
        server, op = world.create()
        finished, _ = world.finish(op)

        # Then the compensation deleted what the node had created and freed the port
        assert finished.status == "failed" and finished.error["code"] == "NODE_UNAVAILABLE"
        assert ("DELETE", f"/api/servers/{server.uuid}", 204) in world.node.proxy.seen
        assert_nothing_orphaned(world, server)


def test_install_failure_callback_is_compensated_with_a_readable_reason(world):
    # Given a blueprint whose install script fails
    # When a server of it is provisioned
    server, op = world.create(blueprint_id="bp_broken")
    finished, _ = world.finish(op)

    # Then Wings' failed install callback ends the workflow: server removed, port freed
    assert finished.status == "failed" and finished.error["code"] == "INSTALL_FAILED"
    assert "install script failed" in finished.error["message"]
    assert {s.name: s.status for s in finished.steps}["install"] == "failed"
    assert {s.name: s.status for s in finished.steps}["create_on_wings"] == "compensated"
    assert_nothing_orphaned(world, server)


def test_a_node_that_never_reports_the_install_fails_the_step_at_the_timeout_and_compensates(world):
    # Given a blueprint whose install outlasts the wait (the node never calls back in time)
    # When a server of it is provisioned with a two-second wait for the install callback
    server, op = world.create(blueprint_id="bp_slow", install_timeout=2)
    finished, described = world.finish(op)

    # Then the wait step failed at its timeout with a readable reason, and nothing is orphaned
    assert described["status"] == "FAILED"
    assert finished.status == "failed" and finished.error["code"] == "INSTALL_TIMEOUT"
    assert "did not report the install in time" in finished.error["message"]
    history = world.deployed.history(described["executionArn"])
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert entered[:5] == ["Verify", "CreateOnWings", "AwaitInstall", "InstallTimedOut", "Compensate"]
    assert entered.count("AwaitInstall") == 1  # one wait, no polling loop
    assert {s.name: s.status for s in finished.steps}["install"] == "failed"
    assert ("DELETE", f"/api/servers/{server.uuid}", 204) in world.node.proxy.seen
    assert_nothing_orphaned(world, server)


def test_node_down_during_compensation_keeps_the_port_and_says_so(world):
    # Given a failing install and a node that is gone by the time the compensation runs
    world.node.proxy.fail("DELETE", "/api/servers/*", status=503, times=20)

    # When a server of the broken blueprint is provisioned
    server, op = world.create(blueprint_id="bp_broken")
    finished, _ = world.finish(op)

    # Then the server is failed, its port stays reserved (the node may still hold it) and the
    # reason says so; the operation carries the install failure
    stored = bootstrap.server_repository().get(server.uuid)
    assert finished.status == "failed" and finished.error["code"] == "INSTALL_FAILED"
    assert stored.status == "failed" and "port stays reserved" in (stored.status_reason or "")
    assert allocation_holders(world.node.node.id)[server.allocation[1]] == server.uuid


@contextlib.contextmanager
def slow_client() -> Iterator[None]:
    """While the block runs, the panel's Wings client has a 1 s read timeout (the production
    default is 15 s; bootstrap.override)."""
    from mamba.adapters.wings.client import NodeEndpoint, Timeouts, WingsHttpNodeAgent

    def node_agent(node_id: str, url: str, token: str, *, verify_tls: bool = True) -> WingsHttpNodeAgent:
        endpoint = NodeEndpoint(node_id, url, token, verify_tls)
        return WingsHttpNodeAgent(endpoint, breaker=bootstrap.wings_breaker(), timeouts=Timeouts(read=1.0))

    with bootstrap.override(node_agent=node_agent):
        yield


def test_a_start_the_node_refuses_fails_the_operation_but_keeps_the_installed_server(world):
    # Given a node that installs but answers 500 to every power action
    world.node.proxy.fail("POST", "/api/servers/*", status=500, times=10)

    # When a server is provisioned with start_on_completion
    server, op = world.create(start=True)
    finished, _ = world.finish(op)

    # Then the install stands (server offline on the node, port held) and only the start failed
    steps = {s.name: s.status for s in finished.steps}
    assert finished.status == "failed" and finished.error["code"] == "NODE_UNAVAILABLE"
    assert (steps["install"], steps["start"]) == ("succeeded", "failed")
    assert bootstrap.server_repository().get(server.uuid).status == "offline"
    assert server.uuid in world.node.server_uuids()
    assert allocation_holders(world.node.node.id)[server.allocation[1]] == server.uuid


# --- an admin's retry of a failed provisioning (POST /v1/admin/operations/{id}/retry) ---


@pytest.fixture
def retry_as_admin(client: Any) -> Callable[[Operation], Any]:
    """POST the retry as a platform admin."""
    from tests.api.admin_support import callers

    headers = callers()["admin"]
    return lambda op: client.http.post(f"/v1/admin/operations/{op.id}/retry", headers=headers)


def test_a_provisioning_failed_while_the_node_was_down_is_retried_once_the_node_is_back(world, retry_as_admin):
    # Given a provisioning that failed and was compensated while the node answered 500
    world.node.proxy.fail("POST", "/api/servers", status=500, times=3)
    server, op = world.create(start=True)
    failed, _ = world.finish(op)
    assert failed.status == "failed" and bootstrap.server_repository().get(server.uuid).status == "failed"
    assert set(allocation_holders(world.node.node.id).values()) == {None}

    # When the node is back (the faults are used up) and the admin retries it, twice
    retried = retry_as_admin(op)
    again = retry_as_admin(op)
    described = world.deployed.wait(world.deployed.execution_arn("provision_server", f"{op.id}-a2"), timeout_s=60)

    # Then one retry ran: placement was reserved again and the server runs on the node
    assert retried.status_code == 202, retried.json_body
    assert again.status_code == 409
    assert described["status"] == "SUCCEEDED", world.deployed.history(described["executionArn"])[-3:]
    finished = bootstrap.operation_repository().find(op.id)
    assert (finished.status, finished.attempt, finished.error) == ("succeeded", 2, None)
    stored = bootstrap.server_repository().get(server.uuid)
    assert (stored.status, stored.status_reason) == ("running", None)
    assert allocation_holders(world.node.node.id)[stored.allocation[1]] == server.uuid
    assert world.node.http("GET", f"/api/servers/{server.uuid}").json()["state"] == "running"


def test_a_retry_replaces_what_the_node_kept_and_reuses_the_port_the_server_still_holds(world, retry_as_admin):
    # Given an install that failed on a node that was gone for the compensation (port kept,
    # the server left on the node)
    world.node.proxy.fail("DELETE", "/api/servers/*", status=503, times=20)
    server, op = world.create(blueprint_id="bp_broken")
    world.finish(op)
    assert server.uuid in world.node.server_uuids()

    # When the causes are fixed (the node answers, the install script works) and the admin retries
    world.node.proxy.faults.clear()
    clear_breaker(world.node.node.id)  # the breaker the failing deletes opened has cooled down
    fixed = bootstrap.blueprint_repository().get("bp_broken")
    bootstrap.blueprint_repository().save(
        replace(fixed, install_script=bootstrap.blueprint_repository().get("bp_line").install_script)
    )
    retried = retry_as_admin(op)
    described = world.deployed.wait(world.deployed.execution_arn("provision_server", f"{op.id}-a2"), timeout_s=60)

    # Then the leftover was deleted and created again on the same port, and installed
    assert retried.status_code == 202, retried.json_body
    assert described["status"] == "SUCCEEDED", world.deployed.history(described["executionArn"])[-3:]
    assert ("DELETE", f"/api/servers/{server.uuid}", 204) in world.node.proxy.seen
    stored = bootstrap.server_repository().get(server.uuid)
    assert (stored.status, stored.allocation) == ("offline", server.allocation)
    assert world.node.server_uuids().count(server.uuid) == 1


def test_a_retry_while_no_node_can_take_the_server_is_409_and_the_operation_stays_failed(world, retry_as_admin):
    # Given a failed provisioning whose node is now in maintenance
    world.node.proxy.fail("POST", "/api/servers", status=500, times=3)
    server, op = world.create()
    world.finish(op)
    node = bootstrap.node_repository().get(world.node.node.id)
    bootstrap.node_repository().update(replace(node, maintenance=True))

    # When the admin retries it
    refused = retry_as_admin(op)

    # Then the answer says why, nothing started, and the next attempt may be retried later
    assert refused.status_code == 409
    assert refused.json_body["error"]["code"] == "NO_CAPACITY"
    stored = bootstrap.operation_repository().find(op.id)
    assert (stored.status, stored.attempt, stored.error["code"]) == ("failed", 2, "NO_CAPACITY")
    assert bootstrap.server_repository().get(server.uuid).status == "failed"
    assert retry_as_admin(op).json_body["error"]["code"] == "NO_CAPACITY"  # still refused, attempt 3
