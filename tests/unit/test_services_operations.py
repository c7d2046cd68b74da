"""Operation use cases over a fake repository and fake workflows."""

from __future__ import annotations

import pytest

from mamba.auth.context import TenantContext
from mamba.domain.errors import ConflictError, DependencyUnavailableError, NotFoundError
from mamba.services import operations
from tests.fakes import FakeOperationRepository, FakeWorkflows

TENANT = TenantContext(tenant_id="t_1", role="owner", permissions=frozenset({"operations.read"}))
OTHER = TenantContext(tenant_id="t_2", role="owner", permissions=frozenset({"operations.read"}))


def _start(repo, workflows, **kwargs):
    return operations.start_operation(
        repo,
        workflows,
        TENANT,
        "server.create",
        "provision_server",
        ["allocate", "install"],
        {"server_id": "srv_1"},
        target="srv_1",
        correlation_id="req-12345678",
        **kwargs,
    )


def test_start_records_pending_operation_and_starts_workflow_named_after_it():
    repo, workflows = FakeOperationRepository(), FakeWorkflows()

    op = _start(repo, workflows)

    assert repo.get("t_1", op.id).status == "pending"
    assert op.id.startswith("op_")
    [(workflow, name, payload)] = workflows.started
    assert (workflow, name) == ("provision_server", op.id)
    assert payload == {
        "operation_id": op.id,
        "tenant_id": "t_1",
        "correlation_id": "req-12345678",
        "server_id": "srv_1",
    }


def test_start_marks_operation_failed_when_workflow_cannot_start():
    repo, workflows = FakeOperationRepository(), FakeWorkflows(fail=True)

    with pytest.raises(DependencyUnavailableError):
        _start(repo, workflows)

    [stored] = repo.ops.values()
    assert stored.status == "failed"
    assert stored.error == {"code": "NOT_STARTED", "message": "The workflow could not start."}


def test_get_operation_is_not_found_when_it_belongs_to_another_tenant():
    repo = FakeOperationRepository()
    op = _start(repo, FakeWorkflows())

    assert operations.get_operation(repo, TENANT, op.id) == op
    with pytest.raises(NotFoundError):
        operations.get_operation(repo, OTHER, op.id)


def test_record_step_saves_each_change_once():
    repo = FakeOperationRepository()
    op = _start(repo, FakeWorkflows())

    running = operations.record_step(repo, op.id, "allocate", "running")
    repeated = operations.record_step(repo, op.id, "allocate", "running")

    assert running.status == "running"
    assert repeated is repo.ops[op.id] is running


def test_finish_operation_stores_readable_error_when_failed():
    repo = FakeOperationRepository()
    op = _start(repo, FakeWorkflows())

    done = operations.finish_operation(repo, op.id, "failed", {"code": "QUOTA_EXCEEDED", "message": "Plan full."})

    assert repo.find(op.id) == done
    assert done.error == {"code": "QUOTA_EXCEEDED", "message": "Plan full."}


def test_finish_operation_conflicts_when_finished_the_other_way():
    repo = FakeOperationRepository()
    op = _start(repo, FakeWorkflows())
    operations.finish_operation(repo, op.id, "succeeded")

    with pytest.raises(ConflictError):
        operations.finish_operation(repo, op.id, "failed")


def test_record_step_is_not_found_when_operation_is_unknown():
    with pytest.raises(NotFoundError):
        operations.record_step(FakeOperationRepository(), "op_missing", "x", "running")


def _failed_provisioning(repo, workflows):
    op = operations.start_operation(
        repo, workflows, TENANT, "check_platform", "check_platform", ["probe"], {"server_uuid": "s1"}
    )
    operations.finish_operation(repo, op.id, "failed", {"code": "X", "message": "broke"})
    return op


def test_start_records_the_workflow_and_its_input_for_a_retry():
    repo, workflows = FakeOperationRepository(), FakeWorkflows()

    op = _failed_provisioning(repo, workflows)

    stored = repo.find(op.id)
    assert stored.workflow == "check_platform"
    assert stored.input == workflows.started[0][2] and stored.input["server_uuid"] == "s1"


def test_a_retry_refused_by_step_functions_leaves_the_operation_failed_for_the_next_attempt():
    repo, workflows = FakeOperationRepository(), FakeWorkflows()
    op = _failed_provisioning(repo, workflows)
    workflows.fail = True

    with pytest.raises(DependencyUnavailableError):
        operations.retry_operation(repo, workflows, op.id)
    assert (repo.find(op.id).status, repo.find(op.id).attempt) == ("failed", 2)

    workflows.fail = False
    retried = operations.retry_operation(repo, workflows, op.id)

    assert retried.attempt == 3
    assert [name for _, name, _ in workflows.started] == [op.id, f"{op.id}-a3"]


def test_admin_list_rejects_a_since_that_is_not_a_time():
    from mamba.domain.errors import ValidationError
    from mamba.domain.pages import PageRequest

    with pytest.raises(ValidationError) as raised:
        operations.list_all_operations(FakeOperationRepository(), PageRequest(), since="yesterday")
    assert raised.value.details["fields"][0]["field"] == "since"


class Preparer:
    """A RetryPreparer that records its calls and refuses with ``refuse`` when set."""

    def __init__(self, refuse: Exception | None = None) -> None:
        self.refuse = refuse
        self.prepared: list[tuple[str, int]] = []
        self.abandoned: list[str] = []

    def prepare(self, op):
        if self.refuse:
            raise self.refuse
        self.prepared.append((op.id, op.attempt))
        return {**op.input, "install_deadline": 99}

    def abandon(self, op, reason):
        self.abandoned.append(reason)


def _failed(repo, workflows, op_type="check_platform"):
    op = operations.start_operation(
        repo, workflows, TENANT, op_type, "check_platform", ["probe"], {"install_deadline": 1}
    )
    operations.finish_operation(repo, op.id, "failed", {"code": "X", "message": "broke"})
    return op


def test_a_retry_runs_the_input_its_preparer_answers_and_records_it_for_the_next_attempt():
    repo, workflows, preparer = FakeOperationRepository(), FakeWorkflows(), Preparer()
    op = _failed(repo, workflows)

    operations.retry_operation(repo, workflows, op.id, {"check_platform": preparer})

    assert preparer.prepared == [(op.id, 2)]
    assert workflows.started[-1][2]["install_deadline"] == 99
    assert repo.find(op.id).input["install_deadline"] == 99


def test_a_retry_its_preparer_refuses_is_failed_again_with_the_reason_and_starts_nothing():
    from mamba.domain.errors import NoCapacityError

    repo, workflows = FakeOperationRepository(), FakeWorkflows()
    op = _failed(repo, workflows)
    preparer = Preparer(refuse=NoCapacityError("No node has a free port."))

    with pytest.raises(NoCapacityError):
        operations.retry_operation(repo, workflows, op.id, {"check_platform": preparer})

    stored = repo.find(op.id)
    assert (stored.status, stored.attempt, stored.error["code"]) == ("failed", 2, "NO_CAPACITY")
    assert len(workflows.started) == 1  # the first run only


def test_a_retry_whose_workflow_cannot_start_abandons_what_its_preparer_reserved():
    repo, workflows, preparer = FakeOperationRepository(), FakeWorkflows(), Preparer()
    op = _failed(repo, workflows)
    workflows.fail = True

    with pytest.raises(DependencyUnavailableError):
        operations.retry_operation(repo, workflows, op.id, {"check_platform": preparer})

    assert preparer.abandoned == ["The retry could not start."]
    assert repo.find(op.id).status == "failed"
