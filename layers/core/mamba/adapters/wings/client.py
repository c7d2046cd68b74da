"""``WingsHttpNodeAgent``: every daemon route the panel calls (wings-contract.md §2).

* Auth is the bare node token (``Authorization: Bearer <token>``, §8.1); the caller's
  request id travels as ``X-Request-Id``.
* Each call has a class with explicit (connect, read) timeouts (§7): ``default`` 5 s/15 s
  like the reference panel, ``probe`` for the health schedule, ``long`` (15 min) for
  compress and decompress.
* Only idempotent calls are retried (urllib3 ``Retry`` with backoff, on connection errors,
  read timeouts and 502/503/504). Create, delete, power, commands, install, reinstall,
  rename, copy, compress, decompress, pull, backup and transfer calls are sent once: a
  retried ``power start`` or ``commands`` would act twice.
* Outcomes are typed (``mamba.domain.errors``): ``WingsUnavailableError`` (network error,
  timeout, 5xx, open circuit breaker), ``WingsRejectedError`` (4xx with Wings' message;
  422 stays 422), ``WingsFileDeniedError`` (a file route's 403 for the egg's denylist, a
  ``FileDeniedError``; recognised here, the one place that reads Wings' bodies),
  ``WingsUnauthorizedError`` (any other 401/403: the node holds another token),
  ``WingsNotFoundError`` (404; and 500 on the file routes, because Wings 1.11 answers a
  missing path with a generic 500, §2.1).
* A per-node circuit breaker (``breaker.DynamoCircuitBreaker``) is consulted before each
  call and told its outcome. Only "the node did not answer usefully" counts as a failure;
  a 4xx, a 404 or a file-route 500 is the node working.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from mamba.domain.errors import (
    ValidationError,
    WingsFileDeniedError,
    WingsNotFoundError,
    WingsRejectedError,
    WingsUnauthorizedError,
    WingsUnavailableError,
)
from mamba.observability import current_request_id, emit_metric, logger

CallClass = Literal["default", "probe", "long"]
Expect = Literal["json", "none", "bytes"]

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
POWER_ACTIONS = frozenset({"start", "stop", "restart", "kill"})
BACKUP_ADAPTERS = frozenset({"wings", "s3"})
RETRY_STATUSES = (502, 503, 504)
USER_AGENT = "Mamba-Panel (wings-client)"
# Wings' 403 body for a path on the egg's file_denylist (wings-contract.md §2.1).
DENYLIST_REFUSAL = "This file cannot be modified: present in egg denylist."


@dataclass(frozen=True)
class Timeouts:
    """(connect, read) seconds per call class. The reference panel uses 5 s / 15 s and 15 min
    for compress and decompress (wings-contract.md §7)."""

    connect: float = 5.0
    read: float = 15.0
    long_read: float = 900.0
    probe_connect: float = 2.0
    probe_read: float = 3.0

    def of(self, call: CallClass) -> tuple[float, float]:
        if call == "probe":
            return self.probe_connect, self.probe_read
        if call == "long":
            return self.connect, self.long_read
        return self.connect, self.read


@dataclass(frozen=True)
class NodeEndpoint:
    """Where a node's daemon listens and the bare token it accepts."""

    node_id: str
    url: str  # {scheme}://{fqdn}:{daemon port}, no trailing slash
    token: str
    verify_tls: bool = True


class Breaker(Protocol):
    def before_call(self, node_id: str) -> Any: ...
    def succeeded(self, ticket: Any) -> None: ...
    def failed(self, ticket: Any) -> None: ...


_sessions: dict[tuple[bool, int, float], requests.Session] = {}
_sessions_lock = threading.Lock()


def _session(idempotent: bool, retries: int, backoff: float) -> requests.Session:
    """One pooled session per retry policy and container (requests sessions are reused, not per call)."""
    key = (idempotent, retries if idempotent else 0, backoff)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            retry = Retry(
                total=key[1],
                connect=key[1],
                read=key[1],
                status=key[1],
                other=0,
                backoff_factor=backoff,
                status_forcelist=RETRY_STATUSES,
                allowed_methods=None,  # the session is chosen by idempotency, not by verb
                raise_on_status=False,
                respect_retry_after_header=False,
            )
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=retry, pool_connections=8, pool_maxsize=16)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[key] = session
        return session


