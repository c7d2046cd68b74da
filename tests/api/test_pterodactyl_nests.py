"""/api/application/nests on moto through the product app: blueprint categories as nests and
blueprints as eggs, read from the same registry as /v1/admin/blueprints (docs/pterodactyl-api.md,
"Nests and eggs"); every answer checked against Pterodactyl's own shape."""

from __future__ import annotations

import json

import pytest

from tests.api.pterodactyl_app_world import Api, application_key
from tests.api.security_world import build_world
from tests.contract.pterodactyl_shapes import assert_shape


def _blueprint(client, world, name: str, category: str = "", **over) -> dict:
    body = {
        "name": name,
        "author": "ops@example.org",
        "description": f"{name} server",
        "category": category,
        "docker_images": {
            "Java 21": "ghcr.io/pterodactyl/yolks:java_21",
            "Java 17": "ghcr.io/pterodactyl/yolks:java_17",
        },
        "startup": "java -jar {{SERVER_JARFILE}}",
        "stop_value": "stop",
        "startup_done": [")! For help, type "],
        "config_files": [
            {
                "file": "server.properties",
                "parser": "properties",
                "replace": [{"match": "server-port", "replace_with": "{{server.build.default.port}}"}],
            }
        ],
        "install_script": "#!/bin/ash\ncd /mnt/server\n",
        "file_denylist": ["*.jar"],
        "variables": [
            {
                "name": "Server Jar File",
                "env_variable": "SERVER_JARFILE",
                "default_value": "server.jar",
                "rules": "required|string|max:40",
            },
            {"name": "Version", "env_variable": "VERSION", "default_value": "latest", "user_editable": False},
        ],
        **over,
    }
    made = client.http.post("/v1/admin/blueprints", headers=world.headers("root"), body=json.dumps(body))
    assert made.status_code == 201, made.json_body
    return made.json_body


@pytest.fixture
def api(client) -> Api:
    world = build_world()
    api = Api(client, application_key(client, world, default="read"))
    api.world = world  # type: ignore[attr-defined]
    _blueprint(client, world, "Paper", "Minecraft")
    _blueprint(client, world, "Vanilla", "Minecraft")
    _blueprint(client, world, "Runner")  # no category: the default nest
    return api


def _nests(api: Api) -> dict[str, dict]:
    return {n["attributes"]["name"]: n["attributes"] for n in api.get("/nests").json_body["data"]}


def test_each_blueprint_category_is_a_nest(api):
    listed = api.get("/nests")

    assert listed.status_code == 200
    assert listed.json_body["meta"]["pagination"]["total"] == 2
    for nest in listed.json_body["data"]:
        assert_shape("application_nest", nest)
    nests = _nests(api)
    assert set(nests) == {"Minecraft", "General"}
    assert nests["Minecraft"]["author"] == "ops@example.org"
    one = api.get(f"/nests/{nests['Minecraft']['id']}")
    assert one.status_code == 200 and one.json_body["attributes"] == nests["Minecraft"]


def test_a_nests_eggs_are_its_blueprints_not_paged(api):
    minecraft = _nests(api)["Minecraft"]

    eggs = api.get(f"/nests/{minecraft['id']}/eggs")

    assert eggs.status_code == 200 and "meta" not in eggs.json_body
    assert sorted(e["attributes"]["name"] for e in eggs.json_body["data"]) == ["Paper", "Vanilla"]
    for egg in eggs.json_body["data"]:
        assert_shape("application_egg", egg)
        assert egg["attributes"]["nest"] == minecraft["id"]


def test_an_egg_carries_the_blueprints_images_config_script_and_variables(api):
    minecraft = _nests(api)["Minecraft"]
    paper = next(
        e for e in api.get(f"/nests/{minecraft['id']}/eggs").json_body["data"] if e["attributes"]["name"] == "Paper"
    )

    egg = api.get(f"/nests/{minecraft['id']}/eggs/{paper['attributes']['id']}?include=variables,nest")

    assert egg.status_code == 200
    body = egg.json_body
    relationships = body["attributes"].pop("relationships")
    assert_shape("application_egg", body)
    attrs = body["attributes"]
    assert attrs["docker_image"] == "ghcr.io/pterodactyl/yolks:java_21"
    assert attrs["config"]["files"]["server.properties"]["find"] == {"server-port": "{{server.build.default.port}}"}
    assert attrs["config"]["startup"] == {"done": [")! For help, type "]} and attrs["config"]["stop"] == "stop"
    assert attrs["script"]["install"].startswith("#!/bin/ash")
    variables = relationships["variables"]["data"]
    for variable in variables:
        assert_shape("application_egg_variable", variable)
    assert [(v["attributes"]["env_variable"], v["attributes"]["user_editable"]) for v in variables] == [
        ("SERVER_JARFILE", True), ("VERSION", False)
    ]  # fmt: skip
    assert variables[0]["attributes"]["egg_id"] == attrs["id"]
    assert variables[0]["attributes"]["created_at"].endswith(".000000Z")
    assert_shape("application_nest", relationships["nest"])


def test_an_egg_of_another_nest_or_an_unknown_one_is_a_404(api):
    nests = _nests(api)
    runner = api.get(f"/nests/{nests['General']['id']}/eggs").json_body["data"][0]["attributes"]["id"]

    assert api.get(f"/nests/{nests['Minecraft']['id']}/eggs/{runner}").status_code == 404
    assert api.get(f"/nests/{nests['Minecraft']['id']}/eggs/999").status_code == 404
    missing = api.get("/nests/999")
    assert missing.status_code == 404
    assert_shape("error_not_found", missing.json_body)


def test_nests_need_the_nests_right_and_eggs_the_eggs_right(client, api):
    no_eggs = Api(client, application_key(client, api.world, default="read", eggs="none"))
    nest = _nests(api)["Minecraft"]["id"]

    assert no_eggs.get("/nests").status_code == 200
    refused = no_eggs.get(f"/nests/{nest}/eggs")
    assert refused.status_code == 403
    assert_shape("error_forbidden", refused.json_body)


def test_an_eggs_nest_include_needs_the_nests_right(client, api):
    eggs_only = Api(client, application_key(client, api.world, default="none", nests="read", eggs="read"))
    no_nests = Api(client, application_key(client, api.world, default="none", eggs="read"))
    nest = _nests(api)["Minecraft"]["id"]
    egg = api.get(f"/nests/{nest}/eggs").json_body["data"][0]["attributes"]["id"]

    granted = eggs_only.get(f"/nests/{nest}/eggs/{egg}?include=nest,variables").json_body["attributes"]["relationships"]
    assert granted["nest"]["attributes"]["id"] == nest and granted["variables"]["data"]
    assert no_nests.get(f"/nests/{nest}/eggs/{egg}").status_code == 200  # eggs are read with the eggs right
    refused = no_nests.get(f"/nests/{nest}/eggs/{egg}?include=nest").json_body["attributes"]["relationships"]
    assert refused == {"nest": {"object": "null_resource", "attributes": None}}
