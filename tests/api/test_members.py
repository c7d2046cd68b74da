"""Members and invitations: /v1/tenants/{tenant_id}/members..., /v1/invitations/accept."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from chalice import Chalice
from chalice.test import Client

from local import gateway
from mamba import web
from mamba.auth import guard
from mamba.schemas.tenancy import InvitationOut, MemberList, MemberOut
from tests.api.tenancy_helpers import Api, add_user, expire_grant, join, mail_to, make_world, token_in
from tests.support import DynamoCounter


@pytest.fixture
def api(client):
    return make_world(client)


def members_of(api: Api, tenant_id: str, as_user: str) -> dict[str, MemberOut]:
    listing = MemberList.model_validate(api.get(f"/v1/tenants/{tenant_id}/members", as_user).json_body)
    return {m.user_id: m for m in listing.items}


def invite(api: Api, email: str, role: str = "viewer", as_user: str = "usr_alice", **extra: object) -> object:
    return api.post("/v1/tenants/tn_a/members/invitations", as_user, {"email": email, "role": role, **extra})


# --- list ---


def test_list_members_shows_each_binding_with_what_it_grants(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")

    found = members_of(api, "tn_a", "usr_alice")

    assert set(found) == {"usr_alice", "usr_carol"}
    assert found["usr_carol"].role == "viewer"
    assert "servers.read" in found["usr_carol"].permissions and "servers.power" not in found["usr_carol"].permissions


def test_list_members_names_each_member_by_email_and_name_in_one_query_and_one_batch_read(api, monkeypatch):
    # Given carol (who set a name) and dave as members of tn_a
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")
    join(api, "tn_a", "usr_alice", "usr_dave", "dave@example.org", "viewer")
    assert api.patch("/v1/me", "usr_carol", {"name": "Carol C."}).status_code == 200
    counter = DynamoCounter(monkeypatch)

    # When alice lists the members
    found = members_of(api, "tn_a", "usr_alice")

    # Then each shows its account's email, and the name where one is set
    assert {u: (m.email, m.name) for u, m in found.items()} == {
        "usr_alice": ("alice@example.org", None),
        "usr_carol": ("carol@example.org", "Carol C."),
        "usr_dave": ("dave@example.org", None),
    }
    # and the page costs the guard's BatchGetItem, one Query and one BatchGetItem of the users
    assert counter.actions == ["BatchGetItem", "Query", "BatchGetItem"]


def test_list_members_shows_a_member_whose_account_is_gone_without_an_email(api):
    # Given carol's user item deleted while her binding stays (e.g. mid-erasure)
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem

    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")
    UserItem(*keys.user("usr_carol")).delete()

    found = members_of(api, "tn_a", "usr_alice")

    assert found["usr_carol"].email is None and found["usr_alice"].email == "alice@example.org"


def test_list_members_pages_when_there_are_more_than_the_limit(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")
    join(api, "tn_a", "usr_alice", "usr_dave", "dave@example.org", "viewer")

    first = api.get("/v1/tenants/tn_a/members?limit=2", "usr_alice").json_body
    rest = api.get(f"/v1/tenants/tn_a/members?limit=2&cursor={first['next_cursor']}", "usr_alice").json_body

    assert len(first["items"]) == 2 and rest["next_cursor"] is None
    assert {m["user_id"] for m in first["items"] + rest["items"]} == {"usr_alice", "usr_carol", "usr_dave"}


def test_members_cursor_of_one_tenant_is_400_on_another(api):
    # Given a cursor of tenant A's member list, and bob also a member of tenant A
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")
    cursor = api.get("/v1/tenants/tn_a/members?limit=1", "usr_alice").json_body["next_cursor"]

    # When bob replays it on his own tenant's list
    response = api.get(f"/v1/tenants/tn_b/members?cursor={cursor}", "usr_bob")

    # Then it is refused rather than reading from tenant A's partition
    assert response.status_code == 400


def test_members_are_404_for_a_member_of_another_tenant(api):
    for method, path, body in (
        ("GET", "/v1/tenants/tn_a/members", None),
        ("PATCH", "/v1/tenants/tn_a/members/usr_alice", {"role": "viewer"}),
        ("DELETE", "/v1/tenants/tn_a/members/usr_alice", None),
        ("POST", "/v1/tenants/tn_a/members/invitations", {"email": "x@example.org", "role": "viewer"}),
        ("GET", "/v1/tenants/tn_a/members/invitations", None),
    ):
        response = api.call(method, path, "usr_bob", body)
        assert response.status_code == 404, (method, path, response.json_body)
    assert set(members_of(api, "tn_a", "usr_alice")) == {"usr_alice"}


def test_list_members_is_403_when_the_role_lacks_members_read(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")

    response = api.get("/v1/tenants/tn_a/members", "usr_carol")

    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "FORBIDDEN"


# --- invite and accept ---


def test_invite_mails_a_link_with_a_token_and_stores_only_its_hash(api):
    # When alice invites carol
    response = invite(api, "Carol@Example.org", "operator")

    # Then the invitation is listed, with the address normalised and no token
    assert response.status_code == 201, response.json_body
    invitation = InvitationOut.model_validate(response.json_body)
    assert (invitation.email, invitation.role, invitation.invited_by) == ("carol@example.org", "operator", "usr_alice")
    assert "token" not in response.json_body
    listed = api.get("/v1/tenants/tn_a/members/invitations", "usr_alice").json_body["items"]
    assert [i["id"] for i in listed] == [invitation.id]
    # And carol got a mail with the accept link, whose secret is not stored in the clear
    (mail,) = mail_to("carol@example.org")
    token = token_in(mail)
    assert "Tenant A" in mail.subject
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import InvitationItem

    stored = InvitationItem.get(*keys.invitation("tn_a", invitation.id))
    assert token.rsplit(".", 1)[1] not in stored.token_hash
    assert stored.ttl and stored.ttl > time.time()


def test_accept_makes_the_invitee_a_member_with_the_invited_role(api):
    # Given alice invited carol as operator
    invite(api, "carol@example.org", "operator")
    token = token_in(mail_to("carol@example.org")[-1])

    # When carol accepts
    response = api.post("/v1/invitations/accept", "usr_carol", {"token": token})

    # Then she is an operator of tenant A, and the invitation is gone
    assert response.status_code == 200, response.json_body
    assert (response.json_body["id"], response.json_body["role"]) == ("tn_a", "operator")
    assert api.get("/v1/tenants/tn_a", "usr_carol").json_body["role"] == "operator"
    assert members_of(api, "tn_a", "usr_alice")["usr_carol"].role == "operator"
    assert api.get("/v1/tenants/tn_a/members/invitations", "usr_alice").json_body["items"] == []
    # And the token cannot be used twice
    again = api.post("/v1/invitations/accept", "usr_carol", {"token": token})
    assert again.status_code == 404


def test_accept_is_403_when_the_invitation_was_sent_to_another_address(api):
    invite(api, "carol@example.org")
    token = token_in(mail_to("carol@example.org")[-1])

    response = api.post("/v1/invitations/accept", "usr_dave", {"token": token})

    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "FORBIDDEN"
    assert "usr_dave" not in members_of(api, "tn_a", "usr_alice")


def test_accept_is_403_email_not_verified_when_the_invitee_is_unverified(api):
    invite(api, "mallory@example.org")
    token = token_in(mail_to("mallory@example.org")[-1])

    response = api.post("/v1/invitations/accept", "usr_mallory", {"token": token})

    assert response.status_code == 403
    assert response.json_body["error"]["code"] == "EMAIL_NOT_VERIFIED"


@pytest.mark.parametrize(
    "token",
    ["tn_a.inv_000000000000000000000000.secretsecret", "not-a-token", "tn_a.usr_x.abcdefghijkl"],
)
def test_accept_is_404_when_the_token_is_unknown_or_malformed(api, token):
    response = api.post("/v1/invitations/accept", "usr_carol", {"token": token})

    assert response.status_code == 404


def test_accept_is_404_when_the_token_was_replaced_by_a_new_invitation(api):
    # Given carol was invited twice (the second mail replaces the first invitation)
    invite(api, "carol@example.org", "viewer")
    invite(api, "carol@example.org", "operator")
    first, second = (token_in(m) for m in mail_to("carol@example.org"))

    # Then the first token no longer works, and the second gives the second role
    assert api.post("/v1/invitations/accept", "usr_carol", {"token": first}).status_code == 404
    assert api.post("/v1/invitations/accept", "usr_carol", {"token": second}).json_body["role"] == "operator"


def test_accept_is_404_when_the_secret_part_of_the_token_is_wrong(api):
    invite(api, "carol@example.org")
    token = token_in(mail_to("carol@example.org")[-1])
    forged = token.rsplit(".", 1)[0] + ".x" + token.rsplit(".", 1)[1][1:]

    assert api.post("/v1/invitations/accept", "usr_carol", {"token": forged}).status_code == 404


def test_accept_is_404_when_the_invitation_has_lapsed(api):
    invite(api, "carol@example.org")
    token = token_in(mail_to("carol@example.org")[-1])
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import InvitationItem

    inv_id = token.split(".")[1]
    InvitationItem(*keys.invitation("tn_a", inv_id)).update(actions=[InvitationItem.ttl.set(int(time.time()) - 1)])

    assert api.post("/v1/invitations/accept", "usr_carol", {"token": token}).status_code == 404


def test_revoked_invitation_cannot_be_accepted(api):
    invitation_id = invite(api, "carol@example.org").json_body["id"]
    token = token_in(mail_to("carol@example.org")[-1])

    revoked = api.delete(f"/v1/tenants/tn_a/members/invitations/{invitation_id}", "usr_alice")

    assert revoked.status_code == 204
    assert api.post("/v1/invitations/accept", "usr_carol", {"token": token}).status_code == 404
    assert api.delete(f"/v1/tenants/tn_a/members/invitations/{invitation_id}", "usr_alice").status_code == 404


def test_invite_is_409_when_the_address_already_belongs_to_a_member(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")

    response = invite(api, "carol@example.org")

    assert response.status_code == 409


def test_accept_is_409_when_the_invitee_is_already_a_member(api):
    # Given carol was invited, then joined through a second invitation sent before her first accept
    invite(api, "carol@example.org")
    old = token_in(mail_to("carol@example.org")[-1])
    api.post("/v1/invitations/accept", "usr_carol", {"token": old})
    from mamba.domain.tenancy import Invitation, make_token

    # ... and a stale invitation for her address exists (written as an admin tool would)
    repo = __import__("mamba.bootstrap", fromlist=["x"]).tenancy_repository()
    token, token_hash = make_token("tn_a", "inv_stale")
    repo.put_invitation(
        Invitation(
            id="inv_stale",
            tenant_id="tn_a",
            email="carol@example.org",
            role="viewer",
            token_hash=token_hash,
            invited_by="usr_alice",
            created_at="2026-11-25T10:00:00Z",
            lapses_at=int(time.time()) + 600,
        )
    )

    response = api.post("/v1/invitations/accept", "usr_carol", {"token": token})

    assert response.status_code == 409
    assert response.json_body["error"]["details"]["reason"] == "already_member"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "role": "viewer"}, "email"),
        ({"email": "x@example.org", "role": "emperor"}, "role"),
        ({"email": "x@example.org", "role": "rl_doesnotexist"}, "role"),
        ({"email": "x@example.org", "role": "viewer", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"email": "x@example.org", "role": "owner", "server_id": "srv_1"}, "server_id"),
        ({"email": "x@example.org", "role": "owner", "expires_at": "2099-01-01T00:00:00Z"}, "expires_at"),
        ({"email": "x@example.org", "role": "viewer", "server_id": "../etc"}, "server_id"),
    ],
    ids=[
        "bad-email",
        "unknown-role",
        "unknown-custom-role",
        "past-expiry",
        "scoped-owner",
        "temporary-owner",
        "bad-sid",
    ],
)
def test_invite_is_400_naming_the_field_when_the_invitation_is_invalid(api, body, field):
    response = invite(api, body.pop("email"), body.pop("role"), **body)

    assert response.status_code == 400
    error = response.json_body["error"]
    assert error["code"] == "VALIDATION_ERROR"
    named = error["details"].get("field") or error["details"]["fields"][0]["field"]
    assert named == field
    assert mail_to("x@example.org") == []


def test_invite_is_403_when_the_role_grants_more_than_the_inviter_holds(api):
    # Given carol is an admin of tenant A (no tenant.update, no billing.manage)
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "admin")

    # When she invites someone as owner
    response = invite(api, "dave@example.org", "owner", as_user="usr_carol")

    # Then it is refused naming what she lacks
    assert response.status_code == 403
    assert set(response.json_body["error"]["details"]["missing"]) == {"billing.manage", "tenant.update"}


# --- change ---


def test_role_change_takes_effect_on_the_members_next_request(api):
    # Given carol is a viewer (no members.read)
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")
    assert api.get("/v1/tenants/tn_a/members", "usr_carol").status_code == 403

    # When alice makes her an operator
    changed = api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_alice", {"role": "operator"})

    # Then carol's very next request is allowed
    assert changed.status_code == 200 and changed.json_body["role"] == "operator"
    assert api.get("/v1/tenants/tn_a/members", "usr_carol").status_code == 200


def test_patch_member_is_403_when_the_target_holds_more_than_the_actor(api):
    # Given carol is an admin and alice the owner
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "admin")

    # Then carol can neither demote nor remove alice
    assert api.patch("/v1/tenants/tn_a/members/usr_alice", "usr_carol", {"role": "viewer"}).status_code == 403
    assert api.delete("/v1/tenants/tn_a/members/usr_alice", "usr_carol").status_code == 403
    assert members_of(api, "tn_a", "usr_alice")["usr_alice"].role == "owner"


def test_patch_member_is_403_when_an_admin_tries_to_make_themselves_owner(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "admin")

    response = api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_carol", {"role": "owner"})

    assert response.status_code == 403
    assert members_of(api, "tn_a", "usr_alice")["usr_carol"].role == "admin"


def test_patch_member_is_404_when_the_user_is_not_a_member(api):
    response = api.patch("/v1/tenants/tn_a/members/usr_bob", "usr_alice", {"role": "viewer"})

    assert response.status_code == 404


def test_patch_member_is_400_when_nothing_is_given(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")

    assert api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_alice", {}).status_code == 400


# --- the last owner ---


def test_last_owner_cannot_be_demoted_or_removed(api):
    # Given carol holds every owner permission through a custom role (nobody may change their
    # own binding, so another member must try the demotion; alice stays the only owner)
    from mamba.domain.permissions import BUILTIN_ROLES

    everything = sorted(BUILTIN_ROLES["owner"])
    role = api.post("/v1/tenants/tn_a/roles", "usr_alice", {"name": "All", "permissions": everything})
    assert role.status_code == 201, role.json_body
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", role.json_body["id"])

    demoted = api.patch("/v1/tenants/tn_a/members/usr_alice", "usr_carol", {"role": "admin"})
    removed = api.delete("/v1/tenants/tn_a/members/usr_alice", "usr_alice")

    for response in (demoted, removed):
        assert response.status_code == 409
        assert response.json_body["error"]["code"] == "CONFLICT"
        assert response.json_body["error"]["details"]["reason"] == "last_owner"
    assert members_of(api, "tn_a", "usr_alice")["usr_alice"].role == "owner"


def test_an_owner_can_leave_when_another_owner_remains_but_the_second_cannot(api):
    # Given carol became a second owner
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "owner")

    # When alice steps down, then carol tries to
    first = api.patch("/v1/tenants/tn_a/members/usr_alice", "usr_carol", {"role": "viewer"})
    second = api.delete("/v1/tenants/tn_a/members/usr_carol", "usr_carol")

    # Then the first works and the second is refused: one owner stays
    assert first.status_code == 200
    assert second.status_code == 409
    roles = {uid: m.role for uid, m in members_of(api, "tn_a", "usr_carol").items()}
    assert roles == {"usr_alice": "viewer", "usr_carol": "owner"}


def test_last_owner_rule_holds_when_two_owners_leave_on_the_same_stale_read(api):
    # Given two owners, both read while both were owners (as two concurrent requests would)
    from mamba import bootstrap
    from mamba.domain.errors import ConflictError

    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "owner")
    repo = bootstrap.tenancy_repository()
    alice, carol = repo.get_member("tn_a", "usr_alice"), repo.get_member("tn_a", "usr_carol")

    # When both removals are written
    repo.remove_member(alice)
    with pytest.raises(ConflictError) as caught:
        repo.remove_member(carol)

    # Then the write's condition, not the earlier read, kept the last owner
    assert caught.value.details["reason"] == "last_owner"
    assert set(members_of(api, "tn_a", "usr_carol")) == {"usr_carol"}


def test_owner_count_follows_promotions_so_a_promoted_owner_can_later_be_the_only_one(api):
    # Given dave joined as viewer and was promoted to owner by alice
    join(api, "tn_a", "usr_alice", "usr_dave", "dave@example.org", "viewer")
    assert api.patch("/v1/tenants/tn_a/members/usr_dave", "usr_alice", {"role": "owner"}).status_code == 200

    # When alice leaves
    response = api.delete("/v1/tenants/tn_a/members/usr_alice", "usr_alice")

    # Then dave is the owner, and cannot leave in turn
    assert response.status_code == 204
    assert api.delete("/v1/tenants/tn_a/members/usr_dave", "usr_dave").status_code == 409
    assert api.get("/v1/tenants/tn_a", "usr_alice").status_code == 404


# --- remove ---


def test_removed_member_is_404_on_the_next_request(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "operator")
    assert api.get("/v1/tenants/tn_a", "usr_carol").status_code == 200

    response = api.delete("/v1/tenants/tn_a/members/usr_carol", "usr_alice")

    assert response.status_code == 204 and not response.body
    assert api.get("/v1/tenants/tn_a", "usr_carol").status_code == 404
    assert api.delete("/v1/tenants/tn_a/members/usr_carol", "usr_alice").status_code == 404


# --- scoped and temporary bindings ---


@pytest.fixture
def server_probe(api) -> Iterator[Client]:
    """A throwaway app with one server route (the servers API belongs to another issue)."""
    gateway.install()
    with web.registry_scope():
        probe = Chalice(app_name="probe")
        probe.register_middleware(web.http_middleware, "http")

        @web.route(
            probe,
            "/v1/tenants/{tenant_id}/servers/{server_id}/probe",
            "GET",
            permission="servers.read",
            summary="probe",
        )
        def server_view(ctx: web.Ctx, tenant_id: str, server_id: str) -> dict[str, str]:
            return {"server_id": server_id, "scope": str(ctx.tenant.server_scope)}

        with Client(probe, stage_name="test") as client:
            yield client


def test_scoped_binding_reaches_its_server_only(api, server_probe):
    # Given carol is an operator of server srv_1 of tenant A
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "operator", server_id="srv_1")
    headers = api.as_("usr_carol")

    # Then she reaches srv_1, but not another server nor a tenant-wide route
    own = server_probe.http.get("/v1/tenants/tn_a/servers/srv_1/probe", headers=headers)
    other = server_probe.http.get("/v1/tenants/tn_a/servers/srv_2/probe", headers=headers)
    assert own.status_code == 200 and own.json_body == {"server_id": "srv_1", "scope": "srv_1"}
    assert other.status_code == 403
    assert api.get("/v1/tenants/tn_a/members", "usr_carol").status_code == 403


def test_widening_a_scoped_binding_takes_effect_at_once(api, server_probe):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "operator", server_id="srv_1")

    changed = api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_alice", {"server_id": None})

    assert changed.status_code == 200 and changed.json_body["server_id"] is None
    other = server_probe.http.get("/v1/tenants/tn_a/servers/srv_2/probe", headers=api.as_("usr_carol"))
    assert other.status_code == 200


def test_expired_grant_is_404_with_no_job_when_its_time_passes(api, monkeypatch):
    # Given carol has a grant ending in five minutes
    ends = int(time.time()) + 300
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "operator", expires_at=ends)
    assert api.get("/v1/tenants/tn_a", "usr_carol").status_code == 200

    # When the guard's clock passes that moment (nothing else runs)
    monkeypatch.setattr(guard, "time", SimpleNamespace(time=lambda: ends + 1))

    # Then she is refused as if the tenant did not exist, and her binding is still stored
    response = api.get("/v1/tenants/tn_a", "usr_carol")
    assert response.status_code == 404
    assert members_of(api, "tn_a", "usr_alice")["usr_carol"].expires_at is not None


def test_expired_grant_can_be_extended_by_a_manager(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer", expires_at="2099-01-01T00:00:00Z")
    expire_grant("tn_a", "usr_carol")
    assert api.get("/v1/tenants/tn_a", "usr_carol").status_code == 404
    assert members_of(api, "tn_a", "usr_alice")["usr_carol"].expired is True

    response = api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_alice", {"expires_at": None})

    assert response.status_code == 200 and response.json_body["expires_at"] is None
    assert api.get("/v1/tenants/tn_a", "usr_carol").status_code == 200


def test_promoting_a_scoped_member_to_owner_makes_the_binding_tenant_wide(api):
    add_user("usr_erin")
    join(api, "tn_a", "usr_alice", "usr_erin", "erin@example.org", "operator", server_id="srv_1")

    response = api.patch("/v1/tenants/tn_a/members/usr_erin", "usr_alice", {"role": "owner"})

    assert response.status_code == 200
    assert (response.json_body["role"], response.json_body["server_id"]) == ("owner", None)
    assert api.get("/v1/tenants/tn_a/members", "usr_erin").status_code == 200
