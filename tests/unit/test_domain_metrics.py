"""The metrics rules (mamba/domain/metrics.py): resolution choice, rollups and crash rules, table-driven."""

from __future__ import annotations

import pytest

from mamba.domain import metrics as m
from mamba.domain.errors import ValidationError
from mamba.domain.metrics import Point, Sample, Seen, ServerEvent

NOW = 1_764_000_000 - 1_764_000_000 % 3600  # an hour boundary
GIB = 1024**3


def sample(
    state: str = "running", *, cpu: float = 10.0, memory: int = GIB // 2, limit: int = GIB, rx: int = 0, tx: int = 0,
    disk: int = 100, uptime: int = 60_000,
) -> Sample:  # fmt: skip
    return Sample(cpu, memory, limit, rx, tx, disk, uptime, state)


# --- resolution choice ---


@pytest.mark.parametrize(
    ("seconds", "requested", "expected"),
    [
        (3600, "auto", "1m"),  # 1 h: 60 points
        (500 * 60, "auto", "1m"),  # exactly 500 minutes
        (500 * 60 + 60, "auto", "5m"),  # one minute more: 501 points
        (24 * 3600, "auto", "5m"),  # 24 h: 288 points
        (7 * 86400, "auto", "1h"),  # 7 d: 2016 five-minute points > 500
        (30 * 86400, "auto", "1h"),  # 30 d: 720 hourly points, the coarsest there is
        (3600, "1h", "1h"),
        (86400, "5m", "5m"),
    ],
)
def test_choose_resolution_picks_the_finest_within_500_points(seconds: int, requested: str, expected: str) -> None:
    assert m.choose_resolution(NOW - seconds, NOW, requested) == expected


@pytest.mark.parametrize(
    ("start", "end", "resolution", "field"),
    [
        (NOW, NOW - 60, "auto", "from"),  # from after to
        (NOW, NOW, "auto", "from"),  # empty range
        (NOW - 3600, NOW + 3600, "auto", "to"),  # in the future
        (NOW - 400 * 86400, NOW, "auto", "from"),  # beyond 13 months
        (NOW - 48 * 3600, NOW, "1m", "resolution"),  # 2880 minute points
        (NOW - 3600, NOW, "10s", "resolution"),  # unknown
        (None, 0, "auto", "from"),  # an hour before 1970
        (-86400, 0, "auto", "from"),
    ],
)
def test_window_refuses_a_bad_query_naming_the_parameter(
    start: int | None, end: int, resolution: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        m.window(start, end, resolution, now=NOW)
    assert caught.value.details["fields"][0]["field"] == field


def test_window_defaults_to_the_last_hour() -> None:
    w = m.window(None, None, "auto", now=NOW)
    assert (w.start, w.end, w.resolution, w.points()) == (NOW - 3600, NOW, "1m", 60)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1764000000", 1764000000),
        ("2025-11-24T16:00:00Z", 1764000000),
        ("2025-11-24T16:00:00", 1764000000),
        (None, None),
    ],
)
def test_parse_time_reads_epoch_seconds_and_iso(raw: str | None, expected: int | None) -> None:
    assert m.parse_time(raw, "from") == expected


def test_parse_time_refuses_anything_else() -> None:
    with pytest.raises(ValidationError):
        m.parse_time("yesterday", "from")


# --- samples and rollups ---


def test_sample_from_wings_utilization_reads_every_field_and_zeroes_junk() -> None:
    util = {
        "memory_bytes": 5, "memory_limit_bytes": 10, "cpu_absolute": 12.3456, "network": {"rx_bytes": 7, "tx_bytes": 8},
        "uptime": 9000, "disk_bytes": 11,
    }  # fmt: skip
    assert m.sample_from_utilization(util, "running") == Sample(12.346, 5, 10, 7, 8, 11, 9000, "running")
    junk = m.sample_from_utilization({"memory_bytes": "x", "network": None, "cpu_absolute": True}, "offline")
    assert junk == Sample(0.0, 0, 0, 0, 0, 0, 0, "offline")


