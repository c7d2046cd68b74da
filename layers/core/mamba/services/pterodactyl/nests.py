"""Application API nests and eggs (docs/pterodactyl-api.md, "Nests and eggs"): a nest is a
blueprint category, an egg a blueprint, read from the same blueprint registry as
/v1/admin/blueprints. Read only, as in Pterodactyl's API.

Integer ids: a nest's belongs to its category name (``DEFAULT_NEST`` for blueprints without
one), an egg's to the blueprint id, an egg variable's to ``"<blueprint id>|<env variable>"``
(kind ``variable``; a server's variables use the same ids). Errors: NotFoundError.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mamba.domain.blueprints import Blueprint, Variable, to_egg
from mamba.domain.pterodactyl import IdRef, iso, item, plain_list
from mamba.ports import BlueprintRepository, PteroIds
from mamba.services.pterodactyl.common import by_number, listing, not_found

NEST, EGG, VARIABLE = "nest", "egg", "variable"
DEFAULT_NEST = "General"
NEST_INCLUDES = ("eggs", "servers")
EGG_INCLUDES = ("nest", "servers", "config", "script", "variables")
NULL_RESOURCE = {"object": "null_resource", "attributes": None}
_UUIDS = uuid.UUID("2b0f7c1e-8d43-4e0a-b3f5-5a7e9c6d1f20")


@dataclass(frozen=True)
class NestPorts:
    blueprints: BlueprintRepository
    ids: PteroIds


def nest_of(blueprint: Blueprint) -> str:
    """The nest (category) a blueprint is an egg of."""
    return blueprint.category.strip() or DEFAULT_NEST


def variable_ref(blueprint_id: str, env_variable: str) -> str:
    return f"{blueprint_id}|{env_variable}"


def laravel_date(value: str | None) -> str | None:
    """A date as Laravel's ``toArray()`` writes it (``2024-01-01T12:00:00.000000Z``): the format
    of egg and server variables in Pterodactyl's answers."""
    atom = iso(value)
    if atom is None:
        return None
    return datetime.fromisoformat(atom).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def _all(ports: NestPorts) -> list[Blueprint]:
    found: list[Blueprint] = []
    cursor: str | None = None
    while True:
        page, cursor = ports.blueprints.list(100, cursor)
        found.extend(page)
        if not cursor:
            return found


def _nests(blueprints: list[Blueprint]) -> dict[str, list[Blueprint]]:
    nests: dict[str, list[Blueprint]] = {}
    for blueprint in blueprints:
        nests.setdefault(nest_of(blueprint), []).append(blueprint)
    return nests


def _nest_item(
    ports: NestPorts, name: str, ref: IdRef, members: list[Blueprint], wanted: frozenset[str]
) -> dict[str, Any]:
    created = min((b.created_at for b in members if b.created_at), default=None)
    updated = max((b.updated_at or b.created_at for b in members), default=None)
    relationships: dict[str, Any] = {}
    if "eggs" in wanted:
        relationships["eggs"] = plain_list([egg_item(ports, b, ref, frozenset()) for b in members])
    if "servers" in wanted:
        relationships["servers"] = NULL_RESOURCE  # servers are the server area's objects
    attributes = {
        "id": ref.number,
        "uuid": str(uuid.uuid5(_UUIDS, f"nest:{name}")),
        "author": next((b.author for b in members if b.author), ""),
        "name": name,
        "description": None,
        "created_at": iso(created),
        "updated_at": iso(updated) or iso(created),
    }
    return item("nest", attributes, relationships)


def list_nests(ports: NestPorts, query: Mapping[str, str], base_url: str, wanted: frozenset[str]) -> dict[str, Any]:
    nests = _nests(_all(ports))
    refs = ports.ids.numbers(NEST, dict.fromkeys(nests))
    rows = [_nest_item(ports, name, refs[name], members, wanted) for name, members in nests.items()]
    return listing(rows, query, filterable=(), sortable=("id",), base_url=base_url)


