"""A tenant's server files through Wings: list, read, write, rename, copy, delete, create a
folder, compress, decompress, chmod, pull a URL, and signed upload/download URLs.

Rules every use case keeps:

* **Paths are checked here first.** Each path is normalised by ``mamba.domain.server_files``
  (400 for traversal above the root, control characters, over-long names) before any call to
  the node, and what reaches Wings is the normalised form.
* **The blueprint's ``file_denylist`` is a 403.** Its gitignore-style patterns (matched with
  ``pathspec``, the gitignore semantics Wings uses) refuse reading, writing, renaming (either
  side), copying, deleting, chmod, (de)compressing and download URLs for a matching path, with
  ``FORBIDDEN`` and the pattern list's verdict, before Wings is asked. Listing still shows them.
* **Large files never pass through Lambda.** Reading is capped (5 MiB of text, 4 MiB of
  binary, which travels base64-encoded) by the size Wings reports before the content is
  fetched; anything larger, and every upload, goes through a signed Wings URL (one-shot JWT,
  15 minutes).
"""

from __future__ import annotations

import base64
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from mamba.auth import wings_jwt
from mamba.auth.context import TenantContext
from mamba.domain import server_files as paths
from mamba.domain.errors import (
    FileDeniedError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationError,
    WingsNotFoundError,
    WingsRejectedError,
)
from mamba.observability import logger
from mamba.services import server_control as control
from mamba.services.server_control import Ports, Target

MAX_BATCH = 100


@dataclass(frozen=True)
class FileContent:
    path: str
    size: int
    content: str
    encoding: str  # "utf-8" or "base64"


def _target(ports: Ports, tenant: TenantContext, server_id: str) -> Target:
    return control.target(ports, tenant, server_id, control.ON_NODE)


def _writable(ports: Ports, tenant: TenantContext, server_id: str) -> Target:
    """A server whose files may change: on its node and not suspended (409 otherwise; a
    suspended server's files can still be listed, read and downloaded)."""
    t = _target(ports, tenant, server_id)
    control.require_not_suspended(t.server)
    return t


def _denylist(ports: Ports, t: Target) -> Any:
    """The compiled ``file_denylist`` of the server's blueprint, or None when it is empty."""
    try:
        blueprint = ports.blueprints.get(t.server.blueprint_id)
    except NotFoundError:
        # The blueprint was deleted after the server was made: the node still holds the
        # denylist it last synced, and enforces it (answered as 403 below).
        logger.warning("server blueprint missing", extra={"server_uuid": t.server.uuid})
        return None
    patterns = [p for p in blueprint.file_denylist if p.strip()]
    if not patterns:
        return None
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _check_allowed(spec: Any, *checked: str) -> None:
    """403 when any of the normalised paths matches the denylist (a directory is matched both
    as itself and as a directory, so ``/secret/`` patterns cover ``/secret``)."""
    if spec is None:
        return
    for path in checked:
        rel = paths.relative(path)
        if rel and (spec.match_file(rel) or spec.match_file(rel + "/")):
            raise FileDeniedError(
                "This file is protected by the server's blueprint and cannot be accessed.", {"path": path}
            )


@contextmanager
def _wings_denylist_is_403() -> Iterator[None]:
    """Wings' own denylist refusal (its 403 "present in egg denylist", e.g. for a blueprint
    changed since the node last synced) is the same 403 ``FILE_DENIED`` as the panel's."""
    try:
        yield
    except WingsRejectedError as exc:
        if exc.details.get("wings_status") == 403 and "denylist" in exc.message:
            raise FileDeniedError(
                "This file is protected by the server's blueprint and cannot be accessed.",
                {"reason": exc.message},
            ) from exc
        raise


def _batch(files: list[Any], field: str = "files") -> None:
    if not files:
        raise ValidationError(f"{field} must not be empty.", {"fields": [{"field": field, "message": "empty"}]})
    if len(files) > MAX_BATCH:
        raise ValidationError(
            f"{field} may hold at most {MAX_BATCH} entries.", {"fields": [{"field": field, "message": "too many"}]}
        )


# --- reading -------------------------------------------------------------------------------


def list_directory(ports: Ports, tenant: TenantContext, server_id: str, directory: str = "/") -> list[dict[str, Any]]:
    directory = paths.normalise(directory, "directory")
    t = _target(ports, tenant, server_id)
    entries: list[dict[str, Any]] = t.agent.list_directory(t.server.uuid, directory)
    return entries


