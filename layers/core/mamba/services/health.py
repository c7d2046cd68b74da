"""Readiness: every backing service answers."""

from __future__ import annotations

from mamba.ports import HealthProbes


def readiness(probes: HealthProbes) -> tuple[bool, dict[str, str]]:
    checks = probes.check()
    return all(v == "ok" for v in checks.values()), checks


def probe_one(probes: HealthProbes, name: str) -> dict[str, str]:
    """Probe one service; raises TransientError so a workflow retries, ValidationError for an unknown name."""
    from mamba.domain.errors import TransientError, ValidationError

    checks = probes.check()
    if name not in checks:
        raise ValidationError(f"unknown check {name!r}", {"known": sorted(checks)})
    if checks[name] != "ok":
        raise TransientError(f"{name} did not answer: {checks[name]}")
    return {"check": name, "status": "ok"}
