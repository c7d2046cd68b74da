"""The daemon HTTP API (wings-contract.md §2): middleware, system, servers, power, console, signed URLs."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import platform
import re
import uuid as uuid_mod
from pathlib import Path
from typing import Any

import psutil
from aiohttp import BodyPartReader, web

from local.wings_sim import VERSION, errors
from local.wings_sim.config import ConfigError
from local.wings_sim.daemon import Daemon
from local.wings_sim.errors import WingsError, abort, captured
from local.wings_sim.jail import BadPathError, DeniedFileError, resolve
from local.wings_sim.remote import RemoteError
from local.wings_sim.servers import PowerBusyError, Server, SuspendedError
from local.wings_sim.tokens import TokenError, parse

log = logging.getLogger("wings_sim.api")

DAEMON: web.AppKey[Daemon] = web.AppKey("daemon", Daemon)
UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
POWER_ACTIONS = ("start", "stop", "restart", "kill")
CORS_METHODS = "GET, POST, PATCH, PUT, DELETE, OPTIONS"
CORS_HEADERS = (
    "Accept, Accept-Encoding, Authorization, Cache-Control, Content-Type, Content-Length, Origin, "
    "X-Real-IP, X-CSRF-Token"
)


def daemon_of(request: web.Request) -> Daemon:
    return request.app[DAEMON]


def error_response(exc: WingsError, request_id: str) -> web.Response:
    body: dict[str, Any] = {"error": exc.message}
    if exc.with_request_id:
        body["request_id"] = request_id
    return web.json_response(body, status=exc.status)


def _cors(request: web.Request, response: web.StreamResponse) -> None:
    config = daemon_of(request).config
    origin = request.headers.get("Origin", "")
    allowed = config.remote
    if origin and (origin in config.allowed_origins or "*" in config.allowed_origins):
        allowed = origin
    response.headers["Access-Control-Allow-Origin"] = allowed
    response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
    response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
    response.headers["Access-Control-Max-Age"] = "7200"


def _is_bearer_route(request: web.Request) -> bool:
    path = request.path
    if not path.startswith("/api/"):
        return False
    # The websocket authenticates with a JWT in its first message, not with the node token.
    return not (request.method == "GET" and path.endswith("/ws") and path.startswith("/api/servers/"))


@web.middleware
async def wings_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    request_id = str(uuid_mod.uuid4())
    request["request_id"] = request_id
    # Wings answers with an id of its own; the panel's id (its correlation id, sent as
    # X-Request-Id) is logged so one request can be followed from the API into the node.
    log.info("%s %s panel_request_id=%s", request.method, request.path, request.headers.get("X-Request-Id", "-"))
    response: web.StreamResponse
    try:
        if request.method == "OPTIONS":
            response = web.Response(status=204)
        else:
            if _is_bearer_route(request):
                _authenticate(request)
            response = await handler(request)
    except WingsError as exc:
        response = error_response(exc, request_id)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
    except web.HTTPException as exc:
        response = exc
    except Exception:  # Wings' error capturer: log it, answer the generic 500
        log.exception("unhandled error on %s %s", request.method, request.path)
        response = error_response(captured(500), request_id)
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
        _cors(request, response)
    return response


def _authenticate(request: web.Request) -> None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not value:
        raise abort(401, errors.NOT_AUTHENTICATED)
    # The token is read live from the config so a rotated token applies at once.
    if not hmac.compare_digest(value.encode(), daemon_of(request).config.token.encode()):
        raise abort(403, errors.FORBIDDEN)


def server_of(request: web.Request) -> Server:
    server = daemon_of(request).servers.get(request.match_info["server"])
    if server is None:
        raise abort(404, errors.NO_SERVER)
    return server


async def json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        raise abort(400, errors.UNPARSABLE)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise captured(400) from exc


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise captured(400)
    return body


def jail_path(server: Server, path: str) -> Path:
    try:
        return resolve(server.directory, path, server.denylist)
    except BadPathError as exc:
        raise captured(404, errors.NOT_FOUND_FS) from exc
    except DeniedFileError as exc:
        raise captured(403, errors.DENYLIST) from exc


# -- system ---------------------------------------------------------------------------------------
async def get_system(request: web.Request) -> web.Response:
    uname = platform.uname()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(uname.machine, uname.machine)
    if request.query.get("v") == "2":
        servers = daemon_of(request).servers.values()
        running = sum(1 for s in servers if s.is_running)
        return web.json_response(
            {
                "version": VERSION,
                "docker": {
                    "version": "simulator",
                    "cgroups": {"driver": "none", "version": "none"},
                    "containers": {
                        "total": len(daemon_of(request).servers),
                        "running": running,
                        "paused": 0,
                        "stopped": len(daemon_of(request).servers) - running,
                    },
                    "storage": {"driver": "local-directory", "filesystem": "local"},
                    "runc": {"version": "none"},
                },
                "system": {
                    "architecture": arch,
                    "cpu_threads": os.cpu_count() or 1,
                    "memory_bytes": psutil.virtual_memory().total,
                    "kernel_version": uname.release,
                    "os": f"{uname.system} (Mamba Wings simulator)",
                    "os_type": uname.system.lower(),
                },
            }
        )
    return web.json_response(
        {
            "architecture": arch,
            "cpu_count": os.cpu_count() or 1,
            "kernel_version": uname.release,
            "os": uname.system.lower(),
            "version": VERSION,
        }
    )


async def post_update(request: web.Request) -> web.Response:
    """Replace the running configuration in memory (§2.3); config.yml on disk is left alone."""
    body = await json_object(request)
    config = daemon_of(request).config
    if config.ignore_panel_config_updates:
        return web.json_response({"applied": False})
    body.pop("allowed_mounts", None)  # excluded from JSON on this route in Wings
    try:
        config.update(body)
    except (ConfigError, ValueError, TypeError) as exc:
        raise captured(400) from exc
    return web.json_response({"applied": True})


# -- servers --------------------------------------------------------------------------------------
async def list_servers(request: web.Request) -> web.Response:
    servers = list(daemon_of(request).servers.values())
    objects = await asyncio.to_thread(lambda: [s.api_object() for s in servers])
    return web.json_response(objects)


async def get_server(request: web.Request) -> web.Response:
    server = server_of(request)
    return web.json_response(await asyncio.to_thread(server.api_object))


async def create_server(request: web.Request) -> web.Response:
    body = await json_object(request)
    server_uuid = body.get("uuid")
    if not isinstance(server_uuid, str) or not UUID_V4.match(server_uuid):
        raise abort(422, errors.INVALID)
    daemon = daemon_of(request)
    try:
        # Synchronously, inside this request: the panel must already have committed the server.
        document = await daemon.panel.server(server_uuid)
        existing = daemon.servers.get(server_uuid)
        if existing is not None:
            # A repeated create (the panel retrying) keeps the running process: refresh and reinstall.
            existing.apply(document)
            server = existing
        else:
            server = Server(daemon.config, daemon.panel, {"settings": {"uuid": server_uuid}, **document})
    except (RemoteError, KeyError, TypeError) as exc:
        log.error("create %s: %s", server_uuid, exc)
        raise captured(500) from exc
    if existing is None:
        daemon.add(server)
    daemon.spawn(server.install(reinstall=False, start_after=bool(body.get("start_on_completion"))))
    return web.Response(status=202)


async def delete_server(request: web.Request) -> web.Response:
    server = server_of(request)
    daemon = daemon_of(request)
    await server.destroy()
    daemon.servers.pop(server.uuid, None)
    daemon.save_states(server)
    return web.Response(status=204)


async def get_logs(request: web.Request) -> web.Response:
    server = server_of(request)
    try:
        size = int(request.query.get("size", "100"))
    except ValueError:
        size = 100
    size = 100 if size <= 0 or size > 100 else size
    lines = list(server.console)[-size:]
    return web.json_response({"data": lines or None})


async def post_power(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_object(request)
    action = body.get("action")
    if action not in POWER_ACTIONS:
        raise abort(422, 'The power action provided was not valid, should be one of "stop", "start", "restart", "kill"')
    if action in ("start", "restart") and server.suspended:
        raise abort(400, "Cannot start or restart a server that is suspended.")
    wait = body.get("wait_seconds")
    wait_seconds: float | None = None
    if isinstance(wait, int) and not isinstance(wait, bool) and wait != 0:
        wait_seconds = float(wait) if 0 < wait <= 300 else 30.0
    daemon_of(request).spawn(_power(server, str(action), wait_seconds))
    return web.Response(status=202)


async def _power(server: Server, action: str, wait_seconds: float | None) -> None:
    try:
        await server.power(action, wait_seconds)
    except (PowerBusyError, SuspendedError, RemoteError, OSError) as exc:
        # Power actions never report failure to the HTTP caller; the console shows it.
        log.warning("server %s: power %s failed: %s", server.uuid, action, exc)
        server.daemon_line(f"Power action {action} failed: {exc}")


async def post_commands(request: web.Request) -> web.Response:
    server = server_of(request)
    if not server.is_running:
        raise abort(502, "Cannot send commands to a stopped server instance.")
    body = await json_object(request)
    commands = body.get("commands")
    if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
        raise abort(422, errors.INVALID)
    for command in commands:
        await server.write_stdin(command)
    return web.Response(status=204)


async def post_install(request: web.Request) -> web.Response:
    server = server_of(request)
    daemon_of(request).spawn(server.install(reinstall=False))
    return web.Response(status=202)


async def post_reinstall(request: web.Request) -> web.Response:
    server = server_of(request)
    if server.power_lock.locked():
        raise abort(409, "Cannot execute server reinstall event while another power action is running.")
    daemon_of(request).spawn(_reinstall(server))
    return web.Response(status=202)


async def _reinstall(server: Server) -> None:
    async with server.power_lock:
        await server.stop(timeout=10)
    await server.install(reinstall=True)


async def post_sync(request: web.Request) -> web.Response:
    server = server_of(request)
    try:
        await server.sync()
    except RemoteError as exc:
        raise captured(500) from exc
    if server.suspended and server.is_running:
        daemon_of(request).spawn(server.stop(timeout=60))
    return web.Response(status=204)


async def post_ws_deny(request: web.Request) -> web.Response:
    server_of(request)
    body = await json_object(request)
    jtis = body.get("jtis")
    if isinstance(jtis, list):
        daemon_of(request).deny.deny([j for j in jtis if isinstance(j, str)])
    return web.Response(status=204)


async def post_deauthorize_user(request: web.Request) -> web.Response:
    """``POST /api/deauthorize-user {"user", "servers"}`` (newer Wings and Pelican, §9): close the
    user's console sockets on those servers (all when the list is empty). The simulator has no
    SFTP server, so there are no SFTP sessions to end. 204."""
    from local.wings_sim.websocket import deauthorize

    body = await json_object(request)
    user = body.get("user")
    servers = body.get("servers") or []
    if not isinstance(user, str) or not user or not isinstance(servers, list):
        raise captured(400)
    daemon = daemon_of(request)
    closed = await deauthorize(list(daemon.sockets), user, {s for s in servers if isinstance(s, str)})
    log.info("deauthorized user %s: %d socket(s) closed", user, closed)
    return web.Response(status=204)


# -- signed URLs (§2.8) ---------------------------------------------------------------------------
def signed_claims(request: web.Request) -> tuple[dict[str, Any], Server]:
    daemon = daemon_of(request)
    try:
        claims = parse(request.query.get("token", ""), daemon.config.token)
    except TokenError as exc:
        # An invalid or expired signed-URL token is a generic 500 in Wings, not 401/403.
        raise captured(500) from exc
    server = daemon.servers.get(str(claims.get("server_uuid")))
    if server is None or not daemon.unique_ids.consume(claims.get("unique_id")):
        raise abort(404, errors.SIGNED_NOT_FOUND)
    return claims, server


async def download_file(request: web.Request) -> web.StreamResponse:
    claims, server = signed_claims(request)
    path = jail_path(server, str(claims.get("file_path", "")))
    if path.is_dir():
        raise abort(404, errors.SIGNED_NOT_FOUND)
    if not path.is_file():
        raise captured(500)
    return web.FileResponse(
        path,
        headers={
            "Content-Disposition": f'attachment; filename="{path.name}"',
            "Content-Type": "application/octet-stream",
        },
    )


async def download_backup(request: web.Request) -> web.StreamResponse:
    claims, _server = signed_claims(request)
    backup = str(claims.get("backup_uuid", ""))
    path = daemon_of(request).config.state_dir / "backups" / f"{backup}.tar.gz"
    if not UUID_V4.match(backup) or not path.is_file():
        raise abort(404, "The requested backup was not found on this server.")
    return web.FileResponse(
        path,
        headers={
            "Content-Disposition": f'attachment; filename="{path.name}"',
            "Content-Type": "application/octet-stream",
        },
    )


async def upload_file(request: web.Request) -> web.Response:
    _claims, server = signed_claims(request)
    limit = daemon_of(request).config.upload_limit_mb * 1024 * 1024
    directory = jail_path(server, request.query.get("directory", "/"))
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name != "files" or not part.filename:
            continue
        target = jail_path(server, f"{request.query.get('directory', '/')}/{os.path.basename(part.filename)}")
        directory.mkdir(parents=True, exist_ok=True)
        written = 0
        partial = target.with_name(target.name + ".upload")
        with partial.open("wb") as fh:
            while chunk := await part.read_chunk():
                written += len(chunk)
                if written > limit:
                    fh.close()
                    partial.unlink(missing_ok=True)
                    raise abort(400, f"Uploaded file is too large (limit {limit // (1024 * 1024)} MB).")
                fh.write(chunk)
        partial.replace(target)
    return web.Response(status=200)
