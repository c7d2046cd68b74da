"""Emitting notification events from the service where the thing happened (docs/notifications.md).

Each emitter builds its event with ``mamba.domain.events.make_event`` and a dedupe key that a
retried step repeats (an operation id plus the step, a backup's uuid, a Stripe event id), so a
retry publishes the same id and every channel drops the repeat. Publishing only queues.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from mamba.domain.events import make_event

if TYPE_CHECKING:
    from mamba.domain.api_keys import ApiKey
    from mamba.domain.events import Event
    from mamba.domain.servers import Server
    from mamba.domain.tenancy import Contact, Membership
    from mamba.ports import EventPublisher


class KeyDirectory(Protocol):
    """Where a new API key is announced: its owner's tenants and the owner's address."""

    def memberships_of_user(self, user_id: str) -> list[Membership]: ...

    def contacts(self, user_ids: list[str]) -> dict[str, Contact]: ...


def emit(publisher: EventPublisher | None, *events: Event) -> None:
    """Queues ``events``. ``None`` is a port bundle built without the events queue (a unit test
    of unrelated behaviour): bootstrap always wires the real publisher where a queue exists.
    A refused send raises DependencyUnavailableError: the emitting step fails and its retry
    publishes the same ids."""
    if publisher is not None and events:
        publisher.publish(list(events))


def server_event(
    publisher: EventPublisher | None,
    event_type: str,
    server: Server,
    *,
    dedupe_key: str,
    occurred_at: str,
    **payload: object,
) -> None:
    """An event about one server (its name in the payload, its tenant and id on the event)."""
    if publisher is None:
        return
    emit(
        publisher,
        make_event(
            event_type,
            dedupe_key=dedupe_key,
            occurred_at=occurred_at,
            tenant_id=server.tenant_id,
            server_id=server.uuid,
            payload={"server_name": server.name, **payload},
        ),
    )


def emit_after_commit(publisher: EventPublisher | None, *events: Event) -> None:
    """Queues ``events`` on a request path whose change is already committed: a refused send is
    logged (with its event ids) instead of failing a request whose change stands, since the
    caller's retry would find the change made and publish nothing."""
    from mamba.domain.errors import DomainError
    from mamba.observability import logger

    try:
        emit(publisher, *events)
    except DomainError as exc:
        logger.warning(
            "notification events not queued",
            extra={"event_ids": [e.id for e in events], "types": [e.type for e in events], "error": exc.code},
        )


def api_key_created(publisher: EventPublisher, directory: KeyDirectory, key: ApiKey) -> None:
    """``api_key.created`` in each tenant the key's owner belongs to (a key acts in all of them):
    the tenant's members who read its members hear of it, the owner too when they may. After
    the key is stored, so a refused send is logged, not raised (``emit_after_commit``)."""
    from mamba.domain.errors import DomainError

    try:
        tenants = sorted({m.tenant_id for m in directory.memberships_of_user(key.user_id)})
        contact = directory.contacts([key.user_id]).get(key.user_id)
    except DomainError:
        tenants, contact = [], None
    events = [
        make_event(
            "api_key.created",
            dedupe_key=f"{key.id}:{tenant_id}",
            occurred_at=key.created_at,
            tenant_id=tenant_id,
            payload={"key_name": key.name, "owner_email": contact.email if contact else key.user_id},
        )
        for tenant_id in tenants
    ]
    emit_after_commit(publisher, *events)