def _stat(t: Target, path: str) -> dict[str, Any]:
    parent, name = posixpath.split(path)
    for entry in t.agent.list_directory(t.server.uuid, parent or "/"):
        if entry.get("name") == name:
            return dict(entry)
    raise WingsNotFoundError("The file does not exist on the node.", {"path": path})


def read_file(ports: Ports, tenant: TenantContext, server_id: str, path: str) -> FileContent:
    """The content of a file up to the API's cap: UTF-8 text as is, anything else base64."""
    path = paths.normalise(path)
    if path == "/":
        raise ValidationError("path must name a file.", {"fields": [{"field": "path", "message": "is the root"}]})
    t = _target(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), path)
    stat = _stat(t, path)
    if stat.get("directory"):
        raise ValidationError("path is a directory.", {"fields": [{"field": "path", "message": "is a directory"}]})
    size = int(stat.get("size") or 0)
    if size > paths.MAX_TEXT_BYTES:
        raise _too_large(path, size, paths.MAX_TEXT_BYTES)
    with _wings_denylist_is_403():
        raw: bytes = t.agent.read_file(t.server.uuid, path)
    if len(raw) > paths.MAX_TEXT_BYTES:  # it grew since it was measured
        raise _too_large(path, len(raw), paths.MAX_TEXT_BYTES)
    try:
        return FileContent(path=path, size=len(raw), content=raw.decode("utf-8"), encoding="utf-8")
    except UnicodeDecodeError:
        if len(raw) > paths.MAX_BINARY_BYTES:
            raise _too_large(path, len(raw), paths.MAX_BINARY_BYTES) from None
        return FileContent(path=path, size=len(raw), content=base64.b64encode(raw).decode(), encoding="base64")


def _too_large(path: str, size: int, limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"The file is larger than {limit // (1024 * 1024)} MiB; fetch it with POST .../files/download-url.",
        {"path": path, "size": size, "limit": limit},
    )


# --- writing -------------------------------------------------------------------------------


def write_file(
    ports: Ports, tenant: TenantContext, server_id: str, path: str, content: str, encoding: str = "utf-8"
) -> None:
    path = paths.normalise(path)
    if path == "/":
        raise ValidationError("path must name a file.", {"fields": [{"field": "path", "message": "is the root"}]})
    if encoding == "base64":
        try:
            data = base64.b64decode(content, validate=True)
        except ValueError as exc:
            raise ValidationError(
                "content is not valid base64.", {"fields": [{"field": "content", "message": "not base64"}]}
            ) from exc
    else:
        data = content.encode("utf-8")
    if len(data) > paths.MAX_TEXT_BYTES:
        raise _too_large(path, len(data), paths.MAX_TEXT_BYTES)
    t = _writable(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), path)
    with _wings_denylist_is_403():
        t.agent.write_file(t.server.uuid, path, data)


def rename(ports: Ports, tenant: TenantContext, server_id: str, root: str, moves: list[tuple[str, str]]) -> None:
    """Each ``(from, to)`` is relative to ``root``; both ends are checked."""
    _batch(moves)
    base = paths.normalise(root, "root")
    pairs = [(paths.join(base, src, "from"), paths.join(base, dst, "to")) for src, dst in moves]
    t = _writable(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), *[p for pair in pairs for p in pair])
    with _wings_denylist_is_403():
        t.agent.rename(t.server.uuid, "/", [{"from": src, "to": dst} for src, dst in pairs])


def copy(ports: Ports, tenant: TenantContext, server_id: str, location: str) -> None:
    location = paths.normalise(location, "location")
    t = _writable(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), location)
    with _wings_denylist_is_403():
        t.agent.copy(t.server.uuid, location)


def delete(ports: Ports, tenant: TenantContext, server_id: str, root: str, files: list[str]) -> None:
    _batch(files)
    base = paths.normalise(root, "root")
    targets = [paths.join(base, name, "files") for name in files]
    t = _writable(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), *targets)
    with _wings_denylist_is_403():
        t.agent.delete_files(t.server.uuid, "/", [paths.relative(p) for p in targets])


def create_folder(ports: Ports, tenant: TenantContext, server_id: str, root: str, name: str) -> str:
    base = paths.normalise(root, "root")
    created = paths.join(base, paths.check_name(name), "name")
    t = _writable(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), created)
    with _wings_denylist_is_403():
        t.agent.create_directory(t.server.uuid, name, base)
    return created


def compress(ports: Ports, tenant: TenantContext, server_id: str, root: str, files: list[str]) -> dict[str, Any]:
    """A ``.tar.gz`` of ``files`` in ``root``; returns the archive's stat."""
    _batch(files)
    base = paths.normalise(root, "root")
    targets = [paths.join(base, name, "files") for name in files]
    t = _writable(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), *targets)
    with _wings_denylist_is_403():
        stat: dict[str, Any] = t.agent.compress(t.server.uuid, base, [posixpath.relpath(p, base) for p in targets])
    return stat


