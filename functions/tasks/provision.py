"""The provision_server workflow's task: ``{"action": ..., "server_uuid", "operation_id", ...}``.

Actions (mamba.services.provisioning): ``verify``, ``create_on_wings``, ``await_install``,
``start``, ``await_running``, ``skip_start``, ``start_failed``, ``compensate``,
``compensation_incomplete``. Errors keep their class name, which the ASL retries or catches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.lazy import lazy_import

if TYPE_CHECKING:
    from mamba.services import provisioning
else:
    provisioning = lazy_import("mamba.services.provisioning")

ACTIONS = (
    "verify",
    "create_on_wings",
    "await_install",
    "start",
    "await_running",
    "skip_start",
    "start_failed",
    "compensate",
    "compensation_incomplete",
)


def ports() -> Any:
    from mamba.domain.clock import iso, utcnow

    return provisioning.ProvisionPorts(
        servers=bootstrap.server_repository(),
        nodes=bootstrap.node_repository(),
        allocations=bootstrap.allocation_repository(),
        agent_for=bootstrap.agent_for,
        operations=bootstrap.operation_repository(),
        now=lambda: iso(utcnow()),
        waits=bootstrap.task_waits(),
        events=bootstrap.events_or_none(),
    )


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    action = event.get("action")
    if action not in ACTIONS:
        raise ValueError(f"unknown provision action {action!r}")
    result: dict[str, Any] = getattr(provisioning, str(action))(ports(), event)
    return result
