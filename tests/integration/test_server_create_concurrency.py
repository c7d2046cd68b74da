"""Concurrent creates through the real API over HTTP (threaded server, real guard, moto):
no ``ip:port`` is ever given twice, and a quota is never passed by racing requests.

DynamoDB applies each conditional write and transaction atomically; moto checks and writes in
Python without a lock, so two threads could both pass a condition. The test serialises moto's
DynamoDB request handling (one request at a time, like the service's per-item atomicity) so a
failure here is the panel's race, not moto's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from mamba import bootstrap
from tests.api.tenancy_helpers import bearer, make_world
from tests.fakes import FakeWorkflows
from tests.server_world import add_blueprint, add_node, create_body, set_plan_quotas
from tests.statemachines.provision_support import allocation_holders, panel_over_http

pytestmark = pytest.mark.slow

CREATES = 20


@pytest.fixture
def panel(client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, FakeWorkflows]]:
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def one_at_a_time(self: Any) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", one_at_a_time)
    make_world(client)
    add_blueprint()
    recorder = FakeWorkflows()
    lock_started = threading.Lock()
    original_start = recorder.start

    def start(workflow: str, operation_id: str, payload: dict[str, Any]) -> str:
        with lock_started:
            return original_start(workflow, operation_id, payload)

    monkeypatch.setattr(recorder, "start", start)
    warm_lazy_modules()
    with bootstrap.override(workflows=recorder), panel_over_http() as url:
        yield url, recorder


def warm_lazy_modules() -> None:
    """Run the doors' lazily bound service modules once, before the race: the stdlib
    LazyLoader of Python < 3.12.3 is not thread-safe (CPython gh-114763), so two threads
    touching a module first could see it half-loaded. Lambda runs one request per container."""
    from functions.api import servers as door
    from mamba.services import blueprints, operations, quotas

    assert door.service.create_server and door.server_records.CreateServer and blueprints.validate_environment
    assert operations.start_operation and quotas.effective_quotas


def create_in_parallel(url: str) -> list[requests.Response]:
    headers = {**bearer("usr_alice"), "Content-Type": "application/json"}

    def create(i: int) -> requests.Response:
        body = json.dumps(create_body(name=f"race-{i}", limits={"memory_mb": 256, "disk_mb": 256}))
        return requests.post(f"{url}/v1/tenants/tn_a/servers", data=body, headers=headers, timeout=120)

    with ThreadPoolExecutor(max_workers=CREATES) as pool:
        return list(pool.map(create, range(CREATES)))


def test_twenty_creates_against_ten_free_ports_give_ten_servers_and_ten_no_capacity(panel):
    # Given 10 free ports on two nodes and a plan that allows many servers
    url, recorder = panel
    add_node("alpha", ports=range(25565, 25570), ip="10.0.0.1")
    add_node("bravo", ports=range(25565, 25570), ip="10.0.0.2")
    set_plan_quotas("tn_a", {"servers": 100, "memory_mb": -1, "disk_mb": -1})

    # When 20 creates race
    answers = create_in_parallel(url)

    # Then exactly 10 got a server, 10 got NO_CAPACITY, and no ip:port was given twice
    created = [a.json()["server"] for a in answers if a.status_code == 202]
    refused = [a.json()["error"]["code"] for a in answers if a.status_code != 202]
    assert len(created) == 10 and refused == ["NO_CAPACITY"] * 10, [a.text for a in answers if a.status_code >= 500]
    addresses = {(s["allocation"]["ip"], s["allocation"]["port"]) for s in created}
    assert len(addresses) == 10
    holders = {**allocation_holders("nd_alpha"), **{p + 100: h for p, h in allocation_holders("nd_bravo").items()}}
    assert sorted(h for h in holders.values() if h) == sorted(s["id"] for s in created)
    assert len(recorder.started) == 10


def test_twenty_creates_against_a_quota_of_ten_never_pass_the_quota(panel):
    # Given 20 free ports and a plan of 10 servers
    url, recorder = panel
    add_node("alpha", ports=range(25565, 25585))
    set_plan_quotas("tn_a", {"servers": 10, "memory_mb": -1, "disk_mb": -1})

    # When 20 creates race
    answers = create_in_parallel(url)

    # Then exactly 10 servers exist and the other 10 were told QUOTA_EXCEEDED (servers)
    codes = sorted(a.json()["error"]["code"] for a in answers if a.status_code != 202)
    assert sum(a.status_code == 202 for a in answers) == 10 and codes == ["QUOTA_EXCEEDED"] * 10, [
        a.text for a in answers
    ]
    assert len(bootstrap.server_repository().of_tenant("tn_a")) == 10
    assert sum(1 for h in allocation_holders("nd_alpha").values() if h) == 10
    assert len(recorder.started) == 10
