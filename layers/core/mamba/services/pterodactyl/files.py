"""A server's files through Pterodactyl's client API (``/api/client/servers/{server}/files/*``).

Every call goes through ``mamba.services.server_files``, the use cases /v1's file routes call, so
path checks, the blueprint's denylist, suspension, the size caps and the signed URLs are the same
on both doors. What is Pterodactyl's here is only the translation: Wings' stat objects become
``file_object`` items, a raw body becomes a write, and a signed URL is a ``signed_url`` object.

Differences from Pterodactyl (docs/pterodactyl-api.md, Files):

* ``files/contents`` of a file that is not UTF-8 text answers its bytes as
  ``application/octet-stream`` when the request accepts that type (API Gateway sends binary
  bodies only then), and 406 naming ``files/download`` otherwise; reading is capped at 5 MiB as
  on /v1 (413; larger files go through ``files/download``);
* ``files/pull`` runs in the background whatever ``foreground`` says (the node's answer would
  come after API Gateway's 29 s), and answers 204 as Pterodactyl's background pull does.
"""

from __future__ import annotations

import base64
from typing import Any

from mamba.auth.context import TenantContext
from mamba.domain.errors import DomainError, ValidationError
from mamba.domain.pterodactyl import iso, item, plain_list
from mamba.services import server_files as files
from mamba.services.server_control import Ports


class NotAcceptableError(DomainError):
    """A binary file's content asked for without accepting a binary answer."""

    status = 406
    code = "NOT_ACCEPTABLE"


def file_object(stat: dict[str, Any]) -> dict[str, Any]:
    """Wings' stat object (wings-contract.md §2) as Pterodactyl's ``file_object``."""
    directory = bool(stat.get("directory"))
    return item(
        "file_object",
        {
            "name": str(stat.get("name") or ""),
            "mode": str(stat.get("mode") or ""),
            "mode_bits": str(stat.get("mode_bits") or ""),
            "size": int(stat.get("size") or 0),
            "is_file": bool(stat.get("file", not directory)),
            "is_symlink": bool(stat.get("symlink")),
            "mimetype": str(stat.get("mime") or ("inode/directory" if directory else "application/octet-stream")),
            "created_at": iso(stat.get("created")) or iso(stat.get("modified")) or "",
            "modified_at": iso(stat.get("modified")) or "",
        },
    )


def signed_url(url: str) -> dict[str, Any]:
    return item("signed_url", {"url": url})


def list_files(ports: Ports, tenant: TenantContext, server_id: str, directory: str | None) -> dict[str, Any]:
    entries = files.list_directory(ports, tenant, server_id, directory or "/")
    return plain_list([file_object(e) for e in entries])


def contents(
    ports: Ports, tenant: TenantContext, server_id: str, path: str | None, *, binary_ok: bool
) -> tuple[str | bytes, str]:
    """The file's content and its type: text as text, other bytes as they are when the caller
    accepts a binary answer (``binary_ok``). Raises NotAcceptableError otherwise, and what
    ``server_files.read_file`` raises."""
    found = files.read_file(ports, tenant, server_id, _required(path, "file"))
    if found.encoding != "base64":
        return found.content, "text/plain; charset=utf-8"
    if not binary_ok:
        raise NotAcceptableError(
            "This file is not text; fetch it through files/download, or accept application/octet-stream.",
            {"file": found.path},
        )
    return base64.b64decode(found.content), "application/octet-stream"


def download(ports: Ports, tenant: TenantContext, user_id: str, server_id: str, path: str | None) -> dict[str, Any]:
    url = files.download_url(ports, tenant, user_id, server_id, _required(path, "file"))["url"]
    return signed_url(str(url))


def upload(ports: Ports, tenant: TenantContext, user_id: str, server_id: str, directory: str | None) -> dict[str, Any]:
    url = files.upload_url(ports, tenant, user_id, server_id, directory or "/")["url"]
    return signed_url(str(url))


def write(ports: Ports, tenant: TenantContext, server_id: str, path: str | None, raw: bytes) -> None:
    """``POST files/write?file=`` with the content as the raw body (any bytes)."""
    target = _required(path, "file")
    try:
        files.write_file(ports, tenant, server_id, target, raw.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        files.write_file(ports, tenant, server_id, target, base64.b64encode(raw).decode(), "base64")


def rename(ports: Ports, tenant: TenantContext, server_id: str, root: str | None, moves: list[tuple[str, str]]) -> None:
    files.rename(ports, tenant, server_id, root or "/", moves)


def copy(ports: Ports, tenant: TenantContext, server_id: str, location: str) -> None:
    files.copy(ports, tenant, server_id, location)


def delete(ports: Ports, tenant: TenantContext, server_id: str, root: str | None, names: list[str]) -> None:
    files.delete(ports, tenant, server_id, root or "/", names)


def create_folder(ports: Ports, tenant: TenantContext, server_id: str, root: str | None, name: str) -> None:
    files.create_folder(ports, tenant, server_id, root or "/", name)


def compress(ports: Ports, tenant: TenantContext, server_id: str, root: str | None, names: list[str]) -> dict[str, Any]:
    """The archive Wings made, as a ``file_object`` (200, as Pterodactyl)."""
    return file_object(files.compress(ports, tenant, server_id, root or "/", names))


def decompress(ports: Ports, tenant: TenantContext, server_id: str, root: str | None, file: str) -> None:
    files.decompress(ports, tenant, server_id, root or "/", file)


def chmod(ports: Ports, tenant: TenantContext, server_id: str, root: str | None, modes: list[tuple[str, Any]]) -> None:
    """Pterodactyl sends each mode as a number (``755``) or a string; both mean the octal digits."""
    files.chmod(ports, tenant, server_id, root or "/", [(name, str(mode)) for name, mode in modes])


def pull(
    ports: Ports,
    tenant: TenantContext,
    server_id: str,
    url: str,
    directory: str | None,
    filename: str | None,
    use_header: bool,
) -> None:
    files.pull(ports, tenant, server_id, url, directory or "/", filename or None, use_header)


def _required(value: str | None, field: str) -> str:
    if not value:
        missing = {"field": field, "message": "is required", "type": "required"}
        raise ValidationError(f"The {field} field is required.", {"fields": [missing]})
    return value
