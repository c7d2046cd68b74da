"""Run moto's Lambda invocations in-process with the real handlers.

moto 5.2.5 needs Docker to run a Lambda; there is none here. This replaces
``LambdaFunction._invoke_lambda`` with a call of the function's ``Handler``
(``module:attr`` or ``module.attr``) in this process. An exception becomes the payload
AWS returns, ``{"errorType": <class name>, "errorMessage": ...}`` with the function-error
flag, so the ASL's Retry and Catch match on our typed errors exactly as on AWS.

It patches a private moto method, so moto is pinned exactly and a canary test
(tests/statemachines) runs Retry, Catch and Map through it.
"""

from __future__ import annotations

import importlib
import json
import traceback
import uuid
from typing import Any

from mamba import observability

_PATCHED = False


class LocalContext:
    def __init__(self, function_name: str, timeout_s: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._timeout_ms = timeout_s * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


def resolve(handler: str) -> Any:
    module_name, sep, attr = handler.partition(":")
    if not sep:
        module_name, _, attr = handler.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def invoke(handler: str, event: Any, function_name: str = "local", timeout_s: int = 60) -> tuple[str, bool, str]:
    """Call ``handler`` with ``event``; return moto's ``(payload, errored, logs)`` triple."""
    if isinstance(event, str | bytes):
        event = json.loads(event or "{}")
    context = LocalContext(function_name, timeout_s)
    try:
        # The log context a deployed function gets from app.py's Chalice middleware
        # (observability.lambda_middleware): the workflow's correlation id on every line.
        with observability.invocation(event, context):
            result = resolve(handler)(event, context)
    except Exception as exc:  # noqa: BLE001 - every failure becomes the Lambda error payload
        payload = {
            "errorType": type(exc).__name__,
            "errorMessage": getattr(exc, "message", None) or str(exc),
            "stackTrace": traceback.format_exception(exc)[-3:],
        }
        return json.dumps(payload), True, ""
    return json.dumps(result), False, ""


def install() -> None:
    global _PATCHED
    if _PATCHED:
        return
    from moto.awslambda.models import LambdaFunction

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        return invoke(self.handler, event if event is not None else {}, self.function_name, int(self.timeout or 60))

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    _keep_task_failure_cause()
    _PATCHED = True


def _keep_task_failure_cause() -> None:
    """moto 5.2.5's SendTaskFailure drops ``cause`` (its response handler passes only ``error``),
    so a task failed by a node's callback would lose the reason the user reads. Pass it on, as
    AWS does; the parser backend behind it already takes ``cause``."""
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: Any) -> Any:
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure  # type: ignore[method-assign]
