"""Fault: two build changes and a create race for the last of a tenant's quota (issue 18, item 5).

Through the real API over HTTP (threaded server, real guard, moto with one DynamoDB request at a
time, as the service applies each item atomically). A bigger build takes the same quota guard
as a create, so whatever the interleaving, the accepted requests together never pass the plan.
Before, a build change checked the usage it read without the guard, and two changes plus a
create could all pass.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import requests

from mamba import bootstrap
from tests.api.tenancy_helpers import bearer
from tests.integration import test_server_create_concurrency as concurrency
from tests.server_world import add_node, create_body, set_plan_quotas

pytestmark = pytest.mark.slow

panel = concurrency.panel  # the fixture: the real API over HTTP, one DynamoDB request at a time

QUOTA_MB = 2048
BASE = "/v1/tenants/tn_a/servers"


def seed_two_servers(url: str, headers: dict[str, str]) -> list[str]:
    """Two offline 512 MiB servers: 1024 MiB of the 2048 MiB plan is left."""
    ids = []
    for name in ("one", "two"):
        body = json.dumps(create_body(name=name, limits={"memory_mb": 512, "disk_mb": 256}))
        created = requests.post(f"{url}{BASE}", data=body, headers=headers, timeout=60)
        assert created.status_code == 202, created.text
        ids.append(created.json()["server"]["id"])
    repo = bootstrap.server_repository()
    for server_id in ids:
        repo.save(replace(repo.get(server_id), status="offline"))
    return ids


def race(url: str, headers: dict[str, str], ids: list[str]) -> dict[str, requests.Response]:
    """Each of the three asks for the last 1024 MiB; they start together."""
    start = threading.Barrier(3)

    def grow(server_id: str) -> requests.Response:
        body = json.dumps({"limits": {"memory_mb": 1536}})
        start.wait()
        return requests.patch(f"{url}{BASE}/{server_id}", data=body, headers=headers, timeout=120)

    def create() -> requests.Response:
        body = json.dumps(create_body(name="three", limits={"memory_mb": 1024, "disk_mb": 256}))
        start.wait()
        return requests.post(f"{url}{BASE}", data=body, headers=headers, timeout=120)

    with ThreadPoolExecutor(max_workers=3) as pool:
        first, second = (pool.submit(grow, server_id) for server_id in ids)
        third = pool.submit(create)
        return {"grow-1": first.result(), "grow-2": second.result(), "create": third.result()}


@pytest.mark.parametrize("round_", range(3))
def test_two_build_changes_and_a_create_never_pass_the_memory_quota_together(panel, round_: int) -> None:
    # Given a plan of 2048 MiB with 1024 MiB left, and a node with room and ports
    url, recorder = panel
    add_node("alpha", ports=range(25565, 25575), memory_mb=65536)
    set_plan_quotas("tn_a", {"servers": 10, "memory_mb": QUOTA_MB, "disk_mb": -1})
    headers = {**bearer("usr_alice"), "Content-Type": "application/json"}
    ids = seed_two_servers(url, headers)

    # When two build changes (512 → 1536 MiB each) and a create of 1024 MiB race
    answers = race(url, headers, ids)

    # Then exactly one of them was accepted, and the others were refused by the quota
    accepted = [name for name, answer in answers.items() if answer.status_code in (200, 202)]
    refused = {name: answer.json()["error"]["code"] for name, answer in answers.items() if name not in accepted}
    assert len(accepted) == 1, {name: (a.status_code, a.text) for name, a in answers.items()}
    assert set(refused.values()) == {"QUOTA_EXCEEDED"}, refused
    # and what the accepted requests hold fits the plan: 1024 MiB in place + 1024 MiB more
    granted = 1024 * len(accepted)
    assert 1024 + granted <= QUOTA_MB
    creates = [w for w, _, _ in recorder.started if w == "provision_server"]
    builds = [w for w, _, _ in recorder.started if w == "update_server_build"]
    assert len(creates) == 2 + (1 if "create" in accepted else 0)
    assert len(builds) == (0 if "create" in accepted else 1)


def test_a_build_change_reserved_under_the_guard_is_counted_by_a_later_create(panel) -> None:
    # Given a build change accepted for 512 → 1536 MiB whose workflow has not saved it yet
    url, _ = panel
    add_node("alpha", ports=range(25565, 25575), memory_mb=65536)
    set_plan_quotas("tn_a", {"servers": 10, "memory_mb": QUOTA_MB, "disk_mb": -1})
    headers = {**bearer("usr_alice"), "Content-Type": "application/json"}
    ids = seed_two_servers(url, headers)
    grown = requests.patch(f"{url}{BASE}/{ids[0]}", data=json.dumps({"limits": {"memory_mb": 1536}}),
                           headers=headers, timeout=60)  # fmt: skip
    assert grown.status_code == 202, grown.text
    assert bootstrap.server_repository().get(ids[0]).limits.memory_mb == 512  # not saved yet

    # When a create asks for 512 MiB more
    body = json.dumps(create_body(name="late", limits={"memory_mb": 512, "disk_mb": 256}))
    late = requests.post(f"{url}{BASE}", data=body, headers=headers, timeout=60)

    # Then the reserved build counts: 1536 + 512 + 512 > 2048
    assert late.status_code == 403, late.text
    assert late.json()["error"]["code"] == "QUOTA_EXCEEDED"


def test_a_build_change_that_cannot_start_releases_its_quota_reservation(panel) -> None:
    # Given 1024 MiB of the plan left, and the first server's workflow start failing once
    # (Step Functions unavailable) after its bigger build was reserved under the guard
    url, recorder = panel
    add_node("alpha", ports=range(25565, 25575), memory_mb=65536)
    set_plan_quotas("tn_a", {"servers": 10, "memory_mb": QUOTA_MB, "disk_mb": -1})
    headers = {**bearer("usr_alice"), "Content-Type": "application/json"}
    ids = seed_two_servers(url, headers)
    recorder.fail = True
    grown = requests.patch(f"{url}{BASE}/{ids[0]}", data=json.dumps({"limits": {"memory_mb": 1536}}),
                           headers=headers, timeout=60)  # fmt: skip
    recorder.fail = False
    assert grown.status_code == 503, grown.text
    assert bootstrap.server_repository().get(ids[0]).limits.memory_mb == 512

    # When a create asks for the 1024 MiB that are really left
    body = json.dumps(create_body(name="after", limits={"memory_mb": 1024, "disk_mb": 256}))
    after = requests.post(f"{url}{BASE}", data=body, headers=headers, timeout=60)

    # Then the build that never started does not count (it was undone in the same request)
    assert after.status_code == 202, after.text
    guard = bootstrap.placement_store().guard("tn_a")
    assert not [r for r in guard.recent if r[0] == ids[0] and r[1] == 1536]


def test_a_build_change_refused_by_the_servers_lock_releases_its_quota_reservation(panel) -> None:
    # Given 1024 MiB left and the first server locked by another operation (a delete running)
    url, _ = panel
    add_node("alpha", ports=range(25565, 25575), memory_mb=65536)
    set_plan_quotas("tn_a", {"servers": 10, "memory_mb": QUOTA_MB, "disk_mb": -1})
    headers = {**bearer("usr_alice"), "Content-Type": "application/json"}
    ids = seed_two_servers(url, headers)
    bootstrap.server_lifecycle().locks.acquire(ids[0], "op_other", "delete_server", now="2026-01-01T00:00:00Z",
                                               now_epoch=0, seconds=10**10)  # fmt: skip
    grown = requests.patch(f"{url}{BASE}/{ids[0]}", data=json.dumps({"limits": {"memory_mb": 1536}}),
                           headers=headers, timeout=60)  # fmt: skip
    assert grown.status_code == 409, grown.text

    # When a create asks for the 1024 MiB that are really left
    body = json.dumps(create_body(name="after", limits={"memory_mb": 1024, "disk_mb": 256}))
    after = requests.post(f"{url}{BASE}", data=body, headers=headers, timeout=60)

    # Then it is accepted: the refused build change left nothing reserved
    assert after.status_code == 202, after.text
