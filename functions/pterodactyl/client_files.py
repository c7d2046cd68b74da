"""/api/client/servers/{server}/files/*: a server's files, through the same use cases as /v1's
file routes (mamba.services.pterodactyl.files). Each route declares the catalogue permission
its /v1 twin needs (PERMISSION_GROUPS maps Pterodactyl's file.* keys onto the same ones)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.pterodactyl_web import PteroCtx, ptero_route

if TYPE_CHECKING:
    from mamba.auth.context import TenantContext
    from mamba.services.pterodactyl import files as service
else:
    service = lazy_import("mamba.services.pterodactyl.files")

bp = Blueprint(__name__)
FILES = "/api/client/servers/{server}/files"
M = "pterodactyl_files:"
# files/write takes the file itself as the body: Pterodactyl's panel sends text/plain, py-dactyl
# application/text, other clients JSON or bytes; every one is written as the raw bytes.
RAW = ("text/plain", "application/text", "application/octet-stream")


def tenant_of(ctx: PteroCtx) -> TenantContext:
    """The path server's tenant as the guard verified it (with the caller's grant there)."""
    tenant = ctx.principal.tenant
    assert tenant is not None and ctx.server is not None  # a {server} route: the guard resolved both
    return tenant


@ptero_route(bp, f"{FILES}/list", "GET", permission="files.read", summary="The entries of a directory")
def list_files(ctx: PteroCtx, server: str) -> Any:
    assert ctx.server is not None
    ports = bootstrap.server_control_ports()
    return service.list_files(ports, tenant_of(ctx), ctx.server.ref, ctx.query.get("directory"))


@ptero_route(bp, f"{FILES}/contents", "GET", permission="files.read", summary="A file's content as the body")
def file_contents(ctx: PteroCtx, server: str) -> Any:
    assert ctx.server is not None
    accept = str(ctx.request.headers.get("accept") or "")
    body, content_type = service.contents(
        bootstrap.server_control_ports(),
        tenant_of(ctx),
        ctx.server.ref,
        ctx.query.get("file"),
        binary_ok="application/octet-stream" in accept,
    )
    return Response(body=body, status_code=200, headers={"Content-Type": content_type})


@ptero_route(bp, f"{FILES}/download", "GET", permission="files.read", summary="A one-shot download URL on the node")
def download_file(ctx: PteroCtx, server: str) -> Any:
    assert ctx.server is not None
    ports = bootstrap.server_control_ports()
    return service.download(ports, tenant_of(ctx), ctx.user_id, ctx.server.ref, ctx.query.get("file"))


@ptero_route(bp, f"{FILES}/upload", "GET", permission="files.write", summary="A one-shot upload URL on the node")
def upload_file(ctx: PteroCtx, server: str) -> Any:
    assert ctx.server is not None
    ports = bootstrap.server_control_ports()
    return service.upload(ports, tenant_of(ctx), ctx.user_id, ctx.server.ref, ctx.query.get("directory"))


@ptero_route(bp, f"{FILES}/write", "POST", permission="files.write", summary="Write the raw body to ?file=",
             status=204, content_types=RAW)  # fmt: skip
def write_file(ctx: PteroCtx, server: str) -> None:
    assert ctx.server is not None
    raw = ctx.request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    service.write(bootstrap.server_control_ports(), tenant_of(ctx), ctx.server.ref, ctx.query.get("file"), raw)


@ptero_route(bp, f"{FILES}/rename", "PUT", permission="files.write", summary="Rename or move files",
             request_model=M + "RenameIn", status=204)  # fmt: skip
def rename_files(ctx: PteroCtx, server: str) -> None:
    assert ctx.server is not None
    moves = [(entry.from_, entry.to) for entry in ctx.body.files]
    service.rename(bootstrap.server_control_ports(), tenant_of(ctx), ctx.server.ref, ctx.body.root, moves)


@ptero_route(bp, f"{FILES}/copy", "POST", permission="files.write", summary="Duplicate a file next to itself",
             request_model=M + "CopyIn", status=204)  # fmt: skip
def copy_file(ctx: PteroCtx, server: str) -> None:
    assert ctx.server is not None
    service.copy(bootstrap.server_control_ports(), tenant_of(ctx), ctx.server.ref, ctx.body.location)


@ptero_route(bp, f"{FILES}/compress", "POST", permission="files.write", summary="Pack files into an archive",
             request_model=M + "FilesIn")  # fmt: skip
def compress_files(ctx: PteroCtx, server: str) -> Any:
    assert ctx.server is not None
    ports = bootstrap.server_control_ports()
    return service.compress(ports, tenant_of(ctx), ctx.server.ref, ctx.body.root, ctx.body.files)


@ptero_route(bp, f"{FILES}/decompress", "POST", permission="files.write", summary="Extract an archive",
             request_model=M + "DecompressIn", status=204)  # fmt: skip
def decompress_file(ctx: PteroCtx, server: str) -> None:
    assert ctx.server is not None
    service.decompress(bootstrap.server_control_ports(), tenant_of(ctx), ctx.server.ref, ctx.body.root, ctx.body.file)


@ptero_route(bp, f"{FILES}/delete", "POST", permission="files.write", summary="Delete files and folders",
             request_model=M + "FilesIn", status=204)  # fmt: skip
def delete_files(ctx: PteroCtx, server: str) -> None:
    assert ctx.server is not None
    service.delete(bootstrap.server_control_ports(), tenant_of(ctx), ctx.server.ref, ctx.body.root, ctx.body.files)


@ptero_route(bp, f"{FILES}/create-folder", "POST", permission="files.write", summary="Create a folder",
             request_model=M + "CreateFolderIn", status=204)  # fmt: skip
def create_folder(ctx: PteroCtx, server: str) -> None:
    assert ctx.server is not None
    ports = bootstrap.server_control_ports()
    service.create_folder(ports, tenant_of(ctx), ctx.server.ref, ctx.body.root, ctx.body.name)


@ptero_route(bp, f"{FILES}/chmod", "POST", permission="files.write", summary="Change the mode of files",
             request_model=M + "ChmodIn", status=204)  # fmt: skip
def chmod_files(ctx: PteroCtx, server: str) -> None:
    assert ctx.server is not None
    modes = [(entry.file, entry.mode) for entry in ctx.body.files]
    service.chmod(bootstrap.server_control_ports(), tenant_of(ctx), ctx.server.ref, ctx.body.root, modes)


@ptero_route(bp, f"{FILES}/pull", "POST", permission="files.write", summary="Have the node download a URL",
             request_model=M + "PullIn", status=204)  # fmt: skip
def pull_file(ctx: PteroCtx, server: str) -> None:
    assert ctx.server is not None
    body = ctx.body
    service.pull(
        bootstrap.server_control_ports(),
        tenant_of(ctx),
        ctx.server.ref,
        body.url,
        body.directory,
        body.filename,
        body.use_header,
    )
