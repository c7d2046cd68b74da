"""Metrics history, its rollups, and crash detection (docs/metrics.md).

* ``record_node``: called by the reconcile schedule with what one node's ``GET /api/servers``
  said. It stores the node's minute (**one write per node per minute**, however often the
  schedule runs: a minute already stored is not written again), raises the crash events
  (``server.crashed``, ``server.oom_suspected``, ``server.crash_loop``) and rolls up the
  hours that ended since the last run (**one write per server per hour**).
* ``server_metrics`` / ``node_metrics``: a series at ``1m``, ``5m`` or ``1h`` (``auto``: the
  finest that answers in ≤ 500 points), in at most three Query pages: the 1-minute series
  from the node's minute items; the others from the hour rollups, and the last two hours
  (which the rollups may not hold yet) from the minute items.
* ``list_events``: a server's event history, newest first, cursor-paginated.
* ``mark_power``: the panel's own power requests, which explain an exit.

Errors: ``NotFoundError`` (another tenant's or an unknown server or node), ``ValidationError``
(a bad range or resolution), ``DependencyUnavailableError`` (the store).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from mamba.auth.context import TenantContext
from mamba.domain import metrics as m
from mamba.domain.errors import DomainError
from mamba.domain.metrics import Point, Sample, ServerEvent, Window
from mamba.domain.pages import Page, PageRequest
from mamba.domain.server_lifecycle import Observation
from mamba.domain.servers import Server
from mamba.observability import logger
from mamba.ports import EventPublisher

# The tail read from the minute items: the hour running now and the one before it, which
# the rollup of the next run writes.
TAIL_SECONDS = 2 * m.HOUR


class MetricsStore(Protocol):
    def put_minute(self, node_id: str, t: int, samples: dict[str, Sample]) -> None: ...
    def put_rollups(self, rows: Iterable[tuple[str, int, list[Point], Point | None, list[Point] | None]]) -> int: ...
    def rolled_until(self, node_id: str) -> int | None: ...
    def set_rolled(self, node_id: str, hour: int) -> None: ...
    def minutes(
        self, node_id: str, start: int, end: int, *, max_pages: int = 3
    ) -> list[tuple[int, dict[str, Sample]]]: ...
    def last_minute(self, node_id: str, before: int) -> tuple[int, dict[str, Sample]] | None: ...
    def rollups(
        self, partition: str, start: int, end: int, *, max_pages: int = 3
    ) -> tuple[list[Point], list[Point]]: ...


class EventStore(Protocol):
    def add(self, event: ServerEvent, tenant_id: str) -> None: ...
    def since(self, server_uuid: str, since: int) -> list[ServerEvent]: ...
    def page(self, server_uuid: str, page: PageRequest) -> Page[ServerEvent]: ...
    def mark_power(self, server_uuid: str, action: str, at: int) -> None: ...
    def last_power(self, server_uuid: str) -> tuple[str, int] | None: ...


class ServerGetter(Protocol):
    def get(self, server_uuid: str) -> Server: ...
    def activity(self, server_uuid: str, limit: int = 100) -> list[Any]: ...


class NodeGetter(Protocol):
    def get(self, node_id: str) -> Any: ...


@dataclass(frozen=True)
class MetricsPorts:
    store: MetricsStore
    events: EventStore
    servers: ServerGetter
    nodes: NodeGetter
    clock: Callable[[], int]  # epoch seconds
    new_id: Callable[[], str]
    server_partition: Callable[[str], str]  # the rollup partition of a server / of a node
    node_partition: Callable[[str], str]
    # The notification events queue: each crash event is also a notification (docs/notifications.md).
    publisher: EventPublisher | None = None


@dataclass(frozen=True)
class Series:
    resolution: str
    points: list[Point]


def _minute(t: int) -> int:
    return t - t % m.MINUTE


def _hour(t: int) -> int:
    return t - t % m.HOUR


# --- ingestion (the reconcile schedule) ---------------------------------------------------


def record_node(
    ports: MetricsPorts, node_id: str, servers: list[Server], seen: dict[str, Observation]
) -> dict[str, int]:
    """Store the node's minute, raise crash events and roll up finished hours (see the module
    doc). Returns counts for the schedule's log line."""
    now = ports.clock()
    minute = _minute(now)
    samples = {
        server.uuid: m.sample_from_utilization(seen[server.uuid].utilization, seen[server.uuid].state)
        for server in servers
        if server.uuid in seen
    }
    last = ports.store.last_minute(node_id, before=minute + m.MINUTE)
    written = 0
    if last is None or last[0] < minute:
        ports.store.put_minute(node_id, minute, samples)
        written = 1
    previous: dict[str, Sample] = {}
    previous_t = 0
    if last is not None and now - last[0] <= m.STALE_SAMPLE_SECONDS:
        previous_t, previous = last
    events = 0
    for server in servers:
        if server.uuid in samples:
            events += _detect(ports, server, previous.get(server.uuid), previous_t, samples[server.uuid], now)
    rolled = roll_up(ports, node_id, now, known=[server.uuid for server in servers])
    return {"samples": len(samples), "minute_writes": written, "events": events, "rolled_hours": rolled}


