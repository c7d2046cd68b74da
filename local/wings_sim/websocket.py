"""The console websocket ``/api/servers/{uuid}/ws`` (wings-contract.md §3.3, §3.4, §4)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid as uuid_mod
from typing import Any

from aiohttp import WSMsgType, web

from local.wings_sim.api import daemon_of, server_of
from local.wings_sim.servers import OFFLINE, PowerBusyError, Server, SuspendedError
from local.wings_sim.tokens import BadSignatureError, TokenError, has_permission, parse, websocket_problem

log = logging.getLogger("wings_sim.ws")

STATS_SECONDS = 1.0
HIDDEN_ERROR = "an unexpected error was encountered while handling this request"
WS_DEAUTHORIZED = 4409  # close code of a socket ended by deauthorize-user (application range)
TOKEN_CHECK: web.AppKey[float] = web.AppKey("token_check_seconds", float)
GATED = {
    "install output": "admin.websocket.install",
    "backup completed": "backup.read",
    "transfer logs": "admin.websocket.transfer",
}
POWER_PERMISSION = {
    "start": "control.start",
    "stop": "control.stop",
    "restart": "control.restart",
    "kill": "control.stop",
}


class Session:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse, server: Server) -> None:
        self.daemon = daemon_of(request)
        self.ws = ws
        self.server = server
        self.claims: dict[str, Any] | None = None
        self.send_lock = asyncio.Lock()

    async def send(self, event: str, args: list[str] | None = None) -> None:
        frame: dict[str, Any] = {"event": event}
        if args:
            frame["args"] = args
        async with self.send_lock:
            if not self.ws.closed:
                with contextlib.suppress(ConnectionResetError):
                    await self.ws.send_str(json.dumps(frame))

    def problem(self) -> str | None:
        """Why the stored token can no longer be used, checked on every send and receive."""
        if self.claims is None:
            return "jwt: no jwt present"
        if self.claims.get("server_uuid") != self.server.uuid:
            return "jwt: server uuid mismatch"
        return websocket_problem(self.claims, self.daemon.boot_time, self.daemon.deny)

    def can(self, permission: str) -> bool:
        return self.claims is not None and has_permission(self.claims.get("permissions"), permission)

    async def emit(self, event: str, args: list[str]) -> None:
        """An outbound server event, replaced by a ``jwt error`` once the token is unusable."""
        if self.claims is None:
            return
        problem = self.problem()
        if problem is not None:
            await self.send("jwt error", [problem])
            return
        gate = GATED.get(event)
        if gate is None or self.can(gate):
            await self.send(event, args)

    async def auth(self, token: str) -> None:
        try:
            claims = parse(token, self.daemon.config.token)
        except BadSignatureError as exc:
            await self.daemon_error(str(exc))
            return
        except TokenError as exc:
            await self.send("jwt error", [str(exc)])
            return
        problem = websocket_problem(claims, self.daemon.boot_time, self.daemon.deny)
        if problem is None and not has_permission(claims.get("permissions"), "websocket.connect"):
            problem = "jwt: missing connect permission"
        if problem is not None:
            await self.send("jwt error", [problem])
            return
        first = self.claims is None
        self.claims = claims
        await self.send("auth success")
        if first:
            await self.send("status", [self.server.state])
            if self.server.state == OFFLINE:
                await self.send("stats", [json.dumps(await asyncio.to_thread(self.server.utilization))])

    async def daemon_error(self, text: str) -> None:
        message = text if self.can("admin.websocket.errors") else HIDDEN_ERROR
        await self.send("daemon error", [f"Error Event [{uuid_mod.uuid4()}]: {message}"])

    async def handle(self, event: str, args: list[str]) -> None:
        if event == "auth":
            await self.auth(args[0] if args else "")
            return
        problem = self.problem()
        if problem is not None:
            await self.send("jwt error", [problem])
            return
        if event == "send command":
            if self.can("control.console") and self.server.is_running and args:
                await self.server.write_stdin(args[0])
        elif event == "set state":
            action = args[0] if args else ""
            permission = POWER_PERMISSION.get(action)
            if permission is None or not self.can(permission):
                return
            self.daemon.spawn(self._power(action))
        elif event == "send logs":
            if self.server.is_running:
                lines = list(self.server.console)[-self.daemon.config.websocket_log_count :]
                for line in lines:
                    await self.send("console output", [line])
        elif event == "send stats":
            await self.send("stats", [json.dumps(await asyncio.to_thread(self.server.utilization))])

    async def _power(self, action: str) -> None:
        try:
            await self.server.power(action, None)
        except PowerBusyError:
            await self.daemon_error(
                "another power action is currently being processed for this server, please try again later"
            )
        except (SuspendedError, OSError) as exc:
            await self.daemon_error(str(exc))
        except Exception as exc:  # noqa: BLE001 - reported to the socket like Wings' daemon error
            await self.daemon_error(str(exc))


def _frame(data: str) -> tuple[str, list[str]] | None:
    try:
        frame = json.loads(data)
    except ValueError:
        return None
    if not isinstance(frame, dict) or not isinstance(frame.get("event"), str):
        return None
    args = frame.get("args") or []
    if not isinstance(args, list):
        return None
    # Go decodes args into []string: null becomes "", anything else non-string drops the frame.
    if any(a is not None and not isinstance(a, str) for a in args):
        return None
    return frame["event"], ["" if a is None else a for a in args]


def origin_allowed(request: web.Request) -> bool:
    config = daemon_of(request).config
    origin = request.headers.get("Origin", "")
    if origin and origin == config.remote:
        return True
    return any(o == "*" or o == origin for o in config.allowed_origins) and bool(origin)


async def websocket(request: web.Request) -> web.StreamResponse:
    server = server_of(request)
    if not origin_allowed(request):
        return web.Response(status=403, text="websocket: request origin not allowed by Upgrader.CheckOrigin\n")
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    session = Session(request, ws, server)
    session.daemon.sockets.add(session)
    queue: asyncio.Queue[tuple[str, list[str]]] = asyncio.Queue()
    server.subscribers.add(queue)
    tasks = [
        asyncio.ensure_future(_forward(session, queue)),
        asyncio.ensure_future(_stats(session)),
        asyncio.ensure_future(_token_watch(session, request.app[TOKEN_CHECK])),
    ]
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            parsed = _frame(msg.data)
            if parsed is not None:
                await session.handle(*parsed)
    finally:
        session.daemon.sockets.discard(session)
        server.subscribers.discard(queue)
        for task in tasks:
            task.cancel()
    return ws


async def deauthorize(sessions: list[Session], user: str, servers: set[str]) -> int:
    """Close the sockets authenticated as ``user`` on ``servers`` (every server when empty):
    ``POST /api/deauthorize-user`` (wings-contract.md §9). Returns how many were closed."""
    closed = 0
    for session in sessions:
        claims = session.claims or {}
        if claims.get("user_uuid") != user or (servers and session.server.uuid not in servers):
            continue
        await session.ws.close(code=WS_DEAUTHORIZED, message=b"deauthorized")
        closed += 1
    return closed


async def _forward(session: Session, queue: asyncio.Queue[tuple[str, list[str]]]) -> None:
    while True:
        event, args = await queue.get()
        await session.emit(event, args)
        if event == "deleted":
            await session.ws.close(code=1001, message=b"server deleted")
            return


async def _stats(session: Session) -> None:
    while True:
        await asyncio.sleep(STATS_SECONDS)
        if session.claims is not None and session.server.state != OFFLINE:
            usage = await asyncio.to_thread(session.server.utilization)
            await session.emit("stats", [json.dumps(usage)])


async def _token_watch(session: Session, interval: float) -> None:
    warned_expired = False
    while True:
        await asyncio.sleep(interval)
        if session.claims is None:
            continue
        left = int(session.claims.get("exp", 0)) - int(time.time())
        if left < 0:
            if not warned_expired:
                await session.send("token expired")
                warned_expired = True
            continue
        warned_expired = False
        if left <= 60:
            await session.send("token expiring")