def _wings_message(response: requests.Response) -> str:
    """Wings' ``{"error": "..."}`` text, or a short description when the body is not that."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return f"The node answered HTTP {response.status_code}."


def _is_denylist_refusal(response: requests.Response) -> bool:
    """Wings' 403 for a path on the egg's denylist, as opposed to its 403 for a wrong node token
    (wings-contract.md §2.1). Wings says which only in the text of its error body (its
    ``ErrCodeDenylistFile``), so this compares the whole sentence it sends."""
    return _wings_message(response).strip().rstrip(".").lower() == DENYLIST_REFUSAL.rstrip(".").lower()


def _has_wings_error_body(response: requests.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str)


def _is_timeout(exc: requests.RequestException) -> bool:
    """requests reports a read timeout whose retries ran out as a ConnectionError wrapping
    urllib3's MaxRetryError; look at the reason underneath."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, NewConnectionError):  # a subclass of ConnectTimeoutError, but refused
        return False
    return isinstance(reason, ReadTimeoutError | ConnectTimeoutError)


def _seg(value: str) -> str:
    return quote(value, safe="")


def check_uuid(server_uuid: str) -> str:
    """Wings keys servers on a lowercase v4 uuid (§8.5); anything else never reaches the node."""
    if not UUID_V4.match(server_uuid):
        raise ValidationError("A server uuid must be a lowercase UUID v4.", {"uuid": server_uuid})
    return server_uuid


