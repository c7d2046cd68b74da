"""Operations: the user-visible progress of a workflow. Pure functions over a dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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


def new_operation(
    op_id: str, tenant_id: str, op_type: str, steps: list[str], now: str, target: str | None = None
) -> Operation:
    return Operation(
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
