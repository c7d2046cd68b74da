"""suspend_tenant and reactivate_tenant on moto's ASL interpreter with the real billing task.

The per-server action is the servers-lifecycle task ``task_servers`` (its own suspend and
unsuspend are tested in test_server_lifecycle_workflows.py against the Wings simulator).
Here its Lambda's handler is swapped for a stand-in with the same interface
(``{"action", "server_uuid", "operation_id"}``) that records the calls and fails for chosen
servers, to check the Map's fan-out and per-item Catch.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import boto3
import pytest

from mamba import bootstrap
from mamba.domain.errors import ConflictError
from mamba.domain.servers import Limits, Server
from mamba.services import billing, billing_sync
from tests.statemachines.conftest import Deployed

pytestmark = pytest.mark.slow

CALLS: list[tuple[str, str]] = []
HOLDERS: list[str | None] = []  # the ``by`` each per-server call received
FAIL_FOR: set[str] = set()
_lock = threading.Lock()


def servers_stand_in(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The interface of functions.tasks.servers for suspend/unsuspend (tests only)."""
    with _lock:
        CALLS.append((event["action"], event["server_uuid"]))
        HOLDERS.append(event.get("by"))
    if event["server_uuid"] in FAIL_FOR:
        raise ConflictError("The node refused.")
    return {"server_uuid": event["server_uuid"], "status": "suspended"}


@pytest.fixture
def billing_workflows(deployed_workflows: Deployed) -> Deployed:
    CALLS.clear()
    HOLDERS.clear()
    FAIL_FOR.clear()
    boto3.client("lambda", region_name="us-east-1").update_function_configuration(
        FunctionName="task_servers", Handler="tests.statemachines.test_billing_workflows:servers_stand_in"
    )
    return deployed_workflows


def add_servers(tenant_id: str, count: int) -> list[str]:
    repo = bootstrap.server_repository()
    uuids = []
    for n in range(count):
        server = Server(
            uuid=str(uuid.uuid4()),
            name=f"srv-{n}",
            tenant_id=tenant_id,
            node_id="nd_1",
            blueprint_id="bp_line_server",
            allocation=("0.0.0.0", 25565 + n),
            docker_image="ghcr.io/parkervcp/yolks:python_3.12",
            startup="python3 line_server.py",
            limits=Limits(memory_mb=512, disk_mb=1024),
            status="running",
            created_at="2026-12-01T10:00:00Z",
            updated_at="2026-12-01T10:00:00Z",
        )
        repo.add(server)
        uuids.append(server.uuid)
    return uuids


def run(deployed: Deployed, workflow: str, tenant_id: str) -> tuple[dict[str, Any], Any]:
    ports = billing.BillingPorts(
        repo=bootstrap.billing_repository(),
        stripe=lambda: None,
        public_url="http://127.0.0.1:8000",
        free_quotas=bootstrap.free_quotas(),
        workflows=bootstrap.workflows(),
        operations=bootstrap.operation_repository(),
    )
    billing_sync._start(ports, tenant_id, workflow, f"billing.{workflow}")
    executions = deployed.sfn.list_executions(stateMachineArn=deployed.state_machine_arn(workflow))["executions"]
    described = deployed.wait(executions[0]["executionArn"])
    op_id = executions[0]["name"]
    return described, bootstrap.operation_repository().find(op_id)


def test_suspend_tenant_suspends_every_server_and_one_failure_does_not_block_the_others(billing_workflows):
    # Given a tenant with three servers, one on a node that refuses
    uuids = add_servers("tn_a", 3)
    add_servers("tn_b", 1)  # another tenant's server is not touched
    FAIL_FOR.add(uuids[1])

    described, op = run(billing_workflows, "suspend_tenant", "tn_a")

    # Then every server of the tenant was asked, the failure did not stop the others
    assert described["status"] == "SUCCEEDED", described
    assert sorted(CALLS) == sorted(("suspend", u) for u in uuids)
    # and the operation says one server was not handled
    assert op.status == "failed" and op.error["code"] == "SERVERS_FAILED"
    assert "1 of 3" in op.error["message"]


def test_reactivate_tenant_unsuspends_every_server(billing_workflows):
    uuids = add_servers("tn_a", 2)

    described, op = run(billing_workflows, "reactivate_tenant", "tn_a")

    assert described["status"] == "SUCCEEDED"
    assert sorted(CALLS) == sorted(("unsuspend", u) for u in uuids)
    assert op.status == "succeeded"


def test_a_tenant_without_servers_is_done_at_once(billing_workflows):
    described, op = run(billing_workflows, "suspend_tenant", "tn_empty")

    assert described["status"] == "SUCCEEDED"
    assert CALLS == [] and op.status == "succeeded"


def test_an_admins_suspension_runs_the_same_workflow_with_its_own_holder(billing_workflows):
    # Given a tenant with two servers
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.domain.accounts import User
    from mamba.domain.tenancy import Membership, Tenant
    from mamba.services import admin

    at = "2026-12-01T10:00:00Z"
    DynamoUserRepository().add(User(id="usr_o", email="o@example.org", created_at=at, email_verified=True))
    DynamoTenantRepository().add_with_owner(
        Tenant(id="tn_a", name="A", created_at=at),
        Membership(tenant_id="tn_a", user_id="usr_o", role="owner", created_at=at),
    )
    uuids = add_servers("tn_a", 2)

    # When a platform admin suspends the tenant (mamba.services.admin)

    ports = admin.TenantSuspension(operations=bootstrap.operation_repository(), workflows=bootstrap.workflows())
    admin.suspend_tenant(bootstrap.admin_repository(), ports, "tn_a")
    executions = billing_workflows.sfn.list_executions(
        stateMachineArn=billing_workflows.state_machine_arn("suspend_tenant")
    )["executions"]
    described = billing_workflows.wait(executions[0]["executionArn"])

    # Then the console denial step ran and every server was suspended as the admin's
    assert described["status"] == "SUCCEEDED", described
    history = billing_workflows.sfn.get_execution_history(executionArn=executions[0]["executionArn"])["events"]
    exited = {
        e["stateExitedEventDetails"]["name"]: e["stateExitedEventDetails"]
        for e in history
        if "stateExitedEventDetails" in e
    }
    assert json.loads(exited["DenyConsoles"]["output"])["denied"] == {"servers": 0, "failed": 2}  # nd_1 is not a node
    assert sorted(CALLS) == sorted(("suspend", u) for u in uuids)
    assert HOLDERS == ["tenant_admin", "tenant_admin"]
