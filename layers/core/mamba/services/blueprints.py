"""Blueprints (eggs): create, import, export, change, delete, and the environment check.

``validate_environment`` is what server creation and environment changes call: every
value is checked against its variable's Laravel-style rules (``mamba.domain.rules``).
"""

from __future__ import annotations

from typing import Any

from mamba.domain import blueprints as domain
from mamba.domain import rules
from mamba.domain.blueprints import Blueprint
from mamba.domain.clock import iso, new_id, utcnow
from mamba.domain.errors import ValidationError
from mamba.ports import BlueprintRepository


def _stamp(blueprint: Blueprint, blueprint_id: str | None) -> Blueprint:
    now = iso(utcnow())
    return domain.with_identity(blueprint, blueprint_id or new_id("bp"), now, now)


def create_blueprint(repo: BlueprintRepository, fields: dict[str, Any], blueprint_id: str | None = None) -> Blueprint:
    """A blueprint from the API's body shape. Raises EggFormatError (400) naming the field, ConflictError."""
    try:
        draft = domain.blueprint_from_dict({k: v for k, v in fields.items() if k not in ("id", "created_at")})
    except (KeyError, TypeError) as exc:
        raise ValidationError("The blueprint body is malformed.", {"fields": [{"field": str(exc)}]}) from exc
    blueprint = domain.check_blueprint(_stamp(draft, blueprint_id))
    repo.add(blueprint)
    return blueprint


def import_egg(repo: BlueprintRepository, egg: Any, *, blueprint_id: str | None = None) -> Blueprint:
    """Import a Pterodactyl egg (PTDL_v1 or PTDL_v2).

    Raises EggFormatError (400) naming the failing field, including a variable rule the panel
    does not understand (``variables[i].rules``), and ConflictError for a taken id.
    """
    blueprint = _stamp(domain.parse_egg(egg), blueprint_id)
    repo.add(blueprint)
    return blueprint


def preview_egg(egg: Any) -> Blueprint:
    """What ``import_egg`` would store, without storing it (the console shows its variables before saving).

    Raises EggFormatError (400) naming the failing field, like the import."""
    return domain.parse_egg(egg)


def export_egg(repo: BlueprintRepository, blueprint_id: str) -> dict[str, Any]:
    """The blueprint as a PTDL_v2 egg. Raises NotFoundError."""
    return domain.to_egg(repo.get(blueprint_id), iso(utcnow()))


def with_usage(blueprint: Blueprint, servers: int) -> dict[str, Any]:
    """The blueprint's public shape plus ``servers``: how many servers use it (delete waits for 0)."""
    return {**domain.blueprint_to_dict(blueprint), "servers": servers}


def get_blueprint(repo: BlueprintRepository, blueprint_id: str) -> dict[str, Any]:
    """The blueprint with its usage. Raises NotFoundError."""
    blueprint = repo.get(blueprint_id)
    return with_usage(blueprint, repo.usage([blueprint_id])[blueprint_id])


def list_blueprints(
    repo: BlueprintRepository, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of blueprints with their usage: one Query and one BatchGetItem."""
    found, next_cursor = repo.list(limit, cursor)
    usage = repo.usage([b.id for b in found])
    return [with_usage(b, usage[b.id]) for b in found], next_cursor


def update_blueprint(repo: BlueprintRepository, blueprint_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply the given top-level fields; the result carries the usage. Raises NotFoundError, EggFormatError."""
    current = domain.blueprint_to_dict(repo.get(blueprint_id))
    merged = {**current, **{k: v for k, v in changes.items() if k not in ("id", "created_at", "updated_at")}}
    try:
        blueprint = domain.blueprint_from_dict({**merged, "updated_at": iso(utcnow())})
    except (KeyError, TypeError) as exc:
        raise ValidationError("The blueprint body is malformed.", {"fields": [{"field": str(exc)}]}) from exc
    domain.check_blueprint(blueprint)
    repo.save(blueprint)
    return with_usage(blueprint, repo.usage([blueprint_id])[blueprint_id])


def delete_blueprint(repo: BlueprintRepository, blueprint_id: str) -> None:
    """Delete a blueprint no server uses. Raises NotFoundError, BlueprintInUseError (409, ``details.servers``)."""
    repo.delete(blueprint_id)


def validate_environment(
    blueprint: Blueprint,
    env: dict[str, Any],
    *,
    current: dict[str, str] | None = None,
    as_admin: bool = False,
) -> dict[str, str]:
    """Check ``env`` against the blueprint's variables and return the full environment.

    Every variable gets a value: the one given, else the server's ``current`` one, else the
    default. Raises ValidationError listing every failing variable: unknown names, values
    breaking their rules, and (unless ``as_admin``) changes to variables users may not edit.
    """
    failures: list[dict[str, str]] = []
    known = {v.env_variable for v in blueprint.variables}
    for name in env:
        if name not in known:
            failures.append({"field": f"environment.{name}", "message": "is not a variable of this blueprint"})
    resolved: dict[str, str] = {}
    for variable in blueprint.variables:
        name = variable.env_variable
        before = (current or {}).get(name, variable.default_value)
        given = env.get(name)
        if given is not None and isinstance(given, bool):
            given = "1" if given else "0"
        value = before if given is None else str(given)
        if given is not None and not as_admin and not variable.user_editable and value != before:
            failures.append({"field": f"environment.{name}", "message": "may not be changed"})
            continue
        for problem in rules.check_value(
            value, rules.parse_rules(variable.rules), max_length=blueprint.variable_max_length
        ):
            failures.append({"field": f"environment.{name}", "message": f"{variable.name} {problem}"})
        resolved[name] = value
    if failures:
        raise ValidationError("The environment failed validation.", {"fields": failures})
    return resolved
