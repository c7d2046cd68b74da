"""Roles: built-in (read-only) and custom roles over the tenant permissions."""

from __future__ import annotations

import pytest

from mamba.domain.permissions import BUILTIN_ROLES
from mamba.schemas.tenancy import RoleList, RoleOut
from tests.api.tenancy_helpers import Api, join, make_world

ROLES = "/v1/tenants/tn_a/roles"


@pytest.fixture
def api(client):
    return make_world(client)


def create(api: Api, name: str, permissions: list[str], as_user: str = "usr_alice", **extra: object) -> object:
    return api.post(ROLES, as_user, {"name": name, "permissions": permissions, **extra})


def test_list_roles_starts_with_the_builtin_roles_read_only(api):
    listing = RoleList.model_validate(api.get(ROLES, "usr_alice").json_body)

    builtin = [r for r in listing.items if r.builtin]
    assert [r.id for r in builtin] == list(BUILTIN_ROLES)
    assert all(set(r.permissions) == BUILTIN_ROLES[r.id] and r.description for r in builtin)
    assert listing.next_cursor is None


def test_create_role_lists_and_reads_it_back(api):
    # When alice creates a custom role
    created = create(api, "Moderator", ["servers.read", "servers.console"], description="Chat duty")

    # Then it is 201 and readable, listed after the built-in roles
    assert created.status_code == 201, created.json_body
    role = RoleOut.model_validate(created.json_body)
    assert (role.name, role.permissions, role.builtin, role.members) == (
        "Moderator",
        ["servers.console", "servers.read"],
        False,
        0,
    )
    assert role.id.startswith("rl_")
    assert api.get(f"{ROLES}/{role.id}", "usr_alice").json_body["description"] == "Chat duty"
    assert [r["id"] for r in api.get(ROLES, "usr_alice").json_body["items"]][-1] == role.id


def test_get_builtin_role_by_name(api):
    response = api.get(f"{ROLES}/viewer", "usr_alice")

    assert response.status_code == 200
    assert response.json_body["builtin"] is True
    assert set(response.json_body["permissions"]) == BUILTIN_ROLES["viewer"]