def decompress(ports: Ports, tenant: TenantContext, server_id: str, root: str, file: str) -> None:
    base = paths.normalise(root, "root")
    archive = paths.join(base, file, "file")
    t = _writable(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), archive)
    with _wings_denylist_is_403():
        t.agent.decompress(t.server.uuid, base, posixpath.relpath(archive, base))


def chmod(ports: Ports, tenant: TenantContext, server_id: str, root: str, modes: list[tuple[str, str]]) -> None:
    _batch(modes)
    base = paths.normalise(root, "root")
    checked = [(paths.join(base, name, "files"), paths.check_mode(mode)) for name, mode in modes]
    t = _writable(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), *[p for p, _ in checked])
    with _wings_denylist_is_403():
        t.agent.chmod(t.server.uuid, "/", [{"file": paths.relative(p), "mode": m} for p, m in checked])


def pull(
    ports: Ports,
    tenant: TenantContext,
    server_id: str,
    url: str,
    root: str = "/",
    file_name: str | None = None,
    use_header: bool = False,
) -> dict[str, Any]:
    """Ask the node to download ``url`` into ``root`` in the background; returns its
    ``identifier``. The node itself refuses private addresses and redirects (§2.5)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048:
        raise ValidationError(
            "url must be an http(s) URL.", {"fields": [{"field": "url", "message": "must be http(s)"}]}
        )
    base = paths.normalise(root, "root")
    name = paths.check_name(file_name, "file_name") if file_name else None
    t = _writable(ports, tenant, server_id)
    if name:
        _check_allowed(_denylist(ports, t), paths.join(base, name, "file_name"))
    with _wings_denylist_is_403():
        result: dict[str, Any] = t.agent.pull(t.server.uuid, url, root=base, file_name=name, use_header=use_header)
    return result


def list_pulls(ports: Ports, tenant: TenantContext, server_id: str) -> list[dict[str, Any]]:
    """The node's downloads in progress: ``[{"identifier", "progress"}]`` (progress 0..1)."""
    t = _target(ports, tenant, server_id)
    found: list[dict[str, Any]] = t.agent.list_pulls(t.server.uuid)
    return [
        {"identifier": str(d.get("Identifier") or d.get("identifier") or ""), "progress": float(d.get("Progress") or 0)}
        for d in found
    ]


def cancel_pull(ports: Ports, tenant: TenantContext, server_id: str, download_id: str) -> None:
    """Stop a download in progress (an unknown id is not an error, as on Wings)."""
    import uuid as uuidlib

    try:
        uuidlib.UUID(download_id)
    except ValueError as exc:
        raise NotFoundError("Download not found.", {"download_id": download_id}) from exc
    t = _target(ports, tenant, server_id)
    t.agent.cancel_pull(t.server.uuid, download_id)


# --- signed URLs -----------------------------------------------------------------------------


def download_url(ports: Ports, tenant: TenantContext, user_id: str, server_id: str, path: str) -> dict[str, Any]:
    """A one-shot URL on the node that streams the file (15 minutes)."""
    path = paths.normalise(path)
    if path == "/":
        raise ValidationError("path must name a file.", {"fields": [{"field": "path", "message": "is the root"}]})
    t = _target(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), path)
    token = wings_jwt.download_token(
        control.node_key(ports, t.node), issuer=ports.issuer, user_id=user_id, server_uuid=t.server.uuid, path=path
    )
    return {
        "url": f"{t.node.connection_address}/download/file?{urlencode({'token': token})}",
        "expires_in": wings_jwt.SIGNED_URL_LIFETIME,
    }


def upload_url(
    ports: Ports, tenant: TenantContext, user_id: str, server_id: str, directory: str = "/"
) -> dict[str, Any]:
    """A one-shot URL on the node for a multipart upload (field ``files``) into ``directory``."""
    directory = paths.normalise(directory, "directory")
    t = _writable(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), directory)
    token = wings_jwt.upload_token(
        control.node_key(ports, t.node), issuer=ports.issuer, user_id=user_id, server_uuid=t.server.uuid
    )
    query = urlencode({"token": token, "directory": directory})
    return {
        "url": f"{t.node.connection_address}/upload/file?{query}",
        "expires_in": wings_jwt.SIGNED_URL_LIFETIME,
        "max_file_bytes": t.node.upload_limit_mb * 1024 * 1024,
    }
