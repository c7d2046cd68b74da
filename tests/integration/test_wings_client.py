"""The Wings client over real HTTP against a small programmable daemon stand-in.

The stand-in (``FakeDaemon``) answers each request from a queue of scripted replies and
records what it received, so the tests count requests (no retry of non-idempotent calls)
and read headers and bodies exactly as Wings would.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mamba.adapters.wings.client import NodeEndpoint, Timeouts, WingsHttpNodeAgent
from mamba.adapters.wings.errors import WingsNotFoundError, WingsRejectedError, WingsUnavailableError
from mamba.domain.errors import ValidationError

SERVER = "d3aac109-e5a0-4331-b03e-3454f7e136dc"
TOKEN = "t" * 64


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list → JSON; bytes → raw
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeDaemon:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.default = Reply(204)
        self.seen: list[Seen] = []
        daemon = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                daemon.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                reply = daemon.replies.pop(0) if daemon.replies else daemon.default
                if reply.delay:
                    time.sleep(reply.delay)
                raw = reply.body if isinstance(reply.body, bytes) else b""
                if reply.body is not None and not isinstance(reply.body, bytes):
                    raw = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def daemon() -> Iterator[FakeDaemon]:
    d = FakeDaemon()
    yield d
    d.close()


def agent_for(url: str, **kwargs: Any) -> WingsHttpNodeAgent:
    kwargs.setdefault("timeouts", Timeouts(connect=1, read=1, long_read=1, probe_connect=1, probe_read=1))
    return WingsHttpNodeAgent(
        NodeEndpoint("node-1", url, TOKEN), retries=2, backoff=0, request_id=lambda: "req-12345678", **kwargs
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- headers, bodies, results ---


def test_system_sends_bare_token_and_request_id_when_called(daemon):
    # Given a node that answers /api/system
    daemon.replies.append(Reply(200, {"architecture": "amd64", "version": "1.11.11", "os": "linux"}))

    # When the panel asks for system info
    info = agent_for(daemon.url).system()

    # Then the bearer is the bare token (no token id) and the request id travels
    assert info["version"] == "1.11.11"
    seen = daemon.seen[0]
    assert (seen.method, seen.path) == ("GET", "/api/system")
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["X-Request-Id"] == "req-12345678"


def test_create_server_posts_exactly_uuid_and_start_flag_when_called(daemon):
    # Given a node that accepts creates
    daemon.replies.append(Reply(202))

    # When a server is created
    agent_for(daemon.url).create_server(SERVER, start_on_completion=True)

    # Then the body is exactly what the reference panel sends
    assert daemon.seen[0].path == "/api/servers"
    assert json.loads(daemon.seen[0].body) == {"uuid": SERVER, "start_on_completion": True}


def test_create_server_refuses_uppercase_uuid_when_given_one(daemon):
    # Given an uppercase uuid (Wings would answer 422)
    # When / Then the client refuses before any request
    with pytest.raises(ValidationError):
        agent_for(daemon.url).create_server(SERVER.upper())
    assert daemon.seen == []


@pytest.mark.parametrize(
    ("call", "method", "path", "body"),
    [
        (
            lambda a: a.power(SERVER, "start", wait_seconds=30),
            "POST",
            "/power",
            {"action": "start", "wait_seconds": 30},
        ),
        (lambda a: a.send_commands(SERVER, ["say hi"]), "POST", "/commands", {"commands": ["say hi"]}),
        (lambda a: a.install(SERVER), "POST", "/install", None),
        (lambda a: a.reinstall(SERVER), "POST", "/reinstall", None),
        (lambda a: a.sync(SERVER), "POST", "/sync", None),
        (lambda a: a.deny_websocket_tokens(SERVER, ["j1"]), "POST", "/ws/deny", {"jtis": ["j1"]}),
        (lambda a: a.delete_server(SERVER), "DELETE", "", None),
        (lambda a: a.rename(SERVER, "/", [{"from": "a", "to": "b"}]), "PUT", "/files/rename", None),
        (lambda a: a.copy(SERVER, "/a.txt"), "POST", "/files/copy", {"location": "/a.txt"}),
        (lambda a: a.create_directory(SERVER, "logs", "/"), "POST", "/files/create-directory", None),
        (lambda a: a.delete_files(SERVER, "/", ["a"]), "POST", "/files/delete", {"root": "/", "files": ["a"]}),
        (lambda a: a.decompress(SERVER, "/", "p.zip"), "POST", "/files/decompress", {"root": "/", "file": "p.zip"}),
        (lambda a: a.chmod(SERVER, "/", [{"file": "s.sh", "mode": "755"}]), "POST", "/files/chmod", None),
        (lambda a: a.cancel_pull(SERVER, "dl-1"), "DELETE", "/files/pull/dl-1", None),
        (lambda a: a.create_backup(SERVER, "b-1", adapter="s3"), "POST", "/backup", None),
        (lambda a: a.restore_backup(SERVER, "b-1"), "POST", "/backup/b-1/restore", None),
        (lambda a: a.delete_backup(SERVER, "b-1"), "DELETE", "/backup/b-1", None),
        (lambda a: a.cancel_transfer(SERVER), "DELETE", "/transfer", None),
        (lambda a: a.start_transfer(SERVER, url="http://d/api/transfers", token="jwt"), "POST", "/transfer", None),
    ],
)
def test_server_route_uses_contract_path_when_called(daemon, call, method, path, body):
    # Given a node answering 204/202
    # When the call is made
    call(agent_for(daemon.url))

    # Then it hits the contract's method and path, with the contract's body
    seen = daemon.seen[0]
    assert (seen.method, seen.path.split("?")[0]) == (method, f"/api/servers/{SERVER}{path}")
    if body is not None:
        assert json.loads(seen.body) == body


def test_write_file_sends_raw_bytes_with_content_length_when_called(daemon):
    # Given a node accepting writes
    # When a file is written
    agent_for(daemon.url).write_file(SERVER, "/server.properties", b"motd=hi\n")

    # Then the raw body arrives with an explicit length
    seen = daemon.seen[0]
    assert seen.path == f"/api/servers/{SERVER}/files/write?file=%2Fserver.properties"
    assert seen.body == b"motd=hi\n"
    assert seen.headers["Content-Length"] == "8"


def test_read_file_returns_bytes_when_the_file_exists(daemon):
    daemon.replies.append(Reply(200, b"\x00binary"))

    content = agent_for(daemon.url).read_file(SERVER, "/world.dat")

    assert content == b"\x00binary"


def test_list_directory_sorts_directories_first_when_wings_returns_any_order(daemon):
    # Given an unordered listing
    daemon.replies.append(
        Reply(200, [{"name": "z.txt", "directory": False}, {"name": "b", "directory": True}, {"name": "a.txt"}])
    )

    # When listed
    names = [e["name"] for e in agent_for(daemon.url).list_directory(SERVER, "/")]

    # Then directories come first, then names
    assert names == ["b", "a.txt", "z.txt"]


def test_logs_are_empty_when_wings_sends_null_data(daemon):
    daemon.replies.append(Reply(200, {"data": None}))

    assert agent_for(daemon.url).logs(SERVER, size=500) == []
    assert "size=100" in daemon.seen[0].path


def test_pull_and_compress_return_wings_objects_when_accepted(daemon):
    daemon.replies += [Reply(202, {"identifier": "dl-1"}), Reply(200, {"name": "archive.tar.gz"})]
    agent = agent_for(daemon.url)

    assert agent.pull(SERVER, "https://example.org/x.jar", file_name="x.jar") == {"identifier": "dl-1"}
    assert agent.compress(SERVER, "/", ["world"])["name"] == "archive.tar.gz"


def test_list_servers_and_pulls_return_lists_when_wings_answers(daemon):
    daemon.replies += [Reply(200, [{"state": "running"}]), Reply(200, {"downloads": None}), Reply(200, {"state": "x"})]
    agent = agent_for(daemon.url)

    assert agent.list_servers() == [{"state": "running"}]
    assert agent.list_pulls(SERVER) == []
    assert agent.get_server(SERVER) == {"state": "x"}


def test_update_configuration_reports_applied_when_wings_applies(daemon):
    daemon.replies.append(Reply(200, {"applied": False}))

    assert agent_for(daemon.url).update_configuration({"remote": "http://p"}) is False


# --- typed errors ---


def test_missing_file_is_not_found_when_wings_answers_404_or_generic_500(daemon):
    # Given Wings answering a missing path with 404 once, then 1.11's generic 500
    daemon.replies += [
        Reply(404, {"error": "The requested resources was not found on the system."}),
        Reply(500, {"error": "An unexpected error was encountered", "request_id": "x"}),
    ]
    agent = agent_for(daemon.url)

    # When / Then both are WingsNotFoundError
    with pytest.raises(WingsNotFoundError):
        agent.read_file(SERVER, "/missing.txt")
    with pytest.raises(WingsNotFoundError):
        agent.list_directory(SERVER, "/missing")
    assert len(daemon.seen) == 2  # a file-route 500 is not retried


def test_rejection_carries_wings_message_when_wings_answers_4xx(daemon):
    # Given Wings refusing a power action with 400
    daemon.replies.append(Reply(400, {"error": "Cannot start or restart a server that is suspended."}))

    # When the action is sent
    with pytest.raises(WingsRejectedError) as caught:
        agent_for(daemon.url).power(SERVER, "start")

    # Then the error is 409 with Wings' own reason
    assert caught.value.status == 409
    assert caught.value.message == "Cannot start or restart a server that is suspended."


def test_denylist_403_on_a_file_route_is_a_typed_wings_file_denied_error(daemon):
    from mamba.domain.errors import FileDeniedError, WingsFileDeniedError

    # Given Wings refusing a write of a file on its egg's denylist (its capturer adds request_id)
    body = {"error": "This file cannot be modified: present in egg denylist.", "request_id": "r-1"}
    daemon.replies.append(Reply(403, body))

    # When the file is written
    with pytest.raises(WingsFileDeniedError) as caught:
        agent_for(daemon.url).write_file(SERVER, "/secret.key", b"x")

    # Then it is the panel's own 403 FILE_DENIED, saying who refused and why
    assert isinstance(caught.value, FileDeniedError)
    assert (caught.value.status, caught.value.code) == (403, "FILE_DENIED")
    assert caught.value.details["reason"] == body["error"]
    assert caught.value.details["wings_status"] == 403


@pytest.mark.parametrize(
    "message",
    ["You are not authorized to access this endpoint.", "Something else mentioning a denylist."],
)
def test_other_403s_on_a_file_route_are_the_nodes_token_refusal_not_file_denied(daemon, message):
    from mamba.domain.errors import FileDeniedError, WingsUnauthorizedError

    # Given Wings answering a file route with a 403 that is not its denylist refusal (a wrong token)
    daemon.replies.append(Reply(403, {"error": message}))

    # When the file is written
    with pytest.raises(WingsUnauthorizedError) as caught:
        agent_for(daemon.url).write_file(SERVER, "/notes.txt", b"x")

    # Then it is the node refusing the panel (409 WINGS_REJECTED), never mistaken for the denylist
    assert not isinstance(caught.value, FileDeniedError)
    assert (caught.value.status, caught.value.code) == (409, "WINGS_REJECTED")
    assert caught.value.details["wings_status"] == 403


def test_a_401_is_the_nodes_token_refusal_and_other_4xx_are_plain_rejections(daemon):
    from mamba.domain.errors import WingsUnauthorizedError

    daemon.replies.append(Reply(401, {"error": "The required authorization heads were not present in the request."}))
    daemon.replies.append(Reply(400, {"error": "Cannot start or restart a server that is suspended."}))
    agent = agent_for(daemon.url)

    with pytest.raises(WingsUnauthorizedError):
        agent.system()
    with pytest.raises(WingsRejectedError) as caught:
        agent.power(SERVER, "start")
    assert not isinstance(caught.value, WingsUnauthorizedError)


def test_rejection_keeps_422_when_wings_says_validation_failed(daemon):
    daemon.replies.append(Reply(422, {"error": "The data provided in the request could not be validated."}))

    with pytest.raises(WingsRejectedError) as caught:
        agent_for(daemon.url).rename(SERVER, "/", [])

    assert caught.value.status == 422


def test_commands_to_stopped_server_are_rejected_when_wings_answers_502(daemon):
    daemon.replies.append(Reply(502, {"error": "Cannot send commands to a stopped server instance."}))

    with pytest.raises(WingsRejectedError) as caught:
        agent_for(daemon.url).send_commands(SERVER, ["list"])

    assert "stopped" in caught.value.message
    assert len(daemon.seen) == 1


def test_unknown_server_is_not_found_when_wings_answers_404(daemon):
    daemon.replies.append(Reply(404, {"error": "The requested resource does not exist on this instance."}))

    with pytest.raises(WingsNotFoundError):
        agent_for(daemon.url).get_server(SERVER)


def test_node_down_is_unavailable_when_nothing_listens():
    # Given a port nobody listens on
    agent = agent_for(f"http://127.0.0.1:{closed_port()}")

    # When / Then a call is WingsUnavailableError with status 503 NODE_UNAVAILABLE
    with pytest.raises(WingsUnavailableError) as caught:
        agent.system()
    assert (caught.value.status, caught.value.code, caught.value.details["reason"]) == (
        503,
        "NODE_UNAVAILABLE",
        "unreachable",
    )


def test_server_error_is_unavailable_and_idempotent_get_is_retried_when_wings_answers_503(daemon):
    # Given a node that keeps answering 503
    daemon.default = Reply(503, {"error": "busy"})

    # When an idempotent call is made
    with pytest.raises(WingsUnavailableError):
        agent_for(daemon.url).list_servers()

    # Then it was tried once plus two retries
    assert len(daemon.seen) == 3


def test_retry_recovers_when_an_idempotent_call_fails_once(daemon):
    daemon.replies += [Reply(503), Reply(200, {"version": "1.11.11"})]

    assert agent_for(daemon.url).system()["version"] == "1.11.11"
    assert len(daemon.seen) == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.power(SERVER, "start"),
        lambda a: a.send_commands(SERVER, ["say hi"]),
        lambda a: a.create_server(SERVER),
        lambda a: a.install(SERVER),
        lambda a: a.reinstall(SERVER),
        lambda a: a.delete_server(SERVER),
        lambda a: a.create_backup(SERVER, "b-1"),
    ],
)
def test_non_idempotent_call_is_sent_once_when_wings_answers_5xx(daemon, call):
    # Given a node answering 503 to everything
    daemon.default = Reply(503, b"")

    # When a non-idempotent call is made
    with pytest.raises(WingsUnavailableError):
        call(agent_for(daemon.url))

    # Then exactly one request reached the node
    assert len(daemon.seen) == 1


def test_timeout_is_unavailable_and_power_is_not_retried_when_the_node_hangs(daemon):
    # Given a node slower than the read timeout
    daemon.default = Reply(202, delay=1.0)
    agent = agent_for(daemon.url, timeouts=Timeouts(connect=1, read=0.2))

    # When a power action is sent
    with pytest.raises(WingsUnavailableError) as caught:
        agent.power(SERVER, "start")

    # Then it is a timeout and was sent only once
    assert caught.value.details["reason"] == "timeout"
    assert len(daemon.seen) == 1


def test_list_servers_as_a_probe_uses_the_probe_timeout_and_is_not_retried(daemon):
    # Given a node slower than the probe's read timeout, though within the default one
    daemon.default = Reply(200, [], delay=0.6)
    agent = agent_for(daemon.url, timeouts=Timeouts(connect=1, read=5, probe_connect=1, probe_read=0.2))

    # When an operator's live view asks for the node's servers
    with pytest.raises(WingsUnavailableError) as caught:
        agent.list_servers(probe=True)

    # Then it gave up after the probe timeout, with one request
    assert caught.value.details["reason"] == "timeout"
    assert len(daemon.seen) == 1
    # And without probe the same node answers (the default read timeout)
    assert agent.list_servers() == []


def test_bad_power_action_and_backup_adapter_are_refused_when_given(daemon):
    agent = agent_for(daemon.url)

    with pytest.raises(ValidationError):
        agent.power(SERVER, "explode")
    with pytest.raises(ValidationError):
        agent.create_backup(SERVER, "b", adapter="ftp")
    with pytest.raises(ValidationError):
        agent.restore_backup(SERVER, "b", adapter="s3")
    assert daemon.seen == []


def test_non_json_success_body_is_unavailable_when_json_was_expected(daemon):
    daemon.replies.append(Reply(200, b"<html>proxy</html>"))

    with pytest.raises(WingsUnavailableError):
        agent_for(daemon.url).system()


def test_timeouts_choose_long_read_for_compress_when_asked():
    t = Timeouts()

    assert t.of("long") == (5.0, 900.0)
    assert t.of("default") == (5.0, 15.0)
    assert t.of("probe") == (2.0, 3.0)


def test_deauthorize_user_posts_the_user_and_servers_when_the_node_knows_the_route(daemon):
    # Given a node answering 204 (newer Wings, Pelican)
    # When the panel deauthorizes a user on one server
    supported = agent_for(daemon.url).deauthorize_user("usr_olga", [SERVER])

    # Then it posts the contract's body to the contract's path (§9)
    assert supported is True
    seen = daemon.seen[0]
    assert (seen.method, seen.path) == ("POST", "/api/deauthorize-user")
    assert json.loads(seen.body) == {"user": "usr_olga", "servers": [SERVER]}


@pytest.mark.parametrize("status", [404, 405])
def test_deauthorize_user_is_not_supported_when_an_older_wings_answers_404_or_405(daemon, status):
    # Given Wings 1.11, which has no such route
    daemon.replies.append(Reply(status, {"error": "not found"}))

    # When / Then the client says so instead of failing (the caller relies on ws/deny)
    assert agent_for(daemon.url).deauthorize_user("usr_olga", [SERVER]) is False
