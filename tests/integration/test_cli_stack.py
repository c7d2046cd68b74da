"""``mamba --stack NAME ...`` (issue 19, item 2): every CLI command runs in deployed mode from the
stack's outputs alone, proven against a CloudFormation stack on moto whose Outputs are the
panel template's.

moto's CloudFormation cannot create every resource of the real template (functions, the API,
CloudFront, Secrets Manager), so the test stack carries the template's parameters, conditions
and outputs with only the resources those outputs name: the tables (their real definitions),
the buckets, the queues, the node-token key. The secret is made beside the stack, from the
template's own GenerateSecretString, and the stack's reference to it is a parameter.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra import template as cfn
from mamba import bootstrap, config
from mamba.cli import main
from mamba.migrations.registry import load_migrations
from mamba.stack import environment_from_outputs, output_name, variable_name
from tests.packaging.test_first_deploy import generated_secret

STACK = "mamba-staging"
DOMAIN = "panel.example.com"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000"
# What moto's CloudFormation can create, out of the resources the Env* outputs name.
KEPT = {t.logical_id for t in cfn.TABLES} | {
    cfn.BUCKET,
    cfn.EXPORT_BUCKET,
    cfn.QUEUE,
    cfn.DLQ,
    cfn.NODE_TOKEN_KEY,
    f"{cfn.NODE_TOKEN_KEY}Alias",
    cfn.ALARM_TOPIC,
}


def _mentions(node: Any, names: set[str]) -> bool:
    text = json.dumps(node)
    return any(f'"{n}"' in text or "${" + n in text for n in names)


def stack_template(merged: dict[str, Any]) -> dict[str, Any]:
    """The test stack: ``merged``'s parameters, conditions and outputs, with the resources moto
    can create that the outputs name."""
    resources = {k: v for k, v in merged["Resources"].items() if k in KEPT}
    missing = set(merged["Resources"]) - KEPT - {cfn.SECRET}
    outputs: dict[str, Any] = {}
    for name, output in merged["Outputs"].items():
        value = output["Value"]
        if not _mentions(value, missing):
            outputs[name] = output
    text = json.dumps({"Resources": resources, "Outputs": outputs}).replace(
        json.dumps({"Ref": cfn.SECRET}), json.dumps({"Ref": "AppSecretsArn"})
    )
    body = json.loads(text)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {**merged["Parameters"], "AppSecretsArn": {"Type": "String"}},
        "Conditions": merged["Conditions"],
        **body,
    }


@pytest.fixture
def stack_source() -> dict[str, Any]:
    """The template whose outputs the test stack has (the packaged one in the packaging group)."""
    return cfn.merge_template()


@pytest.fixture
def deployed_stack(
    aws: None, monkeypatch: pytest.MonkeyPatch, stack_source: dict[str, Any]
) -> Iterator[dict[str, str]]:
    """The stack, created on moto, and its outputs; the process's settings restored afterwards."""
    merged = stack_source
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name=f"{STACK}-AppSecrets", SecretString=json.dumps(generated_secret(merged))
    )["ARN"]
    client = boto3.client("cloudformation", region_name="us-east-1")
    client.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(stack_template(merged)),
        Parameters=[
            {"ParameterKey": "AppSecretsArn", "ParameterValue": secret_arn},
            {"ParameterKey": "WebDomainName", "ParameterValue": DOMAIN},
            {"ParameterKey": "WebCertificateArn", "ParameterValue": CERTIFICATE},
            {"ParameterKey": "MailFrom", "ParameterValue": "no-reply@example.com"},
        ],
    )
    described = client.describe_stacks(StackName=STACK)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    # Nothing of the test process's own configuration may reach the command: it must come from the stack.
    for name in ("MAMBA_ENV", "JWT_SECRET", "TABLE_MAIN", "MAMBA_PUBLIC_URL", "CAPTCHA_PROVIDER", "KMS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "environ", os.environ.copy())  # the CLI writes the stack's settings here
    config.get_settings.cache_clear()
    bootstrap.reset()
    try:
        yield outputs
    finally:
        monkeypatch.undo()
        config.get_settings.cache_clear()
        bootstrap.reset()


def test_the_template_publishes_every_function_variable_as_an_output_the_cli_reads() -> None:
    # Given the functions' environment in the template
    env = cfn.function_environment()
    outputs = cfn.merge_template()["Outputs"]
    # Then each variable (but the functions-only ones) has an Env* output that maps back to it
    for variable in set(env) - cfn.CLI_SKIPS:
        assert variable_name(output_name(variable)) == variable
        assert output_name(variable) in outputs, variable
    # and the resource outputs an operator reads by name are there too
    assert {"SecretsArn", "NodeTokenKeyId", "PanelUrl", "MainTableName", "StateMachinePrefix"} <= set(outputs)


def test_outputs_with_an_empty_value_leave_the_setting_at_its_default() -> None:
    found = environment_from_outputs({"EnvMailFrom": "", "EnvTableMain": "t", "SecretsArn": "arn", "Envy": "x"})
    assert found == {"TABLE_MAIN": "t"}


def test_check_config_loads_the_deployed_settings_from_the_stack_alone(deployed_stack, capsys) -> None:
    # Given a deployed stack and a shell with no panel settings
    # When the operator runs check-config against it by name
    code = main(["--stack", STACK, "check-config"])
    out, err = capsys.readouterr()
    # Then it loads deployed-mode settings from the stack's outputs and its generated secret
    assert code == 0, err
    shown = json.loads(out)
    assert shown["env"] == "deployed"
    assert shown["table_main"] == deployed_stack["MainTableName"]
    assert shown["backup_bucket"] == deployed_stack["BackupBucketName"]
    assert shown["kms_key_id"] == deployed_stack["NodeTokenKeyId"]
    assert shown["state_machine_prefix"] == f"arn:aws:states:us-east-1:123456789012:stateMachine:{STACK}-"
    assert shown["stripe_events_queue_url"] == deployed_stack["StripeEventsQueueUrl"]
    assert shown["public_url"] == f"https://{DOMAIN}"
    assert shown["mail_from"] == "no-reply@example.com"
    assert shown["captcha_provider"] == "disabled"
    assert shown["secrets"]["JWT_SECRET"] == "set"
    # and warns that CAPTCHA is still off (the first-deploy default)
    assert "warning: CAPTCHA is disabled" in err


def test_migrate_runs_on_the_stacks_table_with_a_dry_run_first(deployed_stack, capsys) -> None:
    versions = [m.version for m in load_migrations()]
    # Given a fresh stack: the dry run lists every migration and applies none
    assert main(["--stack", STACK, "migrate", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert [line.split()[2].rstrip(":") for line in dry.splitlines() if line.startswith("would apply")] == versions
    assert main(["--stack", STACK, "migrate", "--status"]) == 0
    assert "applied" not in capsys.readouterr().out.replace("(not in this code)", "")
    # When the pipeline migrates, twice (a re-run of the deploy job)
    assert main(["--stack", STACK, "migrate"]) == 0
    assert f"applied {len(versions)}" in capsys.readouterr().out
    assert main(["--stack", STACK, "migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    # Then the ledger is in the stack's table, and the dry run has nothing left
    ledger = (
        boto3.resource("dynamodb")
        .Table(deployed_stack["MainTableName"])
        .get_item(Key={"pk": "META#MIGRATIONS", "sk": "LEDGER"})
    )
    assert "Item" in ledger
    assert main(["--stack", STACK, "migrate", "--dry-run"]) == 0
    assert "dry run: up to date" in capsys.readouterr().out
    # and a dry run of a roll back names the newest first, undoing nothing
    assert main(["--stack", STACK, "migrate", "--down", "2", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[3].rstrip(":") for line in lines[:2]] == versions[::-1][:2]
    assert lines[-1] == "dry run: 2 to roll back"
    assert "Item" in boto3.resource("dynamodb").Table(deployed_stack["MainTableName"]).get_item(
        Key={"pk": "META#MIGRATIONS", "sk": "LEDGER"}
    )
    assert main(["--stack", STACK, "migrate", "--status"]) == 0
    assert "pending" not in capsys.readouterr().out


def test_env_prints_the_stacks_settings_as_exports(deployed_stack, capsys) -> None:
    assert main(["--stack", STACK, "env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"export TABLE_MAIN={deployed_stack['MainTableName']}" in lines
    assert "export MAMBA_ENV=deployed" in lines
    assert "export AWS_REGION=us-east-1" in lines
    assert not any(line.startswith("export MAIL_FROM=''") for line in lines)


def test_region_without_a_stack_is_a_usage_error(capsys) -> None:
    assert main(["--region", "eu-west-1", "check-config"]) == 2
    assert "--region goes with --stack" in capsys.readouterr().err


def test_a_missing_stack_fails_in_one_line_naming_it(aws: None, capsys) -> None:
    assert main(["--stack", "no-such-stack", "check-config"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no stack named 'no-such-stack'" in err


def test_a_stack_that_is_not_a_panel_is_refused(aws: None, capsys) -> None:
    boto3.client("cloudformation").create_stack(
        StackName="other",
        TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"Q": {"Value": "x"}}}),
    )
    assert main(["--stack", "other", "check-config"]) == 1
    assert "no Env* outputs" in capsys.readouterr().err


def test_check_platform_runs_on_the_stacks_workflow_and_warns_while_captcha_is_off(deployed_stack, capsys) -> None:
    # Given the stack's check_platform state machine (a stand-in that succeeds at once)
    prefix = f"arn:aws:states:us-east-1:123456789012:stateMachine:{STACK}-"
    boto3.client("stepfunctions", region_name="us-east-1").create_state_machine(
        name=f"{STACK}-check_platform",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )
    # When the operator runs the self-check against the stack by name
    code = main(["--stack", STACK, "check-platform"])
    out, err = capsys.readouterr()
    # Then it starts the stack's workflow, records the operation in the stack's table, and warns
    assert code == 0, err
    op_id = out.strip()
    executions = boto3.client("stepfunctions", region_name="us-east-1").list_executions(
        stateMachineArn=prefix + "check_platform"
    )["executions"]
    assert [e["name"] for e in executions] == [op_id]
    item = boto3.resource("dynamodb").Table(deployed_stack["MainTableName"]).scan()["Items"]
    assert any(op_id in str(i.get("sk", "")) or op_id in str(i.get("pk", "")) for i in item)
    assert "warning: CAPTCHA is disabled" in err
