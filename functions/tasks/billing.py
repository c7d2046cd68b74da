"""Workflow tasks of ``suspend_tenant`` and ``reactivate_tenant`` (docs/billing.md).

Input ``{"action": "list_servers", "tenant_id"}`` → ``{"servers": [{"server_uuid"}]}``: every
server of the tenant that is not being deleted, for the workflow's Map (each item calls the
servers lifecycle task ``task_servers`` with ``suspend`` / ``unsuspend``).

Input ``{"action": "deny_consoles", "tenant_id"}`` → ``{"servers", "failed"}``: the suspension
denies every member's console tokens on the tenant's servers (``ws/deny``), best effort.

Input ``{"action": "finish", "operation_id", "tenant_id", "results": [...]}`` closes the
operation: succeeded when every server was handled, failed naming how many were not (the
Map's per-item Catch turns a failed server into ``{"server_uuid", "failed": true}``, so one
failure never blocks the others).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.lazy import lazy_import

if TYPE_CHECKING:
    from mamba.services import operations, service_accounts
    from mamba.services import server_control as control
else:
    operations = lazy_import("mamba.services.operations")
    control = lazy_import("mamba.services.server_control")
    service_accounts = lazy_import("mamba.services.service_accounts")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    action = event.get("action")
    if action == "list_servers":
        servers = bootstrap.server_repository().of_tenant(event["tenant_id"])
        return {"servers": [{"server_uuid": s.uuid} for s in servers if s.status != "deleting"]}
    if action == "deny_consoles":
        ports = bootstrap.server_control_ports()
        members = control.deny_tenant_consoles(ports, bootstrap.tenancy_repository(), event["tenant_id"])
        # The tenant's service accounts hold console tokens too (docs/service-accounts.md).
        accounts = control.deny_tenant_consoles(
            ports, service_accounts.AsMembers(bootstrap.service_account_repository()), event["tenant_id"]
        )
        return {name: members[name] + accounts[name] for name in members}
    if action == "finish":
        results = event.get("results") or []
        failed = [r.get("server_uuid") for r in results if isinstance(r, dict) and r.get("failed")]
        repo = bootstrap.operation_repository()
        operations.record_step(repo, event["operation_id"], "servers", "failed" if failed else "succeeded")
        error = (
            {"code": "SERVERS_FAILED", "message": f"{len(failed)} of {len(results)} servers were not handled."}
            if failed
            else None
        )
        op = operations.finish_operation(repo, event["operation_id"], "failed" if failed else "succeeded", error)
        return {"operation_id": op.id, "status": op.status, "failed": failed}
    raise ValueError(f"unknown billing task action {action!r}")