@pytest.mark.parametrize(
    ("counters", "before", "increases"),
    [
        ([100, 150, 400], None, [0, 50, 250]),  # no earlier sample: the first increase is unknown (0)
        ([100, 150, 400], 40, [60, 50, 250]),
        ([100, 30, 80], 90, [10, 30, 50]),  # reset by a restart: the new value is the increase
    ],
)
def test_minute_points_turn_cumulative_counters_into_increases(
    counters: list[int], before: int | None, increases: list[int]
) -> None:
    samples = [(NOW + 60 * i + 7, sample(rx=c, tx=2 * c)) for i, c in enumerate(counters)]
    points = m.minute_points(samples, sample(rx=before, tx=2 * before) if before is not None else None)
    assert [p.rx_bytes for p in points] == increases
    assert [p.tx_bytes for p in points] == [2 * i for i in increases]
    assert [p.t for p in points] == [NOW, NOW + 60, NOW + 120]  # aligned to the minute


def _minutes(count: int) -> list[Point]:
    return [
        Point(NOW + 60 * i, float(i), 1000 * i, GIB, 10, 20, 500 + i, "running" if i < count - 1 else "offline")
        for i in range(count)
    ]


def test_aggregate_means_sums_and_lasts_per_bucket() -> None:
    five = m.aggregate(_minutes(10), 300)
    assert [p.t for p in five] == [NOW, NOW + 300]
    first, second = five
    assert (first.cpu_percent, first.memory_bytes, first.n) == (2.0, 2000, 5)  # means of 0..4
    assert (first.rx_bytes, first.tx_bytes) == (50, 100)  # sums
    assert (first.disk_bytes, first.state) == (504, "running")  # the last
    assert (second.disk_bytes, second.state, second.memory_limit_bytes) == (509, "offline", GIB)


@pytest.mark.parametrize("count", [1, 7, 12, 45, 60])
def test_rolling_minutes_to_five_minutes_to_an_hour_equals_rolling_them_to_an_hour(count: int) -> None:
    minutes = _minutes(count)
    assert m.aggregate(m.aggregate(minutes, 300), 3600) == m.aggregate(minutes, 3600)


def test_totals_sum_servers_at_each_time() -> None:
    a = [Point(NOW, 10.0, 100, 1000, 1, 2, 5, "running")]
    b = [Point(NOW, 5.5, 50, 500, 3, 4, 6, "offline"), Point(NOW + 60, 1.0, 1, 1, 1, 1, 1, "running")]
    assert m.totals([a, b]) == [
        Point(NOW, 15.5, 150, 1500, 4, 6, 11, "online"),
        Point(NOW + 60, 1.0, 1, 1, 1, 1, 1, "online"),
    ]


def test_merge_prefers_stored_rollups_and_fills_the_rest() -> None:
    stored = [Point(NOW, 1.0, 1, 1, 1, 1, 1, "running")]
    computed = [Point(NOW, 9.0, 9, 9, 9, 9, 9, "running"), Point(NOW + 300, 2.0, 2, 2, 2, 2, 2, "running")]
    assert [p.cpu_percent for p in m.merge(stored, computed)] == [1.0, 2.0]


def test_csv_has_a_header_and_one_row_per_point() -> None:
    text = m.to_csv([Point(NOW, 1.5, 2, 3, 4, 5, 6, "running")])
    assert text.splitlines() == [
        "t,cpu_percent,memory_bytes,memory_limit_bytes,rx_bytes,tx_bytes,disk_bytes,state",
        f"{NOW},1.5,2,3,4,5,6,running",
    ]


# --- crash rules ---

RUNNING_BEFORE = sample("running", uptime=600_000)


