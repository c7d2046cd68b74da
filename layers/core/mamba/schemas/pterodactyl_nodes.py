"""Request bodies of the application API's nodes, locations and allocations (Pterodactyl's
Store/Update Node, Location and Allocation requests). Unknown fields are ignored, as Laravel
does; a failure is Pterodactyl's 422 naming the field."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

NAME = r"^[\w .-]{1,100}$"
ABSOLUTE_PATH = r"^/[^\x00]*$"


class _Lenient(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")


class PteroNodeIn(_Lenient):
    name: str = Field(pattern=NAME)
    location_id: int = Field(ge=1)
    fqdn: str = Field(min_length=1, max_length=253)
    scheme: Literal["http", "https"]
    public: bool = True
    behind_proxy: bool = False
    maintenance_mode: bool = False
    memory: int = Field(ge=1)
    memory_overallocate: int = Field(ge=-1)
    disk: int = Field(ge=1)
    disk_overallocate: int = Field(ge=-1)
    upload_size: int = Field(default=100, ge=1, le=1024)
    daemon_listen: int = Field(ge=1, le=65535)
    daemon_sftp: int = Field(ge=1, le=65535)
    daemon_base: str | None = Field(default=None, pattern=ABSOLUTE_PATH, max_length=191)


class PteroNodePatch(_Lenient):
    name: str | None = Field(default=None, pattern=NAME)
    location_id: int | None = Field(default=None, ge=1)
    fqdn: str | None = Field(default=None, min_length=1, max_length=253)
    scheme: Literal["http", "https"] | None = None
    public: bool | None = None
    behind_proxy: bool | None = None
    maintenance_mode: bool | None = None
    memory: int | None = Field(default=None, ge=1)
    memory_overallocate: int | None = Field(default=None, ge=-1)
    disk: int | None = Field(default=None, ge=1)
    disk_overallocate: int | None = Field(default=None, ge=-1)
    upload_size: int | None = Field(default=None, ge=1, le=1024)
    daemon_listen: int | None = Field(default=None, ge=1, le=65535)
    daemon_sftp: int | None = Field(default=None, ge=1, le=65535)
    daemon_base: str | None = Field(default=None, pattern=ABSOLUTE_PATH, max_length=191)
    reset_secret: bool = False


# py-dactyl sends a location's ``short``/``long`` as ``shortcode``/``description``: both are taken.
SHORT = AliasChoices("short", "shortcode")
LONG = AliasChoices("long", "description")


class PteroLocationIn(_Lenient):
    short: str = Field(min_length=1, max_length=60, validation_alias=SHORT)
    long: str | None = Field(default=None, min_length=1, max_length=191, validation_alias=LONG)


class PteroLocationPatch(_Lenient):
    short: str | None = Field(default=None, min_length=1, max_length=60, validation_alias=SHORT)
    long: str | None = Field(default=None, min_length=1, max_length=191, validation_alias=LONG)


class PteroAllocationsIn(_Lenient):
    ip: str = Field(min_length=1)
    alias: str | None = Field(default=None, max_length=191)
    ports: list[str | int] = Field(min_length=1)
