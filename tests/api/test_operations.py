"""GET /v1/tenants/{tenant_id}/operations/{op_id}: the real guard, repositories and moto."""

from __future__ import annotations

import pytest

from mamba import bootstrap
from mamba.auth.tokens import issue_access
from mamba.domain import operations as ops
from mamba.domain.accounts import User
from mamba.domain.tenancy import Membership, Tenant
from mamba.schemas.common import OperationOut

T0 = "2026-11-25T10:00:00Z"


@pytest.fixture
def two_tenants(client):
    """Tenant A owned by alice with one operation; tenant B owned by bob."""
    bootstrap.dynamo_tables()
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.adapters.dynamo.users import DynamoUserRepository

    users, tenants = DynamoUserRepository(), DynamoTenantRepository()
    for user_id, tenant_id in (("usr_alice", "tn_a"), ("usr_bob", "tn_b")):
        users.add(User(id=user_id, email=f"{user_id}@example.org", created_at=T0))
        tenants.add_with_owner(
            Tenant(id=tenant_id, name=tenant_id, created_at=T0),
            Membership(tenant_id=tenant_id, user_id=user_id, role="owner", created_at=T0),
        )
    op = ops.new_operation("op_a1", "tn_a", "platform.check", ["dynamodb", "s3"], T0)
    bootstrap.operation_repository().add(ops.record_step(op, "dynamodb", "succeeded", T0))
    secret = bootstrap.settings().jwt_secret
    return {name: {"Authorization": f"Bearer {issue_access(f'usr_{name}', secret)}"} for name in ("alice", "bob")}


def test_member_reads_the_operation_with_its_steps(client, two_tenants):
    response = client.http.get("/v1/tenants/tn_a/operations/op_a1", headers=two_tenants["alice"])

    assert response.status_code == 200, response.json_body
    body = OperationOut.model_validate(response.json_body)
    assert (body.id, body.status) == ("op_a1", "running")
    assert [(s.name, s.status) for s in body.steps] == [("dynamodb", "succeeded"), ("s3", "pending")]
    assert "tenant_id" not in response.json_body


@pytest.mark.parametrize(
    "path",
    ["/v1/tenants/tn_a/operations/op_a1", "/v1/tenants/tn_b/operations/op_a1"],
    ids=["through-the-other-tenant", "through-own-tenant"],
)
def test_another_tenants_operation_is_404_not_403(client, two_tenants, path):
    response = client.http.get(path, headers=two_tenants["bob"])

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing_credentials"),
        ({"Authorization": "Basic YWxpY2U6cHc="}, "missing_credentials"),
        ({"Authorization": "Bearer not.a.token"}, "invalid"),
    ],
)
def test_operation_is_401_when_credentials_are_missing_or_bad(client, two_tenants, headers, reason):
    response = client.http.get("/v1/tenants/tn_a/operations/op_a1", headers=headers)

    assert response.status_code == 401
    assert response.json_body["error"]["code"] == "UNAUTHORIZED"
    assert response.json_body["error"]["details"]["reason"] == reason
