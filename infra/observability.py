"""What an operator watches, in CloudFormation: the opt-in Tracer, a dashboard and its alarms.

``infra.template.merge_template`` merges these next to the rest (as it does ``web_hosting``):

* the ``Tracing`` parameter (``false`` by default: the X-Ray SDK costs cold start). ``true``
  sets every function's ``TracingConfig`` to ``Active`` and ``MAMBA_TRACING`` so
  ``mamba.observability`` wraps each invocation in the Tracer. The state machines are traced
  always (``TracingConfiguration`` in ``infra.template.state_machine``; no cold start there);
* one CloudWatch dashboard, ``<stack>-operations``: API 5xx and latency percentiles, Lambda
  errors and throttles, workflow failures, the dead-letter depth, node health, metric writes,
  Wings latency per node, the reconcile and the Stripe webhook lag;
* an alarm for each of those, to the existing ``AlarmTopic`` (the workflow failures and the
  dead-letter depth already have theirs in ``infra.template``: per state machine, and on the
  Stripe DLQ).

The panel's own metrics (``Mamba`` namespace, EMF from ``mamba.observability.emit_metric``)
always carry the ``service`` dimension, so an alarm names ``service=mamba`` plus any other
dimension the metric is published with (docs/observability.md lists them).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from functions.tasks import TASKS

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "Mamba"
SERVICE = "mamba"
API_NAME = "mamba"  # Chalice's app_name: the REST API's name, AWS/ApiGateway's ApiName dimension
API_HANDLER = "APIHandler"
ALARM_TOPIC = "AlarmTopic"
DLQ = "StripeEventsDLQ"
STRIPE_CONSUMER = "stripe_events"
EVENTS_CONSUMER = "notification_events"  # the notification events queue's consumer (docs/notifications.md)
DASHBOARD = "OperationsDashboard"
PERIOD = 300

# Thresholds an operator can read in one place (docs/observability.md explains each).
API_5XX_PER_5_MIN = 5
API_P99_LATENCY_MS = 3000
TASK_ERRORS_PER_5_MIN = 10  # typed errors that the ASL retries count as Lambda errors too
RECONCILE_P90_MS = 45_000  # it runs every minute
STRIPE_LAG_MAX_S = 600


def parameters() -> dict[str, Any]:
    return {
        "Tracing": {
            "Type": "String",
            "Default": "false",
            "AllowedValues": ["false", "true"],
            "Description": "true traces every function with X-Ray (Powertools Tracer); costs cold start time.",
        }
    }


def conditions() -> dict[str, Any]:
    return {"TracingOn": {"Fn::Equals": [{"Ref": "Tracing"}, "true"]}}


def function_tracing() -> dict[str, Any]:
    """SAM ``Globals.Function.Tracing``: Active only when the parameter says so."""
    return {"Fn::If": ["TracingOn", "Active", "PassThrough"]}


def tracing_statement() -> dict[str, Any]:
    """Lambda refuses ``TracingConfig: Active`` for a role that cannot write traces, so the
    functions' policy always allows it (writing traces reads nothing)."""
    return {
        "Sid": "Tracing",
        "Effect": "Allow",
        "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
        "Resource": "*",
    }


def state_machine_tracing_policy() -> dict[str, Any]:
    """What a state machine's role needs for ``TracingConfiguration: {Enabled: true}``."""
    return {
        "PolicyName": "xray",
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "xray:GetSamplingRules",
                        "xray:GetSamplingTargets",
                        "xray:PutTelemetryRecords",
                        "xray:PutTraceSegments",
                    ],
                    "Resource": "*",
                }
            ],
        },
    }


# --- which functions there are ---------------------------------------------------------


def schedule_names(app_source: Path | None = None) -> list[str]:
    """The ``name=`` of every ``@app.schedule`` in app.py, read from its syntax tree (so a
    schedule added there is watched without an edit here, and infra never imports the app)."""
    tree = ast.parse((app_source or ROOT / "app.py").read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "schedule"
            ):
                given = [k.value for k in decorator.keywords if k.arg == "name"]
                name = given[0].value if given and isinstance(given[0], ast.Constant) else node.name
                names.append(str(name))
    return sorted(names)


def function_groups() -> dict[str, list[str]]:
    """Chalice's logical ids, by how errors there should be read: the API and the background
    functions (an error is a bug) apart from the workflow tasks (a typed error that the ASL
    retries is also a Lambda error, so a few are normal)."""
    return {
        "Api": [API_HANDLER],
        "Background": sorted(to_cfn_resource_name(n) for n in [*schedule_names(), STRIPE_CONSUMER, EVENTS_CONSUMER]),
        "Tasks": sorted(to_cfn_resource_name(n) for n in TASKS),
    }


