"""The ports of the task-token waits (mamba.services.task_waits), each over its fake and its
real adapter: ``TaskTokenStore`` (FakeTaskTokens, DynamoTaskTokenStore on moto) and
``TaskCallbacks`` (FakeTaskCallbacks, SfnWorkflows on moto's Step Functions, resuming a
``lambda:invoke.waitForTaskToken`` task whose Lambda keeps its token)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes import FakeTaskCallbacks, FakeTaskTokens

# --- TaskTokenStore ---


class TokenStoreContract:
    @pytest.fixture
    def store(self) -> Any:
        raise NotImplementedError

    def test_a_parked_token_is_found_under_its_subject_only(self, store):
        store.park("backup:b1", "tok-1", 1_000, 2_000)

        assert store.token("backup:b1") == "tok-1"
        assert store.token("restore:b1") is None

    def test_a_new_wait_on_the_same_subject_replaces_the_token(self, store):
        store.park("install:s1", "tok-old", 1_000, 2_000)

        store.park("install:s1", "tok-new", 1_100, 2_100)

        assert store.token("install:s1") == "tok-new"

    def test_forget_deletes_only_the_token_it_is_given(self, store):
        store.park("install:s1", "tok-new", 1_000, 2_000)

        store.forget("install:s1", "tok-old")  # a late callback that delivered an older token
        assert store.token("install:s1") == "tok-new"
        store.forget("install:s1", "tok-new")
        assert store.token("install:s1") is None
        store.forget("install:s1", "tok-new")  # again: nothing to do, no error


class TestTokenStoreOnFake(TokenStoreContract):
    @pytest.fixture
    def store(self) -> Any:
        return FakeTaskTokens()


class TestTokenStoreOnDynamo(TokenStoreContract):
    @pytest.fixture
    def store(self, aws: None) -> Any:
        from mamba import bootstrap
        from mamba.adapters.dynamo.task_waits import DynamoTaskTokenStore

        bootstrap.dynamo_tables()
        return DynamoTaskTokenStore()

    def test_the_token_expires_with_the_table_ttl(self, store):
        from mamba.adapters.dynamo import keys
        from mamba.adapters.dynamo.items import TaskWaitItem

        store.park("backup:b2", "tok-1", 1_000, 2_000)

        assert TaskWaitItem.get(*keys.task_wait("backup:b2")).ttl == 2_000


# --- TaskCallbacks ---

Waiting = Callable[[], tuple[str, Callable[[], dict[str, Any]]]]  # () -> (token, ended execution)


class CallbacksContract:
    @pytest.fixture
    def engine(self) -> tuple[Any, Waiting]:
        raise NotImplementedError

    def test_success_resumes_the_waiting_task_with_the_output(self, engine):
        callbacks, waiting = engine
        token, ended = waiting()

        assert callbacks.succeed_task(token, {"state": "completed"}) is True
        assert ended() == {"status": "SUCCEEDED", "output": {"state": "completed"}}

    def test_failure_fails_the_waiting_task_with_the_error_and_the_readable_cause(self, engine):
        callbacks, waiting = engine
        token, ended = waiting()

        assert callbacks.fail_task(token, "BackupFailedError", "Wings reported that the backup failed.") is True
        assert ended() == {
            "status": "FAILED",
            "error": "BackupFailedError",
            "cause": "Wings reported that the backup failed.",
        }

    def test_a_task_resumed_once_is_not_resumed_again(self, engine):
        callbacks, waiting = engine
        token, ended = waiting()
        callbacks.succeed_task(token, {"state": "completed"})
        ended()

        # (a late SendTaskFailure is not checked: moto 5.2.5 accepts it for an ended execution,
        # where AWS answers TaskTimedOut; either way the ended execution does not change)
        assert callbacks.succeed_task(token, {"state": "again"}) is False
        assert ended()["status"] == "SUCCEEDED"

    def test_a_token_no_task_waits_for_is_refused_without_an_error(self, engine):
        callbacks, _ = engine

        assert callbacks.succeed_task(f"no-such-{secrets.token_hex(8)}", {}) is False


class TestCallbacksOnFake(CallbacksContract):
    @pytest.fixture
    def engine(self) -> tuple[Any, Waiting]:
        fake = FakeTaskCallbacks(waiting=set())

        def waiting() -> tuple[str, Callable[[], dict[str, Any]]]:
            token = secrets.token_hex(8)
            assert fake.waiting is not None
            fake.waiting.add(token)

            def ended() -> dict[str, Any]:
                kind, value = fake.delivered[token]
                if kind == "success":
                    return {"status": "SUCCEEDED", "output": value}
                return {"status": "FAILED", "error": value[0], "cause": value[1]}

            return token, ended

        return fake, waiting


PARKED: list[str] = []  # the tokens the waiting task below was given


def park_token(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The task Lambda of the contract's state machine: keeps its task token, as a waiting task does."""
    PARKED.append(str(event["task_token"]))
    return {}


class TestCallbacksOnStepFunctions(CallbacksContract):
    @pytest.fixture
    def engine(self, aws: None) -> Iterator[tuple[Any, Waiting]]:
        import boto3

        from local import lambda_dispatch
        from mamba import bootstrap
        from tests.moto_world import _TRUST, _code_zip

        lambda_dispatch.install()  # Lambdas run in-process; SendTaskFailure keeps its cause
        region = bootstrap.settings().region
        sfn, iam = boto3.client("stepfunctions", region_name=region), boto3.client("iam", region_name=region)
        suffix = secrets.token_hex(4)
        role = iam.create_role(RoleName=f"waits-{suffix}", AssumeRolePolicyDocument=json.dumps(_TRUST))["Role"]["Arn"]
        function = boto3.client("lambda", region_name=region).create_function(
            FunctionName=f"waits-{suffix}",
            Runtime="python3.12",
            Role=role,
            Handler="tests.contract.test_task_waits.park_token",
            Code={"ZipFile": _code_zip()},
        )["FunctionArn"]
        wait = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": function, "Payload": {"task_token.$": "$$.Task.Token"}},
            "TimeoutSeconds": 30,
            "End": True,
        }
        machine = sfn.create_state_machine(
            name=f"waits-{suffix}",
            definition=json.dumps({"StartAt": "Wait", "States": {"Wait": wait}}),
            roleArn=role,
        )["stateMachineArn"]

        def waiting() -> tuple[str, Callable[[], dict[str, Any]]]:
            parked = len(PARKED)
            execution = sfn.start_execution(stateMachineArn=machine, name=secrets.token_hex(8), input="{}")
            for _ in range(200):
                if len(PARKED) > parked:
                    break
                time.sleep(0.05)
            assert len(PARKED) > parked, "the execution never reached its waiting task"
            token = PARKED[-1]

            def ended() -> dict[str, Any]:
                for _ in range(200):
                    described = sfn.describe_execution(executionArn=execution["executionArn"])
                    if described["status"] != "RUNNING":
                        break
                    time.sleep(0.05)
                if described["status"] == "SUCCEEDED":
                    return {"status": "SUCCEEDED", "output": json.loads(described["output"])}
                history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
                failed = next(e for e in history if e["type"] == "ExecutionFailed")["executionFailedEventDetails"]
                return {"status": described["status"], "error": failed.get("error"), "cause": failed.get("cause")}

            return token, ended

        yield bootstrap.task_waits().callbacks, waiting
