"""Pterodactyl's client API over a server's settings, startup variables, allocations and
activity, through the real app on moto (tests/api/server_world.py); the workflows a change
starts are recorded, not run (tests/statemachines runs them)."""

from __future__ import annotations

import json
import uuid as uuid_mod

import pytest

from mamba import bootstrap
from tests.api.server_world import NODE_ID, T0, TENANT_A, server_world
from tests.contract.pterodactyl_shapes import assert_shape
from tests.fakes import FakeWorkflows

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ptero-client-settings")]

BLUEPRINT = "bp_ptero_vars"


def _blueprint():
    from mamba.domain.blueprints import Blueprint, Variable

    return Blueprint(
        id=BLUEPRINT,
        name="Variables game",
        startup="./run --motd={{MOTD}} --slots={{MAX_PLAYERS}}",
        docker_images={
            "Python": "ghcr.io/pterodactyl/yolks:python_3.12",
            "Old": "ghcr.io/pterodactyl/yolks:python_3.8",
        },
        features=("eula",),
        variables=(
            Variable(name="MOTD", env_variable="MOTD", default_value="hi", rules="required|string|max:64"),
            Variable(
                name="Slots", env_variable="MAX_PLAYERS", default_value="10", rules="required|integer|between:1,100"
            ),
            Variable(name="Build", env_variable="BUILD", default_value="1", user_editable=False),
            Variable(name="Secret", env_variable="SECRET", default_value="s", user_viewable=False, user_editable=False),
        ),
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from mamba.domain.nodes import Allocation
    from mamba.domain.servers import Limits, Server

    with server_world(tmp_path_factory.mktemp("ptcli-settings")) as w:
        bootstrap.blueprint_repository().add(_blueprint())
        server_uuid = str(uuid_mod.uuid4())
        bootstrap.server_repository().add(
            Server(
                uuid=server_uuid,
                name="vars",
                tenant_id=TENANT_A,
                node_id=NODE_ID,
                blueprint_id=BLUEPRINT,
                allocation=("127.0.0.1", 30000),
                additional_allocations=(("127.0.0.1", 30001),),
                docker_image="ghcr.io/pterodactyl/yolks:python_3.12",
                startup="./run --motd={{MOTD}} --slots={{MAX_PLAYERS}}",
                environment={"MOTD": "welcome", "MAX_PLAYERS": 20, "BUILD": "7", "SECRET": "x"},
                limits=Limits(memory_mb=256, disk_mb=1024, cpu_percent=100),
                status="offline",
                created_at=T0,
                updated_at=T0,
            )
        )
        bootstrap.allocation_repository().add_many(
            [
                Allocation(node_id=NODE_ID, ip="127.0.0.1", port=30000, created_at=T0, server_id=server_uuid),
                Allocation(
                    node_id=NODE_ID, ip="127.0.0.1", port=30001, created_at=T0, server_id=server_uuid, alias="play.x"
                ),
            ]
        )
        w.servers["vars"] = server_uuid
        yield w


@pytest.fixture
def workflows(world):
    fake = FakeWorkflows()
    with bootstrap.override(workflows=fake):
        yield fake


def call(world, method: str, label: str, tail: str, who: str = "alice", body: dict | None = None):
    path = f"/api/client/servers/{world.servers[label]}{tail}"
    payload = json.dumps(body) if body is not None else None
    return getattr(world.client.http, method)(path, headers=world.headers(who), body=payload)


def listed_startup(world) -> dict:
    return call(world, "get", "vars", "/startup").json_body


def release_lock(world, label: str) -> None:
    """The recorded workflow never ends: let the next test change the server again."""
    from mamba.adapters.dynamo.server_lifecycle import DynamoServerLocks

    holder = DynamoServerLocks().holder(world.servers[label])
    if holder is not None:
        DynamoServerLocks().release(world.servers[label], holder[0])


def test_startup_lists_the_viewable_variables_and_the_commands(world):
    answer = call(world, "get", "vars", "/startup")

    assert answer.status_code == 200, answer.body[:300]
    assert_shape("client_egg_variable", answer.json_body)
    names = [v["attributes"]["env_variable"] for v in answer.json_body["data"]]
    assert names == ["MOTD", "MAX_PLAYERS", "BUILD"]  # SECRET is not user-viewable
    motd = answer.json_body["data"][0]["attributes"]
    assert motd["server_value"] == "welcome" and motd["default_value"] == "hi" and motd["is_editable"] is True
    assert answer.json_body["data"][2]["attributes"]["is_editable"] is False
    meta = answer.json_body["meta"]
    assert meta["startup_command"] == "./run --motd=welcome --slots=20"
    assert meta["raw_startup_command"] == "./run --motd={{MOTD}} --slots={{MAX_PLAYERS}}"
    assert meta["docker_images"]["Old"] == "ghcr.io/pterodactyl/yolks:python_3.8"


def test_the_server_item_shows_its_variables_invocation_and_features(world):
    body = call(world, "get", "vars", "").json_body

    assert_shape("client_server", body)
    attributes = body["attributes"]
    assert attributes["invocation"] == "./run --motd=welcome --slots=20"
    assert attributes["egg_features"] == ["eula"]
    allocations = attributes["relationships"]["allocations"]["data"]
    assert [(a["attributes"]["port"], a["attributes"]["is_default"]) for a in allocations] == [
        (30000, True),
        (30001, False),
    ]
    assert allocations[1]["attributes"]["ip_alias"] == "play.x"


def test_a_variable_change_is_checked_and_starts_the_build_change(world, workflows):
    # A value breaking the variable's rules is Pterodactyl's 422 naming the variable
    bad = call(world, "put", "vars", "/startup/variable", body={"key": "MAX_PLAYERS", "value": "500"})
    assert bad.status_code == 422, bad.body[:300]
    assert bad.json_body["errors"][0]["meta"]["source_field"] == "environment.MAX_PLAYERS"
    # A read-only or hidden variable is Pterodactyl's 400
    assert call(world, "put", "vars", "/startup/variable", body={"key": "BUILD", "value": "8"}).status_code == 400
    assert call(world, "put", "vars", "/startup/variable", body={"key": "SECRET", "value": "y"}).status_code == 400
    assert call(world, "put", "vars", "/startup/variable", body={"key": "NOPE", "value": "y"}).status_code == 400
    # A good one answers the variable as it will be, and starts update_server_build with it
    good = call(world, "put", "vars", "/startup/variable", body={"key": "MOTD", "value": "bonjour"})
    assert good.status_code == 200, good.body[:300]
    assert good.json_body["attributes"]["server_value"] == "bonjour"
    assert good.json_body["meta"] == {
        "startup_command": "./run --motd=bonjour --slots=20",
        "raw_startup_command": "./run --motd={{MOTD}} --slots={{MAX_PLAYERS}}",
    }
    # The item is the list's egg_variable (the list fixture holds one)
    variable = {k: v for k, v in good.json_body.items() if k != "meta"}
    assert_shape("client_egg_variable", {**listed_startup(world), "data": [variable]})
    [(workflow, _, payload)] = workflows.started
    assert workflow == "update_server_build"
    assert payload["environment"]["MOTD"] == "bonjour" and payload["previous_environment"]["MOTD"] == "welcome"
    release_lock(world, "vars")


def test_a_viewer_may_read_startup_but_not_change_it(world, workflows):
    assert call(world, "get", "vars", "/startup", "vic").status_code == 200
    refused = call(world, "put", "vars", "/startup/variable", "vic", {"key": "MOTD", "value": "x"})
    assert refused.status_code == 403
    assert workflows.started == []


def test_rename_saves_the_name_and_description(world, workflows):
    renamed = call(world, "post", "vars", "/settings/rename", body={"name": "renamed", "description": "new words"})

    assert renamed.status_code == 204, renamed.body[:300]
    attributes = call(world, "get", "vars", "").json_body["attributes"]
    assert attributes["name"] == "renamed" and attributes["description"] == "new words"
    too_long = call(world, "post", "vars", "/settings/rename", body={"name": "x" * 101})
    assert too_long.status_code == 422
    assert too_long.json_body["errors"][0]["meta"]["source_field"] == "name"
    assert call(world, "post", "vars", "/settings/rename", "vic", {"name": "nope"}).status_code == 403


def test_reinstall_answers_202_with_an_empty_list_and_starts_the_workflow(world, workflows):
    answer = call(world, "post", "files", "/settings/reinstall")

    assert answer.status_code == 202, answer.body[:300]
    assert answer.json_body == []
    assert [w for w, _, _ in workflows.started] == ["reinstall_server"]
    release_lock(world, "files")
    assert call(world, "post", "files", "/settings/reinstall", "vic").status_code == 403


def test_allocations_are_listed_and_their_notes_set(world):
    listed = call(world, "get", "vars", "/network/allocations")

    assert listed.status_code == 200, listed.body[:300]
    assert "meta" not in listed.json_body
    for entry in listed.json_body["data"]:
        assert_shape("client_allocation", entry)
    second = listed.json_body["data"][1]["attributes"]
    noted = call(world, "post", "vars", f"/network/allocations/{second['id']}", body={"notes": "query port"})
    assert noted.status_code == 200, noted.body[:300]
    assert_shape("client_allocation", noted.json_body)
    assert noted.json_body["attributes"]["notes"] == "query port" and noted.json_body["attributes"]["port"] == 30001
    again = call(world, "get", "vars", "/network/allocations").json_body["data"][1]["attributes"]
    assert again["notes"] == "query port"
    cleared = call(world, "post", "vars", f"/network/allocations/{second['id']}", body={"notes": None})
    assert cleared.json_body["attributes"]["notes"] is None


def test_another_servers_allocation_is_a_404(world):
    game = call(world, "get", "game", "/network/allocations").json_body["data"][0]["attributes"]

    answer = call(world, "post", "vars", f"/network/allocations/{game['id']}", body={"notes": "x"})

    assert answer.status_code == 404
    assert call(world, "post", "vars", "/network/allocations/abc", body={"notes": "x"}).status_code == 404


def test_server_activity_is_pterodactyls_paged_activity_log(world):
    # Given a server of its own (no panel changes yet) with three entries Wings reported
    from mamba.domain.servers import ActivityEntry
    from tests.api.server_world import add_server

    server_uuid = str(uuid_mod.uuid4())
    add_server(server_uuid, TENANT_A)
    world.servers["act"] = server_uuid
    bootstrap.server_repository().add_activity(
        [
            ActivityEntry(
                server_uuid=server_uuid,
                tenant_id=TENANT_A,
                event=event,
                timestamp=f"2026-11-25T10:0{n}:00Z",
                metadata={"files": ["a.txt"]},
                user_id="usr_alice" if n else "usr_olga",
                ip="198.51.100.7",
                node_id=NODE_ID,
                entry_id=f"act{n}",
            )
            for n, event in enumerate(["server:sftp.write", "server:file.rename", "server:console.command"])
        ]
    )

    answer = call(world, "get", "act", "/activity?per_page=2")

    assert answer.status_code == 200, answer.body[:300]
    assert_shape("client_activity_log", answer.json_body)
    events = [e["attributes"]["event"] for e in answer.json_body["data"]]
    assert events == ["server:console.command", "server:file.rename"]
    assert answer.json_body["meta"]["pagination"]["total"] == 3
    filtered = call(world, "get", "act", "/activity?filter[event]=sftp").json_body["data"]
    assert [e["attributes"]["event"] for e in filtered] == ["server:sftp.write"]
    # Another member's ip is not shown (alice is no platform admin)
    assert filtered[0]["attributes"]["ip"] is None
    assert answer.json_body["data"][0]["attributes"]["ip"] == "198.51.100.7"


@pytest.fixture(scope="module")
def net(world):
    """A server allowed three ports, holding one, on a node with three more free."""
    from mamba.domain.nodes import Allocation
    from mamba.domain.servers import FeatureLimits, Limits, Server

    server_uuid = str(uuid_mod.uuid4())
    bootstrap.server_repository().add(
        Server(
            uuid=server_uuid,
            name="net",
            tenant_id=TENANT_A,
            node_id=NODE_ID,
            blueprint_id=BLUEPRINT,
            allocation=("127.0.0.1", 31000),
            docker_image="ghcr.io/pterodactyl/yolks:python_3.12",
            startup="./run",
            limits=Limits(memory_mb=256, disk_mb=1024),
            feature_limits=FeatureLimits(allocations=3),
            status="offline",
            created_at=T0,
            updated_at=T0,
        )
    )
    bootstrap.allocation_repository().add_many(
        [Allocation(node_id=NODE_ID, ip="127.0.0.1", port=31000, created_at=T0, server_id=server_uuid)]
        + [Allocation(node_id=NODE_ID, ip="127.0.0.1", port=p, created_at=T0) for p in (31001, 31002, 31003)]
    )
    world.servers["net"] = server_uuid
    return server_uuid


def ports_of(world) -> list[tuple[int, bool]]:
    data = call(world, "get", "net", "/network/allocations").json_body["data"]
    return [(a["attributes"]["port"], a["attributes"]["is_default"]) for a in data]


def test_ports_are_assigned_up_to_the_limit_made_primary_and_freed(world, net):
    # When two ports are assigned, the server holds three (its limit, the primary counted)
    first = call(world, "post", "net", "/network/allocations")
    assert first.status_code == 200, first.body[:300]
    assert_shape("client_allocation", first.json_body)
    assert first.json_body["attributes"]["is_default"] is False
    second = call(world, "post", "net", "/network/allocations")
    assert second.status_code == 200, second.body[:300]
    assert sorted(p for p, _ in ports_of(world)) == [31000, 31001, 31002]
    held = bootstrap.allocation_repository().get(NODE_ID, "127.0.0.1", 31001)
    assert held.server_id == net
    # Then a fourth is Pterodactyl's 400
    full = call(world, "post", "net", "/network/allocations")
    assert full.status_code == 400 and "limit" in full.json_body["errors"][0]["detail"]
    # When one of them becomes primary, the old primary is an extra port
    new_primary = first.json_body["attributes"]["id"]
    made = call(world, "post", "net", f"/network/allocations/{new_primary}/primary")
    assert made.status_code == 200, made.body[:300]
    assert_shape("client_allocation", made.json_body)
    assert made.json_body["attributes"]["is_default"] is True
    assert ports_of(world)[0] == (first.json_body["attributes"]["port"], True)
    # And the primary cannot be deleted, an extra port can (and is free again, notes gone)
    assert call(world, "delete", "net", f"/network/allocations/{new_primary}").status_code == 400
    old_primary = next(
        a["attributes"]["id"]
        for a in call(world, "get", "net", "/network/allocations").json_body["data"]
        if a["attributes"]["port"] == 31000
    )
    call(world, "post", "net", f"/network/allocations/{old_primary}", body={"notes": "old"})
    gone = call(world, "delete", "net", f"/network/allocations/{old_primary}")
    assert gone.status_code == 204, gone.body[:300]
    assert 31000 not in [p for p, _ in ports_of(world)]
    freed = bootstrap.allocation_repository().get(NODE_ID, "127.0.0.1", 31000)
    assert freed.server_id is None and freed.notes is None
    record = bootstrap.server_repository().get(net)
    assert record.allocation[1] == first.json_body["attributes"]["port"] and len(record.allocations) == 2


def test_a_viewer_may_not_change_ports(world, net):
    assert call(world, "post", "net", "/network/allocations", "vic").status_code == 403
    assert call(world, "get", "net", "/network/allocations", "vic").status_code == 200


def test_the_docker_image_is_one_the_egg_offers(world, net):
    bad = call(world, "put", "net", "/settings/docker-image", body={"docker_image": "evil/image:latest"})
    assert bad.status_code == 422
    assert bad.json_body["errors"][0]["meta"]["source_field"] == "docker_image"
    good = call(
        world, "put", "net", "/settings/docker-image", body={"docker_image": "ghcr.io/pterodactyl/yolks:python_3.8"}
    )
    assert good.status_code == 204, good.body[:300]
    assert bootstrap.server_repository().get(net).docker_image == "ghcr.io/pterodactyl/yolks:python_3.8"
    assert (
        call(world, "get", "net", "").json_body["attributes"]["docker_image"] == "ghcr.io/pterodactyl/yolks:python_3.8"
    )


def test_an_image_an_admin_set_by_hand_stays(world):
    # Given a server whose image its blueprint does not offer (an admin set it)
    from mamba.domain.servers import Limits, Server

    custom = str(uuid_mod.uuid4())
    bootstrap.server_repository().add(
        Server(
            uuid=custom, name="custom", tenant_id=TENANT_A, node_id=NODE_ID, blueprint_id=BLUEPRINT,
            allocation=("127.0.0.1", 32000), docker_image="registry.example/custom:1", startup="./run",
            limits=Limits(memory_mb=256, disk_mb=1024), status="offline", created_at=T0, updated_at=T0,
        )
    )  # fmt: skip
    world.servers["custom"] = custom
    # When its user picks one of the blueprint's images
    answer = call(
        world, "put", "custom", "/settings/docker-image", body={"docker_image": "ghcr.io/pterodactyl/yolks:python_3.8"}
    )
    # Then it is Pterodactyl's 400, and the image stays
    assert answer.status_code == 400
    assert "administrator" in answer.json_body["errors"][0]["detail"]
    assert bootstrap.server_repository().get(custom).docker_image == "registry.example/custom:1"


def test_server_activity_holds_the_panels_changes_for_who_may_read_the_audit_log(world, workflows):
    # Given alice renamed the server through the client API
    assert call(world, "post", "vars", "/settings/rename", body={"name": "audited"}).status_code == 204

    # When alice (owner: audit.read) and vic (viewer: no audit.read) read its activity
    mine = call(world, "get", "vars", "/activity?filter[event]=rename_server").json_body
    theirs = call(world, "get", "vars", "/activity?filter[event]=rename_server", "vic").json_body

    # Then the owner sees the rename as a server event; the viewer does not
    assert_shape("client_activity_log", mine)
    assert [e["attributes"]["event"] for e in mine["data"]][:1] == ["server:rename_server"]
    assert theirs["data"] == []
