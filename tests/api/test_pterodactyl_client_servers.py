"""Pterodactyl's client API over servers: the list, details, resources, websocket, power and
command, through the real app on moto and a real Wings simulator over HTTP
(tests/api/server_world.py); each answer is also run through Pterodactyl's shapes."""

from __future__ import annotations

import json

import jwt
import pytest

from tests.api.server_world import TENANT_A, server_world
from tests.contract.pterodactyl_shapes import assert_shape
from tests.contract.wings.harness import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ptero-client-servers")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with server_world(tmp_path_factory.mktemp("ptcli")) as w:
        yield w


def get(world, who: str, path: str):
    return world.client.http.get(path, headers=world.headers(who))


def post(world, who: str, path: str, body: dict):
    return world.client.http.post(path, headers=world.headers(who), body=json.dumps(body))


def console(world) -> list[str]:
    return world.get("alice", "game", "/logs?size=100").json_body["lines"]


def server_path(world, label: str, tail: str = "") -> str:
    return f"/api/client/servers/{world.servers[label]}{tail}"


def test_the_list_holds_every_readable_server_of_the_users_tenants_in_pterodactyls_shape(world):
    # When alice lists her servers
    answer = get(world, "alice", "/api/client")
    # Then the servers of tenant A are listed (not B's, not the one being deleted), paged
    assert answer.status_code == 200, answer.body[:400]
    body = answer.json_body
    assert_shape("client_server_list", body)
    uuids = {s["attributes"]["uuid"] for s in body["data"]}
    assert world.servers["game"] in uuids and world.servers["suspended"] in uuids
    assert world.servers["theirs"] not in uuids
    assert body["meta"]["pagination"]["total"] == len(uuids) == 5
    game = next(s["attributes"] for s in body["data"] if s["attributes"]["uuid"] == world.servers["game"])
    assert game["identifier"] == world.servers["game"][:8]
    assert isinstance(game["internal_id"], int) and game["internal_id"] > 0
    assert game["server_owner"] is True and game["node"] == "node_sim"
    assert game["limits"]["memory"] == 256 and game["limits"]["cpu"] == 100
    assert game["relationships"]["allocations"]["data"][0]["attributes"]["port"] == 27015
    assert game["relationships"]["allocations"]["data"][0]["attributes"]["is_default"] is True
    suspended = next(s["attributes"] for s in body["data"] if s["attributes"]["uuid"] == world.servers["suspended"])
    assert suspended["is_suspended"] is True and suspended["status"] == "suspended"


def test_bob_sees_only_his_tenants_server(world):
    body = get(world, "bob", "/api/client").json_body

    assert [s["attributes"]["uuid"] for s in body["data"]] == [world.servers["theirs"]]


def test_the_list_pages_filters_and_types(world):
    # Paging: 2 per page of 5 servers
    first = get(world, "alice", "/api/client?per_page=2&page=2").json_body
    assert first["meta"]["pagination"]["count"] == 2 and first["meta"]["pagination"]["total_pages"] == 3
    assert first["meta"]["pagination"]["current_page"] == 2
    # filter[uuid] is partial, filter[*] also finds an identifier
    only = get(world, "alice", f"/api/client?filter[uuid]={world.servers['game']}").json_body
    assert [s["attributes"]["uuid"] for s in only["data"]] == [world.servers["game"]]
    ident = world.servers["files"][:8]
    star = get(world, "alice", f"/api/client?filter[*]={ident}").json_body
    assert world.servers["files"] in [s["attributes"]["uuid"] for s in star["data"]]
    # type=owner keeps alice's tenant; a viewer owns nothing; admin views are empty for non-admins
    assert get(world, "alice", "/api/client?type=owner").json_body["meta"]["pagination"]["total"] == 5
    assert get(world, "vic", "/api/client?type=owner").json_body["data"] == []
    assert get(world, "vic", "/api/client?type=admin-all").json_body["data"] == []
    assert get(world, "vic", "/api/client").json_body["meta"]["pagination"]["total"] == 5


def test_an_unknown_include_is_a_400_in_pterodactyls_shape(world):
    answer = get(world, "alice", "/api/client?include=databases")

    assert answer.status_code == 400
    assert answer.json_body["errors"][0]["status"] == "400"


def test_details_by_identifier_and_uuid_carry_the_owners_permissions(world):
    # The list handed out the identifiers, so the 8-character one resolves
    get(world, "alice", "/api/client")
    by_identifier = get(world, "alice", f"/api/client/servers/{world.servers['game'][:8]}")
    by_uuid = get(world, "alice", server_path(world, "game"))

    assert by_identifier.status_code == 200, by_identifier.body[:400]
    assert_shape("client_server", by_identifier.json_body)
    assert by_identifier.json_body == by_uuid.json_body
    assert by_uuid.json_body["meta"] == {"is_server_owner": True, "user_permissions": ["*"]}
    variables = by_uuid.json_body["attributes"]["relationships"]["variables"]
    assert variables["object"] == "list"


