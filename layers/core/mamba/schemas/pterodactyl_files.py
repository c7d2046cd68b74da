"""Request bodies of Pterodactyl's client API for a server's files, backups, schedules and
subusers (pterodactyl/panel v1.11 ``app/Http/Requests/Api/Client/Servers/**``).

Unlike /v1's models, an unknown field is ignored, as Laravel's validator does: the tools that
speak Pterodactyl send fields Mamba has no use for."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PteroBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")


# --- files ---------------------------------------------------------------------------------


class RenameEntry(PteroBody):
    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)


class RenameIn(PteroBody):
    root: str | None = None
    files: list[RenameEntry] = Field(min_length=1)


class CopyIn(PteroBody):
    location: str = Field(min_length=1)


class FilesIn(PteroBody):
    root: str | None = None
    files: list[str] = Field(min_length=1)


class DecompressIn(PteroBody):
    root: str | None = None
    file: str = Field(min_length=1)


class CreateFolderIn(PteroBody):
    root: str | None = None
    name: str = Field(min_length=1)


class ChmodEntry(PteroBody):
    file: str = Field(min_length=1)
    mode: int | str


class ChmodIn(PteroBody):
    root: str | None = None
    files: list[ChmodEntry] = Field(min_length=1)


class PullIn(PteroBody):
    url: str = Field(min_length=1, max_length=2048)
    directory: str | None = None
    filename: str | None = None
    use_header: bool = False
    foreground: bool = False


# --- backups -------------------------------------------------------------------------------


class BackupIn(PteroBody):
    name: str | None = Field(default=None, max_length=191)
    is_locked: bool | None = None
    # Pterodactyl's ignored files: one pattern per line, in one string.
    ignored: str | None = None


class RestoreIn(PteroBody):
    truncate: bool


# --- schedules -----------------------------------------------------------------------------


class ScheduleIn(PteroBody):
    name: str = Field(min_length=1, max_length=191)
    is_active: bool = True
    only_when_online: bool = False
    minute: str = Field(min_length=1)
    hour: str = Field(min_length=1)
    day_of_month: str = Field(min_length=1)
    month: str = "*"
    day_of_week: str = Field(min_length=1)


class TaskIn(PteroBody):
    action: Literal["command", "power", "backup"]
    payload: str | None = None
    time_offset: int = Field(ge=0, le=900)
    sequence_id: int | None = Field(default=None, ge=1)
    continue_on_failure: bool = False


# --- subusers ------------------------------------------------------------------------------


class SubuserIn(PteroBody):
    email: str = Field(min_length=1, max_length=191)
    permissions: list[str]


class SubuserUpdate(PteroBody):
    permissions: list[str]
