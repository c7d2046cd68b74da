"""The schedules' infrastructure (docs/schedules.md): the merged template rendered for a stack, and
a schedule created through the API with exactly the settings that template gives the functions,
on moto's EventBridge Scheduler: each panel schedule gets its EventBridge schedule in the stack's
group, targeting the trigger function by the name the template gives it, with the role the
template creates, which may invoke that function and nothing else."""

from __future__ import annotations

import copy
import fnmatch
import json
from typing import Any

import pytest

from infra import template as cfn
from mamba import bootstrap
from tests.backup_support import build_world
from tests.cfn_render import Renderer, parameter_values
from tests.schedule_support import NIGHTLY, scheduler

STACK = "mamba-test"
ROLE_ARN = f"arn:aws:iam::123456789012:role/{STACK}-SchedulerRole-ABC123"


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    return cfn.merge_template()


@pytest.fixture(scope="module")
def rendered(merged: dict[str, Any]) -> Renderer:
    return Renderer(
        merged,
        parameter_values(merged),
        stack=STACK,
        physical={cfn.SCHEDULE_GROUP: f"{STACK}-schedules"},
        attributes={f"{cfn.SCHEDULER_ROLE}.Arn": ROLE_ARN},
    )


def statements(rendered: Renderer, logical: str) -> list[dict[str, Any]]:
    resource = rendered.value(rendered.template["Resources"][logical])
    if logical == cfn.FUNCTIONS_POLICY:
        return list(resource["Properties"]["PolicyDocument"]["Statement"])
    return [s for p in resource["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_the_group_role_and_trigger_name_are_in_the_template(merged: dict[str, Any], rendered: Renderer) -> None:
    resources = merged["Resources"]
    group = rendered.value(resources[cfn.SCHEDULE_GROUP])
    assert group == {"Type": "AWS::Scheduler::ScheduleGroup", "Properties": {"Name": f"{STACK}-schedules"}}
    trust = rendered.value(resources[cfn.SCHEDULER_ROLE])["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ]
    trigger = cfn.function_logical_id(cfn.SCHEDULE_TRIGGER)
    assert rendered.value(resources[trigger]) == {"Properties": {"FunctionName": f"{STACK}-schedule-trigger"}}
    alarm = resources["ScheduleInvocationsDroppedAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Scheduler", "InvocationDroppedCount")


def test_the_role_invokes_only_the_trigger_and_only_the_panel_may_pass_it(rendered: Renderer) -> None:
    trigger_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{STACK}-schedule-trigger"
    assert statements(rendered, cfn.SCHEDULER_ROLE) == [
        {"Sid": "InvokeTrigger", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": trigger_arn}
    ]
    by_sid = {s["Sid"]: s for s in statements(rendered, cfn.FUNCTIONS_POLICY)}
    assert by_sid["PassSchedulerRole"] == {
        "Sid": "PassSchedulerRole",
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": ROLE_ARN,
        "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
    }
    assert by_sid["Schedules"]["Resource"] == f"arn:aws:scheduler:us-east-1:123456789012:schedule/{STACK}-schedules/*"


def test_each_schedule_gets_its_eventbridge_schedule_with_the_templates_settings(
    client: Any, rendered: Renderer
) -> None:
    env = rendered.value(rendered.template["Globals"]["Function"]["Environment"]["Variables"])
    scheduler().create_schedule_group(Name=env["SCHEDULE_GROUP"])
    changed = bootstrap.settings().model_copy(
        update={
            "schedule_group": env["SCHEDULE_GROUP"],
            "schedule_target_arn": env["SCHEDULE_TARGET_ARN"],
            "scheduler_role_arn": env["SCHEDULER_ROLE_ARN"],
        }
    )
    world = build_world(client.http)
    base = f"/v1/tenants/{world.tenant_id}/servers/{world.server.uuid}/schedules"
    headers = {**world.owner_headers, "Content-Type": "application/json"}

    with bootstrap.override(settings=changed):
        ids = []
        for _ in range(2):
            created = client.http.post(base, headers=headers, body=json.dumps(copy.deepcopy(NIGHTLY)))
            assert created.status_code == 201, created.json_body
            ids.append(created.json_body["id"])

    listed = scheduler().list_schedules(GroupName=env["SCHEDULE_GROUP"])["Schedules"]
    assert sorted(s["Name"] for s in listed) == sorted(f"{i}-0" for i in ids)
    invoke = statements(rendered, cfn.SCHEDULER_ROLE)[0]["Resource"]
    allowed = next(s for s in statements(rendered, cfn.FUNCTIONS_POLICY) if s["Sid"] == "Schedules")["Resource"]
    for summary in listed:
        held = scheduler().get_schedule(Name=summary["Name"], GroupName=env["SCHEDULE_GROUP"])
        assert held["Target"]["Arn"] == invoke  # the function the role may invoke
        assert held["Target"]["RoleArn"] == ROLE_ARN
        assert held["ScheduleExpressionTimezone"] == "Europe/Berlin"
        assert fnmatch.fnmatch(held["Arn"], allowed)  # inside what the functions may write
