"""Step Functions: start a workflow under a name derived from the operation id."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from mamba.domain.errors import DependencyUnavailableError


def execution_name(operation_id: str) -> str:
    """Names are unique per state machine for 90 days, so a second start of the same
    operation is refused by AWS instead of running the workflow twice."""
    return operation_id[:80]


class SfnWorkflows:
    def __init__(self, client: Any, arn_for: Callable[[str], str]) -> None:
        self._client = client
        self._arn_for = arn_for

    def start(self, workflow: str, operation_id: str, payload: dict[str, Any]) -> str:
        arn = self._arn_for(workflow)
        try:
            response = self._client.start_execution(
                stateMachineArn=arn, name=execution_name(operation_id), input=json.dumps(payload)
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ExecutionAlreadyExists":
                return f"{arn.replace(':stateMachine:', ':execution:')}:{execution_name(operation_id)}"
            raise DependencyUnavailableError(
                "The workflow could not be started; try again shortly.", {"workflow": workflow}
            ) from exc
        return str(response["executionArn"])

    def describe(self, execution_arn: str) -> dict[str, Any]:
        return dict(self._client.describe_execution(executionArn=execution_arn))
