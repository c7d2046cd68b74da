"""DynamoTenantData on moto: what a tenant's data deletion removes and keeps, the fleet count,
the Stripe link, idempotence (a run cut short is finished by the next), and another tenant's
partition untouched."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from mamba import bootstrap
from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.retention import DynamoTenantData
from mamba.domain.tenancy import Membership, Tenant

T0 = "2026-12-01T10:00:00Z"


def table() -> Any:
    return boto3.client("dynamodb", region_name="us-east-1")


def put(pk: str, sk: str, **attributes: str) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in attributes.items()}}
    table().put_item(TableName=bootstrap.settings().table_main, Item=item)


def partition(tenant_id: str) -> set[str]:
    found = table().query(
        TableName=bootstrap.settings().table_main,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.tenant_partition(tenant_id)}},
    )["Items"]
    return {item["sk"]["S"] for item in found}


def stats() -> dict[str, Any]:
    pk, sk = keys.stats("TENANTS")
    found = table().get_item(TableName=bootstrap.settings().table_main, Key={"pk": {"S": pk}, "sk": {"S": sk}})
    return found.get("Item", {})


@pytest.fixture
def store(aws: None) -> DynamoTenantData:
    bootstrap.dynamo_tables()
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from tests.api.tenancy_helpers import add_user

    add_user("usr_a")
    add_user("usr_b")
    tenants = DynamoTenantRepository()
    for tenant_id, owner in (("tn_a", "usr_a"), ("tn_b", "usr_b")):
        tenants.add_with_owner(Tenant(id=tenant_id, name=f"Tenant {tenant_id}", created_at=T0),
                               Membership(tenant_id=tenant_id, user_id=owner, role="owner", created_at=T0))  # fmt: skip
    bootstrap.billing_repository().link_customer("tn_a", "cus_a")
    for sk in (
        "OP#op_1",
        "INVITE#inv_1",
        "ROLE#rl_1",
        "ROLENAME#helpers",
        "USAGE#2026-12-01T10#s#ram",
        "NOTICE#deletion:7d:1",
        "SERVERGUARD",
        "BACKUPS",
        "AUDIT#2026-12-01T10:00:00.000000Z#aud_1",
        "CREDIT#2026-12-01#cr_1",
        "CREDITBAL#eur",
        "CREDITID#cr_1",
    ):
        put(keys.tenant_partition("tn_a"), sk, kind="test")  # fmt: skip
    put(keys.tenant_partition("tn_b"), "OP#op_2", kind="test")
    return DynamoTenantData(table())


def test_purge_keeps_the_audit_log_and_credit_ledger_and_ends_the_tenant(store):
    assert stats()["c_active"]["N"] == "2"

    purged = store.purge("tn_a", "2026-12-31T00:00:00Z", 5000)

    kept = {"AUDIT#2026-12-01T10:00:00.000000Z#aud_1", "CREDIT#2026-12-01#cr_1", "CREDITBAL#eur", "CREDITID#cr_1"}
    assert partition("tn_a") == kept | {"DELETED"}
    assert purged.finished
    assert purged.removed == {"op": 1, "invite": 1, "role": 1, "rolename": 1, "usage": 1, "notice": 1, "serverguard": 1,
                       "backups": 1, "member": 1, "profile": 1}  # fmt: skip
    assert stats()["c_active"]["N"] == "1"
    assert bootstrap.billing_repository().tenant_of_customer("cus_a") is None
    tomb_pk, tomb_sk = keys.tenant_tombstone("tn_a")
    tomb = table().get_item(TableName=bootstrap.settings().table_main,
                            Key={"pk": {"S": tomb_pk}, "sk": {"S": tomb_sk}})["Item"]  # fmt: skip
    assert (tomb["name"]["S"], tomb["stripe_customer_id"]["S"], tomb["deleted_at"]["S"]) == (
        "Tenant tn_a", "cus_a", "2026-12-31T00:00:00Z")  # fmt: skip
    # another tenant is untouched, and the user's tenant list no longer has tn_a
    assert partition("tn_b") == {"PROFILE", "MEMBER#usr_b", "OP#op_2"}
    assert bootstrap.tenancy_repository().memberships_of_user("usr_a") == []


def test_a_run_cut_short_is_finished_by_the_next_and_purge_again_changes_nothing(store, monkeypatch):
    from mamba.domain.errors import DependencyUnavailableError

    # Given a first run that stopped after the batch deletes, before the profile's transaction
    def busy(*args: Any) -> bool:
        raise DependencyUnavailableError("busy")

    with monkeypatch.context() as patch:
        patch.setattr(DynamoTenantData, "_remove_profile", busy)
        with pytest.raises(DependencyUnavailableError):
            store.purge("tn_a", "2026-12-31T00:00:00Z", 5000)
    assert "PROFILE" in partition("tn_a") and "OP#op_1" not in partition("tn_a")

    # When the job runs again: it finishes; a third run changes nothing and counts nothing twice
    assert store.purge("tn_a", "2026-12-31T00:05:00Z", 5000).removed == {"profile": 1}
    assert store.purge("tn_a", "2026-12-31T00:10:00Z", 5000).removed == {}
    assert "PROFILE" not in partition("tn_a")
    assert stats()["c_active"]["N"] == "1"


def test_a_purge_stops_at_its_budget_and_the_next_call_goes_on(store, monkeypatch):
    from mamba.adapters.dynamo import retention

    monkeypatch.setattr(retention, "BATCH", 2)
    first = store.purge("tn_a", "2026-12-31T00:00:00Z", 3)

    assert not first.finished and sum(first.removed.values()) >= 3
    assert "PROFILE" in partition("tn_a")
    rest = store.purge("tn_a", "2026-12-31T00:05:00Z", 5000)
    assert rest.finished and sum(first.removed.values()) + sum(rest.removed.values()) == 10


def test_open_operations_counts_recent_pending_and_running_ones_only(store):
    pk = keys.tenant_partition("tn_a")
    put(pk, "OP#op_run", status="running", created_at="2026-12-01T10:00:00Z")
    put(pk, "OP#op_old", status="pending", created_at="2026-11-01T10:00:00Z")
    put(pk, "OP#op_done", status="succeeded", created_at="2026-12-01T10:00:00Z")

    assert store.open_operations("tn_a", "2026-12-01T08:00:00Z") == 1
    assert store.open_operations("tn_b", "2026-12-01T08:00:00Z") == 0
