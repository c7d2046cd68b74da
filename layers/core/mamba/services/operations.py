"""Use cases around operations: start a workflow, record its steps, read its status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from mamba.auth.context import TenantContext
from mamba.domain import operations as ops
from mamba.domain.clock import iso, new_id, utcnow
from mamba.domain.errors import DomainError, ValidationError
from mamba.domain.operations import Operation
from mamba.domain.pages import Page, PageRequest
from mamba.observability import current_request_id, emit_metric
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
    op_id = op_id or new_id("op")
    execution_input = {
        "operation_id": op_id,
        "tenant_id": tenant.tenant_id,
        # The id every task logs under and sends to Wings as X-Request-Id: the API request's,
        # or the invocation's that started this (a schedule, a queue batch), else the operation's.
        "correlation_id": correlation_id or current_request_id() or op_id,
        **payload,
    }
    # The input is recorded with the operation so an admin can run the same workflow again.
    op = ops.new_operation(
        op_id, tenant.tenant_id, op_type, steps, _now(), target=target, workflow=workflow, input=execution_input
    )
    repo.add(op)
    try:
        workflows.start(workflow, op.id, execution_input)
    except Exception as exc:
        failed = ops.finish(op, "failed", _now(), {"code": "NOT_STARTED", "message": "The workflow could not start."})
        repo.save(failed)
        raise exc
    return op


def start_tenant_workflow(
    repo: OperationRepository,
    workflows: Workflows,
    tenant_id: str,
    op_type: str,
    workflow: str,
    by: str,
    op_id: str | None = None,
    previous_status: str | None = None,
) -> Operation:
    """Start a workflow over a whole tenant (``suspend_tenant``, ``reactivate_tenant``) on the
    system's behalf. ``by`` names the suspension reason it applies or lifts (billing's or an
    admin's), since the two are independent; ``previous_status`` is the tenant's status before
    the request that starts it (what the sweeper puts back when the workflow dies). Raises as
    ``start_operation`` (a given ``op_id`` that exists already: ConflictError, nothing started)."""
    system = TenantContext(tenant_id=tenant_id, role="system", permissions=frozenset())
    payload = {"by": by} if previous_status is None else {"by": by, "previous_status": previous_status}
    return start_operation(
        repo, workflows, system, op_type, workflow, ["servers", "finish"], payload, target=tenant_id, op_id=op_id
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
        _publish_outcome(updated)
    return updated


def _publish_outcome(op: Operation) -> None:
    """Operator metrics for a finished workflow (docs/observability.md): its outcome and how
    long it took from the request, by workflow; a failure also by its error code. Published
    once, by the call that closed the operation (a repeated finish changes nothing)."""
    workflow = str(op.workflow or op.type)
    dims = {"workflow": workflow, "outcome": op.status}
    emit_metric("OperationsFinished", 1, "Count", **dims)
    try:
        took = (datetime.fromisoformat(str(op.updated_at)) - datetime.fromisoformat(op.created_at)).total_seconds()
    except (TypeError, ValueError):
        took = None
    if took is not None and took >= 0:
        emit_metric("OperationDuration", took, "Seconds", **dims)
    if op.status == "failed":
        emit_metric("WorkflowFailures", 1, workflow=workflow, error=str((op.error or {}).get("code") or "FAILED"))


# --- platform admin: every tenant's operations ---

ADMIN_STATUSES = ("pending", "running", "succeeded", "failed")


@dataclass(frozen=True)
class OperationDetail:
    operation: Operation
    failure: dict[str, str] | None = None


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field} {message}.", {"fields": [{"field": field, "message": message, "type": field}]})


def list_all_operations(
    repo: OperationRepository,
    page: PageRequest,
    status: str | None = None,
    op_type: str | None = None,
    since: str | None = None,
) -> Page[Operation]:
    """Newest first, filtered by status, type and creation time (ISO 8601, UTC).
    Raises ValidationError naming the bad filter."""
    if status and status not in ADMIN_STATUSES:
        raise _invalid("status", f"must be one of {', '.join(ADMIN_STATUSES)}")
    if op_type and (len(op_type) > 64 or not op_type.replace("_", "").replace(".", "").isalnum()):
        raise _invalid("type", "is not an operation type")
    if since:
        try:
            parsed = datetime.fromisoformat(since.replace("Z", "+00:00"))
            since = iso(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
        except ValueError as exc:
            raise _invalid("since", "must be an ISO 8601 time") from exc
    return repo.list_all(page, status=status or None, op_type=op_type or None, since=since or None)


def admin_operation(repo: OperationRepository, workflows: Workflows, op_id: str) -> OperationDetail:
    """Any tenant's operation; when it failed, also its execution's failed state and cause.
    Raises NotFoundError."""
    op = repo.find(op_id)
    failure = None
    if op.status == "failed" and op.workflow:
        failure = workflows.failure(op.workflow, op.id, op.attempt)
    return OperationDetail(operation=op, failure=failure)


_NOT_STARTED = {"code": "NOT_STARTED", "message": "The retry could not start."}


class RetryPreparer(Protocol):
    """What a type needs before its workflow runs again (``provision_server``: placement)."""

    def prepare(self, op: Operation) -> dict[str, Any]:
        """The next attempt's workflow input. Raises a DomainError when the retry cannot run."""

    def abandon(self, op: Operation, reason: str) -> None:
        """Undo ``prepare`` when the workflow could not start."""


def retry_operation(
    repo: OperationRepository,
    workflows: Workflows,
    op_id: str,
    preparers: Mapping[str, RetryPreparer] | None = None,
) -> Operation:
    """Start a failed operation's workflow again from its recorded input, as its next attempt.

    Raises ConflictError (with ``reason``) when it is not failed, its type is not safe to run
    again (``mamba.domain.operations.RETRYABLE``), or another retry already moved it on: the
    conditional write lets exactly one retry of a failed run through, and the execution name
    carries the attempt, so even a repeated start of that attempt runs once. A type with a
    preparer gets its input from it after that write (so only the winning retry prepares); when
    the preparer refuses (its DomainError is raised, e.g. NoCapacityError), the operation is
    failed again with that reason, as the attempt that could not run."""
    op = repo.find(op_id)
    retried = ops.begin_retry(op, _now())
    repo.begin_retry(retried)
    preparer = (preparers or {}).get(retried.type)
    if preparer is not None:
        try:
            retried = replace(retried, input=preparer.prepare(retried))
        except Exception as exc:
            # Whatever stopped it, the attempt is over: never leave the operation pending.
            error = {"code": exc.code, "message": exc.message} if isinstance(exc, DomainError) else None
            repo.save(ops.finish(retried, "failed", _now(), error or dict(_NOT_STARTED)))
            raise
    try:
        if preparer is not None:
            repo.save(retried)  # the attempt's input, so the next retry starts from what this one ran
        # begin_retry refused an operation without a recorded workflow and input
        workflows.start(str(retried.workflow), retried.id, dict(retried.input or {}), attempt=retried.attempt)
    except Exception:
        repo.save(ops.finish(retried, "failed", _now(), dict(_NOT_STARTED)))
        if preparer is not None:
            preparer.abandon(retried, _NOT_STARTED["message"])
        raise
    return retried
