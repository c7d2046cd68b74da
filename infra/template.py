"""The CloudFormation that ``chalice package --merge-template`` merges into Chalice's template.

Chalice generates the functions, the managed layer, ``DefaultRole`` (the functions' role)
and ``RestAPI``. Everything else comes from here (``merge_template()``, written to
``build/merge.json`` by ``infra.build``):

* the DynamoDB tables from ``TABLES`` (``TableDef.cfn_resource()``: PITR, SSE, TTL);
* the backup bucket: public access blocked, SSE, TLS only, no versioning, incomplete
  multipart uploads aborted after a day and an optional move to STANDARD_IA;
* the Stripe events queue with its dead-letter queue, and the notification events queue
  (``EventsQueue``, its ``EventsDLQ`` and the consumer's mapping: docs/notifications.md);
* ``AppSecrets``, the Secrets Manager secret every function reads (``MAMBA_SECRETS_ID``);
* one state machine per ``statemachines/*.asl.json``, the ASL embedded as a ``Definition``
  object with ``DefinitionSubstitutions`` from ``placeholders_cfn``, each with its own
  least-privilege role, a log group and an alarm on failed and timed-out executions;
* the functions' environment (SAM ``Globals``) and their policy (``FunctionsPolicy``,
  attached to ``DefaultRole``);
* API Gateway gateway responses in the panel's error shape;
* the web panel: a private bucket behind CloudFront with origin access control, the API
  paths routed to API Gateway uncached, the SPA rewrite and the security headers, and the
  domain's alias records (``infra.web_hosting``);
* ``Migrations``, the custom resource that runs the data migrations during the deploy
  (``migrations_resource``);
* the outputs, among them one ``Env<Variable>`` per variable of the functions' environment,
  which ``mamba --stack`` reads back (``environment_outputs``, ``mamba.stack``).

State machines are named ``<stack name>-<workflow>``, so ``STATE_MACHINE_PREFIX`` is an
``Fn::Sub`` of pseudo parameters and the functions never reference the machines (which
reference the functions): no dependency cycle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from chalice.utils import to_cfn_resource_name

from functions.tasks import TASKS, placeholder
from infra import observability, web_hosting, workflows
from mamba.adapters.dynamo.tables import TABLES

# Resources that Chalice generates (checked after packaging by infra.build).
API_HANDLER = "APIHandler"
DEFAULT_ROLE = "DefaultRole"
REST_API = "RestAPI"

BUCKET = "BackupBucket"
EXPORT_BUCKET = "ExportBucket"
EXPORT_DAYS = 7  # a tenant export holds personal data: it is a download, not an archive to keep
QUEUE = "StripeEventsQueue"
DLQ = "StripeEventsDLQ"
SECRET = "AppSecrets"
ALARM_TOPIC = "AlarmTopic"
FUNCTIONS_POLICY = "FunctionsPolicy"
NODE_TOKEN_KEY = "NodeTokenKey"  # KMS key that encrypts Wings node tokens

SERVICE = "mamba"
QUEUE_MAX_RECEIVES = 5
# SQS's rule of thumb: six times the consumer's timeout (Chalice's default is 60 s).
QUEUE_VISIBILITY_TIMEOUT = 360
LOG_RETENTION_DAYS = 30

STATE_MACHINE_PREFIX = {
    "Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-"
}


class TemplateError(Exception):
    """The merge template cannot be built (an ASL uses something infra cannot grant)."""


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _arn(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def function_logical_id(function_name: str) -> str:
    """Chalice's logical id for ``app.lambda_function(name=...)``: CamelCase of the name."""
    return to_cfn_resource_name(function_name)


def task_logical_ids() -> dict[str, str]:
    return {fn: function_logical_id(fn) for fn in TASKS}


def workflow_logical_id(workflow: str) -> str:
    return to_cfn_resource_name(workflow) + "StateMachine"


def state_machine_name(workflow: str) -> dict[str, str]:
    return _sub("${AWS::StackName}-" + workflow)


def state_machine_arn(workflow: str) -> dict[str, str]:
    return _sub(
        "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-" + workflow
    )


# --- parameters and conditions -------------------------------------------------------

