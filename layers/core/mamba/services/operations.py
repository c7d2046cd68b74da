"""Use cases around operations: start a workflow, record its steps, read its status."""

from __future__ import annotations

from typing import Any

from mamba.auth.context import TenantContext
from mamba.domain import operations as ops
from mamba.domain.clock import iso, new_id, utcnow
from mamba.domain.operations import Operation
from mamba.ports import OperationRepository, Workflows


def _now() -> str:
    return iso(utcnow())


def start_operation(
    repo: OperationRepository,
    workflows: Workflows,
    tenant: TenantContext,
    op_type: str,
    workflow: str,
    steps: list[str],
    payload: dict[str, Any],
    target: str | None = None,
    correlation_id: str | None = None,
    op_id: str | None = None,
) -> Operation:
    """Create the operation record, then start its workflow named after the operation id.

    Raises DependencyUnavailableError when Step Functions refuses; the record is then
    marked failed so the user never sees a pending operation that will not run. ``op_id``
    lets a caller that must name the operation first (a server lock) choose its id.
    """
    op = ops.new_operation(op_id or new_id("op"), tenant.tenant_id, op_type, steps, _now(), target=target)
    repo.add(op)
    execution_input = {
        "operation_id": op.id,
        "tenant_id": tenant.tenant_id,
        "correlation_id": correlation_id,
        **payload,
    }
    try:
        workflows.start(workflow, op.id, execution_input)
    except Exception as exc:
        failed = ops.finish(op, "failed", _now(), {"code": "NOT_STARTED", "message": "The workflow could not start."})
        repo.save(failed)
        raise exc
    return op


def start_tenant_workflow(
    repo: OperationRepository, workflows: Workflows, tenant_id: str, op_type: str, workflow: str, by: str
) -> Operation:
    """Start a workflow over a whole tenant (``suspend_tenant``, ``reactivate_tenant``) on the
    system's behalf. ``by`` names the suspension reason it applies or lifts (billing's or an
    admin's), since the two are independent. Raises as ``start_operation``."""
    system = TenantContext(tenant_id=tenant_id, role="system", permissions=frozenset())
    return start_operation(
        repo, workflows, system, op_type, workflow, ["servers", "finish"], {"by": by}, target=tenant_id
    )


def get_operation(repo: OperationRepository, tenant: TenantContext, op_id: str) -> Operation:
    """Raises NotFoundError when the operation does not belong to ``tenant``."""
    return repo.get(tenant.tenant_id, op_id)


def record_step(repo: OperationRepository, op_id: str, step: str, status: str, detail: str | None = None) -> Operation:
    """Called by workflow tasks; idempotent for a repeated (step, status)."""
    op = repo.find(op_id)
    updated = ops.record_step(op, step, status, _now(), detail)
    if updated is not op:
        repo.save(updated)
    return updated


def finish_operation(
    repo: OperationRepository, op_id: str, status: str, error: dict[str, str] | None = None
) -> Operation:
    op = repo.find(op_id)
    updated = ops.finish(op, status, _now(), error)
    if updated is not op:
        repo.save(updated)
    return updated
