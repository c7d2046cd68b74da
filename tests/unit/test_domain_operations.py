"""Operations are plain functions over a frozen dataclass: table-driven tests."""

from __future__ import annotations

import pytest

from mamba.domain import operations as ops
from mamba.domain.errors import ConflictError, ValidationError
from mamba.schemas.common import OperationOut

T0, T1, T2 = "2026-11-25T10:00:00Z", "2026-11-25T10:00:01Z", "2026-11-25T10:00:02Z"


def _op(status: str = "pending", steps: tuple[tuple[str, str], ...] = (("create", "pending"),)) -> ops.Operation:
    base = ops.new_operation("op_1", "t_1", "server.create", [name for name, _ in steps], T0, target="srv_1")
    return ops.Operation(**{**base.__dict__, "status": status, "steps": [ops.Step(name=n, status=s) for n, s in steps]})


def test_new_operation_is_pending_with_pending_steps():
    op = ops.new_operation("op_1", "t_1", "server.create", ["allocate", "install"], T0, target="srv_1")

    assert op.status == "pending"
    assert [(s.name, s.status) for s in op.steps] == [("allocate", "pending"), ("install", "pending")]
    assert op.created_at == op.updated_at == T0
    assert op.error is None and op.target == "srv_1"


@pytest.mark.parametrize(
    ("step_before", "new_status", "expected_started", "expected_finished"),
    [
        # step status before, new status, started_at after, finished_at after
        (("pending", None), "running", T1, None),
        (("pending", None), "succeeded", T1, T1),
        (("running", T0), "succeeded", T0, T1),
        (("running", T0), "failed", T0, T1),
        (("running", T0), "compensated", T0, T1),
        (("pending", None), "skipped", T1, T1),
        (("running", T0), "pending", T0, None),
    ],
)
def test_record_step_sets_times_when_moving_a_step(step_before, new_status, expected_started, expected_finished):
    status, started = step_before
    op = ops.Operation(
        id="op_1",
        tenant_id="t_1",
        type="x",
        status="running",
        created_at=T0,
        updated_at=T0,
        steps=[ops.Step(name="create", status=status, started_at=started)],
    )

    updated = ops.record_step(op, "create", new_status, T1, detail="d")

    step = updated.steps[0]
    assert (step.status, step.started_at, step.finished_at, step.detail) == (
        new_status,
        expected_started,
        expected_finished,
        "d",
    )
    assert updated.status == "running"
    assert updated.updated_at == T1
    assert op.steps[0].status == status, "the original is never mutated"


def test_record_step_is_idempotent_when_status_repeats():
    op = ops.record_step(_op(), "create", "running", T1)

    again = ops.record_step(op, "create", "running", T2)

    assert again is op


def test_record_step_appends_an_unknown_step_when_a_workflow_reports_it():
    op = ops.record_step(_op(), "notify", "succeeded", T1)

    assert [(s.name, s.status) for s in op.steps] == [("create", "pending"), ("notify", "succeeded")]


@pytest.mark.parametrize("final", ["succeeded", "failed"])
def test_record_step_changes_nothing_when_operation_is_final(final):
    op = _op(status=final)

    assert ops.record_step(op, "create", "running", T1) is op


def test_record_step_rejects_unknown_status():
    with pytest.raises(ValidationError, match="unknown step status"):
        ops.record_step(_op(), "create", "exploded", T1)


@pytest.mark.parametrize(
    ("start", "finish_as", "error", "expected_status", "expected_error"),
    [
        ("running", "succeeded", None, "succeeded", None),
        ("pending", "succeeded", {"code": "X", "message": "ignored"}, "succeeded", None),
        (
            "running",
            "failed",
            {"code": "QUOTA_EXCEEDED", "message": "no"},
            "failed",
            {"code": "QUOTA_EXCEEDED", "message": "no"},
        ),
        ("running", "failed", None, "failed", {"code": "FAILED", "message": "The operation failed."}),
    ],
)
def test_finish_closes_operation_when_status_is_final(start, finish_as, error, expected_status, expected_error):
    op = _op(status=start)

    done = ops.finish(op, finish_as, T2, error)

    assert (done.status, done.error, done.updated_at) == (expected_status, expected_error, T2)


def test_finish_is_idempotent_when_already_finished_the_same_way():
    done = ops.finish(_op(status="running"), "succeeded", T1)

    assert ops.finish(done, "succeeded", T2) is done


def test_finish_conflicts_when_already_finished_otherwise():
    done = ops.finish(_op(status="running"), "succeeded", T1)

    with pytest.raises(ConflictError, match="already succeeded"):
        ops.finish(done, "failed", T2)


@pytest.mark.parametrize("status", ["pending", "running", "cancelled"])
def test_finish_rejects_status_when_not_final(status):
    with pytest.raises(ValidationError):
        ops.finish(_op(), status, T1)


def test_the_wire_form_exposes_steps_and_error_but_not_tenant():
    op = ops.finish(
        ops.record_step(_op(), "create", "failed", T1, "disk full"), "failed", T2, {"code": "X", "message": "m"}
    )

    public = OperationOut.model_validate(op, from_attributes=True, extra="ignore").model_dump(mode="json")

    assert "tenant_id" not in public
    assert public["steps"] == [
        {"name": "create", "status": "failed", "started_at": T1, "finished_at": T1, "detail": "disk full"}
    ]
    assert public["error"] == {"code": "X", "message": "m"}
    assert public["status"] == "failed" and public["target"] == "srv_1"


def test_begin_retry_is_the_next_attempt_with_steps_reset_and_no_error():
    op = ops.new_operation("op_1", "t_1", "check_platform", ["probe"], "T0", workflow="check_platform", input={})
    op = ops.finish(ops.record_step(op, "probe", "failed", "T1"), "failed", "T1")

    retried = ops.begin_retry(op, "T2")

    assert (retried.status, retried.attempt, retried.error, retried.updated_at) == ("pending", 2, None, "T2")
    assert [(s.name, s.status, s.started_at) for s in retried.steps] == [("probe", "pending", None)]


def test_an_operation_recorded_without_its_input_is_not_retried():
    op = ops.finish(ops.new_operation("op_1", "t_1", "check_platform", [], "T0"), "failed", "T1")

    assert "predates recorded workflow input" in (ops.retry_refusal(op) or "")
    with pytest.raises(ConflictError):
        ops.begin_retry(op, "T2")
