"""The lifecycle writes on moto: the server lock, conditional status and build updates, the
reconcile batch (and its fallback when one server changed), record removal."""

from __future__ import annotations

import uuid

import pytest

from mamba import bootstrap
from mamba.adapters.dynamo.server_lifecycle import DynamoServerLifecycleStore, DynamoServerLocks
from mamba.domain import servers as srv
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.server_lifecycle import ObservedServer
from mamba.domain.servers import ActivityEntry, Limits, Server

T0 = "2026-12-01T10:00:00Z"


def add(status: str = srv.OFFLINE) -> Server:
    server = Server(
        uuid=str(uuid.uuid4()),
        name="s",
        tenant_id="tn_a",
        node_id="nd_1",
        blueprint_id="bp_1",
        allocation=("10.0.0.5", 25565),
        docker_image="img",
        startup="run",
        limits=Limits(memory_mb=512, disk_mb=1024, threads="0-1"),
        status=status,
        created_at=T0,
        updated_at=T0,
        environment={"MOTD": "hi"},
    )
    bootstrap.server_repository().add(server)
    return server


@pytest.fixture
def store(aws):
    bootstrap.dynamo_tables()
    return DynamoServerLifecycleStore()


@pytest.fixture
def locks(aws):
    bootstrap.dynamo_tables()
    return DynamoServerLocks()


def test_the_lock_admits_one_operation_and_is_released_only_by_its_holder(locks):
    server_uuid = str(uuid.uuid4())
    locks.acquire(server_uuid, "op_1", "delete_server", now=T0, now_epoch=1000, seconds=60)

    with pytest.raises(ConflictError) as caught:
        locks.acquire(server_uuid, "op_2", "reinstall_server", now=T0, now_epoch=1001, seconds=60)
    locks.release(server_uuid, "op_2")  # not the holder: a no-op

    assert caught.value.details["operation_id"] == "op_1"
    assert locks.holder(server_uuid) == ("op_1", "delete_server")
    locks.release(server_uuid, "op_1")
    locks.release(server_uuid, "op_1")  # repeated: still fine
    assert locks.holder(server_uuid) is None


def test_a_lock_past_its_ttl_can_be_taken_over(locks):
    server_uuid = str(uuid.uuid4())
    locks.acquire(server_uuid, "op_dead", "delete_server", now=T0, now_epoch=1000, seconds=60)

    locks.acquire(server_uuid, "op_new", "delete_server", now=T0, now_epoch=1061, seconds=60)

    assert locks.holder(server_uuid) == ("op_new", "delete_server")


def test_status_moves_only_from_an_expected_status(store):
    server = add(srv.RUNNING)

    with pytest.raises(ConflictError) as caught:
        store.set_status(server.uuid, srv.INSTALLING, [srv.OFFLINE], now="t1")
    store.set_status(server.uuid, srv.DELETING, [srv.RUNNING, srv.OFFLINE], now="t2")

    assert caught.value.details["status"] == srv.RUNNING
    moved = bootstrap.server_repository().get(server.uuid)
    assert (moved.status, moved.updated_at) == (srv.DELETING, "t2")
    with pytest.raises(NotFoundError):
        store.set_status(str(uuid.uuid4()), srv.DELETING, [srv.RUNNING], now="t3")


def test_the_build_and_environment_are_written_and_threads_can_be_cleared(store):
    server = add()

    store.set_build(server.uuid, Limits(memory_mb=2048, disk_mb=4096), [srv.OFFLINE], now="t1", environment={"A": 1})

    saved = bootstrap.server_repository().get(server.uuid)
    assert saved.limits == Limits(memory_mb=2048, disk_mb=4096)
    assert saved.environment == {"A": 1}
    store.set_build(server.uuid, Limits(memory_mb=1024, disk_mb=4096, threads="3"), [srv.OFFLINE], now="t2")
    again = bootstrap.server_repository().get(server.uuid)
    assert again.limits.threads == "3" and again.environment == {"A": 1}
    with pytest.raises(ConflictError):
        store.set_build(server.uuid, Limits(memory_mb=1, disk_mb=1), [srv.RUNNING], now="t3")


def test_the_profile_changes_and_a_missing_server_is_not_found(store):
    server = add()
    store.set_profile(server.uuid, name="new", description=None, now="t1")
    assert bootstrap.server_repository().get(server.uuid).name == "new"
    with pytest.raises(NotFoundError):
        store.set_profile(str(uuid.uuid4()), name="x", description="y", now="t1")


