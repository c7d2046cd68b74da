"""Cold-import cost of ``app`` against a bare Chalice + boto3 app (ARCHITECTURE.md §9).

Every function of a Chalice app imports the whole ``app.py`` graph, so this import is paid
by every cold start. Both apps are imported in fresh interpreters, with the environment a
deployed function has (region, dummy credentials, Lambda runtime variables) but local-mode
secrets, after their bytecode has been written once: Chalice ships no ``.pyc`` and the
build precompiles the layer, so a warm ``__pycache__`` is what Lambda sees.

The time is ``time.perf_counter()`` around ``import app`` only; interpreter start-up is
the same for both apps and is left out. Runs alternate between the two apps so that a
machine getting busier or quieter affects both alike.
"""

from __future__ import annotations

import compileall
import json
import os
import secrets
import statistics
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench import importtime
from bench.registry import FAIL, PASS, BenchContext, MeasurementError, Row, section
from bench.report import ratio, summarize

RATIO_BUDGET = 1.4
MUST_BE_ABSENT = ("stripe", "aws_xray_sdk")
# Not budgets: heavy modules worth knowing about when the ratio moves.
ALSO_WATCHED = ("boto3", "botocore", "s3transfer", "pynamodb", "requests", "urllib3", "pydantic", "jwt", "argon2")
IMPORTTIME_RUNS = 3
CHILD_TIMEOUT_S = 120

BARE_APP = '''\
"""A bare Chalice app that imports boto3 at module level, as a typical app does."""

import boto3
from chalice import Chalice

app = Chalice(app_name="bare")


@app.route("/")
def index():
    return {"boto3": boto3.__version__}
'''

# Runs in the fresh interpreter: time the import, then describe what it loaded.
_CHILD = """\
import json, os, sys, time
_t0 = time.perf_counter()
import app
_elapsed = time.perf_counter() - _t0
_no_pyc = 0
for _m in list(sys.modules.values()):
    _spec = getattr(_m, "__spec__", None)
    _cached = getattr(_spec, "cached", None)
    if _cached and str(getattr(_spec, "origin", "")).endswith(".py") and not os.path.exists(_cached):
        _no_pyc += 1
with open(sys.argv[1], "w") as _out:
    json.dump({"elapsed_ms": _elapsed * 1000.0, "modules": sorted(sys.modules), "no_pyc": _no_pyc}, _out)
"""

# Variables that would change what an interpreter does at start-up or import.
_DROPPED = ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONPYCACHEPREFIX", "PYTHONSTARTUP")


@dataclass(frozen=True)
class Target:
    label: str
    cwd: Path
    pythonpath: tuple[Path, ...]


@dataclass(frozen=True)
class Sample:
    elapsed_ms: float
    modules: frozenset[str]
    no_pyc: int


@dataclass(frozen=True)
class ImportMeasurement:
    app: list[Sample]
    bare: list[Sample]
    app_importtime: list[str]  # raw -X importtime output, one per run


