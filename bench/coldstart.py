"""The cold first request and the warm request against a bare Chalice + boto3 app (issue 18, items 1 and 3).

What a cold Lambda pays is not ``import app`` alone: whatever the import defers, the first request
pays. So each measured interpreter does what a fresh API function does for its first caller:

1. ``import app`` (the panel's ``app.py``, or the bare app below);
2. calls Chalice's Lambda entry point (``app.app(event, context)``, the handler string Chalice
   deploys) with an API Gateway REST proxy event for an authenticated
   ``GET /v1/tenants/{tid}/servers``;
3. calls it a second time in the same process (the warm request), then five more times.

Both apps read the same moto tables, served over HTTP by a ``ThreadedMotoServer`` in this (the
bench's) process. The panel verifies the seeded user's token, reads the user, membership and tenant
(the guard's BatchGetItem) and queries the servers page; the bare app does a GetItem and a Query on
the same table. Nothing is shared across interpreters: every run is a new process with only the
bytecode on disk (written once beforehand, as the build precompiles the layer).

The time of the cold figure is ``time.perf_counter()`` from just before ``import app`` until the
first answer is back (interpreter start-up, the same for both, is left out); the warm figure is, per
process, the median of the warm calls (the second to the seventh), then the median over the
processes: one warm call of a few milliseconds against moto over HTTP is mostly the machine's
noise. Runs alternate between the two apps, at least ``MIN_RUNS`` each; the ratios are median ÷
median.
"""

from __future__ import annotations

import compileall
import json
import logging
import os
import secrets
import socket
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.imports import lambda_env, precompile
from bench.registry import FAIL, PASS, BenchContext, MeasurementError, Row, section
from bench.report import ratio, summarize

COLD_BUDGET = 1.5  # the bench line fails above this
COLD_GOAL = 1.2  # issue 18's goal, printed next to the budget
WARM_BUDGET = 1.3  # ARCHITECTURE.md §9
MIN_RUNS = 9
CHILD_TIMEOUT_S = 120
_RUN_ID = secrets.token_hex(4)
WARM_EXTRA = 5  # further warm requests per process, for information

# The reference. It stays as it is: a typical Chalice app importing boto3 at module level,
# building its client at module level, one route that does a GetItem and a Query.
BARE_APP = '''\
"""A bare Chalice + boto3 app: one route that does a GetItem and a Query on the panel's table."""

import os

import boto3
from chalice import Chalice, NotFoundError

app = Chalice(app_name="bare")
dynamodb = boto3.client("dynamodb")
TABLE = os.environ["TABLE_MAIN"]


@app.route("/v1/tenants/{tenant_id}/servers")
def list_servers(tenant_id):
    tenant = dynamodb.get_item(
        TableName=TABLE, Key={"pk": {"S": f"TENANT#{tenant_id}"}, "sk": {"S": "PROFILE"}}, ConsistentRead=True
    )
    if "Item" not in tenant:
        raise NotFoundError(tenant_id)
    page = dynamodb.query(
        TableName=TABLE,
        IndexName="gsi2",
        KeyConditionExpression="gsi2pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANTSERVERS#{tenant_id}"}},
        Limit=51,
    )
    items = [{"id": item["server_uuid"]["S"], "name": item["name"]["S"]} for item in page["Items"]]
    return {"items": items, "next_cursor": None}
'''

# Runs in the fresh interpreter. Everything but ``import app`` and the calls happens before the
# clock starts: reading the event, building the context object.
_PREAMBLE = """\
import json, sys, time, uuid
with open(sys.argv[2]) as _f:
    _event = json.load(_f)


class _Context:
    function_name = "bench-api"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-api"
    log_group_name = "/aws/lambda/bench-api"
    log_stream_name = "bench"

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self):
        return 30000


def _call(handler):
    event = dict(_event, requestContext=dict(_event["requestContext"], requestId=str(uuid.uuid4())))
    answer = handler(event, _Context())
    body = json.loads(answer["body"])
    if answer["statusCode"] != 200:
        raise SystemExit(f"status {answer['statusCode']}: {body}")
    return len(body["items"])


"""