def _detect(
    ports: MetricsPorts, server: Server, previous: Sample | None, previous_t: int, current: Sample, now: int
) -> int:
    seen = m.Seen(previous_status=server.status, previous=previous, current=current)
    if not m.unexpected_exit(seen):
        return 0
    # Only now read what else the rules need: the panel's last power request and the
    # server's recent events (a crash is rare; a quiet minute costs no read).
    power = ports.events.last_power(server.uuid)
    if power is not None:
        seen = m.Seen(server.status, previous, current, power_asked_at=power[1], power_action=power[0])
    if not m.asked_by_panel(seen, now):
        # A power action from the panel's console reaches Wings directly; Wings reports it in
        # its activity log (every 60 s), which may already be here.
        console = m.power_from_activity((e.event, e.timestamp) for e in ports.servers.activity(server.uuid, 20))
        if console is not None:
            seen = m.Seen(server.status, previous, current, power_asked_at=console[1], power_action=console[0])
    recent = ports.events.since(server.uuid, now - m.CRASH_LOOP_WINDOW)
    if previous is not None and any(e.type == m.CRASHED and e.at >= previous_t for e in recent):
        return 0  # already reported against this same last sample (the schedule ran again within the minute)
    raised = m.crash_events(seen, now, recent)
    for kind, details in raised:
        ports.events.add(
            ServerEvent(id=ports.new_id(), server_uuid=server.uuid, type=kind, at=now, details=details),
            server.tenant_id,
        )
    _notify_crashes(ports, server, raised, now)
    if raised:
        logger.info(
            "server crash detected",
            extra={"server_id": server.uuid, "tenant_id": server.tenant_id, "events": [k for k, _ in raised]},
        )
    return len(raised)


def _notify_crashes(ports: MetricsPorts, server: Server, raised: list[tuple[str, dict[str, Any]]], now: int) -> None:
    """The crash events as notifications. The dedupe key is the server, the type and the minute:
    the schedule running again within the minute publishes the same ids (it also stores nothing new)."""
    if ports.publisher is None or not raised:
        return
    from datetime import UTC, datetime

    from mamba.domain.clock import iso
    from mamba.domain.events import make_event
    from mamba.services.emit import emit

    notes = []
    for kind, details in raised:
        payload: dict[str, object] = {"server_name": server.name}
        if kind == m.OOM_SUSPECTED and details.get("memory_limit_bytes"):
            payload["memory_mb"] = int(details["memory_limit_bytes"]) // (1024 * 1024)
        if kind == m.CRASH_LOOP:
            payload["crashes"] = int(details.get("crashes", 0))
        notes.append(
            make_event(
                kind,
                dedupe_key=f"{server.uuid}:{_minute(now)}",
                occurred_at=iso(datetime.fromtimestamp(now, UTC)),
                tenant_id=server.tenant_id,
                server_id=server.uuid,
                payload=payload,
            )
        )
    emit(ports.publisher, *notes)


def _points_of(minutes: list[tuple[int, dict[str, Sample]]], uuid: str, start: int, end: int) -> list[Point]:
    """One server's minute points in ``[start, end)`` (the last sample before ``start`` gives
    the first network increase)."""
    before = None
    samples = []
    for t, by_server in minutes:
        sample = by_server.get(uuid)
        if sample is None:
            continue
        if t < start:
            before = sample
        elif t < end:
            samples.append((t, sample))
    return m.minute_points(samples, before)


def roll_up(ports: MetricsPorts, node_id: str, now: int, known: Iterable[str] = ()) -> int:
    """Write the rollups of every hour of the node that ended since the last one rolled up
    (at most the minute items' 48 h); returns how many hours were rolled up. ``known``: the
    node's servers, whose day of hourly points is kept even when the day's last hour has no
    minute of theirs (the node did not answer then)."""
    last_complete = _hour(now) - m.HOUR
    rolled = ports.store.rolled_until(node_id)
    first = last_complete if rolled is None else rolled + m.HOUR
    first = max(first, _hour(now) - m.RETENTION["1m"] + m.HOUR)
    hours = 0
    for hour in range(first, last_complete + 1, m.HOUR):
        minutes = ports.store.minutes(node_id, hour - m.MINUTE, hour + m.HOUR)
        closes_day = (hour + m.HOUR) % m.DAY == 0
        subjects = {uuid for _, by_server in minutes for uuid in by_server} | (set(known) if closes_day else set())
        rows = []
        per_server = []
        for uuid in sorted(subjects):
            points = _points_of(minutes, uuid, hour, hour + m.HOUR)
            per_server.append(points)
            row = _rollup_row(ports, ports.server_partition(uuid), hour, points, closes_day)
            if row is not None:
                rows.append(row)
        node_points = _node_points(minutes, per_server, hour, hour + m.HOUR)
        node_row = _rollup_row(ports, ports.node_partition(node_id), hour, node_points, closes_day)
        if node_row is not None:
            rows.append(node_row)
        ports.store.put_rollups(rows)
        ports.store.set_rolled(node_id, hour)
        hours += 1
    return hours


