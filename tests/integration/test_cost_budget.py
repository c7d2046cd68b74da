"""The cost budget of issue 13 (docs/cost.md), measured: one run of ``bench.cost_probe`` (moto,
the real workflows, the Wings simulator) counts every operation's calls, and the month of 100
active servers on 5 nodes priced from those same counts must stay within $2, an idle tenant at
$0. It is the same run ``make bench`` prints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from bench import cost, cost_model

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wings-sim-cost")]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    return cost.run_probe(ROOT, sys.executable)


def test_every_operation_was_counted_in_the_run(probe: dict[str, Any]) -> None:
    operations = {name: cost_model.Counts.from_dict(c) for name, c in probe["operations"].items()}

    assert set(operations) == set(cost_model.OPERATIONS)
    for name, counts in operations.items():
        assert counts.api_requests >= 1 and counts.lambda_invocations >= 1, name
        assert counts.dynamodb_rru > 0, name
    # the workflows' transitions come from their executions' histories: a backup waits in one state
    assert operations["backup"].state_transitions == 2
    assert operations["backup"].s3_tier1 >= 3  # create, one part, complete (multipart)
    assert operations["create"].state_transitions >= 5
    assert operations["start"].state_transitions == operations["stop"].state_transitions == 0
    assert "server_list" in probe["page_views"]
    assert {"node_health", cost_model.METRIC_MINUTE} <= set(probe["schedules"])


def test_a_month_of_100_servers_on_5_nodes_is_within_the_budget(probe: dict[str, Any]) -> None:
    lines = cost_model.month_of(probe)
    breakdown = "\n".join(f"{line.name}: ${line.cost:.4f} ({line.note})" for line in lines)

    assert cost_model.within_budget(lines), (
        f"${cost_model.per_100_servers(lines):.2f} per 100 servers a month, over "
        f"${cost_model.BUDGET_PER_100_SERVERS:.2f}:\n{breakdown}"
    )


def test_an_idle_tenant_costs_nothing(probe: dict[str, Any]) -> None:
    idle = cost_model.idle_tenant_cost(cost.idle_deltas(probe), int(probe["idle_tenants"]))

    assert round(idle, 2) == 0.0, f"an idle tenant costs ${idle:.6f} a month"
