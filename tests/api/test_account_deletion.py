"""DELETE /v1/me on moto: the password (and 2FA) re-check, the refusals (last owner of a tenant
with servers or a subscription, a platform admin, an API key), and what a deletion does: the
memberships go (an empty tenant the caller alone owned goes with its data), sessions and keys
end, the account and its email claim are gone, and the tenants' audit logs say so."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from mamba import bootstrap
from mamba.adapters.dynamo.users import DynamoUserRepository
from mamba.domain.audit import AuditFilter
from mamba.domain.errors import NotFoundError
from tests.api.tenancy_helpers import Api, bearer, join, make_world

PASSWORD = "correct horse battery staple"
T0 = "2026-11-25T10:00:00Z"


def with_password(user_id: str) -> None:
    DynamoUserRepository().set_password_hash(user_id, bootstrap.password_hasher().hash(PASSWORD))


def delete_me(api: Api, user_id: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
    sent = {**api.as_(user_id), **(headers or {})}
    payload = json.dumps({"current_password": PASSWORD} if body is None else body)
    return api.client.http.request("DELETE", "/v1/me", headers=sent, body=payload)


def add_server(tenant_id: str) -> None:
    from mamba.domain.servers import Limits, Server

    bootstrap.server_repository().add(
        Server(
            uuid=str(uuid.uuid4()), name="s", tenant_id=tenant_id, node_id="nd_1", blueprint_id="bp_1",
            allocation=("10.0.0.1", 25565), docker_image="img", startup="run",
            limits=Limits(memory_mb=512, disk_mb=1024), status="offline", created_at=T0, updated_at=T0,
        )
    )  # fmt: skip


@pytest.fixture
def api(client: Any) -> Api:
    world = make_world(client)
    for user_id in ("usr_alice", "usr_bob", "usr_carol", "usr_root"):
        with_password(user_id)
    return world


def gone(user_id: str) -> bool:
    try:
        bootstrap.user_repository().get(user_id)
    except NotFoundError:
        return True
    return False


def test_without_a_session_or_with_a_wrong_password_nothing_happens(api):
    assert api.client.http.request("DELETE", "/v1/me", headers={"Content-Type": "application/json"},
                                   body=json.dumps({"current_password": PASSWORD})).status_code == 401  # fmt: skip

    wrong = delete_me(api, "usr_carol", {"current_password": "not it at all"})

    assert wrong.status_code == 400
    assert wrong.json_body["error"]["details"]["reason"] == "invalid_credentials"
    assert not gone("usr_carol")


def test_a_member_deletes_their_account_and_leaves_every_tenant(api):
    # Given carol, a viewer of tn_a
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")
    old_token = bearer("usr_carol")

    # When she deletes her account
    done = delete_me(api, "usr_carol")

    # Then she left tn_a, her account and email claim are gone, her token is dead
    assert done.status_code == 200, done.json_body
    assert done.json_body == {"status": "account_deleted", "left": ["tn_a"], "deleted": []}
    assert gone("usr_carol")
    assert bootstrap.user_repository().find_by_email("carol@example.org") is None
    assert api.client.http.get("/v1/me", headers=old_token).status_code == 401
    members = api.get("/v1/tenants/tn_a/members", "usr_alice").json_body["items"]
    assert [m["user_id"] for m in members] == ["usr_alice"]
    # and tn_a's audit log says she went; the platform log has the request
    entries = bootstrap.audit_log().list("tn_a", AuditFilter(action="member.account_deleted"), 10, None).items
    assert [(e.actor_id, e.target) for e in entries] == [("usr_carol", "usr_carol")]
    platform = bootstrap.audit_log().list(None, AuditFilter(action="delete_me"), 10, None).items
    assert [(e.actor_id, e.result) for e in platform] == [("usr_carol", "success")]


def test_the_last_owner_of_a_tenant_with_servers_is_refused(api):
    add_server("tn_a")

    refused = delete_me(api, "usr_alice")

    assert refused.status_code == 409
    details = refused.json_body["error"]["details"]
    assert details["reason"] == "last_owner_with_servers"
    assert details["tenants"] == [{"id": "tn_a", "name": "Tenant A"}]
    assert not gone("usr_alice")
    assert api.get("/v1/tenants/tn_a", "usr_alice").status_code == 200


def test_an_owner_with_another_owner_may_go_and_the_tenant_keeps_its_owner(api):
    add_server("tn_a")
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "owner")

    done = delete_me(api, "usr_alice")

    assert done.status_code == 200, done.json_body
    assert done.json_body["left"] == ["tn_a"]
    assert bootstrap.tenancy_repository().get("tn_a").owner_count == 1
    assert api.get("/v1/tenants/tn_a", "usr_carol").status_code == 200


def test_the_only_owner_of_an_empty_tenant_takes_it_along_but_its_audit_log_stays(api):
    done = delete_me(api, "usr_bob")

    assert done.status_code == 200, done.json_body
    assert done.json_body == {"status": "account_deleted", "left": [], "deleted": ["tn_b"]}
    with pytest.raises(NotFoundError):
        bootstrap.tenancy_repository().get("tn_b")
    entries = bootstrap.audit_log().list("tn_b", AuditFilter(action="tenant.data_deleted"), 10, None).items
    assert [(e.actor_id, e.details["reason"]) for e in entries] == [("usr_bob", "account_deleted")]
    assert bootstrap.tenancy_repository().get("tn_a").owner_count == 1  # another tenant untouched


def test_the_last_owner_of_a_tenant_with_a_live_subscription_is_refused(api):
    from dataclasses import replace

    billing = bootstrap.billing_repository()
    live = replace(billing.get_state("tn_b"), status="active", subscription_id="sub_b")
    billing.save_state(live, dunning_due_at=None)

    refused = delete_me(api, "usr_bob")

    assert refused.status_code == 409
    assert refused.json_body["error"]["details"]["reason"] == "last_owner_with_subscription"
    assert not gone("usr_bob")


def test_a_platform_admin_and_an_api_key_are_refused(api):
    admin = delete_me(api, "usr_root")
    assert admin.status_code == 409
    assert admin.json_body["error"]["details"]["reason"] == "platform_admin_account"

    key = api.post("/v1/me/api-keys", "usr_carol", {"name": "ci", "scopes": ["account.write"]})
    assert key.status_code == 201, key.json_body
    by_key = api.client.http.request(
        "DELETE", "/v1/me",
        headers={"Authorization": f"Bearer {key.json_body['key']}", "Content-Type": "application/json"},
        body=json.dumps({"current_password": PASSWORD}),
    )  # fmt: skip
    assert by_key.status_code == 403
    assert by_key.json_body["error"]["code"] == "SESSION_REQUIRED"
    assert not gone("usr_carol") and not gone("usr_root")


def test_with_2fa_on_the_code_is_required_and_checked(api):
    import time

    from mamba.auth import totp

    # Given carol with TOTP confirmed through /v1/me/2fa
    secret = api.post("/v1/me/2fa/enrol", "usr_carol").json_body["secret"]
    step = totp.counter_for(time.time())
    assert api.post("/v1/me/2fa/confirm", "usr_carol", {"code": totp.code_at(secret, step)}).status_code == 200

    # A password alone is refused, and so is a wrong code
    missing = delete_me(api, "usr_carol")
    assert (missing.status_code, missing.json_body["error"]["details"]["reason"]) == (400, "totp_required")
    bad = "000000" if totp.code_at(secret, step + 1) != "000000" else "111111"
    wrong = delete_me(api, "usr_carol", {"current_password": PASSWORD, "totp_code": bad})
    assert (wrong.status_code, wrong.json_body["error"]["details"]["reason"]) == (400, "totp_invalid")
    assert not gone("usr_carol")

    # With the next code it goes
    done = delete_me(api, "usr_carol", {"current_password": PASSWORD, "totp_code": totp.code_at(secret, step + 1)})
    assert done.status_code == 200, done.json_body
    assert gone("usr_carol")
