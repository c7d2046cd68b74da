"""Request and response models of a server's power, console and files routes."""

from typing import Any, Literal

from pydantic import Field

from mamba.schemas.common import OmitWhenNone, Schema


class PowerIn(Schema):
    action: Literal["start", "stop", "restart", "kill"]


class PowerOut(Schema):
    server_id: str
    action: str
    accepted: bool


class CommandIn(Schema):
    command: str = Field(min_length=1, max_length=2000)


class LogsOut(Schema):
    lines: list[str]


class ResourcesOut(Schema):
    server_id: str
    status: str = Field(description="The panel's status of the server")
    state: str = Field(description="What Wings reports now: offline, starting, running or stopping")
    is_suspended: bool
    utilization: dict[str, Any]


class WebsocketOut(Schema):
    token: str = Field(description="JWT for the socket's first `auth` frame (10 minutes)")
    socket: str = Field(description="wss://node:port/api/servers/{uuid}/ws")
    expires_at: int
    permissions: list[str]


# --- files ---------------------------------------------------------------------------------


class FileStat(Schema):
    model_config = Schema.model_config | {"extra": "allow"}

    name: str
    size: int = 0
    directory: bool = False
    file: bool = True
    symlink: bool = False
    mode: str | None = None
    mode_bits: str | None = None
    mime: str | None = None
    created: str | None = None
    modified: str | None = None


class FileList(Schema):
    items: list[FileStat]
    next_cursor: str | None = None


class FileContentOut(Schema):
    path: str
    size: int
    content: str
    encoding: Literal["utf-8", "base64"]


class WriteIn(Schema):
    path: str = Field(min_length=1, max_length=4096)
    content: str = Field(max_length=8 * 1024 * 1024)
    encoding: Literal["utf-8", "base64"] = "utf-8"


class Move(Schema):
    from_: str = Field(alias="from", min_length=1, max_length=4096)
    to: str = Field(min_length=1, max_length=4096)


class RenameIn(Schema):
    root: str = Field(default="/", max_length=4096)
    files: list[Move] = Field(min_length=1, max_length=100)


class CopyIn(Schema):
    location: str = Field(min_length=1, max_length=4096)


class FilesIn(Schema):
    root: str = Field(default="/", max_length=4096)
    files: list[str] = Field(min_length=1, max_length=100)


class FolderIn(Schema):
    root: str = Field(default="/", max_length=4096)
    name: str = Field(min_length=1, max_length=255)


class FolderOut(Schema):
    path: str


class DecompressIn(Schema):
    root: str = Field(default="/", max_length=4096)
    file: str = Field(min_length=1, max_length=4096)


class ChmodEntry(Schema):
    file: str = Field(min_length=1, max_length=4096)
    mode: str = Field(min_length=3, max_length=4)


class ChmodIn(Schema):
    root: str = Field(default="/", max_length=4096)
    files: list[ChmodEntry] = Field(min_length=1, max_length=100)


class PullIn(Schema):
    url: str = Field(min_length=1, max_length=2048)
    root: str = Field(default="/", max_length=4096)
    file_name: str | None = Field(default=None, max_length=255)
    use_header: bool = False


class PullOut(Schema):
    identifier: str | None = None


class PullProgress(Schema):
    identifier: str
    progress: float


class PullList(Schema):
    items: list[PullProgress]
    next_cursor: str | None = None


class DownloadUrlIn(Schema):
    path: str = Field(min_length=1, max_length=4096)


class UploadUrlIn(Schema):
    directory: str = Field(default="/", max_length=4096)


class SignedUrlOut(Schema, OmitWhenNone):
    omit_when_none = frozenset({"max_file_bytes"})  # only an upload URL has a size limit

    url: str
    expires_in: int
    max_file_bytes: int | None = None
