"""Fault: the only node's Wings is stopped, and a server is created (issue 18, item 5).

Before, the create answered 202, the workflow failed about 22 s later and the server stayed
``failed`` holding its port. Now the node-health schedule finds the node ``offline`` and
placement skips it: the create answers 503 NODE_UNAVAILABLE at once, writing nothing. On moto
with the Wings simulator (tests/statemachines/provision_support.py), stopped for real.
"""

from __future__ import annotations

import time

import pytest

from functions.schedules import node_health
from mamba import bootstrap
from mamba.domain.errors import WingsUnavailableError
from tests.contract.wings.harness import stop
from tests.statemachines import test_provision_server as provisioning_world
from tests.statemachines.provision_support import allocation_holders
from tests.statemachines.test_provision_server import TENANT, World

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("provision-sim")]

world = provisioning_world.world  # the fixture: a simulated node behind a fault proxy, the real panel over HTTP


def test_node_down_create_answers_node_unavailable_at_once_writing_nothing(world: World) -> None:
    # Given the only node's Wings is stopped, and the node-health schedule has run since
    stop(world.node.process)
    world.node.proxy.stop()
    probed = node_health.handler({}, None)["nodes"]
    assert bootstrap.node_health_store().get(world.node.node.id).status == "offline", probed
    guard_before = bootstrap.placement_store().guard_version(TENANT.tenant_id)

    # When a server is created
    started = time.monotonic()
    with pytest.raises(WingsUnavailableError) as refused:
        world.create()
    elapsed = time.monotonic() - started

    # Then it is refused at once (503 NODE_UNAVAILABLE), nothing was written and nothing started
    assert refused.value.status == 503 and refused.value.code == "NODE_UNAVAILABLE"
    assert elapsed < 2.0
    assert bootstrap.server_repository().of_tenant(TENANT.tenant_id) == []
    assert set(allocation_holders(world.node.node.id).values()) == {None}
    assert bootstrap.placement_store().guard_version(TENANT.tenant_id) == guard_before
    executions = world.deployed.sfn.list_executions(
        stateMachineArn=world.deployed.state_machine_arn("provision_server")
    )["executions"]
    assert executions == []
