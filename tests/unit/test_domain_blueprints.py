"""Egg import (PTDL_v1, PTDL_v2), export, the Wings documents and environment validation."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from mamba.domain import blueprints as bp
from mamba.domain.errors import ValidationError
from mamba.services.blueprints import validate_environment

EGGS = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "eggs").glob("*.json"))


def load(name: str) -> dict:
    return json.loads((EGGS[0].parent / name).read_text())


def test_there_are_twenty_egg_fixtures_of_both_formats():
    versions = {json.loads(p.read_text())["meta"]["version"] for p in EGGS}

    assert len(EGGS) == 20
    assert versions == {"PTDL_v1", "PTDL_v2"}


@pytest.mark.parametrize("path", EGGS, ids=[p.stem for p in EGGS])
def test_every_fixture_egg_imports_and_round_trips_when_exported(path):
    # Given a real-world-shaped egg
    egg = json.loads(path.read_text())

    # When it is imported, exported as PTDL_v2 and imported again
    first = bp.parse_egg(egg)
    again = bp.parse_egg(bp.to_egg(first, "2026-11-25T10:00:00Z"))

    # Then nothing is lost and every variable's default satisfies the variable's own type
    assert again == first
    assert first.docker_images and first.startup and first.variables
    assert len({v.env_variable for v in first.variables}) == len(first.variables)
    process = bp.process_configuration(first)
    assert process["stop"]["type"] in ("command", "signal")
    assert all(set(c) == {"file", "parser", "replace"} for c in process["configs"])


def test_v1_images_list_becomes_docker_images_when_imported():
    blueprint = bp.parse_egg(load("teamspeak3.json"))

    assert list(blueprint.docker_images.values()) == ["ghcr.io/parkervcp/yolks:debian"]


def test_caret_c_stops_with_sigint_not_sigkill_when_imported():
    # Pterodactyl would send the signal "C", which Wings turns into SIGKILL (contract §8.11)
    blueprint = bp.parse_egg(load("ark-survival-evolved.json"))

    assert (blueprint.stop_type, blueprint.stop_value) == ("signal", "SIGINT")
    assert bp.to_egg(blueprint, "t")["config"]["stop"] == "^C"


def test_find_objects_become_conditional_replacements_when_imported():
    blueprint = bp.parse_egg(load("minecraft-vanilla.json"))

    replace = {r.match: r for r in blueprint.config_files[0].replace}
    assert replace["enable-query"].if_value == "false" and replace["enable-query"].replace_with == "true"
    assert replace["server-port"].replace_with == "{{server.build.default.port}}"


def test_install_document_is_what_wings_runs_when_asked():
    blueprint = bp.parse_egg(load("minecraft-vanilla.json"))

    assert bp.install_document(blueprint) == {
        "container_image": "ghcr.io/pterodactyl/installers:alpine",
        "entrypoint": "ash",
        "script": blueprint.install_script,
    }


def _broken(mutate) -> dict:
    egg = copy.deepcopy(load("minecraft-paper.json"))
    mutate(egg)
    return egg


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e["meta"].update(version="PTDL_v9"), "meta.version"),
        (lambda e: e.pop("meta"), "meta"),
        (lambda e: e.pop("name"), "name"),
        (lambda e: e.pop("startup"), "startup"),
        (lambda e: e.update(docker_images={}), "docker_images"),
        (lambda e: e.update(docker_images="java"), "docker_images"),
        (lambda e: e["config"].update(files="{not json"), "config.files"),
        (lambda e: e["config"].update(files='{"a.yml": {"parser": "toml", "find": {}}}'), "config.files.a.yml.parser"),
        (lambda e: e["config"].update(startup="[1, 2"), "config.startup"),
        (lambda e: e["config"].update(stop="^Z"), "config.stop"),
        (lambda e: e["variables"][1].update(rules="required|frobnicate"), "variables[1].rules"),
        (lambda e: e["variables"][0].update(env_variable="1BAD"), "variables[0].env_variable"),
        (lambda e: e["variables"][0].update(env_variable="SERVER_MEMORY"), "variables[0].env_variable"),
        (lambda e: e["variables"][0].pop("env_variable"), "variables[0].env_variable"),
        (lambda e: e["variables"][2].update(user_editable="perhaps"), "variables[2].user_editable"),
        (lambda e: e.update(variables={"a": 1}), "variables"),
        (lambda e: e.update(file_denylist="x"), "file_denylist"),
    ],
)
def test_malformed_egg_names_the_failing_field_when_imported(mutate, field):
    with pytest.raises(bp.EggFormatError) as caught:
        bp.parse_egg(_broken(mutate))

    assert caught.value.details["fields"][0]["field"] == field


def test_unsupported_rule_is_named_when_an_egg_uses_it():
    with pytest.raises(bp.EggFormatError) as caught:
        bp.parse_egg(_broken(lambda e: e["variables"][1].update(rules="required|exists:eggs,id")))

    assert caught.value.details["rule"] == "exists:eggs,id"
    assert "exists" in caught.value.message


def test_environment_is_resolved_with_defaults_when_valid():
    blueprint = bp.parse_egg(load("rust.json"))

    env = validate_environment(blueprint, {"MAX_PLAYERS": "100", "OXIDE": True})

    assert env["MAX_PLAYERS"] == "100" and env["OXIDE"] == "1"
    assert env["HOSTNAME"] == "A Rust Server"
    assert set(env) == {v.env_variable for v in blueprint.variables}


def test_environment_lists_every_failure_when_values_break_rules():
    blueprint = bp.parse_egg(load("rust.json"))

    with pytest.raises(ValidationError) as caught:
        validate_environment(blueprint, {"WORLD_SIZE": "99999", "LEVEL": "Moon", "NOPE": "1", "HOSTNAME": ""})

    fields = {f["field"] for f in caught.value.details["fields"]}
    assert fields == {
        "environment.WORLD_SIZE",
        "environment.LEVEL",
        "environment.NOPE",
        "environment.HOSTNAME",
    }


def test_non_editable_variable_is_refused_when_a_user_changes_it():
    blueprint = bp.parse_egg(load("teamspeak3.json"))

    with pytest.raises(ValidationError):
        validate_environment(blueprint, {"QUERY_PORT": "10012"})
    assert validate_environment(blueprint, {"QUERY_PORT": "10012"}, as_admin=True)["QUERY_PORT"] == "10012"
    assert validate_environment(blueprint, {"QUERY_PORT": "10011"})["QUERY_PORT"] == "10011"


def test_stored_shape_round_trips_when_converted_both_ways():
    blueprint = bp.parse_egg(load("bungeecord.json"))

    assert bp.blueprint_from_dict(json.loads(json.dumps(bp.blueprint_to_dict(blueprint)))) == blueprint


@pytest.mark.parametrize(("cap", "ok"), [(1, True), (1024, True), (65536, True), (0, False), (65537, False)])
def test_the_variable_value_cap_is_bounded_when_checked(cap, ok):
    from mamba.domain.blueprints import Blueprint, check_blueprint
    from mamba.domain.errors import DomainError

    blueprint = Blueprint(name="b", startup="run", docker_images={"d": "img"}, variable_max_length=cap)
    if ok:
        assert check_blueprint(blueprint) is blueprint
    else:
        with pytest.raises(DomainError) as caught:
            check_blueprint(blueprint)
        assert "variable_max_length" in str(caught.value.details)
