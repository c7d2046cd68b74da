"""Step Functions on moto, executing the real ASL with the real task handlers in-process.

``deployed_workflows`` builds on the ``aws`` fixture (tables and bucket): it creates one
moto Lambda per ``TASKS`` entry (dispatched in-process by ``local.lambda_dispatch``) and
every state machine rendered with ``placeholders_local``, named so that
``Settings.state_machine_arn(workflow)`` is its ARN. Retry backoff does not really sleep:
the intervals the retrier asked for are recorded in ``Deployed.sleeps``.
"""

from __future__ import annotations

import io
import json
import time
import types
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from functions.tasks import TASKS
from infra import workflows
from local import lambda_dispatch
from mamba.config import get_settings

ACCOUNT_ID = "123456789012"  # moto's default account, which role and function ARNs must name
_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}


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


def _code_zip() -> bytes:
    """moto wants code bytes; the handlers run in-process from this checkout."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "tests: handlers run in-process\n")
    return buffer.getvalue()


def deploy_workflows(region: str) -> Any:
    """Create the task Lambdas and every state machine on the (mocked) account; return the SFN client."""
    settings = get_settings()
    role = boto3.client("iam", region_name=region).create_role(
        RoleName="mamba-test-workflows", AssumeRolePolicyDocument=json.dumps(_TRUST)
    )["Role"]["Arn"]
    lambda_client = boto3.client("lambda", region_name=region)
    code = _code_zip()
    for function_name, target in TASKS.items():
        lambda_client.create_function(
            FunctionName=function_name, Runtime="python3.12", Role=role, Handler=target, Code={"ZipFile": code}
        )
    sfn = boto3.client("stepfunctions", region_name=region)
    values = workflows.placeholders_local(region, ACCOUNT_ID, settings.table_main, settings.backup_bucket)
    for workflow in workflows.workflow_names():
        name = settings.state_machine_arn(workflow).rsplit(":", 1)[-1]
        definition = workflows.render(workflows.load(workflow), values)
        sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)
    return sfn


@pytest.fixture
def deployed_workflows(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    lambda_dispatch.install()
    deployed = Deployed(sfn=deploy_workflows(get_settings().region))
    monkeypatch.setattr(retrier_decl, "time", types.SimpleNamespace(sleep=deployed.sleeps.append))
    yield deployed
