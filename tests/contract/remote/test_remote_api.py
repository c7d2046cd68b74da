"""The panel's side of the Wings contract (wings-contract.md §5), through the real app.

Each reply is checked with the shared shape checks in tests/contract/wings/shapes.py, the same
ones the simulator's fake panel and daemon-side suite use, so both ends agree on one reading.
"""

from __future__ import annotations

import json
import math

import pytest

from tests.contract.remote.conftest import PASSWORD, World, make_server
from tests.contract.wings import shapes

pytestmark = pytest.mark.xdist_group("remote-contract")


def get(world: World, path: str, creds=None, headers=None):
    return world.http.get(path, headers=headers if headers is not None else (creds or world.a).header)


def post(world: World, path: str, body, creds=None, headers=None):
    return world.http.post(
        path, body=json.dumps(body), headers=headers if headers is not None else (creds or world.a).header
    )


# --- authentication (§5.1) ---


def test_remote_call_is_401_when_no_authorization_header_is_sent(world):
    # Given no credentials / When Wings calls / Then 401 in Wings' error shape
    response = get(world, "/api/remote/servers", headers={})

    assert response.status_code == 401
    shapes.assert_remote_error(response.json_body, 401)


@pytest.mark.parametrize("value", ["Bearer onlyonepart", "Bearer a.b.c", "Bearer .token", "Bearer tokenid."])
def test_remote_call_is_400_when_the_credential_is_not_two_dot_separated_parts(world, value):
    response = get(world, "/api/remote/servers", headers={"Authorization": value})

    assert response.status_code == 400
    shapes.assert_remote_error(response.json_body, 400)


def test_remote_call_is_403_when_the_token_is_wrong_for_a_known_token_id(world):
    # Given node A's token id with node B's token
    header = {"Authorization": f"Bearer {world.a.node.token_id}.{world.b.token}"}

    response = get(world, "/api/remote/servers", headers=header)

    assert response.status_code == 403
    shapes.assert_remote_error(response.json_body, 403)


def test_remote_call_is_403_when_the_token_id_is_unknown(world):
    response = get(world, "/api/remote/servers", headers={"Authorization": f"Bearer {'x' * 16}.{world.a.token}"})

    assert response.status_code == 403


def test_bare_daemon_token_is_refused_when_sent_to_the_panel(world):
    # Given the P→W credential (bare token) mistakenly used W→P (§8.1)
    response = get(world, "/api/remote/servers", headers={"Authorization": f"Bearer {world.a.token}"})

    # Then it is not of the form <token_id>.<token>: refused before any node is looked up
    assert response.status_code == 400
    shapes.assert_remote_error(response.json_body, 400)


# --- boot sequence and pagination (§5.3, §5.11) ---


def test_boot_sequence_loads_every_server_of_the_node_once_when_wings_pages_from_zero(world):
    # Given Wings' boot: page 0 with per_page 2, then the remaining pages, then reset
    first = get(world, "/api/remote/servers?page=0&per_page=2")
    assert first.status_code == 200
    shapes.assert_server_list_page(first.json_body, 0, 2)
    meta = first.json_body["meta"]
    uuids = [entry["uuid"] for entry in first.json_body["data"]]
    for page in range(meta["current_page"] + 1, meta["last_page"] + 1):
        more = get(world, f"/api/remote/servers?page={page}&per_page=2")
        shapes.assert_server_list_page(more.json_body, page, 2)
        uuids += [entry["uuid"] for entry in more.json_body["data"]]
    reset = post(world, "/api/remote/servers/reset", None)

    # Then every server of node A (suspended included) came exactly once, none of node B's
    expected = {s.uuid for s in [*world.servers_a, world.suspended]}
    assert sorted(uuids) == sorted(expected)
    assert meta["total"] == len(expected) and meta["last_page"] == math.ceil(len(expected) / 2)
    assert world.server_b.uuid not in uuids
    assert reset.status_code == 204


@pytest.mark.parametrize(
    ("query", "page", "per_page"),
    [
        ("", 1, 50),
        ("?page=0", 1, 50),
        ("?page=1&per_page=1", 1, 1),
        ("?page=-3&per_page=2", 1, 2),
        ("?page=abc&per_page=xyz", 1, 50),
        ("?per_page=0", 1, 50),
        ("?per_page=-5", 1, 50),
        ("?per_page=100000", 1, 500),
    ],
)
def test_page_and_per_page_are_read_like_laravel_when_odd_values_are_sent(world, query, page, per_page):
    response = get(world, f"/api/remote/servers{query}")

    assert response.status_code == 200
    meta = response.json_body["meta"]
    assert (meta["current_page"], meta["per_page"]) == (page, per_page)
    shapes.assert_server_list_page(response.json_body, page, per_page)


