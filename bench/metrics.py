"""Metrics history (issue 13): ingestion per worker against moto, the write units of a node's
minute, the hour rollup, and the Query pages of the charts' ranges. One child process
(``bench.metrics_probe``) measures; see its docstring."""

from __future__ import annotations

from bench.registry import FAIL, PASS, BenchContext, Row, run_probe, section

INGESTION_BUDGET = 20_000  # samples per second per worker (docs/performance.md)
PAGE_BUDGET = 3
PROBE_TIMEOUT_S = 300


def _probe(ctx: BenchContext) -> dict[str, object]:
    return run_probe(ctx.root, ctx.python, "bench.metrics_probe", "samples_per_second", timeout=PROBE_TIMEOUT_S)


@section(
    "metrics",
    title="Metrics history: ingestion, write units, rollups and Query pages",
    columns=("budget", "measured", "target", "status"),
)
def metrics(ctx: BenchContext) -> list[Row]:
    m = ctx.memo("metrics", lambda: _probe(ctx))
    rate = float(m["samples_per_second"])  # type: ignore[arg-type]
    pages: dict[str, int] = dict(m["pages"])  # type: ignore[call-overload]
    rows: list[Row] = [
        {
            "budget": f"metric ingestion per worker ({m['servers_per_node']} servers a node, one PutItem a minute)",
            "measured": f"{rate:,.0f} samples/s of CPU ({float(m['put_seconds']) * 1000:.1f} ms a node-minute; "  # type: ignore[arg-type]
            f"{float(m['samples_per_wall_second']):,.0f}/s by the wall clock)",  # type: ignore[arg-type]
            "target": f">= {INGESTION_BUDGET:,}",
            "status": PASS if rate >= INGESTION_BUDGET else FAIL,
            "value": rate,
        },
        {
            "budget": "information: a node-minute's stored size and write units",
            "measured": f"{m['item_bytes']} bytes, {m['write_units_per_node_minute']} WRU",
            "target": "-",
            "status": "info",
            "value": m["write_units_per_node_minute"],
        },
        {
            "budget": "information: one hour's rollup of the node (1 Query, 1 BatchWriteItem per 25 servers)",
            "measured": f"{float(m['rollup_seconds_per_hour']) * 1000:.0f} ms an hour ({m['rollup_hours']} hours)",  # type: ignore[arg-type]
            "target": "-",
            "status": "info",
            "value": m["rollup_seconds_per_hour"],
        },
    ]
    for label, count in pages.items():
        rows.append(
            {
                "budget": f"Query pages: {label}",
                "measured": str(count),
                "target": f"<= {PAGE_BUDGET}",
                "status": PASS if count <= PAGE_BUDGET else FAIL,
                "value": count,
            }
        )
    return rows
