"""The Workflows port over FakeWorkflows and SfnWorkflows on moto's Step Functions: what a
start returns, that one operation runs once, and how a missing state machine is refused."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import pytest

from mamba.domain.errors import DependencyUnavailableError
from tests.fakes import FakeWorkflows

Runs = Callable[[str], list[tuple[str, dict[str, Any]]]]  # workflow -> [(execution name, input)]


class WorkflowsContract:
    @pytest.fixture
    def engine(self) -> tuple[Any, Runs]:
        raise NotImplementedError

    @pytest.fixture
    def failing(self, engine: tuple[Any, Runs], monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
        """Makes executions of ``delete_backup`` fail in state "Boom" with error "AnError" and
        cause "An error occurred!" (waits until the started one of ``op_id`` has)."""
        raise NotImplementedError

    def test_a_retry_attempt_runs_under_a_name_of_its_own_and_once(self, engine):
        workflows, runs = engine
        op_id = f"op_{secrets.token_hex(6)}"
        workflows.start("check_platform", op_id, {"operation_id": op_id})

        second = workflows.start("check_platform", op_id, {"operation_id": op_id}, attempt=2)
        again = workflows.start("check_platform", op_id, {"operation_id": op_id}, attempt=2)

        assert second == again and second.endswith(f":execution:mamba-check_platform:{op_id}-a2")
        names = [name for name, _ in runs("check_platform")]
        assert names.count(op_id) == 1 and names.count(f"{op_id}-a2") == 1

    def test_failure_is_none_for_a_running_or_never_started_execution(self, engine):
        workflows, _ = engine
        op_id = f"op_{secrets.token_hex(6)}"
        workflows.start("check_platform", op_id, {"operation_id": op_id})

        assert workflows.failure("check_platform", op_id) is None
        assert workflows.failure("check_platform", op_id, attempt=2) is None
        assert workflows.failure("check_platform", f"op_{secrets.token_hex(6)}") is None

    def test_failure_names_the_failed_state_error_and_cause(self, engine, failing):
        workflows, _ = engine
        op_id = f"op_{secrets.token_hex(6)}"
        workflows.start("delete_backup", op_id, {"operation_id": op_id})
        failing(op_id)

        assert workflows.failure("delete_backup", op_id) == {
            "state": "Boom",
            "error": "AnError",
            "cause": "An error occurred!",
        }

    def test_start_runs_the_workflow_under_the_operations_name_with_its_payload(self, engine):
        workflows, runs = engine
        op_id = f"op_{secrets.token_hex(6)}"

        arn = workflows.start("check_platform", op_id, {"operation_id": op_id, "n": 1, "correlation_id": "req-1"})

        assert arn.endswith(f":execution:mamba-check_platform:{op_id}")
        assert arn.startswith("arn:aws:states:")
        assert (op_id, {"operation_id": op_id, "n": 1, "correlation_id": "req-1"}) in runs("check_platform")

    def test_an_input_without_a_correlation_id_gets_the_requests_or_else_the_operations(self, engine):
        from mamba import observability

        workflows, runs = engine
        in_request, outside = f"op_{secrets.token_hex(6)}", f"op_{secrets.token_hex(6)}"

        with observability.request_context("req-abc"):
            workflows.start("check_platform", in_request, {"operation_id": in_request})
        workflows.start("check_platform", outside, {"operation_id": outside})

        assert (in_request, {"operation_id": in_request, "correlation_id": "req-abc"}) in runs("check_platform")
        assert (outside, {"operation_id": outside, "correlation_id": outside}) in runs("check_platform")

    def test_a_second_start_of_one_operation_runs_nothing_new_and_answers_the_same_arn(self, engine):
        workflows, runs = engine
        op_id = f"op_{secrets.token_hex(6)}"
        first = workflows.start("check_platform", op_id, {"operation_id": op_id})

        again = workflows.start("check_platform", op_id, {"operation_id": op_id, "retry": True})

        assert again == first
        assert [name for name, _ in runs("check_platform")].count(op_id) == 1

    def test_start_is_dependency_unavailable_when_the_workflow_does_not_exist(self, engine):
        workflows, _ = engine

        with pytest.raises(DependencyUnavailableError) as raised:
            workflows.start("no_such_workflow", f"op_{secrets.token_hex(6)}", {})
        assert raised.value.details == {"workflow": "no_such_workflow"}


class TestWorkflowsOnFake(WorkflowsContract):
    @pytest.fixture
    def engine(self) -> tuple[Any, Runs]:
        fake = FakeWorkflows()

        def runs(workflow: str) -> list[tuple[str, dict[str, Any]]]:
            return [(op_id, payload) for name, op_id, payload in fake.started if name == workflow]

        return fake, runs

    @pytest.fixture
    def failing(self, engine: tuple[Any, Runs], monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
        fake = engine[0]
        return lambda op_id: fake.fail_execution("delete_backup", op_id, "Boom", "AnError", "An error occurred!")


class TestWorkflowsOnStepFunctions(WorkflowsContract):
    @pytest.fixture
    def engine(self, request: pytest.FixtureRequest) -> tuple[Any, Runs]:
        request.getfixturevalue("aws")
        import boto3

        from mamba import bootstrap

        settings = bootstrap.settings()
        sfn = boto3.client("stepfunctions", region_name=settings.region)
        role = "arn:aws:iam::123456789012:role/mamba-test-contract"
        # A one-state machine under the production name: the contract is about starting, not the ASL.
        pass_only = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
        arn = settings.state_machine_arn("check_platform")
        try:
            sfn.create_state_machine(name=arn.rsplit(":", 1)[-1], definition=pass_only, roleArn=role)
        except sfn.exceptions.StateMachineAlreadyExists:
            pass  # another test of this worker made it

        def runs(workflow: str) -> list[tuple[str, dict[str, Any]]]:
            listed = sfn.list_executions(stateMachineArn=settings.state_machine_arn(workflow))["executions"]
            described = [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]
            return [(d["name"], json.loads(d["input"])) for d in described]

        return bootstrap.workflows(), runs

    @pytest.fixture
    def failing(self, engine: tuple[Any, Runs], monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
        import time

        import boto3

        from mamba import bootstrap
        from mamba.adapters.sfn import execution_name

        settings = bootstrap.settings()
        sfn = boto3.client("stepfunctions", region_name=settings.region)
        arn = settings.state_machine_arn("delete_backup")
        boom = json.dumps(
            {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "AnError", "Cause": "An error occurred!"}}}
        )
        try:
            sfn.create_state_machine(
                name=arn.rsplit(":", 1)[-1], definition=boom, roleArn="arn:aws:iam::123456789012:role/mamba-test"
            )
        except sfn.exceptions.StateMachineAlreadyExists:
            sfn.update_state_machine(stateMachineArn=arn, definition=boom)

        def wait_failed(op_id: str) -> None:
            # moto runs the machine on a thread of its own: wait for it to end
            execution = f"{arn.replace(':stateMachine:', ':execution:')}:{execution_name(op_id)}"
            for _ in range(100):
                if sfn.describe_execution(executionArn=execution)["status"] != "RUNNING":
                    return
                time.sleep(0.05)

        return wait_failed