def test_page_past_the_end_is_empty_with_null_from_and_to_when_requested(world):
    response = get(world, "/api/remote/servers?page=9&per_page=2")

    body = response.json_body
    assert body["data"] == []
    assert body["meta"]["current_page"] == 9
    assert body["meta"]["from"] is None and body["meta"]["to"] is None
    assert body["meta"]["total"] == 4


def test_meta_numbers_are_integers_when_the_list_is_served(world):
    meta = get(world, "/api/remote/servers?page=1&per_page=3").json_body["meta"]

    assert all(isinstance(meta[k], int) and not isinstance(meta[k], bool) for k in ("current_page", "last_page"))
    assert (meta["from"], meta["to"]) == (1, 3)


# --- configuration document (§5.4) ---


def test_configuration_document_has_every_field_and_type_when_fetched(world):
    server = world.servers_a[0]

    response = get(world, f"/api/remote/servers/{server.uuid}")

    assert response.status_code == 200
    doc = response.json_body
    shapes.assert_configuration_document(doc)
    settings = doc["settings"]
    assert settings["uuid"] == server.uuid
    assert settings["environment"]["MAX_PLAYERS"] == 20 and settings["environment"]["PVP"] is True
    assert settings["environment"]["P_SERVER_UUID"] == server.uuid
    assert settings["environment"]["P_SERVER_LOCATION"] == "fra"
    assert settings["environment"]["STARTUP"] == server.startup == settings["invocation"]
    assert settings["allocations"]["default"] == {"ip": "0.0.0.0", "port": server.allocation[1]}
    assert settings["allocations"]["mappings"] == {"0.0.0.0": [server.allocation[1], server.allocation[1] + 1]}
    assert settings["build"]["threads"] == "0-1"
    assert settings["egg"] == {"id": world.blueprint.id, "file_denylist": ["*.secret"]}


def test_process_configuration_substitutes_server_placeholders_and_maps_caret_c_when_built(world):
    server = world.servers_a[0]

    process = get(world, f"/api/remote/servers/{server.uuid}").json_body["process_configuration"]

    assert process["startup"] == {"done": ["Server ready"], "user_interaction": [], "strip_ansi": False}
    assert process["stop"] == {"type": "signal", "value": "SIGINT"}
    replace = process["configs"][0]["replace"]
    assert process["configs"][0]["file"] == "server.properties"
    assert replace[0] == {"match": "server-port", "replace_with": server.allocation[1]}
    assert replace[1]["replace_with"] == "hello on 0.0.0.0"
    assert replace[2] == {"match": "enable-query", "if_value": "false", "replace_with": "true"}


def test_empty_environment_and_no_configs_still_serialise_as_object_and_array_when_absent(world):
    # Given a server with no environment, on a blueprint-less id (deleted blueprint)
    from dataclasses import replace

    from mamba import bootstrap

    server = replace(make_server(world.a.node, world.blueprint, "tn_x", port=26000), environment={})
    server = replace(server, blueprint_id="bp_deleted")
    bootstrap.server_repository().add(server)

    # When Wings fetches it
    doc = get(world, f"/api/remote/servers/{server.uuid}").json_body

    # Then environment is an object and the process configuration is complete, not null
    shapes.assert_configuration_document(doc)
    assert set(doc["settings"]["environment"]) == {"STARTUP", "P_SERVER_LOCATION", "P_SERVER_UUID"}
    assert doc["process_configuration"]["configs"] == []
    bootstrap.server_repository().delete(server.uuid)


def test_suspended_server_is_served_as_suspended_when_fetched(world):
    doc = get(world, f"/api/remote/servers/{world.suspended.uuid}").json_body

    assert doc["settings"]["suspended"] is True


@pytest.mark.parametrize(
    "path",
    [
        "/api/remote/servers/{b}",
        "/api/remote/servers/{b}/install",
        "/api/remote/servers/00000000-0000-4000-8000-000000000000",
        "/api/remote/servers/NOT-A-UUID",
    ],
)
def test_server_routes_are_404_when_the_server_is_not_on_the_calling_node(world, path):
    # Given node B's server (or none) / When node A asks / Then it does not exist for A
    response = get(world, path.format(b=world.server_b.uuid))

    assert response.status_code == 404
    shapes.assert_remote_error(response.json_body, 404)


def test_node_b_sees_its_own_server_when_it_asks(world):
    response = get(world, f"/api/remote/servers/{world.server_b.uuid}", creds=world.b)

    assert response.status_code == 200