def test_create_role_is_400_naming_permissions_outside_the_tenant_catalogue(api):
    response = create(api, "Sneaky", ["servers.read", "admin.users", "account.write", "servers.fly"])

    assert response.status_code == 400
    error = response.json_body["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["invalid"] == ["account.write", "admin.users", "servers.fly"]
    assert "admin.users" in error["message"]


@pytest.mark.parametrize("name", ["Moderator", "moderator ", "MODERATOR"])
def test_create_role_is_409_when_the_name_is_taken_in_the_tenant(api, name):
    create(api, "Moderator", ["servers.read"])

    response = create(api, name, ["servers.read"])

    assert response.status_code == 409


def test_same_role_name_is_allowed_in_another_tenant(api):
    create(api, "Moderator", ["servers.read"])

    response = api.post("/v1/tenants/tn_b/roles", "usr_bob", {"name": "Moderator", "permissions": []})

    assert response.status_code == 201


def test_create_role_is_409_when_the_name_is_a_builtin_role(api):
    assert create(api, "Viewer", ["servers.read"]).status_code == 409


def test_create_role_is_403_when_it_would_grant_more_than_the_creator_holds(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "admin")

    response = create(api, "Boss", ["tenant.update"], as_user="usr_carol")

    assert response.status_code == 403
    assert response.json_body["error"]["details"]["missing"] == ["tenant.update"]


def test_roles_are_403_when_the_role_lacks_roles_read(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")

    assert api.get(ROLES, "usr_carol").status_code == 403
    assert create(api, "X", [], as_user="usr_carol").status_code == 403


def test_another_tenants_role_is_404(api):
    role_id = create(api, "Moderator", ["servers.read"]).json_body["id"]

    for method, body in (("GET", None), ("PATCH", {"name": "Mine"}), ("DELETE", None)):
        # bob through tenant A (not a member), and bob through his own tenant B
        assert api.call(method, f"{ROLES}/{role_id}", "usr_bob", body).status_code == 404
        assert api.call(method, f"/v1/tenants/tn_b/roles/{role_id}", "usr_bob", body).status_code == 404
    assert api.get(f"{ROLES}/{role_id}", "usr_alice").json_body["name"] == "Moderator"


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_builtin_roles_cannot_be_changed_or_deleted(api, method):
    response = api.call(method, f"{ROLES}/viewer", "usr_alice", {"permissions": []} if method == "PATCH" else None)

    assert response.status_code == 409
    assert api.get(f"{ROLES}/viewer", "usr_alice").json_body["permissions"] == sorted(BUILTIN_ROLES["viewer"])


def test_custom_role_change_takes_effect_on_the_bound_members_next_request(api):
    # Given carol is bound to a custom role without members.read
    role_id = create(api, "Helper", ["tenant.read"]).json_body["id"]
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", role_id)
    assert api.get("/v1/tenants/tn_a", "usr_carol").status_code == 200
    assert api.get("/v1/tenants/tn_a/members", "usr_carol").status_code == 403

    # When alice adds members.read to the role
    changed = api.patch(f"{ROLES}/{role_id}", "usr_alice", {"permissions": ["tenant.read", "members.read"]})

    # Then carol's next request uses the new permissions, and her binding shows them
    assert changed.status_code == 200, changed.json_body
    assert changed.json_body["members"] == 1
    assert api.get("/v1/tenants/tn_a/members", "usr_carol").status_code == 200
    members = {m["user_id"]: m for m in api.get("/v1/tenants/tn_a/members", "usr_alice").json_body["items"]}
    assert members["usr_carol"]["permissions"] == ["members.read", "tenant.read"]

    # And taking a permission away works the same way
    api.patch(f"{ROLES}/{role_id}", "usr_alice", {"permissions": ["members.read"]})
    assert api.get("/v1/tenants/tn_a", "usr_carol").status_code == 403


def test_patch_role_renames_and_changes_the_description(api):
    role_id = create(api, "Helper", ["tenant.read"], description="old").json_body["id"]

    response = api.patch(f"{ROLES}/{role_id}", "usr_alice", {"name": "Assistant", "description": None})

    assert response.status_code == 200
    assert (response.json_body["name"], response.json_body["description"]) == ("Assistant", None)
    # The old name is free again, the new one is taken
    assert create(api, "Helper", []).status_code == 201
    assert create(api, "Assistant", []).status_code == 409


def test_patch_role_is_409_when_renamed_to_a_taken_name(api):
    create(api, "One", [])
    two = create(api, "Two", []).json_body["id"]

    response = api.patch(f"{ROLES}/{two}", "usr_alice", {"name": "one"})

    assert response.status_code == 409
    assert api.get(f"{ROLES}/{two}", "usr_alice").json_body["name"] == "Two"


def test_patch_role_is_400_when_nothing_is_given_or_permissions_are_unknown(api):
    role_id = create(api, "Helper", ["tenant.read"]).json_body["id"]

    assert api.patch(f"{ROLES}/{role_id}", "usr_alice", {}).status_code == 400
    unknown = api.patch(f"{ROLES}/{role_id}", "usr_alice", {"permissions": ["admin.nodes"]})
    assert unknown.status_code == 400
    assert unknown.json_body["error"]["details"]["invalid"] == ["admin.nodes"]


def test_patch_role_is_403_when_the_actor_would_gain_permissions_through_their_own_role(api):
    # Given carol holds members.manage and roles.manage through a custom role bound to herself
    role_id = create(api, "Manager", ["roles.manage", "roles.read", "members.manage", "members.read"]).json_body["id"]
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", role_id)

    # When she adds billing.manage to her own role
    response = api.patch(f"{ROLES}/{role_id}", "usr_carol", {"permissions": ["roles.manage", "billing.manage"]})

    # Then it is refused
    assert response.status_code == 403
    assert response.json_body["error"]["details"]["missing"] == ["billing.manage"]


def test_delete_role_is_409_while_bound_and_204_once_unbound(api):
    # Given carol is bound to the role
    role_id = create(api, "Helper", ["tenant.read"]).json_body["id"]
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", role_id)

    # Then it cannot be deleted
    bound = api.delete(f"{ROLES}/{role_id}", "usr_alice")
    assert bound.status_code == 409
    assert bound.json_body["error"]["details"]["members"] == 1

    # Until carol is moved to another role
    assert api.patch("/v1/tenants/tn_a/members/usr_carol", "usr_alice", {"role": "viewer"}).status_code == 200
    assert api.get(f"{ROLES}/{role_id}", "usr_alice").json_body["members"] == 0
    assert api.delete(f"{ROLES}/{role_id}", "usr_alice").status_code == 204
    assert api.get(f"{ROLES}/{role_id}", "usr_alice").status_code == 404
    assert create(api, "Helper", []).status_code == 201


def test_removing_a_member_unbinds_their_custom_role(api):
    role_id = create(api, "Helper", ["tenant.read"]).json_body["id"]
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", role_id)

    assert api.delete("/v1/tenants/tn_a/members/usr_carol", "usr_alice").status_code == 204

    assert api.delete(f"{ROLES}/{role_id}", "usr_alice").status_code == 204


def test_binding_from_an_old_role_version_is_409(api):
    # Given a role read at version 0, then changed to version 1
    from mamba import bootstrap
    from mamba.services.roles import get_role

    role_id = create(api, "Helper", ["tenant.read"]).json_body["id"]
    repo = bootstrap.tenancy_repository()
    stale = repo.get_role("tn_a", role_id)
    api.patch(f"{ROLES}/{role_id}", "usr_alice", {"permissions": ["members.read"]})
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")
    current = repo.get_member("tn_a", "usr_carol")

    # When a binding copies the stale permissions
    from dataclasses import replace

    from mamba.domain.errors import ConflictError

    with pytest.raises(ConflictError) as caught:
        repo.change_binding(current, replace(current, role=role_id, permissions=stale.permissions), stale.version)

    # Then it is refused, and carol keeps her role
    assert caught.value.details["reason"] == "role_changed"
    assert repo.get_member("tn_a", "usr_carol").role == "viewer"
    assert get_role(repo, _ctx(), role_id).members == 0


def _ctx():
    from mamba.auth.context import TenantContext

    return TenantContext(tenant_id="tn_a", role="owner", permissions=BUILTIN_ROLES["owner"])


def test_list_roles_pages_custom_roles_after_the_builtin_ones(api):
    for name in ("A1", "A2", "A3"):
        create(api, name, [])

    first = api.get(f"{ROLES}?limit=2", "usr_alice").json_body
    second = api.get(f"{ROLES}?limit=2&cursor={first['next_cursor']}", "usr_alice").json_body

    assert len([r for r in first["items"] if r["builtin"]]) == 4
    custom = [r["name"] for r in first["items"] + second["items"] if not r["builtin"]]
    assert sorted(custom) == ["A1", "A2", "A3"]
    assert len(custom) == 3  # each once
    assert second["next_cursor"] is None
    assert all(not r["builtin"] for r in second["items"])
