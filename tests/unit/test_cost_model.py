"""bench.cost_model: pricing counted calls and the reference month (docs/cost.md), on a probe
result written by hand. The measured run is tests/integration/test_cost_budget.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bench import cost_model as model
from bench.cost_model import Counts, Fleet


def counts(**units: float) -> dict[str, Any]:
    return {**Counts(**units).billable(), "calls": {}}  # type: ignore[arg-type]


def probe() -> dict[str, Any]:
    """A probe run shaped like bench.cost_probe's, with round numbers."""
    return {
        "servers_on_node": 4,
        "idle_tenants": 200,
        "operations": {
            "create": counts(
                lambda_invocations=10,
                lambda_gb_seconds=1.0,
                api_requests=4,
                dynamodb_rru=40,
                dynamodb_wru=40,
                state_transitions=6,
            ),
            "start": counts(
                lambda_invocations=1, lambda_gb_seconds=0.05, api_requests=1, dynamodb_rru=7, dynamodb_wru=1
            ),
            "stop": counts(
                lambda_invocations=1, lambda_gb_seconds=0.05, api_requests=1, dynamodb_rru=7, dynamodb_wru=1
            ),
            "backup": counts(
                lambda_invocations=7,
                lambda_gb_seconds=0.7,
                api_requests=3,
                dynamodb_rru=30,
                dynamodb_wru=30,
                state_transitions=4,
                s3_tier1=3,
                s3_tier2=1,
            ),
            "restore": counts(
                lambda_invocations=5,
                lambda_gb_seconds=0.4,
                api_requests=2,
                dynamodb_rru=20,
                dynamodb_wru=20,
                state_transitions=3,
                s3_tier2=1,
            ),
            "delete": counts(
                lambda_invocations=7,
                lambda_gb_seconds=0.5,
                api_requests=1,
                dynamodb_rru=20,
                dynamodb_wru=30,
                state_transitions=6,
            ),
        },
        "page_views": {
            "server_list": counts(lambda_invocations=1, lambda_gb_seconds=0.03, api_requests=1, dynamodb_rru=3.5),
            "metrics_chart": counts(lambda_invocations=1, lambda_gb_seconds=0.05, api_requests=1, dynamodb_rru=6.5),
        },
        "schedules": {
            "node_health": {
                "counts": counts(lambda_invocations=1, lambda_gb_seconds=0.02, dynamodb_rru=3.5, dynamodb_wru=1),
                "every_seconds": 60,
            },
            "reconcile_servers": {
                "counts": counts(lambda_invocations=1, lambda_gb_seconds=0.1, dynamodb_rru=1, dynamodb_wru=1),
                "every_seconds": 60,
            },
            "metrics_rollup": {
                "counts": counts(lambda_invocations=1, lambda_gb_seconds=0.2, dynamodb_rru=4, dynamodb_wru=1),
                "every_seconds": 3600,
            },
        },
        "schedules_with_idle_tenants": {},
        "metric_minute_one_more_server": counts(
            lambda_invocations=1, lambda_gb_seconds=0.1, dynamodb_rru=1, dynamodb_wru=1
        ),
    }


@pytest.mark.parametrize(
    ("units", "usd"),
    [
        ({"lambda_invocations": 1_000_000}, 0.20),
        ({"lambda_gb_seconds": 1_000_000}, 16.6667),
        ({"api_requests": 1_000_000}, 3.50),
        ({"dynamodb_wru": 1_000_000}, 0.625),
        ({"dynamodb_rru": 1_000_000}, 0.125),
        ({"state_transitions": 1_000}, 0.025),
        ({"s3_tier1": 1_000}, 0.005),
        ({"s3_tier2": 1_000}, 0.0004),
    ],
)
def test_each_unit_is_priced_at_its_list_price(units: dict[str, float], usd: float) -> None:
    assert Counts(**units).cost() == pytest.approx(usd)  # type: ignore[arg-type]


