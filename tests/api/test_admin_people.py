"""Admin console, tenants and users (issue 12): search, a tenant's members, billing, credits and
invoices, the export archive, the last-admin rule and the 2FA reset after an identity check."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from mamba import bootstrap
from mamba.schemas.tenancy import AdminUserList, MemberList, TenantExportOut
from tests.api.tenancy_helpers import join, mail_to, make_world
from tests.support import DynamoCounter

ROOT_PASSWORD = "correct horse battery staple 42"

NEW_ROUTES = [
    ("GET", "/v1/admin/tenants/tn_a/members", None),
    ("POST", "/v1/admin/tenants/tn_a/export", {}),
    ("POST", "/v1/admin/users/usr_carol/2fa/reset", {"current_password": "x"}),
    ("GET", "/v1/admin/tenants?q=tenant", None),
    ("GET", "/v1/admin/users?q=carol", None),
]


@pytest.fixture
def api(client):
    from tests.fakes import FakeWorkflows

    with bootstrap.override(workflows=FakeWorkflows()):
        world = make_world(client)
        _set_password("usr_root", ROOT_PASSWORD)
        yield world


def _set_password(user_id: str, password: str) -> None:
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem

    hashed = bootstrap.password_hasher().hash(password)
    UserItem(*keys.user(user_id)).update(actions=[UserItem.password_hash.set(hashed)])


def _turn_on_2fa(user_id: str) -> str:
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem
    from mamba.auth import totp

    secret = totp.new_secret()
    UserItem(*keys.user(user_id)).update(
        actions=[
            UserItem.totp_enabled.set(True),
            UserItem.totp_secret.set(secret),
            UserItem.recovery_code_hashes.set({"h1", "h2"}),
        ]
    )
    return secret


def _walk(api, path: str) -> list[dict]:
    items, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        response = api.get(path + (f"{sep}cursor={cursor}" if cursor else ""), "usr_root")
        assert response.status_code == 200, response.json_body
        items += response.json_body["items"]
        cursor = response.json_body["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize(("method", "path", "body"), NEW_ROUTES, ids=[f"{m} {p}" for m, p, _ in NEW_ROUTES])
def test_new_admin_routes_are_401_anonymous_403_for_a_tenant_owner_and_open_to_an_admin(api, method, path, body):
    assert api.call(method, path, None, body).status_code == 401
    refused = api.call(method, path, "usr_alice", body)
    assert refused.status_code == 403 and refused.json_body["error"]["code"] == "FORBIDDEN"
    # an admin passes the guard (the 2FA reset then asks for a right password: 400, not 403)
    assert api.call(method, path, "usr_root", body).status_code in {200, 201, 400, 409}


# --- search -------------------------------------------------------------------------------------


def test_tenant_search_matches_a_name_or_id_case_insensitively_across_pages(api):
    assert [t["id"] for t in _walk(api, "/v1/admin/tenants?q=TENANT%20b&limit=1")] == ["tn_b"]
    assert [t["id"] for t in _walk(api, "/v1/admin/tenants?q=tn_a&limit=1")] == ["tn_a"]
    assert {t["id"] for t in _walk(api, "/v1/admin/tenants?q=tenant")} == {"tn_a", "tn_b"}
    assert _walk(api, "/v1/admin/tenants?q=nobody") == []


def test_user_search_matches_an_email_or_id(api):
    found = AdminUserList.model_validate({"items": _walk(api, "/v1/admin/users?q=CAROL@&limit=2"), "next_cursor": None})
    assert [u.id for u in found.items] == ["usr_carol"]
    assert [u["id"] for u in _walk(api, "/v1/admin/users?q=usr_dave")] == ["usr_dave"]


def test_a_search_page_reads_one_query_and_no_scan(api, monkeypatch):
    counter = DynamoCounter(monkeypatch)

    assert api.get("/v1/admin/tenants?q=tenant", "usr_root").status_code == 200
    assert api.get("/v1/admin/users?q=alice", "usr_root").status_code == 200

    assert "Scan" not in counter.actions
    assert counter.actions.count("Query") == 2, counter.actions


def test_a_search_longer_than_64_characters_is_400(api):
    assert api.get("/v1/admin/tenants?q=" + "x" * 65, "usr_root").status_code == 400
    assert api.get("/v1/admin/users?q=" + "x" * 65, "usr_root").status_code == 400


# --- a tenant's detail ----------------------------------------------------------------------------


def test_admin_sees_a_tenants_members_with_their_emails(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "operator")

    listed = MemberList.model_validate(api.get("/v1/admin/tenants/tn_a/members", "usr_root").json_body)

    assert {(m.user_id, m.role, m.email) for m in listed.items} == {
        ("usr_alice", "owner", "alice@example.org"),
        ("usr_carol", "operator", "carol@example.org"),
    }
    assert api.get("/v1/admin/tenants/tn_nothing/members", "usr_root").status_code == 404


def test_admin_sees_a_tenants_billing_and_credits_when_billing_is_on(client):
    from tests.api.billing_world import billing_world, link_customer

    with billing_world(client) as world:
        link_customer("tn_a", "cus_a")
        assert world.api.post("/v1/admin/tenants/tn_a/credits", "usr_root", {"amount_cents": 700}).status_code == 201

        summary = world.api.get("/v1/admin/tenants/tn_a/billing", "usr_root")
        credits = world.api.get("/v1/admin/tenants/tn_a/credits", "usr_root")
        invoices = world.api.get("/v1/admin/tenants/tn_a/invoices", "usr_root")

        assert summary.status_code == 200 and summary.json_body["credit_balance_cents"] == 700
        assert summary.json_body["plan"]["id"]
        assert credits.json_body["balance_cents"] == 700 and credits.json_body["items"][0]["source"] == "admin"
        assert invoices.status_code == 200 and isinstance(invoices.json_body["items"], list)
        assert world.api.get("/v1/admin/tenants/tn_b/billing", "usr_alice").status_code == 403
        assert world.api.get("/v1/admin/tenants/tn_nothing/billing", "usr_root").status_code == 404


# --- export ---------------------------------------------------------------------------------------


def test_export_writes_the_tenants_records_without_secrets_and_links_them(api):
    # Given tn_a has a second member, an open invitation and tn_b is someone else's
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")
    api.post("/v1/tenants/tn_a/members/invitations", "usr_alice", {"email": "dave@example.org", "role": "viewer"})

    # When root exports tn_a
    response = api.post("/v1/admin/tenants/tn_a/export", "usr_root")

    # Then the answer links an archive of tn_a's records alone
    assert response.status_code == 201, response.json_body
    out = TenantExportOut.model_validate(response.json_body)
    assert out.tenant_id == "tn_a" and out.expires_in == 900
    assert out.counts["tenant"] == 1 and out.counts["membership"] == 2 and out.counts["invitation"] == 1
    signed = urlparse(out.url)
    assert parse_qs(signed.query)["X-Amz-Expires"] == ["900"]
    settings = bootstrap.settings()
    s3 = boto3.client("s3", region_name=settings.region)
    [stored] = s3.list_objects_v2(Bucket=settings.export_bucket)["Contents"]
    assert settings.export_bucket in out.url and signed.path.endswith(stored["Key"])
    assert stored["Key"].startswith("tenants/tn_a/")
    body = s3.get_object(Bucket=settings.export_bucket, Key=stored["Key"])
    text = body["Body"].read().decode()
    archive = json.loads(text)
    assert archive["tenant_id"] == "tn_a" and archive["exported_by"] == "usr_root"
    assert {m["user_id"] for m in archive["records"]["membership"]} == {"usr_alice", "usr_carol"}
    assert "tn_b" not in text and "Tenant B" not in text
    # no secret and no table key leaves: the invitation's token digest stays home
    invitation = archive["records"]["invitation"][0]
    assert not [name for name in invitation if "token" in name or "hash" in name]
    assert "pk" not in invitation and "gsi1pk" not in invitation
    # And the audit log says who exported which tenant
    entries = api.get("/v1/admin/audit?tenant_id=tn_a", "usr_root").json_body["items"]
    entries += api.get("/v1/admin/audit", "usr_root").json_body["items"]
    assert any("export" in (e.get("action") or "") for e in entries), entries


def test_export_of_an_unknown_tenant_is_404_and_writes_nothing(api):
    settings = bootstrap.settings()

    assert api.post("/v1/admin/tenants/tn_nothing/export", "usr_root").status_code == 404
    listed = boto3.client("s3", region_name=settings.region).list_objects_v2(Bucket=settings.export_bucket)
    assert listed.get("KeyCount", 0) == 0


def test_export_runs_no_scan(api, monkeypatch):
    counter = DynamoCounter(monkeypatch)

    assert api.post("/v1/admin/tenants/tn_a/export", "usr_root").status_code == 201

    assert "Scan" not in counter.actions and "Query" in counter.actions


# --- the admin flag: never oneself, never the last admin ----------------------------------------------


def test_an_admin_no_longer_admin_cannot_revoke_the_other_one(api):
    # Given root made carol an admin, and carol then revoked root
    assert api.patch("/v1/admin/users/usr_carol", "usr_root", {"is_admin": True}).status_code == 200
    assert api.patch("/v1/admin/users/usr_root", "usr_carol", {"is_admin": False}).status_code == 200

    # When root, holding a token from before, tries to revoke carol (the last admin)
    refused = api.patch("/v1/admin/users/usr_carol", "usr_root", {"is_admin": False})

    # Then the guard already refuses root (no longer admin) and carol stays admin
    assert refused.status_code == 403
    assert api.get("/v1/admin/users/usr_carol", "usr_carol").json_body["is_admin"] is True


def test_the_write_is_refused_when_the_actor_lost_admin_in_between(api):
    # The guard let the actor in, then another admin revoked them before their write: the
    # transaction's condition on the actor refuses it (409 LAST_ADMIN), so one admin remains.
    from mamba.domain.errors import LastAdminError
    from mamba.services import admin

    repo = bootstrap.admin_repository()
    repo.set_user_admin("usr_carol", True, "t")
    repo.set_user_admin("usr_root", False, "t", actor_id="usr_carol")

    with pytest.raises(LastAdminError):
        admin.set_admin(repo, "usr_root", "usr_carol", False)
    with pytest.raises(LastAdminError):
        admin.suspend_user(repo, "usr_root", "usr_carol")

    assert repo.get_user("usr_carol").is_admin and repo.get_user("usr_carol").status == "active"


def test_admin_cannot_revoke_themselves(api):
    refused = api.patch("/v1/admin/users/usr_root", "usr_root", {"is_admin": False})

    assert refused.status_code == 409 and refused.json_body["error"]["details"]["reason"] == "self"


def test_an_admin_confirming_their_own_admin_flag_is_200_when_they_are_the_target(api):
    # (DynamoDB refuses a transaction that checks and updates one item: found by the fuzzer as a 503)
    confirmed = api.patch("/v1/admin/users/usr_root", "usr_root", {"is_admin": True})

    assert confirmed.status_code == 200, confirmed.json_body
    assert confirmed.json_body["is_admin"] is True


def test_an_admins_change_to_their_own_account_is_refused_when_they_lost_admin_in_between(api):
    from mamba.domain.errors import LastAdminError
    from mamba.services import admin

    # Given root was revoked after the guard let them in
    repo = bootstrap.admin_repository()
    repo.set_user_admin("usr_carol", True, "t")
    repo.set_user_admin("usr_root", False, "t", actor_id="usr_carol")

    # When root's own write commits, Then the actor's condition (on the same item) refuses it
    with pytest.raises(LastAdminError):
        admin.set_admin(repo, "usr_root", "usr_root", True)
    assert repo.get_user("usr_root").is_admin is False


# --- 2FA reset ------------------------------------------------------------------------------------------


def test_2fa_reset_needs_the_admins_own_password_and_turns_2fa_off(api):
    _turn_on_2fa("usr_carol")

    wrong = api.post("/v1/admin/users/usr_carol/2fa/reset", "usr_root", {"current_password": "not it"})
    assert wrong.status_code == 400 and wrong.json_body["error"]["details"]["reason"] == "invalid_credentials"
    assert api.get("/v1/admin/users/usr_carol", "usr_root").json_body["totp_enabled"] is True

    done = api.post("/v1/admin/users/usr_carol/2fa/reset", "usr_root", {"current_password": ROOT_PASSWORD})

    assert done.status_code == 200 and done.json_body["totp_enabled"] is False
    assert bootstrap.two_factor_store().load("usr_carol").secret is None
    assert any("Two-factor" in str(m.subject) for m in mail_to("carol@example.org"))


def test_2fa_reset_asks_an_admin_with_2fa_for_their_code(api):
    from mamba.auth import totp

    _turn_on_2fa("usr_carol")
    secret = _turn_on_2fa("usr_root")

    missing = api.post("/v1/admin/users/usr_carol/2fa/reset", "usr_root", {"current_password": ROOT_PASSWORD})
    assert missing.status_code == 400 and missing.json_body["error"]["details"]["reason"] == "totp_required"

    import time

    code = totp.code_at(secret, totp.counter_for(time.time()))
    done = api.post(
        "/v1/admin/users/usr_carol/2fa/reset", "usr_root", {"current_password": ROOT_PASSWORD, "totp_code": code}
    )
    assert done.status_code == 200, done.json_body


def test_2fa_reset_is_refused_for_oneself(api):
    _turn_on_2fa("usr_root")

    own = api.post("/v1/admin/users/usr_root/2fa/reset", "usr_root", {"current_password": ROOT_PASSWORD})
    assert own.status_code == 409 and own.json_body["error"]["details"]["reason"] == "self"


def test_2fa_reset_is_409_when_the_account_has_no_2fa(api):
    off = api.post("/v1/admin/users/usr_dave/2fa/reset", "usr_root", {"current_password": ROOT_PASSWORD})

    assert off.status_code == 409 and off.json_body["error"]["details"]["reason"] == "not_enabled"
