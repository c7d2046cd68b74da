"""The simulator's file API, path jail, signed download/upload URLs and local backups, over real HTTP."""

from __future__ import annotations

import io
import os
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from tests.contract.wings import shapes
from tests.contract.wings.harness import running_node, wait_until

pytestmark = pytest.mark.xdist_group("wings_sim_files")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with running_node(tmp_path_factory.mktemp("wings"), servers=1) as n:
        yield n


@pytest.fixture
def server(node):
    server_uuid = node.create_installed()
    yield server_uuid
    node.http("DELETE", f"/api/servers/{server_uuid}")


def files(node, server_uuid, route, method="POST", **kwargs):
    return node.http(method, f"/api/servers/{server_uuid}/files/{route}", **kwargs)


def names(node, server_uuid, directory="/"):
    resp = files(node, server_uuid, f"list-directory?directory={directory}", method="GET")
    assert resp.status_code == 200, resp.text
    return sorted(e["name"] for e in resp.json())


def assert_missing(resp):
    # A missing path may be 404 or 500 (wings-contract.md §2.1); either way the Wings error body.
    assert resp.status_code in (404, 500), resp.status_code
    shapes.assert_daemon_error(resp.json())


def test_write_then_read_returns_the_bytes_when_file_is_in_the_root(node, server):
    # When a file is written and read back
    assert files(node, server, "write?file=/config/app.txt", data=b"hello world\n").status_code == 204
    resp = files(node, server, "contents?file=config/app.txt", method="GET")
    # Then the bytes, length and mime header come back; with download=1 it is an attachment
    assert resp.status_code == 200 and resp.content == b"hello world\n"
    assert resp.headers["Content-Length"] == "12"
    assert resp.headers["X-Mime-Type"].startswith("text/plain")
    download = files(node, server, "contents?file=config/app.txt&download=1", method="GET")
    assert download.headers["Content-Disposition"] == 'attachment; filename="app.txt"'
    assert (node.data_dir / server / "config" / "app.txt").stat().st_mode & 0o777 == 0o644


def test_missing_files_and_directories_get_the_error_body_when_read(node, server):
    assert_missing(files(node, server, "contents?file=nope.txt", method="GET"))
    assert_missing(files(node, server, "list-directory?directory=/nope", method="GET"))


@pytest.mark.parametrize("path", ["../outside.txt", "a/../../outside.txt", "/..//outside.txt", "..%2Foutside.txt"])
def test_paths_with_dotdot_are_refused_when_reading_or_writing(node, server, path):
    # Given a file next to the data directory that a jail escape would reach
    outside = node.data_dir / "outside.txt"
    # When the path climbs out of the root
    read = files(node, server, f"contents?file={path}", method="GET")
    write = files(node, server, f"write?file={path}", data=b"pwned")
    # Then both are refused and nothing was written outside
    assert_missing(read)
    assert write.status_code == 404
    assert not outside.exists()


def test_absolute_paths_stay_inside_the_server_root_when_given(node, server):
    # Given an absolute host path
    resp = files(node, server, "contents?file=/etc/passwd", method="GET")
    # Then it means <root>/etc/passwd, which does not exist, never the host file
    assert_missing(resp)
    assert b"root:" not in resp.content


def test_symlinks_out_of_the_jail_are_refused_when_followed(node, server, tmp_path):
    # Given a secret outside the server and symlinks to it inside the server directory
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    root = node.data_dir / server
    os.symlink(secret, root / "link.txt")
    os.symlink(tmp_path, root / "linkdir")
    # When the panel reads, writes or lists through them
    read = files(node, server, "contents?file=link.txt", method="GET")
    write = files(node, server, "write?file=linkdir/new.txt", data=b"x")
    listing = files(node, server, "list-directory?directory=linkdir", method="GET")
    # Then every call is refused and the outside is untouched
    assert_missing(read)
    assert b"top secret" not in read.content
    assert write.status_code == 404 and listing.status_code == 404
    assert not (tmp_path / "new.txt").exists()
    # And the link itself shows up as a symlink in the listing
    entries = {e["name"]: e for e in files(node, server, "list-directory", method="GET").json()}
    assert entries["link.txt"]["symlink"] is True


