"""Quotas: the plan's JSON with free-plan defaults, and the check before a create."""

from __future__ import annotations

import pytest

from mamba.domain.errors import QuotaExceededError
from mamba.domain.quotas import Quotas, Usage, check_new_server, parse_quotas
from mamba.services.quotas import effective_quotas
from tests.fakes import FakePlacementStore

FREE = Quotas(servers=2, memory_mb=4096, disk_mb=20480, backup_bytes=5, backups_per_server=2)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, FREE),
        ("", FREE),
        ("not json", FREE),
        ("[1, 2]", FREE),
        ('{"servers": 10}', Quotas(10, 4096, 20480, 5, 2)),
        ('{"servers": -1, "memory_mb": 0, "disk_mb": "lots", "backup_bytes": true}', Quotas(-1, 0, 20480, 5, 2)),
        (
            '{"servers": 5, "memory_mb": 8192, "disk_mb": 1, "backup_bytes": 9, "backups_per_server": 4}',
            Quotas(5, 8192, 1, 9, 4),
        ),
    ],
)
def test_parse_quotas_takes_each_missing_or_malformed_key_from_the_defaults(raw, expected):
    assert parse_quotas(raw, FREE) == expected


@pytest.mark.parametrize(
    ("usage", "memory", "disk", "limit"),
    [
        (Usage(servers=2), 1, 1, "servers"),
        (Usage(servers=1, memory_mb=4000), 100, 1, "memory_mb"),
        (Usage(servers=1, disk_mb=20000), 1, 481, "disk_mb"),
    ],
)
def test_one_server_too_many_names_the_limit(usage, memory, disk, limit):
    with pytest.raises(QuotaExceededError) as caught:
        check_new_server(FREE, usage, memory, disk)

    assert caught.value.status == 403 and caught.value.details["limit"] == limit


def test_exactly_at_the_limit_passes_and_negative_means_unlimited():
    check_new_server(FREE, Usage(servers=1, memory_mb=4000, disk_mb=20000), 96, 480)
    check_new_server(Quotas(-1, -1, -1, -1, -1), Usage(servers=10**6, memory_mb=10**9), 10**6, 10**6)


def source(raw: str | None) -> FakePlacementStore:
    """The placement store, holding ``raw`` as tn_a's plan quotas (None: no plan)."""
    store = FakePlacementStore()
    if raw is not None:
        store.plans["tn_a"] = raw
    return store


def test_effective_quotas_reads_the_plan_else_the_free_plan():
    assert effective_quotas("tn_a", source('{"servers": 9}'), FREE).servers == 9
    assert effective_quotas("tn_a", source(None), FREE) == FREE
