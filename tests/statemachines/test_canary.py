"""The canary: check_platform runs through moto's ASL interpreter with the real task
handlers, exercising Retry, Catch and Map.

``local.lambda_dispatch`` and the retrier patch touch private moto internals; these tests
are what tells us a moto upgrade broke them.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from mamba.auth.context import TenantContext
from mamba.domain.errors import TransientError
from mamba.domain.operations import Operation
from mamba.services.operations import start_operation
from tests.statemachines.conftest import Deployed

pytestmark = pytest.mark.slow

PLATFORM = TenantContext(tenant_id="platform", role="platform", permissions=frozenset())
ALL_CHECKS = ["dynamodb", "s3", "stepfunctions"]


class FlakyProbes:
    """The real probes, except that the first ``failures`` calls raise TransientError."""

    def __init__(self, real: Any, failures: int) -> None:
        self._real = real
        self._failures = failures
        self._lock = threading.Lock()  # Map runs the probes concurrently
        self.calls = 0

    def check(self) -> dict[str, str]:
        with self._lock:
            self.calls += 1
            failing = self.calls <= self._failures
        if failing:
            raise TransientError("dynamodb did not answer: EndpointConnectionError")
        result: dict[str, str] = self._real.check()
        return result


@pytest.fixture
def flaky() -> Iterator[Any]:
    """Installs flaky probes around the real ones (bootstrap.override) until the test ends."""
    with contextlib.ExitStack() as overrides:

        def install(failures: int) -> FlakyProbes:
            probes = FlakyProbes(bootstrap.health_probes(), failures)
            overrides.enter_context(bootstrap.override(health_probes=probes))
            return probes

        yield install


def start_check(deployed: Deployed, checks: list[str]) -> tuple[Operation, dict[str, Any]]:
    """Start check_platform the way `mamba check-platform` does (execution named after the
    operation id) and wait for it to finish."""
    repo = bootstrap.operation_repository()
    op = start_operation(
        repo,
        bootstrap.workflows(),
        PLATFORM,
        op_type="check_platform",
        workflow="check_platform",
        steps=["probe_services"],
        payload={"checks": checks},
        target="platform",
    )
    described = deployed.wait(deployed.execution_arn("check_platform", op.id))
    return repo.get("platform", op.id), described


def test_check_platform_retries_a_transient_failure_then_succeeds(deployed_workflows: Deployed, flaky: Any) -> None:
    # Given the first probe call fails transiently
    probes = flaky(failures=1)

    # When the platform check runs its Map over every service
    op, execution = start_check(deployed_workflows, ALL_CHECKS)

    # Then the failed probe was retried once after IntervalSeconds, and everything succeeded
    assert execution["status"] == "SUCCEEDED", execution
    assert execution["name"] == op.id
    assert probes.calls == len(ALL_CHECKS) + 1
    assert deployed_workflows.sleeps == [1]
    results = json.loads(execution["output"])["results"]
    assert sorted(r["check"] for r in results) == ALL_CHECKS
    assert {r["status"] for r in results} == {"ok"}
    assert op.status == "succeeded"
    assert [(s.name, s.status) for s in op.steps] == [("probe_services", "succeeded")]
    assert op.error is None


def test_check_platform_marks_the_operation_failed_when_a_check_fails_for_good(deployed_workflows: Deployed) -> None:
    # Given a check no probe knows (a ValidationError, which the ASL does not retry)
    # When the platform check runs
    op, execution = start_check(deployed_workflows, ["dynamodb", "bogus"])

    # Then the Map's failure was caught, the operation failed with a readable reason and nothing was retried
    assert execution["status"] == "FAILED", execution
    assert execution.get("error") == "CheckFailed"
    assert op.status == "failed"
    assert op.error is not None
    assert op.error["code"] == "VALIDATION_ERROR"
    assert "unknown check 'bogus'" in op.error["message"]
    assert deployed_workflows.sleeps == []


def test_check_platform_gives_up_after_its_retries_when_a_service_stays_down(
    deployed_workflows: Deployed, flaky: Any
) -> None:
    # Given every probe call fails transiently
    flaky(failures=10_000)

    # When the platform check runs one check
    op, execution = start_check(deployed_workflows, ["dynamodb"])

    # Then it backed off (1 s, then 2 s), gave up, and the Catch marked the operation failed
    assert execution["status"] == "FAILED", execution
    assert deployed_workflows.sleeps == [1, 2]
    assert op.status == "failed"
    assert op.error is not None
    assert op.error["code"] == "TRANSIENT"
    assert "did not answer" in op.error["message"]