def test_denylisted_files_are_refused_with_403_when_touched(node, server):
    resp = files(node, server, "write?file=secret.key", data=b"x")
    assert resp.status_code == 403
    shapes.assert_daemon_error(resp.json(), shapes.DENYLIST)


def test_write_without_content_length_is_refused_when_chunked(node, server):
    resp = files(node, server, "write?file=chunked.txt", data=iter([b"a", b"b"]))
    assert resp.status_code == 400
    shapes.assert_daemon_error(resp.json(), "Missing Content-Length")


def test_rename_copy_delete_and_mkdir_change_the_tree_when_asked(node, server):
    files(node, server, "write?file=a.txt", data=b"A")
    files(node, server, "write?file=b.txt", data=b"B")
    assert files(node, server, "create-directory", json={"name": "plugins", "path": "/"}).status_code == 204
    # Rename onto an existing file is refused; onto a new name works; a missing source is ignored
    taken = files(node, server, "rename", method="PUT", json={"root": "/", "files": [{"from": "a.txt", "to": "b.txt"}]})
    assert taken.status_code == 400
    shapes.assert_daemon_error(taken.json(), shapes.RENAME_EXISTS)
    moves = [{"from": "a.txt", "to": "plugins/a.txt"}, {"from": "ghost.txt", "to": "x.txt"}]
    assert files(node, server, "rename", method="PUT", json={"root": "/", "files": moves}).status_code == 204
    assert files(node, server, "rename", method="PUT", json={"root": "/", "files": []}).status_code == 422
    # Copy makes "x copy.ext", then "x copy 2.ext"
    for _ in range(2):
        assert files(node, server, "copy", json={"location": "/plugins/a.txt"}).status_code == 204
    assert names(node, server, "/plugins") == ["a copy 2.txt", "a copy.txt", "a.txt"]
    # Delete is recursive; an empty list is 422
    assert files(node, server, "delete", json={"root": "/", "files": ["plugins", "b.txt"]}).status_code == 204
    assert files(node, server, "delete", json={"root": "/", "files": []}).status_code == 422
    assert "plugins" not in names(node, server) and "b.txt" not in names(node, server)


def test_compress_then_decompress_restores_the_files_when_round_tripped(node, server):
    files(node, server, "write?file=world/level.dat", data=b"level")
    files(node, server, "write?file=server.cfg", data=b"cfg")
    # When the panel compresses them
    resp = files(node, server, "compress", json={"root": "/", "files": ["world", "server.cfg"]})
    # Then a stat of archive-*.tar.gz comes back
    assert resp.status_code == 200
    stat = resp.json()
    shapes.assert_stat(stat)
    assert stat["name"].startswith("archive-") and stat["name"].endswith(".tar.gz")
    assert stat["mime"] == "application/tar+gzip"
    # When the originals are deleted and the archive extracted
    files(node, server, "delete", json={"root": "/", "files": ["world", "server.cfg"]})
    assert files(node, server, "decompress", json={"root": "/", "file": stat["name"]}).status_code == 204
    # Then they are back
    assert (node.data_dir / server / "world" / "level.dat").read_bytes() == b"level"


def test_decompress_refuses_members_that_escape_when_archive_is_hostile(node, server):
    # Given an archive whose member climbs out of the root
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    files(node, server, "write?file=evil.tar.gz", data=buffer.getvalue())
    # When it is extracted
    resp = files(node, server, "decompress", json={"root": "/", "file": "evil.tar.gz"})
    # Then it fails and nothing lands outside
    assert resp.status_code >= 400
    assert not (node.data_dir / "escaped.txt").exists() and not (node.data_dir.parent / "escaped.txt").exists()


