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
                lambda_invocations=5,
                lambda_gb_seconds=0.7,
                api_requests=3,
                dynamodb_rru=30,
                dynamodb_wru=30,
                state_transitions=2,
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
                "counts": counts(lambda_invocations=1, lambda_gb_seconds=0.1, dynamodb_rru=3, dynamodb_wru=5),
                "every_seconds": 60,
            },
            "backup_usage": {
                "counts": counts(lambda_invocations=1, dynamodb_rru=2, s3_tier1=1),
                "every_seconds": 21_600,
            },
        },
        "schedules_with_idle_tenants": {},
        # a node of 4 servers: 1.5 RRU + 4.5 WRU a minute, of which the fleet counters 1 RRU + 4 WRU
        "metric_minute": {
            "one_node": counts(lambda_invocations=1, lambda_gb_seconds=0.1, dynamodb_rru=1.5, dynamodb_wru=4.5),
            "per_run": counts(dynamodb_rru=1, dynamodb_wru=4),
        },
        "rollup_hour": counts(dynamodb_rru=2, dynamodb_wru=5),
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
    assert lines["schedule:backup_usage"].times == 30 * 4
    assert lines["backup"].monthly.state_transitions == 2 * 3000


def test_an_api_request_costs_the_page_views_average_request() -> None:
    average = {line.name: line for line in model.month_of(probe())}["api_request"].per_run

    assert average.api_requests == 1
    assert average.dynamodb_rru == pytest.approx(5.0)  # (3.5 + 6.5) / 2
    assert average.lambda_gb_seconds == pytest.approx(0.04)


def test_the_metric_minute_splits_into_each_nodes_part_and_the_runs_part() -> None:
    lines = {line.name: line for line in model.month_of(probe())}
    node, run = lines["metric_minute_per_node"], lines["metric_minute_per_run"]

    # Each node: what the run did beyond the fleet counters (0.5 RRU + 0.5 WRU for 4 servers),
    # for the 20 servers a node of the fleet holds; once per node and minute
    assert (node.per_run.dynamodb_rru, node.per_run.dynamodb_wru) == (2.5, 2.5)
    assert node.per_run.lambda_invocations == 0 and node.times == 5 * 43_200
    # The run: the counters, the one invocation and its time; once a minute
    assert (run.per_run.dynamodb_rru, run.per_run.dynamodb_wru) == (1, 4)
    assert (run.per_run.lambda_invocations, run.per_run.lambda_gb_seconds) == (1, 0.1)
    assert run.times == 43_200
    # and the hour's rollup, per node and hour, for 20 servers
    rollup = lines["rollup_hour_per_node"]
    assert (rollup.per_run.dynamodb_rru, rollup.per_run.dynamodb_wru, rollup.times) == (10, 25, 5 * 720)


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


def test_a_fleet_twice_as_large_costs_no_more_per_100_servers() -> None:
    # What is paid once a minute whatever the fleet (the reconcile run, the fleet counters) is
    # shared by more servers; everything else grows with the servers or the nodes
    small = model.month_of(probe())
    large = model.month_of(probe(), Fleet(servers=200, nodes=10))

    assert model.per_100_servers(large, Fleet(servers=200, nodes=10)) < model.per_100_servers(small)
    assert model.total(large) == pytest.approx(2 * model.total(small), rel=0.15)


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


def test_the_fleet_counters_recount_is_paid_once_every_few_minutes_for_the_fleets_servers() -> None:
    # Given a recount that read 8 RRU and wrote 3 WRU over the probe's 4 servers, every 5 minutes
    measured = probe()
    measured["metric_minute"]["recount"] = counts(lambda_gb_seconds=0.05, dynamodb_rru=8, dynamodb_wru=3)
    measured["metric_minute"]["recount_every_minutes"] = 5

    run = {line.name: line for line in model.month_of(measured)}["metric_minute_per_run"].per_run

    # Then each minute's run carries a fifth of it, its reads scaled to 100 servers (x25), its
    # writes (the counter items) as they were
    assert run.dynamodb_rru == pytest.approx(1 + 8 * 25 / 5)
    assert run.dynamodb_wru == pytest.approx(4 + 3 / 5)
    assert run.lambda_gb_seconds == pytest.approx(0.1 + 0.05 * 25 / 5)
