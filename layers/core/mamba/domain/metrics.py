"""Metrics history and crash detection: the rules, with no storage (docs/metrics.md).

* A **sample** is what Wings' ``GET /api/servers`` says about one server at one minute
  (its ``utilization``, docs/wings.md). The reconcile schedule stores every server of a
  node in one item per minute; network counters are stored as Wings reports them
  (cumulative since the container started).
* A **point** is one interval of a series as the API answers it: means of CPU and memory,
  the largest memory limit, the bytes received and sent *during* the interval (the
  counters' increase; a counter that went down was reset by a restart, so its new value is
  the increase), the last disk size and the last state. ``n`` counts the minutes behind a
  point, so a coarser point is the weighted mean of finer ones and rolling 1m → 5m → 1h
  gives the same numbers as 1m → 1h.
* **Resolutions** ``1m`` (kept 48 h), ``5m`` (30 days) and ``1h`` (13 months); ``auto`` picks
  the finest one that answers in at most ``AUTO_POINTS`` points.
* **Crash rules** (``crash_events``): running → offline (or a restart the panel did not ask
  for, seen as the uptime going back) with no stop, restart or kill asked by the panel in
  the last 60 s is a crash; memory ≥ 95 % of the limit in the last sample before it makes
  it "probably out of memory"; 3 crashes within 10 minutes are a crash loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from mamba.domain.errors import ValidationError

MINUTE: Final = 60
HOUR: Final = 3600
DAY: Final = 86400

RESOLUTIONS: Final[dict[str, int]] = {"1m": MINUTE, "5m": 5 * MINUTE, "1h": HOUR}
# How long each resolution is kept (the TTL of its items, and how far back a query can reach).
RETENTION: Final[dict[str, int]] = {"1m": 48 * HOUR, "5m": 30 * DAY, "1h": 397 * DAY}  # 13 months ≈ 397 days
AUTO_POINTS: Final = 500
# The most points one request may ask for at each resolution. A 1-minute point is read from
# the node's minute items, which hold every server of the node, so the page budget (≤ 3 Query
# pages of 1 MB) bounds it; 5-minute and hourly points are per-server items and reach their
# whole retention. (+1: a range that does not start on an interval's start touches one more.)
MAX_POINTS: Final[dict[str, int]] = {
    "1m": AUTO_POINTS + 1,
    "5m": RETENTION["5m"] // 300 + 1,
    "1h": RETENTION["1h"] // HOUR + 1,
}
DEFAULT_RANGE: Final = HOUR

# The API's states besides Wings' four: a node's own series is "online" while it answers.
NODE_ONLINE: Final = "online"
RUNNING: Final = "running"
OFFLINE: Final = "offline"
STARTING: Final = "starting"

# --- crash rules ---
CRASHED: Final = "server.crashed"
OOM_SUSPECTED: Final = "server.oom_suspected"
CRASH_LOOP: Final = "server.crash_loop"
EVENT_TYPES: Final = (CRASHED, OOM_SUSPECTED, CRASH_LOOP)
POWER_GRACE_SECONDS: Final = 60  # a stop/restart/kill the panel sent this recently explains an exit
OOM_RATIO: Final = 0.95
CRASH_LOOP_COUNT: Final = 3
CRASH_LOOP_WINDOW: Final = 10 * MINUTE
EXPECTED_EXIT_ACTIONS: Final = frozenset({"stop", "restart", "kill"})
# A previous sample older than this says nothing about the state just before the current one.
STALE_SAMPLE_SECONDS: Final = 5 * MINUTE


@dataclass(frozen=True)
class Sample:
    """One server at one minute, as Wings reported it (counters cumulative)."""

    cpu_percent: float
    memory_bytes: int
    memory_limit_bytes: int
    rx_bytes: int
    tx_bytes: int
    disk_bytes: int
    uptime_ms: int
    state: str

    def packed(self) -> list[Any]:
        """The compact form stored in a node's minute item."""
        return [
            self.cpu_percent,
            self.memory_bytes,
            self.memory_limit_bytes,
            self.rx_bytes,
            self.tx_bytes,
            self.disk_bytes,
            self.uptime_ms,
            self.state,
        ]

    @classmethod
    def unpacked(cls, row: list[Any]) -> Sample:
        cpu, memory, limit, rx, tx, disk, uptime, state = row
        return cls(float(cpu), int(memory), int(limit), int(rx), int(tx), int(disk), int(uptime), str(state))


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return max(float(value), 0.0)


