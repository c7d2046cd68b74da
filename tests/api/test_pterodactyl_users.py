"""/api/application/users on moto through the product app: a Pterodactyl user is a Mamba account
(docs/pterodactyl-api.md, "Users"); every answer is checked against Pterodactyl's own shape."""

from __future__ import annotations

import json

import pytest

from tests.api.pterodactyl_app_world import Api, application_key
from tests.api.security_world import build_world
from tests.contract.pterodactyl_shapes import assert_shape

NEW = {
    "email": "Gamer@Example.org",
    "username": "gamer1",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "external_id": "whmcs-42",
    "password": "a long enough passphrase 42",
}


@pytest.fixture
def api(client) -> Api:
    world = build_world()
    api = Api(client, application_key(client, world))
    api.world = world  # type: ignore[attr-defined]
    return api


def test_a_created_user_is_a_mamba_account_found_by_id_and_external_id(api, client):
    created = api.post("/users", NEW)

    assert created.status_code == 201, created.json_body
    assert_shape("application_user", {k: v for k, v in created.json_body.items() if k != "meta"})
    user = created.json_body["attributes"]
    assert created.json_body["meta"]["resource"].endswith(f"/api/application/users/{user['id']}")
    assert (user["email"], user["username"], user["first_name"], user["last_name"]) == (
        "gamer@example.org", "gamer1", "Ada", "Lovelace"
    )  # fmt: skip
    assert user["external_id"] == "whmcs-42" and user["root_admin"] is False and user["2fa"] is False
    assert user["created_at"].endswith("+00:00")
    by_id = api.get(f"/users/{user['id']}")
    assert by_id.status_code == 200 and by_id.json_body == {"object": "user", "attributes": user}
    assert api.get("/users/external/whmcs-42").json_body["attributes"]["id"] == user["id"]
    with_servers = api.get(f"/users/{user['id']}?include=servers").json_body
    assert with_servers["attributes"].pop("relationships")["servers"]["object"] == "null_resource"
    assert_shape("application_user", with_servers)
    assert api.get(f"/users/{user['id']}?include=secrets").status_code == 400
    # A real account: it signs in on /v1 with the password given here.
    login = client.http.post(
        "/v1/auth/login",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"email": "gamer@example.org", "password": NEW["password"]}),
    )
    assert login.status_code == 200, login.json_body


def test_the_list_is_paged_filtered_and_sorted_as_pterodactyl(api):
    api.post("/users", NEW)

    listed = api.get("/users?per_page=2")
    assert listed.status_code == 200
    assert_shape("application_user_list", listed.json_body)
    pagination = listed.json_body["meta"]["pagination"]
    assert (pagination["total"], pagination["count"], pagination["per_page"], pagination["total_pages"]) == (5, 2, 2, 3)
    assert "next" in pagination["links"] and "previous" not in pagination["links"]
    ids = [u["attributes"]["id"] for u in api.get("/users").json_body["data"]]
    assert ids == sorted(ids)
    assert [u["attributes"]["id"] for u in api.get("/users?sort=-id").json_body["data"]] == sorted(ids, reverse=True)
    found = api.get("/users?filter[email]=GAMER").json_body["data"]
    assert [u["attributes"]["username"] for u in found] == ["gamer1"]
    assert api.get("/users?filter[external_id]=whmcs-4").json_body["data"] == []  # external ids match exactly
    assert len(api.get("/users?filter[external_id]=whmcs-42").json_body["data"]) == 1


def test_a_taken_email_username_or_external_id_is_pterodactyls_422_naming_the_field(api):
    assert api.post("/users", NEW).status_code == 201

    for field, value in (("email", "gamer@example.org"), ("username", "GAMER1"), ("external_id", "whmcs-42")):
        other = {**NEW, "email": "other@example.org", "username": "other", "external_id": None, field: value}
        refused = api.post("/users", other)
        assert refused.status_code == 422, (field, refused.json_body)
        assert refused.json_body["errors"][0]["meta"]["source_field"] == field
        assert refused.json_body["errors"][0]["status"] == "422"
    # Nothing half-made: the refused username and email are still free for a valid create.
    assert (
        api.post("/users", {**NEW, "email": "third@example.org", "username": "third", "external_id": None}).status_code
        == 201
    )


def test_a_numeric_external_id_is_taken_as_its_text(api):
    made = api.post("/users", {**NEW, "external_id": 42})

    assert made.status_code == 201, made.json_body
    assert made.json_body["attributes"]["external_id"] == "42"
    assert api.get("/users/external/42").json_body["attributes"]["id"] == made.json_body["attributes"]["id"]


