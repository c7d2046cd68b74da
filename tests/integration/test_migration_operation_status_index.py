"""Migration 0015 on moto: operations written before the status index appear in the admin list by status."""

from __future__ import annotations

import pytest

from mamba import bootstrap
from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import OperationItem
from mamba.domain.pages import PageRequest
from mamba.migrations.runner import MigrationContext
from mamba.migrations.versions import m0015_operation_status_index as m0015

T0 = "2026-12-01T10:00:00Z"


def context(log: list[str], action: str = "up") -> MigrationContext:
    return MigrationContext(version="0015", action=action, now=T0, log=log.append, renew_lease=lambda: None)


def old_operation(op_id: str, status: str, created_at: str) -> None:
    """An operation as the code before 0015 wrote it: gsi1 and gsi2, no gsi3, no workflow input."""
    OperationItem(
        *keys.operation("tn_a", op_id),
        kind="operation",
        gsi1pk=keys.ALL_OPERATIONS,
        gsi1sk=f"{created_at}#{op_id}",
        gsi2pk=keys.operation_by_id(op_id),
        gsi2sk=keys.operation_by_id(op_id),
        operation_id=op_id,
        tenant_id="tn_a",
        type="provision_server",
        status=status,
        created_at=created_at,
        updated_at=created_at,
    ).save()


@pytest.fixture
def repo(aws):
    bootstrap.dynamo_tables()
    return bootstrap.operation_repository()


def failed_ids(repo) -> list[str]:
    return [op.id for op in repo.list_all(PageRequest(limit=10), status="failed").items]


def test_old_operations_are_listed_by_status_after_the_migration_and_not_retryable(repo):
    old_operation("op_old1", "failed", "2026-11-01T10:00:00Z")
    old_operation("op_old2", "failed", "2026-11-02T10:00:00Z")
    old_operation("op_old3", "succeeded", "2026-11-03T10:00:00Z")
    assert failed_ids(repo) == []
    log: list[str] = []

    m0015.up(context(log))
    m0015.up(context([]))  # a re-run changes nothing

    assert failed_ids(repo) == ["op_old2", "op_old1"]
    assert [op.id for op in repo.list_all(PageRequest(limit=10), status="succeeded").items] == ["op_old3"]
    assert log == ["  indexed 3 operations by status"]
    old = repo.find("op_old1")
    assert (old.attempt, old.workflow, old.input) == (1, None, None)

    m0015.down(context([], "down"))
    assert failed_ids(repo) == []
