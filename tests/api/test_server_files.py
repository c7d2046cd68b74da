"""A server's files through the real app on moto and a real Wings simulator over HTTP:
round trips, signed URLs, the blueprint's denylist and path traversal."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from mamba.adapters.wings.client import NodeEndpoint, WingsHttpNodeAgent
from tests.api.server_world import server_world

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("server-files")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with server_world(tmp_path_factory.mktemp("files")) as w:
        yield w


@pytest.fixture(scope="module")
def node(world):
    """The simulator straight through the Wings client (to set up or inspect files behind the API)."""
    return WingsHttpNodeAgent(NodeEndpoint("sim", world.sim.url, world.sim.token), retries=0)


def on_disk(world, path):
    """A file in the server's directory on the simulator's disk (setup behind Wings' own checks)."""
    return world.sim.data_dir / world.servers["files"] / path.lstrip("/")


def put_on_disk(world, path, data: bytes) -> None:
    target = on_disk(world, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def error(response) -> dict:
    return response.json_body["error"]


def names(world, directory="/", who="alice"):
    response = world.get(who, "files", f"/files/list?directory={directory}")
    assert response.status_code == 200, response.body[:300]
    return [entry["name"] for entry in response.json_body["items"]]


def read(world, path, who="alice"):
    return world.get(who, "files", f"/files/contents?file={path}")


def test_write_read_rename_copy_and_delete_round_trip(world, node):
    # Given a file written through the API
    written = world.post("alice", "files", "/files/write", {"path": "/notes/hello.txt", "content": "hello wings\n"})
    assert written.status_code == 204, written.body[:300]
    # Then it reads back and is listed, and it is really on the node
    got = read(world, "/notes/hello.txt")
    assert got.status_code == 200 and got.json_body == {
        "path": "/notes/hello.txt",
        "size": 12,
        "content": "hello wings\n",
        "encoding": "utf-8",
    }
    assert "hello.txt" in names(world, "/notes")
    assert node.read_file(world.servers["files"], "/notes/hello.txt") == b"hello wings\n"
    # When it is renamed, copied and the copy deleted
    renamed = world.post(
        "alice", "files", "/files/rename", {"root": "/notes", "files": [{"from": "hello.txt", "to": "hi.txt"}]}
    )
    copied = world.post("alice", "files", "/files/copy", {"location": "/notes/hi.txt"})
    assert (renamed.status_code, copied.status_code) == (204, 204), (renamed.body[:200], copied.body[:200])
    assert sorted(names(world, "/notes")) == ["hi copy.txt", "hi.txt"]
    deleted = world.post("alice", "files", "/files/delete", {"root": "/notes", "files": ["hi copy.txt", "hi.txt"]})
    # Then only what is left is listed, and the deleted file is gone (a typed 404)
    assert deleted.status_code == 204
    assert names(world, "/notes") == []
    missing = read(world, "/notes/hi.txt")
    assert missing.status_code == 404 and error(missing)["code"] == "WINGS_NOT_FOUND"


def test_folder_compress_decompress_and_chmod(world, node):
    made = world.post("alice", "files", "/files/create-folder", {"root": "/", "name": "world"})
    assert made.status_code == 201 and made.json_body == {"path": "/world"}
    world.post("alice", "files", "/files/write", {"path": "/world/level.dat", "content": "level"})

    packed = world.post("alice", "files", "/files/compress", {"root": "/", "files": ["world"]})
    assert packed.status_code == 200, packed.body[:300]
    archive = packed.json_body["name"]
    assert archive.endswith(".tar.gz") and archive in names(world, "/")

    world.post("alice", "files", "/files/delete", {"root": "/", "files": ["world"]})
    unpacked = world.post("alice", "files", "/files/decompress", {"root": "/", "file": archive})
    assert unpacked.status_code == 204, unpacked.body[:300]
    assert read(world, "/world/level.dat").json_body["content"] == "level"

    changed = world.post(
        "alice", "files", "/files/chmod", {"root": "/world", "files": [{"file": "level.dat", "mode": "600"}]}
    )
    assert changed.status_code == 204, changed.body[:300]
    assert [e["mode_bits"] for e in node.list_directory(world.servers["files"], "/world")] == ["600"]
    bad_mode = world.post("alice", "files", "/files/chmod", {"root": "/", "files": [{"file": "x", "mode": "999"}]})
    assert bad_mode.status_code == 400


def test_binary_content_reads_back_base64(world):
    data = bytes(range(256))
    written = world.post(
        "alice",
        "files",
        "/files/write",
        {"path": "/bin.dat", "content": base64.b64encode(data).decode(), "encoding": "base64"},
    )
    assert written.status_code == 204
    got = read(world, "/bin.dat").json_body
    assert got["encoding"] == "base64" and base64.b64decode(got["content"]) == data


def test_large_file_is_413_through_the_api_and_must_use_a_signed_url(world, node):
    # Given a 6 MiB file on the node
    put_on_disk(world, "/big.log", b"x" * (6 * 1024 * 1024))
    # Then reading it through the API is refused before its content is fetched, naming the way out
    response = read(world, "/big.log")
    assert response.status_code == 413, response.body[:300]
    assert "download-url" in error(response)["message"]
    too_big = world.post(
        "alice", "files", "/files/write", {"path": "/big2.log", "content": "y" * (5 * 1024 * 1024 + 1)}
    )
    assert too_big.status_code == 413


def test_download_url_is_a_one_shot_signed_link_on_the_node(world):
    world.post("alice", "files", "/files/write", {"path": "/dl/readme.txt", "content": "download me"})
    # When a viewer (files.read) asks for a download URL
    response = world.post("vic", "files", "/files/download-url", {"path": "dl//./readme.txt"})
    assert response.status_code == 200, response.body[:300]
    url = response.json_body["url"]
    # Then it points at the node, carries a token for the normalised path, and works once
    assert url.startswith(f"{world.sim.url}/download/file?token=")
    claims = jwt.decode(
        parse_qs(urlsplit(url).query)["token"][0], world.sim.token, algorithms=["HS256"], audience=world.sim.url
    )
    assert (claims["file_path"], claims["scope"], claims["server_uuid"]) == (
        "/dl/readme.txt",
        "file-download",
        world.servers["files"],
    )
    first = requests.get(url, timeout=10)
    assert first.status_code == 200 and first.content == b"download me"
    assert requests.get(url, timeout=10).status_code == 404


def test_upload_url_accepts_a_multipart_upload_into_the_directory(world):
    response = world.post("alice", "files", "/files/upload-url", {"directory": "/uploads"})
    assert response.status_code == 200, response.body[:300]
    assert response.json_body["max_file_bytes"] == 1024 * 1024
    uploaded = requests.post(response.json_body["url"], files={"files": ("up.txt", b"uploaded bytes")}, timeout=10)
    assert uploaded.status_code == 200, uploaded.text
    assert read(world, "/uploads/up.txt").json_body["content"] == "uploaded bytes"


def test_viewer_reads_but_cannot_write_or_get_an_upload_url(world):
    world.post("alice", "files", "/files/write", {"path": "/v.txt", "content": "v"})
    assert read(world, "/v.txt", who="vic").status_code == 200
    for tail, body in (
        ("/files/write", {"path": "/v.txt", "content": "w"}),
        ("/files/delete", {"files": ["v.txt"]}),
        ("/files/upload-url", {}),
    ):
        response = world.post("vic", "files", tail, body)
        assert response.status_code == 403, tail
        assert error(response)["details"] == {"permission": "files.write"}


def test_another_tenants_server_files_are_404(world):
    for response in (
        world.get("alice", "theirs", "/files/list"),
        world.post("alice", "theirs", "/files/write", {"path": "/x", "content": "x"}),
        world.post("alice", "theirs", "/files/download-url", {"path": "/x"}),
    ):
        assert response.status_code == 404 and error(response)["code"] == "NOT_FOUND"


def test_pull_is_refused_for_a_non_http_url_and_wings_refusal_is_passed_on(world):
    ftp = world.post("alice", "files", "/files/pull", {"url": "ftp://example.org/pack.zip"})
    assert ftp.status_code == 400 and error(ftp)["code"] == "VALIDATION_ERROR"
    # The node refuses private addresses itself (§2.5): its reason reaches the caller
    private = world.post("alice", "files", "/files/pull", {"url": "http://10.0.0.1/pack.zip"})
    assert private.status_code in (409, 422), private.body[:300]
    assert error(private)["code"] == "WINGS_REJECTED"


# --- the denylist ------------------------------------------------------------------------------

DENIED = [
    ("get", "/files/contents?file=/secret.key", None),
    ("get", "/files/contents?file=/plugins/secret.key", None),
    ("post", "/files/write", {"path": "/data/world.lock", "content": "x"}),
    ("post", "/files/write", {"path": "/protected/a.txt", "content": "x"}),
    ("post", "/files/delete", {"root": "/", "files": ["protected"]}),
    ("post", "/files/rename", {"root": "/", "files": [{"from": "ok.txt", "to": "secret.key"}]}),
    ("post", "/files/rename", {"root": "/", "files": [{"from": "session.lock", "to": "ok.txt"}]}),
    ("post", "/files/copy", {"location": "/secret.key"}),
    ("post", "/files/chmod", {"root": "/", "files": [{"file": "a.lock", "mode": "777"}]}),
    ("post", "/files/compress", {"root": "/", "files": ["protected"]}),
    ("post", "/files/download-url", {"path": "/secret.key"}),
    ("post", "/files/create-folder", {"root": "/", "name": "protected"}),
]


@pytest.mark.parametrize(("method", "tail", "body"), DENIED, ids=[f"{m} {t}" for m, t, _ in DENIED])
def test_denylisted_path_is_403_file_denied(world, node, method, tail, body):
    # Given files the blueprint protects exist on the node
    for path in (
        "/secret.key",
        "/plugins/secret.key",
        "/protected/a.txt",
        "/data/world.lock",
        "/a.lock",
        "/session.lock",
    ):
        put_on_disk(world, path, b"do not touch")
    # When
    response = world.get("alice", "files", tail) if method == "get" else world.post("alice", "files", tail, body)
    # Then the panel refuses, and the protected file is untouched
    assert response.status_code == 403, response.body[:300]
    assert error(response)["code"] == "FILE_DENIED"
    for path in ("/secret.key", "/protected/a.txt", "/data/world.lock", "/session.lock"):
        assert on_disk(world, path).read_bytes() == b"do not touch"
    assert not on_disk(world, "/protected/a copy.txt").exists()


def test_listing_still_shows_denylisted_files(world, node):
    put_on_disk(world, "/secret.key", b"do not touch")
    assert "secret.key" in names(world, "/")


# --- traversal ---------------------------------------------------------------------------------

TRAVERSAL = [
    ("get", "/files/contents?file=../../etc/passwd", None),
    ("get", "/files/contents?file=/a/../../etc/passwd", None),
    ("get", "/files/list?directory=..", None),
    ("post", "/files/write", {"path": "/../outside.txt", "content": "x"}),
    ("post", "/files/write", {"path": "..\\..\\outside.txt", "content": "x"}),
    ("post", "/files/write", {"path": "/ok\x00.txt", "content": "x"}),
    ("post", "/files/rename", {"root": "/", "files": [{"from": "a.txt", "to": "../a.txt"}]}),
    ("post", "/files/rename", {"root": "/sub", "files": [{"from": "../a.txt", "to": "b.txt"}]}),
    ("post", "/files/delete", {"root": "/", "files": ["../"]}),
    ("post", "/files/delete", {"root": "/", "files": ["."]}),
    ("post", "/files/create-folder", {"root": "/", "name": "a/b"}),
    ("post", "/files/create-folder", {"root": "/", "name": ".."}),
    ("post", "/files/decompress", {"root": "/world", "file": "../../etc/passwd"}),
    ("post", "/files/download-url", {"path": "../../../../etc/shadow"}),
    ("post", "/files/upload-url", {"directory": "/../.."}),
    ("post", "/files/copy", {"location": "/" + "a" * 256}),
]


@pytest.mark.parametrize(("method", "tail", "body"), TRAVERSAL, ids=[repr(t)[:60] for t in TRAVERSAL])
def test_path_escaping_the_server_root_is_400_before_reaching_the_node(world, monkeypatch, method, tail, body):
    # Given every request the Wings client sends is recorded
    sent = []
    original = WingsHttpNodeAgent._call

    def recording(self, method, path, **kwargs):
        sent.append((method, path))
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(WingsHttpNodeAgent, "_call", recording)
    # When
    response = world.get("alice", "files", tail) if method == "get" else world.post("alice", "files", tail, body)
    # Then the panel refused it, and the node was never asked
    assert response.status_code == 400, response.body[:300]
    assert error(response)["code"] == "VALIDATION_ERROR"
    assert sent == []


def test_dot_segments_inside_the_root_are_normalised_not_refused(world, node):
    written = world.post("alice", "files", "/files/write", {"path": "a/./b/../c.txt", "content": "c"})
    assert written.status_code == 204, written.body[:300]
    assert node.read_file(world.servers["files"], "/a/c.txt") == b"c"
    assert names(world, "/a") == ["c.txt"]


def test_wings_own_denylist_refusal_is_the_same_403_file_denied(world):
    # Given a server whose egg on the node denies a file the panel's blueprint does not list
    # (the blueprint changed since the node last synced)
    from tests.api.server_world import TENANT_A, add_server

    sim = world.sim
    server_uuid = sim.add_server(
        egg={"id": "7d3c2a10-1b4f-4c1e-9a5e-2f6d8c9b0a11", "file_denylist": ["wings-only.txt"]}
    )
    assert sim.http("POST", "/api/servers", json={"uuid": server_uuid, "start_on_completion": False}).status_code == 202
    sim.panel.wait_for("POST", f"/api/remote/servers/{server_uuid}/install")
    add_server(server_uuid, TENANT_A)
    world.servers["wings-denied"] = server_uuid
    # When the file is written through the panel
    response = world.post("alice", "wings-denied", "/files/write", {"path": "/wings-only.txt", "content": "x"})
    # Then the node's refusal is answered as the panel's own
    assert response.status_code == 403, response.body[:300]
    assert error(response)["code"] == "FILE_DENIED"
    assert "denylist" in error(response)["details"]["reason"]


def test_pull_progress_lists_nothing_and_cancel_is_idempotent_when_no_download_runs(world):
    listed = world.get("vic", "files", "/files/pull")
    assert listed.status_code == 200 and listed.json_body == {"items": [], "next_cursor": None}
    path = world.path("files", "/files/pull/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d")
    assert world.client.http.delete(path, headers=world.headers("alice")).status_code == 204
    assert world.client.http.delete(path, headers=world.headers("vic")).status_code == 403
    bad = world.client.http.delete(world.path("files", "/files/pull/not-an-id"), headers=world.headers("alice"))
    assert bad.status_code == 404


def test_a_suspended_servers_files_cannot_change(world):
    for tail, body in (
        ("/files/write", {"path": "/x.txt", "content": "x"}),
        ("/files/delete", {"files": ["x.txt"]}),
        ("/files/upload-url", {}),
        ("/files/pull", {"url": "https://example.org/x.zip"}),
    ):
        response = world.post("alice", "suspended", tail, body)
        assert response.status_code == 409, (tail, response.body[:300])
        assert error(response)["details"]["status"] == "suspended"
