"""Load (issue 18 item 4): 200 simulated users for 60 s against the running local stack.

The section starts a local stack of its own (``bench.stack``: ``python -m local.launcher`` on
free ports), prepares a world through the public API only, then runs locust headless on
``bench/locustfile.py`` and reads its CSV:

1. **World.** ``--tenants`` accounts (10) sign up, verify their email from the local mailbox,
   sign in once and each create a tenant and one server from the seeded ``bp_line_server``
   blueprint; the bench waits until every create operation has succeeded.
2. **Load.** ``--users`` locust users (200) spawn at ``--spawn-rate`` per second and run for
   ``--seconds`` (60), then locust stops them itself (``--stop-timeout``); the bench kills the
   process group only if it outlives that by a minute. Every request has a 30 s timeout.
3. **Figures.** Requests, failures, requests/s and p50/p95/p99/max per step and in total.
   The budget: 0 failed requests, where a failure is a timeout, a refused or dropped
   connection, any 5xx, any status the step does not expect, or a create/delete workflow that
   does not end ``succeeded``.

Rate limits, honestly: the limits the panel has are on sign-up, verification, sign-in,
password reset, invitations and tenant creation (docs/accounts.md), all per IP or per account
per hour; none is on the reads or on server create/delete. Only the setup touches limited
routes, and from one IP it signs up more accounts in a second than one address may in an hour,
so the bench stack raises ``RATE_REGISTER_IP`` and ``RATE_VERIFY_IP`` (as the e2e stack does).
Each account signs in **once** and its users share the access token (15 min, longer than a
run), as browser tabs of one person do; no limit is raised for the load itself. Quotas: each
tenant holds one standing server and the free plan allows two, so each churn user has its own
tenant's free slot and no create is refused for quota.

``python -m bench.load --users 20 --seconds 10`` runs a short one by hand.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from bench import stack as local_stack
from bench.registry import FAIL, PASS, BenchContext, MeasurementError, Row, section

USERS = int(os.environ.get("MAMBA_LOAD_USERS", "200"))
SECONDS = int(os.environ.get("MAMBA_LOAD_SECONDS", "60"))
TENANTS = 10
CHURN = 4
SPAWN_RATE = 50
STOP_TIMEOUT_SECONDS = 30
BLUEPRINT = "bp_line_server"
PASSWORD = "load scenario passphrase 2026"
SETUP_TIMEOUT_SECONDS = 180.0
# Setup signs up TENANTS accounts from one address in seconds (see the module docstring).
STACK_ENV = {"RATE_REGISTER_IP": "1000", "RATE_VERIFY_IP": "1000"}


class Api:
    """The few calls the setup makes, over plain HTTP (requests, already a dependency)."""

    def __init__(self, base: str) -> None:
        import requests

        self.base = base
        self.http = requests.Session()

    def call(self, method: str, path: str, expected: int, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.request(method, self.base + path, headers=headers, timeout=60, **kwargs)
        if response.status_code != expected:
            raise MeasurementError(f"setup: {method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None


def _verification_token(mail_dir: Path, email: str, deadline: float) -> str:
    from local.mailbox import list_messages

    while time.monotonic() < deadline:
        for summary in list_messages(mail_dir):
            if email in summary.to and "Verify your email" in summary.subject:
                message = message_from_bytes(summary.path.read_bytes(), policy=policy.default)
                body = message.get_body(preferencelist=("plain", "html"))
                text = str(body.get_content() if body is not None else message.get_payload())
                found = re.search(r"https?://\S+?[?&]token=([^\s&\"'<>]+)", text)
                if found:
                    return unquote(found.group(1))
        time.sleep(0.2)
    raise MeasurementError(f"setup: no verification mail for {email}")


def build_world(running: local_stack.Stack, tenants: int) -> dict[str, Any]:
    """Sign up ``tenants`` members, each with a tenant and one installed server."""
    api = Api(running.api)
    deadline = time.monotonic() + SETUP_TIMEOUT_SECONDS
    mail_dir = Path(running.info["mail_dir"])
    members: list[dict[str, Any]] = []
    run_id = uuid.uuid4().hex[:8]
    for index in range(tenants):
        email = f"load-{run_id}-{index}@example.org"
        api.call("POST", "/v1/auth/register", 201, json={"email": email, "password": PASSWORD, "name": f"Load {index}"})
        token = _verification_token(mail_dir, email, deadline)
        api.call("POST", "/v1/auth/verify-email", 200, json={"token": token})
        access = api.call("POST", "/v1/auth/login", 200, json={"email": email, "password": PASSWORD})["access_token"]
        tenant = api.call("POST", "/v1/tenants", 201, token=access, json={"name": f"Load tenant {index}"})
        body = {"name": f"standing {index}", "blueprint_id": BLUEPRINT, "limits": {"memory_mb": 512, "disk_mb": 1024}}
        created = api.call("POST", f"/v1/tenants/{tenant['id']}/servers", 202, token=access, json=body)
        members.append(
            {
                "token": access,
                "tenant_id": tenant["id"],
                "server_id": created["server"]["id"],
                "operation_id": created["operation"]["id"],
            }
        )
    for member in members:
        path = f"/v1/tenants/{member['tenant_id']}/operations/{member['operation_id']}"
        while (status := api.call("GET", path, 200, token=member["token"])["status"]) not in ("succeeded", "failed"):
            if time.monotonic() > deadline:
                raise MeasurementError("setup: the standing servers were not installed in time")
            time.sleep(0.5)
        if status != "succeeded":
            raise MeasurementError(f"setup: creating a standing server failed ({path})")
    return {"api": running.api, "blueprint_id": BLUEPRINT, "members": members}


def run_locust(world_file: Path, out: Path, users: int, seconds: int, churn: int, python: str) -> Path:
    """locust headless on bench/locustfile.py; returns the CSV prefix it wrote."""
    prefix = out / "load"
    command = [
        python, "-m", "locust",
        "-f", str(Path(__file__).with_name("locustfile.py")),
        "--headless", "--only-summary",
        "--users", str(users), "--spawn-rate", str(SPAWN_RATE),
        "--run-time", f"{seconds}s", "--stop-timeout", str(STOP_TIMEOUT_SECONDS),
        "--csv", str(prefix), "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    env = {
        **os.environ,
        "MAMBA_LOAD_WORLD": str(world_file),
        "MAMBA_LOAD_CHURN": str(churn),
        "MAMBA_LOAD_OPERATIONS": str(out / "operations.json"),
    }
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, process_group=0)
    try:
        output, _ = process.communicate(timeout=seconds + STOP_TIMEOUT_SECONDS + 60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise MeasurementError("locust did not stop by itself") from None
    (out / "locust.log").write_bytes(output)
    if process.returncode != 0 or not prefix.with_name("load_stats.csv").exists():
        raise MeasurementError(f"locust exited {process.returncode}: {output.decode(errors='replace')[-1500:]}")
    return prefix


def _ms(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def read_figures(prefix: Path) -> dict[str, Any]:
    """Locust's stats and failures CSVs as rows per step plus the total."""
    with prefix.with_name("load_stats.csv").open() as handle:
        stats = list(csv.DictReader(handle))
    with prefix.with_name("load_failures.csv").open() as handle:
        failures = [
            {"step": f"{r['Method']} {r['Name']}", "error": r["Error"], "count": int(r["Occurrences"])}
            for r in csv.DictReader(handle)
        ]
    operations_file = prefix.with_name("operations.json")
    operations = json.loads(operations_file.read_text()) if operations_file.exists() else []
    steps = []
    for what in ("create", "delete"):
        ended = [op for op in operations if op["what"] == what]
        if ended:
            seconds = sorted(op["seconds"] for op in ended)
            steps.append(
                {
                    "step": f"workflow: {what} server, to its end",
                    "requests": len(ended),
                    "failures": sum(op["status"] != "succeeded" for op in ended),
                    "rps": 0.0,
                    "p50": 1000 * seconds[len(seconds) // 2],
                    "p95": 1000 * seconds[min(len(seconds) - 1, int(len(seconds) * 0.95))],
                    "p99": 1000 * seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))],
                    "max": 1000 * seconds[-1],
                }
            )
            failures += [
                {"step": f"workflow {what}", "error": f"ended {op['status']}", "count": 1}
                for op in ended
                if op["status"] != "succeeded"
            ]
    for r in stats:
        steps.append(
            {
                "step": "total" if r["Name"] == "Aggregated" else r["Name"],
                "requests": int(r["Request Count"]),
                "failures": int(r["Failure Count"]),
                "rps": float(r["Requests/s"]),
                "p50": _ms(r["50%"]),
                "p95": _ms(r["95%"]),
                "p99": _ms(r["99%"]),
                "max": _ms(r["Max Response Time"]),
            }
        )
    return {"steps": steps, "failures": failures}


