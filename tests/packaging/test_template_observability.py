"""infra.observability in the merge template (fast, without chalice package): the opt-in Tracer,
X-Ray on every state machine, the operations dashboard and an alarm for each thing it shows."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from functions.tasks import TASKS
from infra import observability as obs
from infra import template as cfn
from infra import workflows
from mamba.observability import DIMENSIONS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    return cfn.merge_template()


def _alarms(merged: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in merged["Resources"].items() if v.get("Type") == "AWS::CloudWatch::Alarm"}


def test_tracing_is_a_parameter_off_by_default_that_sets_every_functions_mode_and_setting(merged):
    assert merged["Parameters"]["Tracing"]["Default"] == "false"
    assert merged["Conditions"]["TracingOn"] == {"Fn::Equals": [{"Ref": "Tracing"}, "true"]}
    function = merged["Globals"]["Function"]
    assert function["Tracing"] == {"Fn::If": ["TracingOn", "Active", "PassThrough"]}
    assert function["Environment"]["Variables"]["MAMBA_TRACING"] == {"Ref": "Tracing"}
    # Lambda refuses Active tracing for a role that cannot write traces
    statements = merged["Resources"][cfn.FUNCTIONS_POLICY]["Properties"]["PolicyDocument"]["Statement"]
    tracing = next(s for s in statements if s.get("Sid") == "Tracing")
    assert set(tracing["Action"]) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_every_state_machine_is_traced_by_x_ray_with_a_role_that_may_write_traces(merged):
    for workflow in workflows.workflow_names():
        machine = cfn.workflow_logical_id(workflow)
        assert merged["Resources"][machine]["Properties"]["TracingConfiguration"] == {"Enabled": True}, workflow
        policies = merged["Resources"][f"{machine}Role"]["Properties"]["Policies"]
        xray = next(p for p in policies if p["PolicyName"] == "xray")
        assert "xray:PutTraceSegments" in xray["PolicyDocument"]["Statement"][0]["Action"]


def test_the_lambda_alarms_cover_every_function_chalice_makes_in_groups_an_alarm_can_sum(merged):
    app_tree = ast.parse((ROOT / "app.py").read_text())
    schedules = [
        kw.value.value
        for node in ast.walk(app_tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "schedule"
        for kw in node.keywords
        if kw.arg == "name"
    ]
    assert schedules and sorted(schedules) == obs.schedule_names()
    groups = obs.function_groups()
    covered = [fn for fns in groups.values() for fn in fns]
    consumers = [cfn.STRIPE_CONSUMER, cfn.EVENTS_CONSUMER]
    expected = {cfn.API_HANDLER, *(cfn.function_logical_id(n) for n in [*TASKS, *schedules, *consumers])}
    assert sorted(covered) == sorted(expected)
    alarms = _alarms(merged)
    for group, fns in groups.items():
        for metric in ("Errors", "Throttles"):
            queries = alarms[f"{group}Function{metric}Alarm"]["Metrics"]
            summed = [q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"] for q in queries if "MetricStat" in q]
            assert sorted(summed) == sorted(fns) and len(queries) <= 10
            assert [q["Expression"] for q in queries if "Expression" in q] == ["SUM(METRICS())"]


def test_every_alarm_notifies_the_existing_topic(merged):
    for name, alarm in _alarms(merged).items():
        assert alarm["AlarmActions"] == [{"Ref": cfn.ALARM_TOPIC}], name


@pytest.mark.parametrize(
    ("what", "alarm"),
    [
        ("API 5xx", "Api5xxAlarm"),
        ("API latency", "ApiLatencyAlarm"),
        ("Lambda errors", "ApiFunctionErrorsAlarm"),
        ("Lambda throttles", "TasksFunctionThrottlesAlarm"),
        ("workflow failures", "ProvisionServerStateMachineFailedAlarm"),
        ("dead-letter depth", "StripeEventsDLQDepthAlarm"),
        ("notification events dead-letter depth", "EventsDLQDepthAlarm"),
        ("node health", "NodesUnhealthyAlarm"),
        ("metric writes", "MetricWritesStoppedAlarm"),
        ("metric write errors", "MetricWriteErrorsAlarm"),
        ("reconcile", "ReconcileSlowAlarm"),
        ("Stripe webhook lag", "StripeWebhookLagAlarm"),
    ],
)
def test_each_thing_on_the_dashboard_has_an_alarm(merged, what, alarm):
    assert alarm in _alarms(merged), what


def test_alarms_on_the_panels_metrics_name_metrics_the_code_publishes_with_their_dimensions(merged):
    published = _published_metrics()
    for name, alarm in _alarms(merged).items():
        if alarm.get("Namespace") != "Mamba":
            continue
        assert alarm["MetricName"] in published, name
        dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert dims == {"service": "mamba"}, name  # the metric as published, without per-node series


def test_the_dashboard_is_valid_json_whose_references_all_exist(merged):
    dashboard = merged["Resources"][obs.DASHBOARD]["Properties"]
    body = dashboard["DashboardBody"]["Fn::Sub"]
    refs = set(re.findall(r"\$\{([^}]+)\}", body))
    chalice_made = {cfn.API_HANDLER, *obs.function_groups()["Background"], *obs.function_groups()["Tasks"]}
    for ref in refs:
        base = ref.split(".")[0]
        assert ref == "AWS::Region" or base in merged["Resources"] or base in chalice_made, ref
    rendered = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
    titles = [w["properties"]["title"] for w in rendered["widgets"]]
    for needed in (
        "API 5xx",
        "API latency",
        "Lambda errors",
        "Lambda throttles",
        "Workflow",
        "dead-letter",
        "Node health",
    ):
        assert any(needed in title for title in titles), needed
    assert any("Metric samples written" in title for title in titles)
    # No widget is wider than the grid, and none overlaps another
    cells = set()
    for widget in rendered["widgets"]:
        assert widget["x"] + widget["width"] <= 24
        for x in range(widget["x"], widget["x"] + widget["width"]):
            for y in range(widget["y"], widget["y"] + widget["height"]):
                assert (x, y) not in cells, widget["properties"]["title"]
                cells.add((x, y))


def test_the_dashboard_searches_per_node_series_without_naming_a_tenant_or_server(merged):
    body = merged["Resources"][obs.DASHBOARD]["Properties"]["DashboardBody"]["Fn::Sub"]
    searched = set(re.findall(r"\{Mamba,([a-z_,]+)\}", body))
    assert searched
    for dims in searched:
        assert set(dims.split(",")) - {"service"} <= DIMENSIONS


def _published_metrics() -> set[str]:
    names: set[str] = set()
    for path in [*ROOT.joinpath("layers/core/mamba").rglob("*.py"), *ROOT.joinpath("functions").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "emit_metric",
                "timed",
            ):
                if node.args and isinstance(node.args[0], ast.Constant):
                    names.add(str(node.args[0].value))
    return names
