"""The simulator's S3 backups over real HTTP (wings-contract.md §2.6, §5.9): a FakePanel presigns a
multipart upload on a moto server; the simulator archives the server (ignore list honoured), PUTs
each part with Wings' headers (recorded by a pass-through proxy), reports sha1, size and ETags, and
restores from a presigned GET, truncating first and keeping to the path jail."""

from __future__ import annotations

import hashlib
import io
import math
import random
import tarfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

from tests.contract.wings.harness import Node, free_port, running_node

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wings-sim-backups")]

PART = 5 * 1024 * 1024
BUCKET = "sim-backups"


@dataclass
class PartProxy:
    """Forwards PUTs to moto and records the headers each part arrived with."""

    target: str
    seen: list[dict[str, str]] = field(default_factory=list)
    httpd: ThreadingHTTPServer | None = None

    def start(self) -> PartProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if "refuse=1" in self.path:  # S3's answer to a bad signature
                    self.send_response(403)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                proxy.seen.append({k.lower(): v for k, v in self.headers.items()} | {"_bytes": str(len(body))})
                forwarded = requests.put(proxy.target + self.path, data=body,
                                         headers={"Content-Type": self.headers.get("Content-Type", "")})  # fmt: skip
                self.send_response(forwarded.status_code)
                if "ETag" in forwarded.headers:
                    self.send_header("ETag", forwarded.headers["ETag"])
                self.send_header("Content-Length", str(len(forwarded.content)))
                self.end_headers()
                self.wfile.write(forwarded.content)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


@dataclass
class S3World:
    s3: Any
    proxy: PartProxy
    uploads: dict[str, str] = field(default_factory=dict)  # backup uuid → upload id

    def key(self, server: str, backup: str) -> str:
        return f"{server}/{backup}.tar.gz"


@pytest.fixture(scope="module")
def s3world() -> Iterator[S3World]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket=BUCKET)
    proxy = PartProxy(endpoint).start()
    try:
        yield S3World(s3, proxy)
    finally:
        proxy.stop()
        server.stop()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, s3world: S3World) -> Iterator[Node]:
    with running_node(tmp_path_factory.mktemp("wings-s3")) as n:
        yield n


def presigner(s3world: S3World, node: Node, server_uuid: str, through_proxy: bool = True) -> None:
    """Make the FakePanel answer the presign call as the panel does (one URL per part)."""

    def answer(backup_uuid: str, size: int) -> dict[str, Any]:
        key = s3world.key(server_uuid, backup_uuid)
        upload_id = s3world.s3.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType="application/x-gzip")[
            "UploadId"
        ]
        s3world.uploads[backup_uuid] = upload_id
        urls = []
        for number in range(1, max(1, math.ceil(size / PART)) + 1):
            params = {"Bucket": BUCKET, "Key": key, "UploadId": upload_id, "PartNumber": number}
            url = s3world.s3.generate_presigned_url("upload_part", Params=params, ExpiresIn=3600)
            if through_proxy:
                parts = urlsplit(url)
                url = f"{s3world.proxy.url}{parts.path}?{parts.query}"
            urls.append(url)
        return {"parts": urls, "part_size": PART}

    node.panel.backup_urls = answer


def fill(directory: Path) -> dict[str, bytes]:
    files = {
        "world/region.bin": random.Random(7).randbytes(6_500_000),  # incompressible: two parts
        "server.properties": b"motd=original\n",
        "cache/big.tmp": b"c" * 1000,
        "logs/latest.log": b"log line\n",
    }
    for rel, data in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def complete(s3world: S3World, server_uuid: str, backup_uuid: str, parts: list[dict[str, Any]]) -> bytes:
    key = s3world.key(server_uuid, backup_uuid)
    s3world.s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=key,
        UploadId=s3world.uploads[backup_uuid],
        MultipartUpload={"Parts": [{"PartNumber": p["part_number"], "ETag": p["etag"]} for p in parts]},
    )
    body: bytes = s3world.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def backup(node: Node, server_uuid: str, ignore: str) -> tuple[str, dict[str, Any]]:
    backup_uuid = str(uuid.uuid4())
    body = {"adapter": "s3", "uuid": backup_uuid, "ignore": ignore}
    assert node.http("POST", f"/api/servers/{server_uuid}/backup", json=body).status_code == 202
    call = node.panel.wait_for("POST", f"/api/remote/backups/{backup_uuid}", timeout=60)
    return backup_uuid, call.body


