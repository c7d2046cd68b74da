"""0011: one credit balance per currency (issue 10).

Before, a tenant had one ``credit_balance_cents`` that every credit was added to, whatever
its currency, so 5 USD and 5 EUR showed as 10. Now each currency has its own balance item
(``TENANT#<tid>/CREDITBAL#<currency>``) and the tenant a ``credit_currency``.

Up reads each tenant's credit ledger (the entries hold their currency) and writes each
currency's balance as the sum of that currency's entries only; a tenant whose entries are all
in one currency gets that ``credit_currency`` (one with several keeps none set, and the next
credit in any of them sets it). Every value is recomputed from the ledger and written with a
plain put or SET, so re-running is harmless. Tenants are read with a Scan: allowed here and
only here, since a migration runs from the ops CLI, never on a request path.

Down puts the old single sum back into ``credit_balance_cents`` (what the code before this
migration reads), and removes the balance items and ``credit_currency``.
"""

from __future__ import annotations

from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import CreditBalanceItem, CreditItem, TenantItem
from mamba.migrations.model import MigrationContext

version = "0011"
description = "Credit balances per currency (never one sum over currencies)"

RENEW_EVERY = 200


def _ledger(tenant_id: str) -> dict[str, int]:
    sums: dict[str, int] = {}
    found = CreditItem.query(
        keys.tenant_partition(tenant_id), CreditItem.sk.startswith(keys.CREDIT_PREFIX), consistent_read=True
    )
    for entry in found:
        if isinstance(entry, CreditItem):
            currency = entry.currency.lower()
            sums[currency] = sums.get(currency, 0) + int(entry.amount_cents)
    return sums


def _balance_items(tenant_id: str) -> list[CreditBalanceItem]:
    found = CreditBalanceItem.query(
        keys.tenant_partition(tenant_id), CreditBalanceItem.sk.startswith(keys.CREDIT_BALANCE_PREFIX)
    )
    return [i for i in found if isinstance(i, CreditBalanceItem)]


def _set_tenant(tenant: TenantItem, actions: list[Any]) -> None:
    with translate(on_condition=SKIP):  # a tenant deleted since the scan read it needs nothing
        tenant.update(actions=actions, condition=TenantItem.pk.exists())


def up(ctx: MigrationContext) -> None:
    rebuilt = 0
    for seen, tenant in enumerate(TenantItem.scan(TenantItem.kind == "tenant"), start=1):
        sums = _ledger(tenant.tenant_id)
        for stale in _balance_items(tenant.tenant_id):
            if stale.currency not in sums:
                stale.delete()
        for currency, cents in sums.items():
            CreditBalanceItem(
                *keys.credit_balance(tenant.tenant_id, currency),
                kind="credit_balance",
                tenant_id=tenant.tenant_id,
                currency=currency,
                balance_cents=cents,
            ).save()
        if len(sums) == 1 and tenant.credit_currency is None:
            _set_tenant(tenant, [TenantItem.credit_currency.set(next(iter(sums)))])
        if sums:
            rebuilt += 1
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
    ctx.log(f"  rebuilt the credit balances of {rebuilt} tenants per currency")


def down(ctx: MigrationContext) -> None:
    restored = 0
    for seen, tenant in enumerate(TenantItem.scan(TenantItem.kind == "tenant"), start=1):
        balances = _balance_items(tenant.tenant_id)
        total = sum(int(i.balance_cents or 0) for i in balances)
        actions: list[Any] = [TenantItem.credit_currency.remove()]
        if balances or tenant.credit_balance_cents is not None:
            actions.append(TenantItem.credit_balance_cents.set(total))
        _set_tenant(tenant, actions)
        for item in balances:
            item.delete()
        restored += 1 if balances else 0
        if seen % RENEW_EVERY == 0:
            ctx.renew_lease()
    ctx.log(f"  put the single credit balance back on {restored} tenants")
