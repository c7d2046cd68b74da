"""Pure rules of a server's lifecycle operations: which statuses allow which operation, the
build (limits) a PATCH asks for, what suspension and reconciliation change.

Standard library only. The statuses and ``require_status`` live in ``mamba.domain.servers``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Final

from mamba.domain import servers as srv
from mamba.domain.blueprints import Variable
from mamba.domain.errors import QuotaExceededError, ValidationError
from mamba.domain.rules import VALUE_MAX_DEFAULT, check_value, parse_rules
from mamba.domain.servers import Limits, Server

# --- operation types, their workflows and the steps the user sees ---

DELETE: Final = "delete_server"
REINSTALL: Final = "reinstall_server"
UPDATE_BUILD: Final = "update_server_build"
SUSPEND: Final = "suspend_server"
UNSUSPEND: Final = "unsuspend_server"

STEPS: Final[dict[str, list[str]]] = {
    DELETE: ["kill", "delete_on_node", "release_allocations", "delete_backups", "remove_records"],
    REINSTALL: ["mark_installing", "reinstall_on_node", "wait_for_install"],
    UPDATE_BUILD: ["save_build", "sync_node"],
    SUSPEND: ["suspend"],
    UNSUSPEND: ["unsuspend"],
}

# The statuses each operation may start from, derived from the transition table of
# ``mamba.domain.servers`` (``can_transition`` to the status the operation moves to), less
# ``provisioning``: the provision_server workflow owns a server until it is installed (its
# own compensation deletes it). A delete may be retried while ``deleting`` (a node that was
# down). A reinstall may start from a running server: Wings stops it before installing.


def _to(target: str) -> frozenset[str]:
    return frozenset(s for s in srv.STATUSES if srv.can_transition(s, target)) - {srv.PROVISIONING}


ALLOWED: Final[dict[str, frozenset[str]]] = {
    DELETE: _to(srv.DELETING),
    REINSTALL: _to(srv.INSTALLING) - {srv.INSTALLING},
    UPDATE_BUILD: frozenset({srv.OFFLINE, srv.INSTALL_FAILED, srv.STARTING, srv.RUNNING, srv.STOPPING, srv.SUSPENDED}),
    SUSPEND: _to(srv.SUSPENDED),
    UNSUSPEND: frozenset({srv.SUSPENDED}),
}

# How long a lock outlives its workflow if the workflow dies without releasing it. Longer
# than any of these workflows can run (the reinstall wait is bounded by its max polls).
LOCK_SECONDS: Final = 2 * 3600


def require_allowed(server: Server, operation: str) -> None:
    """ConflictError (409) naming the status when ``operation`` cannot start now."""
    allowed = ALLOWED[operation]
    if server.status not in allowed:
        srv.require_status(server, *sorted(allowed))


# --- the build a PATCH changes ---

THREADS = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")
BUILD_FIELDS: Final = ("memory_mb", "disk_mb", "cpu_percent", "swap_mb", "io_weight", "threads", "oom_disabled")


def _bad(name: str, message: str) -> ValidationError:
    return ValidationError(f"limits.{name} {message}.", {"fields": [{"field": f"limits.{name}", "message": message}]})


def check_limits(limits: Limits) -> Limits:
    """ValidationError naming the first unusable limit (the ranges Wings accepts, §5.4)."""
    if limits.memory_mb < 64:
        raise _bad("memory_mb", "must be at least 64")
    if limits.disk_mb < 128:
        raise _bad("disk_mb", "must be at least 128")
    if limits.cpu_percent < 0:
        raise _bad("cpu_percent", "must be 0 (unlimited) or more")
    if limits.swap_mb < -1:
        raise _bad("swap_mb", "must be -1 (unlimited), 0 or more")
    if not 10 <= limits.io_weight <= 1000:
        raise _bad("io_weight", "must be between 10 and 1000")
    if limits.threads is not None and not THREADS.match(limits.threads):
        raise _bad("threads", "must be a cpuset such as 0-1,3")
    return limits


def merge_limits(current: Limits, changes: dict[str, Any]) -> Limits:
    """The limits after a PATCH: unknown keys are a ValidationError, the result is checked."""
    unknown = sorted(set(changes) - set(BUILD_FIELDS))
    if unknown:
        raise _bad(unknown[0], "is not a limit")
    return check_limits(replace(current, **changes))


def limits_to_dict(limits: Limits) -> dict[str, Any]:
    return {name: getattr(limits, name) for name in BUILD_FIELDS}


def limits_from_dict(data: dict[str, Any]) -> Limits:
    return Limits(**{name: data[name] for name in BUILD_FIELDS if name in data})


EnvValue = str | int | float | bool


def _as_text(value: EnvValue) -> str:
    """How a rule sees a value (a JSON boolean is ``true``/``false``, as Laravel reads it)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def merge_environment(
    variables: tuple[Variable, ...],
    current: dict[str, EnvValue],
    changes: dict[str, EnvValue | None],
    max_length: int = VALUE_MAX_DEFAULT,
) -> dict[str, EnvValue]:
    """The environment after a PATCH. Each key must be one of the blueprint's variables that
    users may edit, and each value must pass that variable's rules and be at most
    ``max_length`` characters (``null`` clears it back to the blueprint's default).
    ValidationError names every bad field."""
    by_name = {v.env_variable: v for v in variables}
    merged = dict(current)
    fields: list[dict[str, str]] = []
    for key, value in changes.items():
        variable = by_name.get(key)
        if variable is None or not variable.user_editable:
            fields.append({"field": f"environment.{key}", "message": "is not a variable you can change"})
            continue
        text = (
            variable.default_value if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )
        failures = check_value(text, parse_rules(variable.rules), max_length)
        if failures:
            fields.append({"field": f"environment.{key}", "message": "; ".join(failures)})
            continue
        merged[key] = variable.default_value if value is None else value
    if fields:
        raise ValidationError("The environment failed the blueprint's rules.", {"fields": fields})
    return merged


