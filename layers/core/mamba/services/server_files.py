"""A tenant's server files through Wings: list, read, write, rename, copy, delete, create a
folder, compress, decompress, chmod, pull a URL, and signed upload/download URLs.

Rules every use case keeps:

* **Paths are checked here first.** Each path is normalised by ``mamba.domain.server_files``
  (400 for traversal above the root, control characters, over-long names) before any call to
  the node, and what reaches Wings is the normalised form.
* **The blueprint's ``file_denylist`` is a 403.** Its gitignore-style patterns (matched with
  ``pathspec``, the gitignore semantics Wings uses) refuse reading, writing, renaming (either
  side), copying, deleting, chmod, (de)compressing and download URLs for a matching path, with
  ``FILE_DENIED``, before Wings is asked. Listing still shows them.
* **A folder is judged by what it holds.** Renaming, copying, deleting, packing or chmod-ing a
  folder that holds a denied path, or moving a folder to where its content would become a
  denied path, is refused too: a pattern naming a path under the folder refuses it outright;
  a pattern that may match anywhere (``*.key``) has the node list the folder (at most
  ``MAX_WALK`` listings, refused beyond). Reading, downloading, writing, copying or chmod-ing
  through a symlink is refused while the blueprint has a denylist: the panel cannot see where
  a link points. Renaming or deleting a link acts on the link itself and is allowed.
* **Large files never pass through Lambda.** Reading is capped (5 MiB of text, 4 MiB of
  binary, which travels base64-encoded) by the size Wings reports before the content is
  fetched; anything larger, and every upload, goes through a signed Wings URL (one-shot JWT,
  15 minutes).
"""

from __future__ import annotations

import base64
import posixpath
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from mamba.auth import wings_jwt
from mamba.auth.context import TenantContext
from mamba.domain import pull_targets
from mamba.domain import server_files as paths
from mamba.domain.errors import (
    FileDeniedError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationError,
    WingsNotFoundError,
)
from mamba.domain.server_files import FileContent
from mamba.observability import logger
from mamba.services import server_control as control
from mamba.services.server_control import Ports, Target

MAX_BATCH = 100
# Directory listings one request may spend to see what folders hold (a denylist pattern that
# may match at any depth): enough for a plugin or world folder, bounded for the 29 s gateway.
MAX_WALK = 64
# How many of Wings' copy names ("x copy.txt", "x copy 2.txt", ...) are checked against the list.
COPY_NAMES = 50
PROTECTED = "This file is protected by the server's blueprint and cannot be accessed."


def _target(ports: Ports, tenant: TenantContext, server_id: str) -> Target:
    return control.target(ports, tenant, server_id, control.ON_NODE)


def _writable(ports: Ports, tenant: TenantContext, server_id: str) -> Target:
    """A server whose files may change: on its node and not suspended (409 otherwise; a
    suspended server's files can still be listed, read and downloaded)."""
    t = _target(ports, tenant, server_id)
    control.require_not_suspended(t.server)
    return t