class WingsHttpNodeAgent:
    """The daemon API of one node. Cheap to build; sessions are shared per container."""

    def __init__(
        self,
        node: NodeEndpoint,
        *,
        breaker: Breaker | None = None,
        timeouts: Timeouts | None = None,
        retries: int = 2,
        backoff: float = 0.3,
        request_id: Callable[[], str] = current_request_id,
    ) -> None:
        self.node = node
        self.breaker = breaker
        self.timeouts = timeouts or Timeouts()
        self.retries = retries
        self.backoff = backoff
        self.request_id = request_id

    # --- the one request path ---

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
        idempotent: bool,
        call: CallClass = "default",
        expect: Expect = "none",
        missing_as_500: bool = False,
    ) -> Any:
        ticket = self.breaker.before_call(self.node.node_id) if self.breaker is not None else None
        headers = {
            "Authorization": f"Bearer {self.node.token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "X-Request-Id": self.request_id(),
        }
        payload: bytes | None = data
        if data is not None:
            headers["Content-Type"] = "application/octet-stream"
        elif body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body).encode()
        url = f"{self.node.url.rstrip('/')}{path}"
        where = {"node_id": self.node.node_id, "method": method, "path": path}
        started = time.monotonic()
        try:
            response = _session(idempotent, self.retries, self.backoff).request(
                method,
                url,
                params=params,
                data=payload,
                headers=headers,
                timeout=self.timeouts.of(call),
                verify=self.node.verify_tls,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            self._latency(started)
            self._failed(ticket, "timeout" if _is_timeout(exc) else "unreachable")
            if _is_timeout(exc):
                raise WingsUnavailableError(
                    "The node did not answer in time. Try again; if it persists the node may be overloaded or down.",
                    {**where, "reason": "timeout"},
                ) from exc
            # connection refused, DNS, TLS, retries exhausted
            raise WingsUnavailableError(
                "The node could not be reached. Try again later; an admin may need to check the node.",
                {**where, "reason": "unreachable"},
            ) from exc

        status = response.status_code
        details = {**where, "wings_status": status}
        self._latency(started)
        if status < 400:
            self._succeeded(ticket)
            if expect == "json":
                try:
                    return response.json()
                except ValueError as exc:
                    raise WingsUnavailableError("The node answered with a body that is not JSON.", details) from exc
            if expect == "bytes":
                return response.content
            return None
        if status == 404:
            self._succeeded(ticket)
            raise WingsNotFoundError(_wings_message(response), details)
        if status == 500 and missing_as_500 and _has_wings_error_body(response):
            # Wings 1.11 answers a missing path on the file routes with its generic 500 (§2.1).
            self._succeeded(ticket)
            raise WingsNotFoundError("The file or directory does not exist on the node.", details)
        if status == 502 and _has_wings_error_body(response):
            # Wings' own 502 is a refusal ("Cannot send commands to a stopped server instance."),
            # not a proxy failing: the node answered.
            self._succeeded(ticket)
            raise WingsRejectedError(_wings_message(response), details)
        if status >= 500:
            self._failed(ticket, "5xx")
            raise WingsUnavailableError(f"The node failed to handle the request ({status}). Try again later.", details)
        self._succeeded(ticket)
        if status == 403 and "/files/" in path and _is_denylist_refusal(response):
            # The egg's file_denylist (Wings' ErrCodeDenylistFile): the same typed 403 as the
            # panel's own check, e.g. for a blueprint changed since the node last synced.
            raise WingsFileDeniedError(
                "This file is protected by the server's blueprint and cannot be accessed.",
                {**details, "reason": _wings_message(response)},
            )
        if status in (401, 403):
            # Any other 401/403 is the auth middleware's: the node holds another token (§2.1).
            raise WingsUnauthorizedError(_wings_message(response), details)
        raise WingsRejectedError(_wings_message(response), details, status=422 if status == 422 else 409)

    def _latency(self, started: float) -> None:
        """Operator metric per node (docs/observability.md): how long every call took."""
        took = round((time.monotonic() - started) * 1000, 3)
        emit_metric("WingsCallLatency", took, "Milliseconds", node=self.node.node_id)

    def _succeeded(self, ticket: Any) -> None:
        if self.breaker is not None:
            self.breaker.succeeded(ticket)

    def _failed(self, ticket: Any, reason: str) -> None:
        """The node failed the call (``timeout``, ``unreachable`` or its own ``5xx``): the breaker
        counts it and so does the operator metric. A 4xx, or Wings' 502 refusal, is the node
        answering, not failing."""
        if self.breaker is not None:
            self.breaker.failed(ticket)
        emit_metric("WingsCallErrors", 1, node=self.node.node_id, reason=reason)
        logger.warning("wings call failed", extra={"node_id": self.node.node_id, "reason": reason})

    def _server(self, server_uuid: str, tail: str = "") -> str:
        return f"/api/servers/{_seg(check_uuid(server_uuid))}{tail}"

    # --- system ---

    def system(self, *, probe: bool = False, extended: bool = False) -> dict[str, Any]:
        """``GET /api/system``; ``probe`` uses the short health-check timeouts and no retries."""
        params = {"v": "2"} if extended else None
        result: dict[str, Any] = self._call(
            "GET",
            "/api/system",
            params=params,
            idempotent=not probe,
            call="probe" if probe else "default",
            expect="json",
        )
        return result

    def update_configuration(self, configuration: dict[str, Any]) -> bool:
        """``POST /api/update`` with the node's config document; False when the node ignores panel updates."""
        result = self._call("POST", "/api/update", body=configuration, idempotent=True, expect="json")
        return bool(isinstance(result, dict) and result.get("applied"))

    # --- servers ---

    def list_servers(self, *, probe: bool = False) -> list[dict[str, Any]]:
        """``GET /api/servers``; ``probe`` (an operator's live view) uses the short timeouts and no retries."""
        result = self._call(
            "GET", "/api/servers", idempotent=not probe, call="probe" if probe else "default", expect="json"
        )
        return list(result or [])

    def get_server(self, server_uuid: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", self._server(server_uuid), idempotent=True, expect="json")
        return result

    def create_server(self, server_uuid: str, *, start_on_completion: bool = False) -> None:
        """Wings calls back ``GET /api/remote/servers/{uuid}`` inside this request: commit the row first."""
        body = {"uuid": check_uuid(server_uuid), "start_on_completion": start_on_completion}
        self._call("POST", "/api/servers", body=body, idempotent=False)

    def delete_server(self, server_uuid: str) -> None:
        self._call("DELETE", self._server(server_uuid), idempotent=False)

    def power(self, server_uuid: str, action: str, *, wait_seconds: int | None = None) -> None:
        if action not in POWER_ACTIONS:
            raise ValidationError("The power action must be start, stop, restart or kill.", {"action": action})
        body: dict[str, Any] = {"action": action}
        if wait_seconds is not None:
            body["wait_seconds"] = wait_seconds
        self._call("POST", self._server(server_uuid, "/power"), body=body, idempotent=False)

    def send_commands(self, server_uuid: str, commands: list[str]) -> None:
        self._call("POST", self._server(server_uuid, "/commands"), body={"commands": commands}, idempotent=False)

    def install(self, server_uuid: str) -> None:
        self._call("POST", self._server(server_uuid, "/install"), idempotent=False)

    def reinstall(self, server_uuid: str) -> None:
        self._call("POST", self._server(server_uuid, "/reinstall"), idempotent=False)

    def sync(self, server_uuid: str) -> None:
        """Wings re-fetches the configuration from the panel synchronously; safe to repeat."""
        self._call("POST", self._server(server_uuid, "/sync"), idempotent=True)

    def logs(self, server_uuid: str, size: int = 100) -> list[str]:
        size = min(max(size, 1), 100)
        result = self._call(
            "GET", self._server(server_uuid, "/logs"), params={"size": str(size)}, idempotent=True, expect="json"
        )
        return [str(line) for line in (result or {}).get("data") or []]

    def deny_websocket_tokens(self, server_uuid: str, jtis: list[str]) -> None:
        self._call("POST", self._server(server_uuid, "/ws/deny"), body={"jtis": jtis}, idempotent=True)

    def deauthorize_user(self, user_uuid: str, server_uuids: list[str]) -> bool:
        """``POST /api/deauthorize-user`` (newer Wings and Pelican, wings-contract.md §9): close the
        user's console sockets and SFTP sessions on these servers. False when the node is too old
        to know the route (404/405 from Wings 1.11): the caller then relies on ``ws/deny``."""
        body = {"user": user_uuid, "servers": [check_uuid(u) for u in server_uuids]}
        try:
            self._call("POST", "/api/deauthorize-user", body=body, idempotent=True)
        except WingsNotFoundError:
            return False
        except WingsRejectedError as exc:
            if exc.details.get("wings_status") == 405:
                return False
            raise
        return True

    # --- transfers (source node) ---

    def start_transfer(self, server_uuid: str, *, url: str, token: str, start_on_completion: bool = False) -> None:
        body = {
            "url": url,
            "token": f"Bearer {token}",
            "server": {"uuid": check_uuid(server_uuid), "start_on_completion": start_on_completion},
        }
        self._call("POST", self._server(server_uuid, "/transfer"), body=body, idempotent=False)

    def cancel_transfer(self, server_uuid: str) -> None:
        self._call("DELETE", self._server(server_uuid, "/transfer"), idempotent=False)

    # --- files (paths are relative to the server root) ---

    def read_file(self, server_uuid: str, path: str, *, download: bool = False) -> bytes:
        params = {"file": path, **({"download": "1"} if download else {})}
        result: bytes = self._call(
            "GET",
            self._server(server_uuid, "/files/contents"),
            params=params,
            idempotent=True,
            expect="bytes",
            missing_as_500=True,
        )
        return result

    def list_directory(self, server_uuid: str, directory: str = "/") -> list[dict[str, Any]]:
        result = self._call(
            "GET",
            self._server(server_uuid, "/files/list-directory"),
            params={"directory": directory},
            idempotent=True,
            expect="json",
            missing_as_500=True,
        )
        return sorted(result or [], key=lambda entry: (not entry.get("directory"), str(entry.get("name"))))

    def rename(self, server_uuid: str, root: str, files: list[dict[str, str]]) -> None:
        """``files`` is ``[{"from": ..., "to": ...}]``."""
        self._call(
            "PUT", self._server(server_uuid, "/files/rename"), body={"root": root, "files": files}, idempotent=False
        )

    def copy(self, server_uuid: str, location: str) -> None:
        self._call(
            "POST",
            self._server(server_uuid, "/files/copy"),
            body={"location": location},
            idempotent=False,
            missing_as_500=True,
        )

    def write_file(self, server_uuid: str, path: str, content: bytes) -> None:
        """Raw bytes with an explicit Content-Length (Wings refuses chunked bodies)."""
        self._call(
            "POST", self._server(server_uuid, "/files/write"), params={"file": path}, data=content, idempotent=True
        )

    def create_directory(self, server_uuid: str, name: str, path: str = "/") -> None:
        self._call(
            "POST",
            self._server(server_uuid, "/files/create-directory"),
            body={"name": name, "path": path},
            idempotent=True,
        )

    def delete_files(self, server_uuid: str, root: str, files: list[str]) -> None:
        self._call(
            "POST", self._server(server_uuid, "/files/delete"), body={"root": root, "files": files}, idempotent=True
        )

    def compress(self, server_uuid: str, root: str, files: list[str]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST",
            self._server(server_uuid, "/files/compress"),
            body={"root": root, "files": files},
            idempotent=False,
            call="long",
            expect="json",
            missing_as_500=True,
        )
        return result

    def decompress(self, server_uuid: str, root: str, file: str) -> None:
        self._call(
            "POST",
            self._server(server_uuid, "/files/decompress"),
            body={"root": root, "file": file},
            idempotent=False,
            call="long",
            missing_as_500=True,
        )

    def chmod(self, server_uuid: str, root: str, files: list[dict[str, str]]) -> None:
        """``files`` is ``[{"file": ..., "mode": "755"}]``."""
        self._call(
            "POST",
            self._server(server_uuid, "/files/chmod"),
            body={"root": root, "files": files},
            idempotent=True,
            missing_as_500=True,
        )

    def list_pulls(self, server_uuid: str) -> list[dict[str, Any]]:
        result = self._call("GET", self._server(server_uuid, "/files/pull"), idempotent=True, expect="json")
        return list((result or {}).get("downloads") or [])

    def pull(
        self,
        server_uuid: str,
        url: str,
        *,
        root: str = "/",
        file_name: str | None = None,
        use_header: bool = False,
        foreground: bool = False,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"url": url, "root": root, "use_header": use_header, "foreground": foreground}
        if file_name:
            body["file_name"] = file_name
        result = self._call(
            "POST",
            self._server(server_uuid, "/files/pull"),
            body=body,
            idempotent=False,
            call="long" if foreground else "default",
            expect="json",
        )
        return dict(result or {})

    def cancel_pull(self, server_uuid: str, download_id: str) -> None:
        self._call("DELETE", self._server(server_uuid, f"/files/pull/{_seg(download_id)}"), idempotent=True)

    # --- backups ---

    def create_backup(self, server_uuid: str, backup_uuid: str, *, adapter: str = "wings", ignore: str = "") -> None:
        if adapter not in BACKUP_ADAPTERS:
            raise ValidationError("A backup adapter is wings or s3.", {"adapter": adapter})
        body = {"adapter": adapter, "uuid": backup_uuid, "ignore": ignore}
        self._call("POST", self._server(server_uuid, "/backup"), body=body, idempotent=False)

    def restore_backup(
        self,
        server_uuid: str,
        backup_uuid: str,
        *,
        adapter: str = "wings",
        truncate_directory: bool = False,
        download_url: str | None = None,
    ) -> None:
        if adapter not in BACKUP_ADAPTERS:
            raise ValidationError("A backup adapter is wings or s3.", {"adapter": adapter})
        if adapter == "s3" and not download_url:
            raise ValidationError("Restoring an S3 backup needs its download URL.", {"adapter": adapter})
        body: dict[str, Any] = {"adapter": adapter, "truncate_directory": truncate_directory}
        if download_url:
            body["download_url"] = download_url
        self._call(
            "POST",
            self._server(server_uuid, f"/backup/{_seg(backup_uuid)}/restore"),
            body=body,
            idempotent=False,
            call="long",
        )

    def delete_backup(self, server_uuid: str, backup_uuid: str) -> None:
        self._call("DELETE", self._server(server_uuid, f"/backup/{_seg(backup_uuid)}"), idempotent=False)
