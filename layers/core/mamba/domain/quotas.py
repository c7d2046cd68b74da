"""Tenant quotas: what a tenant's plan allows. Pure (standard library only).

The billing code writes a tenant's plan quotas as a JSON object on the tenant record
(``plan_quotas``); a tenant without one gets the free-plan defaults from Settings. A
negative value means unlimited.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from mamba.domain.errors import QuotaExceededError

QUOTA_KEYS = ("servers", "memory_mb", "disk_mb", "backup_bytes", "backups_per_server", "schedules_per_server")
# A plan stored before a quota existed gets this default for it (not 0, which would forbid it).
DEFAULT_SCHEDULES_PER_SERVER = 10


@dataclass(frozen=True)
class Quotas:
    """The one quotas value: a plan's (billing) and a tenant's effective ones (servers, backups)."""

    servers: int = 0
    memory_mb: int = 0
    disk_mb: int = 0
    backup_bytes: int = 0
    backups_per_server: int = 0
    schedules_per_server: int = DEFAULT_SCHEDULES_PER_SERVER

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Quotas:
        """Every key of ``QUOTA_KEYS``; a missing one is 0 (schedules: the default)."""
        return cls(**{k: int(data.get(k, _MISSING.get(k, 0))) for k in QUOTA_KEYS})


_MISSING = {"schedules_per_server": DEFAULT_SCHEDULES_PER_SERVER}


@dataclass(frozen=True)
class Usage:
    """What a tenant's servers hold now (``failed`` servers hold no memory or disk)."""

    servers: int = 0
    memory_mb: int = 0
    disk_mb: int = 0


def tenant_quotas(plan_quotas: str | None, stored_free: Quotas | None, settings_free: Quotas) -> Quotas:
    """A tenant's quotas from what was read: its ``plan_quotas`` (each missing key from the
    Settings free plan), else the stored ``free`` plan, else the Settings free plan (the rule of
    ``mamba.services.quotas.effective_quotas``, for readers that fetched the items together)."""
    defaults = settings_free if plan_quotas else (stored_free or settings_free)
    return parse_quotas(plan_quotas, defaults)


@dataclass(frozen=True)
class BackupSettingsFacts:
    """What ``GET .../backup-settings`` shows, read in one call (``DynamoTenantUsageReader``)."""

    rotate: bool
    usage_bytes: int
    quotas: Quotas


def parse_quotas(raw: str | None, defaults: Quotas) -> Quotas:
    """The quotas in ``raw`` (a JSON object), each missing or malformed key taken from
    ``defaults``; None or unreadable JSON gives ``defaults``."""
    if not raw:
        return defaults
    try:
        data = json.loads(raw)
    except ValueError:
        return defaults
    if not isinstance(data, dict):
        return defaults
    values: dict[str, int] = {}
    for f in fields(Quotas):
        value = data.get(f.name)
        if isinstance(value, int) and not isinstance(value, bool):
            values[f.name] = value
        else:
            values[f.name] = int(getattr(defaults, f.name))
    return Quotas(**values)


def unlimited(value: int) -> bool:
    """A negative quota means no limit."""
    return value < 0


def _over(limit: int, used: int, requested: int) -> bool:
    return not unlimited(limit) and used + requested > limit


def check_new_server(quotas: Quotas, usage: Usage, memory_mb: int, disk_mb: int) -> None:
    """Raise QuotaExceededError naming the first limit one more server would pass."""
    checks = (
        ("servers", quotas.servers, usage.servers, 1, "servers"),
        ("memory_mb", quotas.memory_mb, usage.memory_mb, memory_mb, "MiB of memory"),
        ("disk_mb", quotas.disk_mb, usage.disk_mb, disk_mb, "MiB of disk"),
    )
    for name, limit, used, requested, unit in checks:
        if _over(limit, used, requested):
            raise QuotaExceededError(
                f"Your plan allows {limit} {unit}; {used} are in use and this server needs {requested}. "
                "Delete a server, choose smaller limits or upgrade your plan.",
                {"limit": name, "quota": limit, "used": used, "requested": requested},
            )


@dataclass(frozen=True)
class UsageFacts:
    """What the usage reader found for a tenant."""

    plan_id: str
    plan_quotas: str | None  # the tenant's ``plan_quotas`` JSON (None: on the free plan)
    stored_free_quotas: Quotas | None  # the stored ``free`` plan's quotas (None before migration 0007)
    servers: Usage
    backup_bytes: int


WARNING_RATIO = 0.8  # quota.warning (docs/notifications.md): 80 % of any quota


def crossed_warning(limit: int, before: int, after: int) -> bool:
    """Whether usage going from ``before`` to ``after`` crosses 80 % of ``limit`` upward (once per
    crossing: a tenant staying above it is not warned again until it drops below and returns)."""
    if unlimited(limit) or limit == 0:
        return False
    threshold = WARNING_RATIO * limit
    return before < threshold <= after