# The keys a parameter value needs in the generated secret (AppSecrets) before the functions
# can start; docs/deploy.md's checklist fills them. tests/packaging/test_first_deploy.py renders
# every allowed value with exactly these keys added into the deployed-mode Settings.
SECRET_KEYS_NEEDED: dict[str, dict[str, tuple[str, ...]]] = {
    "BillingEnabled": {"true": ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")},
    "CaptchaProvider": {"turnstile": ("CAPTCHA_SECRET_KEY",), "hcaptcha": ("CAPTCHA_SECRET_KEY",)},
}

# Without PublicUrl or a domain the functions cannot be told the panel's URL: only CloudFront
# knows its name, and the distribution's API origin depends on the API, which depends on the
# functions (and SnapStart loads the settings when the API's version is published, before the
# distribution exists). Such a stack (a test stack) is deployed a second time with PublicUrl set
# to its PanelUrl output (docs/deploy.md); check-config warns until then.


OAUTH_PARAMETERS = ("Google", "Microsoft", "GitHub", "Discord")


def parameters() -> dict[str, Any]:
    return {
        "PublicUrl": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^(https://[^/\\s]+(/\\S*)?)?$",
            "Description": "The panel's public https URL (links in mail, the Wings remote, the browser origin). "
            "Empty: https://<WebDomainName>, or the CloudFront name without a domain.",
        },
        "MailFrom": {
            "Type": "String",
            "Default": "",
            "Description": "The SES-verified sender address; empty keeps the built-in default.",
        },
        "BillingEnabled": {
            "Type": "String",
            "Default": "false",
            "AllowedValues": ["false", "true"],
            "Description": "true requires STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET in the secret.",
        },
        "CaptchaProvider": {
            "Type": "String",
            # disabled by default: the first deploy cannot hold a CAPTCHA key (the provider issues
            # it), and a default that needs one would leave functions that refuse to start.
            # check-config and check-platform warn while it is off (docs/deploy.md).
            "Default": "disabled",
            "AllowedValues": ["disabled", "turnstile", "hcaptcha"],
            "Description": "CAPTCHA on register and login; turnstile/hcaptcha need CAPTCHA_SECRET_KEY in the secret.",
        },
        # Sign-in with an identity provider (docs/oauth.md): a provider is offered when its client id
        # is set; its client secret goes into the secret as OAUTH_<PROVIDER>_CLIENT_SECRET first.
        **{
            f"{name}ClientId": {
                "Type": "String",
                "Default": "",
                "AllowedPattern": "^[A-Za-z0-9._-]{0,200}$",
                "Description": f"Sign-in with {name}: its OAuth client id (empty: not offered); needs "
                f"OAUTH_{name.upper()}_CLIENT_SECRET in the secret.",
            }
            for name in OAUTH_PARAMETERS
        },
        "LogLevel": {
            "Type": "String",
            "Default": "INFO",
            "AllowedValues": ["DEBUG", "INFO", "WARNING", "ERROR"],
        },
        "BackupPartSizeBytes": {
            "Type": "Number",
            "Default": "5368709120",
            "MinValue": 5242880,
            "MaxValue": 5368709120,
            "Description": "The S3 multipart part size Wings uploads backups in (5 MiB to 5 GiB).",
        },
        "BackupTimeoutSeconds": {
            "Type": "Number",
            "Default": "10800",
            "MinValue": 60,
            "Description": "How long a backup or restore waits for the node's callback before it is aborted.",
        },
        "BackupTransitionDays": {
            "Type": "String",
            "Default": "0",
            # S3 moves objects to STANDARD_IA only once they are 30 days old.
            "AllowedPattern": "^(0|[3-9][0-9]|[1-9][0-9]{2,3})$",
            "ConstraintDescription": "0 (off) or a number of days from 30 to 9999",
            "Description": "Move backups to STANDARD_IA after this many days (0 = never).",
        },
        "ConfigRevision": {
            "Type": "String",
            "Default": "1",
            "Description": "Change it to make every function start fresh containers (they read the secret once).",
        },
        "AlarmEmail": {
            "Type": "String",
            "Default": "",
            "Description": "An address subscribed to the alarm topic (confirm the mail SNS sends); empty for none.",
        },
        "MigrationsOnDeploy": {
            "Type": "String",
            "Default": "apply",
            "AllowedValues": ["apply", "dry-run", "off"],
            "Description": "The data migrations during the deploy: apply them, only list them (dry-run), or "
            "leave them to `mamba --stack <stack> migrate` (off).",
        },
    }


def conditions() -> dict[str, Any]:
    def not_empty(param: str) -> dict[str, Any]:
        return {"Fn::Not": [{"Fn::Equals": [{"Ref": param}, ""]}]}

    return {
        "HasPublicUrl": not_empty("PublicUrl"),
        "HasMailFrom": not_empty("MailFrom"),
        "HasAlarmEmail": not_empty("AlarmEmail"),
        "HasBackupTransition": {"Fn::Not": [{"Fn::Equals": [{"Ref": "BackupTransitionDays"}, "0"]}]},
    }


def _if(condition: str, value: Any) -> dict[str, Any]:
    return {"Fn::If": [condition, value, {"Ref": "AWS::NoValue"}]}


def public_url_value() -> dict[str, Any]:
    """The panel's URL as the functions get it (``MAMBA_PUBLIC_URL``): PublicUrl, else the custom
    domain at base path /, else nothing (the Settings default, which check-config warns about)."""
    return {
        "Fn::If": [
            "HasPublicUrl",
            {"Ref": "PublicUrl"},
            _if("HasWebDomain", _sub("https://${WebDomainName}")),
        ]
    }


# --- data and storage -----------------------------------------------------------------


def tables() -> dict[str, Any]:
    return {table.logical_id: table.cfn_resource() for table in TABLES}


def backup_bucket() -> dict[str, Any]:
    bucket_arn = _arn(BUCKET)
    objects_arn = _sub("${BackupBucket.Arn}/*")
    return {
        BUCKET: {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                # No VersioningConfiguration: a backup is one immutable object with its own
                # retention in the panel; versions would keep deleted backups (and their cost).
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            # Wings uploads in presigned parts; a node that dies mid-upload
                            # would otherwise leave invisible, billed parts forever.
                            "Id": "abort-incomplete-multipart",
                            "Status": "Enabled",
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        },
                        _if(
                            "HasBackupTransition",
                            {
                                "Id": "transition-standard-ia",
                                "Status": "Enabled",
                                "Transitions": [
                                    {"StorageClass": "STANDARD_IA", "TransitionInDays": {"Ref": "BackupTransitionDays"}}
                                ],
                            },
                        ),
                    ]
                },
            },
        },
        "BackupBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": BUCKET},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket_arn, objects_arn],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


