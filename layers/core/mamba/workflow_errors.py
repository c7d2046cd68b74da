"""Turn a Step Functions Catch payload into an error a user can read."""

from __future__ import annotations

import json
from typing import Any

from mamba.domain import errors

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
    code = _domain_codes().get(name) or _snake(name.removesuffix("Error")) or "FAILED"
    return {"code": code, "message": message or "The operation failed."}


def _domain_codes() -> dict[str, str]:
    """Error class name → the code the HTTP boundary uses for it (one table, not two)."""
    found: dict[str, str] = {}
    pending: list[type[errors.DomainError]] = [errors.DomainError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls.code
        pending.extend(cls.__subclasses__())
    return found


def _snake(name: str) -> str:
    """``NodeUnavailable`` → ``NODE_UNAVAILABLE``; an ``ALREADY_SNAKE`` code stays as it is."""
    if "_" in name or name.isupper():
        return name.upper()
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.upper())
    return "".join(out).strip("_.").replace(".", "_")
