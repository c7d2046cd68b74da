"""Shape checker for the Pterodactyl-compatible API (issue 16).

Compares a response body against a recorded Pterodactyl v1.11 response in
tests/fixtures/pterodactyl/<name>.json. Only the shape is compared, never the values:

- every object level must have exactly the fixture's keys (missing and extra keys are both reported);
- types must match: bool, int, float, str, list, dict are told apart (bool is not an int, an int
  must stay an int; a fixture float also accepts an int, since JSON encoders drop ``.0``);
- a fixture value of ``null`` accepts anything;
- a list is checked element by element against the fixture list's first element (an empty
  fixture list accepts any elements);
- fixture keys starting with ``_`` are annotations, never expected in the response:
  ``"_free": true`` marks a dict whose keys are free-form (environment, egg config, ...); it also
  accepts ``[]``, which is how PHP's json_encode writes an empty associative array.
  ``"_nullable": ["key", ...]`` lists keys of that dict whose value may also be ``null``.
  ``"_source"`` names the Pterodactyl file the fixture was taken from.
- inside a ``relationships`` dict, ``{"object": "null_resource", "attributes": null}`` is accepted
  in place of any relationship: Pterodactyl sends it when an include is not allowed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pterodactyl"

NULL_RESOURCE = {"object": "null_resource", "attributes": None}


class ShapeError(AssertionError):
    """Raised by assert_shape; the message lists every mismatch, one per line."""


@cache
def _read(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


def load(name: str) -> dict[str, Any]:
    """The fixture ``name`` (without ``.json``), freshly parsed so callers may modify it."""
    data = json.loads(_read(name))
    if not isinstance(data, dict):
        raise ValueError(f"fixture {name} is not a JSON object")
    return data


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def _compatible(expected: str, actual: str) -> bool:
    return expected == actual or (expected == "float" and actual == "int")


def _compare(expected: Any, actual: Any, path: str, errors: list[str], *, is_relationships: bool = False) -> None:
    if expected is None:
        return
    if isinstance(expected, dict):
        if expected.get("_free") is True:
            if not (isinstance(actual, dict) or actual == []):
                errors.append(f"{path}: expected dict, got {_type_name(actual)}")
            return
        if not isinstance(actual, dict):
            errors.append(f"{path}: expected dict, got {_type_name(actual)}")
            return
        wanted = {k for k in expected if not k.startswith("_")}
        missing = sorted(wanted - actual.keys())
        extra = sorted(actual.keys() - wanted)
        if missing:
            errors.append(f"{path}: missing keys {missing}")
        if extra:
            errors.append(f"{path}: extra keys {extra}")
        nullable = set(expected.get("_nullable", ()))
        for key in sorted(wanted & actual.keys()):
            if key in nullable and actual[key] is None:
                continue
            if is_relationships and actual[key] == NULL_RESOURCE:
                continue
            _compare(expected[key], actual[key], f"{path}.{key}", errors, is_relationships=key == "relationships")
        return
    if isinstance(expected, list):
        if not isinstance(actual, list):
            errors.append(f"{path}: expected list, got {_type_name(actual)}")
            return
        if not expected:
            return
        for index, item in enumerate(actual):
            _compare(expected[0], item, f"{path}[{index}]", errors)
        return
    want, got = _type_name(expected), _type_name(actual)
    if not _compatible(want, got):
        errors.append(f"{path}: expected {want}, got {got} ({actual!r})")


def shape_errors(name: str, actual: Any, *, path: str = "$") -> list[str]:
    """Every mismatch between ``actual`` and fixture ``name``, empty when the shapes agree."""
    errors: list[str] = []
    _compare(load(name), actual, path, errors)
    return errors


def assert_shape(name: str, actual: dict[str, Any], *, path: str = "$") -> None:
    """Fail with every mismatch listed when ``actual`` does not have the shape of fixture ``name``."""
    errors = shape_errors(name, actual, path=path)
    if errors:
        raise ShapeError(f"response does not match Pterodactyl fixture {name!r}:\n" + "\n".join(errors))
