"""Operator metrics (EMF, one namespace, bounded dimensions), the invocation log context that
carries a workflow's correlation id, and the opt-in Tracer around every function."""

from __future__ import annotations

import ast
import io
import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mamba import observability
from mamba.observability import DIMENSIONS, emit_metric, logger
from mamba.services import operations
from tests.fakes import FakeOperationRepository, FakeWorkflows

ROOT = Path(__file__).resolve().parents[2]


def emf_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{") and '"_aws"' in line]


def metric(lines: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The lines publishing ``name``, with its value unwrapped (EMF writes a list of values)."""
    return [
        {**line, name: line[name][0] if isinstance(line[name], list) else line[name]} for line in lines if name in line
    ]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    handler = logger.registered_handler
    buffer = io.StringIO()
    handler.redirect = buffer
    try:
        yield buffer
    finally:
        handler.redirect = None


def test_a_metric_is_one_emf_line_in_the_mamba_namespace_with_its_dimensions(capsys):
    emit_metric("WingsCallLatency", 12.5, "Milliseconds", node="node_a")

    [line] = metric(emf_lines(capsys.readouterr().out), "WingsCallLatency")
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Mamba"
    assert directive["Metrics"] == [{"Name": "WingsCallLatency", "Unit": "Milliseconds"}]
    assert sorted(directive["Dimensions"][0]) == ["node", "service"]
    assert (line["WingsCallLatency"], line["node"], line["service"]) == (12.5, "node_a", "mamba")


@pytest.mark.parametrize("dimension", ["tenant_id", "tenant", "server_id", "server", "user_id", "operation_id"])
def test_a_metric_refuses_a_dimension_that_would_make_one_metric_per_tenant_or_server(dimension, capsys):
    with pytest.raises(ValueError, match="not allowed"):
        emit_metric("OperationsFinished", 1, "Count", **{dimension: "x"})
    assert emf_lines(capsys.readouterr().out) == []


def test_every_metric_published_in_the_code_uses_only_the_allowed_dimensions():
    # Given every emit_metric/timed call under layers/ and functions/ (static: also the ones no test runs)
    found: list[tuple[str, str, set[str]]] = []
    for path in [*ROOT.joinpath("layers/core/mamba").rglob("*.py"), *ROOT.joinpath("functions").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in ("emit_metric", "timed") and path.name != "observability.py":
                    keywords = {k.arg for k in node.keywords if k.arg is not None}
                    dynamic = any(k.arg is None for k in node.keywords)
                    found.append((str(path.relative_to(ROOT)), name, keywords | ({"**"} if dynamic else set())))
    # Then there are some, and none names a tenant, server or other unbounded id
    assert len(found) >= 6
    for where, _, keywords in found:
        assert keywords - {"**"} <= DIMENSIONS, where
    assert not {"tenant_id", "server_id", "user_id", "operation_id"} & DIMENSIONS


def test_a_metric_that_cannot_be_published_never_fails_the_caller(monkeypatch, log_output):
    import aws_lambda_powertools.metrics as powertools_metrics

    def broken(**_: Any) -> Any:
        raise RuntimeError("stdout closed")

    monkeypatch.setattr(powertools_metrics, "single_metric", broken)

    emit_metric("ReconcileDuration", 5, "Milliseconds")

    assert "metric not published" in log_output.getvalue()


def test_timed_publishes_the_block_duration_with_dimensions_the_block_may_set(capsys):
    with observability.timed("ReconcileDuration") as dims:
        dims["outcome"] = "ok"

    [line] = metric(emf_lines(capsys.readouterr().out), "ReconcileDuration")
    assert line["outcome"] == "ok" and line["ReconcileDuration"] >= 0
    assert line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Milliseconds"


# --- the workflow outcome ---


def test_a_finished_operation_publishes_its_outcome_and_duration_once_by_workflow(capsys):
    repo, workflows = FakeOperationRepository(), FakeWorkflows()
    op = operations.start_operation(
        repo, workflows, _tenant(), "server.create", "provision_server", ["install"], {}, correlation_id="req-1"
    )
    capsys.readouterr()

    operations.finish_operation(repo, op.id, "failed", {"code": "WingsUnavailableError", "message": "down"})
    operations.finish_operation(repo, op.id, "failed", {"code": "WingsUnavailableError", "message": "down"})

    lines = emf_lines(capsys.readouterr().out)
    [finished] = metric(lines, "OperationsFinished")
    assert (finished["workflow"], finished["outcome"]) == ("provision_server", "failed")
    [duration] = metric(lines, "OperationDuration")
    assert duration["OperationDuration"] >= 0 and duration["workflow"] == "provision_server"
    [failure] = metric(lines, "WorkflowFailures")
    assert (failure["workflow"], failure["error"]) == ("provision_server", "WingsUnavailableError")
    assert all("tenant_id" not in line and "operation_id" not in line for line in lines)


def test_a_succeeded_operation_counts_no_failure(capsys):
    repo, workflows = FakeOperationRepository(), FakeWorkflows()
    op = operations.start_operation(repo, workflows, _tenant(), "backup_server", "backup_server", ["archive"], {})
    capsys.readouterr()

    operations.finish_operation(repo, op.id, "succeeded")

    lines = emf_lines(capsys.readouterr().out)
    assert [line["outcome"] for line in metric(lines, "OperationsFinished")] == ["succeeded"]
    assert metric(lines, "WorkflowFailures") == []


def _tenant() -> Any:
    from mamba.auth.context import TenantContext

    return TenantContext(tenant_id="t_1", role="owner", permissions=frozenset())


# --- the invocation context ---


def test_a_task_logs_under_its_workflows_correlation_id_with_the_operation_tenant_and_server(log_output):
    event = {
        "correlation_id": "req-abc",
        "operation_id": "op_1",
        "tenant_id": "t_1",
        "server_uuid": "s-1",
        "action": "x",
    }

    with observability.invocation(event, types.SimpleNamespace(aws_request_id="lambda-1")):
        logger.info("inside")

    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    inside, done = lines
    for line in (inside, done):
        assert (line["request_id"], line["operation_id"], line["tenant_id"], line["server_id"]) == (
            "req-abc",
            "op_1",
            "t_1",
            "s-1",
        )
    assert done["message"] == "invocation" and done["action"] == "x"
    assert observability.current_request_id() == ""


def test_an_invocation_without_a_correlation_id_logs_under_the_lambda_request_id(log_output):
    with observability.invocation({"detail-type": "Scheduled Event"}, types.SimpleNamespace(aws_request_id="lambda-1")):
        assert observability.current_request_id() == "lambda-1"


def test_a_failing_invocation_says_which_error_and_raises_it_unchanged(log_output):
    class WingsUnavailableError(Exception):
        pass

    with pytest.raises(WingsUnavailableError):
        with observability.invocation({"correlation_id": "req-f", "action": "create_on_wings"}):
            raise WingsUnavailableError("down")

    [line] = [json.loads(line) for line in log_output.getvalue().splitlines()]
    assert (line["message"], line["error_type"], line["request_id"]) == (
        "invocation failed",
        "WingsUnavailableError",
        "req-f",
    )


# --- the Tracer, opt-in ---


class FakeTracer:
    def __init__(self) -> None:
        self.handlers: list[Any] = []
        self.segments: list[tuple[str, dict[str, str]]] = []
        tracer = self

        class Provider:
            def in_subsegment(self, name: str) -> Any:
                import contextlib

                @contextlib.contextmanager
                def seg() -> Iterator[Any]:
                    annotations: dict[str, str] = {}
                    tracer.segments.append((name, annotations))
                    yield types.SimpleNamespace(put_annotation=annotations.__setitem__)

                return seg()

        self.provider = Provider()

    def capture_lambda_handler(self, fn: Any) -> Any:
        self.handlers.append(fn)
        return fn


@pytest.fixture
def tracing(monkeypatch) -> Any:
    def set_on(on: bool) -> FakeTracer:
        fake = FakeTracer()
        monkeypatch.setattr(observability, "_tracing_enabled", lambda: on)
        monkeypatch.setattr(observability, "tracer", lambda: fake)
        return fake

    return set_on


def event_of(body: dict[str, Any]) -> Any:
    return types.SimpleNamespace(to_dict=lambda: body, context=types.SimpleNamespace(aws_request_id="lambda-9"))


def test_a_function_runs_without_the_tracer_while_tracing_is_off(tracing):
    fake = tracing(False)
    seen: list[str] = []

    result = observability.lambda_middleware(
        event_of({"correlation_id": "req-1"}), lambda e: seen.append(observability.current_request_id()) or "ok"
    )

    assert result == "ok" and seen == ["req-1"] and fake.handlers == []


def test_every_function_is_traced_when_tracing_is_on(tracing):
    fake = tracing(True)

    result = observability.lambda_middleware(event_of({}), lambda e: "ok")

    assert result == "ok" and len(fake.handlers) == 1


def test_an_api_request_gets_a_subsegment_annotated_with_its_request_id_when_tracing_is_on(tracing):
    fake = tracing(True)
    request = types.SimpleNamespace(method="GET", path="/v1/me")

    with observability.request_context("req-http"):
        assert observability.http_tracing_middleware(request, lambda e: "response") == "response"

    assert fake.segments == [("## GET /v1/me", {"request_id": "req-http"})]


def test_the_app_wraps_every_non_http_function_and_traces_http_requests():
    import app as app_module

    registered = {(fn, kind) for fn, kind in app_module.app.middleware_handlers}
    assert (observability.lambda_middleware, "pure_lambda") in registered
    assert (observability.lambda_middleware, "scheduled") in registered
    assert (observability.http_tracing_middleware, "http") in registered
