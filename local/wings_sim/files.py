"""The file routes of wings-contract.md §2.5, every one inside the server's path jail."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import os
import shutil
import socket
import stat as stat_mod
import tarfile
import uuid as uuid_mod
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
from aiohttp import web

from local.wings_sim import errors
from local.wings_sim.api import daemon_of, jail_path, json_object, server_of
from local.wings_sim.errors import abort, captured
from local.wings_sim.jail import is_denied, stat_object
from local.wings_sim.servers import Server

MAX_PULLS = 3


def _not_found(exc: Exception) -> errors.WingsError:
    return captured(404, errors.NOT_FOUND_FS)


def _file_list(body: dict[str, Any], key: str = "files") -> list[Any]:
    files = body.get(key)
    if not isinstance(files, list) or not files:
        raise abort(422, errors.INVALID)
    return files


def _root(body: dict[str, Any]) -> str:
    return str(body.get("root") or "/")


async def get_contents(request: web.Request) -> web.StreamResponse:
    server = server_of(request)
    path = jail_path(server, request.query.get("file", ""))
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise _not_found(exc) from exc
    if stat_mod.S_ISDIR(st.st_mode):
        raise abort(400, errors.IS_DIRECTORY)
    if stat_mod.S_ISFIFO(st.st_mode):
        raise abort(400, "Cannot stream the contents of a named pipe.")
    info = stat_object(path)
    headers = {"X-Mime-Type": info["mime"], "Content-Type": info["mime"]}
    if request.query.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
        headers["Content-Type"] = "application/octet-stream"
    return web.FileResponse(path, headers=headers)


async def list_directory(request: web.Request) -> web.Response:
    server = server_of(request)
    path = jail_path(server, request.query.get("directory", "/"))
    try:
        entries = [stat_object(child) for child in path.iterdir()]
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise _not_found(exc) from exc
    return web.json_response(entries)


async def rename(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_object(request)
    root = _root(body)
    moves = _file_list(body)
    for move in moves:
        if not isinstance(move, dict):
            raise abort(422, errors.INVALID)
        source = jail_path(server, f"{root}/{move.get('from', '')}")
        target = jail_path(server, f"{root}/{move.get('to', '')}")
        if not source.exists() and not source.is_symlink():
            continue  # a missing source is silently ignored
        if target.exists():
            raise abort(400, "Cannot move or rename file, destination already exists.")
        target.parent.mkdir(parents=True, exist_ok=True)
        source.rename(target)
    return web.Response(status=204)


async def copy(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_object(request)
    source = jail_path(server, str(body.get("location", "")))
    if not source.is_file() or source.is_symlink():
        raise captured(500)
    stem, suffix = _split_name(source.name)
    n = 0
    while True:
        name = f"{stem} copy{'' if n == 0 else f' {n + 1}'}{suffix}"
        target = source.with_name(name)
        if not target.exists():
            break
        n += 1
    shutil.copy2(source, target)
    return web.Response(status=204)


def _split_name(name: str) -> tuple[str, str]:
    for double in (".tar.gz", ".tar.bz2", ".tar.xz"):
        if name.endswith(double):
            return name[: -len(double)], double
    stem, dot, ext = name.rpartition(".")
    return (stem, dot + ext) if stem else (name, "")


async def write(request: web.Request) -> web.Response:
    server = server_of(request)
    if request.content_length is None:
        raise abort(400, "Missing Content-Length")
    path = jail_path(server, request.query.get("file", ""))
    if path.is_dir():
        raise abort(400, errors.IS_DIRECTORY)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise abort(400, "Cannot create a file beneath a file.") from exc
    data = await request.read()
    path.write_bytes(data)
    path.chmod(0o644)
    return web.Response(status=204)


async def create_directory(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_object(request)
    path = jail_path(server, f"{body.get('path') or '/'}/{body.get('name', '')}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise abort(400, "Cannot create a directory beneath a file.") from exc
    return web.Response(status=204)


async def delete(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_object(request)
    root = _root(body)
    for name in _file_list(body):
        path = jail_path(server, f"{root}/{name}")
        if path == server.directory.resolve():
            raise abort(400, "Cannot delete the root of the server.")
        if path.is_dir() and not path.is_symlink():
            await asyncio.to_thread(shutil.rmtree, path)
        else:
            path.unlink(missing_ok=True)
    return web.Response(status=204)


async def compress(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_object(request)
    root = _root(body)
    names = _file_list(body)
    base = jail_path(server, root)
    sources = [jail_path(server, f"{root}/{name}") for name in names]
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%S") + "+0000"
    archive = base / f"archive-{stamp}.tar.gz"

    def build() -> None:
        with tarfile.open(archive, "w:gz") as tar:
            for source in sources:
                if source.exists():
                    # Symlinks are archived as links, never followed out of the jail.
                    tar.add(source, arcname=os.path.relpath(source, base))

    await asyncio.to_thread(build)
    info = stat_object(archive)
    info["mime"] = "application/tar+gzip"
    return web.json_response(info)


async def decompress(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_object(request)
    root = _root(body)
    base = jail_path(server, root)
    archive = jail_path(server, f"{root}/{body.get('file', '')}")
    if not archive.is_file():
        raise _not_found(FileNotFoundError(archive))
    await asyncio.to_thread(_extract, archive, base, server)
    return web.Response(status=204)


def _extract(archive: Path, base: Path, server: Server) -> None:
    def denied(name: str) -> bool:
        # Wings skips every entry on the egg's denylist while extracting (extractStream: IsIgnored).
        rel = os.path.relpath(base / name, server.directory)
        return bool(server.denylist) and is_denied(rel.replace(os.sep, "/"), server.denylist)

    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tar:
            # The "data" filter refuses absolute paths, "..", links out of the tree and devices.
            members = [m for m in tar.getmembers() if not denied(m.name)]
            tar.extractall(base, members=members, filter="data")
    elif zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                if denied(member.filename):
                    continue
                target = jail_path(server, os.path.relpath(base / member.filename, server.directory))
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    elif archive.suffix == ".gz":
        target = archive.with_suffix("")
        with gzip.open(archive, "rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        raise abort(400, "Unsupported archive format.")


async def chmod(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_object(request)
    root = _root(body)
    for entry in _file_list(body):
        if not isinstance(entry, dict):
            raise abort(422, errors.INVALID)
        try:
            mode = int(str(entry.get("mode", "")), 8)
        except ValueError as exc:
            raise abort(400, "Invalid file mode.") from exc
        path = jail_path(server, f"{root}/{entry.get('file', '')}")
        if path.is_symlink():
            continue
        try:
            path.chmod(mode & 0o7777)
        except FileNotFoundError as exc:
            raise _not_found(exc) from exc
    return web.Response(status=204)


# -- remote downloads ("pull") --------------------------------------------------------------------
class Pull:
    def __init__(self, identifier: str) -> None:
        self.identifier = identifier
        self.progress = 0.0
        self.task: asyncio.Task[Any] | None = None


PULLS: web.AppKey[dict[str, dict[str, Pull]]] = web.AppKey("pulls", dict)


def _pulls(request: web.Request, server: Server) -> dict[str, Pull]:
    return request.app[PULLS].setdefault(server.uuid, {})


def _check_enabled(request: web.Request) -> None:
    if daemon_of(request).config.disable_remote_download:
        raise abort(400, "This functionality is not currently enabled on this instance.")


async def list_pulls(request: web.Request) -> web.Response:
    _check_enabled(request)
    server = server_of(request)
    downloads = [{"Identifier": p.identifier, "Progress": p.progress} for p in _pulls(request, server).values()]
    return web.json_response({"downloads": downloads or None})


def _public_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise abort(400, "The URL provided is not valid.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise abort(400, "The URL provided could not be resolved.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise abort(400, "Requested URL resolves to a private or reserved address.")
    return url, unquote(parts.path.rsplit("/", 1)[-1])


async def post_pull(request: web.Request) -> web.Response:
    _check_enabled(request)
    server = server_of(request)
    body = await json_object(request)
    root = body.get("root") or body.get("directory")
    if not isinstance(body.get("url"), str) or not isinstance(root, str):
        raise abort(422, errors.INVALID)
    pulls = _pulls(request, server)
    if len(pulls) >= MAX_PULLS:
        raise abort(400, "This server has reached its limit of 3 simultaneous remote file downloads.")
    url, url_name = await asyncio.to_thread(_public_url, body["url"])
    directory = jail_path(server, root)
    pull = Pull(str(uuid_mod.uuid4()))
    pulls[pull.identifier] = pull
    task = asyncio.ensure_future(_download(server, pull, url, directory, str(body.get("file_name") or url_name)))
    pull.task = task
    task.add_done_callback(lambda _t: pulls.pop(pull.identifier, None))
    if body.get("foreground"):
        target: Path = await task
        return web.json_response(stat_object(target))
    return web.json_response({"identifier": pull.identifier}, status=202)


async def _download(server: Server, pull: Pull, url: str, directory: Path, name: str) -> Path:
    target = jail_path(server, os.path.relpath(directory / os.path.basename(name or "download"), server.directory))
    timeout = aiohttp.ClientTimeout(total=12 * 3600)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url, allow_redirects=False) as resp:
        if resp.status >= 300:
            raise abort(400, f"Remote server answered HTTP {resp.status}.")
        total = resp.content_length or 0
        done = 0
        directory.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as fh:
            async for chunk in resp.content.iter_chunked(65536):
                fh.write(chunk)
                done += len(chunk)
                pull.progress = done / total if total else 0.0
    return target


async def delete_pull(request: web.Request) -> web.Response:
    _check_enabled(request)
    server = server_of(request)
    pull = _pulls(request, server).pop(request.match_info["download"], None)
    if pull is not None and pull.task is not None:
        pull.task.cancel()
    return web.Response(status=204)
