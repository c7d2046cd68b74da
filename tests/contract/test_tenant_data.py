"""TenantDataStore, one test class over FakeTenantData and DynamoTenantData on moto: what a
purge keeps, its budget, the tombstone, idempotence, and which operations count as open."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.fakes import FakeTenantData

RECORDS = ("PROFILE", "MEMBER#usr_1", "INVITE#inv_1", "OP#op_1", "USAGE#h#s#m", "AUDIT#t#aud_1", "CREDIT#t#cr_1")


class World:
    """Writes a tenant's records where the store under test reads them."""

    def __init__(self, kind: str, store: Any) -> None:
        self.kind, self.store = kind, store

    def add(self, tenant_id: str, sk: str, **attributes: str) -> None:
        if self.kind == "fake":
            self.store.records.setdefault(tenant_id, set()).add(sk)
            if sk.startswith("OP#"):
                self.store.operations.setdefault(tenant_id, []).append(
                    (attributes.get("status", "succeeded"), attributes.get("created_at", ""))
                )
            return
        import boto3

        from mamba import bootstrap

        item = {"pk": {"S": f"TENANT#{tenant_id}"}, "sk": {"S": sk}, **{k: {"S": v} for k, v in attributes.items()}}
        boto3.client("dynamodb", region_name="us-east-1").put_item(TableName=bootstrap.settings().table_main, Item=item)

    def left(self, tenant_id: str) -> set[str]:
        if self.kind == "fake":
            return set(self.store.records.get(tenant_id, set()))
        import boto3

        from mamba import bootstrap

        found = boto3.client("dynamodb", region_name="us-east-1").query(
            TableName=bootstrap.settings().table_main,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
        )["Items"]
        return {item["sk"]["S"] for item in found}


@pytest.fixture(params=["fake", "dynamo"])
def world(request: pytest.FixtureRequest) -> World:
    if request.param == "fake":
        return World("fake", FakeTenantData())
    request.getfixturevalue("aws")
    import boto3

    from mamba import bootstrap
    from mamba.adapters.dynamo.retention import DynamoTenantData

    bootstrap.dynamo_tables()
    return World("dynamo", DynamoTenantData(boto3.client("dynamodb", region_name="us-east-1")))


def tenant(world: World) -> str:
    tenant_id = f"tn_{secrets.token_hex(4)}"
    for sk in RECORDS:
        world.add(tenant_id, sk, status="active", name="T", created_at="2026-12-01T10:00:00Z")
    return tenant_id


class TestTenantDataContract:
    def test_a_purge_keeps_the_audit_log_and_credits_and_leaves_a_tombstone(self, world):
        tenant_id = tenant(world)

        purged = world.store.purge(tenant_id, "2026-12-31T00:00:00Z", 5000)

        assert purged.finished
        assert purged.removed == {"member": 1, "invite": 1, "op": 1, "usage": 1, "profile": 1}
        assert world.left(tenant_id) == {"AUDIT#t#aud_1", "CREDIT#t#cr_1", "DELETED"}

    def test_a_purge_again_removes_nothing(self, world):
        tenant_id = tenant(world)
        world.store.purge(tenant_id, "2026-12-31T00:00:00Z", 5000)

        again = world.store.purge(tenant_id, "2026-12-31T00:05:00Z", 5000)

        assert again.finished and again.removed == {}

    def test_a_purge_that_uses_its_budget_leaves_the_profile_for_the_next_call(self, world):
        tenant_id = tenant(world)

        first = world.store.purge(tenant_id, "2026-12-31T00:00:00Z", 4)

        assert not first.finished and "PROFILE" in world.left(tenant_id)
        last = world.store.purge(tenant_id, "2026-12-31T00:05:00Z", 4)
        assert last.finished and "PROFILE" not in world.left(tenant_id)

    def test_open_operations_are_recent_pending_or_running_ones(self, world):
        tenant_id = f"tn_{secrets.token_hex(4)}"
        world.add(tenant_id, "OP#a", status="running", created_at="2026-12-01T10:00:00Z")
        world.add(tenant_id, "OP#b", status="pending", created_at="2026-12-01T11:00:00Z")
        world.add(tenant_id, "OP#c", status="failed", created_at="2026-12-01T11:00:00Z")
        world.add(tenant_id, "OP#d", status="running", created_at="2026-11-01T10:00:00Z")

        assert world.store.open_operations(tenant_id, "2026-12-01T09:00:00Z") == 2
        assert world.store.open_operations(f"tn_{secrets.token_hex(4)}", "2026-12-01T09:00:00Z") == 0
