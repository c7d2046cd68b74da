"""mamba.services.catalog on fakes: rules for the browser, plan order, locations, usage."""

from __future__ import annotations

from dataclasses import replace
from typing import get_args

from mamba.domain import billing as b
from mamba.domain import rules
from mamba.domain.nodes import Node
from mamba.domain.quotas import Quotas, Usage
from mamba.domain.servers import Limits
from mamba.schemas.catalog import RuleName
from mamba.services import catalog
from tests.fakes import FakeBillingRepository, FakePlacementStore, FakeTenantUsageReader, server_entity


def test_the_schema_names_every_rule_the_api_enforces():
    assert set(get_args(RuleName)) == set(rules.ARITY)


def test_rule_list_parses_rules_and_keeps_the_regex_whole():
    assert catalog.rule_list("required|integer|between:1,65535") == [
        {"name": "required", "args": []},
        {"name": "integer", "args": []},
        {"name": "between", "args": ["1", "65535"]},
    ]
    assert catalog.rule_list("nullable|regex:/^(a|b)$/i")[1] == {"name": "regex", "args": ["/^(a|b)$/i"]}
    assert catalog.rule_list("frobnicate:3") == []  # stored before the parser knew better: no crash


def _plan(plan_id: str, cents: int, active: bool = True) -> b.Plan:
    return b.Plan(id=plan_id, name=plan_id, quotas=Quotas(servers=1), price_id=f"price_{plan_id}",
                  amount_cents=cents, active=active, created_at=f"2026-11-25T10:00:0{cents % 7}Z")  # fmt: skip


def test_public_plans_read_every_page_drop_inactive_ones_and_put_free_first():
    free = b.free_plan()
    repo = FakeBillingRepository()
    for plan in (_plan("max", 9000), free, _plan("old", 1, active=False), _plan("pro", 1500), _plan("mid", 1500)):
        repo.add_plan(plan)
    assert [p.id for p in catalog.public_plans(repo, free)] == ["free", "mid", "pro", "max"]


def _load(name: str, location: str, used_mb: int = 0, **extra) -> tuple[Node, int]:
    node = Node(id=f"nd_{name}", uuid=name, name=name, fqdn=f"{name}.example", token_id=name.ljust(16, "x"),
                created_at="", updated_at="", location=location, memory_mb=1000, disk_mb=1000, **extra)  # fmt: skip
    return node, used_mb


def placement_of(loads: list[tuple[Node, int]]) -> FakePlacementStore:
    """A placement store whose nodes hold one running server of ``used_mb`` each."""
    store = FakePlacementStore()
    for n, (node, used_mb) in enumerate(loads):
        store.nodes.add(node, "token")
        if used_mb:
            held = server_entity(f"00000000-0000-4000-8000-{n:012d}", node.id, "running")
            store.servers.add(replace(held, limits=Limits(memory_mb=used_mb, disk_mb=0)))
    return store


def test_a_location_is_available_when_any_of_its_nodes_has_room_for_the_size():
    store = placement_of(
        [_load("a", "fra", used_mb=900), _load("b", "fra"), _load("c", "ams", used_mb=900), _load("d", "")]
    )
    assert catalog.locations(store, "tn_a", memory_mb=500) == [
        {"id": "ams", "available": False},
        {"id": "fra", "available": True},
    ]


def reader(
    plan_id: str, plan_quotas: str | None, free: Quotas | None, used: Usage, backup_bytes: int
) -> FakeTenantUsageReader:
    """tn_a on ``plan_id`` with these quotas and this usage, in the fakes the reader reads."""
    found = FakeTenantUsageReader()
    found.billing.add_tenant("tn_a")
    found.billing.states["tn_a"] = replace(found.billing.states["tn_a"], plan_id=plan_id)
    if plan_quotas is not None:
        found.placement.plans["tn_a"] = plan_quotas
    if free is not None:
        found.billing.add_plan(b.free_plan(quotas=free))
    for n in range(used.servers):
        held = server_entity(f"00000000-0000-4000-8000-{n:012d}", "n1", "running", tenant_id="tn_a")
        each = Limits(memory_mb=used.memory_mb // used.servers, disk_mb=used.disk_mb // used.servers)
        found.placement.servers.add(replace(held, limits=each))
    found.backups.set_usage("tn_a", backup_bytes, "2027-01-01T00:00:00Z")
    return found


SETTINGS_FREE = Quotas(servers=1, memory_mb=1024, disk_mb=5120, backup_bytes=0, backups_per_server=0)


def test_usage_takes_missing_plan_keys_from_settings_and_a_planless_tenant_gets_the_stored_free_plan():
    with_plan = reader("pro", '{"servers": 3}', None, Usage(servers=2, memory_mb=10, disk_mb=20), 7)
    usage = catalog.tenant_usage(with_plan, "tn_a", SETTINGS_FREE)
    assert usage["servers"] == {"used": 2, "limit": 3, "unlimited": False}
    assert usage["memory_mb"]["limit"] == 1024 and usage["backup_bytes"]["used"] == 7

    stored = Quotas(servers=2, memory_mb=-1, disk_mb=1, backup_bytes=1, backups_per_server=1)
    planless = reader("free", None, stored, Usage(), 0)
    usage = catalog.tenant_usage(planless, "tn_a", SETTINGS_FREE)
    assert usage["servers"]["limit"] == 2 and usage["memory_mb"]["unlimited"] is True
