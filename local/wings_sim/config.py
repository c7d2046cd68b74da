"""The node's ``config.yml`` (wings-contract.md §6), the keys the simulator uses, with Wings' defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from local.blueprints import SIMULATOR_BLUEPRINT_IDS


class ConfigError(Exception):
    """The config file is missing or lacks a required key."""


@dataclass
class NodeConfig:
    uuid: str
    token_id: str
    token: str
    remote: str
    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    upload_limit_mb: int = 100
    allowed_origins: list[str] = field(default_factory=list)
    disable_remote_download: bool = False
    boot_servers_per_page: int = 50
    remote_timeout: float = 30.0
    websocket_log_count: int = 150
    debug: bool = False
    ignore_panel_config_updates: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    # Not from config.yml (the panel renders that): the simulator's own choice of which eggs'
    # install scripts it runs on this machine. The local seed's blueprints, plus any egg id
    # given with --allow-install. Kept across POST /api/update.
    install_eggs: frozenset[str] = SIMULATOR_BLUEPRINT_IDS

    # Applied live by POST /api/update; the listening port and the data directory need a restart.
    LIVE_FIELDS = (
        "uuid",
        "token_id",
        "token",
        "remote",
        "upload_limit_mb",
        "allowed_origins",
        "disable_remote_download",
        "boot_servers_per_page",
        "remote_timeout",
        "websocket_log_count",
        "debug",
        "ignore_panel_config_updates",
    )

    def update(self, incoming: dict[str, Any]) -> None:
        """Decode ``incoming`` on top of the current configuration (absent keys keep their value)."""
        merged = _deep_merge(self.raw, incoming)
        fresh = NodeConfig.from_mapping(merged, base=self.data_dir)
        for name in self.LIVE_FIELDS:
            setattr(self, name, getattr(fresh, name))
        self.raw = merged

    @property
    def state_dir(self) -> Path:
        """Simulator bookkeeping (install scripts and logs, backups): inside the data directory."""
        return self.data_dir / ".wings-sim"

    def server_dir(self, uuid: str) -> Path:
        return self.data_dir / uuid

    @classmethod
    def load(cls, path: Path) -> NodeConfig:
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ConfigError("config.yml must be a mapping")
        return cls.from_mapping(raw, base=path.parent)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], base: Path) -> NodeConfig:
        api = raw.get("api") or {}
        system = raw.get("system") or {}
        remote_query = raw.get("remote_query") or {}
        missing = [k for k in ("uuid", "token_id", "token", "remote") if not raw.get(k)]
        if not system.get("data"):
            missing.append("system.data")
        if missing:
            raise ConfigError(f"config.yml is missing {', '.join(missing)}")
        data = Path(str(system["data"]))
        if not data.is_absolute():
            data = base / data
        return cls(
            uuid=str(raw["uuid"]),
            token_id=str(raw["token_id"]),
            token=str(raw["token"]),
            remote=str(raw["remote"]).rstrip("/"),
            data_dir=data.resolve(),
            port=int(api.get("port", 8080)),
            upload_limit_mb=int(api.get("upload_limit", 100)),
            allowed_origins=[str(o) for o in raw.get("allowed_origins") or []],
            disable_remote_download=bool(api.get("disable_remote_download", False)),
            boot_servers_per_page=int(remote_query.get("boot_servers_per_page", 50)),
            remote_timeout=float(remote_query.get("timeout", 30)),
            websocket_log_count=int(system.get("websocket_log_count", 150)),
            debug=bool(raw.get("debug", False)),
            ignore_panel_config_updates=bool(raw.get("ignore_panel_config_updates", False)),
            raw=raw,
        )


def _deep_merge(base: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in incoming.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
