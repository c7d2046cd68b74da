"""Turn a Step Functions Catch payload into an error a user can read."""

from __future__ import annotations

import json
from typing import Any

_FRIENDLY = {
    "States.Timeout": ("TIMEOUT", "The step took too long and was stopped."),
    "States.TaskFailed": ("TASK_FAILED", "A step failed."),
    "Lambda.ServiceException": ("TRANSIENT", "A step could not run; try again."),
}


def readable_error(caught: dict[str, Any]) -> dict[str, str]:
    """``{"Error": "QuotaExceededError", "Cause": "{\\"errorMessage\\": ...}"}`` → ``{code, message}``."""
    name = str(caught.get("Error") or caught.get("code") or "States.TaskFailed")
    cause = caught.get("Cause") or caught.get("message") or ""
    message = str(cause)
    if isinstance(cause, str) and cause.startswith("{"):
        try:
            message = str(json.loads(cause).get("errorMessage") or message)
        except ValueError:
            pass
    if name in _FRIENDLY:
        code, default = _FRIENDLY[name]
        return {"code": code, "message": message or default}
    code = name.removesuffix("Error").upper() or "FAILED"
    return {"code": code, "message": message or "The operation failed."}
