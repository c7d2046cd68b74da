"""Usage metering (mamba.services.metering) over FakeBillingRepository and FakeStripe: run
intervals, the hour's ledger rows, sending them once, and retrying what Stripe refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.domain import billing as b
from mamba.services import metering
from mamba.services.billing import BillingPorts
from tests.fakes import FakeBillingRepository, FakeStripe, server_entity

HOUR = 1_800_000_000 - 1_800_000_000 % 3600
SRV_A, SRV_B = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
PRO = b.Plan(
    id="pro",
    name="Pro",
    quotas=b.Quotas(servers=3),
    price_id="price_pro",
    metered=(
        b.MeteredPrice("ram_gb_hours", "price_ram", "gs_ram_gb_hours"),
        b.MeteredPrice("backup_gb_hours", "price_backup", "gs_backup_gb_hours"),
    ),
)


@pytest.fixture
def world() -> tuple[BillingPorts, FakeBillingRepository, FakeStripe]:
    repo, stripe = FakeBillingRepository(), FakeStripe()
    repo.add_plan(PRO)
    repo.add_tenant("tn_pro")
    repo.save_state(replace(repo.get_state("tn_pro"), plan_id="pro", customer_id="cus_pro"), dunning_due_at=None)
    repo.add_tenant("tn_free")
    return (
        BillingPorts(repo=repo, stripe=lambda: stripe, public_url="https://panel.example", free_quotas=b.FREE_QUOTAS),
        repo,
        stripe,
    )


def servers(status: str = "running") -> dict[str, list[object]]:
    return {
        "tn_pro": [server_entity(SRV_A, status=status, tenant_id="tn_pro")],
        "tn_free": [server_entity(SRV_B, status=status, tenant_id="tn_free")],
    }


def test_observe_opens_a_run_for_a_running_server_and_closes_it_when_stopped(world):
    ports, repo, _ = world
    running, stopped = servers("running")["tn_pro"], servers("offline")["tn_pro"]

    metering.observe(ports, running, HOUR + 600)
    metering.observe(ports, stopped, HOUR + 1800)

    assert repo.runs(SRV_A, HOUR, HOUR + 3600) == [(HOUR + 600, HOUR + 1800)]


def test_observe_nodes_never_raises_when_a_node_cannot_be_read(world):
    ports, repo, _ = world

    def servers_on(node_id: str) -> list[object]:
        if node_id == "n_broken":
            raise ConnectionError("unreachable")
        return servers()["tn_pro"]

    assert metering.observe_nodes(ports, ["n_broken", "n1"], servers_on, HOUR) == 1
    assert repo.runs(SRV_A, HOUR, HOUR + 3600) == [(HOUR, None)]


def test_meter_hour_writes_ram_rows_for_the_seconds_run_and_a_backup_row(world):
    ports, repo, _ = world
    metering.observe(ports, servers()["tn_pro"], HOUR + 1800)  # half the hour
    gib = 1024**3

    written = metering.meter_hour(ports, HOUR, lambda t: servers()[t], lambda t: 2 * gib if t == "tn_pro" else 0)

    rows = {(r.subject, r.metric): r for r in repo.usage_between("tn_pro", HOUR, HOUR + 3600)}
    ram, backups = rows[(SRV_A, "ram_gb_hours")], rows[("backups", "backup_gb_hours")]
    assert written == {"rows": 2, "tenants": 2}
    assert (ram.seconds, ram.value, ram.event_name, ram.customer_id) == (1800, "0.25", "gs_ram_gb_hours", "cus_pro")
    assert (backups.value, backups.identifier) == ("2", b.meter_identifier("tn_pro-backups", "backup_gb_hours", HOUR))
    assert repo.usage_between("tn_free", HOUR, HOUR + 3600) == []  # the free server never ran


def test_a_rerun_of_an_hour_keeps_the_first_rows_and_sends_each_once(world):
    ports, _repo, stripe = world
    metering.observe(ports, servers()["tn_pro"], HOUR)

    first = metering.run(ports, HOUR + 3600 + 5, list, lambda t: servers()[t], lambda t: 0, hour=HOUR)
    again = metering.run(ports, HOUR + 3600 + 9, list, lambda t: servers()[t], lambda t: 0, hour=HOUR)

    assert (first["sent"], again["sent"]) == (1, 0)
    assert [e["identifier"] for e in stripe.meter_events] == [b.meter_identifier(SRV_A, "ram_gb_hours", HOUR)]
    assert stripe.meter_events[0]["value"] == "0.5"


def test_rows_of_a_free_plan_tenant_are_written_but_never_sent(world):
    ports, repo, stripe = world
    metering.observe(ports, servers()["tn_free"] + servers()["tn_pro"], HOUR)

    result = metering.run(ports, HOUR + 3600, list, lambda t: servers()[t], lambda t: 0, hour=HOUR)

    assert result["rows"] == 2 and result["sent"] == 1
    free_rows = repo.usage_between("tn_free", HOUR, HOUR + 3600)
    assert [r.event_name for r in free_rows] == [None]
    assert {e["customer"] for e in stripe.meter_events} == {"cus_pro"}


def test_flush_counts_a_refused_row_and_sends_it_on_the_next_run(world):
    ports, repo, stripe = world
    metering.observe(ports, servers()["tn_pro"], HOUR)
    metering.meter_hour(ports, HOUR, lambda t: servers()[t], lambda t: 0, tenants=["tn_pro"])
    stripe.fail_meter_events = 1

    first = metering.flush(ports, HOUR + 3600)
    second = metering.flush(ports, HOUR + 7200)

    assert (first, second) == ({"sent": 0, "failed": 1}, {"sent": 1, "failed": 0})
    [row] = repo.usage_between("tn_pro", HOUR, HOUR + 3600)
    assert (row.attempts, row.sent_at is not None) == (1, True)


def test_flush_leaves_rows_older_than_stripes_window(world):
    ports, _repo, stripe = world
    metering.observe(ports, servers()["tn_pro"], HOUR)
    metering.meter_hour(ports, HOUR, lambda t: servers()[t], lambda t: 0, tenants=["tn_pro"])

    result = metering.flush(ports, HOUR + b.METER_WINDOW_SECONDS + 3600)

    assert result == {"sent": 0, "failed": 0} and stripe.meter_events == []
