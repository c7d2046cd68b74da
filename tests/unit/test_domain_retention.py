"""The retention schedule: which warning is owed when, and when the job looks next."""

from __future__ import annotations

import pytest

from mamba.domain import retention as r

DAY = 86400
DUE = 1_800_000_000


@pytest.mark.parametrize(
    ("now", "owed", "next_look"),
    [
        (DUE - 30 * DAY, None, DUE - 7 * DAY),  # canceled just now: nothing yet
        (DUE - 7 * DAY - 1, None, DUE - 7 * DAY),
        (DUE - 7 * DAY, 7, DUE - DAY),  # the 7-day warning
        (DUE - 2 * DAY, 7, DUE - DAY),  # a late run still owes the 7-day one (sent once by its key)
        (DUE - DAY, 1, DUE),  # the 1-day warning
        (DUE - 1, 1, DUE),
        (DUE, None, DUE),  # due: no warning, the deletion
    ],
)
def test_warnings_and_looks_follow_the_due_date(now, owed, next_look):
    assert r.warning_owed(DUE, now) == owed
    assert r.next_look(DUE, now) == next_look


def test_a_retention_shorter_than_a_week_still_sends_both_warnings_with_the_time_really_left():
    canceled_at = DUE - 2 * DAY
    assert r.first_look(DUE) < canceled_at  # looked at at once
    assert r.warning_owed(DUE, canceled_at) == 7
    assert r.days_left(DUE, canceled_at) == 2  # the mail says "in 2 days", not 7
    assert r.next_look(DUE, canceled_at) == DUE - DAY


@pytest.mark.parametrize(("left", "days"), [(7 * DAY - 60, 7), (DAY - 60, 1), (1, 1), (DAY + 1, 2)])
def test_days_left_rounds_up(left, days):
    assert r.days_left(DUE, DUE - left) == days


def test_each_warning_has_its_own_key_per_due_date():
    assert len({r.warning_key(7, DUE), r.warning_key(1, DUE), r.warning_key(7, DUE + 1)}) == 3