def export_bucket() -> dict[str, Any]:
    """Tenant export archives (``POST /v1/admin/tenants/{id}/export``): private, encrypted,
    reached only through a presigned GET, and deleted after ``EXPORT_DAYS``."""
    bucket_arn = _arn(EXPORT_BUCKET)
    objects_arn = _sub("${ExportBucket.Arn}/*")
    return {
        EXPORT_BUCKET: {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LifecycleConfiguration": {
                    "Rules": [{"Id": "expire-exports", "Status": "Enabled", "ExpirationInDays": EXPORT_DAYS}]
                },
            },
        },
        "ExportBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": EXPORT_BUCKET},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket_arn, objects_arn],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


def stripe_queue() -> dict[str, Any]:
    return {
        DLQ: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": _sub("${AWS::StackName}-stripe-events-dlq"),
                "MessageRetentionPeriod": 1209600,  # 14 days, the maximum: time to investigate
                "SqsManagedSseEnabled": True,
            },
        },
        QUEUE: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": _sub("${AWS::StackName}-stripe-events"),
                "VisibilityTimeout": QUEUE_VISIBILITY_TIMEOUT,
                "MessageRetentionPeriod": 345600,  # 4 days
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {"deadLetterTargetArn": _arn(DLQ), "maxReceiveCount": QUEUE_MAX_RECEIVES},
            },
        },
        "StripeEventsDLQDepthAlarm": _alarm(
            "Stripe events failed processing 5 times and wait in the dead-letter queue.",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [DLQ, "QueueName"]}},
            "Maximum",
        ),
    }


STRIPE_CONSUMER = "stripe_events"  # app.py's lambda_function that consumes the queue

# The notification events queue (docs/notifications.md): the services publish, the consumer
# delivers in-app, email and webhooks. Its own queue: a slow mail or webhook never holds up billing.
EVENTS_QUEUE = "EventsQueue"
EVENTS_DLQ = "EventsDLQ"
EVENTS_CONSUMER = "notification_events"  # app.py's lambda_function that consumes it


def events_queue() -> dict[str, Any]:
    return {
        EVENTS_DLQ: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": _sub("${AWS::StackName}-events-dlq"),
                "MessageRetentionPeriod": 1209600,  # 14 days, the maximum: time to investigate
                "SqsManagedSseEnabled": True,
            },
        },
        EVENTS_QUEUE: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": _sub("${AWS::StackName}-events"),
                # Six times the consumer's timeout, as AWS advises for a Lambda event source.
                "VisibilityTimeout": QUEUE_VISIBILITY_TIMEOUT,
                "MessageRetentionPeriod": 345600,  # 4 days (the mail claims are kept 15)
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {"deadLetterTargetArn": _arn(EVENTS_DLQ), "maxReceiveCount": QUEUE_MAX_RECEIVES},
            },
        },
        "EventsDLQDepthAlarm": _alarm(
            "Notification events failed delivery 5 times and wait in the dead-letter queue.",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [EVENTS_DLQ, "QueueName"]}},
            "Maximum",
        ),
    }


def events_consumer() -> dict[str, Any]:
    """The events queue → consumer mapping, retrying only the records the consumer reports."""
    return {
        "EventsMapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "EventSourceArn": _arn(EVENTS_QUEUE),
                "FunctionName": {"Ref": function_logical_id(EVENTS_CONSUMER)},
                "BatchSize": 10,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        }
    }


def stripe_consumer() -> dict[str, Any]:
    """The queue → consumer mapping. ``ReportBatchItemFailures`` makes SQS retry only the
    records the consumer reports (Powertools batch), not the whole batch."""
    return {
        "StripeEventsMapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "EventSourceArn": _arn(QUEUE),
                "FunctionName": {"Ref": function_logical_id(STRIPE_CONSUMER)},
                "BatchSize": 10,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        }
    }


def app_secret() -> dict[str, Any]:
    return {
        SECRET: {
            "Type": "AWS::SecretsManager::Secret",
            # Retained: deleting the stack must not throw away the Stripe keys.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": "Mamba panel secrets (JSON): JWT_SECRET, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET.",
                # Generated once, at creation: a strong JWT_SECRET and empty Stripe keys that
                # ops fill in (docs/deploy.md). Changing this block regenerates the whole value.
                "GenerateSecretString": {
                    "SecretStringTemplate": json.dumps({"STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": ""}),
                    "GenerateStringKey": "JWT_SECRET",
                    "PasswordLength": 64,
                    "ExcludePunctuation": True,
                },
            },
        }
    }


def alarm_topic() -> dict[str, Any]:
    return {
        # Not KMS-encrypted: CloudWatch alarms cannot publish to a topic under the AWS
        # managed key, and alarm notifications carry no secrets.
        ALARM_TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "Mamba panel alarms"}},
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": {"Ref": ALARM_TOPIC}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        },
    }


def node_token_key() -> dict[str, Any]:
    """The KMS key that encrypts node tokens (``KMS_KEY_ID``); only the functions' policy uses it."""
    return {
        NODE_TOKEN_KEY: {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",  # losing it makes every stored node token unreadable
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": "Encrypts the Wings node tokens of the Mamba panel",
                "EnableKeyRotation": True,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            # The account administers the key; IAM policies (FunctionsPolicy) grant its use.
                            "Sid": "AccountAdministers",
                            "Effect": "Allow",
                            "Principal": {"AWS": _sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                },
            },
        },
        f"{NODE_TOKEN_KEY}Alias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": _sub("alias/${AWS::StackName}-node-tokens"),
                "TargetKeyId": {"Ref": NODE_TOKEN_KEY},
            },
        },
    }