# --- installation (§5.6) ---


def test_install_document_has_lf_script_and_only_wings_keys_when_fetched(world):
    response = get(world, f"/api/remote/servers/{world.servers_a[0].uuid}/install")

    shapes.assert_install_document(response.json_body)
    assert response.json_body["script"] == "#!/bin/bash\ncd /mnt/server\necho installed > installed.txt\n"
    assert response.json_body["entrypoint"] == "bash"
    assert set(response.json_body) == {"container_image", "entrypoint", "script"}


def _fresh_server(world: World, status: str, port: int):
    from mamba import bootstrap

    server = make_server(world.a.node, world.blueprint, "tn_install", status=status, port=port)
    bootstrap.server_repository().add(server)
    return server


@pytest.mark.parametrize(
    ("successful", "before", "after"),
    [(True, "installing", "offline"), (False, "installing", "install_failed"), (True, "suspended", "suspended")],
)
def test_install_callback_sets_the_status_when_wings_reports(world, successful, before, after):
    from mamba import bootstrap

    # Given a server being installed on node A
    server = _fresh_server(world, before, 27000 + (10 if successful else 20) + (5 if before == "suspended" else 0))
    body = {"successful": successful, "reinstall": False}
    shapes.assert_install_status_body(body)

    # When Wings reports the install
    response = post(world, f"/api/remote/servers/{server.uuid}/install", body)

    # Then 204 and the status follows
    assert response.status_code == 204
    stored = bootstrap.server_repository().get(server.uuid)
    assert stored.status == after
    assert (stored.installed_at is not None) is successful
    bootstrap.server_repository().delete(server.uuid)


def test_install_callback_is_400_when_the_body_is_malformed(world):
    response = post(world, f"/api/remote/servers/{world.servers_a[0].uuid}/install", {"successful": "yes"})

    assert response.status_code == 400
    shapes.assert_remote_error(response.json_body, 400)


def test_install_callback_is_404_when_another_node_reports_it(world):
    response = post(world, f"/api/remote/servers/{world.servers_a[0].uuid}/install", {"successful": True}, world.b)

    assert response.status_code == 404


def test_reset_marks_interrupted_installs_failed_and_running_servers_offline_when_wings_boots(world):
    from mamba import bootstrap

    # Given an installing and a running server on node B
    installing = make_server(world.b.node, world.blueprint, "tn_reset", status="installing", port=28000)
    running = make_server(world.b.node, world.blueprint, "tn_reset", status="running", port=28010)
    for s in (installing, running):
        bootstrap.server_repository().add(s)

    # When node B posts the literal JSON null to reset
    response = post(world, "/api/remote/servers/reset", None, world.b)

    # Then 204, and the statuses are what a rebooted node implies
    assert response.status_code == 204
    assert bootstrap.server_repository().get(installing.uuid).status == "install_failed"
    assert bootstrap.server_repository().get(running.uuid).status == "offline"
    assert bootstrap.server_repository().get(world.server_b.uuid).status == "offline"
    for s in (installing, running):
        bootstrap.server_repository().delete(s.uuid)


def test_transfer_callbacks_are_409_when_no_transfer_exists(world):
    response = post(world, f"/api/remote/servers/{world.servers_a[0].uuid}/transfer/success", None)

    assert response.status_code == 409
    shapes.assert_remote_error(response.json_body, 409)


# --- SFTP (§5.8) ---


def sftp(world: World, who: str, server, password: str = PASSWORD, creds=None):
    body = {
        "type": "password",
        "username": f"{world.emails[who]}.{server.uuid[:8]}",
        "password": password,
        "ip": "203.0.113.7:51234",
        "session_id": "q83vEjRWeJA=",
        "client_version": "U1NILTIuMC1PcGVuU1NIXzkuNg==",
    }
    return post(world, "/api/remote/sftp/auth", body, creds)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("owner", ["file.read", "file.read-content", "file.create", "file.update", "file.delete"]),
        ("writer", ["file.read", "file.read-content", "file.create", "file.update", "file.delete"]),
        ("viewer", ["file.read", "file.read-content"]),
    ],
)
def test_sftp_login_maps_rbac_to_wings_permissions_when_the_password_is_right(world, who, expected):
    server = world.servers_a[0]

    response = sftp(world, who, server)

    assert response.status_code == 200
    shapes.assert_sftp_auth_response(response.json_body)
    assert response.json_body == {"server": server.uuid, "user": world.users[who], "permissions": expected}