def test_the_month_counts_each_operation_as_often_as_the_fleet_does_it() -> None:
    lines = {line.name: line for line in model.month_of(probe())}

    assert lines["backup"].times == 100 * 30  # a daily backup of each of 100 servers
    assert lines["start"].times == lines["stop"].times == 3000
    assert lines["create"].times == lines["delete"].times == lines["restore"].times == 100
    assert lines["api_request"].times == 100_000
    assert lines["metric_minute_per_node"].times == 5 * 30 * 24 * 60
    assert lines["schedule:node_health"].times == 30 * 24 * 60
    assert lines["rollup:metrics_rollup"].times == 30 * 24
    assert lines["backup"].monthly.state_transitions == 4 * 3000


def test_an_api_request_costs_the_page_views_average_request() -> None:
    average = {line.name: line for line in model.month_of(probe())}["api_request"].per_run

    assert average.api_requests == 1
    assert average.dynamodb_rru == pytest.approx(5.0)  # (3.5 + 6.5) / 2
    assert average.lambda_gb_seconds == pytest.approx(0.04)


def test_the_metric_minute_grows_by_what_one_more_server_adds() -> None:
    # Given a node-minute of 1 RRU + 1 WRU with 4 servers, and 2 + 2 with a fifth
    measured = probe()
    measured["metric_minute_one_more_server"] = counts(lambda_invocations=1, lambda_gb_seconds=0.1, dynamodb_rru=2,
                                                       dynamodb_wru=2)  # fmt: skip

    minute = {line.name: line for line in model.month_of(measured)}["metric_minute_per_node"].per_run

    # Then 20 servers a node cost 1 + 16 x 1 of each; one invocation a minute reads all 5 nodes
    assert (minute.dynamodb_rru, minute.dynamodb_wru) == (17, 17)
    assert minute.lambda_invocations == pytest.approx(0.2)
    assert minute.lambda_gb_seconds == pytest.approx(0.1)


def test_the_reference_month_of_the_hand_written_probe_is_within_budget() -> None:
    lines = model.month_of(probe())

    assert model.within_budget(lines)
    assert model.per_100_servers(lines) == pytest.approx(model.total(lines))


def test_a_backup_that_polls_every_ten_seconds_breaks_the_budget() -> None:
    # Given the backup of issue 13's complaint: a 5-minute wait polled every 10 s, three
    # state transitions a poll, besides the request, the verification and the finish
    polling = probe()
    polling["operations"]["backup"]["state_transitions"] = 3 + 30 * 3
    polling["operations"]["backup"]["lambda_invocations"] = 3 + 30

    lines = model.month_of(polling)

    # Then the month is over budget, which the bench and its test report as a failure
    assert not model.within_budget(lines)
    assert {line.name: line for line in lines}["backup"].cost > model.BUDGET_PER_100_SERVERS


def test_a_fleet_twice_as_large_costs_the_same_per_100_servers_for_what_scales_with_servers() -> None:
    small = model.month_of(probe())
    large = model.month_of(probe(), Fleet(servers=200, nodes=10))

    assert model.per_100_servers(large, Fleet(servers=200, nodes=10)) == pytest.approx(
        model.per_100_servers(small), rel=0.05
    )


def test_an_idle_tenant_costs_nothing_when_no_schedule_reads_more_for_it() -> None:
    deltas = {"node_health": (Counts(lambda_gb_seconds=0.01), 60.0), "backup_usage": (Counts(), 21_600.0)}

    assert model.idle_tenant_cost(deltas, tenants=200) == 0.0


def test_an_idle_tenant_costs_what_a_schedule_reads_for_it_every_run() -> None:
    # Given a per-minute schedule that read 8 more read units for 200 idle tenants
    deltas = {"reconcile_servers": (Counts(dynamodb_rru=8), 60.0)}

    cost = model.idle_tenant_cost(deltas, tenants=200)

    assert cost == pytest.approx(8 / 200 * 43_200 * model.PRICES["dynamodb_rru"])
    assert cost > 0


def test_the_probe_shape_is_not_changed_by_pricing_it() -> None:
    measured = probe()
    before = copy.deepcopy(measured)

    model.month_of(measured)

    assert measured == before