def measure(users: int, seconds: int, tenants: int = TENANTS, churn: int = CHURN, python: str = sys.executable) -> Any:
    with tempfile.TemporaryDirectory(prefix="mamba-load-") as scratch:
        folder = Path(scratch)
        with local_stack.running(folder / "stack", STACK_ENV) as running:
            world = build_world(running, tenants)
            world_file = folder / "world.json"
            world_file.write_text(json.dumps(world))
            started = time.perf_counter()
            prefix = run_locust(world_file, folder, users, seconds, min(churn, tenants), python)
            figures = read_figures(prefix)
            figures["wall_seconds"] = round(time.perf_counter() - started, 1)
            figures.update(users=users, seconds=seconds, tenants=tenants, churn=min(churn, tenants))
            return figures


def rows(figures: dict[str, Any]) -> list[Row]:
    total = next(s for s in figures["steps"] if s["step"] == "total")
    failed = sum(s["failures"] for s in figures["steps"] if s["step"] != "total")
    result: list[Row] = [
        {
            "step": s["step"],
            "requests": s["requests"],
            "failures": s["failures"],
            "req/s": f"{s['rps']:.1f}",
            "p50 ms": f"{s['p50']:.0f}",
            "p95 ms": f"{s['p95']:.0f}",
            "p99 ms": f"{s['p99']:.0f}",
            "max ms": f"{s['max']:.0f}",
            "status": "info",
            **{f"raw_{k}": v for k, v in s.items() if k != "step"},
        }
        for s in figures["steps"]
        if s["step"] != "total"
    ]
    result.append(
        {
            "step": f"load: {figures['users']} users x {figures['seconds']} s, 0 failed requests",
            "requests": total["requests"],
            "failures": failed,
            "req/s": f"{total['rps']:.1f}",
            "p50 ms": f"{total['p50']:.0f}",
            "p95 ms": f"{total['p95']:.0f}",
            "p99 ms": f"{total['p99']:.0f}",
            "max ms": f"{total['max']:.0f}",
            "status": PASS if failed == 0 and total["requests"] > 0 else FAIL,
            "failure_kinds": figures["failures"],
        }
    )
    return result


@section(
    "load",
    title=f"Load: {USERS} simulated users for {SECONDS} s on the local stack (locust; latencies in ms)",
    columns=("step", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "status"),
)
def load(ctx: BenchContext) -> list[Row]:
    return rows(measure(USERS, SECONDS, python=ctx.python))


def main(argv: list[str] | None = None) -> int:
    from bench.registry import SECTIONS
    from bench.report import format_table

    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--seconds", type=int, default=SECONDS)
    parser.add_argument("--tenants", type=int, default=TENANTS)
    parser.add_argument("--churn", type=int, default=CHURN, help="users that create and delete servers")
    args = parser.parse_args(argv)
    figures = measure(args.users, args.seconds, args.tenants, args.churn)
    table = rows(figures)
    print(format_table(SECTIONS["load"].columns, table))
    for failure in figures["failures"]:
        print(f"  {failure['count']:>5} x {failure['step']}: {failure['error']}")
    return 0 if table[-1]["status"] == PASS else 1


if __name__ == "__main__":
    sys.exit(main())