@dataclass
class _Denylist:
    """The server blueprint's ``file_denylist`` for one request, with the node listings it has
    read (each directory is listed at most once)."""

    spec: Any  # pathspec.GitIgnoreSpec
    patterns: tuple[str, ...]
    t: Target
    listings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    walked: int = 0

    def denies(self, path: str) -> bool:
        """A normalised path matches (a directory also as itself, so ``/secret/`` covers ``/secret``)."""
        rel = paths.relative(path)
        return bool(rel) and bool(self.spec.match_file(rel) or self.spec.match_file(rel + "/"))

    def check(self, *checked: str) -> None:
        for path in checked:
            if self.denies(path):
                raise FileDeniedError(PROTECTED, {"path": path})

    def listing(self, directory: str) -> list[dict[str, Any]]:
        if directory not in self.listings:
            self.walked += 1
            if self.walked > MAX_WALK:
                raise FileDeniedError(
                    "The folder holds too many folders to check against the blueprint's protected files.",
                    {"path": directory, "reason": "too_many_folders_to_check", "limit": MAX_WALK},
                )
            try:
                self.listings[directory] = list(self.t.agent.list_directory(self.t.server.uuid, directory))
            except WingsNotFoundError:
                self.listings[directory] = []
        return self.listings[directory]

    def entry(self, path: str) -> dict[str, Any] | None:
        parent, name = posixpath.split(path)
        return next((e for e in self.listing(parent or "/") if e.get("name") == name), None)

    def check_tree(self, source: str, destination: str | None = None) -> None:
        """403 when ``source`` is denied or holds a denied path, or when moving it to
        ``destination`` would make one (``config`` renamed to ``cfg2`` must not turn
        ``config/license.key`` into ``cfg2/license.key``, nor ``cfg2`` back into ``config``)."""
        self.check(source, *([destination] if destination else []))
        held = paths.may_hold_denied(self.patterns, source)
        if held == paths.YES:
            raise FileDeniedError(PROTECTED, {"path": source, "reason": "holds_protected_files"})
        lands = paths.may_hold_denied(self.patterns, destination) if destination else paths.NO
        if held == paths.NO and lands == paths.NO:
            return
        found = self.entry(source)
        if found is None or not found.get("directory") or found.get("symlink"):
            return  # a file (checked above), a link (moved as a link), or nothing to move
        pending = [""]
        while pending:
            below = pending.pop()
            for e in self.listing(source + below):
                rel = f"{below}/{e.get('name')}"
                if self.denies(source + rel):
                    raise FileDeniedError(PROTECTED, {"path": source, "reason": "holds_protected_files"})
                if destination and self.denies(destination + rel):
                    raise FileDeniedError(
                        PROTECTED, {"path": destination + rel, "reason": "would_create_protected_file"}
                    )
                if e.get("directory") and not e.get("symlink"):
                    pending.append(rel)

    def check_real_location(self, path: str) -> None:
        """403 when ``path`` or a folder on the way to it is a symlink: its real location is
        unknown to the panel and could be a denied file (a link ``notes -> config/license.key``)."""
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            found = self.entry("/" + "/".join(parts[:i]))
            if found is None:
                return  # the node answers 404 for the rest
            if found.get("symlink"):
                raise FileDeniedError(
                    "This path goes through a link; on a server with protected files, links are not followed.",
                    {"path": path, "reason": "symlink"},
                )


def _denylist(ports: Ports, t: Target) -> _Denylist | None:
    """The server's blueprint ``file_denylist`` (None when it is empty)."""
    try:
        blueprint = ports.blueprints.get(t.server.blueprint_id)
    except NotFoundError:
        # The blueprint was deleted after the server was made: the node still holds the
        # denylist it last synced, and enforces it (its 403 is WingsFileDeniedError, a FileDeniedError).
        logger.warning("server blueprint missing", extra={"server_uuid": t.server.uuid})
        return None
    patterns = tuple(p for p in blueprint.file_denylist if p.strip())
    if not patterns:
        return None
    import pathspec

    return _Denylist(pathspec.GitIgnoreSpec.from_lines(patterns), patterns, t)


def _check_allowed(deny: _Denylist | None, *checked: str) -> None:
    if deny is not None:
        deny.check(*checked)


def _check_trees(deny: _Denylist | None, *pairs: tuple[str, str | None]) -> None:
    if deny is not None:
        for source, destination in pairs:
            deny.check_tree(source, destination)


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


def _stat(t: Target, path: str, deny: _Denylist | None = None) -> dict[str, Any]:
    if deny is not None:
        found = deny.entry(path)
    else:
        parent, name = posixpath.split(path)
        found = next((e for e in t.agent.list_directory(t.server.uuid, parent or "/") if e.get("name") == name), None)
    if found is None:
        raise WingsNotFoundError("The file does not exist on the node.", {"path": path})
    return dict(found)


