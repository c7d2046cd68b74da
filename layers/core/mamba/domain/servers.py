"""Game servers: the entity, its statuses and the transitions Wings' callbacks cause.

Standard library only. Issue 5 owns the full lifecycle (placement, workflows, the tenant
API); this module holds what the remote API and the Wings client need and is meant to be
extended, not replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Final

from mamba.domain.errors import ConflictError, ValidationError

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

PROVISIONING: Final = "provisioning"
INSTALLING: Final = "installing"
INSTALL_FAILED: Final = "install_failed"
OFFLINE: Final = "offline"
STARTING: Final = "starting"
RUNNING: Final = "running"
STOPPING: Final = "stopping"
SUSPENDED: Final = "suspended"
DELETING: Final = "deleting"
FAILED: Final = "failed"
RESTORING: Final = "restoring"  # a backup is being restored (restore_backup, docs/backups.md)

STATUSES: Final = (
    PROVISIONING,
    INSTALLING,
    INSTALL_FAILED,
    OFFLINE,
    STARTING,
    RUNNING,
    STOPPING,
    SUSPENDED,
    DELETING,
    FAILED,
    RESTORING,
)

# The states Wings itself reports for a server (GET /api/servers, websocket "status").
WINGS_STATES: Final = frozenset({OFFLINE, STARTING, RUNNING, STOPPING})


@dataclass(frozen=True)
class Limits:
    memory_mb: int
    disk_mb: int
    cpu_percent: int = 0  # 0 = unlimited, 100 = one core
    swap_mb: int = 0  # -1 = unlimited
    io_weight: int = 500  # 10..1000
    threads: str | None = None  # a cpuset such as "0-1,3"
    oom_disabled: bool = True


@dataclass(frozen=True)
class FeatureLimits:
    backups: int = 0
    allocations: int = 0


@dataclass(frozen=True)
class Server:
    uuid: str  # lowercase UUID v4: what Wings knows the server by
    name: str
    tenant_id: str
    node_id: str
    blueprint_id: str
    allocation: tuple[str, int]  # primary (ip, port)
    docker_image: str
    startup: str
    limits: Limits
    status: str
    created_at: str
    updated_at: str
    description: str = ""
    additional_allocations: tuple[tuple[str, int], ...] = ()
    environment: dict[str, str | int | float | bool] = field(default_factory=dict)
    feature_limits: FeatureLimits = FeatureLimits()
    skip_install_script: bool = False
    installed_at: str | None = None
    status_reason: str | None = None  # why the server is ``failed`` (or another status needing a word)

    @property
    def id(self) -> str:
        """The panel's id of a server is its uuid (one key for the API and for Wings)."""
        return self.uuid

    @property
    def short_id(self) -> str:
        """The first 8 characters of the uuid: the suffix of SFTP user names (``alice.d3aac109``)."""
        return self.uuid[:8]

    @property
    def suspended(self) -> bool:
        return self.status == SUSPENDED

    @property
    def allocations(self) -> tuple[tuple[str, int], ...]:
        return (self.allocation, *self.additional_allocations)


@dataclass(frozen=True)
class ActivityEntry:
    server_uuid: str
    tenant_id: str
    event: str
    timestamp: str
    metadata: dict[str, Any]
    user_id: str | None = None
    ip: str | None = None
    node_id: str | None = None
    source: str = "wings"
    entry_id: str = ""


# --- transitions ---------------------------------------------------------------------------

# Every status a server may move to from each status. Staying in the same status is always
# allowed (a repeated task or callback is idempotent). ``deleting`` and ``failed`` are reachable
# from everywhere a delete or a failed workflow can start; ``failed`` leads to deletion, or back to
# ``provisioning`` when an admin retries its failed provisioning (placement reserved again).
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    PROVISIONING: frozenset({INSTALLING, FAILED, DELETING}),
    INSTALLING: frozenset({OFFLINE, INSTALL_FAILED, FAILED, SUSPENDED, DELETING}),
    INSTALL_FAILED: frozenset({INSTALLING, FAILED, SUSPENDED, DELETING}),
    OFFLINE: frozenset({STARTING, RUNNING, STOPPING, INSTALLING, RESTORING, SUSPENDED, DELETING, FAILED}),
    # A reinstall may start from a running server: Wings stops it first (wings-contract.md §2.2).
    STARTING: frozenset({RUNNING, STOPPING, OFFLINE, INSTALLING, RESTORING, SUSPENDED, DELETING}),
    RUNNING: frozenset({STOPPING, STARTING, OFFLINE, INSTALLING, RESTORING, SUSPENDED, DELETING}),
    STOPPING: frozenset({OFFLINE, RUNNING, STARTING, INSTALLING, RESTORING, SUSPENDED, DELETING}),
    # Wings stops the server, restores, and the panel puts it back to offline (or it fails).
    RESTORING: frozenset({OFFLINE, FAILED, SUSPENDED, DELETING}),
    SUSPENDED: frozenset({OFFLINE, DELETING}),
    DELETING: frozenset({FAILED}),
    FAILED: frozenset({DELETING, PROVISIONING}),
}