def test_a_viewer_gets_the_mapped_permission_keys_and_no_console(world):
    body = get(world, "vic", server_path(world, "game")).json_body

    assert body["meta"]["is_server_owner"] is False
    keys = body["meta"]["user_permissions"]
    assert "file.read" in keys and "backup.read" in keys
    assert "control.console" not in keys and "control.start" not in keys
    assert body["attributes"]["server_owner"] is False


def test_another_tenants_server_is_pterodactyls_404(world):
    answer = get(world, "alice", server_path(world, "theirs"))

    assert answer.status_code == 404
    assert_shape("error_not_found", answer.json_body)
    assert answer.json_body["errors"][0]["detail"] == "The requested resource could not be found on the server."
    assert answer.json_body["errors"][0]["code"] == "NotFoundHttpException"


def test_resources_report_wings_state_in_pterodactyls_stats_shape(world):
    answer = get(world, "alice", server_path(world, "files", "/resources"))

    assert answer.status_code == 200, answer.body[:300]
    assert_shape("client_stats", answer.json_body)
    assert answer.json_body["attributes"]["current_state"] == "offline"
    assert answer.json_body["attributes"]["is_suspended"] is False


def test_websocket_mints_a_console_token_for_the_node(world):
    answer = get(world, "alice", server_path(world, "game", "/websocket"))

    assert answer.status_code == 200, answer.body[:300]
    assert_shape("client_websocket", answer.json_body)
    data = answer.json_body["data"]
    assert data["socket"].endswith(f"/api/servers/{world.servers['game']}/ws")
    claims = jwt.decode(data["token"], options={"verify_signature": False})
    assert claims["server_uuid"] == world.servers["game"]


def test_a_viewer_may_not_open_the_console(world):
    answer = get(world, "vic", server_path(world, "game", "/websocket"))

    assert answer.status_code == 403
    assert_shape("error_forbidden", answer.json_body)
    assert answer.json_body["errors"][0]["code"] == "AccessDeniedHttpException"


def test_power_and_command_drive_the_server_on_its_node(world):
    # When the owner starts the server through the client API
    started = post(world, "alice", server_path(world, "game", "/power"), {"signal": "start"})
    # Then the answer is Pterodactyl's 204 and the node runs it
    assert started.status_code == 204, started.body[:300]
    wait_until(lambda: world.sim.state(world.servers["game"]) == "running", what="running")
    running = get(world, "alice", server_path(world, "game", "/resources")).json_body
    assert running["attributes"]["current_state"] == "running"
    # When a command is sent, it comes back in the console
    sent = post(world, "alice", server_path(world, "game", "/command"), {"command": "say hi from ptero"})
    assert sent.status_code == 204, sent.body[:300]
    wait_until(
        lambda: any(
            "say hi from ptero" in line for line in world.get("alice", "game", "/logs?size=100").json_body["lines"]
        ),
        what="the echoed command",
    )
    # And kill stops it
    assert post(world, "alice", server_path(world, "game", "/power"), {"signal": "kill"}).status_code == 204
    wait_until(lambda: world.sim.state(world.servers["game"]) == "offline", what="offline")


def test_an_unknown_signal_and_an_empty_command_are_422_naming_the_field(world):
    bad_signal = post(world, "alice", server_path(world, "game", "/power"), {"signal": "explode"})
    empty = post(world, "alice", server_path(world, "game", "/command"), {"command": ""})

    assert bad_signal.status_code == 422
    assert bad_signal.json_body["errors"][0]["meta"]["source_field"] == "signal"
    assert empty.status_code == 422
    assert empty.json_body["errors"][0]["meta"]["source_field"] == "command"


def test_a_viewer_may_not_power_the_server(world):
    answer = post(world, "vic", server_path(world, "game", "/power"), {"signal": "start"})

    assert answer.status_code == 403


