"""A real failing workflow on moto's ASL interpreter, seen and retried through the admin API:
check_platform fails while a service stays down; the admin reads the failed state and cause,
the service comes back, and one retry (not two) runs the recorded input again to success."""

from __future__ import annotations

from typing import Any

import pytest

from mamba import bootstrap
from mamba.auth.context import TenantContext
from mamba.services.operations import start_operation
from tests.api.admin_support import callers
from tests.statemachines.conftest import Deployed
from tests.statemachines.test_canary import FlakyProbes

pytestmark = pytest.mark.slow


def test_a_failed_platform_check_shows_its_failed_state_and_one_retry_runs_it_again(
    client: Any, deployed_workflows: Deployed
) -> None:
    headers = callers()
    # Given a service that does not answer for the first run's three probe calls (1 + 2 retries)
    probes = FlakyProbes(bootstrap.health_probes(), failures=3)
    with bootstrap.override(health_probes=probes):
        platform = TenantContext(tenant_id="platform", role="platform", permissions=frozenset())
        op = start_operation(
            bootstrap.operation_repository(),
            bootstrap.workflows(),
            platform,
            op_type="check_platform",
            workflow="check_platform",
            steps=["probe_services"],
            payload={"checks": ["dynamodb"]},
            target="platform",
        )
        first = deployed_workflows.wait(deployed_workflows.execution_arn("check_platform", op.id))
        assert first["status"] == "FAILED", first

        # When the admin reads it, then retries it twice once the service is back
        detail = client.http.get(f"/v1/admin/operations/{op.id}", headers=headers["admin"])
        retried = client.http.post(f"/v1/admin/operations/{op.id}/retry", headers=headers["admin"])
        again = client.http.post(f"/v1/admin/operations/{op.id}/retry", headers=headers["admin"])
        second = deployed_workflows.wait(deployed_workflows.execution_arn("check_platform", f"{op.id}-a2"))

    # Then the detail named the failed state and cause, and exactly one new execution succeeded
    assert detail.status_code == 200, detail.json_body
    failure = detail.json_body["failure"]
    assert failure == {
        "state": "Probe",  # the Map's task that failed, not the Fail state the workflow ended in
        "error": "TransientError",
        "cause": "dynamodb did not answer: EndpointConnectionError",  # the message, without the stack trace
    }
    assert detail.json_body["retryable"] is True
    assert retried.status_code == 202, retried.json_body
    assert again.status_code == 409
    assert second["status"] == "SUCCEEDED", second
    executions = deployed_workflows.sfn.list_executions(
        stateMachineArn=deployed_workflows.state_machine_arn("check_platform")
    )["executions"]
    assert sorted(e["name"] for e in executions if e["name"].startswith(op.id)) == [op.id, f"{op.id}-a2"]
    stored = bootstrap.operation_repository().find(op.id)
    assert (stored.status, stored.attempt, stored.error) == ("succeeded", 2, None)
    assert [(s.name, s.status) for s in stored.steps] == [("probe_services", "succeeded")]
