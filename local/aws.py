"""Local AWS: moto 5.2.5 in this process, with every resource the panel needs.

Step Functions executes the real ASL (``execute_state_machine``) and its Lambda tasks
run the real handlers in this process (``local.lambda_dispatch``), so the launcher's own
environment is the one every task handler sees.

Everything is created from the shared definitions: tables from ``TABLES``, one Lambda
per ``TASKS`` entry, one state machine per ``statemachines/*.asl.json`` rendered with
``placeholders_local``. Names match what ``Settings`` derives from the environment, so
``settings.state_machine_arn(name)`` is the ARN of the machine created here.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import urllib.request
import zipfile
from dataclasses import dataclass
from typing import Any

from moto.server import ThreadedMotoServer

from functions.tasks import TASKS
from infra import workflows
from local import dynamo_atomic, lambda_dispatch
from mamba.adapters.dynamo.tables import TABLES

# moto's default account; role and function ARNs must name it or moto refuses them.
ACCOUNT_ID = "123456789012"
HOST = "127.0.0.1"
STATE_MACHINE_NAME_PREFIX = "mamba-"
QUEUE_STRIPE_EVENTS = "mamba-stripe-events"
QUEUE_EVENTS = "mamba-events"  # the notification events (docs/notifications.md)

_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
_STATES_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}

_SCHEDULER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


class LocalAwsError(RuntimeError):
    """The local AWS could not start (a port in use, a resource refused)."""


@dataclass(frozen=True)
class LocalNames:
    """The physical names of the local resources; ``environment()`` hands them to Settings."""

    region: str = "us-east-1"
    table_main: str = "mamba-main"
    table_idempotency: str = "mamba-idempotency"
    table_metrics: str = "mamba-metrics"
    backup_bucket: str = "mamba-backups"
    export_bucket: str = "mamba-exports"
    stripe_events_queue: str = QUEUE_STRIPE_EVENTS
    events_queue: str = QUEUE_EVENTS
    mail_from: str = "no-reply@mamba.local"
    kms_key_alias: str = "alias/mamba-node-tokens"
    # EventBridge Scheduler (docs/schedules.md): moto holds the schedules, local/scheduler.py fires them.
    schedule_group: str = "mamba-schedules"
    schedule_trigger: str = "schedule_trigger"
    scheduler_role: str = "mamba-local-scheduler"

    @property
    def state_machine_prefix(self) -> str:
        return f"arn:aws:states:{self.region}:{ACCOUNT_ID}:stateMachine:{STATE_MACHINE_NAME_PREFIX}"

    def table_name(self, env_var: str) -> str:
        return {
            "TABLE_MAIN": self.table_main,
            "TABLE_IDEMPOTENCY": self.table_idempotency,
            "TABLE_METRICS": self.table_metrics,
        }[env_var]

    def environment(self) -> dict[str, str]:
        return {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "TABLE_MAIN": self.table_main,
            "TABLE_IDEMPOTENCY": self.table_idempotency,
            "TABLE_METRICS": self.table_metrics,
            "BACKUP_BUCKET": self.backup_bucket,
            "EXPORT_BUCKET": self.export_bucket,
            "STATE_MACHINE_PREFIX": self.state_machine_prefix,
            "MAIL_FROM": self.mail_from,
            "KMS_KEY_ID": self.kms_key_alias,
            "SCHEDULE_GROUP": self.schedule_group,
            "SCHEDULE_TARGET_ARN": f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.schedule_trigger}",
            "SCHEDULER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT_ID}:role/{self.scheduler_role}",
        }


class _MotoServer(ThreadedMotoServer):
    """ThreadedMotoServer that reports a failed bind instead of waiting for it forever."""

    error: BaseException | None = None

    def _server_entry(self) -> None:
        try:
            super()._server_entry()
        except OSError as exc:
            self.error = exc
            self._server_ready_event.set()


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def start_moto(port: int) -> ThreadedMotoServer:
    """Start moto on 127.0.0.1:``port`` with state machines executing and Lambda in-process.

    The caller must already have set ``MOTO_PORT``: moto's ASL interpreter calls Lambda
    back over HTTP on that port.
    """
    lambda_dispatch.install()
    dynamo_atomic.install()  # DynamoDB's per-item atomicity, which the rate limits rely on
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per AWS call drowns the output
    server = _MotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    if server.error is not None:
        raise LocalAwsError(f"moto could not listen on {HOST}:{port}: {server.error}")
    endpoint = f"http://{HOST}:{port}"
    request = urllib.request.Request(  # noqa: S310 (our own loopback URL)
        f"{endpoint}/moto-api/config",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own loopback URL)
        if response.status >= 300:
            raise LocalAwsError(f"moto refused its configuration: HTTP {response.status}")
    return server


def _client(service: str, endpoint: str, region: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _placeholder_zip() -> bytes:
    """moto wants code bytes; the handlers run from this checkout, not from the zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "local stack: handlers run in-process from the checkout\n")
    return buffer.getvalue()