def test_chmod_sets_the_mode_and_rejects_non_octal_when_asked(node, server):
    files(node, server, "write?file=start.sh", data=b"#!/bin/sh\n")
    ok = files(node, server, "chmod", json={"root": "/", "files": [{"file": "start.sh", "mode": "755"}]})
    bad = files(node, server, "chmod", json={"root": "/", "files": [{"file": "start.sh", "mode": "9z"}]})
    assert ok.status_code == 204
    assert (node.data_dir / server / "start.sh").stat().st_mode & 0o777 == 0o755
    assert bad.status_code == 400
    shapes.assert_daemon_error(bad.json(), "Invalid file mode.")


def test_pull_refuses_private_addresses_and_lists_no_downloads_when_idle(node, server):
    listed = files(node, server, "pull", method="GET")
    assert listed.status_code == 200 and listed.json() == {"downloads": None}
    resp = files(node, server, "pull", json={"url": f"{node.url}/api/system", "root": "/"})
    assert resp.status_code == 400
    shapes.assert_daemon_error(resp.json())


# -- signed URLs ----------------------------------------------------------------------------------
def test_signed_download_streams_the_file_once_when_token_is_valid(node, server):
    files(node, server, "write?file=maps/de_dust.bsp", data=b"MAPDATA")
    token = node.mint(lifetime=900, file_path="/maps/de_dust.bsp", server_uuid=server)
    # When the browser follows the signed URL
    first = node.http("GET", f"/download/file?token={token}", token=None)
    # Then the file comes as an attachment
    assert first.status_code == 200 and first.content == b"MAPDATA"
    assert first.headers["Content-Disposition"] == 'attachment; filename="de_dust.bsp"'
    # And the same unique_id is refused when replayed
    replay = node.http("GET", f"/download/file?token={token}", token=None)
    assert replay.status_code == 404
    shapes.assert_daemon_error(replay.json(), shapes.SIGNED_NOT_FOUND)


@pytest.mark.parametrize("case", ["expired", "wrong_key", "float_exp", "no_exp", "garbage"])
def test_signed_download_answers_500_when_the_token_does_not_verify(node, server, case):
    files(node, server, "write?file=f.txt", data=b"x")
    now = int(time.time())
    claims = {"file_path": "f.txt", "server_uuid": server, "unique_id": case, "iat": now, "exp": now + 600}
    key = node.token
    if case == "expired":
        claims["exp"] = now - 5
    elif case == "wrong_key":
        key = "k" * 64
    elif case == "float_exp":
        claims["exp"] = now + 600.5
    elif case == "no_exp":
        del claims["exp"]
    token = "not.a.jwt" if case == "garbage" else jwt.encode(claims, key, algorithm="HS256")
    resp = node.http("GET", f"/download/file?token={token}", token=None)
    assert resp.status_code == 500
    shapes.assert_daemon_error(resp.json(), shapes.GENERIC, request_id=True)


def test_signed_download_answers_404_when_server_is_unknown(node, server):
    token = node.mint(file_path="f.txt", server_uuid="0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d")
    resp = node.http("GET", f"/download/file?token={token}", token=None)
    assert resp.status_code == 404
    shapes.assert_daemon_error(resp.json(), shapes.SIGNED_NOT_FOUND)


def test_signed_downloads_of_missing_things_fail_as_wings_does_when_nothing_is_there(node, server):
    # A missing file is the generic 500; a directory and a missing backup are 404
    token = node.mint(file_path="nope.txt", server_uuid=server)
    missing = node.http("GET", f"/download/file?token={token}", token=None)
    assert missing.status_code == 500
    shapes.assert_daemon_error(missing.json(), shapes.GENERIC, request_id=True)
    files(node, server, "create-directory", json={"name": "dir", "path": "/"})
    directory = node.http("GET", f"/download/file?token={node.mint(file_path='dir', server_uuid=server)}", token=None)
    assert directory.status_code == 404
    backup = node.mint(backup_uuid="5a1b2c3d-4e5f-4a6b-9c7d-000000000000", server_uuid=server)
    assert node.http("GET", f"/download/backup?token={backup}", token=None).status_code == 404


def test_signed_download_refuses_jail_escapes_when_file_path_climbs(node, server):
    token = node.mint(file_path="../../config.yml", server_uuid=server)
    resp = node.http("GET", f"/download/file?token={token}", token=None)
    assert resp.status_code == 404
    assert node.token.encode() not in resp.content