# --- alarms ----------------------------------------------------------------------------


def _alarm(description: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "AlarmActions": [{"Ref": ALARM_TOPIC}],
            "OKActions": [{"Ref": ALARM_TOPIC}],
            "TreatMissingData": "notBreaching",
            "Period": PERIOD,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            **properties,
        },
    }


def _mamba(metric: str, **dimensions: str) -> dict[str, Any]:
    dims = {"service": SERVICE, **dimensions}
    return {
        "Namespace": NAMESPACE,
        "MetricName": metric,
        "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dims.items())],
    }


def _sum_over_functions(metric: str, logical_ids: list[str], label: str) -> list[dict[str, Any]]:
    """Metric math: the sum of one AWS/Lambda metric over a group of functions (≤ 10 per alarm)."""
    if len(logical_ids) > 9:
        raise ValueError(f"{label}: an alarm sums at most 9 metrics, got {len(logical_ids)}")
    queries: list[dict[str, Any]] = [
        {
            "Id": f"m{i}",
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": logical_id}}],
                },
                "Period": PERIOD,
                "Stat": "Sum",
            },
        }
        for i, logical_id in enumerate(logical_ids)
    ]
    queries.append({"Id": "total", "Expression": "SUM(METRICS())", "Label": label, "ReturnData": True})
    return queries


def _math_alarm(description: str, **properties: Any) -> dict[str, Any]:
    """A metric-math alarm: its period is in each query, not on the alarm."""
    alarm = _alarm(description, **properties)
    del alarm["Properties"]["Period"]
    return alarm


def alarms() -> dict[str, Any]:
    api = [{"Name": "ApiName", "Value": API_NAME}]
    resources: dict[str, Any] = {
        "Api5xxAlarm": _alarm(
            f"The API answered {API_5XX_PER_5_MIN} or more 5xx in 5 minutes (a 500 is a bug; 503 a node or AWS away).",
            Namespace="AWS/ApiGateway",
            MetricName="5XXError",
            Dimensions=api,
            Statistic="Sum",
            Threshold=API_5XX_PER_5_MIN,
        ),
        "ApiLatencyAlarm": _alarm(
            f"The API's p99 latency stayed at {API_P99_LATENCY_MS} ms or more for 15 minutes.",
            Namespace="AWS/ApiGateway",
            MetricName="Latency",
            Dimensions=api,
            ExtendedStatistic="p99",
            Threshold=API_P99_LATENCY_MS,
            EvaluationPeriods=3,
        ),
        "NodesUnhealthyAlarm": _alarm(
            "A node failed its health probe for 10 minutes (the admin's node page says which and why).",
            **_mamba("NodesUnhealthy"),
            Statistic="Minimum",
            Threshold=1,
            EvaluationPeriods=2,
        ),
        "ReconcileSlowAlarm": _alarm(
            f"The once-a-minute reconcile took {RECONCILE_P90_MS // 1000} s or more (p90) for 15 minutes.",
            **_mamba("ReconcileDuration"),
            ExtendedStatistic="p90",
            Threshold=RECONCILE_P90_MS,
            EvaluationPeriods=3,
        ),
        # The reconcile is what writes the metric samples: no run for 15 minutes, no charts.
        "MetricWritesStoppedAlarm": _alarm(
            "The reconcile that writes metric samples has not run for 15 minutes.",
            **_mamba("ReconcileDuration"),
            Statistic="SampleCount",
            Threshold=1,
            ComparisonOperator="LessThanThreshold",
            EvaluationPeriods=3,
            TreatMissingData="breaching",
        ),
        "MetricWriteErrorsAlarm": _alarm(
            "The metrics history could not be written for a node 3 times in 5 minutes (the charts have gaps).",
            **_mamba("MetricWriteErrors"),
            Statistic="Sum",
            Threshold=3,
        ),
        "StripeWebhookLagAlarm": _alarm(
            f"A Stripe event waited {STRIPE_LAG_MAX_S} s or more before it was applied.",
            **_mamba("StripeWebhookLag"),
            Statistic="Maximum",
            Threshold=STRIPE_LAG_MAX_S,
        ),
    }
    groups = function_groups()
    thresholds = {"Api": 1, "Background": 1, "Tasks": TASK_ERRORS_PER_5_MIN}
    for group, logical_ids in groups.items():
        resources[f"{group}FunctionErrorsAlarm"] = _math_alarm(
            f"Lambda errors in the {group.lower()} functions reached {thresholds[group]} in 5 minutes.",
            Metrics=_sum_over_functions("Errors", logical_ids, f"{group} errors"),
            Threshold=thresholds[group],
        )
        resources[f"{group}FunctionThrottlesAlarm"] = _math_alarm(
            f"Lambda throttled the {group.lower()} functions (account concurrency is exhausted).",
            Metrics=_sum_over_functions("Throttles", logical_ids, f"{group} throttles"),
            Threshold=1,
        )
    return resources


