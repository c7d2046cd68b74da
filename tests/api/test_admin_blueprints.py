"""/v1/admin/blueprints through the real app, guard and repository on moto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamba.schemas.blueprints import BlueprintList, BlueprintOut
from tests.api.admin_support import callers

EGGS = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "eggs").glob("*.json"))
SIMPLE = {
    "name": "Echo",
    "docker_images": {"Python 3.12": "python:3.12-slim"},
    "startup": "python3 server.py",
    "startup_done": ["ready"],
    "variables": [{"name": "Greeting", "env_variable": "GREETING", "default_value": "hi", "rules": "required|max:5"}],
}


@pytest.fixture
def who(client):
    return callers()


def post(client, path, body, headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.http.post(path, body=data, headers={**headers, "Content-Type": "application/json"})


def test_all_twenty_fixture_eggs_import_when_posted(client, who):
    # When every fixture egg is imported
    for path in EGGS:
        response = post(client, "/v1/admin/blueprints/import", path.read_text(), who["admin"])
        assert response.status_code == 201, (path.name, response.json_body)
        BlueprintOut.model_validate(response.json_body)

    # Then all twenty are listed
    listed = client.http.get("/v1/admin/blueprints?limit=100", headers=who["admin"])
    page = BlueprintList.model_validate(listed.json_body)
    assert len(page.items) == 20
    assert {b.name for b in page.items} >= {"Rust", "Paper", "Valheim", "Teamspeak3 Server"}


def test_malformed_egg_is_400_naming_the_field_when_imported(client, who):
    egg = json.loads(EGGS[0].read_text())
    egg["variables"][0]["rules"] = "required|sometimes_weird_rule"

    response = post(client, "/v1/admin/blueprints/import", egg, who["admin"])

    assert response.status_code == 400
    error = response.json_body["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["fields"][0]["field"] == "variables[0].rules"
    assert "sometimes_weird_rule" in error["message"]


def test_egg_that_is_not_an_object_is_400_when_imported(client, who):
    assert post(client, "/v1/admin/blueprints/import", "[1, 2]", who["admin"]).status_code == 400
    no_meta = post(client, "/v1/admin/blueprints/import", {"name": "x"}, who["admin"])
    assert no_meta.status_code == 400
    assert no_meta.json_body["error"]["details"]["fields"][0]["field"] == "meta"


def test_export_is_a_ptdl_v2_egg_that_imports_again_when_fetched(client, who):
    # Given an imported v1 egg
    source = next(p for p in EGGS if p.name == "bungeecord.json")
    created = post(client, "/v1/admin/blueprints/import", source.read_text(), who["admin"]).json_body

    # When it is exported and imported again
    exported = client.http.get(f"/v1/admin/blueprints/{created['id']}/export", headers=who["admin"])
    again = post(client, "/v1/admin/blueprints/import", json.dumps(exported.json_body), who["admin"])

    # Then the export is PTDL_v2 and the copy equals the original but for its identity
    assert exported.status_code == 200
    assert exported.json_body["meta"]["version"] == "PTDL_v2"
    assert isinstance(exported.json_body["config"]["files"], str)
    ignore = {"id", "created_at", "updated_at"}
    assert {k: v for k, v in again.json_body.items() if k not in ignore} == {
        k: v for k, v in created.items() if k not in ignore
    }


def test_crud_creates_changes_and_deletes_a_blueprint_when_admin(client, who):
    created = post(client, "/v1/admin/blueprints", SIMPLE, who["admin"])
    assert created.status_code == 201, created.json_body
    bid = created.json_body["id"]

    changed = client.http.patch(
        f"/v1/admin/blueprints/{bid}",
        body=json.dumps({"stop_type": "signal", "stop_value": "SIGTERM"}),
        headers={**who["admin"], "Content-Type": "application/json"},
    )
    assert changed.status_code == 200, changed.json_body
    assert changed.json_body["stop_type"] == "signal"
    assert changed.json_body["name"] == "Echo"
    assert client.http.get(f"/v1/admin/blueprints/{bid}", headers=who["admin"]).json_body["stop_value"] == "SIGTERM"

    assert client.http.delete(f"/v1/admin/blueprints/{bid}", headers=who["admin"]).status_code == 204
    assert client.http.get(f"/v1/admin/blueprints/{bid}", headers=who["admin"]).status_code == 404
    assert client.http.delete(f"/v1/admin/blueprints/{bid}", headers=who["admin"]).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stop_type": "signal", "stop_value": "SIGHUP"}, "stop.value"),
        ({"variables": [{"name": "X", "env_variable": "X", "rules": "required|nope"}]}, "variables[0].rules"),
        ({"docker_images": {}}, "docker_images"),
    ],
)
def test_create_is_400_naming_the_field_when_invalid(client, who, change, field):
    response = post(client, "/v1/admin/blueprints", {**SIMPLE, **change}, who["admin"])

    assert response.status_code == 400
    assert field in json.dumps(response.json_body["error"]["details"])


def test_patch_is_400_when_it_breaks_the_blueprint(client, who):
    bid = post(client, "/v1/admin/blueprints", SIMPLE, who["admin"]).json_body["id"]

    response = client.http.patch(
        f"/v1/admin/blueprints/{bid}",
        body=json.dumps({"stop_type": "signal", "stop_value": "HUP"}),
        headers={**who["admin"], "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert client.http.get(f"/v1/admin/blueprints/{bid}", headers=who["admin"]).json_body["stop_type"] == "command"


def test_unknown_blueprint_is_404_when_read_changed_or_exported(client, who):
    headers = {**who["admin"], "Content-Type": "application/json"}
    assert client.http.get("/v1/admin/blueprints/bp_nope", headers=who["admin"]).status_code == 404
    assert client.http.patch("/v1/admin/blueprints/bp_nope", body="{}", headers=headers).status_code == 404
    assert client.http.get("/v1/admin/blueprints/bp_nope/export", headers=who["admin"]).status_code == 404


def test_blueprint_routes_are_forbidden_when_the_caller_is_not_an_admin(client, who):
    assert client.http.get("/v1/admin/blueprints", headers=who["user"]).status_code == 403
    assert post(client, "/v1/admin/blueprints/import", EGGS[0].read_text(), who["user"]).status_code == 403
    assert client.http.get("/v1/admin/blueprints").status_code == 401


def test_list_pages_with_a_cursor_when_more_than_the_limit(client, who):
    for i in range(3):
        post(client, "/v1/admin/blueprints", {**SIMPLE, "name": f"b{i}"}, who["admin"])

    first = client.http.get("/v1/admin/blueprints?limit=2", headers=who["admin"]).json_body
    second = client.http.get(f"/v1/admin/blueprints?limit=2&cursor={first['next_cursor']}", headers=who["admin"])

    assert [b["name"] for b in first["items"] + second.json_body["items"]] == ["b0", "b1", "b2"]


def test_the_variable_value_cap_is_set_by_the_admin_api_and_the_egg_import(client, who):
    # The API takes the cap (default 1 KiB), up to 64 KiB and no more
    default = post(client, "/v1/admin/blueprints", SIMPLE, who["admin"])
    raised = post(client, "/v1/admin/blueprints", {**SIMPLE, "variable_max_length": 65536}, who["admin"])
    too_high = post(client, "/v1/admin/blueprints", {**SIMPLE, "variable_max_length": 65537}, who["admin"])
    assert default.json_body["variable_max_length"] == 1024
    assert raised.status_code == 201 and raised.json_body["variable_max_length"] == 65536
    assert too_high.status_code == 400 and too_high.json_body["error"]["code"] == "VALIDATION_ERROR"
    assert "variable_max_length" in json.dumps(too_high.json_body["error"]["details"])
    # An egg carries it through export and import
    bid = raised.json_body["id"]
    egg = client.http.get(f"/v1/admin/blueprints/{bid}/export", headers=who["admin"]).json_body
    assert egg["variable_max_length"] == 65536
    again = post(client, "/v1/admin/blueprints/import", egg, who["admin"])
    assert again.status_code == 201 and again.json_body["variable_max_length"] == 65536
    bad = post(client, "/v1/admin/blueprints/import", {**egg, "variable_max_length": 10**6}, who["admin"])
    assert bad.status_code == 400 and "variable_max_length" in json.dumps(bad.json_body["error"]["details"])


def test_a_blueprint_says_nothing_about_the_simulator_when_created_imported_or_changed(client, who):
    # Given a created blueprint and an egg imported with the retired ?local_safe=true
    created = post(client, "/v1/admin/blueprints", SIMPLE, who["admin"])
    imported = post(client, "/v1/admin/blueprints/import?local_safe=true", EGGS[0].read_text(), who["admin"])
    assert created.status_code == 201 and imported.status_code == 201, imported.json_body

    # When the flag is sent in a body
    flagged = post(client, "/v1/admin/blueprints", {**SIMPLE, "local_safe": True}, who["admin"])
    patched = client.http.patch(
        f"/v1/admin/blueprints/{created.json_body['id']}",
        body=json.dumps({"local_safe": True}),
        headers={**who["admin"], "Content-Type": "application/json"},
    )

    # Then no reply carries it, and a body naming it is refused as an unknown field
    for reply in (created, imported):
        assert "local_safe" not in reply.json_body
        fetched = client.http.get(f"/v1/admin/blueprints/{reply.json_body['id']}", headers=who["admin"])
        assert "local_safe" not in fetched.json_body
    assert (flagged.status_code, flagged.json_body["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert (patched.status_code, patched.json_body["error"]["code"]) == (400, "VALIDATION_ERROR")


def _reserve_server_on(blueprint_id: str) -> None:
    """A server of a tenant on the blueprint, reserved as server creation does (it counts in the usage)."""
    from mamba import bootstrap
    from mamba.domain.servers import Limits, Server
    from tests.server_world import add_node

    node, _ = add_node("usage", ports=[25565])
    placement = bootstrap.placement_store()
    placement.reserve(
        Server(
            uuid="00000000-0000-4000-8000-0000000000aa",
            name="uses it",
            tenant_id="tn_a",
            node_id=node.id,
            blueprint_id=blueprint_id,
            allocation=("10.0.0.1", 25565),
            docker_image="img",
            startup="run",
            limits=Limits(memory_mb=256, disk_mb=512),
            status="offline",
            created_at="2026-12-01T10:00:00Z",
            updated_at="2026-12-01T10:00:00Z",
        ),
        placement.guard("tn_a"),
    )


def test_delete_is_409_blueprint_in_use_naming_the_count_while_a_server_uses_it(client, who, monkeypatch):
    from tests.support import DynamoCounter

    # Given a blueprint a server uses
    bid = post(client, "/v1/admin/blueprints", SIMPLE, who["admin"]).json_body["id"]
    _reserve_server_on(bid)

    # When it is read, listed and deleted
    counter = DynamoCounter(monkeypatch)
    fetched = client.http.get(f"/v1/admin/blueprints/{bid}", headers=who["admin"])
    read = counter.actions[1:]  # after the guard's BatchGetItem of the caller
    listed = client.http.get("/v1/admin/blueprints", headers=who["admin"])
    refused = client.http.delete(f"/v1/admin/blueprints/{bid}", headers=who["admin"])

    # Then the usage shows, the delete is refused with the count, and it stays; no Scan ran
    assert fetched.json_body["servers"] == 1
    assert [b["servers"] for b in listed.json_body["items"]] == [1]
    assert refused.status_code == 409
    assert refused.json_body["error"]["code"] == "BLUEPRINT_IN_USE"
    assert refused.json_body["error"]["details"] == {"blueprint_id": bid, "servers": 1}
    assert client.http.get(f"/v1/admin/blueprints/{bid}", headers=who["admin"]).status_code == 200
    # the blueprint came with the guard's BatchGetItem (a read's path, read ahead); then its usage
    assert read == ["BatchGetItem"]
    assert "Scan" not in counter.actions


def test_preview_shows_the_eggs_variables_and_stores_nothing(client, who):
    # When an egg is previewed
    egg = json.loads(next(p for p in EGGS if p.name == "minecraft-paper.json").read_text())
    preview = post(client, "/v1/admin/blueprints/import/preview", egg, who["admin"])

    # Then the reply is what the import would store (its variables and rules), and nothing is stored
    assert preview.status_code == 200, preview.json_body
    assert preview.json_body["name"] == egg["name"]
    assert [v["env_variable"] for v in preview.json_body["variables"]] == [v["env_variable"] for v in egg["variables"]]
    assert all("rules" in v for v in preview.json_body["variables"])
    assert "id" not in preview.json_body
    assert client.http.get("/v1/admin/blueprints", headers=who["admin"]).json_body["items"] == []


def test_preview_is_400_naming_the_field_like_the_import(client, who):
    egg = json.loads(EGGS[0].read_text())
    egg["variables"][0]["rules"] = "required|nope"

    response = post(client, "/v1/admin/blueprints/import/preview", egg, who["admin"])

    assert response.status_code == 400
    assert response.json_body["error"]["details"]["fields"][0]["field"] == "variables[0].rules"


def test_preview_needs_an_admin(client, who):
    egg = EGGS[0].read_text()
    assert post(client, "/v1/admin/blueprints/import/preview", egg, {}).status_code == 401
    assert post(client, "/v1/admin/blueprints/import/preview", egg, who["user"]).status_code == 403
    assert post(client, "/v1/admin/blueprints/import/preview", egg, who["admin"]).status_code == 200
