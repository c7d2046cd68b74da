"""The dead-letter queue port, over the in-memory fake and SqsDeadLetterQueue on moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes import FakeDeadLetterErrors, FakeDeadLetterQueue


class _Sqs:
    """The adapter with its two moto queues, and what the fake calls ``add``/``redriven``."""

    def __init__(self) -> None:
        import boto3

        from mamba.adapters.sqs_dead_letters import SqsDeadLetterQueue

        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.source = self.sqs.create_queue(QueueName="contract-events")["QueueUrl"]
        self.dlq = self.sqs.create_queue(QueueName="contract-events-dlq")["QueueUrl"]
        self.queue = SqsDeadLetterQueue(self.sqs, self.dlq, self.source)

    def add(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.dlq, MessageBody=body)

    @property
    def redriven(self) -> list[str]:
        found = self.sqs.receive_message(QueueUrl=self.source, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [m["Body"] for m in found.get("Messages", [])]


@pytest.fixture(params=["fake", "sqs"])
def world(request) -> Any:
    if request.param == "fake":
        fake = FakeDeadLetterQueue()
        fake.queue = fake  # type: ignore[attr-defined]
        return fake
    request.getfixturevalue("aws")
    return _Sqs()


def _event(n: int) -> str:
    return json.dumps({"id": f"evt_{n}", "type": "invoice.paid"})


class TestDeadLetterQueueContract:
    def test_peek_returns_every_message_without_consuming_it(self, world):
        for n in range(3):
            world.add(_event(n))

        first = world.queue.peek(100)
        again = world.queue.peek(100)

        assert sorted(m.body for m in first) == sorted(_event(n) for n in range(3))
        assert sorted(m.body for m in again) == sorted(m.body for m in first)
        assert world.queue.depth() == 3

    def test_peek_stops_at_the_limit(self, world):
        for n in range(4):
            world.add(_event(n))

        assert len(world.queue.peek(2)) == 2

    def test_redrive_moves_every_message_back_once(self, world):
        for n in range(3):
            world.add(_event(n))

        moved = world.queue.redrive(1000)
        again = world.queue.redrive(1000)

        assert (moved, again) == (3, 0)
        assert world.queue.depth() == 0
        assert sorted(world.redriven) == sorted(_event(n) for n in range(3))

    def test_depth_is_zero_when_the_queue_is_empty(self, world):
        assert world.queue.depth() == 0
        assert world.queue.peek(10) == []

    def test_redrive_moves_more_than_one_batch_and_stops_at_the_limit(self, world):
        for n in range(25):
            world.add(_event(n))

        first = world.queue.redrive(12)
        rest = world.queue.redrive(1000)

        assert (first, rest) == (12, 13)
        assert world.queue.depth() == 0


# --- the first error of each dead letter ---------------------------------------------------------


class DeadLetterErrorsContract:
    @pytest.fixture
    def errors(self) -> Any:
        raise NotImplementedError

    def test_the_first_error_of_an_event_is_kept_and_a_later_one_never_replaces_it(self, errors):
        errors.record_first("evt_a", "ValidationError: Bad plan.", "2026-12-05T00:00:00Z", 1_780_000_000)
        errors.record_first("evt_a", "RuntimeError", "2026-12-05T00:01:00Z", 1_780_000_060)
        errors.record_first("evt_b", "KeyError", "2026-12-05T00:02:00Z", 1_780_000_120)
        assert errors.first_errors(["evt_a", "evt_b"]) == {"evt_a": "ValidationError: Bad plan.", "evt_b": "KeyError"}

    def test_events_without_a_recorded_error_are_left_out(self, errors):
        errors.record_first("evt_c", "KeyError", "2026-12-05T00:00:00Z", 1_780_000_000)
        assert errors.first_errors(["evt_c", "evt_never", "evt_c"]) == {"evt_c": "KeyError"}
        assert errors.first_errors([]) == {}


class TestDeadLetterErrorsOnFake(DeadLetterErrorsContract):
    @pytest.fixture
    def errors(self) -> Any:
        return FakeDeadLetterErrors()


class TestDeadLetterErrorsOnDynamo(DeadLetterErrorsContract):
    @pytest.fixture
    def errors(self, request: pytest.FixtureRequest) -> Any:
        request.getfixturevalue("aws")
        from mamba import bootstrap

        return bootstrap.dead_letter_errors()