# --- the dashboard ---------------------------------------------------------------------


def _widget(
    title: str, metrics: list[Any], *, stat: str = "Sum", x: int = 0, y: int = 0, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "stat": stat,
            "period": PERIOD,
            "metrics": metrics,
            **extra,
        },
    }


def _search(metric: str, dims: str, stat: str, label: str) -> list[Any]:
    """Every series of a Mamba metric over its dimension values (nodes, workflows): no list to keep."""
    return [
        {"expression": f"SEARCH('{{{NAMESPACE},{dims}}} MetricName=\"{metric}\"', '{stat}', {PERIOD})", "label": label}
    ]


def dashboard_body() -> dict[str, Any]:
    groups = function_groups()
    lambda_errors = [["AWS/Lambda", "Errors", "FunctionName", "${" + fn + "}"] for fns in groups.values() for fn in fns]
    lambda_throttles = [
        ["AWS/Lambda", "Throttles", "FunctionName", "${" + fn + "}"] for fns in groups.values() for fn in fns
    ]
    machines = [
        ["AWS/States", "ExecutionsFailed", "StateMachineArn", "${" + to_cfn_resource_name(w) + "StateMachine}"]
        for w in _workflows()
    ]
    widgets = [
        _widget("API 5xx and 4xx", [["AWS/ApiGateway", "5XXError", "ApiName", API_NAME], [".", "4XXError", ".", "."]]),
        _widget(
            "API latency (ms)",
            [
                ["AWS/ApiGateway", "Latency", "ApiName", API_NAME, {"stat": "p50"}],
                ["...", {"stat": "p90"}],
                ["...", {"stat": "p99"}],
            ],
            stat="p99",
            x=12,
        ),
        _widget("Lambda errors", lambda_errors, y=6),
        _widget("Lambda throttles", lambda_throttles, x=12, y=6),
        _widget("Workflow executions failed", machines, y=12),
        _widget(
            "Workflow failures by workflow and error",
            _search("WorkflowFailures", "service,workflow,error", "Sum", "failures"),
            x=12,
            y=12,
        ),
        _widget(
            "Stripe dead-letter queue depth",
            [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${" + DLQ + ".QueueName}"]],
            stat="Maximum",
            y=18,
        ),
        _widget(
            "Node health (unhealthy nodes) and Wings errors per node",
            [
                [NAMESPACE, "NodesUnhealthy", "service", SERVICE, {"stat": "Maximum"}],
                *_search("WingsCallErrors", "service,node,reason", "Sum", "errors"),
            ],
            x=12,
            y=18,
        ),
        _widget(
            "Wings call latency per node (p90, ms)", _search("WingsCallLatency", "service,node", "p90", "p90"), y=24
        ),
        _widget(
            "Metric samples written, write errors and reconcile duration (p90, ms)",
            [
                [NAMESPACE, "MetricSamplesWritten", "service", SERVICE],
                [NAMESPACE, "MetricWriteErrors", "service", SERVICE],
                [NAMESPACE, "ReconcileDuration", "service", SERVICE, {"stat": "p90", "yAxis": "right"}],
            ],
            x=12,
            y=24,
        ),
        _widget(
            "Provisioning and other workflows: duration (p90, s)",
            _search("OperationDuration", "service,workflow,outcome", "p90", "p90"),
            y=30,
        ),
        _widget(
            "Stripe webhook lag (s)", [[NAMESPACE, "StripeWebhookLag", "service", SERVICE]], stat="Maximum", x=12, y=30
        ),
    ]
    return {"widgets": widgets}


def _workflows() -> list[str]:
    from infra import workflows

    return workflows.workflow_names()


def dashboard() -> dict[str, Any]:
    return {
        DASHBOARD: {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {
                "DashboardName": {"Fn::Sub": "${AWS::StackName}-operations"},
                # Fn::Sub fills the region and the resource names; SEARCH's braces are not ${...}.
                "DashboardBody": {"Fn::Sub": json.dumps(dashboard_body(), separators=(",", ":"))},
            },
        }
    }


def resources() -> dict[str, Any]:
    return {**alarms(), **dashboard()}


def outputs() -> dict[str, Any]:
    return {
        "OperationsDashboard": {
            "Value": {
                "Fn::Sub": "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home#dashboards:name=${AWS::StackName}-operations"
            }
        }
    }
