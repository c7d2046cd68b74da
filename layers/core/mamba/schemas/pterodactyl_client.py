"""Request bodies of Pterodactyl's client API (docs/pterodactyl-api.md). Pterodactyl ignores
fields it does not know, and the tools written against it send some (py-dactyl's
``password_confirmation``), so these models ignore them too instead of answering 422."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PteroBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")


class PowerIn(PteroBody):
    signal: Literal["start", "stop", "restart", "kill"]


class CommandIn(PteroBody):
    command: str = Field(min_length=1, max_length=2000)


class RenameIn(PteroBody):
    # Mamba's names are at most 100 characters (PATCH /v1/.../servers/{id}); Pterodactyl allows 191.
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)


class DockerImageIn(PteroBody):
    docker_image: str = Field(min_length=1, max_length=191)


class VariableIn(PteroBody):
    key: str = Field(min_length=1, max_length=191)
    value: Any = None


class AllocationNotesIn(PteroBody):
    notes: str | None = Field(default=None, max_length=256)


class EmailIn(PteroBody):
    email: str = Field(min_length=3, max_length=191)
    password: str = Field(min_length=1, max_length=1024)


class PasswordIn(PteroBody):
    current_password: str = Field(min_length=1, max_length=1024)
    password: str = Field(min_length=8, max_length=1024)
    password_confirmation: str | None = None


class ApiKeyIn(PteroBody):
    description: str | None = Field(default=None, max_length=500)
    allowed_ips: list[str] | None = Field(default=None, max_length=50)


class TwoFactorEnableIn(PteroBody):
    code: str = Field(min_length=6, max_length=6)
    password: str | None = Field(default=None, max_length=1024)


class TwoFactorDisableIn(PteroBody):
    password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, max_length=64)