def test_s3_backup_uploads_parts_with_wings_headers_and_reports_sha1_size_and_etags(
    node: Node, s3world: S3World
) -> None:
    server_uuid = node.create_installed()
    directory = node.data_dir / server_uuid
    fill(directory)
    presigner(s3world, node, server_uuid)
    s3world.proxy.seen.clear()

    # When the panel asks for an S3 backup that ignores cache/ and *.log
    backup_uuid, reported = backup(node, server_uuid, "cache/\n*.log")

    # Then the presign call carried the archive's size, and each part went up with Wings' headers
    presign = node.panel.wait_for("GET", f"/api/remote/backups/{backup_uuid}")
    size = int(presign.query["size"][0])
    assert reported["successful"] is True and reported["size"] == size
    assert [p["part_number"] for p in reported["parts"]] == [1, 2]
    assert [int(h["_bytes"]) for h in s3world.proxy.seen] == [PART, size - PART]
    for headers in s3world.proxy.seen:
        assert headers["content-type"] == "application/x-gzip"
        assert headers["content-length"] == headers["_bytes"]
    # and the completed object is the archive: its sha1, its size, without the ignored files
    stored = complete(s3world, server_uuid, backup_uuid, reported["parts"])
    assert len(stored) == size
    assert hashlib.sha1(stored).hexdigest() == reported["checksum"]
    with tarfile.open(fileobj=io.BytesIO(stored)) as tar:
        names = set(tar.getnames())
    assert {"world/region.bin", "server.properties"} <= names
    assert not any(n.startswith("cache") or n.endswith(".log") for n in names)
    # and no local copy is kept
    assert not (node.data_dir / ".wings-sim" / "backups" / f"{backup_uuid}.tar.gz").exists()


def test_part_upload_refused_reports_a_failed_backup(node: Node, s3world: S3World) -> None:
    server_uuid = node.create_installed()
    (node.data_dir / server_uuid / "a.txt").write_bytes(b"a")

    def refused(backup_uuid: str, size: int) -> dict[str, Any]:
        return {"parts": [f"{s3world.proxy.url}/{BUCKET}/nope?partNumber=1&refuse=1"], "part_size": PART}

    node.panel.backup_urls = refused

    _, reported = backup(node, server_uuid, "")

    assert reported == {"checksum": "", "checksum_type": "", "size": 0, "successful": False, "parts": None}


def _presigned_get(s3world: S3World, key: str, content_type: str = "application/x-gzip") -> str:
    params = {"Bucket": BUCKET, "Key": key, "ResponseContentType": content_type}
    return str(s3world.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=300))


def test_s3_restore_truncates_downloads_and_extracts_the_original_content(node: Node, s3world: S3World) -> None:
    server_uuid = node.create_installed()
    directory = node.data_dir / server_uuid
    files = fill(directory)
    presigner(s3world, node, server_uuid)
    backup_uuid, reported = backup(node, server_uuid, "cache/")
    complete(s3world, server_uuid, backup_uuid, reported["parts"])

    # Given the files changed after the backup
    (directory / "server.properties").write_bytes(b"motd=changed\n")
    (directory / "new-file.txt").write_bytes(b"new")

    # When the panel restores from a presigned GET with truncate
    url = _presigned_get(s3world, s3world.key(server_uuid, backup_uuid))
    body = {"adapter": "s3", "truncate_directory": True, "download_url": url}
    response = node.http("POST", f"/api/servers/{server_uuid}/backup/{backup_uuid}/restore", json=body)
    assert response.status_code == 202, response.text

    # Then Wings reports success and the directory is the backup's content
    call = node.panel.wait_for("POST", f"/api/remote/backups/{backup_uuid}/restore", timeout=60)
    assert call.body == {"successful": True}
    assert (directory / "server.properties").read_bytes() == files["server.properties"]
    assert (directory / "world/region.bin").read_bytes() == files["world/region.bin"]
    assert not (directory / "new-file.txt").exists()
    assert not (directory / "cache").exists()


def test_s3_restore_with_a_non_gzip_content_type_is_400(node: Node, s3world: S3World) -> None:
    server_uuid = node.create_installed()
    s3world.s3.put_object(Bucket=BUCKET, Key="x/plain.tar.gz", Body=b"not an archive")
    url = _presigned_get(s3world, "x/plain.tar.gz", content_type="text/plain")

    body = {"adapter": "s3", "truncate_directory": False, "download_url": url}
    response = node.http("POST", f"/api/servers/{server_uuid}/backup/{uuid.uuid4()}/restore", json=body)

    assert response.status_code == 400
    assert "content type" in response.json()["error"]


def test_s3_restore_keeps_to_the_path_jail(node: Node, s3world: S3World) -> None:
    server_uuid = node.create_installed()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        payload = b"escaped"
        info = tarfile.TarInfo("../../escape.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    s3world.s3.put_object(Bucket=BUCKET, Key="x/evil.tar.gz", Body=buffer.getvalue())
    backup_uuid = str(uuid.uuid4())

    body = {"adapter": "s3", "download_url": _presigned_get(s3world, "x/evil.tar.gz")}
    response = node.http("POST", f"/api/servers/{server_uuid}/backup/{backup_uuid}/restore", json=body)
    assert response.status_code == 202

    call = node.panel.wait_for("POST", f"/api/remote/backups/{backup_uuid}/restore", timeout=60)
    assert call.body == {"successful": False}
    assert not (node.data_dir / "escape.txt").exists() and not (node.data_dir.parent / "escape.txt").exists()