# --- the functions ---------------------------------------------------------------------


def function_environment() -> dict[str, Any]:
    """What ``mamba.config`` reads, for every function (SAM ``Globals``)."""
    env: dict[str, Any] = {
        "MAMBA_ENV": "deployed",
        # The stack's name is the stage's (mamba-staging, mamba-prod): Chalice's packaging stage is
        # always "dev", whatever the stack is called.
        "MAMBA_STAGE": {"Ref": "AWS::StackName"},
        "MAMBA_SECRETS_ID": {"Ref": SECRET},
        "BACKUP_BUCKET": {"Ref": BUCKET},
        "EXPORT_BUCKET": {"Ref": EXPORT_BUCKET},
        "BACKUP_PART_SIZE_BYTES": {"Ref": "BackupPartSizeBytes"},
        "BACKUP_TIMEOUT_SECONDS": {"Ref": "BackupTimeoutSeconds"},
        "STATE_MACHINE_PREFIX": STATE_MACHINE_PREFIX,
        "STRIPE_EVENTS_QUEUE_URL": {"Ref": QUEUE},
        "STRIPE_EVENTS_DLQ_URL": {"Ref": DLQ},
        "EVENTS_QUEUE_URL": {"Ref": EVENTS_QUEUE},
        "BILLING_ENABLED": {"Ref": "BillingEnabled"},
        "MAMBA_PUBLIC_URL": public_url_value(),
        "MAIL_FROM": _if("HasMailFrom", {"Ref": "MailFrom"}),
        "LOG_LEVEL": {"Ref": "LogLevel"},
        "KMS_KEY_ID": {"Ref": NODE_TOKEN_KEY},
        "CAPTCHA_PROVIDER": {"Ref": "CaptchaProvider"},
        **schedule_environment(),
        **{f"OAUTH_{name.upper()}_CLIENT_ID": {"Ref": f"{name}ClientId"} for name in OAUTH_PARAMETERS},
        # Read by nothing: changing it changes every function's configuration, which
        # retires the warm containers, so a rotated secret is picked up at once.
        "MAMBA_CONFIG_REVISION": {"Ref": "ConfigRevision"},
        "MAMBA_TRACING": {"Ref": "Tracing"},  # infra.observability: the opt-in Tracer
        "POWERTOOLS_SERVICE_NAME": SERVICE,
        "POWERTOOLS_METRICS_NAMESPACE": "Mamba",
    }
    env.update({table.env_var: {"Ref": table.logical_id} for table in TABLES})
    return env


def _table_arns() -> list[Any]:
    arns: list[Any] = []
    for table in TABLES:
        arns.append(_arn(table.logical_id))
        if table.indexes:
            arns.append(_sub("${" + table.logical_id + ".Arn}/index/*"))
    return arns