def can_transition(current: str, target: str) -> bool:
    """Whether a server in ``current`` may move to ``target`` (pure; see ``TRANSITIONS``)."""
    if current not in TRANSITIONS or target not in TRANSITIONS:
        raise ValidationError("Unknown server status.", {"status": current if current not in TRANSITIONS else target})
    return current == target or target in TRANSITIONS[current]


def transition(server: Server, target: str, *, now: str, reason: str | None = None) -> Server:
    """The server moved to ``target``. Raises ConflictError naming both statuses when the
    table forbids the move; returns ``server`` itself when it already is in ``target``."""
    if not can_transition(server.status, target):
        raise ConflictError(
            f"A server that is {server.status} cannot become {target}.",
            {"uuid": server.uuid, "status": server.status, "target": target},
        )
    if server.status == target and reason == server.status_reason:
        return server
    return replace(server, status=target, status_reason=reason, updated_at=now)


def check_uuid(value: str) -> str:
    if not UUID_V4.match(value):
        raise ValidationError("A server uuid must be a lowercase UUID v4.", {"uuid": value})
    return value


def after_install(server: Server, *, successful: bool, now: str) -> Server:
    """Wings reported an install or reinstall (``POST /api/remote/servers/{uuid}/install``).

    Success → ``offline`` (ready to start); failure → ``install_failed``. A suspended server
    stays suspended either way; a server being deleted is left alone.
    """
    if server.status in (SUSPENDED, DELETING):
        return replace(server, installed_at=now if successful else server.installed_at, updated_at=now)
    status = OFFLINE if successful else INSTALL_FAILED
    return replace(server, status=status, installed_at=now if successful else server.installed_at, updated_at=now)


def after_reset(server: Server, *, now: str) -> Server:
    """Wings rebooted (``POST /api/remote/servers/reset``): an install it was running is gone,
    and its servers are stopped until something starts them."""
    if server.status == INSTALLING:
        return replace(server, status=INSTALL_FAILED, updated_at=now)
    if server.status in (STARTING, RUNNING, STOPPING):
        return replace(server, status=OFFLINE, updated_at=now)
    return server


def with_wings_state(server: Server, state: str, *, now: str) -> Server:
    """Apply a state Wings reported, unless the panel's own status takes precedence."""
    if state not in WINGS_STATES:
        raise ValidationError("Unknown Wings state.", {"state": state})
    if server.status in (PROVISIONING, INSTALLING, INSTALL_FAILED, RESTORING, SUSPENDED, DELETING, FAILED):
        return server
    return replace(server, status=state, updated_at=now)


def require_status(server: Server, *allowed: str) -> None:
    if server.status not in allowed:
        raise ConflictError(
            f"The server is {server.status}; this needs it to be {' or '.join(allowed)}.",
            {"uuid": server.uuid, "status": server.status},
        )


@dataclass(frozen=True)
class ProvisionTiming:
    """Workflow input that drives its waits (Settings PROVISION_*)."""

    install_timeout_seconds: int = 900
    start_timeout_seconds: int = 120
    poll_seconds: int = 1
    watch_seconds: float = 5.0


@dataclass(frozen=True)
class CreateServer:
    name: str
    blueprint_id: str
    memory_mb: int
    disk_mb: int
    cpu_percent: int = 0
    swap_mb: int = 0
    io_weight: int = 500
    threads: str | None = None
    oom_disabled: bool = True
    description: str = ""
    environment: dict[str, Any] = field(default_factory=dict)
    docker_image: str | None = None
    location: str | None = None
    tag: str | None = None
    start_on_completion: bool = False
    # Pterodactyl's application API names the exact port (``allocation.default``): the server
    # goes on that node and port or is refused; None lets placement choose, as /v1 does.
    node_id: str | None = None
    allocation: tuple[str, int] | None = None
    startup: str | None = None  # None: the blueprint's startup command
    skip_install_script: bool = False
