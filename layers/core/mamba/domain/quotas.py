"""What a tenant may use: the plan's quotas (standard library only).

A negative value means unlimited. The billing helper writes a tenant's ``plan_quotas``;
``mamba.services.quotas.effective_quotas`` reads it, else the free-plan defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Quotas:
    servers: int
    memory_mb: int
    disk_mb: int
    backup_bytes: int
    backups_per_server: int


FIELDS = ("servers", "memory_mb", "disk_mb", "backup_bytes", "backups_per_server")


def unlimited(value: int) -> bool:
    return value < 0


def from_mapping(raw: dict[str, Any], defaults: Quotas) -> Quotas:
    """The quotas in ``raw`` (a plan's JSON object); a missing or non-integer key keeps the default."""
    values = {}
    for name in FIELDS:
        value = raw.get(name)
        values[name] = value if isinstance(value, int) and not isinstance(value, bool) else getattr(defaults, name)
    return Quotas(**values)
