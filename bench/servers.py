"""Game servers (issue 5): provision-to-running on the Wings simulator, and DynamoDB requests
per ``GET server`` and per list page. One child process (``bench.servers_probe``) does the
measuring on moto with the real workflow; see its docstring."""

from __future__ import annotations

import statistics

from bench.registry import FAIL, PASS, BenchContext, Row, run_probe, section

PROVISION_BUDGET_S = 3.0
GET_BUDGET = 2
PROBE_TIMEOUT_S = 600


def _probe(ctx: BenchContext) -> dict[str, object]:
    runs = max(3, min(ctx.runs, 7))
    return run_probe(
        ctx.root, ctx.python, "bench.servers_probe", "provision_seconds", str(runs), timeout=PROBE_TIMEOUT_S
    )


@section(
    "servers",
    title="Game servers: provision-to-running (simulator) and DynamoDB requests per read",
    columns=("budget", "measured", "target", "status"),
)
def servers(ctx: BenchContext) -> list[Row]:
    m = ctx.memo("servers", lambda: _probe(ctx))
    seconds = [float(s) for s in m["provision_seconds"]]  # type: ignore[attr-defined]
    median = statistics.median(seconds)
    svc_get, svc_list = list(m["service_get"]), list(m["service_list"])  # type: ignore[call-overload]
    api_get, api_list = list(m["api_get"]), list(m["api_list"])  # type: ignore[call-overload]
    return [
        {
            "budget": f"provision-to-running, median of {len(seconds)} (s)",
            "measured": f"{median:.2f} (min {min(seconds):.2f}, max {max(seconds):.2f})",
            "target": f"<= {PROVISION_BUDGET_S}",
            "status": PASS if median <= PROVISION_BUDGET_S else FAIL,
            "value": median,
            "samples": seconds,
        },
        {
            "budget": "DynamoDB requests per GET server, through the API (guard included)",
            "measured": f"{len(api_get)} ({', '.join(api_get)})",
            "target": f"<= {GET_BUDGET}",
            "status": PASS if len(api_get) <= GET_BUDGET else FAIL,
            "value": len(api_get),
        },
        {
            "budget": "Queries per list page, through the API (guard's BatchGetItem aside)",
            "measured": f"{api_list.count('Query')} ({', '.join(api_list)})",
            "target": "1 Query",
            "status": PASS if api_list.count("Query") == 1 and api_list.count("Scan") == 0 else FAIL,
            "value": api_list.count("Query"),
        },
        {
            "budget": "information: the service alone, GET server / list page",
            "measured": f"{', '.join(svc_get)} / {', '.join(svc_list)}",
            "target": "-",
            "status": "info",
            "value": [len(svc_get), len(svc_list)],
        },
    ]
