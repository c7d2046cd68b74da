"""Migration 0007 on moto: the free plan is seeded once and an edited one is left alone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba import bootstrap
from mamba.domain.billing import Quotas
from mamba.migrations.model import MigrationContext
from mamba.migrations.versions import m0007_seed_free_plan as m0007

T0 = "2026-12-01T10:00:00Z"


def context(log: list[str], action: str = "up") -> MigrationContext:
    # As the CLI's runner builds it: with Settings' free-plan defaults (mamba.cli.migration_runner).
    return MigrationContext(
        version="0007",
        action=action,
        now=T0,
        log=log.append,
        renew_lease=lambda: None,
        free_quotas=bootstrap.free_quotas(),
    )


@pytest.fixture
def repo(aws):
    bootstrap.dynamo_tables()
    return bootstrap.billing_repository()


def test_up_seeds_the_free_plan_with_the_settings_defaults(repo):
    from mamba import cli

    log: list[str] = []

    m0007.up(context(log))

    plan = repo.get_plan("free")
    defaults = bootstrap.free_quotas()
    assert cli.migration_runner().free_quotas == defaults
    assert plan.quotas.servers == defaults.servers and plan.quotas.backup_bytes == defaults.backup_bytes
    assert (plan.price_id, plan.created_at) == (None, T0)
    assert log == ["  added plan free"]


def test_a_rerun_leaves_an_edited_free_plan_alone_and_down_removes_it(repo):
    m0007.up(context([]))
    current = repo.get_plan("free")
    repo.save_plan(current, replace(current, quotas=Quotas(servers=3), updated_at="2026-12-02T00:00:00Z"))
    log: list[str] = []

    m0007.up(context(log))

    assert repo.get_plan("free").quotas.servers == 3
    assert log == ["  plan free exists; left as it is"]
    m0007.down(context([], "down"))
    from mamba.domain.errors import NotFoundError

    with pytest.raises(NotFoundError):
        repo.get_plan("free")