def test_signed_upload_writes_each_file_when_token_is_valid(node, server):
    token = node.mint(server_uuid=server, user_uuid="9f1c0a34-2f6e-4d8b-a1de-6a2f1a7b9c10")
    upload = [("files", ("a.jar", b"AAA")), ("files", ("b.jar", b"BBBB"))]
    # When the browser uploads two files into /plugins
    resp = node.http("POST", f"/upload/file?token={token}&directory=/plugins", token=None, files=upload)
    # Then 200 with an empty body, and both files are in place
    assert resp.status_code == 200 and resp.content == b""
    assert names(node, server, "/plugins") == ["a.jar", "b.jar"]
    # And the token cannot be used twice
    again = node.http("POST", f"/upload/file?token={token}&directory=/plugins", token=None, files=upload)
    assert again.status_code == 404


def test_signed_upload_refuses_files_over_the_limit_when_too_large(node, server):
    # Given the node's upload_limit of 1 MiB
    token = node.mint(server_uuid=server)
    big = [("files", ("big.bin", b"x" * (1024 * 1024 + 1)))]
    resp = node.http("POST", f"/upload/file?token={token}&directory=/", token=None, files=big)
    assert resp.status_code == 400
    assert "big.bin" not in names(node, server)


# -- backups --------------------------------------------------------------------------------------
def test_local_backup_archives_the_directory_honouring_ignore_when_created(node, server):
    files(node, server, "write?file=keep.txt", data=b"keep")
    files(node, server, "write?file=logs/latest.log", data=b"noise")
    backup_uuid = "5a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d"
    body = {"adapter": "wings", "uuid": backup_uuid, "ignore": "*.log\ncache/"}
    # When the panel asks for a local backup
    assert node.http("POST", f"/api/servers/{server}/backup", json=body).status_code == 202
    # Then the completion reaches the panel with sha1 and size, and parts null
    call = node.panel.wait_for("POST", f"/api/remote/backups/{backup_uuid}")
    assert call.body["successful"] is True and call.body["checksum_type"] == "sha1"
    assert len(call.body["checksum"]) == 40 and call.body["size"] > 0 and call.body["parts"] is None
    # And the archive holds keep.txt but not the ignored log
    token = node.mint(backup_uuid=backup_uuid, server_uuid=server)
    archive = node.http("GET", f"/download/backup?token={token}", token=None)
    assert archive.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(archive.content)) as tar:
        members = tar.getnames()
    assert "keep.txt" in members and "logs/latest.log" not in members
    # When the files change and the backup is restored
    files(node, server, "delete", json={"root": "/", "files": ["keep.txt"]})
    restore = node.http("POST", f"/api/servers/{server}/backup/{backup_uuid}/restore", json={"adapter": "wings"})
    assert restore.status_code == 202
    restored = node.panel.wait_for("POST", f"/api/remote/backups/{backup_uuid}/restore")
    assert restored.body == {"successful": True}
    wait_until(lambda: (node.data_dir / server / "keep.txt").exists(), what="restored file")
    # Delete is 204 then 404
    assert node.http("DELETE", f"/api/servers/{server}/backup/{backup_uuid}").status_code == 204
    gone = node.http("DELETE", f"/api/servers/{server}/backup/{backup_uuid}")
    assert gone.status_code == 404
    shapes.assert_daemon_error(gone.json(), "The requested backup was not found on this server.")


def test_concurrent_requests_are_all_answered_correctly_when_many_arrive_at_once(node, server):
    def roundtrip(i: int) -> bool:
        body = f"payload {i}".encode()
        wrote = files(node, server, f"write?file=conc/{i}.txt", data=body).status_code == 204
        read = files(node, server, f"contents?file=conc/{i}.txt", method="GET").content == body
        listed = node.http("GET", "/api/servers").status_code == 200
        return wrote and read and listed

    # When 64 clients write, read and list at the same time
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(roundtrip, range(64)))
    # Then every one got its own bytes back
    assert all(results)
    assert len(names(node, server, "/conc")) == 64
