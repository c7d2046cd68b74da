"""Migration 0011 on moto: one credit balance per currency, rebuilt from the ledger."""

from __future__ import annotations

import pytest

from mamba import bootstrap
from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import CreditItem, TenantItem
from mamba.migrations.runner import MigrationContext
from mamba.migrations.versions import m0011_credit_balances_per_currency as m0011

T0 = "2026-12-01T10:00:00Z"


def context(log: list[str], action: str = "up") -> MigrationContext:
    return MigrationContext(version="0011", action=action, now=T0, log=log.append, renew_lease=lambda: None)


def legacy_tenant(tenant_id: str, credits: list[tuple[int, str]]) -> None:
    """A tenant as the code before 0011 wrote it: one sum over every currency."""
    TenantItem(
        *keys.tenant(tenant_id),
        kind="tenant",
        tenant_id=tenant_id,
        name=tenant_id,
        created_at=T0,
        credit_balance_cents=sum(a for a, _ in credits),
    ).save()
    for i, (amount, currency) in enumerate(credits):
        at = f"2026-11-0{i + 1}T00:00:00Z"
        CreditItem(
            *keys.credit(tenant_id, at, f"cr_{i}"),
            kind="credit",
            entry_id=f"cr_{i}",
            tenant_id=tenant_id,
            amount_cents=amount,
            currency=currency,
            source="admin",
            created_at=at,
        ).save()


@pytest.fixture
def repo(aws):
    bootstrap.dynamo_tables()
    return bootstrap.billing_repository()


def test_up_splits_a_mixed_sum_into_one_balance_per_currency_and_down_restores_it(repo):
    legacy_tenant("tn_mixed", [(500, "usd"), (300, "eur"), (200, "usd")])
    legacy_tenant("tn_usd", [(250, "usd")])
    legacy_tenant("tn_none", [])
    log: list[str] = []

    m0011.up(context(log))
    m0011.up(context([]))  # a re-run changes nothing

    assert repo.credit_balances("tn_mixed") == {"usd": 700, "eur": 300}
    assert repo.credit_balances("tn_usd") == {"usd": 250}
    assert repo.credit_balances("tn_none") == {}
    assert repo.get_state("tn_usd").credit_currency == "usd"
    assert repo.get_state("tn_mixed").credit_currency is None
    assert log == ["  rebuilt the credit balances of 2 tenants per currency"]

    m0011.down(context([], "down"))

    assert TenantItem.get(*keys.tenant("tn_mixed")).credit_balance_cents == 1000
    assert repo.get_state("tn_usd").credit_currency is None
    assert repo.credit_balances("tn_mixed") == {}
