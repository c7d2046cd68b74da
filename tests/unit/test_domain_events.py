"""The event catalogue and the event's identity (docs/notifications.md)."""

from __future__ import annotations

import pytest

from mamba.domain import events
from mamba.domain.permissions import TENANT_PERMISSIONS

NOW = "2026-12-05T10:00:00Z"


def test_the_same_type_and_key_give_the_same_id_so_a_retry_dedupes() -> None:
    a = events.make_event("backup.failed", dedupe_key="op-1/finalise", occurred_at=NOW, tenant_id="t1")
    b = events.make_event(
        "backup.failed", dedupe_key="op-1/finalise", occurred_at="2026-12-05T10:05:00Z", tenant_id="t1"
    )
    c = events.make_event("backup.completed", dedupe_key="op-1/finalise", occurred_at=NOW, tenant_id="t1")
    assert a.id == b.id
    assert a.id != c.id
    assert a.id.startswith("evt_")


def test_an_event_round_trips_through_its_queue_body() -> None:
    e = events.make_event(
        "server.crashed", dedupe_key="k", occurred_at=NOW, tenant_id="t1", server_id="s1", payload={"exit_code": 1}
    )
    assert events.Event.from_dict(e.to_dict()) == e


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"event_type": "server.exploded", "tenant_id": "t1"}, events.UnknownEventType),
        ({"event_type": "backup.failed", "tenant_id": None}, ValueError),
        ({"event_type": "backup.failed", "tenant_id": "t1", "payload": {"password": "x"}}, ValueError),
    ],
)
def test_a_malformed_event_is_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    event_type = str(kwargs.pop("event_type"))
    with pytest.raises(error):
        events.make_event(event_type, dedupe_key="k", occurred_at=NOW, **kwargs)  # type: ignore[arg-type]


def test_platform_events_never_carry_a_tenant() -> None:
    e = events.make_event("node.down", dedupe_key="n1/3", occurred_at=NOW, tenant_id="t1", payload={"node_id": "n1"})
    assert e.tenant_id is None


def test_every_tenant_event_names_a_real_permission() -> None:
    for kind in events.CATALOGUE.values():
        if kind.audience == "tenant":
            assert kind.permission in TENANT_PERMISSIONS, kind.name
        else:
            assert kind.permission == ""