def _rollup_row(
    ports: MetricsPorts, partition: str, hour: int, minute_points: list[Point], closes_day: bool
) -> tuple[str, int, list[Point], Point | None, list[Point] | None] | None:
    """The hour's rollup of one subject, or None when there is nothing to keep."""
    five = m.aggregate(minute_points, m.RESOLUTIONS["5m"])
    hourly = m.aggregate(minute_points, m.HOUR)
    this_hour = hourly[0] if hourly else None
    day = None
    if closes_day:
        # The day's other hours come from their own rollups (one Query of 23 small items).
        day_start = hour + m.HOUR - m.DAY
        _, earlier = ports.store.rollups(partition, day_start, hour, max_pages=1)
        day = [p for p in earlier if day_start <= p.t < hour] + hourly
    if not five and not day:
        return None
    return partition, hour, five, this_hour, day


# --- queries --------------------------------------------------------------------------------


def _window(start: int | None, end: int | None, resolution: str, now: int) -> Window:
    return m.window(start, end, resolution, now=now)


def _minute_series(
    ports: MetricsPorts, node_id: str, subject: str | None, start: int, end: int, max_pages: int
) -> list[Point]:
    """Minute points of one server (``subject``) or of the node's totals (None)."""
    minutes = ports.store.minutes(node_id, start - m.MINUTE, end, max_pages=max_pages)
    if subject is not None:
        return _points_of(minutes, subject, start, end)
    uuids = sorted({uuid for _, by_server in minutes for uuid in by_server})
    return _node_points(minutes, [_points_of(minutes, uuid, start, end) for uuid in uuids], start, end)


def _node_points(
    minutes: list[tuple[int, dict[str, Sample]]], per_server: list[list[Point]], start: int, end: int
) -> list[Point]:
    """The node's totals at each stored minute in ``[start, end)``: the sums of its servers'
    points, and zeros for a minute the node answered with no server (an empty node is idle,
    not missing)."""
    answered = [m.Point(t, 0.0, 0, 0, 0, 0, 0, m.NODE_ONLINE) for t, _ in minutes if start <= t < end]
    return m.merge(m.totals(per_server), answered)


def _series(ports: MetricsPorts, w: Window, node_id: str, subject: str | None, partition: str, now: int) -> Series:
    if w.resolution == "1m":
        return Series("1m", w.clip(_minute_series(ports, node_id, subject, w.start, w.end, max_pages=3)))
    five, hourly = ports.store.rollups(partition, w.start, w.end, max_pages=2)
    stored = five if w.resolution == "5m" else hourly
    tail_start = max(_hour(now) + m.HOUR - TAIL_SECONDS, _hour(w.start))
    tail: list[Point] = []
    if tail_start < w.end:
        tail = m.aggregate(_minute_series(ports, node_id, subject, tail_start, w.end, max_pages=1), w.step)
    return Series(w.resolution, w.clip(m.merge(stored, tail)))


def server_metrics(
    ports: MetricsPorts,
    tenant: TenantContext,
    server_id: str,
    *,
    start: int | None,
    end: int | None,
    resolution: str = "auto",
) -> Series:
    """The tenant's server's series (404 for another tenant's server)."""
    from mamba.services.servers import get_server

    server = get_server(ports.servers, tenant, server_id)
    now = ports.clock()
    w = _window(start, end, resolution, now)
    return _series(ports, w, server.node_id, server.uuid, ports.server_partition(server.uuid), now)


def node_metrics(
    ports: MetricsPorts, node_id: str, *, start: int | None, end: int | None, resolution: str = "auto"
) -> Series:
    """A node's totals: the sums of its servers' series (404 for an unknown node)."""
    node = ports.nodes.get(node_id)
    now = ports.clock()
    w = _window(start, end, resolution, now)
    return _series(ports, w, node.id, None, ports.node_partition(node.id), now)


# --- events ---------------------------------------------------------------------------------


def list_events(ports: MetricsPorts, tenant: TenantContext, server_id: str, page: PageRequest) -> Page[ServerEvent]:
    """The tenant's server's event history, newest first (404 for another tenant's server)."""
    from mamba.services.servers import get_server

    server = get_server(ports.servers, tenant, server_id)
    return ports.events.page(server.uuid, page)


def mark_power(events: EventStore, server_uuid: str, action: str, now: int) -> None:
    """Remember a power request before it is sent, so the exit it causes is not a crash. A
    failure to remember it is logged, never a reason to refuse the power action."""
    try:
        events.mark_power(server_uuid, action, now)
    except DomainError as exc:
        logger.warning("power request not recorded", extra={"server_id": server_uuid, "error": exc.message})