def lambda_env(base: Mapping[str, str], home: Path, pythonpath: tuple[Path, ...]) -> dict[str, str]:
    """A deployed function's environment with local-mode secrets; nothing else inherited.

    Only ``PATH`` and the locale come from ``base``; no user configuration leaks in.
    """
    env = {k: base[k] for k in ("PATH", "LANG", "LC_ALL") if k in base}
    env.update(
        {
            "HOME": str(home),
            "MAMBA_ENV": "test",
            "MAMBA_STAGE": "dev",
            # Hex cannot spell a known default such as "changeme"; 64 characters, 32 bytes of entropy.
            "JWT_SECRET": secrets.token_hex(32),
            "MAMBA_LOCAL_SECRETS_FILE": str(home / "no-secrets.env"),
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",  # a dummy; nothing is sent anywhere
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "AWS_LAMBDA_FUNCTION_NAME": "bench-api",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        }
    )
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    for name in _DROPPED:
        env.pop(name, None)
    return env


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run_child(ctx: BenchContext, target: Target, *, profile: bool = False) -> tuple[Sample, str]:
    out = ctx.workdir / f"sample-{target.label}.json"
    out.unlink(missing_ok=True)
    argv = [ctx.python, *(["-X", "importtime"] if profile else []), "-c", _CHILD, str(out)]
    env = lambda_env(os.environ, ctx.workdir, target.pythonpath)
    try:
        done = subprocess.run(
            argv, cwd=target.cwd, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise MeasurementError(f"import {target.label} took longer than {CHILD_TIMEOUT_S}s") from exc
    except OSError as exc:
        raise MeasurementError(f"cannot start {ctx.python} in {target.cwd}: {exc}") from exc
    if done.returncode != 0 or not out.exists():
        raise MeasurementError(f"import {target.label} failed (exit {done.returncode}):\n{_tail(done.stderr)}")
    data = json.loads(out.read_text())
    modules = frozenset(data["modules"])
    return Sample(elapsed_ms=float(data["elapsed_ms"]), modules=modules, no_pyc=int(data["no_pyc"])), done.stderr


def write_bare_app(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "app.py"
    path.write_text(BARE_APP)
    return path


def precompile(ctx: BenchContext) -> None:
    """Write bytecode for the project the way the build does for the layer."""
    if not (ctx.root / "app.py").is_file():
        raise MeasurementError(f"no app.py in {ctx.root}")
    ok = compileall.compile_file(str(ctx.root / "app.py"), quiet=2)
    for folder in ("functions", "layers/core"):
        ok = compileall.compile_dir(str(ctx.root / folder), quiet=2, workers=0) and ok
    if not ok:
        raise MeasurementError("compileall failed on the project")


def measure(ctx: BenchContext) -> ImportMeasurement:
    bare_dir = ctx.workdir / "bare"
    write_bare_app(bare_dir)
    app = Target("app", ctx.root, (ctx.root / "layers" / "core", ctx.root))
    bare = Target("bare", bare_dir, ())

    precompile(ctx)
    compileall.compile_dir(str(bare_dir), quiet=2)
    # Warm-up: the first import writes any missing bytecode (site-packages included); discarded.
    for target in (app, bare):
        _run_child(ctx, target)

    app_samples: list[Sample] = []
    bare_samples: list[Sample] = []
    for i in range(ctx.runs):
        order = ((app, app_samples), (bare, bare_samples))
        for target, samples in order if i % 2 == 0 else reversed(order):
            samples.append(_run_child(ctx, target)[0])

    profiles = [_run_child(ctx, app, profile=True)[1] for _ in range(IMPORTTIME_RUNS)]
    return ImportMeasurement(app=app_samples, bare=bare_samples, app_importtime=profiles)


def _measured(ctx: BenchContext) -> ImportMeasurement:
    result: ImportMeasurement = ctx.memo("imports", lambda: measure(ctx))
    return result


def _timing_row(what: str, samples: list[Sample]) -> Row:
    times = [s.elapsed_ms for s in samples]
    return {
        "what": what,
        **summarize(times),
        "runs": len(times),
        "modules": int(statistics.median(len(s.modules) for s in samples)),
        "no_pyc": max(s.no_pyc for s in samples),
        "samples_ms": [round(t, 2) for t in times],
    }


@section(
    "imports",
    title="Cold `import app`, fresh interpreters, bytecode precompiled (ms)",
    columns=(
        "what",
        "median_ms",
        "min_ms",
        "max_ms",
        "runs",
        ("modules", "modules loaded"),
        ("no_pyc", "without .pyc"),
    ),
)
def imports(ctx: BenchContext) -> list[Row]:
    m = _measured(ctx)
    return [_timing_row("app.py (mamba)", m.app), _timing_row("bare Chalice + boto3", m.bare)]


@section(
    "budgets",
    title="Budgets (ARCHITECTURE.md §9)",
    columns=("budget", "measured", "target", "status"),
)
def budgets(ctx: BenchContext) -> list[Row]:
    m = _measured(ctx)
    app_ms = statistics.median(s.elapsed_ms for s in m.app)
    bare_ms = statistics.median(s.elapsed_ms for s in m.bare)
    value = ratio(app_ms, bare_ms)
    rows: list[Row] = [
        {
            "budget": "import ratio app / bare (medians)",
            "measured": f"{value:.2f}",
            "target": f"<= {RATIO_BUDGET}",
            "status": PASS if value <= RATIO_BUDGET else FAIL,
            "value": value,
            "app_median_ms": round(app_ms, 1),
            "bare_median_ms": round(bare_ms, 1),
        }
    ]
    for module in MUST_BE_ABSENT:
        loaded_in = sum(module in s.modules for s in m.app)
        rows.append(
            {
                "budget": f"{module} not in sys.modules after import app",
                "measured": "absent" if loaded_in == 0 else f"loaded ({loaded_in}/{len(m.app)} runs)",
                "target": "absent",
                "status": PASS if loaded_in == 0 else FAIL,
                "value": loaded_in == 0,
            }
        )
    return rows


@section(
    "modules",
    title="Heavy modules in sys.modules after the import (information, not budgets)",
    columns=("module", ("app", "after import app"), ("bare", "after import bare")),
)
def modules(ctx: BenchContext) -> list[Row]:
    m = _measured(ctx)

    def state(samples: list[Sample], module: str) -> str:
        return "loaded" if module in samples[0].modules else "absent"

    return [
        {"module": name, "app": state(m.app, name), "bare": state(m.bare, name)}
        for name in (*MUST_BE_ABSENT, *ALSO_WATCHED)
    ]


def _importtime_runs(ctx: BenchContext) -> list[list[importtime.ImportLine]]:
    parsed = [importtime.parse(text) for text in _measured(ctx).app_importtime]
    for lines in parsed:
        importtime.subtree(lines, "app")  # raises if the profile is unusable
    return parsed


@section(
    "import_tree",
    title=f"Slowest direct imports of app.py (-X importtime, cumulative, median of {IMPORTTIME_RUNS})",
    columns=("module", "cumulative_ms", ("share", "% of app")),
)
def import_tree(ctx: BenchContext) -> list[Row]:
    runs = _importtime_runs(ctx)
    total_ms = statistics.median(importtime.subtree(r, "app")[0].cumulative_us for r in runs) / 1000.0
    children = importtime.median_by_key(importtime.direct_imports(r, "app") for r in runs)
    own = statistics.median(importtime.subtree(r, "app")[0].self_us for r in runs)
    children["app (module body, incl. settings())"] = own
    ranked = sorted(children.items(), key=lambda kv: kv[1], reverse=True)[: ctx.top]
    rows: list[Row] = [
        {"module": name, "cumulative_ms": round(us / 1000.0, 1), "share": f"{100 * us / 1000.0 / total_ms:.0f}%"}
        for name, us in ranked
    ]
    rows.append({"module": "total (import app under -X importtime)", "cumulative_ms": round(total_ms, 1), "share": ""})
    return rows


@section(
    "import_packages",
    title=f"Where app's import time goes, by top-level package (self time, median of {IMPORTTIME_RUNS})",
    columns=("package", "self_ms", "modules", ("share", "% of app")),
)
def import_packages(ctx: BenchContext) -> list[Row]:
    runs = _importtime_runs(ctx)
    stdlib = sys.stdlib_module_names
    per_run = [importtime.self_time_by_package(r, "app", stdlib) for r in runs]
    self_us = importtime.median_by_key({k: v[0] for k, v in run.items()} for run in per_run)
    counts = importtime.median_by_key({k: v[1] for k, v in run.items()} for run in per_run)
    total = sum(self_us.values())
    ranked = sorted(self_us.items(), key=lambda kv: kv[1], reverse=True)[: ctx.top]
    return [
        {
            "package": name,
            "self_ms": round(us / 1000.0, 1),
            "modules": int(counts[name]),
            "share": f"{100 * us / total:.0f}%",
        }
        for name, us in ranked
    ]


@section(
    "import_modules",
    title=f"Heaviest single modules under app (-X importtime, self time, median of {IMPORTTIME_RUNS})",
    columns=("module", "self_ms", ("share", "% of app")),
)
def import_modules(ctx: BenchContext) -> list[Row]:
    runs = _importtime_runs(ctx)

    def own_times(lines: list[importtime.ImportLine]) -> dict[str, int]:
        top, inner = importtime.subtree(lines, "app")
        return {line.name: line.self_us for line in [*inner, top]}

    self_us = importtime.median_by_key(own_times(r) for r in runs)
    total = statistics.median(importtime.subtree(r, "app")[0].cumulative_us for r in runs)
    ranked = sorted(self_us.items(), key=lambda kv: kv[1], reverse=True)[: ctx.top]
    return [
        {"module": name, "self_ms": round(us / 1000.0, 1), "share": f"{100 * us / total:.0f}%"} for name, us in ranked
    ]
