"""The backup workflows' task (``backup_server``, ``restore_backup``, ``delete_backup``).

Input: ``{"action", "backup_uuid", "operation_id", ...}``; each action is one function of
``mamba.services.backups``. Errors keep their class name (``WingsUnavailableError``,
``BackupFailedError``, ``BackupTimeoutError``...) so the ASL retries or catches them by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.workflow_errors import readable_error

if TYPE_CHECKING:
    from mamba.services import backups
else:
    backups = lazy_import("mamba.services.backups")


def _error(event: dict[str, Any]) -> dict[str, str]:
    return readable_error(event.get("error") or {})


ACTIONS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    # .waitForTaskToken tasks: they park ``task_token`` for Wings' callback to resume, then ask Wings.
    "request_and_await": lambda p, e: backups.task_request_and_await_backup(
        p, e["backup_uuid"], e.get("operation_id"), e["task_token"], int(e["timeout_seconds"])
    ),
    "complete": lambda p, e: backups.task_complete_backup(p, e["backup_uuid"], e.get("operation_id")),
    "fail": lambda p, e: backups.task_fail_backup(p, e["backup_uuid"], e.get("operation_id"), _error(e)),
    "restore_request_and_await": lambda p, e: backups.task_request_and_await_restore(
        p, e["backup_uuid"], bool(e.get("truncate")), e.get("operation_id"), e["task_token"], int(e["timeout_seconds"])
    ),
    "restore_finish": lambda p, e: backups.task_finish_restore(p, e["backup_uuid"], e.get("operation_id")),
    "restore_fail": lambda p, e: backups.task_fail_restore(p, e["backup_uuid"], e.get("operation_id"), _error(e)),
    "delete_object": lambda p, e: backups.task_delete_object(p, e["backup_uuid"], e.get("operation_id")),
    "delete_record": lambda p, e: backups.task_delete_record(p, e["backup_uuid"], e.get("operation_id")),
    "delete_fail": lambda p, e: backups.task_fail_delete(p, e["backup_uuid"], e.get("operation_id"), _error(e)),
}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    action = ACTIONS.get(str(event.get("action")))
    if action is None:
        from mamba.domain.errors import ValidationError

        raise ValidationError(f"unknown backup action {event.get('action')!r}")
    return action(bootstrap.backup_ports(), event)
