"""The load section's verdict (bench/load.py) from locust's CSV files: no timings asserted."""

from __future__ import annotations

import json
from pathlib import Path

from bench import load
from bench.registry import FAIL, PASS

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def write_run(folder: Path, get_failures: int, operations: list[dict[str, object]]) -> Path:
    prefix = folder / "load"
    rows = [
        f"GET,GET /servers,100,{get_failures},120,130,5,900,300,10.0,0.0,120,150,170,180,250,400,600,700,900,900,900",
        "POST,POST /servers,2,0,800,800,700,900,500,0.2,0.0,800,800,900,900,900,900,900,900,900,900,900",
        f",Aggregated,102,{get_failures},125,140,5,900,300,10.2,0.0,125,150,170,180,250,410,610,710,900,900,900",
    ]
    (folder / "load_stats.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    failures = "Method,Name,Error,Occurrences\n"
    if get_failures:
        failures += f"GET,GET /servers,server error 503,{get_failures}\n"
    (folder / "load_failures.csv").write_text(failures)
    (folder / "operations.json").write_text(json.dumps(operations))
    return prefix


def test_the_budget_passes_when_no_request_or_workflow_failed(tmp_path: Path) -> None:
    ops = [
        {"what": "create", "status": "succeeded", "seconds": 3.0},
        {"what": "delete", "status": "succeeded", "seconds": 2.0},
    ]
    figures = load.read_figures(write_run(tmp_path, 0, ops))
    figures.update(users=200, seconds=60)

    rows = load.rows(figures)

    verdict = rows[-1]
    assert verdict["status"] == PASS and verdict["failures"] == 0 and verdict["requests"] == 102
    assert (verdict["p50 ms"], verdict["p95 ms"], verdict["p99 ms"]) == ("125", "410", "710")
    assert [r["step"] for r in rows[:2]] == [
        "workflow: create server, to its end",
        "workflow: delete server, to its end",
    ]


def test_the_budget_fails_when_a_request_failed(tmp_path: Path) -> None:
    figures = load.read_figures(write_run(tmp_path, 3, []))
    figures.update(users=200, seconds=60)

    verdict = load.rows(figures)[-1]

    assert verdict["status"] == FAIL and verdict["failures"] == 3
    assert verdict["failure_kinds"] == [{"step": "GET GET /servers", "error": "server error 503", "count": 3}]


def test_the_budget_fails_when_a_workflow_did_not_succeed(tmp_path: Path) -> None:
    ops = [{"what": "create", "status": "failed", "seconds": 9.0}]
    figures = load.read_figures(write_run(tmp_path, 0, ops))
    figures.update(users=200, seconds=60)

    verdict = load.rows(figures)[-1]

    assert verdict["status"] == FAIL and verdict["failures"] == 1
    assert {"step": "workflow create", "error": "ended failed", "count": 1} in verdict["failure_kinds"]
