"""Step Functions on moto, executing the real ASL with the real task handlers in-process.

``deployed_workflows`` builds on the ``aws`` fixture (tables and bucket): one moto Lambda
per ``TASKS`` entry (dispatched in-process by ``local.lambda_dispatch``) and every state
machine rendered with ``placeholders_local``, named so that
``Settings.state_machine_arn(workflow)`` is its ARN. They are deployed once per process
(tests/moto_world.py) and start every test without executions. Retry backoff does not
really sleep: the intervals the retrier asked for are recorded in ``Deployed.sleeps``.
"""

from __future__ import annotations

import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from local import lambda_dispatch
from mamba.config import get_settings
from tests.moto_world import world


@dataclass
class Deployed:
    sfn: Any
    sleeps: list[float] = field(default_factory=list)

    def state_machine_arn(self, workflow: str) -> str:
        return get_settings().state_machine_arn(workflow)

    def execution_arn(self, workflow: str, name: str) -> str:
        return f"{self.state_machine_arn(workflow).replace(':stateMachine:', ':execution:')}:{name}"

    def wait(self, execution_arn: str, timeout_s: float = 30) -> dict[str, Any]:
        """Poll until the execution leaves RUNNING; return describe_execution."""
        deadline = time.monotonic() + timeout_s
        while True:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise AssertionError(f"{execution_arn} still RUNNING after {timeout_s} s")
            time.sleep(0.05)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)[
            "events"
        ]
        return events


@pytest.fixture
def deployed_workflows(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    lambda_dispatch.install()  # once per process (the patch of moto's Lambda invoke stays)
    deployed = Deployed(sfn=world().client("stepfunctions"))
    monkeypatch.setattr(retrier_decl, "time", types.SimpleNamespace(sleep=deployed.sleeps.append))
    yield deployed
