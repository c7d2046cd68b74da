"""The per-node circuit breaker over moto's DynamoDB, on its own and in front of the client."""

from __future__ import annotations

import pytest

from mamba.adapters.wings.breaker import BreakerPolicy, DynamoCircuitBreaker
from mamba.adapters.wings.client import NodeEndpoint, Timeouts, WingsHttpNodeAgent
from mamba.domain.errors import WingsNotFoundError, WingsUnavailableError
from tests.integration.test_wings_client import FakeDaemon, Reply, closed_port


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(aws, clock) -> DynamoCircuitBreaker:
    from mamba import bootstrap

    bootstrap.dynamo_tables()
    return DynamoCircuitBreaker(BreakerPolicy(threshold=3, cooldown_seconds=30, probe_seconds=10), clock=clock)


@pytest.fixture
def daemon():
    d = FakeDaemon()
    yield d
    d.close()


def agent(url: str, breaker: DynamoCircuitBreaker) -> WingsHttpNodeAgent:
    return WingsHttpNodeAgent(
        NodeEndpoint("node-b", url, "k" * 64), breaker=breaker, retries=0, backoff=0, timeouts=Timeouts(1, 1)
    )


def fail_times(b: DynamoCircuitBreaker, n: int, node: str = "node-b") -> None:
    for _ in range(n):
        b.failed(b.before_call(node))


def test_breaker_opens_when_failures_reach_the_threshold(breaker):
    # Given two failures (below the threshold of three)
    fail_times(breaker, 2)
    assert breaker.state("node-b") == "closed"

    # When a third consecutive failure is recorded
    fail_times(breaker, 1)

    # Then the breaker is open and the next call fails fast with NODE_UNAVAILABLE
    assert breaker.state("node-b") == "open"
    with pytest.raises(WingsUnavailableError) as caught:
        breaker.before_call("node-b")
    assert caught.value.details["reason"] == "circuit_open"


def test_success_resets_the_count_when_failures_were_not_consecutive(breaker):
    # Given two failures then a success
    fail_times(breaker, 2)
    breaker.succeeded(breaker.before_call("node-b"))

    # When two more failures happen
    fail_times(breaker, 2)

    # Then the breaker is still closed (the count restarted)
    assert breaker.state("node-b") == "closed"


def test_only_one_probe_is_allowed_when_the_cool_down_has_passed(breaker, clock):
    # Given an open breaker whose cool-down has passed
    fail_times(breaker, 3)
    clock.now += 31

    # When two containers ask at the same moment
    first = breaker.before_call("node-b")

    # Then the first is the probe and the second still fails fast
    assert first.probe
    with pytest.raises(WingsUnavailableError):
        breaker.before_call("node-b")


def test_probe_success_closes_the_breaker_when_the_node_is_back(breaker, clock):
    fail_times(breaker, 3)
    clock.now += 31

    breaker.succeeded(breaker.before_call("node-b"))

    assert breaker.state("node-b") == "closed"
    assert not breaker.before_call("node-b").probe


def test_probe_failure_reopens_for_another_cool_down_when_the_node_is_still_down(breaker, clock):
    # Given a half-open breaker whose probe fails
    fail_times(breaker, 3)
    clock.now += 31
    breaker.failed(breaker.before_call("node-b"))

    # When another call comes soon after
    clock.now += 5

    # Then it fails fast: the breaker re-opened at the probe's failure
    with pytest.raises(WingsUnavailableError):
        breaker.before_call("node-b")
    clock.now += 30
    assert breaker.before_call("node-b").probe


def test_lapsed_probe_lease_lets_another_container_probe_when_the_prober_died(breaker, clock):
    fail_times(breaker, 3)
    clock.now += 31
    breaker.before_call("node-b")  # a probe that never reports

    clock.now += 11

    assert breaker.before_call("node-b").probe


def test_breakers_are_per_node_when_one_node_fails(breaker):
    fail_times(breaker, 3, node="node-x")

    assert breaker.state("node-x") == "open"
    assert breaker.state("node-b") == "closed"


def test_client_fails_fast_without_a_request_when_the_breaker_is_open(breaker, daemon):
    # Given a node whose breaker opened after repeated failures of a down node
    down = agent(f"http://127.0.0.1:{closed_port()}", breaker)
    for _ in range(3):
        with pytest.raises(WingsUnavailableError):
            down.system()

    # When a call is made (now to an address that would answer)
    daemon.replies.append(Reply(200, {"version": "1.11.11"}))
    with pytest.raises(WingsUnavailableError) as caught:
        agent(daemon.url, breaker).system()

    # Then it is refused by the open breaker and nothing reached the node
    assert caught.value.details["reason"] == "circuit_open"
    assert daemon.seen == []


def test_client_does_not_count_not_found_as_a_failure_when_the_node_answers(breaker, daemon):
    # Given a node answering 404 three times (it is up, the server is unknown)
    daemon.default = Reply(404, {"error": "The requested resource does not exist on this instance."})
    client = agent(daemon.url, breaker)
    for _ in range(3):
        with pytest.raises(WingsNotFoundError):
            client.get_server("d3aac109-e5a0-4331-b03e-3454f7e136dc")

    # Then the breaker stays closed
    assert breaker.state("node-b") == "closed"


def test_client_counts_5xx_as_failures_when_the_node_errors(breaker, daemon):
    daemon.default = Reply(500, b"")
    client = agent(daemon.url, breaker)
    for _ in range(3):
        with pytest.raises(WingsUnavailableError):
            client.list_servers()

    assert breaker.state("node-b") == "open"