def sample_from_utilization(utilization: Mapping[str, Any], state: str) -> Sample:
    """A sample from Wings' ``utilization`` object; missing or malformed numbers count as 0."""
    network = utilization.get("network")
    network = network if isinstance(network, Mapping) else {}
    return Sample(
        cpu_percent=round(_number(utilization.get("cpu_absolute")), 3),
        memory_bytes=int(_number(utilization.get("memory_bytes"))),
        memory_limit_bytes=int(_number(utilization.get("memory_limit_bytes"))),
        rx_bytes=int(_number(network.get("rx_bytes"))),
        tx_bytes=int(_number(network.get("tx_bytes"))),
        disk_bytes=int(_number(utilization.get("disk_bytes"))),
        uptime_ms=int(_number(utilization.get("uptime"))),
        state=state,
    )


@dataclass(frozen=True)
class Point:
    """One interval of a series (``t``: its start, epoch seconds)."""

    t: int
    cpu_percent: float
    memory_bytes: int
    memory_limit_bytes: int
    rx_bytes: int
    tx_bytes: int
    disk_bytes: int
    state: str
    n: int = field(default=1, compare=True)

    def packed(self) -> list[Any]:
        return [
            self.t,
            self.cpu_percent,
            self.memory_bytes,
            self.memory_limit_bytes,
            self.rx_bytes,
            self.tx_bytes,
            self.disk_bytes,
            self.state,
            self.n,
        ]

    @classmethod
    def unpacked(cls, row: list[Any]) -> Point:
        t, cpu, memory, limit, rx, tx, disk, state, n = row
        return cls(int(t), float(cpu), int(memory), int(limit), int(rx), int(tx), int(disk), str(state), int(n))


def _increase(previous: int | None, current: int) -> int:
    """A cumulative counter's increase; a counter below its last value was reset (a restart)."""
    if previous is None:
        return 0
    return current - previous if current >= previous else current


def minute_points(samples: Iterable[tuple[int, Sample]], before: Sample | None = None) -> list[Point]:
    """One point per sample, oldest first. ``before`` is the sample just before the first one
    (for the first point's network increase; without it the first increase is 0)."""
    points: list[Point] = []
    last = before
    for t, sample in sorted(samples, key=lambda pair: pair[0]):
        points.append(
            Point(
                t=t - t % MINUTE,
                cpu_percent=sample.cpu_percent,
                memory_bytes=sample.memory_bytes,
                memory_limit_bytes=sample.memory_limit_bytes,
                rx_bytes=_increase(last.rx_bytes if last else None, sample.rx_bytes),
                tx_bytes=_increase(last.tx_bytes if last else None, sample.tx_bytes),
                disk_bytes=sample.disk_bytes,
                state=sample.state,
            )
        )
        last = sample
    return points


def aggregate(points: Iterable[Point], step: int) -> list[Point]:
    """Roll finer points up to ``step`` seconds: means weighted by ``n``, the largest limit,
    summed network, the last disk and state. Oldest first."""
    buckets: dict[int, list[Point]] = {}
    for point in sorted(points, key=lambda p: p.t):
        buckets.setdefault(point.t - point.t % step, []).append(point)
    out: list[Point] = []
    for start, group in sorted(buckets.items()):
        weight = sum(p.n for p in group) or 1
        out.append(
            Point(
                t=start,
                cpu_percent=round(sum(p.cpu_percent * p.n for p in group) / weight, 3),
                memory_bytes=round(sum(p.memory_bytes * p.n for p in group) / weight),
                memory_limit_bytes=max(p.memory_limit_bytes for p in group),
                rx_bytes=sum(p.rx_bytes for p in group),
                tx_bytes=sum(p.tx_bytes for p in group),
                disk_bytes=group[-1].disk_bytes,
                state=group[-1].state,
                n=weight,
            )
        )
    return out


