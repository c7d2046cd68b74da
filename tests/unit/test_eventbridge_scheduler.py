"""The EventBridge Scheduler adapter's requests and error translation, on botocore's Stubber (no
AWS): what it sends for each part, create after a missing update, and a refusal as 503."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from mamba.adapters.eventbridge_scheduler import EventBridgeScheduleTrigger
from mamba.domain import schedules as sch
from mamba.domain.errors import DependencyUnavailableError

GROUP, TARGET, ROLE = "mamba-test-schedules", "arn:aws:lambda:us-east-1:1:function:t", "arn:aws:iam::1:role/r"


def schedule(**changes: Any) -> sch.Schedule:
    fields: dict[str, Any] = {
        "id": "sch_1",
        "tenant_id": "tn_a",
        "server_id": "srv",
        "name": "Nightly",
        "cron": sch.parse_cron("0", "4", "*", "*", "*"),
        "timezone": "Europe/Berlin",
        "enabled": True,
        "only_when_online": False,
        "tasks": (sch.Task("command", "say hi"),),
        "created_at": "t",
        "updated_at": "t",
    } | changes
    return sch.Schedule(**fields)


@pytest.fixture
def stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("scheduler", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def expected(name: str, expression: str, state: str) -> dict[str, Any]:
    return {
        "Name": name,
        "GroupName": GROUP,
        "ScheduleExpression": expression,
        "ScheduleExpressionTimezone": "Europe/Berlin",
        "State": state,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Description": ANY,
        "Target": {
            "Arn": TARGET,
            "RoleArn": ROLE,
            "Input": '{"schedule_id": "sch_1", "scheduled_time": "<aws.scheduler.scheduled-time>", '
            '"server_id": "srv", "tenant_id": "tn_a"}',
            "RetryPolicy": {"MaximumEventAgeInSeconds": 300, "MaximumRetryAttempts": 5},
        },
    }


def test_put_creates_a_part_that_is_not_there_and_deletes_the_part_it_no_longer_needs(stubbed) -> None:
    client, stub = stubbed
    request = expected("sch_1-0", "cron(0 4 * * ? *)", "DISABLED")
    stub.add_client_error("update_schedule", "ResourceNotFoundException", expected_params=request)
    stub.add_response("create_schedule", {"ScheduleArn": "arn:s"}, expected_params=request)
    stub.add_client_error(
        "delete_schedule", "ResourceNotFoundException", expected_params={"Name": "sch_1-1", "GroupName": GROUP}
    )

    with stub:
        EventBridgeScheduleTrigger(client, GROUP, TARGET, ROLE).put(schedule(enabled=False))
    stub.assert_no_pending_responses()


def test_a_refusal_is_dependency_unavailable_not_a_500(stubbed) -> None:
    client, stub = stubbed
    stub.add_client_error("update_schedule", "AccessDeniedException", http_status_code=403)
    stub.add_client_error("delete_schedule", "ThrottlingException", http_status_code=400)

    trigger = EventBridgeScheduleTrigger(client, GROUP, TARGET, ROLE)
    with stub, pytest.raises(DependencyUnavailableError):
        trigger.put(schedule())
    with stub, pytest.raises(DependencyUnavailableError):
        trigger.delete("sch_1")
