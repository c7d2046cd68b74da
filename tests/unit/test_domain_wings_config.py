"""The Wings configuration document and the activity batch, as pure functions (wings-contract.md
§5.3, §5.4, §5.10): no moto, no HTTP; the remote contract tests cover the same over the door."""

from __future__ import annotations

import pytest

from mamba.domain import wings_config
from mamba.domain.errors import ValidationError
from mamba.domain.nodes import Node
from mamba.domain.servers import Limits, Server
from mamba.domain.wings_activity import MAX_ACTIVITY_ENTRIES, parse_activity
from mamba.domain.wings_config import BlueprintRuntime, ConfigFile

UUID = "8d9e2b4c-1f3a-4c5d-9e7f-0a1b2c3d4e5f"
NODE = Node(
    id="nd_1",
    uuid="0f6f0d36-52a0-4d4e-9f0e-111111111111",
    name="fra-1",
    fqdn="fra-1.example.org",
    token_id="tokenid0000000001",
    created_at="t0",
    updated_at="t0",
    location="fra",
)


def _server(**changes: object) -> Server:
    fields: dict[str, object] = {
        "uuid": UUID,
        "name": "lobby",
        "tenant_id": "tn_a",
        "node_id": NODE.id,
        "blueprint_id": "bp_1",
        "allocation": ("10.0.0.5", 25565),
        "additional_allocations": (("10.0.0.5", 25566), ("10.0.0.6", 25565)),
        "docker_image": "ghcr.io/pterodactyl/yolks:java_21",
        "startup": "java -jar server.jar",
        "environment": {"MOTD": "hi", "MAX_PLAYERS": 20, "PVP": True, "NESTED": {"no": 1}},
        "limits": Limits(memory_mb=1024, disk_mb=2048, cpu_percent=100),
        "status": "offline",
        "created_at": "t0",
        "updated_at": "t0",
    }
    fields.update(changes)
    return Server(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stop_type", "stop_value", "expected"),
    [
        ("command", "stop", {"type": "command", "value": "stop"}),
        ("command", "", {"type": "command", "value": "stop"}),
        ("command", "^C", {"type": "signal", "value": "SIGINT"}),
        ("command", "^SIGTERM", {"type": "signal", "value": "SIGTERM"}),
        ("command", "^HUP", {"type": "signal", "value": "SIGINT"}),
        ("signal", "term", {"type": "signal", "value": "SIGTERM"}),
        ("signal", "SIGKILL", {"type": "signal", "value": "SIGKILL"}),
        ("signal", "usr1", {"type": "signal", "value": "SIGTERM"}),
        ("stop", "", {"type": "stop", "value": ""}),
    ],
)
def test_stop_instruction_is_one_wings_understands_when_the_egg_says(stop_type, stop_value, expected):
    # Given an egg's stop type and value / When it becomes the document's stop / Then Wings reads it right
    assert wings_config.stop_configuration(stop_type, stop_value) == expected


@pytest.mark.parametrize(
    ("page", "per_page", "expected"),
    [
        (None, None, (1, 50)),
        ("0", "10", (1, 10)),
        ("-3", "abc", (1, 50)),
        ("2", "0", (2, 50)),
        ("3", "9999", (3, 500)),
        (" 4 ", " 20 ", (4, 20)),
    ],
)
def test_page_params_read_as_laravel_does_when_the_query_is_odd(page, per_page, expected):
    assert wings_config.page_params(page, per_page) == expected


def test_configuration_document_has_every_key_wings_needs_when_the_blueprint_is_empty():
    # Given a server whose blueprint has no process configuration (deleted blueprint)
    document = wings_config.configuration(NODE, _server(), BlueprintRuntime(id="bp_gone"))
    # Then the document still has objects and lists where Wings would crash on null
    settings, process = document["settings"], document["process_configuration"]
    assert settings["uuid"] == UUID and settings["egg"] == {"id": "bp_gone", "file_denylist": []}
    assert settings["allocations"]["mappings"] == {"10.0.0.5": [25565, 25566], "10.0.0.6": [25565]}
    assert settings["allocations"]["default"] == {"ip": "10.0.0.5", "port": 25565}
    assert process["configs"] == [] and process["startup"]["done"] == []
    assert process["stop"] == {"type": "command", "value": "stop"}
    # Only scalar variables reach the environment, plus the three Wings sets itself
    environment = settings["environment"]
    assert "NESTED" not in environment and environment["MAX_PLAYERS"] == 20
    assert (environment["STARTUP"], environment["P_SERVER_LOCATION"], environment["P_SERVER_UUID"]) == (
        "java -jar server.jar",
        "fra",
        UUID,
    )


def test_config_file_placeholders_are_substituted_when_wings_would_not():
    # Given a blueprint whose config file replaces values with {{server.*}} and {{env.*}}
    runtime = BlueprintRuntime(
        id="bp_1",
        configs=(
            ConfigFile(
                file="server.properties",
                parser="toml",  # unknown to Wings: sent as "file"
                replace=(
                    ("server-port", "{{server.build.default.port}}", None),
                    ("motd", "Welcome to {{ env.MOTD }} on {{server.name}}", None),
                    ("pvp", "{{server.build.env.PVP}}", "false"),
                    ("max", "{{config.docker.network}}", None),
                ),
            ),
        ),
    )
    # When the document is built
    config = wings_config.configuration(NODE, _server(), runtime)["process_configuration"]["configs"][0]
    # Then a whole placeholder keeps its type, an embedded one is text, Wings' own stay for Wings
    assert config["parser"] == "file"
    assert config["replace"] == [
        {"match": "server-port", "replace_with": 25565},
        {"match": "motd", "replace_with": "Welcome to hi on lobby"},
        {"match": "pvp", "if_value": "false", "replace_with": True},
        {"match": "max", "replace_with": "{{config.docker.network}}"},
    ]


def test_server_list_meta_counts_from_the_page_served_when_the_last_page_is_short():
    # Given page 2 of 3 entries, 2 per page
    page = [(_server(), BlueprintRuntime(id="bp_1"))]
    # When the list document is built
    document = wings_config.server_list(NODE, page, total=3, number=2, size=2)
    # Then meta is integers Wings can page on, and each entry carries its uuid
    assert document["meta"] == {"current_page": 2, "from": 3, "last_page": 2, "per_page": 2, "to": 3, "total": 3}
    assert [d["uuid"] for d in document["data"]] == [UUID]
    assert wings_config.server_list(NODE, [], total=0, number=1, size=50)["meta"]["from"] is None


def test_activity_entries_keep_only_well_typed_fields_when_wings_sends_extras():
    found = parse_activity(
        {
            "data": [
                {"server": UUID, "event": "server:power.start", "timestamp": "t", "metadata": [], "user": "", "ip": 7},
                {"server": UUID, "event": "server:console.command", "timestamp": "t", "user": "u1", "ip": "1.2.3.4"},
            ]
        }
    )
    assert [(a.metadata, a.user_id, a.ip) for a in found] == [({}, None, None), ({}, "u1", "1.2.3.4")]


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"data": {}},
        {"data": ["x"]},
        {"data": [{"server": UUID, "event": 1, "timestamp": "t"}]},
        {"data": [{"server": UUID, "event": "e", "timestamp": "t"}] * (MAX_ACTIVITY_ENTRIES + 1)},
    ],
)
def test_activity_batch_is_refused_when_malformed_or_too_long(body):
    with pytest.raises(ValidationError):
        parse_activity(body)
