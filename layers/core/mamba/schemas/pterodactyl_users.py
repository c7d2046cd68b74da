"""Request bodies of the application API's users (Pterodactyl's StoreUserRequest and
UpdateUserRequest). Unknown fields are ignored, as Laravel does; a failure is Pterodactyl's 422. A
number where a string is expected (a billing system's numeric ``external_id``) is taken as its text."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PteroUserIn(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", coerce_numbers_to_str=True)

    email: str = Field(min_length=1, max_length=191)
    username: str = Field(min_length=1, max_length=191)
    first_name: str = Field(min_length=1, max_length=191)
    last_name: str = Field(min_length=1, max_length=191)
    external_id: str | None = Field(default=None, max_length=191)
    password: str | None = None
    language: str | None = Field(default=None, max_length=5)
    root_admin: bool = False


class PteroUserPatch(BaseModel):
    """Pterodactyl asks for every field again on PATCH; Mamba changes the ones given."""

    model_config = ConfigDict(defer_build=True, extra="ignore", coerce_numbers_to_str=True)

    email: str | None = Field(default=None, min_length=1, max_length=191)
    username: str | None = Field(default=None, min_length=1, max_length=191)
    first_name: str | None = Field(default=None, min_length=1, max_length=191)
    last_name: str | None = Field(default=None, min_length=1, max_length=191)
    external_id: str | None = Field(default=None, max_length=191)
    password: str | None = None
    language: str | None = Field(default=None, max_length=5)
    root_admin: bool | None = None
