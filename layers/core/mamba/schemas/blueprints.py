"""Request and response models of /v1/admin/blueprints."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mamba.schemas.common import OmitWhenNone, Schema

Parser = Literal["file", "yaml", "properties", "ini", "json", "xml"]
StopType = Literal["command", "signal", "stop"]


class VariableModel(Schema):
    name: str = Field(min_length=1, max_length=191)
    env_variable: str = Field(min_length=1, max_length=191)
    description: str = ""
    default_value: str = ""
    user_viewable: bool = True
    user_editable: bool = True
    rules: str = Field(default="nullable|string", description="Laravel-style rules, e.g. required|string|max:20")
    field_type: str = "text"


class ReplacementModel(Schema, OmitWhenNone):
    omit_when_none = frozenset({"if_value"})  # an unconditional replacement has no such key (as in the egg)

    match: str
    replace_with: str | int | float | bool | None
    if_value: str | None = None


class ConfigFileModel(Schema):
    file: str = Field(min_length=1)
    parser: Parser
    replace: list[ReplacementModel] = Field(default_factory=list)


class BlueprintIn(Schema):
    name: str = Field(min_length=1, max_length=191)
    author: str = ""
    description: str = ""
    category: str = Field(default="", max_length=60, description="Groups blueprints (Pterodactyl's nest)")
    features: list[str] = Field(default_factory=list)
    docker_images: dict[str, str] = Field(min_length=1, description="Label → image; the first is the default")
    startup: str = Field(min_length=1)
    stop_type: StopType = "command"
    stop_value: str = "stop"
    startup_done: list[str] = Field(default_factory=list)
    strip_ansi: bool = False
    config_files: list[ConfigFileModel] = Field(default_factory=list)
    install_container: str = "ghcr.io/pterodactyl/installers:debian"
    install_entrypoint: str = "bash"
    install_script: str = ""
    file_denylist: list[str] = Field(default_factory=list)
    variables: list[VariableModel] = Field(default_factory=list)
    variable_max_length: int = Field(
        default=1024, ge=1, le=65536, description="The longest value a variable may hold (characters)"
    )


class BlueprintPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=191)
    author: str | None = None
    description: str | None = None
    category: str | None = Field(default=None, max_length=60)
    features: list[str] | None = None
    docker_images: dict[str, str] | None = Field(default=None, min_length=1)
    startup: str | None = Field(default=None, min_length=1)
    stop_type: StopType | None = None
    stop_value: str | None = None
    startup_done: list[str] | None = None
    strip_ansi: bool | None = None
    config_files: list[ConfigFileModel] | None = None
    install_container: str | None = None
    install_entrypoint: str | None = None
    install_script: str | None = None
    file_denylist: list[str] | None = None
    variables: list[VariableModel] | None = None
    variable_max_length: int | None = Field(default=None, ge=1, le=65536)


class BlueprintPreview(BlueprintIn):
    """An egg as the import would store it, not stored (``POST /v1/admin/blueprints/import/preview``)."""

    logs: dict[str, Any] = Field(default_factory=dict)
    update_url: str | None = None


class BlueprintOut(BlueprintIn):
    id: str
    logs: dict[str, Any] = Field(default_factory=dict)
    update_url: str | None = None
    servers: int = Field(default=0, ge=0, description="How many servers use the blueprint; delete needs 0")
    created_at: str
    updated_at: str


class BlueprintList(Schema):
    items: list[BlueprintOut]
    next_cursor: str | None = None


class EggIn(BaseModel):
    """A Pterodactyl egg export (PTDL_v1 or PTDL_v2), taken as it is and checked by the importer."""

    model_config = ConfigDict(defer_build=True, extra="allow")
