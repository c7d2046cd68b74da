"""The one catalogue of notification events, and the event itself (docs/notifications.md).

An event is emitted by the service where the thing happens (never re-derived later) and
published to the events queue; the queue's consumer fans it out to in-app notifications,
email and the tenant's outgoing webhooks. Its ``id`` is derived from a dedupe key the emitter
chooses (for example the operation id plus the step), so a retried step publishes the same id
and every channel drops the repeat.

``audience`` says who may receive it: ``tenant`` events go to the tenant's members who hold
``permission`` (and, for a server's event, who can see that server); ``platform`` events go to
platform admins only. ``severity`` colours a Discord embed and picks the default channels: a
``warning`` or ``error`` is mailed by default, an ``info`` is in-app only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Final, Literal

Audience = Literal["tenant", "platform"]
Severity = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class EventType:
    name: str
    audience: Audience
    severity: Severity
    # The tenant permission a member needs to receive it (unused for platform events).
    permission: str
    # The payload's keys (all strings, numbers or booleans), documented in docs/notifications.md.
    payload: tuple[str, ...]
    summary: str


def _t(
    name: str,
    severity: Severity,
    permission: str,
    payload: tuple[str, ...],
    summary: str,
    *,
    audience: Audience = "tenant",
) -> EventType:
    return EventType(name, audience, severity, permission, payload, summary)


CATALOGUE: Final[dict[str, EventType]] = {
    e.name: e
    for e in (
        _t("server.created", "info", "servers.read", ("server_name",), "A server was created and installed"),
        _t("server.install_failed", "error", "servers.read", ("server_name", "reason"), "A server's install failed"),
        _t("server.deleted", "info", "servers.read", ("server_name",), "A server was deleted"),
        _t("server.suspended", "warning", "servers.read", ("server_name", "reason"), "A server was suspended"),
        _t("server.crashed", "error", "servers.read", ("server_name", "exit_code"), "A server crashed"),
        _t(
            "server.oom_suspected",
            "error",
            "servers.read",
            ("server_name", "memory_mb"),
            "A server stopped at its memory limit",
        ),
        _t("server.crash_loop", "error", "servers.read", ("server_name", "crashes"), "A server keeps crashing"),
        _t("backup.completed", "info", "backups.read", ("server_name", "backup_name", "bytes"), "A backup completed"),
        _t("backup.failed", "error", "backups.read", ("server_name", "backup_name", "reason"), "A backup failed"),
        _t(
            "schedule.failed",
            "error",
            "servers.read",
            ("server_name", "schedule_name", "task", "reason"),
            "A schedule's task failed",
        ),
        _t("quota.warning", "warning", "tenant.read", ("quota", "used", "limit"), "A quota is 80 % used"),
        _t("payment.failed", "error", "billing.read", ("invoice_id", "amount", "currency"), "A payment failed"),
        _t("payment.succeeded", "info", "billing.read", ("invoice_id", "amount", "currency"), "A payment succeeded"),
        _t("member.added", "info", "members.read", ("email", "role"), "A member joined the tenant"),
        _t("member.removed", "warning", "members.read", ("email",), "A member left or was removed"),
        _t("api_key.created", "warning", "members.read", ("key_name", "owner_email"), "An API key was created"),
        _t("node.down", "error", "", ("node_id", "node_name"), "A node stopped answering", audience="platform"),
        _t("node.recovered", "info", "", ("node_id", "node_name"), "A node answers again", audience="platform"),
    )
}

TENANT_EVENTS: Final = tuple(n for n, e in CATALOGUE.items() if e.audience == "tenant")


class UnknownEventType(ValueError):
    pass


@dataclass(frozen=True)
class Event:
    """One occurrence. ``id`` is stable for a given (type, dedupe key): a retry repeats it."""

    id: str
    type: str
    occurred_at: str  # ISO 8601, UTC
    tenant_id: str | None
    server_id: str | None = None
    payload: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "type": self.type,
            "occurred_at": self.occurred_at,
            "tenant_id": self.tenant_id,
            "server_id": self.server_id,
            "payload": dict(self.payload),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Event:
        payload = data.get("payload")
        return cls(
            id=str(data["id"]),
            type=str(data["type"]),
            occurred_at=str(data["occurred_at"]),
            tenant_id=None if data.get("tenant_id") is None else str(data["tenant_id"]),
            server_id=None if data.get("server_id") is None else str(data["server_id"]),
            payload=dict(payload) if isinstance(payload, dict) else {},
        )


def event_id(event_type: str, dedupe_key: str) -> str:
    """The id every channel deduplicates on: the same type and key always give the same id."""
    digest = hashlib.sha256(f"{event_type}\x00{dedupe_key}".encode()).hexdigest()
    return f"evt_{digest[:32]}"


def make_event(
    event_type: str,
    *,
    dedupe_key: str,
    occurred_at: str,
    tenant_id: str | None,
    server_id: str | None = None,
    payload: dict[str, object] | None = None,
) -> Event:
    """Builds an event of a catalogued type; an unknown type or a tenant event without a tenant is a bug."""
    kind = CATALOGUE.get(event_type)
    if kind is None:
        raise UnknownEventType(event_type)
    if kind.audience == "tenant" and not tenant_id:
        raise ValueError(f"{event_type} is a tenant event and needs its tenant")
    body = dict(payload or {})
    unknown = set(body) - set(kind.payload)
    if unknown:
        raise ValueError(f"{event_type} has no payload field(s) {sorted(unknown)}")
    return Event(
        id=event_id(event_type, dedupe_key),
        type=event_type,
        occurred_at=occurred_at,
        tenant_id=tenant_id if kind.audience == "tenant" else None,
        server_id=server_id,
        payload=body,
    )
