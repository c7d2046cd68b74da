"""The control plane's cost (issue 13 item 6; docs/cost.md): per operation, the calls counted
in one run of ``bench.cost_probe`` (moto, the real workflows, the Wings simulator), then the
month of 100 active servers on 5 nodes priced from those same counts (``bench.cost_model``),
against the budget of $2 per 100 servers and $0 for an idle tenant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import cost_model as model
from bench import registry
from bench.registry import FAIL, PASS, BenchContext, Row, section

PROBE_TIMEOUT_S = 900


def run_probe(root: Path, python: str) -> dict[str, Any]:
    """One ``bench.cost_probe`` run in a fresh interpreter (moto, the simulator): its counts."""
    probe: dict[str, Any] = registry.run_probe(root, python, "bench.cost_probe", "cost_probe", timeout=PROBE_TIMEOUT_S)[
        "cost_probe"
    ]
    return probe


def idle_deltas(probe: dict[str, Any]) -> dict[str, tuple[model.Counts, float]]:
    """What the probe's idle tenants added to one run of each schedule."""
    deltas: dict[str, tuple[model.Counts, float]] = {}
    for name, before in probe["schedules"].items():
        after = probe["schedules_with_idle_tenants"][name]
        b, a = model.Counts.from_dict(before["counts"]), model.Counts.from_dict(after["counts"])
        delta = model.Counts(**{k: a.billable()[k] - b.billable()[k] for k in b.billable()})
        deltas[name] = (delta, float(before["every_seconds"]))
    return deltas


def _fmt(counts: model.Counts) -> dict[str, Any]:
    return {
        "lambda": f"{counts.lambda_invocations:g} / {counts.lambda_gb_seconds:.3f} GB-s",
        "dynamodb": f"{counts.dynamodb_rru:g} RRU / {counts.dynamodb_wru:g} WRU",
        "transitions": f"{counts.state_transitions:g}",
        "s3": f"{counts.s3_tier1:g} / {counts.s3_tier2:g}",
        "api": f"{counts.api_requests:g}",
    }


def rows_of(probe: dict[str, Any], fleet: model.Fleet | None = None) -> list[Row]:
    fleet = fleet or model.Fleet()
    lines = model.month_of(probe, fleet)
    rows: list[Row] = []
    for line in lines:
        rows.append(
            {
                "item": line.name,
                **_fmt(line.per_run),
                "per_month": f"{line.times:,.0f}",
                "usd_month": f"{line.cost:.4f}",
                "status": "info",
                "note": line.note,
                "counts": line.per_run.billable(),
            }
        )
    per_100 = model.per_100_servers(lines, fleet)
    idle = model.idle_tenant_cost(idle_deltas(probe), int(probe["idle_tenants"]), fleet)
    rows.append(
        {
            "item": f"total: {fleet.servers} active servers on {fleet.nodes} nodes, a month "
            f"(us-east-1 prices of {model.PRICES_AS_OF})",
            "usd_month": f"{model.total(lines):.2f}",
            "status": PASS if per_100 <= model.BUDGET_PER_100_SERVERS else FAIL,
            "target": f"<= {model.BUDGET_PER_100_SERVERS:.2f} per 100 servers",
            "value": per_100,
        }
    )
    rows.append(
        {
            "item": f"an idle tenant, a month (what {probe['idle_tenants']} more added to every schedule)",
            "usd_month": f"{idle:.6f}",
            "status": PASS if round(idle, 2) <= model.IDLE_TENANT_BUDGET else FAIL,
            "target": "$0.00 (to the cent)",
            "value": idle,
        }
    )
    return rows


@section(
    "cost",
    title="Cost: counted calls per operation (one run) and the month of 100 servers on 5 nodes",
    columns=(
        "item",
        ("lambda", "Lambda inv / GB-s"),
        ("dynamodb", "DynamoDB"),
        ("transitions", "SFN transitions"),
        ("s3", "S3 put-list / get-head"),
        ("api", "API GW"),
        ("per_month", "times a month"),
        ("usd_month", "USD a month"),
        "status",
    ),
)
def cost(ctx: BenchContext) -> list[Row]:
    probe = ctx.memo("cost_probe", lambda: run_probe(ctx.root, ctx.python))
    return rows_of(probe)