@pytest.mark.parametrize(
    ("who", "password", "target"),
    [
        ("owner", "wrong password", 0),  # bad password
        ("outsider", PASSWORD, 0),  # not a member of the server's tenant
        ("nothing", PASSWORD, 0),  # a member without files.read
        ("scoped", PASSWORD, 0),  # a subuser of another server
        ("owner", PASSWORD, "suspended"),  # suspended servers get nothing
        ("admin", PASSWORD, 0),  # a platform admin who is not a member (SFTP_ADMIN_ACCESS is off)
    ],
)
def test_sftp_login_is_403_when_credentials_or_rights_are_wrong(world, who, password, target):
    server = world.suspended if target == "suspended" else world.servers_a[target]

    response = sftp(world, who, server, password)

    assert response.status_code == 403
    shapes.assert_remote_error(response.json_body, 403)


def test_sftp_subuser_gets_their_own_server_when_scoped_to_it(world):
    response = sftp(world, "scoped", world.servers_a[1])

    assert response.status_code == 200


def test_sftp_login_is_403_when_the_server_is_on_another_node(world):
    response = sftp(world, "owner", world.server_b)  # asked by node A

    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"type": "password", "username": "nobody@example.org.zzzzzzzz", "password": "x", "ip": "1.2.3.4:1"},
        {"type": "password", "username": "no-short-id", "password": "x", "ip": "1.2.3.4:1"},
        {"type": "public_key", "username": "a@b.c.12345678", "password": "ssh-ed25519 AAAA\n", "ip": "1.2.3.4:1"},
    ],
)
def test_sftp_login_is_4xx_never_5xx_when_the_request_is_odd(world, body):
    response = post(world, "/api/remote/sftp/auth", body)

    assert response.status_code == 403


def test_sftp_login_is_400_when_the_body_is_not_an_object(world):
    response = post(world, "/api/remote/sftp/auth", ["x"])

    assert response.status_code == 400
    shapes.assert_remote_error(response.json_body, 400)


# --- activity (§5.10) ---


def test_activity_is_stored_for_own_servers_and_others_skipped_when_posted(world):
    from mamba import bootstrap

    # Given a batch with a console command, an SFTP event, a foreign server and a non-server event
    mine = world.servers_a[2]
    batch = {
        "data": [
            {
                "user": world.users["owner"],
                "server": mine.uuid,
                "event": "server:console.command",
                "metadata": {"command": "say hi"},
                "ip": "203.0.113.7",
                "timestamp": "2026-11-25T14:58:30.123456789Z",
            },
            {
                "user": None,
                "server": mine.uuid,
                "event": "server:sftp.rename",
                "metadata": {"files": [{"from": "/a.txt", "to": "/b.txt"}]},
                "ip": "203.0.113.7",
                "timestamp": "2026-11-25T14:59:00Z",
            },
            {
                "user": None,
                "server": world.server_b.uuid,
                "event": "server:power.start",
                "metadata": {},
                "ip": "1.1.1.1",
                "timestamp": "2026-11-25T15:00:00Z",
            },
            {
                "user": None,
                "server": mine.uuid,
                "event": "auth:fail",
                "metadata": {},
                "ip": "1.1.1.1",
                "timestamp": "2026-11-25T15:00:00Z",
            },
        ]
    }

    # When node A posts it twice (Wings re-sends after an error)
    first = post(world, "/api/remote/activity", batch)
    second = post(world, "/api/remote/activity", batch)

    # Then both succeed and the two own-server entries are stored once each, newest first
    assert (first.status_code, second.status_code) == (204, 204)
    entries = bootstrap.server_repository().activity(mine.uuid)
    assert [e.event for e in entries] == ["server:sftp.rename", "server:console.command"]
    assert entries[1].metadata == {"command": "say hi"} and entries[1].user_id == world.users["owner"]
    assert entries[0].user_id is None and entries[0].node_id == world.a.node.id
    assert bootstrap.server_repository().activity(world.server_b.uuid) == []


def test_activity_is_400_when_the_batch_is_malformed(world):
    response = post(world, "/api/remote/activity", {"data": [{"server": 1}]})

    assert response.status_code == 400
    shapes.assert_remote_error(response.json_body, 400)


def test_remote_routes_are_documented_with_the_node_token_scheme_when_openapi_is_built(world):
    paths = world.http.get("/openapi.json").json_body["paths"]

    listing = paths["/api/remote/servers"]["get"]
    assert listing["x-permission"] == "node"
    assert listing["security"] == [{"nodeToken": []}]


def _api_key(world: World, who: str, scopes: list[str], server_ids: list[str] | None = None) -> str:
    from mamba import bootstrap
    from mamba.services.api_keys import create_key

    created = create_key(
        bootstrap.api_key_repository(),
        world.users[who],
        name=f"sftp-{len(scopes)}",
        scopes=scopes,
        is_admin=False,
        via="token",
        email_verified=True,
        server_ids=server_ids,
    )
    return str(created.plaintext)