def read_file(ports: Ports, tenant: TenantContext, server_id: str, path: str) -> FileContent:
    """The content of a file up to the API's cap: UTF-8 text as is, anything else base64."""
    path = paths.normalise(path)
    if path == "/":
        raise ValidationError("path must name a file.", {"fields": [{"field": "path", "message": "is the root"}]})
    t = _target(ports, tenant, server_id)
    deny = _denylist(ports, t)
    _check_allowed(deny, path)
    if deny is not None:
        deny.check_real_location(path)
    stat = _stat(t, path, deny)
    if stat.get("directory"):
        raise ValidationError("path is a directory.", {"fields": [{"field": "path", "message": "is a directory"}]})
    size = int(stat.get("size") or 0)
    if size > paths.MAX_TEXT_BYTES:
        raise _too_large(path, size, paths.MAX_TEXT_BYTES)
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
    deny = _denylist(ports, t)
    _check_allowed(deny, path)
    if deny is not None:
        deny.check_real_location(path)  # a write follows a link to its target
    t.agent.write_file(t.server.uuid, path, data)


def rename(ports: Ports, tenant: TenantContext, server_id: str, root: str, moves: list[tuple[str, str]]) -> None:
    """Each ``(from, to)`` is relative to ``root``; both ends are checked, and a folder by what
    it holds and what it would hold at its new place."""
    _batch(moves)
    base = paths.normalise(root, "root")
    pairs = [(paths.join(base, src, "from"), paths.join(base, dst, "to")) for src, dst in moves]
    t = _writable(ports, tenant, server_id)
    _check_trees(_denylist(ports, t), *pairs)
    t.agent.rename(t.server.uuid, "/", [{"from": src, "to": dst} for src, dst in pairs])


def _copy_names(location: str) -> list[str]:
    """The names Wings may give a copy of ``location``: ``x copy.jar``, ``x copy 2.jar``, ..."""
    parent, name = posixpath.split(location)
    for double in (".tar.gz", ".tar.bz2", ".tar.xz"):
        if name.endswith(double):
            stem, suffix = name[: -len(double)], double
            break
    else:
        stem, dot, ext = name.rpartition(".")
        stem, suffix = (stem, dot + ext) if stem else (name, "")
    return [posixpath.join(parent, f"{stem} copy{'' if n == 1 else f' {n}'}{suffix}") for n in range(1, COPY_NAMES + 1)]


def copy(ports: Ports, tenant: TenantContext, server_id: str, location: str) -> None:
    location = paths.normalise(location, "location")
    t = _writable(ports, tenant, server_id)
    deny = _denylist(ports, t)
    _check_trees(deny, (location, None))
    if deny is not None:
        deny.check_real_location(location)  # a copy of a link is a copy of its target's bytes
        for name in _copy_names(location):
            if deny.denies(name):
                raise FileDeniedError(PROTECTED, {"path": name, "reason": "would_create_protected_file"})
    t.agent.copy(t.server.uuid, location)


def delete(ports: Ports, tenant: TenantContext, server_id: str, root: str, files: list[str]) -> None:
    _batch(files)
    base = paths.normalise(root, "root")
    targets = [paths.join(base, name, "files") for name in files]
    t = _writable(ports, tenant, server_id)
    _check_trees(_denylist(ports, t), *[(p, None) for p in targets])
    t.agent.delete_files(t.server.uuid, "/", [paths.relative(p) for p in targets])


def create_folder(ports: Ports, tenant: TenantContext, server_id: str, root: str, name: str) -> str:
    base = paths.normalise(root, "root")
    created = paths.join(base, paths.check_name(name), "name")
    t = _writable(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), created)
    t.agent.create_directory(t.server.uuid, name, base)
    return created


# Wings names the archive archive-<RFC 3339 without colons>.tar.gz in root; any such name stands
# for it when the denylist is asked whether the archive would be a protected file.
_ARCHIVE_NAME = "archive-2026-01-01T000000Z.tar.gz"