@dataclass(frozen=True)
class TenantTotals:
    """What a tenant's other servers already use."""

    memory_mb: int
    disk_mb: int


def totals_without(servers: list[Server], server_uuid: str) -> TenantTotals:
    """What the tenant's other servers hold (a ``failed`` server holds nothing, as for a create)."""
    others = [s for s in servers if s.uuid != server_uuid and s.status != srv.FAILED]
    return TenantTotals(sum(s.limits.memory_mb for s in others), sum(s.limits.disk_mb for s in others))


def check_build_quota(limits: Limits, others: TenantTotals, memory_quota: int, disk_quota: int) -> None:
    """QuotaExceededError (403 QUOTA_EXCEEDED) naming the limit a bigger build would pass.
    A negative quota means unlimited."""
    for name, used, wanted, quota in (
        ("memory_mb", others.memory_mb, limits.memory_mb, memory_quota),
        ("disk_mb", others.disk_mb, limits.disk_mb, disk_quota),
    ):
        if quota >= 0 and used + wanted > quota:
            raise QuotaExceededError(
                f"This would use {used + wanted} MiB of {name.removesuffix('_mb')}; the plan allows {quota} MiB.",
                {"limit": name, "quota": quota, "used": used, "requested": wanted},
            )


# --- suspension ---


BY_ADMIN: Final = "admin"  # a platform admin suspended this one server
BY_TENANT_ADMIN: Final = "tenant_admin"  # a platform admin suspended the whole tenant
BY_BILLING: Final = "billing"  # the tenant's subscription is unpaid
SUSPENDERS: Final = frozenset({BY_ADMIN, BY_TENANT_ADMIN, BY_BILLING})
# The stronger holder is never downgraded, and only an equal or stronger one lifts it.
_STRENGTH: Final = {BY_BILLING: 1, BY_TENANT_ADMIN: 2, BY_ADMIN: 3}
# The tenant-level reasons (``tenant.status`` and ``tenant.billing_state``) are independent:
# lifting one must leave the servers suspended while the other still holds.
TENANT_REASONS: Final = frozenset({BY_TENANT_ADMIN, BY_BILLING})


