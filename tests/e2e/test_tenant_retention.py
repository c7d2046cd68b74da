"""The retention job on the whole local stack (issue 12, "Tests"): a tenant with a server on the
Wings simulator and a locked backup in the backup bucket subscribes, cancels, and once its
retention period is over (the dunning schedule runs with an injected clock) ends with no server
on the simulator, no object in the backup bucket and no record but the kept ones (the audit log,
the tombstone). Its owner got the two warnings before, each once.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
import requests
import yaml

from tests.e2e.conftest import Stack
from tests.e2e.test_billing_flow import eventually, run_dunning
from tests.e2e.test_identity_flow import wait_for_mail
from tests.e2e.test_server_control import finished, owner_with_line_server, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

DAY = 86400
KEPT = ("AUDIT#", "CREDIT#", "CREDITBAL#", "CREDITID#", "DELETED")


def _aws(stack: Stack, service: str) -> Any:
    return boto3.client(service, endpoint_url=stack.aws, region_name="us-east-1", aws_access_key_id="local",
                        aws_secret_access_key="local")  # fmt: skip


def _partition(stack: Stack, tenant_id: str) -> list[str]:
    found = _aws(stack, "dynamodb").query(
        TableName="mamba-main",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
        ConsistentRead=True,
    )["Items"]
    return [item["sk"]["S"] for item in found]


def _deletion_due_at(stack: Stack, tenant_id: str) -> int | None:
    found = (
        _aws(stack, "dynamodb")
        .get_item(
            TableName="mamba-main",
            Key={"pk": {"S": f"TENANT#{tenant_id}"}, "sk": {"S": "PROFILE"}},
            ConsistentRead=True,
        )
        .get("Item", {})
    )
    due = found.get("deletion_due_at", {}).get("N")
    return int(due) if due else None


def test_a_canceled_tenant_past_retention_ends_with_nothing_but_its_kept_records(
    stack: Stack, http: requests.Session
) -> None:
    # Given a tenant with a line server on the simulator and a locked backup in the bucket
    email, owner, tenant_id, server_uuid = owner_with_line_server(
        http, stack, "Retention E2E", {"limits": {"memory_mb": 256, "disk_mb": 512}}
    )
    base = f"{stack.api}/v1/tenants/{tenant_id}"
    (wings,) = stack.info["wings"]
    node_token = yaml.safe_load((stack.local_dir / "wings" / "config.yml").read_text())["token"]

    def on_node() -> int:
        return http.get(f"{wings}/api/servers/{server_uuid}", headers={"Authorization": f"Bearer {node_token}"},
                        timeout=10).status_code  # fmt: skip

    assert on_node() == 200
    started = http.post(f"{base}/servers/{server_uuid}/backups", json={"name": "keep me"}, headers=owner, timeout=30)
    assert started.status_code == 202, started.text
    op_id, backup_id = started.json()["operation"]["id"], started.json()["backup"]["id"]
    assert wait_until(lambda: finished(http, stack, tenant_id, op_id, owner), "the backup")["status"] == "succeeded"
    locked = http.post(f"{base}/servers/{server_uuid}/backups/{backup_id}/lock", headers=owner, timeout=30)
    assert locked.status_code == 200 and locked.json()["locked"], locked.text
    s3 = _aws(stack, "s3")
    assert s3.list_objects_v2(Bucket="mamba-backups", Prefix=f"{server_uuid}/").get("KeyCount") == 1

    # and a Pro subscription, paid on the local checkout page, that is then canceled
    checkout = http.post(f"{base}/billing/checkout", json={"plan_id": "pro"}, headers=owner, timeout=30)
    assert checkout.status_code == 201, checkout.text
    paid = http.post(f"{checkout.json()['url']}/pay", headers={"Accept": "application/json"}, timeout=30).json()

    def billing() -> dict[str, Any]:
        body: dict[str, Any] = http.get(f"{base}/billing", headers=owner, timeout=10).json()
        return body

    eventually(lambda: billing()["status"] == "active")
    canceled = http.post(f"{stack.info['stripe']}/_standin/subscriptions/{paid['subscription']}/status",
                         json={"status": "canceled"}, timeout=30)  # fmt: skip
    assert canceled.status_code == 200, canceled.text
    eventually(lambda: billing()["status"] == "canceled" and billing()["billing_state"] == "suspended")
    due = eventually(lambda: _deletion_due_at(stack, tenant_id))
    assert due > time.time() + 29 * DAY

    # When the schedule runs a week and a day before: the owner is warned each time, once
    assert run_dunning(stack, due - 7 * DAY + 60)["warned"] >= 1
    wait_for_mail(stack, email, "will be deleted in 7 days")
    assert run_dunning(stack, due - DAY + 60)["warned"] >= 1
    wait_for_mail(stack, email, "will be deleted tomorrow")

    # When the retention period is over: the server's delete_server workflow runs on the stack,
    # and a later run deletes the rest
    assert run_dunning(stack, due + 60)["deletion_due"] >= 1
    wait_until(lambda: on_node() == 404, "the server gone from the simulator")

    looks = iter(range(due + 400, due + 400 * 1000, 400))  # each run past the previous one's next look

    def deleted() -> bool:
        run_dunning(stack, next(looks))
        return "PROFILE" not in _partition(stack, tenant_id)

    eventually(deleted, timeout_s=120)

    # Then: no server on the simulator, no object in the backup bucket, only the kept records
    assert on_node() == 404
    assert s3.list_objects_v2(Bucket="mamba-backups", Prefix=f"{server_uuid}/").get("KeyCount") == 0
    left = _partition(stack, tenant_id)
    assert left and all(sk.startswith(KEPT) for sk in left), left
    assert "DELETED" in left and any(sk.startswith("AUDIT#") for sk in left)
    assert http.get(base, headers=owner, timeout=10).status_code == 404
    mine = http.get(f"{stack.api}/v1/tenants", headers=owner, timeout=10).json()["items"]
    assert tenant_id not in [t["id"] for t in mine]