def functions_policy() -> dict[str, Any]:
    """Everything the panel's functions call, each on exactly the stack's resources."""
    workflows_in_stack = workflows.workflow_names()
    statements = [
        {
            "Sid": "Tables",
            "Effect": "Allow",
            "Action": [
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:DeleteItem",
                "dynamodb:DescribeTable",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
            ],
            "Resource": _table_arns(),
        },
        {
            "Sid": "BackupObjects",
            "Effect": "Allow",
            # PutObject also covers the multipart calls that presigned Wings uploads make.
            "Action": [
                "s3:AbortMultipartUpload",
                "s3:DeleteObject",
                "s3:GetObject",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
            ],
            "Resource": _sub("${BackupBucket.Arn}/*"),
        },
        {
            "Sid": "BackupBucket",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],  # ListBucket also allows HeadBucket
            "Resource": _arn(BUCKET),
        },
        {
            "Sid": "ExportObjects",
            "Effect": "Allow",
            # DeleteObject: a tenant's data deletion removes its archives (mamba.services.retention).
            "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            "Resource": _sub("${ExportBucket.Arn}/*"),
        },
        {
            "Sid": "ExportListing",
            "Effect": "Allow",
            "Action": "s3:ListBucket",  # to find a deleted tenant's archives (prefix tenants/<tid>/)
            "Resource": _arn(EXPORT_BUCKET),
        },
        {
            "Sid": "StartWorkflows",
            "Effect": "Allow",
            "Action": ["states:DescribeStateMachine", "states:StartExecution"],
            "Resource": [state_machine_arn(w) for w in workflows_in_stack],
        },
        {
            "Sid": "WatchWorkflows",
            "Effect": "Allow",
            # GetExecutionHistory: the admin operation detail reads a failed execution's failed state and cause.
            "Action": ["states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution"],
            "Resource": [
                _sub(
                    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-"
                    + w
                    + ":*"
                )
                for w in workflows_in_stack
            ],
        },
        {
            "Sid": "ResumeWorkflows",
            "Effect": "Allow",
            # Callback tokens are authorized by the token itself: these actions take no
            # resource ARN, so "*" is the only form IAM accepts.
            "Action": ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"],
            "Resource": "*",
        },
        {
            "Sid": "ReadSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": {"Ref": SECRET},
        },
        {
            "Sid": "StripeEvents",
            "Effect": "Allow",
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
                "sqs:SendMessage",
            ],
            "Resource": _arn(QUEUE),
        },
        {
            # The admin's dead-letter listing (receive, never delete) and redrive (receive,
            # send to the events queue, delete): GET/POST /v1/admin/dead-letters.
            "Sid": "StripeEventsDeadLetters",
            "Effect": "Allow",
            "Action": ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            "Resource": _arn(DLQ),
        },
        {
            # Every service publishes notification events; the consumer receives and deletes them.
            "Sid": "NotificationEvents",
            "Effect": "Allow",
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
                "sqs:SendMessage",
            ],
            "Resource": _arn(EVENTS_QUEUE),
        },
        {
            "Sid": "SendMail",
            "Effect": "Allow",
            "Action": ["ses:SendEmail", "ses:SendRawEmail"],
            "Resource": _sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"),
        },
        {
            "Sid": "NodeTokens",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt"],
            "Resource": _arn(NODE_TOKEN_KEY),
        },
        *schedule_statements(),
    ]
    statements.append(observability.tracing_statement())
    return {
        FUNCTIONS_POLICY: {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "Description": "What the Mamba panel's functions may do, on this stack's resources only.",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
            },
        },
        # Attached on the role itself (a merged list key), so the role has its permissions
        # before any function that uses it is created.
        DEFAULT_ROLE: {"Properties": {"ManagedPolicyArns": [{"Ref": FUNCTIONS_POLICY}]}},
    }


# --- schedules: EventBridge Scheduler (issue 14; docs/schedules.md) ------------------------

SCHEDULE_GROUP = "ScheduleGroup"
SCHEDULER_ROLE = "SchedulerRole"
SCHEDULE_TRIGGER = "schedule_trigger"  # app.py's lambda_function that every schedule invokes
# The trigger's name is set (Chalice gives none), so its ARN can be spelt without a reference:
# every function's environment names it, the trigger's own included, and a reference would be a cycle.
SCHEDULE_TRIGGER_NAME = "${AWS::StackName}-schedule-trigger"
SCHEDULE_TRIGGER_ARN = _sub(
    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:" + SCHEDULE_TRIGGER_NAME
)


def schedule_environment() -> dict[str, Any]:
    """What ``bootstrap.schedule_trigger`` needs: the group, the target and the role it passes."""
    return {
        "SCHEDULE_GROUP": {"Ref": SCHEDULE_GROUP},
        "SCHEDULE_TARGET_ARN": SCHEDULE_TRIGGER_ARN,
        "SCHEDULER_ROLE_ARN": _arn(SCHEDULER_ROLE),
    }


def schedule_statements() -> list[dict[str, Any]]:
    """The panel writes its schedules' EventBridge schedules in its own group only, and may hand
    the scheduler role to EventBridge Scheduler and to nothing else."""
    return [
        {
            "Sid": "Schedules",
            "Effect": "Allow",
            "Action": [
                "scheduler:CreateSchedule",
                "scheduler:DeleteSchedule",
                "scheduler:GetSchedule",
                "scheduler:UpdateSchedule",
            ],
            "Resource": _sub(
                "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${" + SCHEDULE_GROUP + "}/*"
            ),
        },
        {
            "Sid": "PassSchedulerRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": _arn(SCHEDULER_ROLE),
            "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
        },
    ]


def schedules() -> dict[str, Any]:
    """The group the panel's schedules live in, the role EventBridge Scheduler invokes the
    trigger with (that function only, for this account's schedules only), the trigger's name,
    and an alarm on invocations the scheduler dropped (a run that never started)."""
    return {
        SCHEDULE_GROUP: {
            "Type": "AWS::Scheduler::ScheduleGroup",
            "Properties": {"Name": _sub("${AWS::StackName}-schedules")},
        },
        SCHEDULER_ROLE: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "EventBridge Scheduler starts the panel's schedule runs with this role.",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            # Only this account's schedules may use it (the confused-deputy guard).
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "invoke-trigger",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Sid": "InvokeTrigger",
                                    "Effect": "Allow",
                                    "Action": "lambda:InvokeFunction",
                                    "Resource": SCHEDULE_TRIGGER_ARN,
                                }
                            ],
                        },
                    }
                ],
            },
        },
        function_logical_id(SCHEDULE_TRIGGER): {"Properties": {"FunctionName": _sub(SCHEDULE_TRIGGER_NAME)}},
        "ScheduleInvocationsDroppedAlarm": _alarm(
            "EventBridge Scheduler dropped a schedule's invocation after its retries: a run did not start.",
            "AWS/Scheduler",
            "InvocationDroppedCount",
            {"Name": "ScheduleGroup", "Value": {"Ref": SCHEDULE_GROUP}},
            "Sum",
        ),
    }


# --- API Gateway -----------------------------------------------------------------------


def _error_body(code: str, message: str) -> str:
    """The panel's error shape as a gateway response template. ``message`` is a JSON
    literal: a quoted string, or ``$context.error.messageString`` (already quoted)."""
    return '{"error":{"code":"' + code + '","message":' + message + ',"details":{}},"request_id":"$context.requestId"}'


# response type -> (status to force or None to keep API Gateway's, the panel's error code, message)
GATEWAY_RESPONSES: dict[str, tuple[int | None, str, str]] = {
    # API Gateway answers an unknown route with 403 "Missing Authentication Token".
    "MISSING_AUTHENTICATION_TOKEN": (404, "NOT_FOUND", '"No such route."'),
    "RESOURCE_NOT_FOUND": (404, "NOT_FOUND", '"No such route."'),
    "UNAUTHORIZED": (None, "UNAUTHORIZED", "$context.error.messageString"),
    "ACCESS_DENIED": (None, "FORBIDDEN", "$context.error.messageString"),
    "THROTTLED": (None, "RATE_LIMITED", "$context.error.messageString"),
    "QUOTA_EXCEEDED": (None, "RATE_LIMITED", "$context.error.messageString"),
    "REQUEST_TOO_LARGE": (None, "PAYLOAD_TOO_LARGE", "$context.error.messageString"),
    "UNSUPPORTED_MEDIA_TYPE": (None, "UNSUPPORTED_MEDIA_TYPE", "$context.error.messageString"),
    "DEFAULT_4XX": (None, "BAD_REQUEST", "$context.error.messageString"),
    "DEFAULT_5XX": (None, "INTERNAL", "$context.error.messageString"),
}


def gateway_responses() -> dict[str, Any]:
    """``x-amazon-apigateway-gateway-responses`` for the REST API's definition body. Being
    part of the definition, they are in every deployment SAM makes of it."""
    responses: dict[str, Any] = {}
    for response_type, (status, code, message) in GATEWAY_RESPONSES.items():
        response: dict[str, Any] = {"responseTemplates": {"application/json": _error_body(code, message)}}
        if status is not None:
            response["statusCode"] = str(status)
        responses[response_type] = response
    return responses


# --- state machines --------------------------------------------------------------------


def _task_states(node: Any) -> Iterator[dict[str, Any]]:
    """Every Task state, including those inside Map and Parallel."""
    if isinstance(node, dict):
        if node.get("Type") == "Task" and isinstance(node.get("Resource"), str):
            yield node
        for value in node.values():
            yield from _task_states(value)
    elif isinstance(node, list):
        for value in node:
            yield from _task_states(value)


_PLACEHOLDER_ONLY = re.compile(r"^\$\{([A-Za-z0-9_]+)\}$")
_SDK_ACTION_IAM = {
    # aws-sdk integration action -> the IAM actions it needs, where the names differ.
    "s3:listObjectsV2": ["s3:ListBucket"],
    "s3:headObject": ["s3:GetObject"],
    "s3:copyObject": ["s3:GetObject", "s3:PutObject"],
    "s3:deleteObjects": ["s3:DeleteObject"],
}
_S3_BUCKET_ACTIONS = frozenset({"s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:ListBucketVersions"})


def _placeholder_of(value: Any) -> str | None:
    match = _PLACEHOLDER_ONLY.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _iam_action(service: str, action: str) -> list[str]:
    key = f"{service}:{action}"
    return _SDK_ACTION_IAM.get(key, [f"{service}:{action[:1].upper()}{action[1:]}"])


def state_machine_statements(workflow: str, definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The role's statements: lambda:InvokeFunction on exactly the task functions the ASL
    names, and each SDK integration's action on the stack resource it targets."""
    function_by_placeholder = {placeholder(fn): function_logical_id(fn) for fn in TASKS}
    table_by_placeholder = {
        name: value["Ref"]
        for name, value in workflows.placeholders_cfn(task_logical_ids()).items()
        if isinstance(value, dict) and value.get("Ref") in {t.logical_id for t in TABLES}
    }
    functions: set[str] = set()
    grants: dict[str, set[str]] = {}  # action -> resource keys

    def grant(actions: list[str], resource_key: str) -> None:
        for action in actions:
            grants.setdefault(action, set()).add(resource_key)

    for state in _task_states(definition):
        resource = state["Resource"].split(".sync")[0].split(".waitForTaskToken")[0]
        params = state.get("Parameters") or {}
        name = _placeholder_of(resource)
        if name in function_by_placeholder:
            functions.add(function_by_placeholder[name])
            continue
        if resource.startswith("arn:aws:states:::lambda:invoke"):
            target = _placeholder_of(params.get("FunctionName"))
            if target not in function_by_placeholder:
                raise TemplateError(
                    f"{workflow}: lambda:invoke needs a task placeholder as FunctionName, "
                    f"not {params.get('FunctionName')!r}"
                )
            functions.add(function_by_placeholder[target])
            continue
        integration = re.match(r"^arn:aws:states:::(?:aws-sdk:)?(dynamodb|s3):([A-Za-z0-9]+)$", resource)
        if not integration:
            raise TemplateError(
                f"{workflow}: infra cannot grant the Task Resource {state['Resource']!r}; use a task placeholder "
                "(${...Arn}) or extend infra.template.state_machine_statements"
            )
        service, action = integration.groups()
        if service == "dynamodb":
            table = table_by_placeholder.get(_placeholder_of(params.get("TableName")) or "")
            for key in [table] if table else [t.logical_id for t in TABLES]:
                grant(_iam_action(service, action), f"table:{key}")
        else:
            for iam_action in _iam_action(service, action):
                grant([iam_action], "bucket" if iam_action in _S3_BUCKET_ACTIONS else "objects")

    statements: list[dict[str, Any]] = []
    if functions:
        statements.append(
            {
                "Sid": "InvokeTasks",
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": [_arn(fn) for fn in sorted(functions)],
            }
        )

    def resources_for(key: str) -> list[Any]:
        if key.startswith("table:"):
            logical_id = key.removeprefix("table:")
            return [_arn(logical_id), _sub("${" + logical_id + ".Arn}/index/*")]
        return [_arn(BUCKET)] if key == "bucket" else [_sub("${BackupBucket.Arn}/*")]

    for index, action in enumerate(sorted(grants)):
        statements.append(
            {
                "Sid": f"Integration{index}",
                "Effect": "Allow",
                "Action": action,
                "Resource": [r for key in sorted(grants[action]) for r in resources_for(key)],
            }
        )
    return statements


# Step Functions' documented permissions for delivering execution logs to CloudWatch Logs;
# these actions take no resource ARN.
_LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
]


def _alarm(description: str, namespace: str, metric: str, dimension: dict[str, Any], statistic: str) -> dict[str, Any]:
    """An alarm that fires on one occurrence in 5 minutes and notifies the alarm topic."""
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [dimension],
            "Statistic": statistic,
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": ALARM_TOPIC}],
            "OKActions": [{"Ref": ALARM_TOPIC}],
        },
    }


def _execution_alarm(workflow: str, machine: str, metric: str, what: str) -> dict[str, Any]:
    return _alarm(
        f"Executions of the {workflow} workflow {what}; the operation records say why.",
        "AWS/States",
        metric,
        {"Name": "StateMachineArn", "Value": {"Ref": machine}},
        "Sum",
    )


def state_machine(workflow: str) -> dict[str, Any]:
    definition = workflows.load(workflow)
    machine = workflow_logical_id(workflow)
    role = f"{machine}Role"
    logs = f"{machine}Logs"
    used = workflows.placeholders_in(definition)
    substitutions = {k: v for k, v in workflows.placeholders_cfn(task_logical_ids()).items() if k in used}
    missing = used - set(substitutions)
    if missing:
        raise TemplateError(f"{workflow}: placeholders_cfn has no value for {sorted(missing)}")
    policies: list[dict[str, Any]] = [
        {
            "PolicyName": "logs",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": _LOG_DELIVERY_ACTIONS, "Resource": "*"}],
            },
        }
    ]
    policies.append(observability.state_machine_tracing_policy())
    statements = state_machine_statements(workflow, definition)
    if statements:
        policies.insert(
            0, {"PolicyName": "tasks", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}
        )
    resource: dict[str, Any] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineName": state_machine_name(workflow),
            "StateMachineType": "STANDARD",
            "RoleArn": _arn(role),
            "Definition": definition,
            # X-Ray on every workflow (infra.observability): a trace joins the execution to its tasks.
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": {
                "Level": "ERROR",
                # Execution input may hold tenant data; the operation record has the story.
                "IncludeExecutionData": False,
                "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": _arn(logs)}}],
            },
        },
    }
    if substitutions:
        resource["Properties"]["DefinitionSubstitutions"] = substitutions
    return {
        role: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "states.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            # Only Step Functions acting for this account (confused deputy).
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }
                    ],
                },
                "Policies": policies,
            },
        },
        logs: {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": _sub("/aws/vendedlogs/states/${AWS::StackName}-" + workflow),
                "RetentionInDays": LOG_RETENTION_DAYS,
            },
        },
        machine: resource,
        f"{machine}FailedAlarm": _execution_alarm(workflow, machine, "ExecutionsFailed", "failed"),
        f"{machine}TimedOutAlarm": _execution_alarm(workflow, machine, "ExecutionsTimedOut", "timed out"),
    }


# --- SnapStart on the API function (issue 18; docs/performance.md) -----------------------

API_ALIAS = "live"  # SAM's AutoPublishAlias: a version is published on every deploy that changes the code
API_PERMISSION = "APIHandlerInvokePermission"  # Chalice's grant to API Gateway
_API_INTEGRATION = "${APIHandler.Arn}/invocations"
# SAM names the alias it generates <function><"Alias"><alias name>; its Ref is the alias ARN.
# (``${APIHandler.Alias}`` would not do: SAM resolves that form in Ref, not inside Fn::Sub.)
API_ALIAS_RESOURCE = f"{API_HANDLER}Alias{API_ALIAS}"
_ALIAS_INTEGRATION = "${" + API_ALIAS_RESOURCE + "}/invocations"


def snapstart() -> dict[str, Any]:
    """Merged into Chalice's resources: SnapStart on the API function's published versions.

    SnapStart applies only to a published version, so SAM publishes one on every deploy and
    points the alias ``live`` at it; API Gateway must invoke the alias (``api_through_alias``
    rewrites Chalice's integration URIs after packaging) and may only invoke the alias.
    Task, schedule and queue functions stay on ``$LATEST`` without SnapStart: Step Functions,
    EventBridge and SQS invoke them, no user waits on their cold start, and Python snapshots are
    billed (cache and restore) per published version.
    """
    return {
        API_HANDLER: {"Properties": {"AutoPublishAlias": API_ALIAS, "SnapStart": {"ApplyOn": "PublishedVersions"}}},
        API_PERMISSION: {"Properties": {"FunctionName": {"Ref": API_ALIAS_RESOURCE}}},
    }


def api_through_alias(template: dict[str, Any]) -> int:
    """Point every API Gateway integration of Chalice's ``RestAPI`` at the API function's alias
    (run on the packaged template, whose paths Chalice writes). Returns how many were changed;
    raises TemplateError when there are none (Chalice changed how it writes them)."""
    body = template.get("Resources", {}).get(REST_API, {}).get("Properties", {}).get("DefinitionBody", {})
    changed = 0
    for operations in body.get("paths", {}).values():
        for operation in operations.values():
            uri = operation.get("x-amazon-apigateway-integration", {}).get("uri", {})
            text = uri.get("Fn::Sub") if isinstance(uri, dict) else None
            if isinstance(text, str) and _API_INTEGRATION in text:
                uri["Fn::Sub"] = text.replace(_API_INTEGRATION, _ALIAS_INTEGRATION)
                changed += 1
    if not changed:
        raise TemplateError(f"no integration of {REST_API} invokes {_API_INTEGRATION}; Chalice changed its template")
    return changed


# --- migrations during the deploy ------------------------------------------------------

MIGRATIONS = "Migrations"
MIGRATIONS_FUNCTION = "migrate_on_deploy"  # app.py's lambda_function
# Lambda's longest run (the function's lambda_timeout in .chalice/config.json) plus the time to
# answer: CloudFormation fails the resource after this instead of waiting an hour.
MIGRATIONS_SERVICE_TIMEOUT = 960


def migrations_resource() -> dict[str, Any]:
    """The custom resource that runs the data migrations in the deploy
    (``mamba.services.deploy_migrations``). ``Versions`` lists this code's migrations, so a
    release that brings one updates the resource, and CloudFormation calls the function; a
    release without one leaves it alone. It runs after the tables and the functions' policy
    exist (DependsOn), with the new release's code."""
    from mamba.migrations.registry import load_migrations

    return {
        MIGRATIONS: {
            "Type": "Custom::Migrations",
            "DependsOn": [*(t.logical_id for t in TABLES), FUNCTIONS_POLICY],
            "Properties": {
                "ServiceToken": _arn(function_logical_id(MIGRATIONS_FUNCTION)),
                "ServiceTimeout": MIGRATIONS_SERVICE_TIMEOUT,
                "Mode": {"Ref": "MigrationsOnDeploy"},
                "Versions": ",".join(m.version for m in load_migrations()),
            },
        }
    }


# --- the whole merge template ----------------------------------------------------------


def outputs() -> dict[str, Any]:
    values: dict[str, Any] = {
        "BackupBucketName": {"Ref": BUCKET},
        "ExportBucketName": {"Ref": EXPORT_BUCKET},
        "SecretsArn": {"Ref": SECRET},
        "StripeEventsQueueUrl": {"Ref": QUEUE},
        "StripeEventsDLQUrl": {"Ref": DLQ},
        "EventsQueueUrl": {"Ref": EVENTS_QUEUE},
        "EventsDLQUrl": {"Ref": EVENTS_DLQ},
        "AlarmTopicArn": {"Ref": ALARM_TOPIC},
        "StateMachinePrefix": STATE_MACHINE_PREFIX,
    }
    values.update({f"{table.logical_id}Name": {"Ref": table.logical_id} for table in TABLES})
    values.update({f"{workflow_logical_id(w)}Arn": {"Ref": workflow_logical_id(w)} for w in workflows.workflow_names()})
    values["NodeTokenKeyId"] = {"Ref": NODE_TOKEN_KEY}
    found = {name: {"Value": value} for name, value in values.items()}
    found.update(environment_outputs())
    return found


# Function variables the CLI does not take from the stack: what only restarts the functions.
CLI_SKIPS = frozenset({"MAMBA_CONFIG_REVISION"})


def _empty_for_no_value(value: Any) -> Any:
    """An output cannot be AWS::NoValue: an unset optional variable becomes ''."""
    if value == {"Ref": "AWS::NoValue"}:
        return ""
    if isinstance(value, dict):
        return {k: _empty_for_no_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_empty_for_no_value(v) for v in value]
    return value


def environment_outputs() -> dict[str, Any]:
    """One ``Env<Variable>`` output per variable of the functions' environment, which
    ``mamba --stack`` reads back (``mamba.stack``): the CLI runs with exactly what the
    functions run with, and a variable added to the functions reaches the CLI by itself."""
    from mamba.stack import output_name

    found: dict[str, Any] = {}
    for variable, value in function_environment().items():
        if variable in CLI_SKIPS:
            continue
        found[output_name(variable)] = {
            "Value": _empty_for_no_value(value),
            "Description": f"{variable} for the mamba CLI (mamba --stack)",
        }
    return found


def merge_template() -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for part in (
        tables(),
        backup_bucket(),
        export_bucket(),
        stripe_queue(),
        stripe_consumer(),
        events_queue(),
        events_consumer(),
        app_secret(),
        alarm_topic(),
        functions_policy(),
        node_token_key(),
        migrations_resource(),
        web_hosting.resources(),
        observability.resources(),
        schedules(),
    ):
        resources.update(part)
    for workflow in workflows.workflow_names():
        resources.update(state_machine(workflow))
    resources[REST_API] = {
        "Properties": {"DefinitionBody": {"x-amazon-apigateway-gateway-responses": gateway_responses()}}
    }
    resources.update(snapstart())
    return {
        "Parameters": {**parameters(), **web_hosting.parameters(), **observability.parameters()},
        "Conditions": {**conditions(), **web_hosting.conditions(), **observability.conditions()},
        "Globals": {
            "Function": {
                "Environment": {"Variables": function_environment()},
                "Tracing": observability.function_tracing(),
            }
        },
        "Resources": resources,
        "Outputs": {**outputs(), **web_hosting.outputs(), **observability.outputs()},
    }
