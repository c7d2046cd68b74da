"""Pterodactyl's client API for a server's subusers through the real guard on moto: a subuser is
a member bound to the server, added by the same invitation /v1 mails, with Pterodactyl's
permission keys mapped through the one table. Every answer with a body is checked against
Pterodactyl's own shape."""

from __future__ import annotations

import uuid as uuid_mod
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain.nodes import Node
from tests.api.tenancy_helpers import T0, Api, mail_to, make_world, token_in
from tests.backup_support import make_server
from tests.contract.pterodactyl_shapes import assert_shape
from tests.contract.wings.harness import free_port


@pytest.fixture
def api(client: Any) -> Api:
    return make_world(client)


def _server(tenant_id: str) -> str:
    """A server of the tenant on a node that refuses connections (the best-effort console
    revocation after a change fails fast and is only logged)."""
    node = Node(id=f"nd_{uuid_mod.uuid4().hex[:8]}", uuid=str(uuid_mod.uuid4()), name="n", fqdn="127.0.0.1",
                token_id=uuid_mod.uuid4().hex[:16], created_at=T0, updated_at=T0, scheme="http",
                daemon_port=free_port())  # fmt: skip
    bootstrap.node_repository().add(node, "x" * 64)
    server = make_server(node, tenant_id)
    bootstrap.server_repository().add(server)
    return server.uuid


@pytest.fixture
def server(api: Api) -> str:
    return _server("tn_a")


def users(server: str) -> str:
    return f"/api/client/servers/{server}/users"


def invite_and_accept(api: Api, server: str, user_id: str, keys: list[str]) -> dict[str, Any]:
    email = f"{user_id.removeprefix('usr_')}@example.org"  # make_world's users
    invited = api.post(users(server), "usr_alice", {"email": email, "permissions": keys})
    assert invited.status_code == 200, invited.json_body
    accepted = api.post("/v1/invitations/accept", user_id, {"token": token_in(mail_to(email)[-1])})
    assert accepted.status_code == 200, accepted.json_body
    return dict(invited.json_body)


def test_a_subuser_is_invited_with_pterodactyl_keys_and_listed_once_accepted(api: Api, server: str) -> None:
    # When alice adds carol with two Pterodactyl keys
    invited = api.post(users(server), "usr_alice", {"email": "carol@example.org",
                                                    "permissions": ["control.console", "file.read"]})  # fmt: skip
    # Then the answer is a server_subuser (200) for the pending invitation, and carol got the mail
    assert invited.status_code == 200, invited.json_body
    assert_shape("client_subuser", invited.json_body)
    pending = invited.json_body["attributes"]
    assert pending["uuid"].startswith("inv_") and pending["email"] == "carol@example.org"
    assert {"control.console", "file.read", "websocket.connect"} <= set(pending["permissions"])
    assert "file.update" not in pending["permissions"] and "control.start" not in pending["permissions"]
    assert mail_to("carol@example.org")
    stored = bootstrap.tenancy_repository().get_invitation("tn_a", pending["uuid"])
    assert stored.server_id == server
    role = bootstrap.tenancy_repository().get_role("tn_a", stored.role)
    assert role.permissions == {"servers.read", "servers.console", "files.read"}
    listed = api.get(users(server), "usr_alice")
    assert listed.status_code == 200 and "meta" not in listed.json_body
    assert [s["attributes"]["uuid"] for s in listed.json_body["data"]] == [pending["uuid"]]

    # When carol accepts, she is the subuser (by her user id); alice (tenant-wide owner) is not one
    accepted = api.post("/v1/invitations/accept", "usr_carol", {"token": token_in(mail_to("carol@example.org")[-1])})
    assert accepted.status_code == 200, accepted.json_body
    listed = api.get(users(server), "usr_alice").json_body["data"]
    assert [s["attributes"]["uuid"] for s in listed] == ["usr_carol"]
    for entry in listed:
        assert_shape("client_subuser", entry)
    one = api.get(f"{users(server)}/usr_carol", "usr_alice")
    assert one.status_code == 200
    assert_shape("client_subuser", one.json_body)
    assert one.json_body["attributes"]["2fa_enabled"] is False
    membership = bootstrap.tenancy_repository().get_member("tn_a", "usr_carol")
    assert membership.server_id == server
    # And her binding works on both doors for that server only
    assert api.get(f"/api/client/servers/{server}/files/list", "usr_carol").status_code not in (401, 403, 404)
    assert api.get(f"/api/client/servers/{server}/backups", "usr_carol").status_code == 403


