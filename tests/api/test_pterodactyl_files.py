"""Pterodactyl's client API for a server's files (and its databases, which answer 501), through
the real app on moto and a real Wings simulator over HTTP. Every answer with a body is checked
against Pterodactyl's own shape (tests/contract/pterodactyl_shapes.py); the behaviour is /v1's
(the same use cases), so the denylist, permissions and tenancy hold on this door too."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from mamba import bootstrap
from mamba.adapters.wings.client import NodeEndpoint, WingsHttpNodeAgent
from tests.api.server_world import server_world
from tests.contract.pterodactyl_shapes import assert_shape
from tests.fakes import FakeHostResolver

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pterodactyl-files")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with server_world(tmp_path_factory.mktemp("ptfiles")) as w:
        yield w


@pytest.fixture(scope="module")
def node(world):
    return WingsHttpNodeAgent(NodeEndpoint("sim", world.sim.url, world.sim.token), retries=0)


def url(world, label: str, tail: str) -> str:
    return f"/api/client/servers/{world.servers[label]}/files{tail}"


def call(
    world, method: str, label: str, tail: str, body=None, who: str = "alice", raw: bytes | None = None, raw_type=None
):
    headers = {"Authorization": f"Bearer {world.tokens[who]}", "Accept": "application/json"}
    if raw is not None:
        payload = raw
        headers["Content-Type"] = raw_type or "text/plain"
    else:
        payload = json.dumps(body) if body is not None else None
        headers["Content-Type"] = "application/json"
    return getattr(world.client.http, method)(url(world, label, tail), headers=headers, body=payload)


def names(world, directory: str = "/") -> list[str]:
    listed = call(world, "get", "files", f"/list?directory={directory}")
    assert listed.status_code == 200, listed.body[:300]
    return [entry["attributes"]["name"] for entry in listed.json_body["data"]]


def detail(response) -> dict:
    return response.json_body["errors"][0]


def test_write_list_read_rename_copy_delete_in_pterodactyls_shapes(world, node):
    # Given a file written the Pterodactyl way: the content is the raw body, the path the query
    written = call(world, "post", "files", "/write?file=/notes/hello.txt", raw=b"hello wings\n")
    assert written.status_code == 204, written.body[:300]
    assert node.read_file(world.servers["files"], "/notes/hello.txt") == b"hello wings\n"
    # Then the listing is a plain list of file_object items (no meta: Pterodactyl does not page it)
    listed = call(world, "get", "files", "/list?directory=/notes")
    assert listed.status_code == 200
    assert_shape("client_file_list", listed.json_body)
    assert "meta" not in listed.json_body
    (entry,) = listed.json_body["data"]
    assert entry["attributes"]["name"] == "hello.txt" and entry["attributes"]["size"] == 12
    assert entry["attributes"]["is_file"] is True and entry["attributes"]["created_at"].endswith("+00:00")
    # And the contents come back as the body itself, text/plain
    got = call(world, "get", "files", "/contents?file=/notes/hello.txt")
    assert got.status_code == 200 and got.body == b"hello wings\n"
    assert got.headers["Content-Type"].startswith("text/plain")
    # When it is renamed (PUT, as Pterodactyl), copied and the original deleted
    moves = {"root": "/notes", "files": [{"from": "hello.txt", "to": "hi.txt"}]}
    renamed = call(world, "put", "files", "/rename", moves)
    copied = call(world, "post", "files", "/copy", {"location": "/notes/hi.txt"})
    assert (renamed.status_code, copied.status_code) == (204, 204), (renamed.body[:200], copied.body[:200])
    assert sorted(names(world, "/notes")) == ["hi copy.txt", "hi.txt"]
    deleted = call(world, "post", "files", "/delete", {"root": "/notes", "files": ["hi.txt"]})
    # Then only the copy is left, and the deleted file is a 404 in Pterodactyl's error shape
    assert deleted.status_code == 204
    assert names(world, "/notes") == ["hi copy.txt"]
    missing = call(world, "get", "files", "/contents?file=/notes/hi.txt")
    assert missing.status_code == 404 and detail(missing)["code"] == "NotFoundHttpException"
    assert detail(missing)["status"] == "404"


@pytest.mark.parametrize("content_type", ["application/text", "application/json", "application/octet-stream"])
def test_every_clients_way_of_sending_the_raw_body_writes_it(world, node, content_type):
    # py-dactyl says application/text; other clients say JSON or bytes: the body is the file
    written = call(world, "post", "files", "/write?file=/kinds.txt", raw=b'{"not": "parsed"}', raw_type=content_type)
    assert written.status_code == 204, written.body[:300]
    assert node.read_file(world.servers["files"], "/kinds.txt") == b'{"not": "parsed"}'


def test_binary_raw_body_round_trips_as_bytes(world, node):
    data = bytes(range(256))
    assert call(world, "post", "files", "/write?file=/bin.dat", raw=data).status_code == 204
    assert node.read_file(world.servers["files"], "/bin.dat") == data
    headers = {"Authorization": f"Bearer {world.tokens['alice']}", "Accept": "application/octet-stream"}
    got = world.client.http.get(url(world, "files", "/contents?file=/bin.dat"), headers=headers)
    assert got.status_code == 200 and got.body == data
    assert got.headers["Content-Type"] == "application/octet-stream"
    # A client that accepts only JSON is told where the bytes are instead
    refused = call(world, "get", "files", "/contents?file=/bin.dat")
    assert refused.status_code == 406 and "files/download" in detail(refused)["detail"]


def test_folder_compress_returns_the_archive_as_a_file_object_then_decompress_and_chmod(world, node):
    made = call(world, "post", "files", "/create-folder", {"root": "/", "name": "world"})
    assert made.status_code == 204, made.body[:300]
    call(world, "post", "files", "/write?file=/world/level.dat", raw=b"level")

    packed = call(world, "post", "files", "/compress", {"root": "/", "files": ["world"]})
    assert packed.status_code == 200, packed.body[:300]
    assert_shape("client_file_object", packed.json_body)
    archive = packed.json_body["attributes"]["name"]
    assert archive.endswith(".tar.gz") and archive in names(world)

    call(world, "post", "files", "/delete", {"root": "/", "files": ["world"]})
    unpacked = call(world, "post", "files", "/decompress", {"root": "/", "file": archive})
    assert unpacked.status_code == 204, unpacked.body[:300]
    assert node.read_file(world.servers["files"], "/world/level.dat") == b"level"
    # Pterodactyl sends the mode as a number
    changed = call(world, "post", "files", "/chmod", {"root": "/world", "files": [{"file": "level.dat", "mode": 600}]})
    assert changed.status_code == 204, changed.body[:300]
    assert [e["mode_bits"] for e in node.list_directory(world.servers["files"], "/world")] == ["600"]


def test_download_and_upload_are_signed_urls_on_the_node(world):
    call(world, "post", "files", "/write?file=/dl/readme.txt", raw=b"download me")
    # A viewer (file.read-content) gets a one-shot download link
    down = call(world, "get", "files", "/download?file=/dl/readme.txt", who="vic")
    assert down.status_code == 200, down.body[:300]
    assert_shape("client_signed_url", down.json_body)
    link = down.json_body["attributes"]["url"]
    claims = jwt.decode(
        parse_qs(urlsplit(link).query)["token"][0], world.sim.token, algorithms=["HS256"], audience=world.sim.url
    )
    assert claims["file_path"] == "/dl/readme.txt" and claims["server_uuid"] == world.servers["files"]
    assert requests.get(link, timeout=10).content == b"download me"
    # An owner gets an upload link that takes Wings' multipart upload into ?directory=
    up = call(world, "get", "files", "/upload?directory=/uploads")
    assert up.status_code == 200, up.body[:300]
    assert_shape("client_signed_url", up.json_body)
    sent = requests.post(up.json_body["attributes"]["url"], files={"files": ("up.txt", b"up")}, timeout=10)
    assert sent.status_code == 200, sent.text
    assert "up.txt" in names(world, "/uploads")


def test_the_blueprints_denylist_holds_on_this_door(world):
    # secret.key is on the blueprint's file_denylist: refused before the node is asked
    for response in (
        call(world, "get", "files", "/contents?file=/secret.key"),
        call(world, "post", "files", "/write?file=/secret.key", raw=b"x"),
        call(world, "get", "files", "/download?file=/secret.key"),
    ):
        assert response.status_code == 403, response.body[:300]
        assert detail(response)["code"] == "AccessDeniedHttpException"


def test_a_viewer_reads_but_may_not_write(world):
    call(world, "post", "files", "/write?file=/v.txt", raw=b"v")
    assert call(world, "get", "files", "/contents?file=/v.txt", who="vic").status_code == 200
    for method, tail, body in (
        ("post", "/write?file=/v.txt", None),
        ("post", "/delete", {"root": "/", "files": ["v.txt"]}),
        ("get", "/upload", None),
        ("post", "/create-folder", {"root": "/", "name": "x"}),
    ):
        response = call(world, method, "files", tail, body, who="vic")
        assert response.status_code == 403, tail
        assert response.json_body == {
            "errors": [{"code": "AccessDeniedHttpException", "status": "403", "detail": detail(response)["detail"]}]
        }


def test_another_tenants_server_is_404_and_a_missing_field_is_422(world):
    for response in (
        call(world, "get", "theirs", "/list"),
        call(world, "post", "theirs", "/write?file=/x", raw=b"x"),
    ):
        assert response.status_code == 404 and detail(response)["code"] == "NotFoundHttpException"
    missing = call(world, "post", "files", "/create-folder", {"root": "/"})
    assert missing.status_code == 422
    assert [e["meta"]["source_field"] for e in missing.json_body["errors"]] == ["name"]
    no_file = call(world, "get", "files", "/contents")
    assert no_file.status_code == 422 and no_file.json_body["errors"][0]["meta"]["source_field"] == "file"


def test_the_server_is_reached_by_its_8_character_identifier(world):
    uuid = world.servers["files"]
    bootstrap.ptero_ids().number("server", uuid, "tn_a")
    headers = {"Authorization": f"Bearer {world.tokens['alice']}"}
    listed = world.client.http.get(f"/api/client/servers/{uuid[:8]}/files/list", headers=headers)
    assert listed.status_code == 200, listed.body[:300]
    assert "bin.dat" in [e["attributes"]["name"] for e in listed.json_body["data"]]


def test_pull_goes_through_the_same_public_address_check(world, monkeypatch):
    asked = []
    monkeypatch.setattr(
        WingsHttpNodeAgent, "pull", lambda self, uuid, url, **kw: asked.append((uuid, url, kw)) or {"identifier": "i"}
    )
    fake = FakeHostResolver({"downloads.example.org": ["93.184.216.34"], "internal.example.org": ["10.0.0.5"]})
    with bootstrap.override(host_resolver=fake):
        refused = call(world, "post", "files", "/pull", {"url": "https://internal.example.org/x.zip"})
        pulled = call(
            world,
            "post",
            "files",
            "/pull",
            {"url": "https://downloads.example.org/pack.zip", "directory": "/mods", "filename": "p.zip"},
        )
    assert refused.status_code == 400, refused.body[:300]
    assert pulled.status_code == 204, pulled.body[:300]
    assert asked == [
        (
            world.servers["files"],
            "https://downloads.example.org/pack.zip",
            {"root": "/mods", "file_name": "p.zip", "use_header": False},
        )
    ]


def test_databases_answer_501_in_pterodactyls_shape_after_the_guard(world):
    headers = {"Authorization": f"Bearer {world.tokens['alice']}", "Content-Type": "application/json"}
    base = f"/api/client/servers/{world.servers['files']}/databases"
    for response in (
        world.client.http.get(base, headers=headers),
        world.client.http.post(base, headers=headers, body=json.dumps({"database": "main", "remote": "%"})),
        world.client.http.post(f"{base}/abc/rotate-password", headers=headers),
        world.client.http.delete(f"{base}/abc", headers=headers),
    ):
        assert response.status_code == 501, response.body[:300]
        assert response.json_body["errors"][0]["status"] == "501"
        assert response.json_body["errors"][0]["code"] == "HttpException"
    theirs = world.client.http.get(f"/api/client/servers/{world.servers['theirs']}/databases", headers=headers)
    assert theirs.status_code == 404
