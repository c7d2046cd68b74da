"""Request and response shapes of wings-contract.md, as reusable checks for both sides of the contract.

Daemon side (§2, §4): the simulator's replies are checked with these in tests/contract/wings and
tests/integration/test_wings_sim*.py. Remote side (§5): the panel's /api/remote replies (engineer 3's
tests/contract/remote) and the FakePanel the simulator tests boot against use the same functions, so
both ends agree on one reading of the contract. Each check raises AssertionError naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Set
from typing import Any

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UUID_ANY = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
STATES = ("offline", "starting", "running", "stopping")

# §2.1 / §2.4 / §2.5 / §2.8 messages, verbatim.
NOT_AUTHENTICATED = "The required authorization heads were not present in the request."
FORBIDDEN = "You are not authorized to access this endpoint."
NO_SERVER = "The requested resource does not exist on this instance."
INVALID = "The data provided in the request could not be validated."
GENERIC = "An unexpected error was encountered while processing this request"
BAD_POWER = 'The power action provided was not valid, should be one of "stop", "start", "restart", "kill"'
STOPPED_COMMANDS = "Cannot send commands to a stopped server instance."
SUSPENDED_START = "Cannot start or restart a server that is suspended."
RENAME_EXISTS = "Cannot move or rename file, destination already exists."
SIGNED_NOT_FOUND = "The requested resource was not found on this server."
DENYLIST = "This file cannot be modified: present in egg denylist."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _keys(obj: Any, required: set[str], where: str, optional: Set[str] = frozenset()) -> None:
    assert isinstance(obj, dict), f"{where} is not an object: {obj!r}"
    missing = required - obj.keys()
    assert not missing, f"{where} lacks {sorted(missing)}"
    extra = obj.keys() - required - optional
    assert not extra, f"{where} has unexpected keys {sorted(extra)}"


# -- daemon side (W answers P) ----------------------------------------------------------------------
def assert_daemon_error(body: Any, message: str | None = None, request_id: bool | None = None) -> None:
    """``{"error": "..."}`` or ``{"error": "...", "request_id": "<uuid>"}`` (§2.1)."""
    _keys(body, {"error"}, "error body", {"request_id"})
    assert isinstance(body["error"], str) and body["error"], "error must be a non-empty string"
    if message is not None:
        assert body["error"] == message, f"error {body['error']!r} != {message!r}"
    if request_id is not None:
        assert ("request_id" in body) is request_id, f"request_id presence should be {request_id}"
    if "request_id" in body:
        assert UUID_ANY.match(body["request_id"]), "request_id must be a uuid"


def assert_common_headers(headers: Any, origin: str) -> None:
    """Every daemon reply: ``X-Request-Id`` and the CORS set of §2.1."""
    assert UUID_ANY.match(headers.get("X-Request-Id", "")), "X-Request-Id missing or not a uuid"
    assert headers.get("Access-Control-Allow-Origin") == origin
    assert headers.get("Access-Control-Allow-Credentials") == "true"
    assert headers.get("Access-Control-Max-Age") == "7200"
    methods = {m.strip() for m in headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert methods >= {"GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"}


def assert_system_v1(body: Any) -> None:
    _keys(body, {"architecture", "cpu_count", "kernel_version", "os", "version"}, "system")
    assert _is_int(body["cpu_count"]) and body["cpu_count"] > 0
    assert all(isinstance(body[k], str) for k in ("architecture", "kernel_version", "os", "version"))


def assert_system_v2(body: Any) -> None:
    _keys(body, {"version", "docker", "system"}, "system v2")
    _keys(body["docker"], {"version", "cgroups", "containers", "storage", "runc"}, "system.docker")
    _keys(body["docker"]["containers"], {"total", "running", "paused", "stopped"}, "docker.containers")
    assert all(_is_int(v) for v in body["docker"]["containers"].values())
    _keys(
        body["system"],
        {"architecture", "cpu_threads", "memory_bytes", "kernel_version", "os", "os_type"},
        "system.system",
    )
    assert _is_int(body["system"]["cpu_threads"]) and _is_int(body["system"]["memory_bytes"])


def assert_utilization(usage: Any) -> None:
    """§2.4 utilization (also the JSON string in a websocket ``stats`` event)."""
    _keys(
        usage,
        {"memory_bytes", "memory_limit_bytes", "cpu_absolute", "network", "uptime", "state", "disk_bytes"},
        "utilization",
    )
    for key in ("memory_bytes", "memory_limit_bytes", "uptime", "disk_bytes"):
        assert _is_int(usage[key]) and usage[key] >= 0, f"utilization.{key} must be a non-negative integer"
    assert isinstance(usage["cpu_absolute"], int | float) and not isinstance(usage["cpu_absolute"], bool)
    _keys(usage["network"], {"rx_bytes", "tx_bytes"}, "utilization.network")
    assert usage["state"] in STATES


def assert_server_object(obj: Any) -> None:
    """One entry of ``GET /api/servers`` or ``GET /api/servers/:server`` (§2.4)."""
    _keys(obj, {"state", "is_suspended", "utilization", "configuration"}, "server")
    assert obj["state"] in STATES
    assert isinstance(obj["is_suspended"], bool)
    assert_utilization(obj["utilization"])
    assert obj["utilization"]["state"] == obj["state"]
    configuration = obj["configuration"]
    assert isinstance(configuration, dict) and UUID_ANY.match(configuration.get("uuid", ""))
    assert isinstance(configuration.get("crash_detection_enabled"), bool)
    assert isinstance(configuration.get("labels"), dict)


def assert_logs(body: Any) -> None:
    _keys(body, {"data"}, "logs")
    assert body["data"] is None or (isinstance(body["data"], list) and all(isinstance(x, str) for x in body["data"]))


def assert_stat(obj: Any) -> None:
    """A stat object: list-directory items, compress result, foreground pull result (§2.5)."""
    _keys(
        obj,
        {"name", "created", "modified", "mode", "mode_bits", "size", "directory", "file", "symlink", "mime"},
        "stat",
    )
    assert RFC3339.match(obj["created"]) and RFC3339.match(obj["modified"]), "dates must be RFC3339"
    assert re.fullmatch(r"[dlcbps-][rwxsStT-]{9}", obj["mode"]), f"mode {obj['mode']!r}"
    assert re.fullmatch(r"[0-7]{1,4}", obj["mode_bits"]), f"mode_bits {obj['mode_bits']!r}"
    assert _is_int(obj["size"]) and obj["size"] >= 0
    assert all(isinstance(obj[k], bool) for k in ("directory", "file", "symlink"))
    if obj["directory"]:
        assert obj["mime"] == "inode/directory"


def assert_ws_frame(frame: Any) -> tuple[str, list[str]]:
    """``{"event": name, "args": [string...]}``, ``args`` omitted when empty (§4)."""
    if isinstance(frame, str | bytes):
        frame = json.loads(frame)
    _keys(frame, {"event"}, "websocket frame", {"args"})
    args = frame.get("args", [])
    assert "args" not in frame or (isinstance(args, list) and args), "args must be omitted when empty"
    assert all(isinstance(a, str) for a in args), "websocket args are strings only"
    return frame["event"], args


# -- remote side (P answers W) ----------------------------------------------------------------------
def assert_remote_error(body: Any, status: int) -> None:
    """``{"errors":[{"code","status":"<string>","detail"}]}`` with a string status (§5.1, §8.13)."""
    _keys(body, {"errors"}, "remote error")
    assert isinstance(body["errors"], list) and body["errors"], "errors must be a non-empty array"
    first = body["errors"][0]
    assert isinstance(first.get("code"), str) and isinstance(first.get("detail"), str)
    assert first.get("status") == str(status), f"status must be the string {str(status)!r}"


def assert_server_list_page(body: Any, requested_page: int, per_page: int) -> None:
    """A page of ``GET /api/remote/servers`` (§5.3): page 0 is served as page 1, integer meta."""
    assert isinstance(body, dict) and isinstance(body.get("data"), list), "data must be an array"
    meta = body.get("meta")
    assert isinstance(meta, dict), "meta must be an object"
    for key in ("current_page", "last_page", "per_page", "total"):
        assert _is_int(meta.get(key)) and meta[key] >= 0, f"meta.{key} must be a non-negative integer"
    for key in ("from", "to"):
        assert meta.get(key) is None or (_is_int(meta[key]) and meta[key] >= 0), f"meta.{key}"
    assert meta["current_page"] == max(1, requested_page), "current_page must reflect the page served (0 ⇒ 1)"
    assert meta["per_page"] == per_page
    assert len(body["data"]) <= per_page
    for entry in body["data"]:
        assert UUID_V4.match(entry.get("uuid", "")), "list entries carry the lowercase v4 uuid"
        assert_configuration_document({k: v for k, v in entry.items() if k != "uuid"})
        assert entry["settings"]["uuid"] == entry["uuid"]


def assert_configuration_document(doc: Any) -> None:
    """``GET /api/remote/servers/{uuid}`` (§5.4, §8.3, §8.4)."""
    _keys(doc, {"settings", "process_configuration"}, "configuration document")
    settings = doc["settings"]
    assert isinstance(settings, dict), "settings must be an object"
    assert UUID_V4.match(settings.get("uuid", "")), "settings.uuid must be a lowercase v4 uuid"
    _keys(settings.get("meta"), {"name", "description"}, "settings.meta")
    assert isinstance(settings.get("suspended"), bool), "settings.suspended must be a bool"
    environment = settings.get("environment")
    assert isinstance(environment, dict), "settings.environment must be an object (never [])"
    for key, value in environment.items():
        assert isinstance(value, str | int | float | bool), f"environment.{key} must be a scalar"
    assert isinstance(settings.get("invocation"), str), "settings.invocation must be a string"
    assert isinstance(settings.get("skip_egg_scripts"), bool), "settings.skip_egg_scripts must be a bool"
    build = settings.get("build")
    assert isinstance(build, dict), "settings.build must be an object"
    for key in ("memory_limit", "swap", "io_weight", "cpu_limit", "disk_space"):
        assert _is_int(build.get(key)), f"build.{key} must be an integer"
    assert build.get("threads") is None or isinstance(build["threads"], str), "build.threads string or null"
    assert isinstance(build.get("oom_disabled"), bool), "build.oom_disabled must be a bool"
    container = settings.get("container")
    assert isinstance(container, dict) and isinstance(container.get("image"), str) and container["image"]
    allocations = settings.get("allocations")
    assert isinstance(allocations, dict), "settings.allocations must be an object"
    assert isinstance(allocations.get("force_outgoing_ip"), bool)
    default = allocations.get("default")
    assert isinstance(default, dict) and isinstance(default.get("ip"), str) and _is_int(default.get("port"))
    mappings = allocations.get("mappings")
    assert isinstance(mappings, dict), "allocations.mappings must be an object (never [])"
    for ip, ports in mappings.items():
        assert isinstance(ports, list) and all(_is_int(p) for p in ports), f"mappings.{ip} must be [int]"
    assert isinstance(settings.get("mounts"), list), "settings.mounts must be an array"
    egg = settings.get("egg")
    assert isinstance(egg, dict) and isinstance(egg.get("id"), str), "settings.egg.id must be a string"
    denylist = egg.get("file_denylist")
    assert isinstance(denylist, list) and all(isinstance(p, str) for p in denylist), "egg.file_denylist"

    process = doc["process_configuration"]
    assert isinstance(process, dict), "process_configuration must never be null"
    startup = process.get("startup")
    assert isinstance(startup, dict), "process_configuration.startup must be an object"
    assert isinstance(startup.get("done"), list) and all(isinstance(d, str) for d in startup["done"])
    assert isinstance(startup.get("user_interaction"), list)
    assert isinstance(startup.get("strip_ansi"), bool)
    stop = process.get("stop")
    assert isinstance(stop, dict) and stop.get("type") in ("command", "signal", "stop"), "stop.type"
    assert isinstance(stop.get("value"), str), "stop.value must be a string"
    configs = process.get("configs")
    assert isinstance(configs, list), "process_configuration.configs must be an array"
    for i, entry in enumerate(configs):
        assert isinstance(entry, dict), f"configs[{i}] must be an object"
        for key in ("file", "parser", "replace"):
            assert key in entry, f"configs[{i}] lacks {key} (a missing key crashes Wings)"
        assert entry["parser"] in ("file", "yaml", "properties", "ini", "json", "xml"), f"configs[{i}].parser"
        assert isinstance(entry["replace"], list), f"configs[{i}].replace must be an array"
        for rule in entry["replace"]:
            assert isinstance(rule, dict) and isinstance(rule.get("match"), str), f"configs[{i}].replace[].match"
            assert "replace_with" in rule or "value" in rule, f"configs[{i}].replace[] needs replace_with"


def assert_install_document(doc: Any) -> None:
    """``GET /api/remote/servers/{uuid}/install`` (§5.6): exactly Wings' three keys, nothing for the simulator."""
    _keys(doc, {"container_image", "entrypoint", "script"}, "install document")
    assert all(isinstance(doc[k], str) for k in ("container_image", "entrypoint", "script"))


def assert_install_status_body(body: Any) -> None:
    """What W posts to ``/api/remote/servers/{uuid}/install``."""
    _keys(body, {"successful", "reinstall"}, "install status")
    assert isinstance(body["successful"], bool) and isinstance(body["reinstall"], bool)


def assert_remote_headers(headers: Any, token_id: str, token: str) -> None:
    """Headers W sends on every remote call (§5.1)."""
    assert headers.get("Authorization") == f"Bearer {token_id}.{token}"
    assert headers.get("Accept") == "application/vnd.pterodactyl.v1+json"
    assert headers.get("Content-Type") == "application/json"
    assert re.fullmatch(rf"Pterodactyl Wings/v[\w.\-]+ \(id:{re.escape(token_id)}\)", headers.get("User-Agent", ""))


def assert_sftp_auth_response(body: Any) -> None:
    """Success reply of ``POST /api/remote/sftp/auth`` (§5.8)."""
    _keys(body, {"server", "user", "permissions"}, "sftp auth")
    assert UUID_V4.match(body["server"]), "server must be the full uuid"
    assert isinstance(body["user"], str)
    assert isinstance(body["permissions"], list) and all(isinstance(p, str) for p in body["permissions"])
