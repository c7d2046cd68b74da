"""The ``run_schedule`` workflow's task (docs/schedules.md).

Input: ``{"action", "run_id", "tasks", "index"?, "error"?}``; each action is one step of
``mamba.services.schedules``. Errors keep their class name (``WingsUnavailableError``,
``BackupFailedError``...) so the ASL retries or catches them by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.workflow_errors import readable_error

if TYPE_CHECKING:
    from mamba.services import schedules
else:
    schedules = lazy_import("mamba.services.schedules")


def _error(event: dict[str, Any]) -> dict[str, str]:
    return readable_error(event.get("error") or {})


ACTIONS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    "begin": lambda p, e: schedules.task_begin(p, e["run_id"], e["tasks"]),
    "run_task": lambda p, e: schedules.task_run(p, e["run_id"], e["tasks"], int(e["index"])),
    "check_backup": lambda p, e: schedules.task_check_backup(p, e["run_id"], e["tasks"], int(e["index"])),
    "task_failed": lambda p, e: schedules.task_failed(p, e["run_id"], e["tasks"], int(e["index"]), _error(e)),
    "finish": lambda p, e: schedules.task_finish(p, e["run_id"]),
    "abort": lambda p, e: schedules.task_abort(p, e["run_id"], _error(e)),
}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    action = ACTIONS.get(str(event.get("action")))
    if action is None:
        from mamba.domain.errors import ValidationError

        raise ValidationError(f"unknown schedule action {event.get('action')!r}")
    return action(bootstrap.schedule_ports(), event)
