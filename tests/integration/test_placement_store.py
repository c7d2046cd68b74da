"""DynamoPlacementStore on moto: the reservation transaction names the condition that lost."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba import bootstrap
from mamba.domain.errors import AllocationTakenError, ConflictError, TenantServersChangedError
from mamba.domain.servers import FAILED, Limits, Server
from tests.server_world import add_blueprint, add_node

T0 = "2026-11-25T10:00:00Z"


def server(uuid_tail: str, port: int = 25565, tenant_id: str = "tn_a") -> Server:
    return Server(
        uuid=f"00000000-0000-4000-8000-{uuid_tail:0>12}",
        name="s",
        tenant_id=tenant_id,
        node_id="nd_alpha",
        blueprint_id="bp",
        allocation=("10.0.0.1", port),
        docker_image="img",
        startup="run",
        limits=Limits(memory_mb=512, disk_mb=1024),
        status="provisioning",
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture
def store(aws):
    bootstrap.dynamo_tables()
    add_node("alpha", ports=range(25565, 25568))
    add_blueprint("bp")
    return bootstrap.placement_store()


def test_reserve_bumps_the_guard_takes_the_allocation_and_writes_the_server(store):
    store.reserve(server("1"), 0)

    assert store.guard_version("tn_a") == 1
    assert bootstrap.allocation_repository().get("nd_alpha", "10.0.0.1", 25565).server_id == server("1").uuid
    assert bootstrap.server_repository().get(server("1").uuid).status == "provisioning"
    assert [a.port for a in store.free_allocations("nd_alpha")] == [25566, 25567]


def test_a_stale_guard_version_is_tenant_changed_and_writes_nothing(store):
    store.reserve(server("1"), 0)

    with pytest.raises(TenantServersChangedError):
        store.reserve(server("2", port=25566), 0)

    assert bootstrap.allocation_repository().get("nd_alpha", "10.0.0.1", 25566).server_id is None


def test_a_taken_allocation_is_allocation_taken(store):
    store.reserve(server("1"), 0)

    with pytest.raises(AllocationTakenError):
        store.reserve(server("2", port=25565, tenant_id="tn_b"), 0)


def test_an_existing_uuid_is_a_conflict(store):
    store.reserve(server("1"), 0)

    with pytest.raises(ConflictError) as caught:
        store.reserve(server("1", port=25566), 1)

    assert caught.value.code == "CONFLICT"


def test_unreserve_frees_the_port_and_deletes_the_provisioning_server(store):
    store.reserve(server("1"), 0)

    store.unreserve(server("1"))

    assert store.usage("tn_a").servers == 0
    assert len(store.free_allocations("nd_alpha")) == 3


def test_usage_counts_a_recent_reservation_that_gsi2_does_not_show_yet(store, monkeypatch):
    # Given a server just reserved, and gsi2 lagging behind (it lists nothing yet)
    store.reserve(server("1"), 0)
    from mamba.adapters.dynamo.items import ServerItem

    monkeypatch.setattr(ServerItem.gsi2, "query", lambda *args, **kwargs: iter(()))

    # When usage is read with the guard, and without it
    with_guard = store.usage("tn_a", store.guard("tn_a"))
    without = store.usage("tn_a")

    # Then the guard's recent reservation still counts
    assert (with_guard.servers, with_guard.memory_mb, with_guard.disk_mb) == (1, 512, 1024)
    assert without.servers == 0


def test_a_recent_reservation_of_a_server_deleted_since_no_longer_counts(store):
    # Given a server reserved (the guard remembers it for RECENT_SECONDS) and then deleted
    store.reserve(server("1"), 0)
    store.unreserve(server("1"))

    # When usage is read with the guard, Then the slot is free again (found by the load scenario:
    # create, delete and create again on one tenant answered 403 QUOTA_EXCEEDED for 5 minutes)
    assert store.usage("tn_a", store.guard("tn_a")).servers == 0


def test_a_recent_reservation_that_gsi2_lists_is_counted_once(store):
    store.reserve(server("1"), 0)

    assert store.usage("tn_a", store.guard("tn_a")).servers == 1


def test_usage_and_node_loads_leave_out_what_failed_servers_hold(store):
    store.reserve(server("1"), 0)
    store.reserve(server("2", port=25566), 1)
    repo = bootstrap.server_repository()
    repo.save(replace(repo.get(server("2").uuid), status=FAILED))

    usage = store.usage("tn_a")
    (load,) = store.node_loads()

    assert (usage.servers, usage.memory_mb, usage.disk_mb) == (2, 512, 1024)
    assert (load.node.id, load.memory_mb, load.disk_mb) == ("nd_alpha", 512, 1024)
    assert store.plan_quotas("tn_a") is None


def test_effective_quotas_follow_the_stored_free_plan_for_a_tenant_without_a_plan(store):
    # Given no plan on the tenant's record, and billing's stored free plan edited by an admin
    # (bootstrap.effective_quotas: the service with its real sources, the services' quotas port)
    from mamba.domain import billing as b
    from mamba.domain.quotas import Quotas

    effective_quotas = bootstrap.effective_quotas
    before = effective_quotas("tn_a")
    edited = Quotas(servers=7, memory_mb=2048, disk_mb=9000, backup_bytes=1, backups_per_server=1)
    bootstrap.billing_repository().add_plan(b.free_plan(T0, edited))

    # When the quotas are read
    after = effective_quotas("tn_a")

    # Then the stored free plan applies (before it existed, Settings' defaults did)
    assert before == bootstrap.free_quotas()
    assert (after.servers, after.memory_mb, after.disk_mb) == (7, 2048, 9000)