def totals(series: Iterable[Iterable[Point]], state: str = NODE_ONLINE) -> list[Point]:
    """A node's series: at each time, the sum over its servers' points (same resolution)."""
    by_time: dict[int, list[Point]] = {}
    for points in series:
        for point in points:
            by_time.setdefault(point.t, []).append(point)
    return [
        Point(
            t=t,
            cpu_percent=round(sum(p.cpu_percent for p in group), 3),
            memory_bytes=sum(p.memory_bytes for p in group),
            memory_limit_bytes=sum(p.memory_limit_bytes for p in group),
            rx_bytes=sum(p.rx_bytes for p in group),
            tx_bytes=sum(p.tx_bytes for p in group),
            disk_bytes=sum(p.disk_bytes for p in group),
            state=state,
            n=max(p.n for p in group),
        )
        for t, group in sorted(by_time.items())
    ]


def merge(preferred: Iterable[Point], fallback: Iterable[Point]) -> list[Point]:
    """``preferred`` (stored rollups) where they exist, ``fallback`` (computed from the minute
    items) for the intervals they do not cover yet; oldest first."""
    merged = {p.t: p for p in fallback}
    merged.update({p.t: p for p in preferred})
    return [merged[t] for t in sorted(merged)]


# --- the query ---


@dataclass(frozen=True)
class Window:
    """A checked metrics query: ``[start, end)`` at ``resolution``."""

    start: int
    end: int
    resolution: str

    @property
    def step(self) -> int:
        return RESOLUTIONS[self.resolution]

    def points(self) -> int:
        return points_in(self.start, self.end, self.step)

    def clip(self, points: Iterable[Point]) -> list[Point]:
        return [p for p in points if self.start <= p.t + self.step - 1 and p.t < self.end]


def points_in(start: int, end: int, step: int) -> int:
    """How many ``step`` intervals ``[start, end)`` touches."""
    if end <= start:
        return 0
    return (end - 1) // step - start // step + 1


def _field(name: str, message: str) -> ValidationError:
    return ValidationError(f"{name} {message}.", {"fields": [{"field": name, "message": message}]})


def choose_resolution(start: int, end: int, requested: str) -> str:
    """``requested`` itself, or for ``auto`` the finest resolution that answers in at most
    ``AUTO_POINTS`` points (the hourly one beyond that: a longer range is hourly)."""
    if requested != "auto":
        return requested
    for name, step in RESOLUTIONS.items():
        if points_in(start, end, step) <= AUTO_POINTS:
            return name
    return "1h"


def window(start: int | None, end: int | None, requested: str, *, now: int) -> Window:
    """Check a query: ``to`` defaults to now and ``from`` to an hour before ``to``; ``from``
    must be before ``to``, ``to`` at most a minute in the future, the range within the
    resolution's retention and its point count within ``MAX_POINTS``. Raises ValidationError
    naming the parameter."""
    if requested != "auto" and requested not in RESOLUTIONS:
        raise _field("resolution", "must be auto, 1m, 5m or 1h")
    end = now if end is None else end
    start = end - DEFAULT_RANGE if start is None else start
    if end > now + MINUTE:
        raise _field("to", "must not be in the future")
    if start < 0:  # before 1970: nothing was stored then, and keys are non-negative
        raise _field("from", "must not be before 1970")
    if start >= end:
        raise _field("from", "must be before to")
    if end - start > RETENTION["1h"]:
        raise _field("from", "must be at most 13 months before to")
    resolution = choose_resolution(start, end, requested)
    # From the start of the interval ``from`` falls in: its point is whole, not cut.
    start -= start % RESOLUTIONS[resolution]
    if requested != "auto" and points_in(start, end, RESOLUTIONS[resolution]) > MAX_POINTS[resolution]:
        raise _field(
            "resolution",
            f"gives more than {MAX_POINTS[resolution]} points for this range; choose a coarser one or a shorter range",
        )
    return Window(start, end, resolution)


