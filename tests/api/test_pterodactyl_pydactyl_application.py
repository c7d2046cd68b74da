"""py-dactyl 2.1.3, the real client, on the application API's users, locations, nodes,
allocations, nests and eggs, in process: its requests go to the product app through
``chalice.test.Client`` instead of a socket (the running stack's test is tests/e2e/test_pydactyl.py)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from pydactyl import PterodactylClient

from tests.api.pterodactyl_app_world import application_key
from tests.api.security_world import build_world

PANEL = "http://panel.test"


class ChaliceAdapter(requests.adapters.BaseAdapter):
    """A requests transport that hands each request to ``chalice.test.Client``."""

    def __init__(self, client: Any) -> None:
        super().__init__()
        self.client = client

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = urlsplit(request.url or "")
        path = url.path + (f"?{url.query}" if url.query else "")
        body = request.body or b""
        answer = self.client.http.request(
            request.method or "GET",
            path,
            headers=dict(request.headers),
            body=body if isinstance(body, bytes) else body.encode(),
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.body
        response.headers.update(answer.headers)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to close."""


@pytest.fixture
def dactyl(client) -> PterodactylClient:
    world = build_world()
    api = PterodactylClient(PANEL, application_key(client, world))
    api._session.mount("http://", ChaliceAdapter(client))
    blueprint = {
        "name": "Paper",
        "category": "Minecraft",
        "docker_images": {"Java 21": "ghcr.io/pterodactyl/yolks:java_21"},
        "startup": "java -jar {{SERVER_JARFILE}}",
        "variables": [{"name": "Jar", "env_variable": "SERVER_JARFILE", "default_value": "server.jar"}],
    }
    made = client.http.post("/v1/admin/blueprints", headers=world.headers("root"), body=json.dumps(blueprint))
    assert made.status_code == 201
    return api


def test_py_dactyl_manages_users(dactyl):
    created = dactyl.user.create_user("gamer1", "gamer@example.org", "Ada", "Lovelace", external_id="whmcs-7")

    assert created["attributes"]["username"] == "gamer1"
    found = dactyl.user.get_user_info(external_id="whmcs-7")
    assert found["attributes"]["email"] == "gamer@example.org"
    listed = dactyl.user.list_users(email="gamer@")
    assert [u["attributes"]["id"] for u in listed.data] == [created["attributes"]["id"]]
    edited = dactyl.user.edit_user(
        created["attributes"]["id"], "gamer2", "gamer@example.org", "Ada", "King", external_id="whmcs-7"
    )
    assert (edited["attributes"]["username"], edited["attributes"]["last_name"]) == ("gamer2", "King")
    dactyl.user.delete_user(external_id="whmcs-7")
    with pytest.raises(requests.HTTPError):
        dactyl.user.get_user_info(user_id=created["attributes"]["id"])


def test_py_dactyl_manages_locations_nodes_and_allocations(dactyl):
    location = dactyl.locations.create_location("fra", "Frankfurt")["attributes"]
    node = dactyl.nodes.create_node("FRA-1", "unused", location["id"], "node1.example.com", 4096, 50000)["attributes"]

    assert (node["location_id"], node["daemon_listen"], node["scheme"]) == (location["id"], 8080, "https")
    assert dactyl.nodes.get_node_config(node["id"])["token_id"]
    assert [n["attributes"]["name"] for n in dactyl.nodes.list_nodes().data] == ["FRA-1"]
    assert dactyl.nodes.create_allocations(node["id"], "10.0.0.5", ["25565", "25570-25571"]).status_code == 204
    allocations = dactyl.nodes.list_node_allocations(node["id"]).data
    assert [a["attributes"]["port"] for a in allocations] == [25565, 25570, 25571]
    assert dactyl.nodes.delete_allocation(node["id"], allocations[0]["attributes"]["id"]).status_code == 204
    assert (
        dactyl.locations.edit_location(location["id"], description="Frankfurt am Main")["attributes"]["long"]
        == "Frankfurt am Main"
    )
    assert [loc["attributes"]["short"] for loc in dactyl.locations.list_locations().data] == ["fra"]


def test_py_dactyl_reads_nests_and_eggs_with_variables(dactyl):
    nests = dactyl.nests.list_nests().data
    minecraft = next(n for n in nests if n["attributes"]["name"] == "Minecraft")["attributes"]["id"]

    eggs = dactyl.nests.get_eggs_in_nest(minecraft)
    egg = dactyl.nests.get_egg_info(minecraft, eggs["data"][0]["attributes"]["id"], includes=["variables"])

    assert egg["attributes"]["docker_image"] == "ghcr.io/pterodactyl/yolks:java_21"
    variables = egg["attributes"]["relationships"]["variables"]["data"]
    assert [(v["attributes"]["env_variable"], v["attributes"]["default_value"]) for v in variables] == [
        ("SERVER_JARFILE", "server.jar")
    ]
