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
from tests.contract.wings.fake_panel import GAME_EGG_ID
from tests.fakes import FakeHostResolver

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


@pytest.fixture
def sent(monkeypatch):
    """Every request the Wings client sends from here on (method, path)."""
    calls = []
    original = WingsHttpNodeAgent._call

    def recording(self, method, path, **kwargs):
        calls.append((method, path))
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(WingsHttpNodeAgent, "_call", recording)
    return calls


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


def test_pull_is_refused_for_a_non_http_url_before_reaching_the_node(world, sent):
    ftp = world.post("alice", "files", "/files/pull", {"url": "ftp://example.org/pack.zip"})
    assert ftp.status_code == 400 and error(ftp)["code"] == "PULL_URL_REFUSED"
    assert error(ftp)["details"]["reason"] == "scheme"
    assert sent == []


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
    server_uuid = sim.add_server(egg={"id": GAME_EGG_ID, "file_denylist": ["wings-only.txt"]})
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


# --- the denylist through a parent folder, a link or a copy (issue 10, finding 8) ---------------


def reset_on_disk(world, *paths):
    import shutil

    for path in paths:
        target = on_disk(world, path)
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)


def test_rename_of_a_parent_folder_cannot_expose_a_denied_file(world, sent):
    # Given the blueprint protects config/license.key, and it exists
    reset_on_disk(world, "/config", "/cfg2")
    put_on_disk(world, "/config/license.key", b"the licence")
    # When its folder is renamed
    response = world.post("alice", "files", "/files/rename", {"root": "/", "files": [{"from": "config", "to": "cfg2"}]})
    # Then the panel refuses before asking the node, and the file is where it was
    assert response.status_code == 403, response.body[:300]
    assert error(response)["code"] == "FILE_DENIED"
    assert error(response)["details"]["reason"] == "holds_protected_files"
    assert ("PUT", f"/api/servers/{world.servers['files']}/files/rename") not in sent
    assert on_disk(world, "/config/license.key").read_bytes() == b"the licence"
    assert not on_disk(world, "/cfg2").exists()


def test_rename_of_a_folder_into_a_protected_place_cannot_create_a_denied_file(world):
    # Given no config folder, and a folder holding license.key elsewhere
    reset_on_disk(world, "/config", "/staging")
    put_on_disk(world, "/staging/license.key", b"forged")
    # When it is renamed to config (so config/license.key would be the forged file)
    response = world.post(
        "alice", "files", "/files/rename", {"root": "/", "files": [{"from": "staging", "to": "config"}]}
    )
    # Then the panel refuses, naming the protected path it would have made
    assert response.status_code == 403, response.body[:300]
    assert error(response)["details"] == {"path": "/config/license.key", "reason": "would_create_protected_file"}
    assert not on_disk(world, "/config").exists()
    # While a folder without it moves freely
    reset_on_disk(world, "/staging")
    put_on_disk(world, "/staging/readme.txt", b"fine")
    moved = world.post("alice", "files", "/files/rename", {"root": "/", "files": [{"from": "staging", "to": "config"}]})
    assert moved.status_code == 204, moved.body[:300]
    reset_on_disk(world, "/config")


# Each operation on a folder holding a denied file (*.lock matches at any depth, so the panel
# lists the folder through the node to find it).
HOLDING = [
    ("/files/compress", {"root": "/", "files": ["plugins"]}),
    ("/files/delete", {"root": "/", "files": ["plugins"]}),
    ("/files/chmod", {"root": "/", "files": [{"file": "plugins", "mode": "777"}]}),
    ("/files/rename", {"root": "/", "files": [{"from": "plugins", "to": "plugins-old"}]}),
    ("/files/copy", {"location": "/plugins"}),
]


@pytest.mark.parametrize(("tail", "body"), HOLDING, ids=[t for t, _ in HOLDING])
def test_compress_refuses_a_folder_holding_a_denied_file(world, tail, body):
    # Given a folder whose sub-folder holds a file the blueprint protects
    reset_on_disk(world, "/plugins", "/plugins-old")
    put_on_disk(world, "/plugins/db/session.lock", b"do not touch")
    put_on_disk(world, "/plugins/readme.txt", b"fine")
    before = set(names(world, "/"))
    # When the folder is packed, deleted, chmod-ed, renamed or copied
    response = world.post("alice", "files", tail, body)
    # Then it is refused, and nothing changed on the node
    assert response.status_code == 403, response.body[:300]
    assert error(response)["code"] == "FILE_DENIED"
    assert on_disk(world, "/plugins/db/session.lock").read_bytes() == b"do not touch"
    assert set(names(world, "/")) == before
    assert oct(on_disk(world, "/plugins").stat().st_mode & 0o777) != oct(0o777)


def test_a_folder_without_denied_files_is_compressed_after_the_node_lists_it(world, sent):
    reset_on_disk(world, "/mods")
    put_on_disk(world, "/mods/a/b.txt", b"b")
    packed = world.post("alice", "files", "/files/compress", {"root": "/", "files": ["mods"]})
    assert packed.status_code == 200, packed.body[:300]
    listed = [p for m, p in sent if m == "GET" and p.endswith("/files/list-directory")]
    assert len(listed) >= 2  # the folder and its sub-folder were looked at
    reset_on_disk(world, "/" + packed.json_body["name"], "/mods")


