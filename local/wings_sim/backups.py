"""Backups (wings-contract.md §2.6, §5.9): a real tar.gz of the server directory honouring the
ignore list, its sha1 and size reported to the panel; restore and delete.

* ``wings`` adapter: the archive stays in the node's backup directory.
* ``s3`` adapter: the panel presigns the multipart upload (``GET /api/remote/backups/{uuid}?size=``);
  each part is PUT with exactly ``part_size`` bytes (the last one the remainder),
  ``Content-Type: application/x-gzip`` and an explicit ``Content-Length``; a 5xx is retried for
  up to a minute; the ETags go back in the completion POST; the local archive is then deleted.
  A restore GETs the presigned URL before answering, requires a gzip ``Content-Type``, and
  extracts the download in the background through the same path jail (tarfile's ``data`` filter).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from local.wings_sim import errors
from local.wings_sim.api import UUID_V4, daemon_of, json_object, server_of
from local.wings_sim.errors import abort, captured
from local.wings_sim.jail import is_denied
from local.wings_sim.remote import PanelClient, RemoteError
from local.wings_sim.servers import Server

log = logging.getLogger("wings_sim.backups")
FAILED = {"checksum": "", "checksum_type": "", "size": 0, "successful": False, "parts": None}
GZIP_TYPES = ("application/gzip", "application/x-gzip")
PART_RETRY_SECONDS = 60.0
CHUNK = 1 << 20


class UploadError(Exception):
    """A part could not be uploaded (a 4xx, or 5xx/network errors for longer than a minute)."""


def backup_path(request: web.Request, backup_uuid: str) -> Path:
    return daemon_of(request).config.state_dir / "backups" / f"{backup_uuid}.tar.gz"


def _ignore_patterns(server: Server, ignore: str) -> list[str]:
    if not ignore.strip():
        pteroignore = server.directory / ".pteroignore"
        if pteroignore.is_file() and not pteroignore.is_symlink() and pteroignore.stat().st_size <= 32 * 1024:
            ignore = pteroignore.read_text(encoding="utf-8", errors="replace")
    return [line for line in ignore.splitlines() if line.strip() and not line.startswith("#")]


def _archive(server: Server, target: Path, patterns: list[str]) -> tuple[str, int]:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, "w:gz") as tar:
        for dirpath, dirnames, filenames in os.walk(server.directory):
            rel_dir = os.path.relpath(dirpath, server.directory)
            rel_dir = "" if rel_dir == "." else rel_dir
            dirnames[:] = [d for d in dirnames if not is_denied(os.path.join(rel_dir, d), patterns)]
            for name in filenames:
                rel = os.path.join(rel_dir, name)
                if not is_denied(rel, patterns):
                    tar.add(os.path.join(dirpath, name), arcname=rel, recursive=False)
    sha1 = hashlib.sha1()  # noqa: S324 - Wings reports sha1 checksums; this is not a security use
    with target.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            sha1.update(chunk)
    return sha1.hexdigest(), target.stat().st_size


async def post_backup(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_object(request)
    adapter, backup_uuid = body.get("adapter"), body.get("uuid")
    if adapter not in ("wings", "s3") or not isinstance(backup_uuid, str) or not UUID_V4.match(backup_uuid):
        raise captured(500)
    target = backup_path(request, backup_uuid)
    patterns = _ignore_patterns(server, str(body.get("ignore") or ""))
    daemon_of(request).spawn(_run_backup(server, daemon_of(request).panel, str(adapter), backup_uuid, target, patterns))
    return web.Response(status=202)


async def _run_backup(
    server: Server, panel: PanelClient, adapter: str, backup_uuid: str, target: Path, patterns: list[str]
) -> None:
    result: dict[str, Any] = dict(FAILED)
    try:
        checksum, size = await asyncio.to_thread(_archive, server, target, patterns)
        result = {"checksum": checksum, "checksum_type": "sha1", "size": size, "successful": True, "parts": None}
        if adapter == "s3":
            result["parts"] = await _upload_to_s3(panel, backup_uuid, target, size)
    except (OSError, RemoteError, UploadError, aiohttp.ClientError, TimeoutError) as exc:
        log.error("backup %s failed: %s", backup_uuid, exc)
        result = dict(FAILED)
    finally:
        if adapter == "s3":
            target.unlink(missing_ok=True)  # the S3 adapter keeps no local copy
    try:
        await panel.backup_status(backup_uuid, result)
    except RemoteError as exc:
        # Wings deletes the archive when the panel does not acknowledge it.
        log.error("backup %s completion failed: %s", backup_uuid, exc)
        target.unlink(missing_ok=True)
        result = dict(FAILED)
    event = {
        "uuid": backup_uuid,
        "is_successful": result["successful"],
        "checksum": result["checksum"],
        "checksum_type": "sha1",
        "file_size": result["size"],
    }
    server.publish("backup completed", json.dumps(event))


async def _upload_to_s3(panel: PanelClient, backup_uuid: str, archive: Path, size: int) -> list[dict[str, Any]]:
    """Ask the panel for presigned part URLs and PUT each part as Wings does; the part ETags."""
    document = await panel.backup_upload_urls(backup_uuid, size)
    part_size = int(document["part_size"])
    parts: list[dict[str, Any]] = []
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for number, url in enumerate(document["parts"], start=1):
            offset = (number - 1) * part_size
            length = max(0, min(part_size, size - offset))
            etag = await _put_part(session, str(url), archive, offset, length)
            parts.append({"etag": etag, "part_number": number})
    return parts


async def _put_part(session: aiohttp.ClientSession, url: str, archive: Path, offset: int, length: int) -> str:
    deadline = time.monotonic() + PART_RETRY_SECONDS
    delay = 0.5
    while True:
        data = await asyncio.to_thread(_read_range, archive, offset, length)
        headers = {"Content-Type": "application/x-gzip", "Content-Length": str(length)}
        try:
            async with session.put(url, data=data, headers=headers) as resp:
                text = await resp.text()
                if resp.status == 200:
                    etag = resp.headers.get("ETag")
                    if not etag:
                        raise UploadError("the part upload answered without an ETag")
                    return etag
                error = UploadError(f"part upload answered {resp.status}: {text[:200]}")
                if resp.status < 500:
                    raise error
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = UploadError(f"part upload failed: {exc.__class__.__name__}: {exc}")
        if time.monotonic() + delay > deadline:
            raise error
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)


def _read_range(archive: Path, offset: int, length: int) -> bytes:
    with archive.open("rb") as fh:
        fh.seek(offset)
        return fh.read(length)


async def restore_backup(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_object(request)
    adapter = body.get("adapter")
    backup_uuid = request.match_info["backup"]
    if adapter not in ("wings", "s3"):
        raise abort(400, errors.INVALID)
    if adapter == "s3":
        download_url = body.get("download_url")
        if not download_url or not isinstance(download_url, str):
            raise abort(400, "The download_url field is required when the backup adapter is set to S3.")
        if body.get("truncate_directory"):
            await asyncio.to_thread(_truncate, server.directory)
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300))
        try:
            resp = await session.get(download_url)
        except (aiohttp.ClientError, TimeoutError) as exc:
            await session.close()
            log.error("restore %s: download failed: %s", backup_uuid, exc)
            raise captured(500) from exc
        content_type = resp.headers.get("Content-Type", "")
        if resp.status != 200 or not any(t in content_type for t in GZIP_TYPES):
            resp.release()
            await session.close()
            raise abort(
                400,
                f'The provided backup link is not a supported content type. "{content_type}" '
                "is not application/x-gzip.",
            )
        daemon_of(request).spawn(_run_s3_restore(server, daemon_of(request).panel, backup_uuid, session, resp))
        return web.Response(status=202)
    archive = backup_path(request, backup_uuid)
    if not UUID_V4.match(backup_uuid) or not archive.is_file():
        raise captured(500)
    if body.get("truncate_directory"):
        await asyncio.to_thread(_truncate, server.directory)
    daemon_of(request).spawn(_run_restore(server, daemon_of(request).panel, backup_uuid, archive))
    return web.Response(status=202)


def _truncate(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


async def _run_s3_restore(
    server: Server, panel: PanelClient, backup_uuid: str, session: aiohttp.ClientSession, resp: aiohttp.ClientResponse
) -> None:
    """Stream the download to a temporary file, then restore from it as from a local archive."""
    fd, name = tempfile.mkstemp(suffix=".tar.gz", prefix=f"restore-{backup_uuid[:8]}-")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in resp.content.iter_chunked(CHUNK):
                await asyncio.to_thread(fh.write, chunk)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        log.error("restore %s: download failed: %s", backup_uuid, exc)
        temp.write_bytes(b"")  # an empty archive fails extraction and is reported as unsuccessful
    finally:
        resp.release()
        await session.close()
    try:
        await _run_restore(server, panel, backup_uuid, temp, source="S3")
    finally:
        temp.unlink(missing_ok=True)


async def _run_restore(
    server: Server, panel: PanelClient, backup_uuid: str, archive: Path, source: str = "local"
) -> None:
    async with server.power_lock:
        await server.stop(timeout=120)
    successful = True
    try:
        await asyncio.to_thread(_extract, archive, server.directory)
    except (OSError, tarfile.TarError) as exc:
        log.error("restore %s failed: %s", backup_uuid, exc)
        successful = False
    try:
        await panel.restore_status(backup_uuid, successful)
    except RemoteError as exc:
        log.error("restore %s status callback failed: %s", backup_uuid, exc)
    server.publish("daemon message", f"Completed server restoration from {source} backup.")
    server.publish("backup restore completed", "")


def _extract(archive: Path, directory: Path) -> None:
    with tarfile.open(archive) as tar:
        tar.extractall(directory, filter="data")


async def delete_backup(request: web.Request) -> web.Response:
    server_of(request)
    backup_uuid = request.match_info["backup"]
    archive = backup_path(request, backup_uuid)
    if not UUID_V4.match(backup_uuid) or not archive.is_file():
        raise abort(404, "The requested backup was not found on this server.")
    archive.unlink()
    return web.Response(status=204)