def compress(ports: Ports, tenant: TenantContext, server_id: str, root: str, files: list[str]) -> dict[str, Any]:
    """A ``.tar.gz`` of ``files`` in ``root``; returns the archive's stat. Nothing denied may be
    packed (an archive would carry a protected file out under another name)."""
    _batch(files)
    base = paths.normalise(root, "root")
    targets = [paths.join(base, name, "files") for name in files]
    t = _writable(ports, tenant, server_id)
    deny = _denylist(ports, t)
    _check_allowed(deny, paths.join(base, _ARCHIVE_NAME))
    _check_trees(deny, *[(p, None) for p in targets])
    stat: dict[str, Any] = t.agent.compress(t.server.uuid, base, [posixpath.relpath(p, base) for p in targets])
    return stat


def decompress(ports: Ports, tenant: TenantContext, server_id: str, root: str, file: str) -> None:
    """Extract an archive of ``root`` into ``root``. The archive and ``root`` must not be denied;
    the archive's entries are unknown to the panel, and Wings skips every entry its denylist
    matches while extracting (pterodactyl/wings ``extractStream``: ``IsIgnored`` per entry)."""
    base = paths.normalise(root, "root")
    archive = paths.join(base, file, "file")
    t = _writable(ports, tenant, server_id)
    _check_allowed(_denylist(ports, t), archive, base)
    t.agent.decompress(t.server.uuid, base, posixpath.relpath(archive, base))


def chmod(ports: Ports, tenant: TenantContext, server_id: str, root: str, modes: list[tuple[str, str]]) -> None:
    _batch(modes)
    base = paths.normalise(root, "root")
    checked = [(paths.join(base, name, "files"), paths.check_mode(mode)) for name, mode in modes]
    t = _writable(ports, tenant, server_id)
    deny = _denylist(ports, t)
    _check_trees(deny, *[(p, None) for p, _ in checked])
    if deny is not None:
        for p, _ in checked:
            deny.check_real_location(p)  # chmod follows a link to its target
    t.agent.chmod(t.server.uuid, "/", [{"file": paths.relative(p), "mode": m} for p, m in checked])


def _check_public(ports: Ports, target: pull_targets.PullTarget) -> None:
    """Every address the URL's host stands for is public (PullUrlRefusedError otherwise)."""
    if target.address is not None:
        addresses = [str(target.address)]
    elif ports.resolver is None:
        raise pull_targets.refused("unresolvable", "The panel cannot resolve host names here.", host=target.host)
    else:
        addresses = list(ports.resolver.resolve(target.host, target.port))
    pull_targets.check_addresses(target.host, addresses)


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
    ``identifier``. The URL must be http(s) without credentials, and its host must be or
    resolve only to public addresses (``mamba.domain.pull_targets``), checked here before the
    node is called; the node checks the address it connects to again, and never follows a
    redirect (pterodactyl/wings downloader). Raises PullUrlRefusedError (400) with the reason."""
    target = pull_targets.parse(url)
    base = paths.normalise(root, "root")
    name = paths.check_name(file_name, "file_name") if file_name else None
    t = _writable(ports, tenant, server_id)
    deny = _denylist(ports, t)
    _check_allowed(deny, base)
    # Without file_name the node names the file after the URL's last segment.
    implied = name or posixpath.basename(unquote(urlsplit(target.url).path))
    if implied and implied not in (".", ".."):
        _check_allowed(deny, paths.join(base, implied, "file_name"))
    _check_public(ports, target)
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
    """A one-shot URL on the node that streams the file (15 minutes). With a denylist, the
    path must not pass through a symlink (its real location could be denied)."""
    path = paths.normalise(path)
    if path == "/":
        raise ValidationError("path must name a file.", {"fields": [{"field": "path", "message": "is the root"}]})
    t = _target(ports, tenant, server_id)
    deny = _denylist(ports, t)
    _check_allowed(deny, path)
    if deny is not None:
        deny.check_real_location(path)
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
