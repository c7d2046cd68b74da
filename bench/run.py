"""`make bench`: run every registered section, print its table, write build/bench.json.

Exit status: 0 when every section measured, whether or not its budgets passed (the
verdicts are in the output); 1 when a measurement failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench.registry import FAIL, SECTIONS, BenchContext, MeasurementError, Row, checks
from bench.report import format_table

# Modules that register sections, in the order their tables are printed. Add new ones here.
SECTION_MODULES = (
    "bench.imports",
    "bench.servers",
    "bench.backups",
    "bench.web_sizes",
    "bench.coldstart",
    "bench.metrics",
    "bench.cost",
)

ROOT = Path(__file__).resolve().parent.parent


def _git_commit(root: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def _load_sections() -> None:
    for module in SECTION_MODULES:
        importlib.import_module(module)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per measurement (default 7)")
    parser.add_argument("--top", type=int, default=12, help="rows in the slowest-imports tables (default 12)")
    parser.add_argument("--only", action="append", metavar="SECTION", help="run only this section (repeatable)")
    parser.add_argument("--json", type=Path, default=ROOT / "build" / "bench.json", help="where to write the numbers")
    parser.add_argument("--list", action="store_true", help="list the sections and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    _load_sections()
    if args.list:
        for name, sec in SECTIONS.items():
            print(f"{name:20} {sec.title}")
        return 0
    unknown = sorted(set(args.only or ()) - set(SECTIONS))
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; see --list", file=sys.stderr)
        return 2
    if args.runs < 1:
        print("--runs must be at least 1", file=sys.stderr)
        return 2
    selected = [sec for name, sec in SECTIONS.items() if not args.only or name in args.only]

    load_before = os.getloadavg()
    report: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(ROOT),
        "python": platform.python_version(),
        "executable": sys.executable,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "loadavg_before": load_before},
        "runs": args.runs,
        "sections": {},
        "checks": [],
        "errors": [],
    }
    print(f"mamba bench · python {report['python']} · {args.runs} fresh interpreters per target")
    cpus = os.cpu_count() or 1
    if load_before[0] > 0.5 * cpus:
        print(f"warning: load average {load_before[0]:.1f} on {cpus} CPUs; absolute times will be noisy")

    with tempfile.TemporaryDirectory(prefix="mamba-bench-") as scratch:
        ctx = BenchContext(root=ROOT, python=sys.executable, workdir=Path(scratch), runs=args.runs, top=args.top)
        for sec in selected:
            started = time.perf_counter()
            try:
                rows: list[Row] = sec.func(ctx)
            except Exception as exc:  # noqa: BLE001 - report every section, then fail the run
                print(f"\n## {sec.title}\nMEASUREMENT FAILED: {exc}", flush=True)
                if not isinstance(exc, MeasurementError):
                    traceback.print_exc()
                    sys.stderr.flush()
                report["errors"].append({"section": sec.name, "type": type(exc).__name__, "message": str(exc)})
                continue
            seconds = round(time.perf_counter() - started, 2)
            report["sections"][sec.name] = {"title": sec.title, "rows": rows, "seconds": seconds}
            for row in checks(rows):
                first_key = sec.columns[0] if isinstance(sec.columns[0], str) else sec.columns[0][0]
                report["checks"].append({"section": sec.name, "check": row.get(first_key), "status": row["status"]})
            print(f"\n## {sec.title}\n{format_table(sec.columns, rows)}")

    report["machine"]["loadavg_after"] = os.getloadavg()
    failed = [c for c in report["checks"] if c["status"] == FAIL]
    report["ok"] = not report["errors"]
    report["budgets_met"] = not failed and not report["errors"]

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")

    print("\n## Summary")
    for c in report["checks"]:
        print(f"{c['status']}  {c['check']}")
    for e in report["errors"]:
        print(f"ERROR  {e['section']}: {e['type']}")
    where = os.path.relpath(args.json, Path.cwd())
    if where.startswith(".."):
        where = str(args.json)
    verdict = "all budgets met" if report["budgets_met"] else f"{len(failed)} budget(s) missed"
    if report["errors"]:
        verdict = f"{len(report['errors'])} measurement(s) failed"
    print(f"{verdict}; numbers in {where}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