def test_observations_fall_back_to_one_by_one_when_a_server_changed_meanwhile(store):
    # Given three servers read as offline, one of which a delete has since moved on
    a, b, c = add(), add(), add()
    store.set_status(b.uuid, srv.DELETING, [srv.OFFLINE], now="t0")
    rows = [
        ObservedServer(a.uuid, srv.OFFLINE, srv.RUNNING, {"state": "running"}),
        ObservedServer(b.uuid, srv.OFFLINE, srv.RUNNING, {"state": "running"}),
        ObservedServer(c.uuid, srv.OFFLINE, None, {"state": "offline"}),
    ]

    # When the reconcile batch is written
    written = store.record_observations(rows, now="t1")

    # Then the transaction was cancelled, and the fallback wrote the two unchanged servers only
    assert written == 2
    repo = bootstrap.server_repository()
    assert repo.get(a.uuid).status == srv.RUNNING
    assert repo.get(b.uuid).status == srv.DELETING
    assert repo.get(c.uuid).status == srv.OFFLINE
    assert store.utilization(a.uuid) == ({"state": "running"}, "t1")
    assert store.utilization(b.uuid) == (None, None)
    assert store.utilization(c.uuid) == ({"state": "offline"}, "t1")


def test_observations_are_one_transaction_when_nothing_changed(store):
    servers = [add() for _ in range(3)]
    rows = [ObservedServer(s.uuid, srv.OFFLINE, srv.RUNNING, {"n": i}) for i, s in enumerate(servers)]

    assert store.record_observations(rows, now="t1") == 3
    assert {bootstrap.server_repository().get(s.uuid).status for s in servers} == {srv.RUNNING}


def test_remove_deletes_the_server_its_activity_suspension_lock_and_run_records(store, locks):
    server = add()
    bootstrap.billing_repository().observe_run(server.uuid, "tn_a", 1024, True, 1000)  # RUNSTATE + RUN#
    entries = [
        ActivityEntry(server.uuid, "tn_a", "server:power.start", f"2026-12-01T10:00:0{i}Z", {}) for i in range(3)
    ]
    bootstrap.server_repository().add_activity(entries)
    locks.acquire(server.uuid, "op_1", "delete_server", now=T0, now_epoch=1000, seconds=60)
    store.set_suspension(server.uuid, srv.SUSPENDED, [srv.OFFLINE], by="billing", now="t1")

    removed = store.remove(server.uuid)

    assert removed == 8
    with pytest.raises(NotFoundError):
        bootstrap.server_repository().get(server.uuid)
    assert bootstrap.server_repository().activity(server.uuid) == []
    assert locks.holder(server.uuid) is None
    assert store.suspended_by(server.uuid) is None
    assert bootstrap.billing_repository().runs(server.uuid, 0, 10**10) == []
    assert store.remove(server.uuid) == 1  # idempotent: only the profile's (no-op) delete
    with pytest.raises(NotFoundError):
        store.utilization(server.uuid)


def test_the_suspension_records_who_set_it_and_clearing_removes_it(store):
    server = add()
    assert store.suspended_by(server.uuid) is None

    store.set_suspension(server.uuid, srv.SUSPENDED, [srv.OFFLINE], by="admin", now="t1")
    assert store.suspended_by(server.uuid) == "admin"
    assert bootstrap.server_repository().get(server.uuid).status == srv.SUSPENDED

    with pytest.raises(ConflictError):
        store.set_suspension(server.uuid, srv.OFFLINE, [srv.RUNNING], by=None, now="t2")
    store.set_suspension(server.uuid, srv.OFFLINE, [srv.SUSPENDED], by=None, now="t3")
    assert store.suspended_by(server.uuid) is None
    assert store.suspended_by(str(uuid.uuid4())) is None


def test_a_whole_profile_save_does_not_lose_who_suspended_the_server(store):
    # Given a server an admin suspended
    server = add()
    store.set_suspension(server.uuid, srv.SUSPENDED, [srv.OFFLINE], by="admin", now="t1")

    # When another writer replaces the whole profile (the install callback does)
    repo = bootstrap.server_repository()
    repo.save(repo.get(server.uuid))

    # Then who suspended it is still known
    assert store.suspended_by(server.uuid) == "admin"


def test_a_status_change_sets_its_reason_or_clears_a_stale_one(store):
    server = add(srv.INSTALLING)

    store.set_status(server.uuid, srv.INSTALL_FAILED, [srv.INSTALLING], now="t1", reason="too slow")
    assert bootstrap.server_repository().get(server.uuid).status_reason == "too slow"

    store.set_status(server.uuid, srv.INSTALLING, [srv.INSTALL_FAILED], now="t2")
    assert bootstrap.server_repository().get(server.uuid).status_reason is None
