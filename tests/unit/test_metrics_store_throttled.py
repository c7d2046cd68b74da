"""DynamoMetricsStore when DynamoDB leaves rollups unprocessed (throttling): it retries with
backoff, then says so, and the rollup's hour is not marked done (the next run redoes it)."""

from __future__ import annotations

from typing import Any

import pytest

from mamba.adapters.dynamo import metrics as adapter
from mamba.domain.errors import DependencyUnavailableError
from mamba.domain.metrics import Point
from mamba.services import metrics as service
from tests.fakes import FakeMetricsStore

H = 1_764_000_000 - 1_764_000_000 % 3600


class Throttled:
    """A DynamoDB client that leaves the first ``refusals`` batch calls' items unprocessed."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls = 0

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.refusals:
            return {"UnprocessedItems": RequestItems}
        return {"UnprocessedItems": {}}


def rows(count: int) -> list[Any]:
    point = Point(H, 1.0, 1, 1, 1, 1, 1, "running")
    return [(f"SERVER#{i}", H, [point], point, None) for i in range(count)]


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(adapter.time, "sleep", slept.append)
    return slept


def test_unprocessed_rollups_are_retried_with_backoff(no_sleep: list[float]) -> None:
    client = Throttled(refusals=2)
    written = adapter.DynamoMetricsStore(client, "t").put_rollups(rows(3))
    assert (written, client.calls) == (3, 3)
    assert no_sleep == [0.1, 0.2]


def test_rollups_still_unprocessed_are_an_error_and_the_hour_is_not_marked_done() -> None:
    client = Throttled(refusals=99)
    with pytest.raises(DependencyUnavailableError):
        adapter.DynamoMetricsStore(client, "t").put_rollups(rows(3))
    assert client.calls == adapter.UNPROCESSED_TRIES

    class Failing(FakeMetricsStore):
        def put_rollups(self, rows: Any) -> int:
            raise DependencyUnavailableError("throttled")

    store = Failing()
    store.put_minute("nd", H - 600, {"u": _sample()})
    store.markers["nd"] = H - 7200
    ports = service.MetricsPorts(
        store=store, events=None, servers=None, nodes=None, clock=lambda: H + 5,  # type: ignore[arg-type]
        new_id=lambda: "ev", server_partition=lambda u: f"SERVER#{u}", node_partition=lambda n: f"NODE#{n}",
    )  # fmt: skip
    with pytest.raises(DependencyUnavailableError):
        service.roll_up(ports, "nd", H + 5)
    assert store.markers["nd"] == H - 7200


def _sample() -> Any:
    from mamba.domain.metrics import Sample

    return Sample(1.0, 1, 2, 0, 0, 1, 1000, "running")
