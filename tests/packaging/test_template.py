"""The merge template and the build's helpers, without running chalice package (fast)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import build, workflows
from infra import template as cfn
from mamba.adapters.dynamo.tables import TABLES


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    return cfn.merge_template()


def _resources(merged: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in merged["Resources"].items() if v.get("Type") == kind}


def test_tables_have_pitr_sse_and_ttl(merged: dict[str, Any]) -> None:
    tables = _resources(merged, "AWS::DynamoDB::Table")
    assert set(tables) == {t.logical_id for t in TABLES}
    for table in TABLES:
        props = tables[table.logical_id]["Properties"]
        # Records are recoverable; the metrics history (expiring, recomputable) is not worth PITR's cost.
        pitr = table.logical_id != "MetricsTable"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": pitr}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert props["TimeToLiveSpecification"]["AttributeName"] == table.ttl_attribute


def test_backup_bucket_is_private_encrypted_unversioned_and_cleans_up_uploads(merged: dict[str, Any]) -> None:
    props = merged["Resources"][cfn.BUCKET]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert "VersioningConfiguration" not in props
    abort, transition = props["LifecycleConfiguration"]["Rules"]
    assert abort["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # The STANDARD_IA move exists only when the BackupTransitionDays parameter is not 0.
    condition, rule, otherwise = transition["Fn::If"]
    assert condition == "HasBackupTransition"
    assert rule["Transitions"] == [{"StorageClass": "STANDARD_IA", "TransitionInDays": {"Ref": "BackupTransitionDays"}}]
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert merged["Conditions"]["HasBackupTransition"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "BackupTransitionDays"}, "0"]}]
    }
    assert merged["Parameters"]["BackupTransitionDays"]["Default"] == "0"


def test_stripe_queue_has_a_dead_letter_queue_with_a_depth_alarm(merged: dict[str, Any]) -> None:
    queue = merged["Resources"][cfn.QUEUE]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [cfn.DLQ, "Arn"]}
    alarm = merged["Resources"]["StripeEventsDLQDepthAlarm"]["Properties"]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [cfn.DLQ, "QueueName"]}}]
    assert alarm["AlarmActions"] == [{"Ref": cfn.ALARM_TOPIC}]


def test_the_stripe_queue_feeds_its_consumer_with_partial_batch_failures(merged: dict[str, Any]) -> None:
    mapping = _resources(merged, "AWS::Lambda::EventSourceMapping")["StripeEventsMapping"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [cfn.QUEUE, "Arn"]}
    assert mapping["FunctionName"] == {"Ref": "StripeEvents"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_events_queue_feeds_its_consumer_and_dead_letters_with_an_alarm(merged: dict[str, Any]) -> None:
    # Given the notification events queue of issue 14 (docs/notifications.md)
    queue = merged["Resources"][cfn.EVENTS_QUEUE]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [cfn.EVENTS_DLQ, "Arn"]},
        "maxReceiveCount": cfn.QUEUE_MAX_RECEIVES,
    }
    assert queue["SqsManagedSseEnabled"] is True
    alarm = merged["Resources"]["EventsDLQDepthAlarm"]["Properties"]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [cfn.EVENTS_DLQ, "QueueName"]}}]
    # Then its consumer (app.py's notification_events) takes it with partial batch failures
    mapping = _resources(merged, "AWS::Lambda::EventSourceMapping")["EventsMapping"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [cfn.EVENTS_QUEUE, "Arn"]}
    assert mapping["FunctionName"] == {"Ref": "NotificationEvents"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # and every function can publish to it, by the URL Settings reads
    env = merged["Globals"]["Function"]["Environment"]["Variables"]
    assert env["EVENTS_QUEUE_URL"] == {"Ref": cfn.EVENTS_QUEUE}
    statements = merged["Resources"][cfn.FUNCTIONS_POLICY]["Properties"]["PolicyDocument"]["Statement"]
    publish = next(s for s in statements if s.get("Sid") == "NotificationEvents")
    assert "sqs:SendMessage" in publish["Action"] and publish["Resource"] == {"Fn::GetAtt": [cfn.EVENTS_QUEUE, "Arn"]}


def test_secret_is_generated_with_the_keys_config_reads(merged: dict[str, Any]) -> None:
    generated = merged["Resources"][cfn.SECRET]["Properties"]["GenerateSecretString"]
    keys = set(json.loads(generated["SecretStringTemplate"])) | {generated["GenerateStringKey"]}
    assert keys == {"JWT_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}
    assert generated["PasswordLength"] >= 32


def test_every_function_gets_the_settings_environment(merged: dict[str, Any]) -> None:
    env = merged["Globals"]["Function"]["Environment"]["Variables"]
    for table in TABLES:
        assert env[table.env_var] == {"Ref": table.logical_id}
    assert env["MAMBA_SECRETS_ID"] == {"Ref": cfn.SECRET}
    assert env["BACKUP_BUCKET"] == {"Ref": cfn.BUCKET}
    assert env["BACKUP_PART_SIZE_BYTES"] == {"Ref": "BackupPartSizeBytes"}
    assert merged["Parameters"]["BackupPartSizeBytes"]["MinValue"] == 5 * 1024 * 1024
    assert env["STATE_MACHINE_PREFIX"] == cfn.STATE_MACHINE_PREFIX
    # Settings.state_machine_arn(workflow) is prefix + workflow: the machine's name is stack-workflow.
    for workflow in workflows.workflow_names():
        machine = merged["Resources"][cfn.workflow_logical_id(workflow)]["Properties"]
        assert machine["StateMachineName"] == {"Fn::Sub": "${AWS::StackName}-" + workflow}
        assert cfn.STATE_MACHINE_PREFIX["Fn::Sub"].endswith(":stateMachine:${AWS::StackName}-")


def test_functions_policy_covers_what_the_adapters_call(merged: dict[str, Any]) -> None:
    statements = merged["Resources"][cfn.FUNCTIONS_POLICY]["Properties"]["PolicyDocument"]["Statement"]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {
        "dynamodb:Query",
        "dynamodb:DescribeTable",
        "s3:PutObject",
        "s3:ListBucket",
        "states:StartExecution",
        "states:DescribeStateMachine",
        "states:SendTaskSuccess",
        "secretsmanager:GetSecretValue",
        "ses:SendEmail",
    } <= actions
    assert not any(a.endswith(":*") or a == "*" for a in actions)
    assert merged["Resources"][cfn.DEFAULT_ROLE] == {
        "Properties": {"ManagedPolicyArns": [{"Ref": cfn.FUNCTIONS_POLICY}]}
    }


def test_state_machine_role_invokes_exactly_its_task_functions(merged: dict[str, Any]) -> None:
    policies = merged["Resources"]["CheckPlatformStateMachineRole"]["Properties"]["Policies"]
    tasks = next(p for p in policies if p["PolicyName"] == "tasks")["PolicyDocument"]["Statement"]
    assert tasks == [
        {
            "Sid": "InvokeTasks",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": [
                {"Fn::GetAtt": ["TaskOperations", "Arn"]},
                {"Fn::GetAtt": ["TaskPlatformCheck", "Arn"]},
            ],
        }
    ]


def test_state_machine_role_grants_sdk_integrations_on_their_resources_only() -> None:
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "${MainTableName}", "Key": {}},
                "Next": "List",
            },
            "List": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:listObjectsV2",
                "Parameters": {"Bucket": "${BackupBucketName}"},
                "Next": "Wait",
            },
            "Wait": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "End": True}
            | {"Parameters": {"FunctionName": "${TaskOperationsArn}", "Payload": {"token.$": "$$.Task.Token"}}},
        },
    }
    statements = cfn.state_machine_statements("demo", definition)
    by_action = {s["Action"]: s["Resource"] for s in statements}
    assert by_action["lambda:InvokeFunction"] == [{"Fn::GetAtt": ["TaskOperations", "Arn"]}]
    assert by_action["dynamodb:GetItem"] == [
        {"Fn::GetAtt": ["MainTable", "Arn"]},
        {"Fn::Sub": "${MainTable.Arn}/index/*"},
    ]
    assert by_action["s3:ListBucket"] == [{"Fn::GetAtt": [cfn.BUCKET, "Arn"]}]


def test_state_machine_role_refuses_an_integration_it_cannot_scope() -> None:
    definition = {
        "StartAt": "Publish",
        "States": {"Publish": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True}},
    }
    with pytest.raises(cfn.TemplateError, match="cannot grant"):
        cfn.state_machine_statements("demo", definition)


def test_every_workflow_alarms_on_failed_executions(merged: dict[str, Any]) -> None:
    alarms = _resources(merged, "AWS::CloudWatch::Alarm")
    for workflow in workflows.workflow_names():
        machine = cfn.workflow_logical_id(workflow)
        failed = alarms[f"{machine}FailedAlarm"]["Properties"]
        assert failed["MetricName"] == "ExecutionsFailed"
        assert failed["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine}}]


@pytest.mark.parametrize("response_type", sorted(cfn.GATEWAY_RESPONSES))
def test_gateway_responses_use_the_error_shape(response_type: str) -> None:
    response = cfn.gateway_responses()[response_type]
    body = response["responseTemplates"]["application/json"]
    rendered = json.loads(
        body.replace("$context.error.messageString", '"Missing Authentication Token"').replace(
            "$context.requestId", "c0ffee"
        )
    )
    assert set(rendered) == {"error", "request_id"}
    assert set(rendered["error"]) == {"code", "message", "details"}
    assert rendered["error"]["code"] == cfn.GATEWAY_RESPONSES[response_type][1]
    assert rendered["request_id"] == "c0ffee"


def test_default_4xx_and_5xx_and_unknown_routes_are_covered() -> None:
    responses = cfn.gateway_responses()
    assert {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert "statusCode" not in responses["DEFAULT_4XX"]  # keep API Gateway's own status


def test_runtime_requirements_are_the_pinned_closure_without_chalice() -> None:
    requirements = build.runtime_requirements()
    names = {r.split("==")[0] for r in requirements}
    assert {"pydantic", "pydantic-core", "pynamodb", "botocore", "stripe", "argon2-cffi-bindings"} <= names
    assert not names & {"chalice", "click", "inquirer", "pip", "setuptools", "wheel"}
    pins = build._lock_pins(build.ROOT / "requirements.lock")
    assert all(r == f"{r.split('==')[0]}=={pins[r.split('==')[0]]}" for r in requirements)


def test_staged_config_leaves_mamba_env_to_the_template() -> None:
    config = {"stages": {"dev": {"environment_variables": {"MAMBA_ENV": "deployed", "MAMBA_STAGE": "dev"}}}}
    staged = build.staged_config(config)
    assert staged["stages"]["dev"]["environment_variables"] == {"MAMBA_STAGE": "dev"}
    assert config["stages"]["dev"]["environment_variables"]["MAMBA_ENV"] == "deployed"  # not mutated


def test_staged_config_refuses_a_packaged_stage_that_is_not_deployed() -> None:
    config = {"stages": {"dev": {"environment_variables": {"MAMBA_ENV": "local"}}}}
    with pytest.raises(build.BuildError, match="MAMBA_ENV='local'"):
        build.staged_config(config)


def test_verify_names_what_chalice_no_longer_generates(merged: dict[str, Any]) -> None:
    with pytest.raises(build.BuildError) as caught:
        build.verify({"Resources": {cfn.DEFAULT_ROLE: {"Properties": {}}}})
    message = str(caught.value)
    assert "TaskOperations" in message
    assert "have no Chalice counterpart" in message
    assert "gateway responses" in message
