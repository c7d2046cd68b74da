"""The path jail for a server's files and Wings' stat object (wings-contract.md §2.5).

Every client path is relative to the server root (``/`` is the root, as in Wings). A ``..`` component,
a NUL byte, or any path whose real location (symlinks resolved) is outside the root is refused.
"""

from __future__ import annotations

import fnmatch
import mimetypes
import os
import stat as stat_mod
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any


class BadPathError(Exception):
    """The path escapes the jail or is malformed (Wings: 404 ``The requested resources was not found``)."""


class DeniedFileError(Exception):
    """The path matches the egg's ``file_denylist`` (Wings: 403)."""


def resolve(root: Path, path: str, denylist: list[str] | None = None) -> Path:
    """The host path for ``path`` inside ``root``; raises BadPathError for anything outside the jail."""
    if "\x00" in path:
        raise BadPathError(path)
    parts = [p for p in PurePosixPath("/" + path.replace("\\", "/")).parts[1:] if p not in ("", ".")]
    if ".." in parts:
        raise BadPathError(path)
    real_root = os.path.realpath(root)
    candidate = os.path.join(real_root, *parts)
    # realpath resolves every symlink on the way, including a final one, and keeps missing tails as they are.
    real = os.path.realpath(candidate)
    if real != real_root and os.path.commonpath([real_root, real]) != real_root:
        raise BadPathError(path)
    if denylist and parts and is_denied("/".join(parts), denylist):
        raise DeniedFileError(path)
    return Path(candidate)


def is_denied(relative: str, denylist: list[str]) -> bool:
    """A small gitignore-style match: a pattern matches the full path or any single component."""
    name = relative.rsplit("/", 1)[-1]
    for pattern in denylist:
        pat = pattern.strip().lstrip("/").rstrip("/")
        if not pat or pat.startswith("#"):
            continue
        if fnmatch.fnmatch(relative, pat) or fnmatch.fnmatch(name, pat) or relative.startswith(pat + "/"):
            return True
    return False


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mime_of(path: Path, st: os.stat_result) -> str:
    if stat_mod.S_ISDIR(st.st_mode):
        return "inode/directory"
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed in ("application/x-tar", "application/gzip") and path.name.endswith((".tar.gz", ".tgz")):
        return "application/tar+gzip"
    if guessed:
        return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return "application/octet-stream"
    if not head:
        return "text/plain; charset=utf-8"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


def stat_object(path: Path) -> dict[str, Any]:
    lst = path.lstat()
    is_link = stat_mod.S_ISLNK(lst.st_mode)
    st = lst
    if is_link:
        try:
            st = path.stat()
        except OSError:
            st = lst
    created = getattr(st, "st_birthtime", st.st_ctime)
    return {
        "name": path.name,
        "created": _rfc3339(created),
        "modified": _rfc3339(st.st_mtime),
        "mode": stat_mod.filemode(lst.st_mode),
        "mode_bits": format(stat_mod.S_IMODE(lst.st_mode), "o"),
        "size": st.st_size,
        "directory": stat_mod.S_ISDIR(st.st_mode),
        "file": stat_mod.S_ISREG(st.st_mode),
        "symlink": is_link,
        "mime": mime_of(path, st),
    }


def disk_usage(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
    return total
