"""A server's files: list, read, write, rename, copy, delete, folders, archives, chmod, pull,
and signed upload/download URLs on the node (large files never pass through the API)."""

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.services import server_files as files
else:
    files = lazy_import("mamba.services.server_files")

bp = Blueprint(__name__)
TAGS = ("files",)
FILES = "/v1/tenants/{tenant_id}/servers/{server_id}/files"


def _no_content() -> Response:
    return Response(body="", status_code=204)


@route(
    bp,
    f"{FILES}/list",
    "GET",
    permission="files.read",
    summary="The entries of a directory (directory, default /), folders first",
    tags=TAGS,
    response_model="server_control:FileList",
    query=("directory",),
)
def list_files(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    directory = ctx.query.get("directory", "/")
    entries = files.list_directory(bootstrap.server_control_ports(), ctx.tenant, server_id, directory)
    return {"items": entries, "next_cursor": None}


@route(
    bp,
    f"{FILES}/contents",
    "GET",
    permission="files.read",
    summary="A file's content (file=path; up to 5 MiB of text or 4 MiB of binary, base64)",
    tags=TAGS,
    response_model="server_control:FileContentOut",
    query=("file",),
)
def read_file(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    found = files.read_file(bootstrap.server_control_ports(), ctx.tenant, server_id, ctx.query.get("file", ""))
    return {"path": found.path, "size": found.size, "content": found.content, "encoding": found.encoding}


@route(
    bp,
    f"{FILES}/write",
    "POST",
    permission="files.write",
    summary="Create or replace a file (up to 5 MiB; use upload-url for more)",
    tags=TAGS,
    request_model="server_control:WriteIn",
    status=204,
)
def write_file(ctx: Ctx, tenant_id: str, server_id: str) -> Response:
    body = ctx.body
    files.write_file(bootstrap.server_control_ports(), ctx.tenant, server_id, body.path, body.content, body.encoding)
    return _no_content()


@route(
    bp,
    f"{FILES}/rename",
    "POST",
    permission="files.write",
    summary="Rename or move files (from/to relative to root)",
    tags=TAGS,
    request_model="server_control:RenameIn",
    status=204,
)
def rename_files(ctx: Ctx, tenant_id: str, server_id: str) -> Response:
    moves = [(m.from_, m.to) for m in ctx.body.files]
    files.rename(bootstrap.server_control_ports(), ctx.tenant, server_id, ctx.body.root, moves)
    return _no_content()


@route(
    bp,
    f"{FILES}/copy",
    "POST",
    permission="files.write",
    summary="Duplicate a file next to itself ('x copy.ext')",
    tags=TAGS,
    request_model="server_control:CopyIn",
    status=204,
)
def copy_file(ctx: Ctx, tenant_id: str, server_id: str) -> Response:
    files.copy(bootstrap.server_control_ports(), ctx.tenant, server_id, ctx.body.location)
    return _no_content()


@route(
    bp,
    f"{FILES}/delete",
    "POST",
    permission="files.write",
    summary="Delete files and folders (recursively) under root",
    tags=TAGS,
    request_model="server_control:FilesIn",
    status=204,
)
def delete_files(ctx: Ctx, tenant_id: str, server_id: str) -> Response:
    files.delete(bootstrap.server_control_ports(), ctx.tenant, server_id, ctx.body.root, ctx.body.files)
    return _no_content()


@route(
    bp,
    f"{FILES}/create-folder",
    "POST",
    permission="files.write",
    summary="Create a folder named name under root",
    tags=TAGS,
    request_model="server_control:FolderIn",
    response_model="server_control:FolderOut",
    status=201,
)
def create_folder(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    created = files.create_folder(bootstrap.server_control_ports(), ctx.tenant, server_id, ctx.body.root, ctx.body.name)
    return {"path": created}


@route(
    bp,
    f"{FILES}/compress",
    "POST",
    permission="files.write",
    summary="Pack files of root into a .tar.gz archive in root; returns the archive",
    tags=TAGS,
    request_model="server_control:FilesIn",
    response_model="server_control:FileStat",
)
def compress_files(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    result: dict[str, object] = files.compress(
        bootstrap.server_control_ports(), ctx.tenant, server_id, ctx.body.root, ctx.body.files
    )
    return result


@route(
    bp,
    f"{FILES}/decompress",
    "POST",
    permission="files.write",
    summary="Extract an archive of root into root",
    tags=TAGS,
    request_model="server_control:DecompressIn",
    status=204,
)
def decompress_file(ctx: Ctx, tenant_id: str, server_id: str) -> Response:
    files.decompress(bootstrap.server_control_ports(), ctx.tenant, server_id, ctx.body.root, ctx.body.file)
    return _no_content()


@route(
    bp,
    f"{FILES}/chmod",
    "POST",
    permission="files.write",
    summary="Change the mode of files under root (octal, e.g. 755)",
    tags=TAGS,
    request_model="server_control:ChmodIn",
    status=204,
)
def chmod_files(ctx: Ctx, tenant_id: str, server_id: str) -> Response:
    modes = [(entry.file, entry.mode) for entry in ctx.body.files]
    files.chmod(bootstrap.server_control_ports(), ctx.tenant, server_id, ctx.body.root, modes)
    return _no_content()


@route(
    bp,
    f"{FILES}/pull",
    "POST",
    permission="files.write",
    summary="Have the node download a public URL into root (in the background)",
    tags=TAGS,
    request_model="server_control:PullIn",
    response_model="server_control:PullOut",
    status=202,
)
def pull_file(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    body = ctx.body
    result: dict[str, object] = files.pull(
        bootstrap.server_control_ports(), ctx.tenant, server_id, body.url, body.root, body.file_name, body.use_header
    )
    return {"identifier": result.get("identifier")}


@route(
    bp,
    f"{FILES}/pull",
    "GET",
    permission="files.read",
    summary="The node's downloads in progress for this server",
    tags=TAGS,
    response_model="server_control:PullList",
)
def list_pulls(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    return {"items": files.list_pulls(bootstrap.server_control_ports(), ctx.tenant, server_id), "next_cursor": None}


@route(
    bp,
    f"{FILES}/pull/{{download_id}}",
    "DELETE",
    permission="files.write",
    summary="Cancel a download in progress",
    tags=TAGS,
    status=204,
)
def cancel_pull(ctx: Ctx, tenant_id: str, server_id: str, download_id: str) -> Response:
    files.cancel_pull(bootstrap.server_control_ports(), ctx.tenant, server_id, download_id)
    return _no_content()


@route(
    bp,
    f"{FILES}/download-url",
    "POST",
    permission="files.read",
    summary="A one-shot signed URL on the node that downloads the file (15 minutes)",
    tags=TAGS,
    request_model="server_control:DownloadUrlIn",
    response_model="server_control:SignedUrlOut",
)
def download_url(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    principal = ctx.principal
    assert principal is not None
    result: dict[str, object] = files.download_url(
        bootstrap.server_control_ports(), ctx.tenant, principal.user_id, server_id, ctx.body.path
    )
    return result


@route(
    bp,
    f"{FILES}/upload-url",
    "POST",
    permission="files.write",
    summary="A one-shot signed URL on the node for a multipart upload (field files) into directory",
    tags=TAGS,
    request_model="server_control:UploadUrlIn",
    response_model="server_control:SignedUrlOut",
)
def upload_url(ctx: Ctx, tenant_id: str, server_id: str) -> dict[str, object]:
    principal = ctx.principal
    assert principal is not None
    result: dict[str, object] = files.upload_url(
        bootstrap.server_control_ports(), ctx.tenant, principal.user_id, server_id, ctx.body.directory
    )
    return result
