"""A tiny stand-in for the panel's remote API (wings-contract.md §5), for testing the daemon side.

It serves ``GET /api/remote/servers`` with Laravel's pagination (page 0 ⇒ page 1, integer meta), each
server's configuration and install document, and records every call (install, reset, backup
callbacks) so tests can wait for them. It authenticates ``Bearer <token_id>.<token>`` as §5.1 does.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

GAME_SCRIPT = (Path(__file__).parent / "data" / "game.py").read_text(encoding="utf-8")


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class FakePanel:
    token_id: str
    token: str
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    installs: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    fail_list_times: int = 0
    # Answers GET /api/remote/backups/{uuid}?size= (§5.9) when set: (backup uuid, size) → document.
    backup_urls: Callable[[str, int], dict[str, Any]] | None = None
    condition: threading.Condition = field(default_factory=threading.Condition)
    httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FakePanel:
        panel = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                panel.handle(self, "GET")

            def do_POST(self) -> None:
                panel.handle(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    # -- recording -----------------------------------------------------------------------------
    def record(self, call: Call) -> None:
        with self.condition:
            self.calls.append(call)
            self.condition.notify_all()

    def wait_for(self, method: str, path: str, timeout: float = 15.0) -> Call:
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                for call in self.calls:
                    if call.method == method and call.path == path:
                        return call
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {method} {path} within {timeout}s; calls: {self.paths()}")
                self.condition.wait(left)

    def paths(self) -> list[str]:
        return [f"{c.method} {c.path}" for c in self.calls]

    # -- serving -------------------------------------------------------------------------------
    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        self.record(Call(method, parts.path, parse_qs(parts.query), body, dict(handler.headers.items())))
        auth = handler.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return self.reply(handler, 401, _errors("HttpException", 401, "no credentials"))
        if auth != f"Bearer {self.token_id}.{self.token}":
            return self.reply(handler, 403, _errors("AccessDeniedHttpException", 403, "bad node credentials"))
        path = parts.path.removeprefix("/api/remote")
        segments = [s for s in path.split("/") if s]
        if method == "GET" and segments == ["servers"]:
            if self.fail_list_times > 0:
                self.fail_list_times -= 1
                return self.reply(handler, 503, _errors("ServiceUnavailable", 503, "booting"))
            return self.reply(handler, 200, self.page(parse_qs(parts.query)))
        if method == "GET" and len(segments) == 2 and segments[0] == "servers":
            document = self.servers.get(segments[1])
            if document is None:
                return self.reply(handler, 404, _errors("NotFoundHttpException", 404, "no such server"))
            return self.reply(handler, 200, document)
        if method == "GET" and len(segments) == 3 and segments[2] == "install":
            install = self.installs.get(segments[1])
            if install is None:
                return self.reply(handler, 404, _errors("NotFoundHttpException", 404, "no such server"))
            return self.reply(handler, 200, install)
        if method == "GET" and len(segments) == 2 and segments[0] == "backups" and self.backup_urls is not None:
            size = parse_qs(parts.query).get("size", [""])[0]
            if not size.isdigit():
                return self.reply(handler, 400, _errors("BadRequestHttpException", 400, "size is required"))
            return self.reply(handler, 200, self.backup_urls(segments[1], int(size)))
        if method == "POST":
            return self.reply(handler, 204, None)
        return self.reply(handler, 404, _errors("NotFoundHttpException", 404, "no route"))

    def page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        per_page = max(1, int(query.get("per_page", ["50"])[0]))
        page = max(1, int(query.get("page", ["1"])[0]))  # Laravel: page 0 is page 1
        entries = [{"uuid": uuid, **doc} for uuid, doc in sorted(self.servers.items())]
        last = max(1, math.ceil(len(entries) / per_page))
        chunk = entries[(page - 1) * per_page : page * per_page]
        start = (page - 1) * per_page + 1
        meta = {
            "current_page": page,
            "from": start if chunk else None,
            "last_page": last,
            "per_page": per_page,
            "to": start + len(chunk) - 1 if chunk else None,
            "total": len(entries),
        }
        return {"data": chunk, "meta": meta}

    @staticmethod
    def reply(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def _errors(code: str, status: int, detail: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "status": str(status), "detail": detail}]}


# The test game's egg: the harness starts the simulator with ``--allow-install`` for it, so its
# install script runs; any other egg id is one the simulator does not trust.
GAME_EGG_ID = "7d3c2a10-1b4f-4c1e-9a5e-2f6d8c9b0a11"


def game_server_document(uuid: str, python: str, **settings: Any) -> dict[str, Any]:
    """A complete §5.4 configuration document for the test game server."""
    document: dict[str, Any] = {
        "settings": {
            "uuid": uuid,
            "meta": {"name": "Test game", "description": ""},
            "suspended": False,
            "environment": {"SERVER_NAME": "alpha", "PYTHON_BIN": python, "P_SERVER_UUID": uuid},
            "invocation": "{{PYTHON_BIN}} -u game.py",
            "skip_egg_scripts": False,
            "build": {
                "memory_limit": 256,
                "swap": 0,
                "io_weight": 500,
                "cpu_limit": 100,
                "threads": None,
                "disk_space": 1024,
                "oom_disabled": True,
            },
            "container": {"image": "ghcr.io/pterodactyl/yolks:python_3.12"},
            "allocations": {
                "force_outgoing_ip": False,
                "default": {"ip": "127.0.0.1", "port": 27015},
                "mappings": {"127.0.0.1": [27015]},
            },
            "mounts": [],
            "egg": {"id": GAME_EGG_ID, "file_denylist": ["secret.key"]},
        },
        "process_configuration": {
            "startup": {"done": ["Server ready!"], "user_interaction": [], "strip_ansi": False},
            "stop": {"type": "command", "value": "stop"},
            "configs": [
                {
                    "file": "server.properties",
                    "parser": "properties",
                    "replace": [{"match": "server-port", "replace_with": "27015"}],
                }
            ],
        },
    }
    document["settings"].update(settings)
    return document


def game_install_document() -> dict[str, Any]:
    # CRLF on purpose: Wings turns it into LF before running the script.
    script = (
        f"#!/bin/bash\r\ncd /mnt/server\r\ncat > /mnt/server/game.py <<'PYEOF'\n{GAME_SCRIPT}PYEOF\necho installed\n"
    )
    return {
        "container_image": "ghcr.io/pterodactyl/installers:debian",
        "entrypoint": "bash",
        "script": script,
    }
