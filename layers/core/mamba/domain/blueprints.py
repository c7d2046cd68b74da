"""Blueprints (Pterodactyl "eggs"): what a game server runs and how it is installed.

Standard library only. ``parse_egg`` reads an egg export (``PTDL_v1`` or ``PTDL_v2``) and
raises ``EggFormatError`` naming the first failing field (``config.files``,
``variables[2].rules`` ...); ``to_egg`` writes a ``PTDL_v2`` export. ``blueprint_from_dict``
and ``blueprint_to_dict`` are the stored and public shape. ``process_configuration`` and
``install_document`` are what Wings gets (wings-contract.md §5.4 and §5.6).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from mamba.domain import rules as rule_parser
from mamba.domain.errors import ValidationError

PARSERS = ("file", "yaml", "properties", "ini", "json", "xml")
STOP_TYPES = ("command", "signal", "stop")
SIGNALS = ("SIGINT", "SIGTERM", "SIGABRT", "SIGKILL")
FIELD_TYPES = ("text",)
# Set by Wings itself or by the panel for every server; a variable may not take these names.
RESERVED_VARIABLES = frozenset(
    {"SERVER_MEMORY", "SERVER_IP", "SERVER_PORT", "ENV", "HOME", "USER", "STARTUP", "SERVER_UUID", "UUID", "TZ"}
)
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,190}$")
EGG_VERSIONS = ("PTDL_v1", "PTDL_v2")


class EggFormatError(ValidationError):
    """The egg (or blueprint body) is malformed; ``details.fields[0].field`` names the failing field."""


def _fail(path: str, message: str, **extra: Any) -> EggFormatError:
    return EggFormatError(f"{path}: {message}.", {"fields": [{"field": path, "message": message}], **extra})


@dataclass(frozen=True)
class Variable:
    name: str
    env_variable: str
    description: str = ""
    default_value: str = ""
    user_viewable: bool = True
    user_editable: bool = True
    rules: str = "nullable|string"
    field_type: str = "text"


@dataclass(frozen=True)
class Replacement:
    match: str
    replace_with: Any
    if_value: str | None = None


@dataclass(frozen=True)
class ConfigFile:
    file: str
    parser: str
    replace: tuple[Replacement, ...] = ()


@dataclass(frozen=True)
class Blueprint:
    name: str
    startup: str
    docker_images: dict[str, str]
    id: str = ""
    author: str = ""
    description: str = ""
    # A label that groups blueprints (Pterodactyl's "nest"); empty: the default group.
    category: str = ""
    features: tuple[str, ...] = ()
    stop_type: str = "command"
    stop_value: str = "stop"
    startup_done: tuple[str, ...] = ()
    strip_ansi: bool = False
    config_files: tuple[ConfigFile, ...] = ()
    logs: dict[str, Any] = field(default_factory=dict)
    install_container: str = "ghcr.io/pterodactyl/installers:debian"
    install_entrypoint: str = "bash"
    install_script: str = ""
    file_denylist: tuple[str, ...] = ()
    variables: tuple[Variable, ...] = ()
    # The longest value any variable may hold (characters); raised per blueprint up to 64 KiB.
    variable_max_length: int = rule_parser.VALUE_MAX_DEFAULT
    update_url: str | None = None
    created_at: str = ""
    updated_at: str = ""

    @property
    def default_image(self) -> str:
        return next(iter(self.docker_images.values()))

    def variable(self, env_variable: str) -> Variable | None:
        return next((v for v in self.variables if v.env_variable == env_variable), None)


# --- checking ---------------------------------------------------------------------------------


def check_blueprint(blueprint: Blueprint) -> Blueprint:
    """Raise EggFormatError naming the first bad field; return the blueprint unchanged."""
    if not blueprint.name.strip() or len(blueprint.name) > 191:
        raise _fail("name", "must be 1 to 191 characters")
    if not blueprint.startup.strip():
        raise _fail("startup", "is required")
    if not blueprint.docker_images:
        raise _fail("docker_images", "at least one image is required")
    for label, image in blueprint.docker_images.items():
        if not isinstance(image, str) or not image.strip() or any(c.isspace() for c in image):
            raise _fail(f"docker_images.{label}", "must be an image reference without spaces")
    if blueprint.stop_type not in STOP_TYPES:
        raise _fail("stop.type", f"must be one of {', '.join(STOP_TYPES)}")
    if blueprint.stop_type == "signal" and blueprint.stop_value not in SIGNALS:
        raise _fail("stop.value", f"a signal must be one of {', '.join(SIGNALS)}")
    if blueprint.stop_type == "command" and not blueprint.stop_value.strip():
        raise _fail("stop.value", "a stop command is required")
    for i, config in enumerate(blueprint.config_files):
        if not config.file.strip():
            raise _fail(f"config.files[{i}].file", "is required")
        if config.parser not in PARSERS:
            raise _fail(f"config.files[{i}].parser", f"must be one of {', '.join(PARSERS)}")
    cap = blueprint.variable_max_length
    if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= rule_parser.VALUE_MAX_LIMIT:
        raise _fail("variable_max_length", f"must be a whole number from 1 to {rule_parser.VALUE_MAX_LIMIT}")
    seen: set[str] = set()
    for i, variable in enumerate(blueprint.variables):
        where = f"variables[{i}]"
        if not variable.name.strip():
            raise _fail(f"{where}.name", "is required")
        if not ENV_NAME.match(variable.env_variable):
            raise _fail(f"{where}.env_variable", "must be letters, digits and underscores, not starting with a digit")
        if variable.env_variable.upper() in RESERVED_VARIABLES:
            raise _fail(f"{where}.env_variable", f"{variable.env_variable} is set by the panel and Wings")
        if variable.env_variable in seen:
            raise _fail(f"{where}.env_variable", f"{variable.env_variable} is defined twice")
        seen.add(variable.env_variable)
        if len(variable.default_value) > cap:
            raise _fail(f"{where}.default_value", f"is longer than variable_max_length ({cap})")
        try:
            rule_parser.parse_rules(variable.rules)
        except rule_parser.UnsupportedRuleError as exc:
            raise _fail(f"{where}.rules", exc.message, rule=exc.details.get("rule")) from exc
    return blueprint


# --- egg import ------------------------------------------------------------------------------


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, "must be an object")
    return value


def _text(data: dict[str, Any], key: str, path: str, *, required: bool = False, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise _fail(path, "is required")
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _fail(path, "must be a string")
    return str(value)


def _bool(value: Any, path: str, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return bool(int(value))
    raise _fail(path, "must be a boolean")


def _embedded_json(value: Any, path: str, default: Any) -> Any:
    """Egg ``config.*`` entries are JSON documents inside strings (older exports: objects)."""
    if value is None or value == "":
        return default
    if isinstance(value, dict | list):
        return value
    if not isinstance(value, str):
        raise _fail(path, "must be a JSON string")
    try:
        return json.loads(value)
    except ValueError as exc:
        raise _fail(path, f"is not valid JSON ({exc.args[0] if exc.args else exc})") from exc


def _images(egg: dict[str, Any], version: str) -> dict[str, str]:
    if "docker_images" in egg and egg["docker_images"] is not None:
        raw = egg["docker_images"]
        if isinstance(raw, dict):
            images = {str(k): v for k, v in raw.items()}
        elif isinstance(raw, list):
            images = {str(v): v for v in raw}
        else:
            raise _fail("docker_images", "must be an object of label to image")
    elif version == "PTDL_v1" and "images" in egg:
        raw = egg["images"]
        if not isinstance(raw, list):
            raise _fail("images", "must be a list of images")
        images = {str(v): v for v in raw}
    else:
        raise _fail("docker_images" if version == "PTDL_v2" else "images", "is required")
    if not images:
        raise _fail("docker_images", "at least one image is required")
    for label, image in images.items():
        if not isinstance(image, str) or not image.strip():
            raise _fail(f"docker_images.{label}", "must be an image reference")
    return images


def _stop(value: Any) -> tuple[str, str]:
    """An egg's ``config.stop``: a console command, ``^C`` (SIGINT) or ``^SIGTERM``-style signals.

    Pterodactyl sends ``^C`` to Wings as the signal ``C``, which Wings turns into SIGKILL
    (wings-contract §8.11); the panel sends the real signal name instead.
    """
    if value is None or value == "":
        return "stop", ""
    if not isinstance(value, str):
        raise _fail("config.stop", "must be a string")
    if value.startswith("^"):
        signal = value[1:].upper()
        mapped = {"C": "SIGINT", "^C": "SIGINT", "SIGINT": "SIGINT", "SIGTERM": "SIGTERM", "SIGABRT": "SIGABRT"}
        mapped |= {"SIGKILL": "SIGKILL"}
        if signal not in mapped:
            raise _fail("config.stop", f"unknown stop signal {value!r}; use ^C, ^SIGINT, ^SIGTERM or ^SIGABRT")
        return "signal", mapped[signal]
    return "command", value


def _done(startup: Any) -> tuple[tuple[str, ...], bool]:
    if isinstance(startup, str):
        return ((startup,) if startup else ()), False
    startup = _object(startup, "config.startup")
    done = startup.get("done", [])
    if isinstance(done, str):
        done = [done] if done else []
    if not isinstance(done, list) or not all(isinstance(d, str) for d in done):
        raise _fail("config.startup.done", "must be a string or a list of strings")
    strip = _bool(startup.get("strip_ansi"), "config.startup.strip_ansi", False)
    return tuple(done), strip


def _config_files(raw: Any) -> tuple[ConfigFile, ...]:
    files = _embedded_json(raw, "config.files", {})
    if isinstance(files, list) and not files:
        return ()  # PHP's empty array
    files = _object(files, "config.files")
    result = []
    for name, spec in files.items():
        path = f"config.files.{name}"
        spec = _object(spec, path)
        parser = spec.get("parser")
        if parser not in PARSERS:
            raise _fail(f"{path}.parser", f"must be one of {', '.join(PARSERS)}")
        find = spec.get("find", {})
        if isinstance(find, list) and not find:
            find = {}
        find = _object(find, f"{path}.find")
        replacements: list[Replacement] = []
        for match, value in find.items():
            if isinstance(value, dict):  # {"<if value>": "<replace with>"} pairs
                for condition, replacement in value.items():
                    replacements.append(Replacement(str(match), replacement, if_value=str(condition)))
            elif value is None or isinstance(value, str | int | float | bool):
                replacements.append(Replacement(str(match), value))
            else:
                raise _fail(f"{path}.find.{match}", "must be a value or an object of conditions")
        result.append(ConfigFile(file=str(name), parser=str(parser), replace=tuple(replacements)))
    return tuple(result)


def _variables(raw: Any) -> tuple[Variable, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail("variables", "must be a list")
    found = []
    for i, entry in enumerate(raw):
        where = f"variables[{i}]"
        entry = _object(entry, where)
        rules = entry.get("rules", "")
        if isinstance(rules, list):
            rules = "|".join(str(r) for r in rules)
        if not isinstance(rules, str):
            raise _fail(f"{where}.rules", "must be a string")
        default = entry.get("default_value")
        found.append(
            Variable(
                name=_text(entry, "name", f"{where}.name", required=True),
                env_variable=_text(entry, "env_variable", f"{where}.env_variable", required=True),
                description=_text(entry, "description", f"{where}.description"),
                default_value="" if default is None else str(default),
                user_viewable=_bool(entry.get("user_viewable"), f"{where}.user_viewable", True),
                user_editable=_bool(entry.get("user_editable"), f"{where}.user_editable", True),
                rules=rules or "nullable|string",
                field_type=_text(entry, "field_type", f"{where}.field_type", default="text"),
            )
        )
    return tuple(found)


def parse_egg(data: Any) -> Blueprint:
    """A blueprint from a Pterodactyl egg export. Raises EggFormatError naming the failing field."""
    egg = _object(data, "body")
    meta = _object(egg.get("meta"), "meta")
    version = meta.get("version")
    if version not in EGG_VERSIONS:
        raise _fail("meta.version", f"must be one of {', '.join(EGG_VERSIONS)}")
    config = _object(egg.get("config", {}), "config")
    scripts = _object(egg.get("scripts", {}), "scripts")
    install = _object(scripts.get("installation") or {}, "scripts.installation")
    stop_type, stop_value = _stop(config.get("stop"))
    startup_config = config.get("startup")
    if isinstance(startup_config, str) and not startup_config.lstrip().startswith(("{", "[", '"')):
        done, strip_ansi = _done(startup_config)  # some old exports hold the done text itself
    else:
        done, strip_ansi = _done(_embedded_json(startup_config, "config.startup", {}))
    features = egg.get("features") or []
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise _fail("features", "must be a list of strings")
    denylist = egg.get("file_denylist") or []
    if not isinstance(denylist, list) or not all(isinstance(f, str) for f in denylist):
        raise _fail("file_denylist", "must be a list of strings")
    logs = _embedded_json(config.get("logs"), "config.logs", {})
    update_url = meta.get("update_url")
    blueprint = Blueprint(
        name=_text(egg, "name", "name", required=True),
        author=_text(egg, "author", "author"),
        description=_text(egg, "description", "description"),
        features=tuple(features),
        docker_images=_images(egg, str(version)),
        startup=_text(egg, "startup", "startup", required=True),
        stop_type=stop_type,
        stop_value=stop_value,
        startup_done=done,
        strip_ansi=strip_ansi,
        config_files=_config_files(config.get("files")),
        logs=logs if isinstance(logs, dict) else {},
        install_container=_text(
            install, "container", "scripts.installation.container", default="ghcr.io/pterodactyl/installers:debian"
        ),
        install_entrypoint=_text(install, "entrypoint", "scripts.installation.entrypoint", default="bash"),
        install_script=_text(install, "script", "scripts.installation.script").replace("\r\n", "\n"),
        file_denylist=tuple(denylist),
        variables=_variables(egg.get("variables")),
        # Not part of PTDL: this panel's own key, so an export re-imports with the same cap.
        variable_max_length=egg.get("variable_max_length", rule_parser.VALUE_MAX_DEFAULT),
        update_url=update_url if isinstance(update_url, str) else None,
    )
    return check_blueprint(blueprint)


def to_egg(blueprint: Blueprint, exported_at: str) -> dict[str, Any]:
    """A ``PTDL_v2`` egg export of the blueprint (re-importable by this panel and Pterodactyl)."""
    if blueprint.stop_type == "signal":
        stop = "^C" if blueprint.stop_value == "SIGINT" else f"^{blueprint.stop_value}"
    elif blueprint.stop_type == "stop":
        stop = ""
    else:
        stop = blueprint.stop_value
    files: dict[str, Any] = {}
    for config in blueprint.config_files:
        find: dict[str, Any] = {}
        for r in config.replace:
            if r.if_value is None:
                find[r.match] = r.replace_with
            else:
                existing = find.get(r.match)
                find[r.match] = {**(existing if isinstance(existing, dict) else {}), r.if_value: r.replace_with}
        files[config.file] = {"parser": config.parser, "find": find}
    startup: dict[str, Any] = {"done": list(blueprint.startup_done)}
    if blueprint.strip_ansi:
        startup["strip_ansi"] = True
    return {
        "_comment": "DO NOT EDIT: FILE GENERATED AUTOMATICALLY BY THE MAMBA HOST PANEL",
        "meta": {"version": "PTDL_v2", "update_url": blueprint.update_url},
        "exported_at": exported_at,
        "name": blueprint.name,
        "author": blueprint.author,
        "description": blueprint.description,
        "features": list(blueprint.features),
        "docker_images": dict(blueprint.docker_images),
        "file_denylist": list(blueprint.file_denylist),
        "startup": blueprint.startup,
        "config": {
            "files": json.dumps(files, indent=4),
            "startup": json.dumps(startup, indent=4),
            "logs": json.dumps(blueprint.logs),
            "stop": stop,
        },
        "scripts": {
            "installation": {
                "script": blueprint.install_script,
                "container": blueprint.install_container,
                "entrypoint": blueprint.install_entrypoint,
            }
        },
        "variables": [
            {
                "name": v.name,
                "description": v.description,
                "env_variable": v.env_variable,
                "default_value": v.default_value,
                "user_viewable": v.user_viewable,
                "user_editable": v.user_editable,
                "rules": v.rules,
                "field_type": v.field_type,
            }
            for v in blueprint.variables
        ],
        **(
            {"variable_max_length": blueprint.variable_max_length}
            if blueprint.variable_max_length != rule_parser.VALUE_MAX_DEFAULT
            else {}
        ),
    }


# --- stored / public shape ---------------------------------------------------------------------


def blueprint_to_dict(blueprint: Blueprint) -> dict[str, Any]:
    data = asdict(blueprint)
    data["features"] = list(blueprint.features)
    data["startup_done"] = list(blueprint.startup_done)
    data["file_denylist"] = list(blueprint.file_denylist)
    data["config_files"] = [
        {"file": c.file, "parser": c.parser, "replace": [_replacement_dict(r) for r in c.replace]}
        for c in blueprint.config_files
    ]
    data["variables"] = [asdict(v) for v in blueprint.variables]
    return data


def _replacement_dict(r: Replacement) -> dict[str, Any]:
    out: dict[str, Any] = {"match": r.match, "replace_with": r.replace_with}
    if r.if_value is not None:
        out["if_value"] = r.if_value
    return out


def blueprint_from_dict(data: dict[str, Any]) -> Blueprint:
    """The inverse of ``blueprint_to_dict`` (also the shape of the create and update bodies)."""
    values = dict(data)
    values["features"] = tuple(values.get("features") or ())
    values["startup_done"] = tuple(values.get("startup_done") or ())
    values["file_denylist"] = tuple(values.get("file_denylist") or ())
    values["docker_images"] = dict(values.get("docker_images") or {})
    values["config_files"] = tuple(
        ConfigFile(
            file=c["file"],
            parser=c["parser"],
            replace=tuple(
                Replacement(match=r["match"], replace_with=r.get("replace_with"), if_value=r.get("if_value"))
                for r in c.get("replace") or ()
            ),
        )
        for c in values.get("config_files") or ()
    )
    values["variables"] = tuple(Variable(**v) for v in values.get("variables") or ())
    known = set(Blueprint.__dataclass_fields__)
    return Blueprint(**{k: v for k, v in values.items() if k in known})


def with_identity(blueprint: Blueprint, blueprint_id: str, created_at: str, updated_at: str) -> Blueprint:
    return replace(blueprint, id=blueprint_id, created_at=created_at, updated_at=updated_at)


# --- what Wings gets --------------------------------------------------------------------------


def process_configuration(blueprint: Blueprint) -> dict[str, Any]:
    """``process_configuration`` of wings-contract §5.4: never null; every ``configs[]`` entry
    has ``file``, ``parser`` and ``replace``. ``{{server.*}}``/``{{env.*}}`` placeholders in
    ``replace_with`` are left for the caller to substitute per server."""
    return {
        "startup": {"done": list(blueprint.startup_done), "user_interaction": [], "strip_ansi": blueprint.strip_ansi},
        "stop": {"type": blueprint.stop_type, "value": blueprint.stop_value},
        "configs": [
            {"file": c.file, "parser": c.parser, "replace": [_replacement_dict(r) for r in c.replace]}
            for c in blueprint.config_files
        ],
    }


def install_document(blueprint: Blueprint) -> dict[str, str]:
    """The body of ``GET /api/remote/servers/{uuid}/install`` (wings-contract §5.6)."""
    return {
        "container_image": blueprint.install_container,
        "entrypoint": blueprint.install_entrypoint,
        "script": blueprint.install_script.replace("\r\n", "\n"),
    }