def _find_nest(ports: NestPorts, number: str) -> tuple[str, IdRef, list[Blueprint]]:
    ref = by_number(ports.ids, NEST, number)
    members = _nests(_all(ports)).get(ref.ref)
    if not members:
        raise not_found(NEST, number)
    return ref.ref, ref, members


def get_nest(ports: NestPorts, number: str, wanted: frozenset[str]) -> dict[str, Any]:
    name, ref, members = _find_nest(ports, number)
    return _nest_item(ports, name, ref, members, wanted)


def _variable_item(blueprint: Blueprint, egg: IdRef, variable: Variable, ref: IdRef) -> dict[str, Any]:
    return item(
        "egg_variable",
        {
            "id": ref.number,
            "egg_id": egg.number,
            "name": variable.name,
            "description": variable.description or None,
            "env_variable": variable.env_variable,
            "default_value": variable.default_value,
            "user_viewable": variable.user_viewable,
            "user_editable": variable.user_editable,
            "rules": variable.rules,
            "created_at": laravel_date(blueprint.created_at),
            "updated_at": laravel_date(blueprint.updated_at or blueprint.created_at),
        },
    )


def egg_item(ports: NestPorts, blueprint: Blueprint, nest: IdRef, wanted: frozenset[str]) -> dict[str, Any]:
    """Pterodactyl's ``EggTransformer`` of a blueprint (its config as its PTDL_v2 export has it)."""
    ref = ports.ids.number(EGG, blueprint.id)
    export = to_egg(blueprint, blueprint.updated_at or blueprint.created_at)
    config = export["config"]
    files = json.loads(config["files"]) or {}
    relationships: dict[str, Any] = {}
    if "variables" in wanted:
        refs = ports.ids.numbers(
            VARIABLE, {variable_ref(blueprint.id, v.env_variable): blueprint.id for v in blueprint.variables}
        )
        relationships["variables"] = plain_list(
            [
                _variable_item(blueprint, ref, v, refs[variable_ref(blueprint.id, v.env_variable)])
                for v in blueprint.variables
            ]
        )
    if "nest" in wanted:
        relationships["nest"] = _nest_item(ports, nest.ref, nest, [blueprint], frozenset())
    for name in ("servers", "config", "script"):
        if name in wanted:
            relationships[name] = NULL_RESOURCE
    attributes = {
        "id": ref.number,
        "uuid": str(uuid.uuid5(_UUIDS, f"egg:{blueprint.id}")),
        "name": blueprint.name,
        "nest": nest.number,
        "author": blueprint.author,
        "description": blueprint.description or None,
        "docker_image": blueprint.default_image if blueprint.docker_images else "",
        "docker_images": dict(blueprint.docker_images),
        "config": {
            "files": files,
            "startup": json.loads(config["startup"]),
            "stop": config["stop"] or None,
            "logs": json.loads(config["logs"]) or [],
            "file_denylist": list(blueprint.file_denylist),
            "extends": None,
        },
        "startup": blueprint.startup,
        "script": {
            "privileged": True,
            "install": blueprint.install_script or None,
            "entry": blueprint.install_entrypoint,
            "container": blueprint.install_container,
            "extends": None,
        },
        "created_at": iso(blueprint.created_at),
        "updated_at": iso(blueprint.updated_at) or iso(blueprint.created_at),
    }
    return item("egg", attributes, relationships)


def list_eggs(ports: NestPorts, number: str, wanted: frozenset[str]) -> dict[str, Any]:
    """``GET /nests/{id}/eggs``: not paged, as in Pterodactyl."""
    _, ref, members = _find_nest(ports, number)
    return plain_list([egg_item(ports, b, ref, wanted) for b in members])


def get_egg(ports: NestPorts, number: str, egg_number: str, wanted: frozenset[str]) -> dict[str, Any]:
    _, nest, members = _find_nest(ports, number)
    ref = by_number(ports.ids, EGG, egg_number)
    blueprint = next((b for b in members if b.id == ref.ref), None)
    if blueprint is None:  # another nest's egg is not one of this nest's
        raise not_found(EGG, egg_number)
    return egg_item(ports, blueprint, nest, wanted)
