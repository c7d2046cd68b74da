"""Step Functions: start a workflow under a name derived from the operation id."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from mamba.domain.errors import DependencyUnavailableError
from mamba.observability import current_request_id

# How many history events ``failure`` reads at most (newest first): the failure is among the last ones.
HISTORY_EVENTS = 100


def execution_name(operation_id: str, attempt: int = 1) -> str:
    """Names are unique per state machine for 90 days, so a second start of the same
    operation (and attempt) is refused by AWS instead of running the workflow twice. A retry
    is attempt n+1 and so gets a name of its own."""
    suffix = "" if attempt <= 1 else f"-a{attempt}"
    return operation_id[: 80 - len(suffix)] + suffix


def with_correlation_id(payload: dict[str, Any], operation_id: str) -> dict[str, Any]:
    """``payload`` with a ``correlation_id`` when it has none: the current request's (or
    invocation's) id, else the operation's own. A payload that names one keeps it."""
    if payload.get("correlation_id"):
        return payload
    return {**payload, "correlation_id": current_request_id() or operation_id}


class SfnWorkflows:
    def __init__(self, client: Any, arn_for: Callable[[str], str]) -> None:
        self._client = client
        self._arn_for = arn_for

    def start(self, workflow: str, operation_id: str, payload: dict[str, Any], attempt: int = 1) -> str:
        arn = self._arn_for(workflow)
        name = execution_name(operation_id, attempt)
        # Every execution input has a correlation id, since infra/workflows.py hands
        # ``$$.Execution.Input.correlation_id`` to each task (a missing key fails the state).
        payload = with_correlation_id(payload, operation_id)
        try:
            response = self._client.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ExecutionAlreadyExists":
                return f"{arn.replace(':stateMachine:', ':execution:')}:{name}"
            raise DependencyUnavailableError(
                "The workflow could not be started; try again shortly.", {"workflow": workflow}
            ) from exc
        return str(response["executionArn"])

    def describe(self, execution_arn: str) -> dict[str, Any]:
        return dict(self._client.describe_execution(executionArn=execution_arn))

    def status(self, workflow: str, operation_id: str, attempt: int = 1) -> str | None:
        """DescribeExecution's status; None when no execution of that name exists."""
        arn = (
            self._arn_for(workflow).replace(":stateMachine:", ":execution:")
            + ":"
            + execution_name(operation_id, attempt)
        )
        try:
            described = self._client.describe_execution(executionArn=arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "") == "ExecutionDoesNotExist":
                return None
            raise DependencyUnavailableError(
                "The workflow's execution could not be read; try again shortly.", {"workflow": workflow}
            ) from exc
        return str(described.get("status") or "") or None

    def failure(self, workflow: str, operation_id: str, attempt: int = 1) -> dict[str, str] | None:
        """DescribeExecution, then (only when it failed) one page of its history newest first:
        the ExecutionFailed event's error and cause, and the state whose task failed."""
        arn = (
            self._arn_for(workflow).replace(":stateMachine:", ":execution:")
            + ":"
            + execution_name(operation_id, attempt)
        )
        try:
            described = self._client.describe_execution(executionArn=arn)
            if described.get("status") not in ("FAILED", "TIMED_OUT", "ABORTED"):
                return None
            history = self._client.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=HISTORY_EVENTS)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "") == "ExecutionDoesNotExist":
                return None
            raise DependencyUnavailableError(
                "The workflow's execution could not be read; try again shortly.", {"workflow": workflow}
            ) from exc
        return _failure_of(described, history.get("events", []))

    # --- resuming a task that waits with .waitForTaskToken (mamba.services.task_waits) ---

    def succeed_task(self, token: str, output: dict[str, Any]) -> bool:
        """SendTaskSuccess; False when the task no longer waits (it timed out or was resumed)."""
        return self._send("send_task_success", taskToken=token, output=json.dumps(output))

    def fail_task(self, token: str, error: str, cause: str) -> bool:
        """SendTaskFailure with the error name the ASL catches and a cause a user can read."""
        return self._send("send_task_failure", taskToken=token, error=error[:256], cause=cause[:32768])

    def _send(self, method: str, **params: Any) -> bool:
        try:
            getattr(self._client, method)(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "") in _TASK_GONE:
                return False
            raise DependencyUnavailableError("The waiting workflow could not be resumed; try again shortly.") from exc
        return True


# The token's task is over: it timed out, was resumed already, or its execution ended.
_TASK_GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


def _entered_state(by_id: dict[Any, dict[str, Any]], event: dict[str, Any]) -> str:
    """The state an event belongs to: walk back along previousEventId to its StateEntered."""
    previous = by_id.get(event.get("previousEventId"))
    while previous is not None and not str(previous.get("type", "")).endswith("StateEntered"):
        previous = by_id.get(previous.get("previousEventId"))
    return str((previous or {}).get("stateEnteredEventDetails", {}).get("name", ""))


def _failure_of(described: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, str]:
    """The failed state is the newest task that failed (the Fail state the workflow then
    enters says only that it failed); without one, the newest state entered."""
    by_id = {event.get("id"): event for event in events}
    # Newest first whatever order the page came in (reverseOrder asked for it; emulators ignore it).
    events = sorted(events, key=lambda event: int(event.get("id") or 0), reverse=True)
    state, error, cause = "", str(described.get("error") or ""), str(described.get("cause") or "")
    for event in events:  # newest first
        kind = str(event.get("type", ""))
        details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
        if kind in ("TaskFailed", "LambdaFunctionFailed", "TaskTimedOut", "LambdaFunctionTimedOut"):
            state = _entered_state(by_id, event) or state
            error, cause = str(details.get("error") or error), str(details.get("cause") or cause)
            break
        if kind in ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
            error, cause = error or str(details.get("error", "")), cause or str(details.get("cause", ""))
        elif kind.endswith("StateEntered") and not state:
            state = str(details.get("name", ""))
    return {"state": state, "error": error or str(described.get("status", "")), "cause": _readable(cause)}


def _readable(cause: str) -> str:
    """A Lambda task's cause is its error as JSON, stack trace included: keep only the message
    (the trace names the function's files and is in the task's log anyway)."""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        return str(parsed["errorMessage"])
    return cause
