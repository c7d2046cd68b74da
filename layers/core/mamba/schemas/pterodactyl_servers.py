"""Request bodies of /api/application/servers, with Pterodactyl's field names and rules
(its StoreServerRequest, UpdateServerDetailsRequest, UpdateServerBuildConfigurationRequest and
UpdateServerStartupRequest). Unknown fields are ignored, as Pterodactyl does, so billing modules
that send extra keys keep working. Mamba's own floors (64 MiB memory, 128 MiB disk: what Wings
runs) apply where Pterodactyl allows 0 for "unlimited" (docs/pterodactyl-api.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

THREADS = r"^[0-9,-]+$"


class _Body(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")


class LimitsIn(_Body):
    memory: int = Field(ge=64, le=1024 * 1024)
    swap: int = Field(ge=-1, le=1024 * 1024)
    disk: int = Field(ge=128, le=64 * 1024 * 1024)
    io: int = Field(default=500, ge=10, le=1000)
    cpu: int = Field(ge=0, le=10000)
    threads: str | None = Field(default=None, pattern=THREADS, max_length=100)
    oom_disabled: bool | None = None


class FeatureLimitsIn(_Body):
    databases: int | None = Field(default=None, ge=0)
    allocations: int | None = Field(default=None, ge=0)
    backups: int | None = Field(default=None, ge=0)


class AllocationIn(_Body):
    default: int = Field(ge=1)
    additional: list[int] = Field(default_factory=list, max_length=100)


class DeployIn(_Body):
    locations: list[int] = Field(max_length=100)
    dedicated_ip: bool
    port_range: list[str | int] = Field(default_factory=list, max_length=100)  # "25565-25570" or 25565


class ServerStoreIn(_Body):
    external_id: str | None = Field(default=None, min_length=1, max_length=191)
    name: str = Field(min_length=1, max_length=191)
    description: str | None = Field(default=None, max_length=500)
    user: int = Field(ge=1)
    egg: int = Field(ge=1)
    docker_image: str = Field(min_length=1, max_length=191)
    startup: str = Field(min_length=1, max_length=4096)
    environment: dict[str, Any] = Field(max_length=100)
    skip_scripts: bool = False
    oom_disabled: bool | None = None
    start_on_completion: bool = False
    limits: LimitsIn
    feature_limits: FeatureLimitsIn
    allocation: AllocationIn | None = None
    deploy: DeployIn | None = None


class ServerDetailsIn(_Body):
    external_id: str | None = Field(default=None, min_length=1, max_length=191)
    name: str = Field(min_length=1, max_length=191)
    user: int = Field(ge=1)
    description: str | None = Field(default=None, max_length=500)


class BuildLimitsIn(_Body):
    """A limit left out keeps its value (py-dactyl sends only the ones it changes)."""

    memory: int | None = Field(default=None, ge=64, le=1024 * 1024)
    swap: int | None = Field(default=None, ge=-1, le=1024 * 1024)
    disk: int | None = Field(default=None, ge=128, le=64 * 1024 * 1024)
    io: int | None = Field(default=None, ge=10, le=1000)
    cpu: int | None = Field(default=None, ge=0, le=10000)
    threads: str | None = Field(default=None, pattern=THREADS, max_length=100)


class ServerBuildIn(_Body):
    """``limits`` or, as older clients send them, the same keys at the top level. Feature limits
    are accepted and not applied: backups and ports per server follow the tenant's plan."""

    allocation: int = Field(ge=1)
    oom_disabled: bool | None = None
    limits: BuildLimitsIn | None = None
    add_allocations: list[int] = Field(default_factory=list, max_length=100)
    remove_allocations: list[int] = Field(default_factory=list, max_length=100)
    feature_limits: FeatureLimitsIn | None = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_limits(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("limits") is None:
            legacy = {k: value[k] for k in ("memory", "swap", "disk", "io", "cpu", "threads") if k in value}
            return {**value, "limits": legacy}
        return value


class ServerStartupIn(_Body):
    startup: str = Field(min_length=1, max_length=4096)
    environment: dict[str, Any] = Field(max_length=100)
    egg: int = Field(ge=1)
    image: str = Field(min_length=1, max_length=191)
    skip_scripts: bool
