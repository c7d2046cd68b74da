"""The two Pterodactyl key kinds through the real guard: ptlc_ client keys are a user's API keys
in Pterodactyl's spelling; ptla_ application keys belong to platform admins, hold per-resource
rights, and open nothing but /api/application (docs/pterodactyl-api.md)."""

from __future__ import annotations

import json

import pytest

from tests.api.security_world import World, bearer, build_world, create_key

ALL_READ = {r: "read" for r in ("users", "nodes", "allocations", "locations", "servers", "nests", "eggs")}


@pytest.fixture
def world(client) -> World:
    return build_world()


def _application_key(client, world: World, who: str = "root", **rights: str):
    body = {"name": "billing", "permissions": {**ALL_READ, **rights}}
    return client.http.post("/v1/admin/application-keys", headers=world.headers(who), body=json.dumps(body))


def test_a_pterodactyl_spelled_key_is_the_users_key_and_works_on_both_doors(client, world):
    created = create_key(client, world.headers("alice"), scopes=["account.read"], format="pterodactyl")

    assert created.status_code == 201, created.json_body
    key = created.json_body["key"]
    assert key.startswith(f"ptlc_usr_alice.{created.json_body['id']}.")
    assert created.json_body["format"] == "pterodactyl"
    assert client.http.get("/v1/me", headers=bearer(key)).status_code == 200
    table = client.http.get("/api/client/permissions", headers=bearer(key))
    assert table.status_code == 200
    assert table.json_body["object"] == "system_permissions"
    assert "control.console" not in table.json_body["attributes"]["permissions"]  # grouped, as Pterodactyl
    assert table.json_body["attributes"]["permissions"]["control"]["keys"]["console"]


def test_an_application_key_is_shown_once_listed_without_its_secret_and_revoked(client, world):
    created = _application_key(client, world, servers="read-write")

    assert created.status_code == 201, created.json_body
    body = created.json_body
    assert body["key"].startswith(f"ptla_usr_root.{body['id']}.")
    assert body["permissions"]["servers"] == "read-write" and body["permissions"]["users"] == "read"
    listed = client.http.get("/v1/admin/application-keys", headers=world.headers("root")).json_body["items"]
    assert [k["id"] for k in listed] == [body["id"]] and "key" not in listed[0]
    # An application key is not one of the user's own API keys
    mine = client.http.get("/v1/me/api-keys", headers=world.headers("root")).json_body["items"]
    assert body["id"] not in [k["id"] for k in mine]
    gone = client.http.delete(f"/v1/admin/application-keys/{body['id']}", headers=world.headers("root"))
    assert gone.status_code == 204
    refused = client.http.get("/api/client/permissions", headers=bearer(body["key"]))
    assert refused.status_code == 401


def test_an_application_key_opens_nothing_under_v1_nor_the_client_api(client, world):
    key = _application_key(client, world).json_body["key"]

    assert client.http.get("/v1/me", headers=bearer(key)).status_code == 403
    refused = client.http.get("/api/client/permissions", headers=bearer(key))
    assert refused.status_code == 403
    assert refused.json_body == {
        "errors": [
            {
                "code": "AccessDeniedHttpException",
                "status": "403",
                "detail": "An application key works only on the application API.",
            }
        ]
    }


def test_only_a_platform_admin_may_create_an_application_key(client, world):
    refused = _application_key(client, world, who="alice")

    assert refused.status_code == 403


def test_an_unknown_right_is_refused_with_the_field_named(client, world):
    bad = _application_key(client, world, servers="everything")

    assert bad.status_code == 400
    assert any("permissions" in f["field"] for f in bad.json_body["error"]["details"]["fields"])


def test_no_key_on_the_client_api_is_pterodactyls_401(client, world):
    answer = client.http.get("/api/client/permissions")

    assert answer.status_code == 401
    assert answer.json_body["errors"][0]["code"] == "AuthenticationException"
    assert answer.json_body["errors"][0]["status"] == "401"