_CHILD = (
    _PREAMBLE
    + """\
_c0, _t0 = time.process_time(), time.perf_counter()
import app
_c1, _t1 = time.process_time(), time.perf_counter()
_first_items = _call(app.app)
_c2, _t2 = time.process_time(), time.perf_counter()
_warm_items = _call(app.app)
_c3, _t3 = time.process_time(), time.perf_counter()
_more = []
for _ in range(int(sys.argv[3])):
    _s = time.perf_counter()
    _call(app.app)
    _more.append((time.perf_counter() - _s) * 1000.0)
with open(sys.argv[1], "w") as _out:
    json.dump(
        {
            "import_ms": (_t1 - _t0) * 1000.0,
            "first_request_ms": (_t2 - _t1) * 1000.0,
            "cold_ms": (_t2 - _t0) * 1000.0,
            "warm_ms": (_t3 - _t2) * 1000.0,
            "cold_cpu_ms": (_c2 - _c0) * 1000.0,
            "import_cpu_ms": (_c1 - _c0) * 1000.0,
            "warm_cpu_ms": (_c3 - _c2) * 1000.0,
            "more_warm_ms": _more,
            "items": [_first_items, _warm_items],
            "modules": len(sys.modules),
        },
        _out,
    )
"""
)


# SnapStart, emulated (information, not a budget): Lambda snapshots the memory of a function whose
# init (and before-snapshot hook) ran, and starts each new environment from a copy of it. fork() of
# a primed process is that copy; the child then runs the after-restore hook and the first request.
_SNAP_CHILD = (
    _PREAMBLE
    + """\
import os
import app
from mamba import snapstart
snapstart.before_snapshot()
_r, _w = os.pipe()
_pid = os.fork()
if _pid == 0:
    os.close(_r)
    _c0, _t0 = time.process_time(), time.perf_counter()
    snapstart.after_restore()
    _items = _call(app.app)
    _c1, _t1 = time.process_time(), time.perf_counter()
    os.write(_w, json.dumps({"restored_ms": (_t1 - _t0) * 1000.0, "restored_cpu_ms": (_c1 - _c0) * 1000.0,
                             "items": _items}).encode())
    os._exit(0)
os.close(_w)
os.waitpid(_pid, 0)
with os.fdopen(_r) as _pipe, open(sys.argv[1], "w") as _out:
    _out.write(_pipe.read())
"""
)


@dataclass(frozen=True)
class Target:
    label: str
    cwd: Path
    pythonpath: tuple[Path, ...]


