"""The metrics history and server-event ports, over the in-memory fakes and the DynamoDB
adapters on moto (``DynamoMetricsStore``, ``DynamoServerEvents``)."""

from __future__ import annotations

from typing import Any

import pytest

from mamba.domain.errors import ValidationError
from mamba.domain.metrics import Point, Sample, ServerEvent
from mamba.domain.pages import PageRequest
from tests.fakes import FakeMetricsStore, FakeServerEvents

H = 1_764_000_000 - 1_764_000_000 % 3600
UUID = "0b5e1e4c-1f7e-4d0e-9a51-3a1f6a1d2c3b"


def sample(i: int, state: str = "running") -> Sample:
    return Sample(1.5 * i, 1000 * i, 2000, 10 * i, 20 * i, 5 + i, 60_000 * i, state)


def point(t: int, n: int = 1) -> Point:
    return Point(t, 2.5, 100, 200, 3, 4, 5, "running", n)


@pytest.fixture(params=["fake", "dynamo"])
def stores(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    if request.param == "fake":
        return FakeMetricsStore(), FakeServerEvents()
    request.getfixturevalue("aws")
    from mamba import bootstrap

    return bootstrap.metrics_store(), bootstrap.server_events()


class TestMetricsStoreContract:
    def test_minutes_come_back_oldest_first_within_start_inclusive_end_exclusive(self, stores):
        store, _ = stores
        for i in range(5):
            store.put_minute("nd_a", H + 60 * i, {UUID: sample(i)})
        store.put_minute("nd_b", H + 60, {UUID: sample(9)})

        found = store.minutes("nd_a", H + 60, H + 240)

        assert [t for t, _ in found] == [H + 60, H + 120, H + 180]
        assert found[0][1] == {UUID: sample(1)}

    def test_a_minute_written_again_replaces_itself(self, stores):
        store, _ = stores
        store.put_minute("nd_a", H, {UUID: sample(1)})
        store.put_minute("nd_a", H, {UUID: sample(2, "offline")})
        assert store.minutes("nd_a", H, H + 60) == [(H, {UUID: sample(2, "offline")})]

    def test_last_minute_is_the_newest_before_a_time(self, stores):
        store, _ = stores
        assert store.last_minute("nd_a", H + 600) is None
        for i in range(3):
            store.put_minute("nd_a", H + 60 * i, {UUID: sample(i)})
        assert store.last_minute("nd_a", H + 600) == (H + 120, {UUID: sample(2)})
        assert store.last_minute("nd_a", H + 120) == (H + 60, {UUID: sample(1)})

    def test_rollups_give_five_minute_points_and_hourly_ones_with_a_days_list(self, stores):
        store, _ = stores
        partition = f"SERVER#{UUID}"
        store.put_rollups(
            [
                (partition, H, [point(H), point(H + 300)], point(H, 10), None),
                (partition, H + 3600, [point(H + 3600)], point(H + 3600, 5), [point(H - 3600, 60), point(H, 10)]),
                ("SERVER#other", H, [point(H)], point(H), None),
            ]
        )

        five, hourly = store.rollups(partition, H + 10, H + 7200)

        assert [p.t for p in five] == [H, H + 300, H + 3600]
        assert [(p.t, p.n) for p in hourly] == [(H - 3600, 60), (H, 10), (H + 3600, 5)]
        assert store.rollups(partition, H + 7200, H + 9000) == ([], [])

    def test_the_rollup_marker_remembers_the_last_hour(self, stores):
        store, _ = stores
        assert store.rolled_until("nd_a") is None
        store.set_rolled("nd_a", H)
        store.set_rolled("nd_a", H + 3600)
        assert store.rolled_until("nd_a") == H + 3600


class TestServerEventsContract:
    def test_events_page_newest_first_with_a_cursor_of_their_own(self, stores):
        _, events = stores
        for i in range(5):
            events.add(ServerEvent(id=f"ev_{i}", server_uuid=UUID, type="server.crashed", at=H + i), "tn_a")
        events.add(ServerEvent(id="ev_x", server_uuid="other", type="server.crashed", at=H), "tn_a")

        first = events.page(UUID, PageRequest(limit=3))
        second = events.page(UUID, PageRequest(limit=3, cursor=first.next_cursor))

        assert [e.id for e in first.items] == ["ev_4", "ev_3", "ev_2"]
        assert [e.id for e in second.items] == ["ev_1", "ev_0"]
        assert second.next_cursor is None
        with pytest.raises(ValidationError):
            events.page("other", PageRequest(limit=3, cursor=first.next_cursor))

    def test_since_reads_the_events_at_or_after_a_time_oldest_first(self, stores):
        _, events = stores
        for i, kind in enumerate(["server.crashed", "server.oom_suspected", "server.crash_loop"]):
            events.add(ServerEvent(id=f"ev_{i}", server_uuid=UUID, type=kind, at=H + 60 * i, details={"n": i}), "tn_a")
        found = events.since(UUID, H + 60)
        assert [(e.type, e.details) for e in found] == [
            ("server.oom_suspected", {"n": 1}),
            ("server.crash_loop", {"n": 2}),
        ]

    def test_the_last_power_request_is_remembered(self, stores):
        _, events = stores
        assert events.last_power(UUID) is None
        events.mark_power(UUID, "stop", H)
        events.mark_power(UUID, "kill", H + 5)
        assert events.last_power(UUID) == ("kill", H + 5)
