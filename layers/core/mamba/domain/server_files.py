"""File paths of a game server, checked before anything reaches Wings (standard library only).

Every path a tenant sends is relative to the server root (``/`` = ``/home/container``):

* ``normalise`` turns it into one canonical absolute form (``/plugins/x.jar``): repeated and
  trailing slashes and ``.`` segments go, ``..`` is resolved, and a path that would climb above
  the root is refused (400 ``VALIDATION_ERROR``), as is any NUL or control character, an empty
  segment name made of dots only beyond ``..``, or a path longer than ``MAX_PATH``;
* ``check_name`` is for a single file or folder name (create-folder, a rename target inside a
  root): no slash, not ``.`` or ``..``;
* ``join`` puts a name under a root and normalises the result;
* ``check_mode`` accepts an octal mode of 3 or 4 digits (``644``, ``0755``);
* ``may_hold_denied`` says, from the blueprint's gitignore-style ``file_denylist`` alone,
  whether a folder holds (``YES``), cannot hold (``NO``) or may hold (``MAYBE``: the node must
  list it to know) a denied path, so moving, copying, packing, deleting or chmod-ing the folder
  cannot expose or replace a protected file through its parent.

Wings jails paths too; checking here means a traversal attempt is refused with a clear 400
and never becomes a request to the node at all.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from mamba.domain.errors import ValidationError

MAX_PATH: Final = 4096
MAX_NAME: Final = 255
# Reading through the API is capped: larger files go through a signed download URL.
MAX_TEXT_BYTES: Final = 5 * 1024 * 1024
# Binary content travels base64-encoded in JSON (4/3 larger): keep the answer under Lambda's 6 MB.
MAX_BINARY_BYTES: Final = 4 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MODE = re.compile(r"^0?[0-7]{3}$")


def _bad(field: str, message: str, value: str) -> ValidationError:
    return ValidationError(
        f"{field} {message}.", {"fields": [{"field": field, "message": message}], "path": value[:200]}
    )


def normalise(path: str, field: str = "path") -> str:
    """The canonical absolute form of ``path`` under the server root, or ValidationError."""
    if not isinstance(path, str):
        raise _bad(field, "must be a string", "")
    if len(path) > MAX_PATH:
        raise _bad(field, f"must be at most {MAX_PATH} characters", path)
    if _CONTROL.search(path):
        raise _bad(field, "must not contain control characters", path)
    parts: list[str] = []
    for segment in path.replace("\\", "/").split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                raise _bad(field, "must stay inside the server's directory", path)
            parts.pop()
            continue
        if len(segment) > MAX_NAME:
            raise _bad(field, f"has a name longer than {MAX_NAME} characters", path)
        parts.append(segment)
    return "/" + "/".join(parts)


def check_name(name: str, field: str = "name") -> str:
    """A single file or folder name (no slash, not ``.``/``..``, no control character)."""
    if not isinstance(name, str) or not name.strip():
        raise _bad(field, "is required", "")
    if "/" in name or "\\" in name:
        raise _bad(field, "must be a single name without slashes", name)
    if name in (".", "..") or _CONTROL.search(name) or len(name) > MAX_NAME:
        raise _bad(field, "is not a valid file name", name)
    return name


def join(root: str, name: str, field: str = "path") -> str:
    """``name`` (which may hold slashes) under ``root``, normalised; it must stay under ``root``
    as well as under the server root. A leading slash does not leave ``root`` (Wings joins the
    two the same way: ``/a`` under ``/world`` is ``/world/a``)."""
    base = normalise(root, "root")
    joined = normalise(f"{base}/{name}", field)
    if base != "/" and not (joined == base or joined.startswith(base + "/")):
        raise _bad(field, "must stay inside root", name)
    if joined == base:
        raise _bad(field, "must name something inside root", name)
    return joined


def relative(path: str) -> str:
    """``/a/b`` → ``a/b`` (what a gitignore-style pattern is matched against)."""
    return path.lstrip("/")


def check_mode(mode: str, field: str = "mode") -> str:
    if not isinstance(mode, str) or not _MODE.match(mode):
        raise _bad(field, "must be an octal mode such as 644 or 0755", str(mode))
    return mode


Holding = Literal["yes", "no", "maybe"]
YES: Final[Holding] = "yes"
NO: Final[Holding] = "no"
MAYBE: Final[Holding] = "maybe"
_GLOB = re.compile(r"[*?\[]")


def may_hold_denied(patterns: Iterable[str], directory: str) -> Holding:
    """Whether the folder ``directory`` (normalised) holds a path the ``patterns`` deny, judged
    from the patterns only (gitignore rules; negations are ignored, which only errs towards
    refusing):

    * a pattern with a slash before its end is anchored at the server root: it names a path
      under ``directory`` when its leading segments match the folder's. All of its remaining
      segments literal (``config/license.key`` under ``/config``) is ``YES``; a glob in them
      (``config/*.key``) is ``MAYBE``;
    * a pattern without such a slash (``*.key``, ``secret.key``) matches a name at any depth:
      ``MAYBE`` for every folder;
    * otherwise ``NO``.
    """
    folder = [s for s in directory.split("/") if s]
    verdict: Holding = NO
    for raw in patterns:
        pattern = raw.strip()
        if not pattern or pattern.startswith(("#", "!")):
            continue
        body = pattern.rstrip("/")
        if "/" not in body:
            verdict = MAYBE
            continue
        found = _under(body.lstrip("/").split("/"), folder)
        if found == YES:
            return YES
        if found == MAYBE:
            verdict = MAYBE
    return verdict


def _under(pattern: list[str], folder: list[str]) -> Holding:
    for i, name in enumerate(folder):
        if i >= len(pattern):
            return YES  # the pattern names the folder or one of its parents: it is denied itself
        if pattern[i] == "**":
            return MAYBE
        if not fnmatch.fnmatchcase(name, pattern[i]):
            return NO
    rest = pattern[len(folder) :]
    if not rest:
        return YES  # the folder itself
    return MAYBE if any(_GLOB.search(segment) for segment in rest) else YES


@dataclass(frozen=True)
class FileContent:
    path: str
    size: int
    content: str
    encoding: str  # "utf-8" or "base64"