def test_sftp_login_with_an_api_key_narrows_permissions_to_its_scopes_when_it_is_valid(world):
    # Given the owner's API key scoped to reading files only
    key = _api_key(world, "owner", ["files.sftp", "files.read"])

    # When it is used as the SFTP password
    response = sftp(world, "owner", world.servers_a[0], password=key)

    # Then the login succeeds with read permissions only
    assert response.status_code == 200
    assert response.json_body["permissions"] == ["file.read", "file.read-content"]


def test_sftp_login_with_an_api_key_is_403_when_it_belongs_to_someone_else_or_another_server(world):
    writer_key = _api_key(world, "writer", ["files.sftp", "files.read", "files.write"])
    other_server_key = _api_key(world, "owner", ["files.sftp", "files.read"], [world.servers_a[1].uuid])

    assert sftp(world, "owner", world.servers_a[0], password=writer_key).status_code == 403
    assert sftp(world, "owner", world.servers_a[0], password=other_server_key).status_code == 403
    assert sftp(world, "owner", world.servers_a[0], password="mhp_not.a.key").status_code == 403


def test_server_repository_lists_a_tenants_servers_and_refuses_duplicates_when_used(world):
    from mamba import bootstrap
    from mamba.domain.errors import ConflictError, NotFoundError

    repo = bootstrap.server_repository()
    tenant_id = world.servers_a[0].tenant_id

    listed = {s.uuid for s in repo.of_tenant(tenant_id)}

    assert {s.uuid for s in world.servers_a} <= listed and world.server_b.uuid in listed
    with pytest.raises(ConflictError):
        repo.add(world.servers_a[0])
    with pytest.raises(NotFoundError):
        repo.save(make_server(world.a.node, world.blueprint, tenant_id, port=29000))
    with pytest.raises(NotFoundError):
        repo.get("00000000-0000-4000-8000-000000000000")


def test_refused_node_credential_is_in_the_security_log_without_the_token(world):
    from mamba import bootstrap
    from mamba.services import audit

    # Given node A's token id with a wrong token
    wrong = "W" * 64
    header = {"Authorization": f"Bearer {world.a.node.token_id}.{wrong}"}

    # When Wings calls with it
    assert get(world, "/api/remote/servers/reset-probe", headers=header).status_code == 403

    # Then a denied remote.authenticate entry in the security log names the token id, never the token
    page = audit.list_platform_entries(
        bootstrap.audit_log(), audit.make_filter(action="remote.authenticate"), security=True
    )
    entries = [e for e in page.items if e.details.get("token_id") == world.a.node.token_id]
    assert entries and entries[0].result == "denied" and entries[0].status == 403
    assert wrong not in repr(entries[0])


# --- every seeded blueprint (§5.4, §5.5) ---


@pytest.mark.parametrize("seeded", ["line_server", "command_runner"])
def test_seeded_blueprint_serves_complete_configuration_and_install_documents_when_a_server_uses_it(world, seeded):
    # Given a server made from one of the blueprints the local seed installs
    from dataclasses import replace

    from local.blueprints import seed
    from mamba import bootstrap
    from mamba.domain.clock import iso, utcnow

    blueprint = getattr(seed, seeded)(iso(utcnow()))
    blueprint = replace(blueprint, id=f"{blueprint.id}_{seeded}_contract")
    bootstrap.blueprint_repository().add(blueprint)
    server = replace(
        make_server(world.a.node, blueprint, "tn_seeded", port=26000 + len(seeded)),
        docker_image=blueprint.default_image,
        startup=blueprint.startup,
        environment={v.env_variable: v.default_value for v in blueprint.variables},
    )
    bootstrap.server_repository().add(server)

    # When Wings fetches its configuration and install documents
    config = get(world, f"/api/remote/servers/{server.uuid}")
    install = get(world, f"/api/remote/servers/{server.uuid}/install")

    # Then both are complete, typed as the contract says, and runnable by the simulator
    assert config.status_code == 200, config.json_body
    shapes.assert_configuration_document(config.json_body)
    settings = config.json_body["settings"]
    assert settings["egg"]["id"] == blueprint.id
    assert settings["invocation"] == blueprint.startup
    assert {v.env_variable for v in blueprint.variables} <= set(settings["environment"])
    assert config.json_body["process_configuration"]["startup"]["done"]
    assert install.status_code == 200, install.json_body
    shapes.assert_install_document(install.json_body)
    assert "\r" not in install.json_body["script"]