def suspender_after_suspend(status: str, current: str | None, by: str) -> str:
    """Who holds a suspension after ``by`` suspends: the stronger holder (an admin's server
    suspension, then an admin's tenant suspension, then billing's), never downgraded."""
    if status != srv.SUSPENDED or current is None:
        return by
    return by if _STRENGTH.get(by, 0) >= _STRENGTH.get(current, 0) else current


def may_unsuspend(current: str | None, by: str) -> bool:
    """Billing lifts only its own suspension; an admin's tenant suspension lifts its own and
    billing's; an admin's server suspension lifts any. A suspension of unknown origin (before
    this was recorded) may be lifted by any."""
    return current is None or _STRENGTH.get(by, 0) >= _STRENGTH.get(current, 0)


def other_tenant_hold(by: str, holds: frozenset[str]) -> str | None:
    """The tenant-level suspension that still holds when ``by`` lifts its own (``holds``: the
    tenant's current reasons), or None. An admin lifting one server's suspension is not held."""
    if by not in TENANT_REASONS:
        return None
    others = sorted(holds - {by})
    return others[0] if others else None


def suspended(server: Server, *, now: str) -> Server:
    """The server marked suspended (idempotent)."""
    if server.status == srv.SUSPENDED:
        return server
    return replace(server, status=srv.SUSPENDED, updated_at=now)


def status_after_unsuspend(server: Server) -> str:
    """A suspended server was killed, so it comes back ``offline`` (the only way out of
    ``suspended`` in the transition table besides a delete)."""
    return srv.OFFLINE


def unsuspended(server: Server, *, now: str) -> Server:
    """The server after an unsuspend (idempotent: a server that is not suspended is unchanged)."""
    if server.status != srv.SUSPENDED:
        return server
    return replace(server, status=status_after_unsuspend(server), updated_at=now)


# --- reinstall ---


def status_after_refused_reinstall(previous: str) -> str:
    """Where a reinstall the node refused (or never got) puts the server back: its previous
    status when the transition table allows installing → it, else ``offline`` (a server
    that was running is then shown running again by the next reconcile run)."""
    return previous if srv.can_transition(srv.INSTALLING, previous) else srv.OFFLINE


# --- reconciliation ---


@dataclass(frozen=True)
class Observation:
    """What one node said about one of its servers (``GET /api/servers``)."""

    server_uuid: str
    state: str  # offline | starting | running | stopping
    utilization: dict[str, Any]


def observations(listing: list[dict[str, Any]]) -> dict[str, Observation]:
    """Parse Wings' server list, keyed by uuid; entries that are not usable are skipped."""
    found: dict[str, Observation] = {}
    for entry in listing:
        if not isinstance(entry, dict):
            continue
        config = entry.get("configuration") or {}
        uuid = config.get("uuid") if isinstance(config, dict) else None
        state = entry.get("state")
        if not isinstance(uuid, str) or state not in srv.WINGS_STATES:
            continue
        utilization = entry.get("utilization")
        found[uuid] = Observation(uuid, str(state), utilization if isinstance(utilization, dict) else {})
    return found


@dataclass(frozen=True)
class ObservedServer:
    """One server's row of a reconcile batch: the status read before (the condition), the
    status to write (None: unchanged) and Wings' utilization."""

    server_uuid: str
    expected_status: str
    new_status: str | None
    utilization: dict[str, Any]


def reconciled_status(server: Server, observation: Observation | None) -> str:
    """The status the list page should show. A server Wings does not report keeps its
    status (it may be being created, or the node's list may be partial); statuses the panel
    owns (provisioning, installing, suspended, deleting, failed, install_failed) win over
    Wings' view."""
    if observation is None:
        return server.status
    return srv.with_wings_state(server, observation.state, now=server.updated_at).status