def test_a_key_limited_to_one_server_opens_only_that_server(world):
    # Given alice's ptlc_ key limited to the game server
    created = world.client.http.post(
        "/v1/me/api-keys",
        headers=world.headers("alice"),
        body=json.dumps(
            {"name": "one", "scopes": ["servers.read"], "server_ids": [world.servers["game"]], "format": "pterodactyl"}
        ),
    )
    assert created.status_code == 201, created.body[:300]
    key = {"Authorization": f"Bearer {created.json_body['key']}"}
    # Then it opens that server only, and the list shows that server only (a bot's key lists its servers)
    assert world.client.http.get(server_path(world, "files"), headers=key).status_code == 403
    listed = world.client.http.get("/api/client", headers=key)
    assert listed.status_code == 200, listed.body[:300]
    assert [s["attributes"]["uuid"] for s in listed.json_body["data"]] == [world.servers["game"]]
    # While on /v1 a route spanning servers still refuses it
    assert world.client.http.get(f"/v1/tenants/{TENANT_A}/servers", headers=key).status_code == 403
    # And its permission keys are what its scopes allow (no "*" for a scoped key of the owner)
    details = world.client.http.get(server_path(world, "game"), headers=key).json_body
    assert details["meta"]["user_permissions"] == sorted(["allocation.read", "startup.read", "activity.read"])


def test_a_command_to_a_stopped_server_is_pterodactyls_502(world):
    world.sim.wait_state(world.servers["files"], "offline")

    answer = post(world, "alice", server_path(world, "files", "/command"), {"command": "say nobody hears"})

    assert answer.status_code == 502, answer.body[:300]
    assert answer.json_body["errors"][0]["status"] == "502"
    assert answer.json_body["errors"][0]["detail"] == "Server must be online in order to send commands."


def test_include_egg_adds_the_blueprint(world):
    answer = get(world, "alice", server_path(world, "game") + "?include=egg,subusers")

    assert answer.status_code == 200, answer.body[:300]
    relationships = answer.json_body["attributes"]["relationships"]
    assert relationships["egg"] == {"object": "egg", "attributes": {"uuid": "bp_game", "name": "Test game"}}
    assert relationships["subusers"] == {"object": "null_resource", "attributes": None}


def test_a_tenant_requiring_2fa_is_left_out_of_the_list_of_a_user_without_it(world):
    # Given bob also owns a tenant that requires 2FA, with a server, and bob has no second factor
    import uuid as uuid_mod

    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.tenancy import Membership, Tenant
    from tests.api.server_world import T0, add_server

    DynamoTenantRepository().add_with_owner(
        Tenant(id="tn_strict", name="strict", created_at=T0, require_2fa=True),
        Membership(tenant_id="tn_strict", user_id="usr_bob", role="owner", created_at=T0),
    )
    # (the flag as an owner with 2FA would have set it: bob has none, so the route would refuse him)
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import TenantItem

    TenantItem(*keys.tenant("tn_strict")).update(actions=[TenantItem.require_2fa.set(True)])
    strict = str(uuid_mod.uuid4())
    add_server(strict, "tn_strict")
    # When bob lists his servers, that tenant's server is not there (its routes refuse him)
    listed = get(world, "bob", "/api/client").json_body
    assert [s["attributes"]["uuid"] for s in listed["data"]] == [world.servers["theirs"]]
    assert get(world, "bob", f"/api/client/servers/{strict}").status_code == 403


def test_the_reads_stay_within_their_budget(world, monkeypatch):
    # Given the ids are handed out (the first list claims them)
    from tests.support import DynamoCounter

    get(world, "alice", "/api/client")
    # When the list of alice's 5 servers and one server's details are read
    counter = DynamoCounter(monkeypatch)
    assert get(world, "alice", "/api/client").status_code == 200
    listed = list(counter.actions)
    counter.actions.clear()
    assert get(world, "alice", f"/api/client/servers/{world.servers['game'][:8]}").status_code == 200
    # Then each costs a bounded number of calls: the guard, one Query per tenant, one batch for the
    # page's ids, and per server shown only its ports' records (docs/pterodactyl-api.md)
    assert len(listed) <= 16, listed
    assert len(counter.actions) <= 6, counter.actions
    assert "Scan" not in listed + counter.actions


def test_the_doors_changes_and_refusals_are_audited_where_v1_puts_them(world):
    # When alice sends a command through the door, and bob (no member of tenant A) probes her server
    post(world, "alice", server_path(world, "game", "/command"), {"command": "say audited"})
    assert post(world, "bob", server_path(world, "game", "/command"), {"command": "x"}).status_code == 404
    # Then tenant A's own audit log holds alice's command, naming the server, and nothing of bob's
    log = world.client.http.get(f"/v1/tenants/{TENANT_A}/audit?action=send_command", headers=world.headers("alice"))
    entries = log.json_body["items"]
    assert any(e["actor"]["user_id"] == "usr_alice" and world.servers["game"] in e["target"] for e in entries), entries
    assert not [e for e in entries if e["actor"]["user_id"] == "usr_bob"]
    # And bob's refusal went to the platform's security log, naming the tenant for the admins
    security = world.client.http.get(
        "/v1/admin/audit?log=security&actor=usr_bob&action=send_command", headers=world.headers("root")
    ).json_body["items"]
    assert security and security[0]["details"]["tenant_id"] == TENANT_A