def test_decompress_cannot_create_a_denied_file(world):
    # Given an archive holding a file the node's denylist protects, next to an ordinary one
    import io
    import tarfile

    reset_on_disk(world, "/unpack")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("secret.key", b"forged"), ("ok.txt", b"ok")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    put_on_disk(world, "/unpack/pack.tar.gz", buffer.getvalue())
    # When it is extracted
    response = world.post("alice", "files", "/files/decompress", {"root": "/unpack", "file": "pack.tar.gz"})
    # Then the ordinary file is there and the protected name was skipped
    assert response.status_code == 204, response.body[:300]
    assert sorted(names(world, "/unpack")) == ["ok.txt", "pack.tar.gz"]
    # And an archive that is itself protected is not extracted at all
    put_on_disk(world, "/unpack/old.lock", b"x")
    refused = world.post("alice", "files", "/files/decompress", {"root": "/unpack", "file": "old.lock"})
    assert refused.status_code == 403 and error(refused)["code"] == "FILE_DENIED"


@pytest.mark.parametrize("path", ["/notes.txt", "/cfglink/license.key"])
def test_read_through_a_link_to_a_denied_file_is_refused(world, path):
    # Given links whose real location is the protected file
    reset_on_disk(world, "/notes.txt", "/cfglink")
    put_on_disk(world, "/config/license.key", b"the licence")
    on_disk(world, "/notes.txt").symlink_to(on_disk(world, "/config/license.key"))
    on_disk(world, "/cfglink").symlink_to(on_disk(world, "/config"))
    # When it is read, a download URL is asked for, or it is written or copied
    responses = (
        read(world, path),
        world.post("alice", "files", "/files/download-url", {"path": path}),
        world.post("alice", "files", "/files/write", {"path": path, "content": "forged"}),
        world.post("alice", "files", "/files/copy", {"location": path}),
    )
    # Then each is refused, and the protected file is untouched
    for response in responses:
        assert response.status_code == 403, response.body[:300]
        assert error(response)["details"]["reason"] == "symlink"
    assert on_disk(world, "/config/license.key").read_bytes() == b"the licence"
    reset_on_disk(world, "/notes.txt", "/cfglink")


def test_wings_denylist_403_is_a_typed_file_denied_error_in_the_adapter(world, node):
    from mamba.domain.errors import WingsFileDeniedError

    # The simulator's egg denies secret.key: the client itself turns that 403 into WingsFileDeniedError
    with pytest.raises(WingsFileDeniedError) as caught:
        node.write_file(world.servers["files"], "/secret.key", b"x")
    assert "denylist" in caught.value.details["reason"]


# --- pull targets (issue 10, finding 9) ---------------------------------------------------------


@pytest.fixture
def resolver():
    from mamba import bootstrap

    fake = FakeHostResolver(
        {
            "downloads.example.org": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
            "rebind.example.org": ["93.184.216.34", "127.0.0.1"],
            "internal.example.org": ["10.0.0.5"],
            "metadata.example.org": ["169.254.169.254"],
        }
    )
    with bootstrap.override(host_resolver=fake):
        yield fake


def pull(world, url):
    return world.post("alice", "files", "/files/pull", {"url": url})


def assert_refused(response, reason, sent):
    assert response.status_code == 400, response.body[:300]
    assert error(response)["code"] == "PULL_URL_REFUSED"
    assert error(response)["details"]["reason"] == reason
    assert not [p for _, p in sent if p.endswith("/files/pull")], "the node was asked"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://metadata.example.org/latest/",
    ],
)
def test_pull_refuses_cloud_metadata_addresses(world, resolver, sent, url):
    assert_refused(pull(world, url), "cloud_metadata", sent)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://2130706433/x.zip", "encoded_address"),
        ("http://0x7f.1/x.zip", "encoded_address"),
        ("http://0177.0.0.1/x.zip", "encoded_address"),
        ("http://127.1/x.zip", "encoded_address"),
        ("http://[::ffff:127.0.0.1]/x.zip", "embedded_loopback"),
        ("http://127.0.0.1:8080/x.zip", "loopback"),
        ("http://[::1]/x.zip", "loopback"),
        ("http://0.0.0.0/x.zip", "unspecified"),
    ],
)
def test_pull_refuses_encoded_loopback(world, resolver, sent, url, reason):
    assert_refused(pull(world, url), reason, sent)


@pytest.mark.parametrize(
    "url", ["https://user:secret@downloads.example.org/x.zip", "https://token@downloads.example.org/x.zip"]
)
def test_pull_refuses_urls_with_credentials(world, resolver, sent, url):
    response = pull(world, url)
    assert_refused(response, "credentials", sent)
    assert "secret" not in response.body.decode()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://internal.example.org/x.zip", "private"),
        ("https://rebind.example.org/x.zip", "loopback"),  # one private answer among public ones
        ("https://nowhere.example.org/x.zip", "unresolvable"),
        ("http://10.1.2.3/x.zip", "private"),
        ("http://[fe80::1]/x.zip", "link_local"),
        ("http://224.0.0.1/x.zip", "multicast"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://downloads.example.org/", "scheme"),
    ],
)
def test_pull_refuses_hosts_that_are_not_public(world, resolver, sent, url, reason):
    assert_refused(pull(world, url), reason, sent)


def test_pull_of_a_public_host_reaches_the_node(world, resolver, monkeypatch):
    asked = []
    monkeypatch.setattr(
        WingsHttpNodeAgent, "pull", lambda self, uuid, url, **kw: asked.append((uuid, url, kw)) or {"identifier": "i"}
    )
    response = pull(world, "https://downloads.example.org/pack.zip")
    assert response.status_code == 202, response.body[:300]
    assert resolver.asked == [("downloads.example.org", 443)]
    assert asked == [
        (
            world.servers["files"],
            "https://downloads.example.org/pack.zip",
            {"root": "/", "file_name": None, "use_header": False},
        )
    ]


def test_pull_into_a_denied_name_is_refused(world, resolver, sent):
    response = pull(world, "https://downloads.example.org/secret.key")
    assert response.status_code == 403 and error(response)["code"] == "FILE_DENIED"
    assert not [p for _, p in sent if p.endswith("/files/pull")]
