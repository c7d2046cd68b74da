"""Migration 0018 on moto: canceled tenants from before the retention job are put on its schedule
at their first warning, never losing their data sooner than 7 days after the migration."""

from __future__ import annotations

import pytest

from mamba import bootstrap
from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import TenantItem
from mamba.domain import retention
from mamba.migrations.runner import MigrationContext
from mamba.migrations.versions import m0018_retention_lookups as m0018

T0 = "2026-12-01T10:00:00Z"
NOW = 1_796_119_200  # T0 as epoch seconds
DAY = 86400


def context(log: list[str]) -> MigrationContext:
    return MigrationContext(version="0018", action="up", now=T0, log=log.append, renew_lease=lambda: None)


def tenant(tenant_id: str, status: str, due: int | None, look: int | None) -> None:
    TenantItem(
        *keys.tenant(tenant_id),
        kind="tenant",
        tenant_id=tenant_id,
        name=tenant_id,
        created_at=T0,
        status="active",
        gsi1pk=keys.ALL_TENANTS,
        gsi1sk=keys.created_sort(T0, tenant_id),
        subscription_status=status,
        deletion_due_at=due,
        gsi2pk=keys.DUNNING if look is not None else None,
        gsi2sk=keys.dunning_sort(look, tenant_id) if look is not None else None,
    ).save()


def state(tenant_id: str) -> tuple[int | None, str | None]:
    item = TenantItem.get(*keys.tenant(tenant_id), consistent_read=True)
    return (int(item.deletion_due_at) if item.deletion_due_at is not None else None), item.gsi2sk


@pytest.fixture
def tables(aws):
    bootstrap.dynamo_tables()


def test_old_canceled_tenants_get_their_warnings_first(tables):
    far = NOW + 20 * DAY
    tenant("tn_far", "canceled", far, far)  # old code: looked at on its due date
    tenant("tn_dropped", "canceled", NOW - DAY, None)  # old code: due, logged and dropped
    tenant("tn_new", "canceled", far, retention.first_look(far))  # the retention job has it
    tenant("tn_active", "active", None, None)
    log: list[str] = []

    m0018.up(context(log))

    assert state("tn_far") == (far, keys.dunning_sort(far - 7 * DAY, "tn_far"))
    dropped_due = NOW + 7 * DAY
    assert state("tn_dropped") == (dropped_due, keys.dunning_sort(NOW, "tn_dropped"))
    assert state("tn_new") == (far, keys.dunning_sort(retention.first_look(far), "tn_new"))
    assert state("tn_active") == (None, None)
    assert log == ["  put 2 canceled tenants on the retention schedule"]

    # A re-run moves nothing more
    again: list[str] = []
    m0018.up(context(again))
    assert again == ["  put 0 canceled tenants on the retention schedule"]
    assert state("tn_dropped") == (dropped_due, keys.dunning_sort(NOW, "tn_dropped"))