@dataclass(frozen=True)
class ColdMeasurement:
    app: list[dict[str, Any]]
    bare: list[dict[str, Any]]
    servers: int
    restored: list[dict[str, Any]]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def api_gateway_event(tenant_id: str, token: str) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload 1.0), as the deployed API hands the function."""
    path = f"/v1/tenants/{tenant_id}/servers"
    resource = "/v1/tenants/{tenant_id}/servers"
    headers = {
        "accept": "application/json",
        "authorization": f"Bearer {token}",
        "host": "api.example.org",
        "user-agent": "mamba-bench",
        "x-forwarded-for": "203.0.113.9",
        "x-forwarded-proto": "https",
    }
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"tenant_id": tenant_id},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": "GET",
            "path": f"/api{path}",
            "stage": "api",
            "accountId": "123456789012",
            "apiId": "benchapi01",
            "requestId": "bench-request-0001",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "mamba-bench"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _env(ctx: BenchContext, target: Target, endpoint: str, jwt_secret: str) -> dict[str, str]:
    env = lambda_env(os.environ, ctx.workdir, target.pythonpath)
    env.update(
        {
            "JWT_SECRET": jwt_secret,
            "AWS_ENDPOINT_URL": endpoint,
            # A ThreadedMotoServer shares the bench process's moto backends with the other sections'.
            "TABLE_MAIN": f"bench-cold-main-{_RUN_ID}",
            "TABLE_IDEMPOTENCY": f"bench-cold-idempotency-{_RUN_ID}",
            "LOG_LEVEL": "WARNING",  # the same for both; a request log line per call is not the subject
        }
    )
    return env


def _run(argv: list[str], cwd: Path, env: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise MeasurementError(f"{what} took longer than {CHILD_TIMEOUT_S}s") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise MeasurementError(f"{what} failed (exit {done.returncode}):\n{tail}\n{done.stdout[-500:]}")
    return done


def _sample(
    ctx: BenchContext, target: Target, env: dict[str, str], event_file: Path, extra: int, code: str = _CHILD
) -> dict[str, Any]:
    out = ctx.workdir / f"cold-{target.label}.json"
    out.unlink(missing_ok=True)
    argv = [ctx.python, "-c", code, str(out), str(event_file), str(extra)]
    _run(argv, target.cwd, env, f"the cold request of {target.label}")
    sample: dict[str, Any] = json.loads(out.read_text())
    return sample


def measure(ctx: BenchContext) -> ColdMeasurement:
    from moto.server import ThreadedMotoServer

    bare_dir = ctx.workdir / "cold-bare"
    bare_dir.mkdir(parents=True, exist_ok=True)
    (bare_dir / "app.py").write_text(BARE_APP)
    app = Target("app", ctx.root, (ctx.root / "layers" / "core", ctx.root))
    bare = Target("bare", bare_dir, ())
    precompile(ctx)
    compileall.compile_dir(str(bare_dir), quiet=2)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per AWS call
    port = _free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        jwt_secret = secrets.token_hex(32)
        seed_env = _env(ctx, app, endpoint, jwt_secret)
        seeded = json.loads(
            _run([ctx.python, "-m", "bench.coldstart_seed"], ctx.root, seed_env, "seeding the tables").stdout
        )
        event_file = ctx.workdir / "cold-event.json"
        event_file.write_text(json.dumps(api_gateway_event(seeded["tenant_id"], seeded["token"])))
        envs = {t.label: _env(ctx, t, endpoint, jwt_secret) for t in (app, bare)}
        # Warm-up: writes any bytecode still missing (site-packages included); discarded.
        for target in (app, bare):
            _sample(ctx, target, envs[target.label], event_file, 0)
        runs = max(MIN_RUNS, ctx.runs)
        app_samples: list[dict[str, Any]] = []
        bare_samples: list[dict[str, Any]] = []
        restored: list[dict[str, Any]] = []
        for i in range(runs):
            order = ((app, app_samples), (bare, bare_samples))
            for target, samples in order if i % 2 == 0 else reversed(order):
                samples.append(_sample(ctx, target, envs[target.label], event_file, WARM_EXTRA))
            restored.append(_sample(ctx, app, envs["app"], event_file, 0, code=_SNAP_CHILD))
    finally:
        moto.stop()
    for label, samples in (("app", app_samples), ("bare", bare_samples)):
        wrong = [s["items"] for s in samples if s["items"] != [seeded["servers"]] * 2]
        if wrong:
            raise MeasurementError(f"{label} returned {wrong[0]} items, not {seeded['servers']}")
    if any(r["items"] != seeded["servers"] for r in restored):
        raise MeasurementError("a restored copy returned the wrong page")
    return ColdMeasurement(app=app_samples, bare=bare_samples, servers=int(seeded["servers"]), restored=restored)


def measured(ctx: BenchContext) -> ColdMeasurement:
    result: ColdMeasurement = ctx.memo("coldstart", lambda: measure(ctx))
    return result


def _median(samples: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(s[key]) for s in samples)


def _warm(samples: list[dict[str, Any]]) -> float:
    """Per process the median of its warm requests (the second and the further ones), then the
    median over the processes."""
    return statistics.median(statistics.median([float(s["warm_ms"]), *s["more_warm_ms"]]) for s in samples)


def _row(what: str, samples: list[dict[str, Any]], key: str) -> Row:
    times = [float(s[key]) for s in samples]
    return {"what": what, **summarize(times), "runs": len(times), "samples_ms": [round(t, 2) for t in times]}


@section(
    "coldstart",
    title="Cold first request and warm request, through Chalice's Lambda entry point on moto (ms)",
    columns=("what", "median_ms", "min_ms", "max_ms", "runs"),
)
def coldstart(ctx: BenchContext) -> list[Row]:
    m = measured(ctx)
    rows: list[Row] = []
    for label, samples in (("app.py (mamba)", m.app), ("bare Chalice + boto3", m.bare)):
        rows.append(_row(f"{label}: import + first request", samples, "cold_ms"))
        rows.append(_row(f"{label}:   of which import", samples, "import_ms"))
        rows.append(_row(f"{label}:   of which first request", samples, "first_request_ms"))
        rows.append(_row(f"{label}: import + first request, CPU time", samples, "cold_cpu_ms"))
        rows.append(_row(f"{label}: second request (warm)", samples, "warm_ms"))
        more = [statistics.median(s["more_warm_ms"]) for s in samples if s["more_warm_ms"]]
        if more:
            rows.append({"what": f"{label}: requests 3-{2 + WARM_EXTRA} (warm)", **summarize(more), "runs": len(more)})
    rows.append(_row("app.py with SnapStart (emulated): after-restore + first request", m.restored, "restored_ms"))
    rows.append(_row("app.py with SnapStart (emulated): the same, CPU time", m.restored, "restored_cpu_ms"))
    return rows


@section(
    "coldstart_budgets",
    title="Cold and warm request budgets (issue 18; ARCHITECTURE.md §9)",
    columns=("budget", "measured", "target", "status"),
)
def coldstart_budgets(ctx: BenchContext) -> list[Row]:
    m = measured(ctx)
    app_cold, bare_cold = _median(m.app, "cold_ms"), _median(m.bare, "cold_ms")
    app_warm, bare_warm = _warm(m.app), _warm(m.bare)
    cold, warm = ratio(app_cold, bare_cold), ratio(app_warm, bare_warm)
    cold_cpu = ratio(_median(m.app, "cold_cpu_ms"), _median(m.bare, "cold_cpu_ms"))
    return [
        {
            "budget": "cold first request ratio app / bare (medians)",
            "measured": f"{cold:.2f} ({app_cold:.0f} / {bare_cold:.0f} ms)",
            "target": f"<= {COLD_BUDGET} (goal {COLD_GOAL})",
            "status": PASS if cold <= COLD_BUDGET else FAIL,
            "value": cold,
            "app_median_ms": round(app_cold, 1),
            "bare_median_ms": round(bare_cold, 1),
            "goal_met": cold <= COLD_GOAL,
        },
        {
            "budget": "warm request ratio app / bare (requests 2-7 of each process, medians)",
            "measured": f"{warm:.2f} ({app_warm:.1f} / {bare_warm:.1f} ms)",
            "target": f"<= {WARM_BUDGET}",
            "status": PASS if warm <= WARM_BUDGET else FAIL,
            "value": warm,
            "app_median_ms": round(app_warm, 1),
            "bare_median_ms": round(bare_warm, 1),
        },
        {
            # Information: what SnapStart leaves of the cold start (a fork of a primed process).
            "budget": "information: SnapStart restore + first request / bare cold (medians)",
            "measured": f"{ratio(_median(m.restored, 'restored_ms'), bare_cold):.2f}",
            "target": f"goal {COLD_GOAL}",
            "status": "info",
            "value": ratio(_median(m.restored, "restored_ms"), bare_cold),
        },
        {
            # Information: the process's own CPU time, which a busy shared machine disturbs less.
            "budget": "information: cold first request ratio in CPU time",
            "measured": f"{cold_cpu:.2f}",
            "target": "-",
            "status": "info",
            "value": cold_cpu,
        },
    ]