def test_a_missing_field_is_a_422_per_field(api):
    refused = api.post("/users", {"email": "x@example.org"})

    assert refused.status_code == 422
    fields = {e["meta"]["source_field"] for e in refused.json_body["errors"]}
    assert {"username", "first_name", "last_name"} <= fields
    assert all(e["code"] == "ValidationException" for e in refused.json_body["errors"])


def test_patch_changes_the_given_fields_and_the_admin_flag_through_the_same_service(api):
    user = api.post("/users", NEW).json_body["attributes"]

    changed = api.patch(
        f"/users/{user['id']}",
        {
            "email": "new@example.org",
            "username": "renamed",
            "last_name": "Byron",
            "root_admin": True,
            "external_id": "x-1",
        },
    )

    assert changed.status_code == 200, changed.json_body
    assert_shape("application_user", changed.json_body)
    attrs = changed.json_body["attributes"]
    assert (attrs["email"], attrs["username"], attrs["first_name"], attrs["last_name"]) == (
        "new@example.org", "renamed", "Ada", "Byron"
    )  # fmt: skip
    assert attrs["root_admin"] is True and attrs["external_id"] == "x-1"
    assert api.get("/users/external/whmcs-42").status_code == 404
    # The old username is free again
    assert api.post("/users", {**NEW, "email": "b@example.org", "external_id": None}).status_code == 201


def test_delete_removes_the_account_and_its_ids(api, client):
    user = api.post("/users", NEW).json_body["attributes"]

    assert api.delete(f"/users/{user['id']}").status_code == 204

    gone = api.get(f"/users/{user['id']}")
    assert gone.status_code == 404
    assert_shape("error_not_found", gone.json_body)
    assert gone.json_body["errors"][0]["detail"] == "The requested resource could not be found on the server."
    assert api.get("/users/external/whmcs-42").status_code == 404
    login = client.http.post(
        "/v1/auth/login",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"email": "gamer@example.org", "password": NEW["password"]}),
    )
    assert login.status_code == 401


def test_deleting_a_platform_admin_or_oneself_is_refused_as_on_v1(api):
    from mamba import bootstrap

    root = bootstrap.ptero_ids().number("user", "usr_root")
    made_admin = api.post("/users", {**NEW, "root_admin": True}).json_body["attributes"]

    assert api.delete(f"/users/{root.number}").status_code == 409
    refused = api.delete(f"/users/{made_admin['id']}")
    assert refused.status_code == 409
    assert refused.json_body["errors"][0]["code"] == "ConflictHttpException"
    assert api.get(f"/users/{made_admin['id']}").status_code == 200


def test_a_read_only_key_reads_but_cannot_write(api, client):
    reader = Api(client, application_key(client, api.world, default="read"))

    assert reader.get("/users").status_code == 200
    refused = reader.post("/users", NEW)
    assert refused.status_code == 403
    assert refused.json_body["errors"][0]["code"] == "AccessDeniedHttpException"
    none = Api(client, application_key(client, api.world, users="none"))
    assert none.get("/users").status_code == 403


def test_an_unknown_or_malformed_id_is_a_404(api):
    for path in ("/users/999", "/users/abc", "/users/external/nope"):
        answer = api.get(path)
        assert answer.status_code == 404, path
        assert_shape("error_not_found", answer.json_body)


def test_a_refused_patch_changes_nothing(api):
    first = api.post("/users", NEW).json_body["attributes"]
    other = {**NEW, "email": "other@example.org", "username": "other", "external_id": None}
    second = api.post("/users", other).json_body["attributes"]

    refused = api.patch(f"/users/{second['id']}", {"username": "fresh", "email": "gamer@example.org"})

    assert refused.status_code == 422 and refused.json_body["errors"][0]["meta"]["source_field"] == "email"
    assert api.get(f"/users/{second['id']}").json_body["attributes"] == second
    # "fresh" was given back: another account may take it
    assert api.patch(f"/users/{first['id']}", {"username": "fresh"}).json_body["attributes"]["username"] == "fresh"
    weak = api.patch(f"/users/{second['id']}", {"username": "x2", "password": "short"})
    assert weak.status_code == 422 and api.get(f"/users/{second['id']}").json_body["attributes"]["username"] == "other"


def test_an_account_deleted_on_v1_gives_its_username_and_external_id_back(api, client):
    user = api.post("/users", NEW).json_body["attributes"]
    from mamba import bootstrap

    # Deleted outside this API (as DELETE /v1/me does): its Pterodactyl claims stay behind
    account = bootstrap.ptero_ids().by_number("user", user["id"]).ref
    bootstrap.account_deletion_ports().remover.delete(account, "gamer@example.org")

    again = api.post("/users", NEW)

    assert again.status_code == 201, again.json_body
    assert again.json_body["attributes"]["id"] != user["id"]
    assert api.get("/users/external/whmcs-42").json_body["attributes"]["id"] == again.json_body["attributes"]["id"]