def parse_time(raw: str | None, name: str) -> int | None:
    """Epoch seconds from ``?from=``/``?to=``: a whole number of seconds or ISO 8601."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if text.isdigit():
        return int(text)
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _field(name, "must be epoch seconds or an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


CSV_COLUMNS: Final = (
    "t",
    "cpu_percent",
    "memory_bytes",
    "memory_limit_bytes",
    "rx_bytes",
    "tx_bytes",
    "disk_bytes",
    "state",
)


def to_csv(points: Iterable[Point]) -> str:
    """The points as CSV with a header row (the same values as the JSON answer)."""
    lines = [",".join(CSV_COLUMNS)]
    for p in points:
        lines.append(
            f"{p.t},{p.cpu_percent},{p.memory_bytes},{p.memory_limit_bytes},{p.rx_bytes},{p.tx_bytes},"
            f"{p.disk_bytes},{p.state}"
        )
    return "\r\n".join(lines) + "\r\n"


# --- crash rules ---


@dataclass(frozen=True)
class ServerEvent:
    """One entry of a server's event history."""

    id: str
    server_uuid: str
    type: str
    at: int  # epoch seconds
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """What the rules need about one server at one reconcile run."""

    previous_status: str  # the panel's status before this run (the last reconciled Wings state)
    previous: Sample | None  # the last stored sample before this one (None: none recent)
    current: Sample
    power_asked_at: int | None = None  # the last power action the panel sent, epoch seconds
    power_action: str | None = None


def unexpected_exit(seen: Seen) -> bool:
    """Running before and offline now, or restarted (running or starting again with an uptime
    below the last sample's: Wings' own crash detection restarted it between two runs)."""
    if seen.previous_status != RUNNING and (seen.previous is None or seen.previous.state != RUNNING):
        return False
    if seen.current.state == OFFLINE:
        return seen.previous_status == RUNNING
    return (
        seen.previous is not None
        and seen.previous.state == RUNNING
        and seen.current.state in (RUNNING, STARTING)
        and seen.current.uptime_ms < seen.previous.uptime_ms
    )


def asked_by_panel(seen: Seen, now: int) -> bool:
    """A stop, restart or kill the panel sent in the last 60 s explains the exit."""
    return (
        seen.power_asked_at is not None
        and seen.power_action in EXPECTED_EXIT_ACTIONS
        and now - seen.power_asked_at <= POWER_GRACE_SECONDS
    )


def power_from_activity(entries: Iterable[tuple[str, str]]) -> tuple[str, int] | None:
    """The newest power action in Wings' activity log (``server:power.<action>`` with its
    RFC 3339 time, nanoseconds allowed), as (action, epoch seconds), or None."""
    found: tuple[str, int] | None = None
    for event, timestamp in entries:
        if not event.startswith("server:power."):
            continue
        at = _rfc3339(timestamp)
        if at is not None and (found is None or at > found[1]):
            found = (event.removeprefix("server:power."), at)
    return found


def _rfc3339(text: str) -> int | None:
    import re
    from datetime import UTC, datetime

    # Python reads at most microseconds: cut Wings' nanoseconds.
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(trimmed)
    except ValueError:
        return None
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())


def crashed(seen: Seen, now: int) -> bool:
    """An unexpected exit with no stop, restart or kill asked by the panel in the last 60 s."""
    return unexpected_exit(seen) and not asked_by_panel(seen, now)


def out_of_memory(previous: Sample | None) -> bool:
    """The last sample before the crash had memory at ≥ 95 % of a known limit."""
    if previous is None or previous.memory_limit_bytes <= 0:
        return False
    return previous.memory_bytes >= OOM_RATIO * previous.memory_limit_bytes


def crash_events(seen: Seen, now: int, recent: Iterable[ServerEvent]) -> list[tuple[str, dict[str, Any]]]:
    """The events one observation raises: ``server.crashed`` (and ``server.oom_suspected``
    when the memory was at its limit), and ``server.crash_loop`` when this crash is the third
    within 10 minutes (``recent``: the server's events of the last 10 minutes; a loop is
    reported once per window)."""
    if not crashed(seen, now):
        return []
    previous = seen.previous
    details: dict[str, Any] = {"state": seen.current.state}
    if previous is not None:
        details.update(memory_bytes=previous.memory_bytes, memory_limit_bytes=previous.memory_limit_bytes)
    events: list[tuple[str, dict[str, Any]]] = [(CRASHED, details)]
    if out_of_memory(previous):
        events.append((OOM_SUSPECTED, dict(details)))
    window_start = now - CRASH_LOOP_WINDOW
    recent = [e for e in recent if e.at >= window_start]
    crashes = 1 + sum(1 for e in recent if e.type == CRASHED)
    looped = any(e.type == CRASH_LOOP for e in recent)
    if crashes >= CRASH_LOOP_COUNT and not looped:
        events.append((CRASH_LOOP, {"crashes": crashes, "window_seconds": CRASH_LOOP_WINDOW}))
    return events
