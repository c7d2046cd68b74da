"""Every /api/application/servers route's real answer (the product app on moto) has the shape of
Pterodactyl v1.11's own (tests/fixtures/pterodactyl), errors included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.pterodactyl_server_world import (
    BASE,
    World,
    add_server,
    allocation_number,
    create_body,
    number,
    server_world,
)
from tests.contract.pterodactyl_shapes import assert_shape

RELATIONSHIP_SHAPES = {"allocations": "application_allocation", "variables": "application_server_variable"}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with server_world() as built:
        yield built


def _server(world: World, port: int) -> tuple[Any, int]:
    server = add_server("tn_pt-usr_alice", port)
    return server, number("server", server.uuid, server.tenant_id)


def test_create_is_a_server(world):
    answer = world.call("POST", BASE, create_body("usr_alice", 25565, external_id="contract-1"))

    assert answer.status_code == 201, answer.json_body
    assert_shape("application_server", answer.json_body)


def test_get_get_by_external_id_and_the_list_are_servers(world):
    _server_record, server_id = _server(world, 25566)
    bootstrap_external(server_id, "contract-get")

    for path in (f"{BASE}/{server_id}", f"{BASE}/external/contract-get"):
        answer = world.call("GET", path, key="ro")
        assert answer.status_code == 200, (path, answer.json_body)
        assert_shape("application_server", answer.json_body)
    listed = world.call("GET", f"{BASE}?per_page=1", key="ro").json_body
    assert set(listed) == {"object", "data", "meta"} and listed["object"] == "list"
    assert set(listed["meta"]["pagination"]) == {"total", "count", "per_page", "current_page", "total_pages", "links"}
    for item in listed["data"]:
        assert_shape("application_server", item)


def bootstrap_external(server_id: int, external_id: str) -> None:
    from mamba import bootstrap

    ids = bootstrap.ptero_ids()
    found = ids.by_number("server", server_id)
    assert found is not None
    ids.set_external(found, external_id)


def test_included_relationships_have_their_own_shapes(world):
    _server_record, server_id = _server(world, 25567)

    body = world.call("GET", f"{BASE}/{server_id}?include=allocations,variables").json_body
    relationships = body["attributes"].pop("relationships")

    assert_shape("application_server", body)
    for name, fixture in RELATIONSHIP_SHAPES.items():
        assert relationships[name]["object"] == "list" and "meta" not in relationships[name]
        assert relationships[name]["data"], name
        for item in relationships[name]["data"]:
            assert_shape(fixture, item)


def test_details_build_and_startup_answer_servers(world):
    # One server each: a build change holds its server's lock until its workflow ends
    alice, egg = number("user", "usr_alice"), number("egg", "bp_line")
    server, _ = _server(world, 25568)
    build = {
        "allocation": allocation_number(25574),
        "limits": {"memory": 1024, "swap": 0, "disk": 2048, "io": 500, "cpu": 100},
        "feature_limits": {"databases": 0, "backups": 1},
    }
    startup = {
        "startup": server.startup,
        "environment": {"MOTD": "hi"},
        "egg": egg,
        "image": server.docker_image,
        "skip_scripts": False,
    }

    for port, tail, body in (
        (25573, "/details", {"name": "Renamed", "user": alice}),
        (25574, "/build", build),
        (25575, "/startup", startup),
    ):
        _server_record, server_id = _server(world, port)
        answer = world.call("PATCH", f"{BASE}/{server_id}{tail}", body)
        assert answer.status_code == 200, (tail, answer.json_body)
        assert_shape("application_server", answer.json_body)


def test_the_204_routes_send_no_body(world):
    for port, tail, method in ((25569, "/suspend", "POST"), (25570, "/reinstall", "POST"), (25571, "", "DELETE")):
        _server_record, server_id = _server(world, port)
        answer = world.call(method, f"{BASE}/{server_id}{tail}")
        assert answer.status_code == 204, (tail, answer.body)
        assert not answer.body


def test_errors_have_pterodactyls_shapes(world):
    missing = world.call("GET", f"{BASE}/987654")
    invalid = world.call("POST", BASE, {"name": "no limits"})
    forbidden = world.call("POST", BASE, create_body("usr_bob", 25572), key="ro")
    anonymous = world.client.http.get(BASE)

    assert (missing.status_code, invalid.status_code, forbidden.status_code, anonymous.status_code) == (
        404,
        422,
        403,
        401,
    )
    assert_shape("error_not_found", missing.json_body)
    assert missing.json_body["errors"][0]["detail"] == "The requested resource could not be found on the server."
    assert_shape("error_validation", invalid.json_body)
    assert {"limits", "user", "egg"} <= {e["meta"]["source_field"] for e in invalid.json_body["errors"]}
    assert_shape("error_forbidden", forbidden.json_body)
    assert_shape("error_unauthenticated", anonymous.json_body)
