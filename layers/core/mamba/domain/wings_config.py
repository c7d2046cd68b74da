"""The configuration document Wings receives for each server (wings-contract.md §5.3, §5.4).

Pure functions from records (the node, the server and the blueprint's runtime parts) to
the document ``GET /api/remote/servers`` and ``GET /api/remote/servers/{uuid}`` answer.
Standard library only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mamba.domain.blueprints import Blueprint
from mamba.domain.nodes import Node
from mamba.domain.servers import Server

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
STOP_SIGNALS = frozenset({"SIGINT", "SIGTERM", "SIGABRT", "SIGKILL"})
CONFIG_PARSERS = frozenset({"file", "yaml", "properties", "ini", "json", "xml"})


# --- what the document needs from a blueprint ---


@dataclass(frozen=True)
class ConfigFile:
    file: str
    parser: str
    replace: tuple[tuple[str, Any, str | None], ...]  # (match, replace_with, if_value)


@dataclass(frozen=True)
class BlueprintRuntime:
    """The parts of a blueprint (egg) Wings needs: process configuration and install script."""

    id: str
    startup_done: tuple[str, ...] = ()
    strip_ansi: bool = False
    stop_type: str = "command"  # command | signal | stop
    stop_value: str = "stop"
    configs: tuple[ConfigFile, ...] = ()
    file_denylist: tuple[str, ...] = ()
    install_image: str = "ghcr.io/pterodactyl/installers:debian"
    install_entrypoint: str = "bash"
    install_script: str = ""


def runtime_of(blueprint: Blueprint) -> BlueprintRuntime:
    return BlueprintRuntime(
        id=blueprint.id,
        startup_done=tuple(blueprint.startup_done),
        strip_ansi=blueprint.strip_ansi,
        stop_type=blueprint.stop_type,
        stop_value=blueprint.stop_value,
        configs=tuple(
            ConfigFile(
                file=config.file,
                parser=config.parser,
                replace=tuple((r.match, r.replace_with, r.if_value) for r in config.replace),
            )
            for config in blueprint.config_files
        ),
        file_denylist=tuple(blueprint.file_denylist),
        install_image=blueprint.install_container,
        install_entrypoint=blueprint.install_entrypoint,
        install_script=blueprint.install_script,
    )


# --- the server list's paging (§5.3) ---


def _int_param(raw: str | None, default: int) -> int:
    try:
        return int(str(raw).strip()) if raw is not None and str(raw).strip() else default
    except ValueError:
        return default


def page_params(page: str | None, per_page: str | None) -> tuple[int, int]:
    """Laravel's reading: page 0, a negative or a non-number is page 1; per_page below 1 or
    not a number is the default 50, and is capped at 500."""
    number = _int_param(page, 1)
    size = _int_param(per_page, DEFAULT_PER_PAGE)
    if size < 1:
        size = DEFAULT_PER_PAGE
    return max(number, 1), min(size, MAX_PER_PAGE)


# --- one server's document (§5.4) ---


_PLACEHOLDER = re.compile(r"{{\s*(?P<name>(?:server|env)\.[A-Za-z0-9_.]+)\s*}}")


def _substitute(value: Any, values: Mapping[str, Any]) -> Any:
    """Replace ``{{server.*}}`` and ``{{env.*}}`` (Wings resolves only ``{{config.*}}``, §5.4).

    A value that is exactly one placeholder keeps the type of what it stands for."""
    if not isinstance(value, str):
        return value
    whole = _PLACEHOLDER.fullmatch(value.strip())
    if whole and whole.group("name") in values:
        return values[whole.group("name")]

    def one(match: re.Match[str]) -> str:
        found = values.get(match.group("name"))
        return match.group(0) if found is None else str(found).lower() if isinstance(found, bool) else str(found)

    return _PLACEHOLDER.sub(one, value)


def _placeholders(server: Server) -> dict[str, Any]:
    ip, port = server.allocation
    values: dict[str, Any] = {
        "server.build.default.ip": ip,
        "server.build.default.port": port,
        "server.build.memory": server.limits.memory_mb,
        "server.build.swap": server.limits.swap_mb,
        "server.build.disk": server.limits.disk_mb,
        "server.build.cpu": server.limits.cpu_percent,
        "server.build.io": server.limits.io_weight,
        "server.uuid": server.uuid,
        "server.name": server.name,
    }
    for key, value in server.environment.items():
        values[f"server.build.env.{key}"] = value
        values[f"env.{key}"] = value
    return values


def stop_configuration(stop_type: str, stop_value: str) -> dict[str, str]:
    """The stop instruction as Wings understands it. An egg's ``^C`` / ``^SIGTERM`` means a
    signal; sent as-is Wings would read ``C`` and SIGKILL the server (§8.11)."""
    value = (stop_value or "").strip()
    if stop_type == "command" and value.startswith("^"):
        name = value[1:].upper()
        name = {"C": "SIGINT"}.get(name, name if name.startswith("SIG") else f"SIG{name}")
        return {"type": "signal", "value": name if name in STOP_SIGNALS else "SIGINT"}
    if stop_type == "signal":
        name = value.upper() if value.upper().startswith("SIG") else f"SIG{value.upper()}"
        return {"type": "signal", "value": name if name in STOP_SIGNALS else "SIGTERM"}
    if stop_type == "stop":
        return {"type": "stop", "value": value}
    return {"type": "command", "value": value or "stop"}


def configuration(node: Node, server: Server, blueprint: BlueprintRuntime) -> dict[str, Any]:
    """The ``{settings, process_configuration}`` document of one server (§5.4).

    ``environment`` and ``allocations.mappings`` are always objects, ``process_configuration``
    is never null and every ``configs[]`` entry has ``file``, ``parser`` and ``replace``: a
    missing key there crashes the whole Wings process, not just the server (§8.3, §8.4)."""
    environment: dict[str, Any] = {
        str(k): v for k, v in server.environment.items() if isinstance(v, str | int | float | bool)
    }
    environment.update({"STARTUP": server.startup, "P_SERVER_LOCATION": node.location, "P_SERVER_UUID": server.uuid})
    mappings: dict[str, list[int]] = {}
    for ip, port in server.allocations:
        mappings.setdefault(ip, [])
        if port not in mappings[ip]:
            mappings[ip].append(port)
    values = _placeholders(server)
    configs = [
        {
            "file": config.file,
            "parser": config.parser if config.parser in CONFIG_PARSERS else "file",
            "replace": [
                {
                    "match": match,
                    **({"if_value": if_value} if if_value is not None else {}),
                    "replace_with": _substitute(replace_with, values),
                }
                for match, replace_with, if_value in config.replace
            ],
        }
        for config in blueprint.configs
    ]
    return {
        "settings": {
            "uuid": server.uuid,
            "meta": {"name": server.name, "description": server.description or ""},
            "suspended": server.suspended,
            "environment": environment,
            "invocation": server.startup,
            "skip_egg_scripts": server.skip_install_script,
            "build": {
                "memory_limit": int(server.limits.memory_mb),
                "swap": int(server.limits.swap_mb),
                "io_weight": int(server.limits.io_weight),
                "cpu_limit": int(server.limits.cpu_percent),
                "threads": server.limits.threads or None,
                "disk_space": int(server.limits.disk_mb),
                "oom_disabled": bool(server.limits.oom_disabled),
            },
            "container": {"image": server.docker_image},
            "allocations": {
                "force_outgoing_ip": False,
                "default": {"ip": server.allocation[0], "port": int(server.allocation[1])},
                "mappings": mappings,
            },
            "mounts": [],
            "egg": {"id": blueprint.id, "file_denylist": list(blueprint.file_denylist)},
        },
        "process_configuration": {
            "startup": {
                "done": list(blueprint.startup_done),
                "user_interaction": [],
                "strip_ansi": blueprint.strip_ansi,
            },
            "stop": stop_configuration(blueprint.stop_type, blueprint.stop_value),
            "configs": configs,
        },
    }


def server_list(
    node: Node, page: list[tuple[Server, BlueprintRuntime]], total: int, number: int, size: int
) -> dict[str, Any]:
    """One page of the node's servers as ``GET /api/remote/servers`` answers it, with integer
    ``meta``; ``number`` is the page actually served (page 0 is served as 1, so Wings does not
    fetch page 1 again and load every server twice)."""
    data = [{"uuid": server.uuid, **configuration(node, server, runtime)} for server, runtime in page]
    first = (number - 1) * size + 1
    return {
        "data": data,
        "meta": {
            "current_page": number,
            "from": first if data else None,
            "last_page": max(1, math.ceil(total / size)),
            "per_page": size,
            "to": first + len(data) - 1 if data else None,
            "total": total,
        },
    }