@pytest.mark.parametrize(
    ("name", "seen", "expected"),
    [
        ("running then offline", Seen("running", RUNNING_BEFORE, sample("offline", uptime=0)), [m.CRASHED]),
        ("no earlier sample, status running", Seen("running", None, sample("offline")), [m.CRASHED]),
        ("offline stays offline", Seen("offline", sample("offline"), sample("offline")), []),
        ("stopping then offline", Seen("stopping", sample("stopping"), sample("offline")), []),
        ("starting then offline", Seen("starting", sample("starting"), sample("offline")), []),
        ("still running", Seen("running", RUNNING_BEFORE, sample("running", uptime=660_000)), []),
        (
            "restarted by Wings (uptime went back)",
            Seen("running", RUNNING_BEFORE, sample("starting", uptime=2_000)),
            [m.CRASHED],
        ),
        (
            "panel asked stop 30 s ago",
            Seen("running", RUNNING_BEFORE, sample("offline"), power_asked_at=NOW - 30, power_action="stop"),
            [],
        ),
        (
            "panel asked kill 60 s ago",
            Seen("running", RUNNING_BEFORE, sample("offline"), power_asked_at=NOW - 60, power_action="kill"),
            [],
        ),
        (
            "panel asked restart, Wings restarted it",
            Seen(
                "running",
                RUNNING_BEFORE,
                sample("running", uptime=1000),
                power_asked_at=NOW - 5,
                power_action="restart",
            ),
            [],
        ),
        (
            "panel asked stop 61 s ago",
            Seen("running", RUNNING_BEFORE, sample("offline"), power_asked_at=NOW - 61, power_action="stop"),
            [m.CRASHED],
        ),
        (
            "panel asked start (not an exit)",
            Seen("running", RUNNING_BEFORE, sample("offline"), power_asked_at=NOW - 5, power_action="start"),
            [m.CRASHED],
        ),
        (
            "memory at 95 % of its limit",
            Seen("running", sample(memory=int(0.95 * GIB) + 1), sample("offline")),
            [m.CRASHED, m.OOM_SUSPECTED],
        ),
        ("memory at 94 %", Seen("running", sample(memory=int(0.94 * GIB)), sample("offline")), [m.CRASHED]),
        ("no known limit", Seen("running", sample(memory=GIB, limit=0), sample("offline")), [m.CRASHED]),
    ],
)
def test_crash_rules(name: str, seen: Seen, expected: list[str]) -> None:
    assert [kind for kind, _ in m.crash_events(seen, NOW, [])] == expected, name


def _crash(at: int, kind: str = m.CRASHED) -> ServerEvent:
    return ServerEvent(id=f"ev_{at}_{kind}", server_uuid="u", type=kind, at=at)


@pytest.mark.parametrize(
    ("name", "recent", "loop"),
    [
        ("first crash", [], False),
        ("second crash", [_crash(NOW - 120)], False),
        ("third within 10 minutes", [_crash(NOW - 500), _crash(NOW - 120)], True),
        ("third, but the first is 11 minutes old", [_crash(NOW - 660), _crash(NOW - 120)], False),
        (
            "fourth, loop already reported",
            [_crash(NOW - 500), _crash(NOW - 300), _crash(NOW - 300, m.CRASH_LOOP), _crash(NOW - 100)],
            False,
        ),
    ],
)
def test_three_crashes_within_ten_minutes_are_one_crash_loop(name: str, recent: list[ServerEvent], loop: bool) -> None:
    events = [kind for kind, _ in m.crash_events(Seen("running", RUNNING_BEFORE, sample("offline")), NOW, recent)]
    assert (m.CRASH_LOOP in events) is loop, name


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([], None),
        ([("server:console.command", "2025-11-24T16:00:00Z")], None),
        ([("server:power.stop", "2025-11-24T16:00:00.123456789Z")], ("stop", 1764000000)),
        (
            [("server:power.kill", "2025-11-24T15:59:00Z"), ("server:power.restart", "2025-11-24T16:00:01+00:00")],
            ("restart", 1764000001),
        ),
        ([("server:power.stop", "not a time")], None),
    ],
)
def test_power_from_activity_reads_wings_power_events(
    entries: list[tuple[str, str]], expected: tuple[str, int] | None
) -> None:
    assert m.power_from_activity(entries) == expected


@pytest.mark.parametrize(("seconds", "resolution"), [(500 * 60, "1m"), (30 * 86400, "5m"), (397 * 86400, "1h")])
def test_an_explicit_resolution_reaches_its_whole_allowance_from_any_start(seconds: int, resolution: str) -> None:
    for offset in (0, 1, 59, 299, 3599):
        end = NOW + offset
        w = m.window(end - seconds, end, resolution, now=NOW + 3600)
        assert w.resolution == resolution and w.points() <= m.MAX_POINTS[resolution]