def _role(iam: Any, name: str, trust: dict[str, Any]) -> str:
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def create_resources(endpoint: str, names: LocalNames) -> dict[str, Any]:
    """Create every table, bucket, queue, function, state machine and the SES identity.

    Returns what was created, by kind, for the launcher's summary.
    """
    region = names.region
    created: dict[str, Any] = {}

    dynamodb = _client("dynamodb", endpoint, region)
    created["tables"] = []
    for table in TABLES:
        name = names.table_name(table.env_var)
        dynamodb.create_table(**table.create_table_kwargs(name))
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
            )
        created["tables"].append(name)

    _client("s3", endpoint, region).create_bucket(Bucket=names.backup_bucket)
    _client("s3", endpoint, region).create_bucket(Bucket=names.export_bucket)
    created["buckets"] = [names.backup_bucket, names.export_bucket]

    sqs = _client("sqs", endpoint, region)
    created["queues"] = []
    for queue in (names.stripe_events_queue, names.events_queue):
        dlq_url = sqs.create_queue(QueueName=f"{queue}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.create_queue(
            QueueName=queue,
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})},
        )
        created["queues"] += [queue, f"{queue}-dlq"]

    iam = _client("iam", endpoint, region)
    lambda_role = _role(iam, "mamba-local-lambda", _LAMBDA_TRUST)
    states_role = _role(iam, "mamba-local-states", _STATES_TRUST)

    lambda_client = _client("lambda", endpoint, region)
    code = _placeholder_zip()
    for function_name, target in TASKS.items():
        lambda_client.create_function(
            FunctionName=function_name,
            Runtime="python3.12",
            Role=lambda_role,
            Handler=target,
            Code={"ZipFile": code},
            Timeout=60,
        )
    created["functions"] = sorted(TASKS)

    sfn = _client("stepfunctions", endpoint, region)
    values = workflows.placeholders_local(region, ACCOUNT_ID, names.table_main, names.backup_bucket)
    created["state_machines"] = []
    for workflow in workflows.workflow_names():
        definition = workflows.render(workflows.load(workflow), values)
        arn = sfn.create_state_machine(
            name=f"{STATE_MACHINE_NAME_PREFIX}{workflow}", definition=json.dumps(definition), roleArn=states_role
        )["stateMachineArn"]
        if arn != f"{names.state_machine_prefix}{workflow}":
            raise LocalAwsError(f"state machine {workflow} got ARN {arn}, not the one Settings derives")
        created["state_machines"].append(workflow)

    kms = _client("kms", endpoint, region)
    key_id = kms.create_key(Description="mamba node tokens (local)")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=names.kms_key_alias, TargetKeyId=key_id)
    created["kms_keys"] = [names.kms_key_alias]

    _role(iam, names.scheduler_role, _SCHEDULER_TRUST)
    _client("scheduler", endpoint, region).create_schedule_group(Name=names.schedule_group)
    created["schedule_groups"] = [names.schedule_group]

    _client("ses", endpoint, region).verify_email_identity(EmailAddress=names.mail_from)
    created["ses_identities"] = [names.mail_from]
    return created
