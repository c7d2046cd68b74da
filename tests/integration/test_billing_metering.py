"""Usage metering on moto: run intervals from observed status, the hourly ledger, meter
events with deterministic identifiers, re-runs and retries. Stripe is ``FakeStripe``, which
records meter events (and, like Stripe, ignores a repeated identifier)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from mamba import bootstrap
from mamba.domain import billing as b
from mamba.domain.quotas import Quotas
from mamba.domain.servers import Limits, Server
from mamba.services import metering
from mamba.services.billing import BillingPorts
from tests.billing_support import PRO_PRICE, RAM_PRICE, FakeStripe

HOUR = b.hour_start(1_764_590_400)  # 2025-12-01T12:00Z
T0 = "2025-12-01T10:00:00Z"


@pytest.fixture
def world(aws):
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.tenancy import Membership, Tenant
    from tests.api.tenancy_helpers import add_user

    bootstrap.dynamo_tables()
    add_user("usr_alice")
    add_user("usr_bob")
    tenants = DynamoTenantRepository()
    for tenant_id, owner in (("tn_a", "usr_alice"), ("tn_b", "usr_bob")):
        tenants.add_with_owner(
            Tenant(id=tenant_id, name=tenant_id, created_at=T0),
            Membership(tenant_id=tenant_id, user_id=owner, role="owner", created_at=T0),
        )
    repo = bootstrap.billing_repository()
    repo.add_plan(
        b.Plan(
            id="pro",
            name="Pro",
            quotas=Quotas(servers=5),
            price_id=PRO_PRICE,
            metered=(b.MeteredPrice("ram_gb_hours", RAM_PRICE, "gs_ram_gb_hours"),),
            created_at=T0,
            updated_at=T0,
        )
    )
    repo.link_customer("tn_a", "cus_a")
    repo.save_state(replace(repo.get_state("tn_a"), plan_id="pro", status="active"), dunning_due_at=None)
    fake = FakeStripe()
    ports = BillingPorts(
        repo=repo, stripe=lambda: fake, public_url="http://127.0.0.1:8000", free_quotas=bootstrap.free_quotas()
    )
    return ports, fake


def add_server(tenant_id: str, memory_mb: int, status: str) -> Server:
    server = Server(
        uuid=str(uuid.uuid4()),
        name="srv",
        tenant_id=tenant_id,
        node_id="nd_1",
        blueprint_id="bp_line_server",
        allocation=("0.0.0.0", 25565),
        docker_image="img",
        startup="run",
        limits=Limits(memory_mb=memory_mb, disk_mb=1024),
        status=status,
        created_at=T0,
        updated_at=T0,
    )
    bootstrap.server_repository().add(server)
    return server


def set_status(server: Server, status: str, at: int, ports: BillingPorts) -> Server:
    changed = replace(server, status=status)
    metering.observe(ports, [changed], at)
    return changed


def run(ports: BillingPorts, now: int) -> dict[str, int]:
    repo = bootstrap.server_repository()

    def all_servers() -> list[Server]:
        return [s for t in ("tn_a", "tn_b") for s in repo.of_tenant(t)]

    return metering.run(ports, now, all_servers, repo.of_tenant, bootstrap.backup_repository().usage, hour=HOUR)


def ledger(tenant_id: str) -> list[b.UsageRow]:
    return bootstrap.billing_repository().usage_between(tenant_id, HOUR, HOUR + b.HOUR)


def test_three_reruns_of_an_hour_send_one_set_of_meter_events_and_the_ledger_is_the_run_time(world):
    ports, fake = world
    # Given one server ran 30 minutes of the hour and another ran all of it
    short = add_server("tn_a", 2048, "offline")
    set_status(short, "running", HOUR + 600, ports)
    set_status(short, "offline", HOUR + 2400, ports)
    long = add_server("tn_a", 1024, "running")
    set_status(long, "running", HOUR - 7200, ports)

    # When the hour is metered three times
    for _ in range(3):
        run(ports, HOUR + b.HOUR + 300)

    # Then one meter event per server, with the deterministic identifiers
    assert sorted(e["identifier"] for e in fake.meter_events) == sorted(
        [f"{short.uuid}:ram_gb_hours:2025-12-01T12", f"{long.uuid}:ram_gb_hours:2025-12-01T12"]
    )
    assert {e["event_name"] for e in fake.meter_events} == {"gs_ram_gb_hours"}
    assert {e["customer"] for e in fake.meter_events} == {"cus_a"}
    # and the ledger equals the servers' run time
    rows = {r.subject: r for r in ledger("tn_a")}
    assert (rows[short.uuid].seconds, rows[long.uuid].seconds) == (1800, 3600)
    assert sum(r.seconds for r in rows.values()) == 1800 + 3600
    assert (rows[short.uuid].value, rows[long.uuid].value) == ("1", "1")  # 2 GB for 0.5 h, 1 GB for 1 h
    assert all(r.sent_at for r in rows.values())


def test_an_unsent_hour_is_retried_on_the_next_run_with_the_same_identifier(world):
    ports, fake = world
    server = add_server("tn_a", 1024, "running")
    set_status(server, "running", HOUR - 60, ports)
    fake.fail_meter_events = 1

    first = run(ports, HOUR + b.HOUR + 300)
    second = run(ports, HOUR + 2 * b.HOUR + 300)

    assert (first["failed"], first["sent"]) == (1, 0)
    assert second["sent"] == 1
    assert [e["identifier"] for e in fake.meter_events] == [f"{server.uuid}:ram_gb_hours:2025-12-01T12"]


def test_rows_older_than_stripes_window_are_not_sent(world):
    ports, fake = world
    server = add_server("tn_a", 1024, "running")
    set_status(server, "running", HOUR - 60, ports)
    fake.fail_meter_events = 1
    run(ports, HOUR + b.HOUR + 300)

    later = metering.flush(ports, HOUR + 36 * 86400)

    assert later == {"sent": 0, "failed": 0} and fake.meter_events == []


def test_a_free_tenant_gets_ledger_rows_but_no_meter_events(world):
    ports, fake = world
    server = add_server("tn_b", 1024, "running")
    set_status(server, "running", HOUR - 60, ports)

    run(ports, HOUR + b.HOUR + 300)

    assert [r.seconds for r in ledger("tn_b")] == [3600]
    assert fake.meter_events == []


def test_a_server_that_never_ran_in_the_hour_has_no_row(world):
    ports, fake = world
    add_server("tn_a", 1024, "offline")

    run(ports, HOUR + b.HOUR + 300)

    assert ledger("tn_a") == [] and fake.meter_events == []


def test_observing_twice_opens_one_interval(world):
    ports, _ = world
    server = add_server("tn_a", 1024, "running")

    for at in (HOUR + 10, HOUR + 20, HOUR + 30):
        set_status(server, "running", at, ports)
    set_status(server, "offline", HOUR + 100, ports)
    set_status(server, "offline", HOUR + 200, ports)

    assert bootstrap.billing_repository().runs(server.uuid, HOUR, HOUR + b.HOUR) == [(HOUR + 10, HOUR + 100)]


def test_observe_nodes_opens_intervals_of_running_servers_and_survives_a_failing_node(world):
    ports, _ = world
    running = add_server("tn_a", 1024, "running")
    add_server("tn_a", 1024, "offline")
    repo = bootstrap.server_repository()

    def servers_on_node(node_id: str) -> list[Server]:
        if node_id == "nd_broken":
            raise RuntimeError("node listing failed")
        return repo.on_node(node_id)

    observed = metering.observe_nodes(ports, ["nd_broken", "nd_1"], servers_on_node, HOUR + 5)

    assert observed == 2
    assert bootstrap.billing_repository().runs(running.uuid, HOUR, HOUR + b.HOUR) == [(HOUR + 5, None)]


def test_a_tenants_backup_storage_is_metered_as_backup_gb_hours(world):
    ports, fake = world
    repo = bootstrap.billing_repository()
    plan = repo.get_plan("pro")
    repo.save_plan(
        plan,
        replace(
            plan,
            metered=(*plan.metered, b.MeteredPrice("backup_gb_hours", "price_backup", "gs_backup_gb_hours")),
            updated_at="2025-12-01T11:00:00Z",
        ),
    )
    bootstrap.backup_repository().set_usage("tn_a", 3 * 1024**3, T0)  # the backups issue's counter

    run(ports, HOUR + b.HOUR + 300)

    rows = [r for r in ledger("tn_a") if r.metric == "backup_gb_hours"]
    assert [(r.subject, r.value) for r in rows] == [("backups", "3")]
    assert [e["identifier"] for e in fake.meter_events] == ["tn_a-backups:backup_gb_hours:2025-12-01T12"]
