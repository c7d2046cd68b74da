"""Workflow tasks of a server's lifecycle (delete, reinstall, update build, suspend, unsuspend).

Input: ``{"action": ..., "server_uuid": ..., "operation_id": ..., "step"?: ..., ...}``; the
actions are ``mamba.services.server_lifecycle.ACTIONS`` plus ``finish``. The billing
workflows' ``suspend_tenant`` / ``reactivate_tenant`` Map calls ``suspend`` / ``unsuspend`` with
exactly ``{"action", "server_uuid", "operation_id", "by"}`` (``billing`` or ``tenant_admin``):
each is idempotent.

Errors are raised as their class (``WingsUnavailableError``, ``ConflictError``, ...) so the
ASL's Retry and Catch match them by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.workflow_errors import readable_error

if TYPE_CHECKING:
    from mamba.services import server_lifecycle as lifecycle
else:
    lifecycle = lazy_import("mamba.services.server_lifecycle")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if event.get("action") == "finish" and isinstance(event.get("error"), dict) and "Error" in event["error"]:
        event = {**event, "error": readable_error(event["error"])}
    result: dict[str, Any] = lifecycle.run_action(bootstrap.server_lifecycle(), event)
    return result
