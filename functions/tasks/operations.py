"""Workflow tasks that keep the operation record current.

Input: ``{"operation_id", "action": "step"|"finish", "step"?, "status", "detail"?, "error"?}``.
A Catch hands its ``{"Error", "Cause"}`` object as ``error``; it becomes a readable reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.workflow_errors import readable_error

if TYPE_CHECKING:
    from mamba.services import operations
else:
    operations = lazy_import("mamba.services.operations")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    repo = bootstrap.operation_repository()
    if event.get("action") == "finish":
        error = readable_error(event["error"]) if event.get("error") else None
        op = operations.finish_operation(repo, event["operation_id"], event["status"], error)
    else:
        op = operations.record_step(repo, event["operation_id"], event["step"], event["status"], event.get("detail"))
    return {"operation_id": op.id, "status": op.status}
