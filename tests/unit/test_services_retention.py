"""mamba.services.retention with in-memory fakes: one step per call until only the kept records
remain; servers deleted through their workflow (forced after a failed delete, skipped while
another operation holds them), keys limited to the tenant's servers revoked, recent open
operations waited for, the deletion audited."""

from __future__ import annotations

import time

from mamba.domain import servers as srv
from mamba.domain.api_keys import ApiKey
from mamba.domain.audit import AuditFilter
from mamba.services import retention
from mamba.services import server_lifecycle as lifecycle
from tests.fakes import (
    FakeApiKeyRepository,
    FakeAuditLog,
    FakeOperationRepository,
    FakeServerLifecycleStore,
    FakeTenantData,
    FakeWorkflows,
    server_entity,
)

A, B, C = (f"0000000{i}-0000-4000-8000-000000000000" for i in range(1, 4))
T0 = "2026-12-01T10:00:00Z"


class World:
    def __init__(self, *servers: tuple[str, str, str]) -> None:
        self.store = FakeServerLifecycleStore()
        for uuid, status, tenant in servers:
            self.store.servers.add(server_entity(uuid, "nd_a", status, tenant_id=tenant))
        self.workflows = FakeWorkflows()
        self.data = FakeTenantData()
        self.data.records["tn_a"] = {"PROFILE", "MEMBER#usr_a", "OP#op_1", "AUDIT#t#1", "CREDIT#t#1"}
        self.audit = FakeAuditLog()
        self.keys = FakeApiKeyRepository()
        deps = lifecycle.Lifecycle(
            servers=self.store.servers,
            store=self.store,
            locks=self.store.locks,
            nodes=None,  # type: ignore[arg-type]  # starting a workflow calls no node
            allocations=None,  # type: ignore[arg-type]
            agent_for=lambda node: None,  # type: ignore[arg-type,return-value]
            operations=FakeOperationRepository(),
            workflows=self.workflows,
        )
        self.ports = retention.RetentionPorts(
            lifecycle=deps, data=self.data, audit=self.audit, keys=self.keys, members=lambda tenant_id: ["usr_a"]
        )

    def deletes(self) -> list[tuple[str, bool]]:
        return [(p["server_uuid"], p["force"]) for wf, _, p in self.workflows.started if wf == "delete_server"]


def key(key_id: str, *servers: str) -> ApiKey:
    return ApiKey(id=key_id, user_id="usr_a", name=key_id, scopes=("servers.read",), created_at=T0,
                  secret_hash="0" * 64, hint="0000", server_ids=servers)  # fmt: skip


def test_servers_are_deleted_first_and_only_the_tenants():
    world = World((A, srv.RUNNING, "tn_a"), (B, srv.FAILED, "tn_a"), (C, srv.RUNNING, "tn_b"))

    progress = retention.delete_tenant_data(world.ports, "tn_a")

    assert progress == retention.Progress(done=False, servers=2, started=2)
    assert sorted(world.deletes()) == [(A, False), (B, True)]  # a failed server is forced
    assert world.data.purges == []


def test_a_server_another_operation_holds_waits_and_a_repeated_call_starts_nothing_twice():
    world = World((A, srv.OFFLINE, "tn_a"))
    world.store.locks.acquire(A, "op_backup", "backup_server", now=T0, now_epoch=int(time.time()), seconds=60)

    assert retention.delete_tenant_data(world.ports, "tn_a").started == 0
    world.store.locks.locks.clear()
    assert retention.delete_tenant_data(world.ports, "tn_a").started == 1
    assert retention.delete_tenant_data(world.ports, "tn_a").started == 0  # its delete holds the lock now
    assert world.deletes() == [(A, False)]


def test_a_server_whose_delete_failed_is_forced_on_the_next_call():
    world = World((A, srv.DELETING, "tn_a"))

    retention.delete_tenant_data(world.ports, "tn_a")

    assert world.deletes() == [(A, True)]


def test_keys_limited_to_the_tenants_servers_are_revoked_others_stay():
    world = World((A, srv.OFFLINE, "tn_a"), (B, srv.OFFLINE, "tn_a"), (C, srv.OFFLINE, "tn_b"))
    for made in (key("k_a", A), key("k_ab", A, B), key("k_ac", A, C), key("k_any")):
        world.keys.add(made)

    assert retention.delete_tenant_data(world.ports, "tn_a").revoked_keys == 2

    revoked = {k.id for k in world.keys.keys.values() if k.revoked_at}
    assert revoked == {"k_a", "k_ab"}


def test_a_recent_open_operation_holds_the_purge_an_old_one_does_not():
    world = World()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    world.data.operations["tn_a"] = [("running", now)]

    assert retention.delete_tenant_data(world.ports, "tn_a") == retention.Progress(done=False)
    world.data.operations["tn_a"] = [("running", "2020-01-01T00:00:00Z")]  # a workflow that died long ago
    assert retention.delete_tenant_data(world.ports, "tn_a").done


def test_without_servers_the_records_go_but_the_kept_ones_and_the_deletion_is_audited():
    world = World()

    progress = retention.delete_tenant_data(world.ports, "tn_a")

    assert progress.done and progress.removed == {"member": 1, "op": 1, "profile": 1}
    assert world.data.records["tn_a"] == {"AUDIT#t#1", "CREDIT#t#1", "DELETED"}
    entries = world.audit.list("tn_a", AuditFilter(action="tenant.data_deleted"), 10, None).items
    assert [(e.actor_via, e.details["reason"]) for e in entries] == [("system", "retention")]


def test_a_purge_over_its_budget_takes_several_calls(monkeypatch):
    monkeypatch.setattr(retention, "PURGE_BUDGET", 1)
    world = World()

    assert not retention.delete_tenant_data(world.ports, "tn_a").done
    assert not retention.delete_tenant_data(world.ports, "tn_a").done
    assert retention.delete_tenant_data(world.ports, "tn_a").done
    assert world.audit.list("tn_a", AuditFilter(action="tenant.data_deleted"), 10, None).items  # once, at the end
