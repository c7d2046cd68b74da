"""The Pterodactyl shape checker (tests/contract/pterodactyl_shapes.py) against its own fixtures."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.contract import pterodactyl_shapes as ps

NAMES = sorted(p.stem for p in ps.FIXTURES.glob("*.json"))


def strip(value: Any) -> Any:
    """The fixture as Pterodactyl would send it: annotation keys (``_...``) removed."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def test_fixture_set_is_complete() -> None:
    expected = {
        "application_user", "application_server", "application_node", "application_node_configuration",
        "application_allocation", "application_location", "application_nest", "application_egg",
        "application_egg_variable", "application_server_variable", "application_user_list",
        "client_account", "client_server", "client_server_list", "client_stats", "client_websocket",
        "client_file_object", "client_file_list", "client_backup", "client_backup_download", "client_signed_url",
        "client_allocation", "client_subuser", "client_api_key", "client_api_key_created", "client_activity_log",
        "client_schedule", "client_task", "client_egg_variable", "client_permissions", "client_two_factor",
        "error_validation", "error_not_found", "error_forbidden", "error_unauthenticated",
    }  # fmt: skip
    assert expected <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_fixture_matches_itself(name: str) -> None:
    fixture = ps.load(name)
    assert "_source" in fixture
    ps.assert_shape(name, strip(fixture))


def test_missing_key_fails_and_is_named() -> None:
    body = strip(ps.load("application_user"))
    del body["attributes"]["email"]
    with pytest.raises(ps.ShapeError, match=r"\$\.attributes: missing keys \['email'\]"):
        ps.assert_shape("application_user", body)


def test_extra_key_fails_and_is_named() -> None:
    body = strip(ps.load("client_account"))
    body["attributes"]["avatar"] = "x"
    with pytest.raises(ps.ShapeError, match=r"extra keys \['avatar'\]"):
        ps.assert_shape("client_account", body)


def test_int_where_fixture_has_str_fails() -> None:
    body = strip(ps.load("application_user"))
    body["attributes"]["uuid"] = 1
    assert ps.shape_errors("application_user", body) == ["$.attributes.uuid: expected str, got int (1)"]


def test_str_or_float_where_fixture_has_int_fails() -> None:
    body = strip(ps.load("application_server"))
    body["attributes"]["limits"]["memory"] = "4096"
    body["attributes"]["limits"]["disk"] = 20480.0
    errors = ps.shape_errors("application_server", body)
    assert errors == [
        "$.attributes.limits.disk: expected int, got float (20480.0)",
        "$.attributes.limits.memory: expected int, got str ('4096')",
    ]


def test_bool_is_not_an_int() -> None:
    body = strip(ps.load("application_server"))
    body["attributes"]["container"]["installed"] = True  # Pterodactyl sends 1/0 here
    assert ps.shape_errors("application_server", body) == [
        "$.attributes.container.installed: expected int, got bool (True)"
    ]


def test_float_in_fixture_accepts_int() -> None:
    body = strip(ps.load("client_stats"))
    body["attributes"]["resources"]["cpu_absolute"] = 0
    ps.assert_shape("client_stats", body)


def test_null_in_fixture_accepts_any_type() -> None:
    body = strip(ps.load("application_server"))
    for value in (None, "installing", 3, {"a": 1}):
        body["attributes"]["status"] = value
        ps.assert_shape("application_server", body)


def test_nullable_annotation_allows_null_but_not_other_types() -> None:
    body = strip(ps.load("application_user"))
    body["attributes"]["external_id"] = None
    ps.assert_shape("application_user", body)
    body["attributes"]["external_id"] = 7
    assert ps.shape_errors("application_user", body) == ["$.attributes.external_id: expected str, got int (7)"]
    body = strip(ps.load("application_user"))
    body["attributes"]["email"] = None  # not nullable
    assert ps.shape_errors("application_user", body) == ["$.attributes.email: expected str, got null (None)"]


def test_free_dict_accepts_any_keys_and_php_empty_array() -> None:
    body = strip(ps.load("application_server"))
    env = body["attributes"]["container"]
    env["environment"] = {"ANYTHING": "x", "PORT": 1}
    ps.assert_shape("application_server", body)
    env["environment"] = []
    ps.assert_shape("application_server", body)
    env["environment"] = ["x"]
    assert ps.shape_errors("application_server", body) == [
        "$.attributes.container.environment: expected dict, got list"
    ]


def test_every_list_element_is_checked() -> None:
    body = strip(ps.load("client_file_list"))
    second = copy.deepcopy(body["data"][1])
    second["attributes"]["size"] = "1397"
    body["data"].append(second)
    assert ps.shape_errors("client_file_list", body) == ["$.data[2].attributes.size: expected int, got str ('1397')"]


def test_null_resource_only_accepted_inside_relationships() -> None:
    body = strip(ps.load("client_server"))
    body["attributes"]["relationships"]["variables"] = dict(ps.NULL_RESOURCE)
    ps.assert_shape("client_server", body)
    body = strip(ps.load("client_account"))
    with pytest.raises(ps.ShapeError):
        ps.assert_shape("client_account", {"object": "null_resource", "attributes": None})


def test_path_prefix_is_used() -> None:
    errors = ps.shape_errors("client_websocket", {"data": {"token": "t"}}, path="GET /websocket")
    assert errors == ["GET /websocket.data: missing keys ['socket']"]


def test_load_returns_independent_copies() -> None:
    first = ps.load("client_task")
    first["attributes"]["id"] = "changed"
    assert ps.load("client_task")["attributes"]["id"] == 21
