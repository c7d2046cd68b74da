"""Local ("wings" adapter) backups (wings-contract.md §2.6): a real tar.gz of the server directory
honouring the ignore list, sha1 + size reported to the panel; restore and delete. The S3 adapter is
left to issue 6: it reports a failed backup to the panel."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

from aiohttp import web

from local.wings_sim import errors
from local.wings_sim.api import UUID_V4, daemon_of, json_object, server_of
from local.wings_sim.errors import abort, captured
from local.wings_sim.jail import is_denied
from local.wings_sim.remote import PanelClient, RemoteError
from local.wings_sim.servers import Server

log = logging.getLogger("wings_sim.backups")
FAILED = {"checksum": "", "checksum_type": "", "size": 0, "successful": False, "parts": None}


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
    if adapter == "wings":
        try:
            checksum, size = await asyncio.to_thread(_archive, server, target, patterns)
            result = {"checksum": checksum, "checksum_type": "sha1", "size": size, "successful": True, "parts": None}
        except OSError as exc:
            log.error("backup %s failed: %s", backup_uuid, exc)
    else:
        server.daemon_line("S3 backups are not supported by the Wings simulator; reporting the backup as failed.")
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


async def restore_backup(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_object(request)
    adapter = body.get("adapter")
    backup_uuid = request.match_info["backup"]
    if adapter not in ("wings", "s3"):
        raise abort(400, errors.INVALID)
    if adapter == "s3":
        if not body.get("download_url"):
            raise abort(400, "The download_url field is required when the backup adapter is set to S3.")
        raise abort(400, "S3 restores are not supported by the Wings simulator.")
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


async def _run_restore(server: Server, panel: PanelClient, backup_uuid: str, archive: Path) -> None:
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
    server.publish("daemon message", "Completed server restoration from local backup.")
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
