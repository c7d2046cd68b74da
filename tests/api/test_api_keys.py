"""/v1/me/api-keys through chalice.test.Client on moto, and keys used on tenant routes
through the real guard."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest
from chalice import local as chalice_local
from chalice.test import Client

from local import gateway
from mamba import bootstrap, web
from tests.api.security_world import SCRATCH, World, bearer, build_world, create_key, scratch_app


@pytest.fixture
def world(client) -> World:
    return build_world()


@pytest.fixture
def scratch(world) -> Iterator[Client]:
    gateway.install()
    with web.registry_scope(), Client(scratch_app(), stage_name="test") as c:
        yield c


def _server(tenant: str = "tn_a", server: str = "srv_1") -> str:
    return SCRATCH.format(tenant_id=tenant) + f"/servers/{server}"


def _stored(key_id: str):
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import ApiKeyItem

    return ApiKeyItem.get(*keys.api_key(key_id), consistent_read=True)


def test_key_is_shown_once_with_its_prefix_and_stored_only_as_a_hash(client, world):
    # Given alice creates a key
    created = create_key(client, world.headers("alice"), scopes=["servers.read"])

    # Then the 201 holds the whole key, once
    assert created.status_code == 201, created.json_body
    body = created.json_body
    key = body["key"]
    assert key.startswith(f"mhp_usr_alice.{body['id']}.")
    secret = key.rsplit(".", 1)[1]
    assert len(secret) >= 43  # 32 random bytes
    assert body["prefix"] == f"mhp_usr_alice.{body['id']}" and body["hint"] == secret[-4:]
    # And the table holds its SHA-256, never the secret
    item = _stored(body["id"])
    assert item.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(item.serialize())
    # And the list never shows it again
    listed = client.http.get("/v1/me/api-keys", headers=world.headers("alice")).json_body
    assert [k["id"] for k in listed["items"]] == [body["id"]]
    assert "key" not in listed["items"][0] and secret not in str(listed)


def test_create_is_400_naming_unknown_scopes_when_they_are_not_permissions(client, world):
    response = create_key(client, world.headers("alice"), scopes=["servers.read", "servers.fly", "root"])

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "VALIDATION_ERROR"
    assert response.json_body["error"]["details"]["unknown"] == ["root", "servers.fly"]


def test_create_is_403_when_a_non_admin_asks_for_admin_scopes(client, world):
    response = create_key(client, world.headers("alice"), scopes=["admin.users"])

    assert response.status_code == 403


def test_create_is_400_when_an_allowed_ip_is_not_a_network(client, world):
    response = create_key(client, world.headers("alice"), scopes=["servers.read"], allowed_ips=["10.0.0.0/33"])

    assert response.status_code == 400
    assert response.json_body["error"]["details"]["invalid"] == ["10.0.0.0/33"]


def test_create_is_400_when_the_expiry_is_in_the_past(client, world):
    response = create_key(client, world.headers("alice"), scopes=["servers.read"], expires_at="2020-01-01T00:00:00Z")

    assert response.status_code == 400


def test_create_is_403_when_the_caller_uses_an_api_key(client, world):
    # Given a key that may manage keys
    key = create_key(client, world.headers("alice"), scopes=["api_keys.manage"]).json_body["key"]

    # When it tries to mint another key
    response = create_key(client, bearer(key), scopes=["servers.read"])

    # Then it is refused: a key can never widen itself
    assert response.status_code == 403
    assert response.json_body["error"]["details"]["via"] == "api_key"


def test_key_limited_to_servers_read_is_403_on_a_write_when_it_may_read(client, world, scratch):
    # Given a key scoped to servers.read
    key = create_key(client, world.headers("alice"), scopes=["servers.read"]).json_body["key"]

    # When it reads, and then writes
    read = scratch.http.get(_server(), headers=bearer(key))
    write = scratch.http.post(f"{_server()}/power", headers=bearer(key), body="{}")

    # Then the read passes and the write is 403 FORBIDDEN
    assert read.status_code == 200, read.json_body
    assert write.status_code == 403
    assert write.json_body["error"]["code"] == "FORBIDDEN"
    assert write.json_body["error"]["details"]["permission"] == "servers.power"


def test_key_cannot_exceed_its_owners_role_when_the_scope_is_granted(client, world, scratch):
    # Given vic, a viewer, holds a key with servers.power in scope
    key = create_key(client, world.headers("vic"), scopes=["servers.read", "servers.power"]).json_body["key"]

    # Then the role still decides
    assert scratch.http.post(f"{_server()}/power", headers=bearer(key), body="{}").status_code == 403
    assert scratch.http.get(_server(), headers=bearer(key)).status_code == 200


def test_server_limited_key_is_403_on_another_server(client, world, scratch):
    key = create_key(client, world.headers("alice"), scopes=["servers.read"], server_ids=["srv_1"]).json_body["key"]

    assert scratch.http.get(_server(server="srv_1"), headers=bearer(key)).status_code == 200
    assert scratch.http.get(_server(server="srv_2"), headers=bearer(key)).status_code == 403


def test_key_is_404_on_a_tenant_its_owner_is_not_in(client, world, scratch):
    key = create_key(client, world.headers("alice"), scopes=["servers.read"]).json_body["key"]

    assert scratch.http.get(_server(tenant="tn_b"), headers=bearer(key)).status_code == 404


@pytest.mark.parametrize(
    ("source_ip", "status"),
    [("203.0.113.9", 200), ("2001:db8::7", 200), ("198.51.100.1", 403)],
    ids=["ipv4-inside", "ipv6-inside", "outside"],
)
def test_key_follows_its_allowed_networks(client, world, scratch, monkeypatch, source_ip, status):
    # Given a key usable from one IPv4 and one IPv6 network
    key = create_key(
        client, world.headers("alice"), scopes=["servers.read"], allowed_ips=["203.0.113.0/24", "2001:db8::/32"]
    ).json_body["key"]

    # When it is used from source_ip
    monkeypatch.setattr(chalice_local.LambdaEventConverter, "LOCAL_SOURCE_IP", source_ip)
    response = scratch.http.get(_server(), headers=bearer(key))

    # Then only the addresses inside are let in
    assert response.status_code == status, response.json_body
    if status == 403:
        assert response.json_body["error"]["details"]["reason"] == "ip_not_allowed"


def test_revoked_key_is_401_when_used_again(client, world, scratch):
    # Given a key that works
    created = create_key(client, world.headers("alice"), scopes=["servers.read"]).json_body
    assert scratch.http.get(_server(), headers=bearer(created["key"])).status_code == 200

    # When alice revokes it
    revoked = client.http.delete(f"/v1/me/api-keys/{created['id']}", headers=world.headers("alice"))

    # Then it is refused at once, and the list shows when it was revoked
    assert revoked.status_code == 204
    response = scratch.http.get(_server(), headers=bearer(created["key"]))
    assert response.status_code == 401
    assert response.json_body["error"]["details"]["reason"] == "revoked"
    [listed] = client.http.get("/v1/me/api-keys", headers=world.headers("alice")).json_body["items"]
    assert listed["revoked_at"] is not None


def test_revoke_is_404_when_the_key_belongs_to_another_user(client, world):
    key_id = create_key(client, world.headers("alice"), scopes=["servers.read"]).json_body["id"]

    response = client.http.delete(f"/v1/me/api-keys/{key_id}", headers=world.headers("bob"))

    assert response.status_code == 404
    assert _stored(key_id).revoked_at is None


def test_expired_key_is_401(client, world, scratch):
    created = create_key(
        client, world.headers("alice"), scopes=["servers.read"], expires_at="2099-01-01T00:00:00Z"
    ).json_body
    assert created["expires_at"] == "2099-01-01T00:00:00Z"
    from mamba.adapters.dynamo.items import ApiKeyItem

    _stored(created["id"]).update(actions=[ApiKeyItem.expires_at.set(int(time.time()) - 1)])

    response = scratch.http.get(_server(), headers=bearer(created["key"]))

    assert response.status_code == 401
    assert response.json_body["error"]["details"]["reason"] == "expired"


@pytest.mark.parametrize("tamper", ["secret", "owner", "unknown-id", "shape"])
def test_key_is_401_invalid_when_any_part_is_wrong(client, world, scratch, tamper):
    created = create_key(client, world.headers("alice"), scopes=["servers.read"]).json_body
    prefix, key_id, secret = created["key"].split(".")
    presented = {
        "secret": f"{prefix}.{key_id}.{'A' * len(secret)}",
        "owner": f"mhp_usr_bob.{key_id}.{secret}",
        "unknown-id": f"{prefix}.key_nothere.{secret}",
        "shape": f"{prefix}.{key_id}",
    }[tamper]

    response = scratch.http.get(_server(), headers=bearer(presented))

    assert response.status_code == 401
    assert response.json_body["error"]["details"]["reason"] == "invalid"


def test_last_use_is_recorded_at_most_once_a_minute(client, world, scratch, monkeypatch):
    # Given a key used once from 203.0.113.1
    created = create_key(client, world.headers("alice"), scopes=["servers.read"]).json_body
    monkeypatch.setattr(chalice_local.LambdaEventConverter, "LOCAL_SOURCE_IP", "203.0.113.1")
    scratch.http.get(_server(), headers=bearer(created["key"]))
    first = _stored(created["id"])
    assert first.last_used_ip == "203.0.113.1" and first.last_used_epoch is not None

    # When it is used again within the minute from elsewhere
    monkeypatch.setattr(chalice_local.LambdaEventConverter, "LOCAL_SOURCE_IP", "203.0.113.2")
    scratch.http.get(_server(), headers=bearer(created["key"]))

    # Then nothing is written
    assert _stored(created["id"]).last_used_ip == "203.0.113.1"

    # And once the recorded use is a minute old, the next use is recorded
    from mamba.adapters.dynamo.items import ApiKeyItem

    first.update(actions=[ApiKeyItem.last_used_epoch.set(int(first.last_used_epoch) - 61)])
    scratch.http.get(_server(), headers=bearer(created["key"]))
    assert _stored(created["id"]).last_used_ip == "203.0.113.2"
    [listed] = client.http.get("/v1/me/api-keys", headers=world.headers("alice")).json_body["items"]
    assert listed["last_used_ip"] == "203.0.113.2" and listed["last_used_at"].endswith("Z")


def test_last_use_failure_never_fails_the_request(client, world, scratch):
    created = create_key(client, world.headers("alice"), scopes=["servers.read"]).json_body

    class Broken:
        def __init__(self) -> None:
            self.touched = 0

        def touch(self, *args):
            self.touched += 1
            raise RuntimeError("table is on fire")

    broken = Broken()

    with bootstrap.override(api_key_repository=broken):
        assert scratch.http.get(_server(), headers=bearer(created["key"])).status_code == 200
    assert broken.touched == 1


def test_list_pages_newest_first_with_a_cursor(client, world):
    # Given three keys
    ids = [
        create_key(client, world.headers("alice"), name=f"k{i}", scopes=["servers.read"]).json_body["id"]
        for i in range(3)
    ]

    # When listed two at a time
    first = client.http.get("/v1/me/api-keys?limit=2", headers=world.headers("alice")).json_body
    second = client.http.get(
        f"/v1/me/api-keys?limit=2&cursor={first['next_cursor']}", headers=world.headers("alice")
    ).json_body

    # Then every key appears once, newest first, and bob sees none of them
    assert [k["id"] for k in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert client.http.get("/v1/me/api-keys", headers=world.headers("bob")).json_body["items"] == []


@pytest.mark.parametrize("query", ["cursor=%%%", "cursor=WyJ4Il0", "limit=0", "limit=abc", "colour=red"])
def test_list_is_400_when_the_query_is_bad(client, world, query):
    response = client.http.get(f"/v1/me/api-keys?{query}", headers=world.headers("alice"))

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "VALIDATION_ERROR"