def test_the_same_set_of_keys_shares_one_role(api: Api, server: str) -> None:
    for email in ("carol@example.org", "dave@example.org"):
        made = api.post(users(server), "usr_alice", {"email": email, "permissions": ["file.read", "backup.read"]})
        assert made.status_code == 200, made.json_body
    found = bootstrap.tenancy_repository().list_roles("tn_a", bootstrap_page()).items
    assert len([r for r in found if r.name.startswith("Subuser ")]) == 1


def bootstrap_page() -> Any:
    from mamba.domain.pages import PageRequest

    return PageRequest(limit=100)


def test_update_changes_the_members_role_and_delete_removes_them(api: Api, server: str) -> None:
    invite_and_accept(api, server, "usr_carol", ["control.console", "file.read"])

    updated = api.post(f"{users(server)}/usr_carol", "usr_alice", {"permissions": ["backup.read"]})
    assert updated.status_code == 200, updated.json_body
    assert_shape("client_subuser", updated.json_body)
    keys = updated.json_body["attributes"]["permissions"]
    assert "backup.read" in keys and "control.console" not in keys
    member = bootstrap.tenancy_repository().get_member("tn_a", "usr_carol")
    assert member.effective_permissions == {"servers.read", "backups.read"} and member.server_id == server

    removed = api.delete(f"{users(server)}/usr_carol", "usr_alice")
    assert removed.status_code == 204
    assert api.get(f"{users(server)}/usr_carol", "usr_alice").status_code == 404
    assert api.get(f"/api/client/servers/{server}/files/list", "usr_carol").status_code == 404


def test_a_pending_invitation_is_changed_by_inviting_again_and_deleted_by_revoking(api: Api, server: str) -> None:
    pending = api.post(users(server), "usr_alice", {"email": "dave@example.org", "permissions": ["file.read"]})
    uuid = pending.json_body["attributes"]["uuid"]

    changed = api.post(f"{users(server)}/{uuid}", "usr_alice", {"permissions": ["file.read", "backup.create"]})
    assert changed.status_code == 200
    assert "backup.create" in changed.json_body["attributes"]["permissions"]
    assert len(mail_to("dave@example.org")) == 2
    assert api.delete(f"{users(server)}/{uuid}", "usr_alice").status_code == 204
    assert api.get(users(server), "usr_alice").json_body["data"] == []


def test_refusals_unknown_keys_grants_beyond_ones_own_and_other_tenants(api: Api, server: str) -> None:
    unknown = api.post(users(server), "usr_alice", {"email": "dave@example.org", "permissions": ["control.fly"]})
    assert unknown.status_code == 422
    assert unknown.json_body["errors"][0]["meta"]["source_field"] == "permissions"
    # A subuser who may manage members but not the console cannot hand the console out
    invite_and_accept(api, server, "usr_carol", ["user.create", "user.read", "file.read"])
    beyond = api.post(users(server), "usr_carol", {"email": "dave@example.org", "permissions": ["control.console"]})
    assert beyond.status_code == 403, beyond.json_body
    assert beyond.json_body["errors"][0]["code"] == "AccessDeniedHttpException"
    # Nobody changes their own binding
    assert api.post(f"{users(server)}/usr_carol", "usr_carol", {"permissions": ["file.read"]}).status_code == 403
    # Another tenant's server is 404, and so is a member of this tenant not bound to this server
    theirs = _server("tn_b")
    assert api.get(users(theirs), "usr_alice").status_code == 404
    assert api.get(f"{users(server)}/usr_alice", "usr_alice").status_code == 404
