"""The cron dialect, the next run times across time zones and daylight-saving changes, and the
translation to EventBridge Scheduler's dialect (mamba.domain.schedules), table-driven."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mamba.domain import schedules as sch
from mamba.domain.errors import QuotaExceededError, ValidationError


def cron(text: str) -> sch.Cron:
    return sch.parse_cron(*text.split())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def iso(values: list[datetime]) -> list[str]:
    return [v.strftime("%Y-%m-%dT%H:%MZ") for v in values]


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("minute", "*", set(range(60))),
        ("minute", "*/15", {0, 15, 30, 45}),
        ("minute", "5", {5}),
        ("minute", "5/20", {5, 25, 45}),
        ("minute", "10-20/5", {10, 15, 20}),
        ("minute", "1,2,50-52", {1, 2, 50, 51, 52}),
        ("hour", "0-23/6", {0, 6, 12, 18}),
        ("day_of_month", "1,15,31", {1, 15, 31}),
        ("month", "JAN,jun-aug", {1, 6, 7, 8}),
        ("day_of_week", "MON-FRI", {1, 2, 3, 4, 5}),
        ("day_of_week", "7", {0}),
        ("day_of_week", "5-7", {5, 6, 0}),
    ],
)
def test_field_selects_the_values_when_written_in_cron_syntax(field: str, text: str, expected: set[int]) -> None:
    assert sch.parse_field(field, text) == frozenset(expected)


@pytest.mark.parametrize(
    ("field", "text", "says"),
    [
        ("minute", "60", "60 is outside 0-59"),
        ("hour", "24", "24 is outside 0-23"),
        ("day_of_month", "0", "0 is outside 1-31"),
        ("month", "13", "13 is outside 1-12"),
        ("month", "FOO", "'FOO' is not a number or a name"),
        ("minute", "*/0", "step 0 must be between 1 and 59"),
        ("minute", "20-10", "range 20-10 runs backwards"),
        ("minute", "", "is empty"),
        ("minute", "1;2", "is not cron syntax"),
        ("day_of_week", "8", "8 is outside 0-7"),
    ],
)
def test_field_is_refused_with_a_readable_error_when_invalid(field: str, text: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        sch.parse_field(field, text)
    assert caught.value.message.startswith(f"cron.{field}: ")
    assert says in caught.value.message
    assert caught.value.details["fields"][0]["field"] == f"cron.{field}"


NEXT_RUNS = [
    # (expression, time zone, after, the next runs in UTC)
    (
        "0 4 * * *",
        "UTC",
        "2026-12-05T09:00Z",
        ["2026-12-06T04:00Z", "2026-12-07T04:00Z", "2026-12-08T04:00Z", "2026-12-09T04:00Z", "2026-12-10T04:00Z"],
    ),
    (
        "0 4 * * *",
        "Europe/Berlin",  # CET, UTC+1 in winter
        "2026-12-05T09:00Z",
        ["2026-12-06T03:00Z", "2026-12-07T03:00Z", "2026-12-08T03:00Z", "2026-12-09T03:00Z", "2026-12-10T03:00Z"],
    ),
    (
        "*/20 * * * *",
        "UTC",
        "2026-12-05T09:00Z",  # strictly after: 09:00 itself is not next
        ["2026-12-05T09:20Z", "2026-12-05T09:40Z", "2026-12-05T10:00Z", "2026-12-05T10:20Z", "2026-12-05T10:40Z"],
    ),
    (
        "30 2 * * *",
        "Europe/Berlin",  # 2026-03-29 02:00 → 03:00 (CET → CEST): 02:30 does not exist that day, skipped
        "2026-03-27T12:00Z",
        ["2026-03-28T01:30Z", "2026-03-30T00:30Z", "2026-03-31T00:30Z", "2026-04-01T00:30Z", "2026-04-02T00:30Z"],
    ),
    (
        "30 2 * * *",
        "Europe/Berlin",  # 2026-10-25 03:00 → 02:00 (CEST → CET): 02:30 happens twice, runs once (first)
        "2026-10-24T12:00Z",
        ["2026-10-25T00:30Z", "2026-10-26T01:30Z", "2026-10-27T01:30Z", "2026-10-28T01:30Z", "2026-10-29T01:30Z"],
    ),
    (
        "0 * 25 10 *",
        "Europe/Berlin",  # every hour on the fall-back day: 23 local hours are 24 UTC hours, 02:00 once
        "2026-10-24T23:30Z",
        ["2026-10-25T00:00Z", "2026-10-25T02:00Z", "2026-10-25T03:00Z", "2026-10-25T04:00Z", "2026-10-25T05:00Z"],
    ),
    (
        "0 2 8 3 *",
        "America/New_York",  # 2026-03-08 02:00 does not exist (EST → EDT): the next is a year later
        "2026-03-01T00:00Z",
        ["2027-03-08T07:00Z", "2028-03-08T07:00Z", "2029-03-08T07:00Z", "2030-03-08T07:00Z", "2031-03-08T07:00Z"],
    ),
    (
        "0 9 * * MON",
        "Asia/Kolkata",  # UTC+5:30, no DST
        "2026-12-05T09:00Z",  # a Saturday
        ["2026-12-07T03:30Z", "2026-12-14T03:30Z", "2026-12-21T03:30Z", "2026-12-28T03:30Z", "2027-01-04T03:30Z"],
    ),
    (
        "0 12 1 * FRI",
        "UTC",  # both day fields restricted: the 1st OR a Friday
        "2026-12-30T00:00Z",
        ["2027-01-01T12:00Z", "2027-01-08T12:00Z", "2027-01-15T12:00Z", "2027-01-22T12:00Z", "2027-01-29T12:00Z"],
    ),
    (
        "0 0 29 2 *",
        "UTC",  # leap days only
        "2026-12-05T00:00Z",
        ["2028-02-29T00:00Z", "2032-02-29T00:00Z"],
    ),
    (
        "0 12 * * *",
        "Pacific/Auckland",  # southern hemisphere: NZDT (UTC+13) in December
        "2026-12-05T00:00Z",
        ["2026-12-05T23:00Z", "2026-12-06T23:00Z", "2026-12-07T23:00Z", "2026-12-08T23:00Z", "2026-12-09T23:00Z"],
    ),
]


@pytest.mark.parametrize(("expression", "tz", "after", "expected"), NEXT_RUNS)
def test_next_runs_follow_the_time_zone_when_clocks_change(
    expression: str, tz: str, after: str, expected: list[str]
) -> None:
    count = len(expected)
    assert iso(sch.next_runs(cron(expression), tz, at(after), count)) == expected


def test_expression_that_never_runs_is_refused_when_written() -> None:
    with pytest.raises(ValidationError) as caught:
        sch.require_runs(cron("0 0 31 2 *"), "UTC", at("2026-12-05T00:00Z"))
    assert "never runs" in caught.value.message


def test_unknown_time_zone_is_refused_when_written() -> None:
    for name in ("Mars/Olympus", "../etc/passwd", "", "localtime", "Factory"):
        with pytest.raises(ValidationError) as caught:
            sch.zone(name)
        assert caught.value.details["fields"][0]["field"] == "timezone"


def test_matches_only_the_scheduled_minutes_when_asked_for_a_time() -> None:
    nightly = cron("0 4 * * *")
    assert sch.matches(nightly, "Europe/Berlin", at("2026-12-06T03:00:40Z"))
    assert not sch.matches(nightly, "Europe/Berlin", at("2026-12-06T04:00Z"))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0 4 * * *", ["cron(0 4 * * ? *)"]),
        ("*/15 1-5 * * MON-FRI", ["cron(0,15,30,45 1-5 ? * MON-FRI *)"]),
        ("0 12 1,15 * *", ["cron(0 12 1,15 * ? *)"]),
        ("0 12 1 JAN,JUL 0", ["cron(0 12 1 1,7 ? *)", "cron(0 12 ? 1,7 SUN *)"]),
        ("5/20 0 * * 5-7", ["cron(5,25,45 0 ? * SUN,FRI-SAT *)"]),
    ],
)
def test_eventbridge_expressions_say_the_same_when_translated(expression: str, expected: list[str]) -> None:
    assert sch.aws_expressions(cron(expression)) == expected


def test_tasks_are_refused_when_out_of_bounds() -> None:
    ok = sch.Task("command", "say hi")
    assert sch.check_tasks([ok]) == (ok,)
    bad = [
        ([], "at least one task"),
        ([ok] * 11, "at most 10 tasks"),
        ([sch.Task("command", "say hi", time_offset_seconds=901)], "between 0 and 900"),
        ([sch.Task("power", "explode")], "start, stop, restart or kill"),
        ([sch.Task("command", "  ")], "is required"),
        ([sch.Task("command", "a\nb")], "one line"),
        ([sch.Task("reboot", "")], "command, power or backup"),
    ]
    for tasks, says in bad:
        with pytest.raises(ValidationError) as caught:
            sch.check_tasks(tasks)
        assert says in caught.value.message


def test_no_tasks_are_allowed_only_when_asked_for() -> None:
    # Pterodactyl's API makes a schedule first and adds its tasks one at a time after
    assert sch.check_tasks([], allow_empty=True) == ()
    with pytest.raises(ValidationError):
        sch.check_tasks([])
    with pytest.raises(ValidationError):
        sch.check_tasks([sch.Task("command", "say hi")] * 11, allow_empty=True)


def test_plan_limit_refuses_one_more_schedule_when_reached() -> None:
    sch.check_count(10, 9)
    sch.check_count(-1, 500)
    with pytest.raises(QuotaExceededError):
        sch.check_count(10, 10)


def test_scheduled_run_id_is_the_same_when_delivered_twice() -> None:
    first = sch.scheduled_run_id("sch_a", "2026-12-06T03:00:00Z")
    assert first == sch.scheduled_run_id("sch_a", "2026-12-06T03:00:00Z")
    assert first != sch.scheduled_run_id("sch_a", "2026-12-07T03:00:00Z")
    assert first != sch.scheduled_run_id("sch_b", "2026-12-06T03:00:00Z")
