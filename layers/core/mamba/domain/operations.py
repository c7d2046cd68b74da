"""Operations: the user-visible progress of a workflow. Pure functions over a dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mamba.domain.errors import ConflictError, ValidationError

OP_STATUSES = ("pending", "running", "succeeded", "failed")
STEP_STATUSES = ("pending", "running", "succeeded", "failed", "skipped", "compensated")
FINAL = frozenset({"succeeded", "failed"})


@dataclass(frozen=True)
class Step:
    name: str
    status: str = "pending"
    started_at: str | None = None
    finished_at: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Operation:
    id: str
    tenant_id: str
    type: str
    status: str
    created_at: str
    updated_at: str
    target: str | None = None
    steps: list[Step] = field(default_factory=list)
    error: dict[str, str] | None = None
    # What started it, recorded so an admin can run the same workflow again (None on
    # operations recorded before retries existed: those cannot be retried).
    workflow: str | None = None
    input: dict[str, Any] | None = None
    attempt: int = 1


def new_operation(
    op_id: str,
    tenant_id: str,
    op_type: str,
    steps: list[str],
    now: str,
    target: str | None = None,
    workflow: str | None = None,
    input: dict[str, Any] | None = None,
) -> Operation:
    return Operation(
        workflow=workflow,
        input=input,
        id=op_id,
        tenant_id=tenant_id,
        type=op_type,
        status="pending",
        created_at=now,
        updated_at=now,
        target=target,
        steps=[Step(name=s) for s in steps],
    )


def record_step(op: Operation, step: str, status: str, now: str, detail: str | None = None) -> Operation:
    """Move one step to ``status``. A finished operation is never changed again, so a late
    or repeated task cannot rewrite history; the call is idempotent for the same status."""
    if status not in STEP_STATUSES:
        raise ValidationError(f"unknown step status {status!r}")
    if op.status in FINAL:
        return op
    names = [s.name for s in op.steps]
    steps = list(op.steps)
    if step not in names:
        steps.append(Step(name=step))
        names.append(step)
    index = names.index(step)
    current = steps[index]
    if current.status == status:
        return op
    started = current.started_at or (now if status == "running" else None)
    finished = now if status not in ("pending", "running") else None
    steps[index] = replace(current, status=status, started_at=started or now, finished_at=finished, detail=detail)
    return replace(op, status="running", steps=steps, updated_at=now)


def finish(op: Operation, status: str, now: str, error: dict[str, str] | None = None) -> Operation:
    """Close the operation as succeeded or failed (with a readable error)."""
    if status not in FINAL:
        raise ValidationError(f"an operation finishes as succeeded or failed, not {status!r}")
    if op.status in FINAL:
        if op.status != status:
            raise ConflictError(f"operation {op.id} already {op.status}")
        return op
    if status == "failed" and not error:
        error = {"code": "FAILED", "message": "The operation failed."}
    return replace(op, status=status, error=error if status == "failed" else None, updated_at=now)


# Which operation types an admin may start again after a failure, and why the others may not.
# A retry re-runs the whole workflow from its recorded input under a new execution name, so it
# is only safe where every step is idempotent or the failed run compensated what it did.
RETRYABLE: dict[str, str] = {
    "check_platform": "it only probes the backing services and records the result on the operation",
    "provision_server": (
        "the retry reserves placement again (memory, disk and a port, within the tenant's quotas) for the server"
        " the failed run left failed, then runs the workflow with fresh deadlines; a leftover on the node is replaced"
    ),
}
NOT_RETRYABLE: dict[str, str] = {
    "delete_backup": "the failed run put the backup back and it may have been locked since; delete it again",
    "backup_server": "the backup lock and the quota check are taken by the API; start a new backup",
    "restore_backup": "a restore overwrites the server's files; run it again deliberately from the backup",
    "reinstall_server": "a reinstall wipes the server; the customer must ask for it again",
    "update_server_build": "the build may have changed since; the customer resubmits the change",
    "delete_server": "it runs under the server's lock, which the failed run released; delete the server again",
    "suspend_server": "it runs under the server's lock; suspend the server again through its API",
    "unsuspend_server": "it runs under the server's lock; unsuspend the server again through its API",
    "suspend_tenant": "a retry could reapply a suspension lifted since; suspend the tenant again",
    "reactivate_tenant": "a retry could lift a suspension applied since; unsuspend the tenant again",
}


def retry_refusal(op: Operation) -> str | None:
    """Why ``op`` cannot be retried, or None when it can."""
    if op.status != "failed":
        return f"only a failed operation can be retried; this one is {op.status}"
    if op.type not in RETRYABLE:
        return NOT_RETRYABLE.get(op.type, f"operations of type {op.type} are not retried automatically")
    if not op.workflow or op.input is None:
        return "the operation predates recorded workflow input; start it again through its own API"
    return None


def begin_retry(op: Operation, now: str) -> Operation:
    """The failed ``op`` back to pending as its next attempt, steps reset and error cleared.
    Raises ConflictError (with the reason) when it may not be retried."""
    reason = retry_refusal(op)
    if reason:
        raise ConflictError(f"The operation cannot be retried: {reason}.", {"operation_id": op.id, "reason": reason})
    return replace(
        op,
        status="pending",
        error=None,
        attempt=op.attempt + 1,
        steps=[Step(name=s.name) for s in op.steps],
        updated_at=now,
    )
