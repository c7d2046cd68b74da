"""The retention job on moto: a canceled tenant's owners are warned 7 days and 1 day before its
data goes (each mail once), then its servers are deleted through delete_server (recorded; its
actions are run here as the workflow would), its backups with their S3 objects (a locked one
too), and its records, keeping the audit log, the credit ledger and a tombstone. Another tenant
is untouched, and no Scan runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest

from functions.schedules import billing_dunning
from mamba import bootstrap
from mamba.adapters.dynamo import keys
from mamba.domain.audit import AuditFilter
from mamba.domain.backups import Backup
from mamba.domain.billing import CreditEntry
from mamba.domain.errors import NotFoundError
from tests.api.billing_world import BillingWorld, add_pro_plan, billing_world, link_customer
from tests.api.tenancy_helpers import join, mail_to
from tests.billing_support import PRO_PRICE, event, signed
from tests.server_world import add_node
from tests.support import DynamoCounter

DAY = 86400
T0 = "2026-11-25T10:00:00Z"


def s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def bucket() -> str:
    return str(bootstrap.settings().backup_bucket)


def add_server(tenant_id: str, node_id: str, port: int) -> str:
    from mamba.domain.servers import Limits, Server

    server = Server(
        uuid=str(uuid.uuid4()),
        name="doomed",
        tenant_id=tenant_id,
        node_id=node_id,
        blueprint_id="bp_none",
        allocation=("10.0.0.1", port),
        docker_image="img",
        startup="run",
        limits=Limits(memory_mb=512, disk_mb=1024),
        status="suspended",
        created_at=T0,
        updated_at=T0,
    )
    bootstrap.server_repository().add(server)
    bootstrap.allocation_repository().assign(node_id, "10.0.0.1", port, server.uuid)
    return server.uuid


def add_backup(tenant_id: str, server_uuid: str, node_id: str, *, locked: bool) -> Backup:
    backup = Backup(
        uuid=str(uuid.uuid4()),
        server_uuid=server_uuid,
        tenant_id=tenant_id,
        node_id=node_id,
        name="nightly",
        status="pending",
        created_at=T0,
        updated_at=T0,
    )
    repo = bootstrap.backup_repository()
    repo.add_running(backup)
    done = replace(backup, status="completed", locked=locked, size_bytes=5, completed_at=T0)
    repo.save(done)
    repo.release_lock(server_uuid, backup.uuid)
    s3().put_object(Bucket=bucket(), Key=done.s3_key, Body=b"hello")
    return done


def add_key(user_id: str, key_id: str, server_ids: tuple[str, ...]) -> None:
    from mamba.domain.api_keys import ApiKey

    bootstrap.api_key_repository().add(
        ApiKey(id=key_id, user_id=user_id, name=key_id, scopes=("servers.read",), created_at=T0,
               secret_hash="0" * 64, hint="0000", server_ids=server_ids)
    )  # fmt: skip


def revoked_keys(user_id: str) -> set[str]:
    page = bootstrap.api_key_repository().list_for_user(user_id, 100, None)
    return {key.id for key in page.items if key.revoked_at is not None}


def partition(tenant_id: str) -> list[str]:
    table = boto3.client("dynamodb", region_name="us-east-1")
    found = table.query(
        TableName=bootstrap.settings().table_main,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.tenant_partition(tenant_id)}},
    )["Items"]
    return [item["sk"]["S"] for item in found]


def exports(tenant_id: str) -> list[str]:
    found = s3().list_objects_v2(Bucket=bootstrap.settings().export_bucket, Prefix=f"tenants/{tenant_id}/")
    return [o["Key"] for o in found.get("Contents", [])]


def objects() -> list[str]:
    return [o["Key"] for o in s3().list_objects_v2(Bucket=bucket()).get("Contents", [])]


@pytest.fixture
def world(client: Any) -> Iterator[tuple[BillingWorld, dict[str, Any]]]:
    with billing_world(client) as w:
        add_pro_plan(w)
        link_customer("tn_a", "cus_a")
        node, _ = add_node("one", ports=range(25565, 25569))
        # tn_a: a member, an invitation, a custom role, a server with a locked backup, a backup
        # whose server is long gone, a credit; tn_b: a server and a backup that must stay.
        join(w.api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")
        assert w.api.post("/v1/tenants/tn_a/members/invitations", "usr_alice",
                          {"email": "dave@example.org", "role": "viewer"}).status_code == 201  # fmt: skip
        assert w.api.post("/v1/tenants/tn_a/roles", "usr_alice",
                          {"name": "Helpers", "permissions": ["servers.read"]}).status_code == 201  # fmt: skip
        server_a = add_server("tn_a", node.id, 25565)
        locked = add_backup("tn_a", server_a, node.id, locked=True)
        stray = add_backup("tn_a", str(uuid.uuid4()), node.id, locked=False)
        server_b = add_server("tn_b", node.id, 25566)
        kept_b = add_backup("tn_b", server_b, node.id, locked=False)
        add_key("usr_carol", "key_only_a", (server_a,))  # reaches tn_a's server only: revoked
        add_key("usr_carol", "key_mixed", (server_a, server_b))  # reaches tn_b too: kept
        add_key("usr_carol", "key_any", ())  # not limited to servers: kept
        bootstrap.billing_repository().add_credit(
            CreditEntry("cr_1", "tn_a", 500, "eur", "admin", "goodwill", "2026-11-26T00:00:00.000000Z", "usr_root")
        )
        w.stripe.set_subscription("sub_a", "cus_a", "canceled", (PRO_PRICE,))
        body, headers = signed(event("customer.subscription.deleted", {"id": "sub_a", "customer": "cus_a"}))
        assert w.api.client.http.post("/webhooks/stripe", headers=headers, body=body).status_code == 200
        w.drain()
        finish_started(w, "suspend_tenant")  # the cancellation's suspension ran its course
        yield w, {"node": node, "server_a": server_a, "server_b": server_b, "backups_a": [locked, stray],
                  "backup_b": kept_b}  # fmt: skip


def finish_started(w: BillingWorld, workflow: str) -> None:
    from mamba.services import operations

    for wf, _, payload in w.started.started:
        if wf == workflow:
            operations.finish_operation(bootstrap.operation_repository(), payload["operation_id"], "succeeded", None)


def due() -> int:
    value = bootstrap.billing_repository().get_state("tn_a").deletion_due_at
    assert value is not None
    return value


def warnings(address: str) -> list[str]:
    return [m.subject for m in mail_to(address) if "will be deleted" in m.subject]


def run_delete_workflow(payload: dict[str, Any]) -> None:
    """The delete_server workflow's steps after the node calls (the node is not reachable here),
    with the recorded input, as Step Functions would run them."""
    from mamba.services import server_lifecycle

    deps = bootstrap.server_lifecycle()
    for action in ("release_allocations", "delete_backups", "remove_records"):
        server_lifecycle.run_action(deps, {**payload, "action": action, "step": action})
    server_lifecycle.run_action(deps, {**payload, "action": "finish", "status": "succeeded"})


def test_the_owner_is_warned_7_days_and_1_day_before_each_once(world):
    # Given a canceled tenant
    del world  # the canceled tenant it made
    at = due()

    # Before the first warning nothing happens
    assert billing_dunning.handler({"now": at - 8 * DAY}, None)["checked"] == 0

    # 7 days before: one mail, and a second run the same day sends none
    assert billing_dunning.handler({"now": at - 7 * DAY + 60}, None)["warned"] == 1
    assert billing_dunning.handler({"now": at - 7 * DAY + 120}, None)["checked"] == 0
    assert warnings("alice@example.org") == ["Your Mamba Host Panel data will be deleted in 7 days"]

    # Even when the job looks again (its look was put back), the warning is not sent twice
    state = bootstrap.billing_repository().get_state("tn_a")
    bootstrap.billing_repository().save_state(state, dunning_due_at=at - 7 * DAY)
    billing_dunning.handler({"now": at - 7 * DAY + 180}, None)
    assert len(warnings("alice@example.org")) == 1

    # 1 day before: the second mail, once; the data is still there
    assert billing_dunning.handler({"now": at - DAY + 60}, None)["warned"] == 1
    assert billing_dunning.handler({"now": at - DAY + 120}, None)["checked"] == 0
    assert warnings("alice@example.org")[1] == "Your Mamba Host Panel data will be deleted tomorrow"
    assert len(warnings("alice@example.org")) == 2
    assert warnings("carol@example.org") == []  # owners only
    assert "PROFILE" in partition("tn_a")


def test_after_the_retention_period_the_tenants_data_is_deleted_but_the_kept_records(world, monkeypatch):
    w, made = world
    at = due()
    exported = w.api.post("/v1/admin/tenants/tn_a/export", "usr_root")
    assert exported.status_code in (200, 201), exported.json_body
    assert exports("tn_a")
    counter = DynamoCounter(monkeypatch)

    # When the deletion is due: the server's delete_server workflow starts; nothing else goes yet
    assert billing_dunning.handler({"now": at + 1}, None)["deletion_due"] == 1
    deletes = [(name, payload) for wf, name, payload in w.started.started if wf == "delete_server"]
    assert [p["server_uuid"] for _, p in deletes] == [made["server_a"]]
    assert "PROFILE" in partition("tn_a")
    assert revoked_keys("usr_carol") == {"key_only_a"}  # the key whose whole reach goes

    # While the workflow runs, the next looks start nothing twice
    assert billing_dunning.handler({"now": at + 2}, None)["checked"] == 0  # next look in 5 minutes
    assert billing_dunning.handler({"now": at + 302}, None)["deletion_due"] == 1
    assert len([wf for wf, _, _ in w.started.started if wf == "delete_server"]) == 1

    # The workflow deletes the server with its locked backup; the next look deletes the rest
    run_delete_workflow(deletes[0][1])
    assert billing_dunning.handler({"now": at + 603}, None)["deleted"] == 1

    # Only the audit log, the credit ledger and the tombstone are left
    left = partition("tn_a")
    assert left and all(sk.startswith(("AUDIT#", "CREDIT#", "CREDITBAL#", "CREDITID#", "DELETED")) for sk in left)
    assert any(sk.startswith("AUDIT#") for sk in left) and any(sk.startswith("CREDIT#") for sk in left)
    assert "DELETED" in left
    # no server, no backup object of tn_a; tn_b's are untouched
    with pytest.raises(NotFoundError):
        bootstrap.server_repository().get(made["server_a"])
    assert objects() == [made["backup_b"].s3_key]
    assert exports("tn_a") == []  # an admin's export archive of the tenant went too
    assert bootstrap.backup_repository().of_tenant("tn_a") == []
    assert bootstrap.server_repository().get(made["server_b"]).tenant_id == "tn_b"
    assert "PROFILE" in partition("tn_b")
    # the allocation is free again, the customer link gone, the member sees no tenant
    assert bootstrap.allocation_repository().get(made["node"].id, "10.0.0.1", 25565).server_id is None
    assert bootstrap.billing_repository().tenant_of_customer("cus_a") is None
    assert w.api.get("/v1/tenants/tn_a", "usr_alice").status_code == 404
    assert [t["id"] for t in w.api.get("/v1/tenants", "usr_carol").json_body["items"]] == []
    # the deletion is in the tenant's kept audit log
    entries = bootstrap.audit_log().list("tn_a", AuditFilter(action="tenant.data_deleted"), 10, None).items
    assert len(entries) == 1 and entries[0].details["reason"] == "retention"
    assert "Scan" not in counter.actions

    # and the job is done with this tenant
    assert billing_dunning.handler({"now": at + 900}, None)["checked"] == 0


def test_a_server_whose_delete_failed_is_deleted_by_force_on_the_next_look(world):
    w, made = world
    at = due()
    billing_dunning.handler({"now": at + 1}, None)
    first = next(p for wf, _, p in w.started.started if wf == "delete_server")
    assert first["force"] is False

    # Given the delete failed (its node stayed down): the server stays deleting, its lock released
    from mamba.services import server_lifecycle

    deps = bootstrap.server_lifecycle()
    deps.store.set_status(made["server_a"], "deleting", ["suspended"], now=T0)
    server_lifecycle.run_action(deps, {**first, "action": "finish", "status": "failed",
                                       "error": {"code": "WingsUnavailableError", "message": "down"}})  # fmt: skip

    # When the job looks again, it forces the delete
    billing_dunning.handler({"now": at + 302}, None)
    deletes = [p for wf, _, p in w.started.started if wf == "delete_server"]
    assert [p["force"] for p in deletes] == [False, True]


def test_the_billing_summary_says_when_the_data_goes(world):
    w, _ = world

    summary = w.api.get("/v1/tenants/tn_a/billing", "usr_alice")

    assert summary.status_code == 200, summary.json_body
    assert summary.json_body["status"] == "canceled" and summary.json_body["deletion_due_at"] == due()


def test_a_tenant_that_subscribes_again_before_the_end_keeps_its_data(world):
    w, _ = world
    at = due()
    w.stripe.set_subscription("sub_a2", "cus_a", "active", (PRO_PRICE,))
    body, headers = signed(event("customer.subscription.created", {"id": "sub_a2", "customer": "cus_a"}))
    assert w.api.client.http.post("/webhooks/stripe", headers=headers, body=body).status_code == 200
    w.drain()
    assert bootstrap.billing_repository().get_state("tn_a").deletion_due_at is None

    assert billing_dunning.handler({"now": at + 1}, None)["checked"] == 0
    assert "PROFILE" in partition("tn_a")
    assert w.api.get("/v1/tenants/tn_a", "usr_alice").status_code == 200
    assert w.api.get("/v1/tenants/tn_a/billing", "usr_alice").json_body["deletion_due_at"] is None
