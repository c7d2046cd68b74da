"""/v1/admin/operations: every tenant's operations by status (gsi3, no Scan), the failed
execution's state and cause, and retrying a failed operation once, only where that is safe."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain import operations as ops
from mamba.schemas.common import AdminOperationDetailOut, AdminOperationList, AdminOperationOut
from tests.api.tenancy_helpers import Api, make_world
from tests.fakes import FakeWorkflows
from tests.support import DynamoCounter

INPUT = {"operation_id": "", "tenant_id": "", "correlation_id": None}


@pytest.fixture
def world(client: Any) -> Iterator[tuple[Api, FakeWorkflows]]:
    api = make_world(client)
    workflows = FakeWorkflows()
    with bootstrap.override(workflows=workflows):
        yield api, workflows


def add(op_id: str, tenant_id: str, op_type: str, created: str, status: str = "running") -> None:
    """An operation as start_operation records it (workflow and input), then moved to ``status``."""
    repo = bootstrap.operation_repository()
    payload = {**INPUT, "operation_id": op_id, "tenant_id": tenant_id}
    op = ops.new_operation(op_id, tenant_id, op_type, ["verify"], created, workflow=op_type, input=payload)
    repo.add(op)
    if status in ("running", "failed", "succeeded"):
        op = ops.record_step(op, "verify", "running", created)
    if status in ops.FINAL:
        op = ops.finish(op, status, created, {"code": "WINGS_DOWN", "message": "Wings did not answer."})
    if op.status != "pending":
        repo.save(op)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/admin/operations"),
        ("GET", "/v1/admin/operations/op_x"),
        ("POST", "/v1/admin/operations/op_x/retry"),
    ],
)
def test_admin_operation_routes_are_401_anonymous_and_403_for_a_tenant_owner(world, method, path):
    api, _ = world
    add("op_x", "tn_a", "check_platform", "2026-11-25T10:00:00Z", "failed")

    assert api.call(method, path, None).status_code == 401
    refused = api.call(method, path, "usr_alice")  # alice owns tn_a, the operation's tenant
    assert refused.status_code == 403
    assert refused.json_body["error"]["code"] == "FORBIDDEN"


def test_admin_lists_every_tenants_operations_newest_first_by_status_without_a_scan(world, monkeypatch):
    api, _ = world
    add("op_1", "tn_a", "check_platform", "2026-11-25T10:00:00Z", "failed")
    add("op_2", "tn_b", "backup_server", "2026-11-25T11:00:00Z", "failed")
    add("op_3", "tn_a", "check_platform", "2026-11-25T12:00:00Z", "succeeded")
    add("op_4", "tn_b", "check_platform", "2026-11-25T13:00:00Z", "failed")
    add("op_5", "tn_b", "delete_backup", "2026-11-25T14:00:00Z", "running")
    counter = DynamoCounter(monkeypatch)

    first = api.get("/v1/admin/operations?status=failed&limit=2", "usr_root")
    assert first.status_code == 200, first.json_body
    page1 = AdminOperationList.model_validate(first.json_body)
    assert [(o.id, o.tenant_id, o.status) for o in page1.items] == [
        ("op_4", "tn_b", "failed"),
        ("op_2", "tn_b", "failed"),
    ]
    assert page1.next_cursor
    second = AdminOperationList.model_validate(
        api.get(f"/v1/admin/operations?status=failed&limit=2&cursor={page1.next_cursor}", "usr_root").json_body
    )
    assert [o.id for o in second.items] == ["op_1"] and second.next_cursor is None
    assert second.items[0].error is not None and second.items[0].error.code == "WINGS_DOWN"
    assert "Scan" not in counter.actions and counter.actions.count("Query") == 2

    everything = AdminOperationList.model_validate(api.get("/v1/admin/operations", "usr_root").json_body)
    assert [o.id for o in everything.items] == ["op_5", "op_4", "op_3", "op_2", "op_1"]
    running = AdminOperationList.model_validate(api.get("/v1/admin/operations?status=running", "usr_root").json_body)
    assert [o.id for o in running.items] == ["op_5"]
    assert "Scan" not in counter.actions


def test_admin_filters_operations_by_type_and_since(world):
    api, _ = world
    add("op_1", "tn_a", "check_platform", "2026-11-25T10:00:00Z", "failed")
    add("op_2", "tn_b", "backup_server", "2026-11-25T11:00:00Z", "failed")
    add("op_4", "tn_b", "check_platform", "2026-11-25T13:00:00Z", "failed")

    by_type = api.get("/v1/admin/operations?status=failed&type=check_platform", "usr_root").json_body
    since = api.get("/v1/admin/operations?since=2026-11-25T10:30:00Z", "usr_root").json_body
    bad = api.get("/v1/admin/operations?status=exploded", "usr_root")

    assert [o["id"] for o in by_type["items"]] == ["op_4", "op_1"]
    assert [o["id"] for o in since["items"]] == ["op_4", "op_2"]
    assert bad.status_code == 400 and bad.json_body["error"]["details"]["fields"][0]["field"] == "status"


def test_admin_reads_a_failed_operation_with_its_executions_failed_state_and_cause(world):
    api, workflows = world
    add("op_1", "tn_a", "check_platform", "2026-11-25T10:00:00Z", "failed")
    workflows.fail_execution("check_platform", "op_1", "CreateOnWings", "WingsUnavailableError", "node down")

    response = api.get("/v1/admin/operations/op_1", "usr_root")
    missing = api.get("/v1/admin/operations/op_nope", "usr_root")

    assert response.status_code == 200, response.json_body
    body = AdminOperationDetailOut.model_validate(response.json_body)
    assert (body.tenant_id, body.status, body.attempt, body.retryable) == ("tn_a", "failed", 1, True)
    assert body.failure is not None
    assert (body.failure.state, body.failure.error, body.failure.cause) == (
        "CreateOnWings",
        "WingsUnavailableError",
        "node down",
    )
    assert missing.status_code == 404


def test_retry_starts_a_failed_platform_check_exactly_once_from_its_recorded_input(world):
    api, workflows = world
    add("op_1", "tn_a", "check_platform", "2026-11-25T10:00:00Z", "failed")

    first = api.post("/v1/admin/operations/op_1/retry", "usr_root")
    second = api.post("/v1/admin/operations/op_1/retry", "usr_root")

    assert first.status_code == 202, first.json_body
    retried = AdminOperationOut.model_validate(first.json_body)
    assert (retried.status, retried.attempt, retried.error) == ("pending", 2, None)
    assert [s.status for s in retried.steps] == ["pending"]
    assert second.status_code == 409
    # A recorded input without a correlation id runs under the retrying request's id
    # (mamba.adapters.sfn.with_correlation_id), so its tasks' logs lead back to the admin's request.
    rerun = {**INPUT, "operation_id": "op_1", "tenant_id": "tn_a", "correlation_id": first.headers["X-Request-Id"]}
    assert workflows.started == [("check_platform", "op_1-a2", rerun)]
    stored = bootstrap.operation_repository().find("op_1")
    assert (stored.status, stored.attempt) == ("pending", 2)
    pending = api.get("/v1/admin/operations?status=pending", "usr_root").json_body
    assert [o["id"] for o in pending["items"]] == ["op_1"]
    assert api.get("/v1/admin/operations?status=failed", "usr_root").json_body["items"] == []


@pytest.mark.parametrize(
    ("op_type", "status", "reason"),
    [
        ("reinstall_server", "failed", "wipes"),
        ("backup_server", "failed", "backup lock"),
        ("update_server_build", "failed", "resubmits"),
        ("delete_backup", "failed", "locked since"),
        ("check_platform", "running", "only a failed operation"),
        ("check_platform", "succeeded", "only a failed operation"),
    ],
)
def test_retry_is_409_with_the_reason_for_an_unsafe_type_or_an_operation_that_did_not_fail(
    world, op_type, status, reason
):
    api, workflows = world
    add("op_1", "tn_a", op_type, "2026-11-25T10:00:00Z", status)

    response = api.post("/v1/admin/operations/op_1/retry", "usr_root")

    assert response.status_code == 409
    assert reason in response.json_body["error"]["details"]["reason"]
    assert workflows.started == []
    assert bootstrap.operation_repository().find("op_1").status == status
