"""Child of the ``cost`` bench section and of tests/integration/test_cost_budget.py (run as
``python -m bench.cost_probe``): counts what each operation costs, in one run.

The world is the workflow tests' (bench.servers_probe): moto with the real ASL and the real
task handlers dispatched in-process, the panel served over HTTP in this process, and a Wings
simulator subprocess that installs the servers and calls the panel back. Every tenant request
and every Wings callback goes over HTTP to the panel, as through API Gateway. Backups use a
recording Wings double (tests/backup_support.py) and play Wings' S3 side here, because the
simulator cannot reach the in-process S3; the panel's side is the real one.

What is counted, for each operation, from the moment it is asked until its workflow ended:

* API requests (each is one invocation of the API function) and their wall time;
* task Lambda invocations (``local.lambda_dispatch.invoke``) and their wall time; schedule
  runs, each one invocation, timed;
* DynamoDB request units, from each request moto handles: reads by the size of what they
  returned (4 KB units, half for an eventually consistent read, twice in a transaction),
  writes by the size of the item before and after (1 KB units, twice in a transaction);
* S3 requests moto handles, by price tier (PUT/POST/LIST, GET/HEAD; DELETE is free);
* Step Functions state transitions: the StateEntered events of the operation's execution.

An invocation's time is its wall time less what its thread waited for a CPU (this machine is
shared; Lambda gives each invocation its own), so GB-seconds do not grow with the machine's
load; moto answering in-process stands in for DynamoDB's and S3's network round trips.
Prints one JSON object on stdout (``{"cost_probe": ...}``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.cost_model import METRIC_MINUTE, Counts
from bench.probe_env import isolate

isolate()

T0 = "2026-11-25T10:00:00Z"
TENANT = "tn_cost"
OWNER = "usr_cost"
SERVERS = 20  # on the one simulated node: the reference fleet's 100 servers on 5 nodes
IDLE_TENANTS = 200  # enough that what each adds to a read shows across 4 KB read units
MEMORY_GB = 0.5  # .chalice/config.json lambda_memory_size
READ_UNIT, WRITE_UNIT = 4096, 1024
AWS_CALL_SECONDS = 0.005  # a DynamoDB or S3 request's round trip, allowed per request in a schedule's time
WINGS_CALL_SECONDS = 0.05  # a call to a node's Wings (it answers from memory) over the network, allowed

_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


class Meter:
    """Running totals of every billable unit; ``window()`` answers what a block added."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.totals = Counts()
        self.stand_in = 0.0  # CPU seconds moto (and this meter) spent answering AWS requests

    def add(self, **units: float) -> None:
        with self.lock:
            for name, value in units.items():
                setattr(self.totals, name, getattr(self.totals, name) + value)

    def served(self, cpu_seconds: float) -> None:
        """An AWS request answered in this process: its CPU is the stand-in's, not the caller's
        (AWS answers on its own machines); the caller is allowed ``AWS_CALL_SECONDS`` instead."""
        with self.lock:
            self.stand_in += cpu_seconds
        _THREAD.stand_in = getattr(_THREAD, "stand_in", 0.0) + cpu_seconds
        _THREAD.aws_calls = getattr(_THREAD, "aws_calls", 0) + 1

    def call(self, name: str) -> None:
        with self.lock:
            self.totals.calls[name] = self.totals.calls.get(name, 0) + 1

    @contextlib.contextmanager
    def window(self) -> Iterator[Counts]:
        """Yields a Counts filled, when the block ends, with what happened inside it."""
        with self.lock:
            before = copy.deepcopy(self.totals)
        added = Counts()
        yield added
        time.sleep(0.2)  # let a callback that answered the workflow finish its own writes
        with self.lock:
            after = copy.deepcopy(self.totals)
        for name, value in after.billable().items():  # added to what the block counted itself
            setattr(added, name, round(getattr(added, name) + value - before.billable()[name], 6))
        added.calls = {k: v - before.calls.get(k, 0) for k, v in after.calls.items() if v != before.calls.get(k, 0)}

    # --- the hooks ---

    def install(self) -> None:
        self._dynamodb()
        self._s3()
        self._api()
        self._tasks()
        self._wings_calls()

    def _wings_calls(self) -> None:
        """Counts the panel's calls to a node (the schedules' time allows each one)."""
        from mamba.adapters.wings.client import WingsHttpNodeAgent

        original = WingsHttpNodeAgent._call
        meter = self

        def counted(agent: Any, *args: Any, **kwargs: Any) -> Any:
            meter.call("wings")
            return original(agent, *args, **kwargs)

        WingsHttpNodeAgent._call = counted  # type: ignore[method-assign]

    def _dynamodb(self) -> None:
        from moto.dynamodb.responses import DynamoHandler

        original = DynamoHandler.call_action
        meter = self

        def counted(handler: Any) -> Any:
            cpu = time.thread_time()
            action = str(handler.headers.get("X-Amz-Target", "")).rsplit(".", 1)[-1]
            body = _request_body(handler)
            before = _write_sizes(handler, action, body)
            response = original(handler)
            try:
                rru, wru = _dynamodb_units(handler, action, body, before, response)
            except Exception:  # noqa: BLE001 - an uncountable request must not break the measured one
                rru, wru = (1.0, 0.0) if action in _READS else (0.0, 1.0)
            meter.add(dynamodb_rru=rru, dynamodb_wru=wru)
            meter.call(f"dynamodb:{action}")
            meter.served(time.thread_time() - cpu)
            return response

        DynamoHandler.call_action = counted  # type: ignore[method-assign]

    def _s3(self) -> None:
        from moto.s3.responses import S3Response

        meter = self

        def wrap(name: str, is_key: bool) -> None:
            original = getattr(S3Response, name)

            def counted(response_self: Any, request: Any, full_url: str, headers: Any) -> Any:
                cpu = time.thread_time()
                method = str(request.method).upper()
                if method in ("PUT", "POST") or (method == "GET" and not is_key):
                    meter.add(s3_tier1=1)
                elif method in ("GET", "HEAD"):
                    meter.add(s3_tier2=1)
                meter.call(f"s3:{method}:{'object' if is_key else 'bucket'}")
                try:
                    return original(response_self, request, full_url, headers)
                finally:
                    meter.served(time.thread_time() - cpu)

            setattr(S3Response, name, counted)

        wrap("bucket_response", False)
        wrap("key_response", True)

    def _api(self) -> None:
        from chalice.local import LocalGateway

        original = LocalGateway.handle_request
        meter = self

        def counted(gateway: Any, method: str, path: str, headers: Any, body: Any) -> Any:
            started = _clock()
            try:
                return original(gateway, method, path, headers, body)
            finally:
                meter.add(api_requests=1, lambda_invocations=1, lambda_gb_seconds=_billed(_elapsed(started)))
                meter.call(f"api:{method}")

        LocalGateway.handle_request = counted  # type: ignore[method-assign]

    def _tasks(self) -> None:
        from local import lambda_dispatch

        original = lambda_dispatch.invoke
        meter = self

        def counted(handler: str, event: Any, function_name: str = "local", timeout_s: int = 60) -> Any:
            started = _clock()
            try:
                return original(handler, event, function_name, timeout_s)
            finally:
                meter.add(lambda_invocations=1, lambda_gb_seconds=_billed(_elapsed(started)))
                meter.call(f"task:{function_name}")

        lambda_dispatch.invoke = counted

    def schedule(self, run: Callable[[], Any]) -> None:
        """One schedule run: one invocation. A schedule reads its nodes on threads of its own,
        whose waits for this shared CPU its own thread cannot tell apart, so its time is the
        process's CPU time (moto's work for it included) plus ``AWS_CALL_SECONDS`` for each
        DynamoDB or S3 request and ``WINGS_CALL_SECONDS`` for each call to a node, the round
        trips the in-process stand-ins do not take."""
        cpu, calls, stand_in = time.process_time(), self._remote_calls(), self.stand_in
        try:
            run()
        finally:
            aws, wings = (after - before for after, before in zip(self._remote_calls(), calls, strict=True))
            own = time.process_time() - cpu - (self.stand_in - stand_in)
            seconds = max(own, 0.0) + aws * AWS_CALL_SECONDS + wings * WINGS_CALL_SECONDS
            self.add(lambda_invocations=1, lambda_gb_seconds=_billed(seconds))

    def _remote_calls(self) -> tuple[int, int]:
        with self.lock:
            calls = dict(self.totals.calls)
        aws = sum(n for name, n in calls.items() if name.startswith(("dynamodb:", "s3:")))
        return aws, calls.get("wings", 0)


_THREAD = threading.local()  # per thread: the stand-in's CPU and the AWS requests it answered


def _clock() -> tuple[float, float, float, int]:
    """Now, how long this thread has waited for a CPU so far (Linux schedstat; 0 elsewhere), and
    the stand-in's CPU and AWS requests on this thread so far."""
    return time.perf_counter(), _runqueue_wait(), getattr(_THREAD, "stand_in", 0.0), getattr(_THREAD, "aws_calls", 0)


def _runqueue_wait() -> float:
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _elapsed(started: tuple[float, float, float, int]) -> float:
    """The wall time since ``started`` less what this thread spent waiting for a CPU (this
    machine is shared; a Lambda runs alone) and less the in-process stand-in's CPU for its AWS
    requests, plus ``AWS_CALL_SECONDS`` for each of them (their round trip on AWS). Waits on
    the network, to Wings, count as they are."""
    wall, waited, stand_in, calls = started
    now = _clock()
    own = now[0] - wall - (now[1] - waited) - (now[2] - stand_in)
    return max(own, 0.0) + (now[3] - calls) * AWS_CALL_SECONDS


def _billed(seconds: float) -> float:
    """GB-seconds as Lambda bills them: by the millisecond, rounded up."""
    return math.ceil(seconds * 1000) / 1000 * MEMORY_GB


def _request_body(handler: Any) -> dict[str, Any]:
    params = getattr(handler, "params", None)
    if isinstance(params, dict) and params:
        return params
    try:
        return dict(json.loads(handler.body or "{}"))
    except (TypeError, ValueError):
        return {}


def _item_bytes(value: Any) -> int:
    """DynamoDB's size of an attribute value in its JSON form (names counted by the caller)."""
    if not isinstance(value, dict) or len(value) != 1:
        return 0
    ((kind, inner),) = value.items()
    if kind in ("S", "B"):
        return len(str(inner).encode())
    if kind == "N":
        return len(str(inner).lstrip("-").replace(".", "")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(len(str(v).encode()) for v in inner)
    if kind == "L":
        return 3 + sum(_item_bytes(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _item_bytes(v) + 1 for k, v in inner.items())
    return 0


def _size(item: dict[str, Any] | None) -> int:
    return sum(len(k.encode()) + _item_bytes(v) for k, v in (item or {}).items())


def _stored_size(handler: Any, table: str, key: dict[str, Any]) -> int:
    try:
        item = handler.dynamodb_backend.get_item(table, key)
    except Exception:  # noqa: BLE001 - a missing table or key reads as an empty item
        return 0
    return int(item.size()) if item is not None else 0


def _write_sizes(handler: Any, action: str, body: dict[str, Any]) -> list[int]:
    """The stored size of each item a write will touch, before it (DynamoDB bills the larger
    of the item before and after)."""
    if action in ("UpdateItem", "DeleteItem", "PutItem"):
        return [_stored_size(handler, body.get("TableName", ""), body.get("Key") or _key_of(body))]
    if action == "TransactWriteItems":
        sizes = []
        for entry in body.get("TransactItems", []):
            ((_kind, op),) = entry.items()
            sizes.append(_stored_size(handler, op.get("TableName", ""), op.get("Key") or _key_of(op)))
        return sizes
    return []


def _key_of(op: dict[str, Any]) -> dict[str, Any]:
    item = op.get("Item") or {}
    return {k: v for k, v in item.items() if k in ("pk", "sk", "id")}


def _json(response: Any) -> dict[str, Any]:
    body = response[2] if isinstance(response, tuple) and len(response) == 3 else response
    if isinstance(body, bytes):
        body = body.decode()
    try:
        parsed = json.loads(body) if isinstance(body, str) and body else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _dynamodb_units(
    handler: Any, action: str, body: dict[str, Any], before: list[int], response: Any
) -> tuple[float, float]:
    answer = _json(response)
    if action == "GetItem":
        factor = 1.0 if body.get("ConsistentRead") else 0.5
        return _units(_size(answer.get("Item")), READ_UNIT) * factor, 0.0
    if action == "BatchGetItem":
        rru = 0.0
        for table, request in (body.get("RequestItems") or {}).items():
            factor = 1.0 if request.get("ConsistentRead") else 0.5
            found = (answer.get("Responses") or {}).get(table, [])
            rru += sum(_units(_size(i), READ_UNIT) for i in found) * factor
            rru += max(len(request.get("Keys", [])) - len(found), 0) * factor
        return rru, 0.0
    if action in ("Query", "Scan"):
        factor = 1.0 if body.get("ConsistentRead") else 0.5
        return _units(sum(_size(i) for i in answer.get("Items", [])), READ_UNIT) * factor, 0.0
    if action == "TransactGetItems":
        return sum(2 * _units(_size(r.get("Item")), READ_UNIT) for r in answer.get("Responses", [])), 0.0
    if action in ("PutItem", "UpdateItem", "DeleteItem"):
        table = body.get("TableName", "")
        after = _size(body.get("Item")) if action == "PutItem" else 0
        if action == "UpdateItem":
            after = _stored_size(handler, table, body.get("Key") or {})
        return 0.0, float(_units(max([after, *before]), WRITE_UNIT))
    if action == "BatchWriteItem":
        wru = 0
        for requests in (body.get("RequestItems") or {}).values():
            for request in requests:
                if "PutRequest" in request:
                    wru += _units(_size(request["PutRequest"].get("Item")), WRITE_UNIT)
                else:
                    wru += 1  # a delete: at least one unit (the item is gone when we could look)
        return 0.0, float(wru)
    if action == "TransactWriteItems":
        wru = 0
        for index, entry in enumerate(body.get("TransactItems", [])):
            ((kind, op),) = entry.items()
            size = _size(op.get("Item")) if kind == "Put" else 0
            if kind == "Update":
                size = _stored_size(handler, op.get("TableName", ""), op.get("Key") or {})
            prior = before[index] if index < len(before) else 0
            wru += 2 * _units(max(size, prior), WRITE_UNIT)
        return 0.0, float(wru)
    return 0.0, 0.0


# --- the operations ---


class World:
    def __init__(self, meter: Meter, panel_url: str, node: Any, sfn: Any) -> None:
        from tests.api.tenancy_helpers import bearer

        self.meter, self.panel, self.node, self.sfn = meter, panel_url, node, sfn
        self.headers = {**bearer(OWNER), "Content-Type": "application/json"}
        self.base = f"{panel_url}/v1/tenants/{TENANT}/servers"

    def request(self, method: str, path: str, body: Any = None) -> Any:
        import requests

        response = requests.request(method, self.base + path, headers=self.headers, json=body, timeout=60)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.text else {}

    def execution(self, workflow: str, op_id: str) -> dict[str, Any]:
        from mamba import bootstrap

        arn = bootstrap.settings().state_machine_arn(workflow).replace(":stateMachine:", ":execution:") + ":" + op_id
        deadline = time.monotonic() + 120
        while True:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workflow} {op_id} still running after 120 s")
            time.sleep(0.05)
        if described["status"] != "SUCCEEDED":
            raise RuntimeError(f"{workflow} {op_id} ended {described['status']}: {described.get('cause')}")
        return described

    def transitions(self, execution_arn: str) -> int:
        events = self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        return sum(1 for e in events if str(e["type"]).endswith("StateEntered"))

    def workflow(self, counts: Counts, workflow: str, op_id: str) -> None:
        counts.state_transitions += self.transitions(self.execution(workflow, op_id)["executionArn"])


def create(world: World) -> tuple[str, Counts]:
    with world.meter.window() as counts:
        created = world.request(
            "POST",
            "",
            {"name": "cost", "blueprint_id": "bp_line", "limits": {"memory_mb": 256, "disk_mb": 512}},
        )
        world.workflow(counts, "provision_server", created["operation"]["id"])
    return str(created["server"]["id"]), counts


def power(world: World, server_id: str, action: str) -> Counts:
    with world.meter.window() as counts:
        world.request("POST", f"/{server_id}/power", {"action": action})
        time.sleep(1.0)  # the node starts or stops the process: nothing more reaches the panel
    return counts


def backup_and_restore(world: World, server_id: str) -> tuple[Counts, Counts]:
    from dataclasses import replace

    from mamba import bootstrap
    from tests.backup_support import WingsS3Double
    from tests.contract.remote.conftest import NodeCreds

    double = WingsS3Double()
    ports = replace(bootstrap.backup_ports(), agent_for=lambda node: double)
    creds = NodeCreds(world.node.node, world.node.token)
    data = os.urandom(6 * 1024 * 1024)
    with bootstrap.override(backup_ports=ports):
        with world.meter.window() as backup:
            started = world.request("POST", f"/{server_id}/backups", {"name": "nightly"})
            backup_id = started["backup"]["id"]
            double.wait_backup()
            _upload_like_wings(world.panel, creds.header, backup_id, data)
            world.workflow(backup, "backup_server", started["operation"]["id"])
        with world.meter.window() as restore:
            started = world.request("POST", f"/{server_id}/backups/{backup_id}/restore", {"truncate": False})
            url = double.wait_restore()["url"]
            _get(url)  # the node downloads the archive through the presigned GET
            _post(f"{world.panel}/api/remote/backups/{backup_id}/restore", creds.header, {"successful": True})
            world.workflow(restore, "restore_backup", started["operation"]["id"])
    return backup, restore


def _get(url: str) -> None:
    import requests

    requests.get(url, timeout=60).raise_for_status()


def _post(url: str, headers: dict[str, str], body: Any) -> None:
    import requests

    answer = requests.post(url, headers=headers, json=body, timeout=60)
    if answer.status_code >= 300:
        raise RuntimeError(f"POST {url}: {answer.status_code} {answer.text[:300]}")


def _upload_like_wings(panel: str, headers: dict[str, str], backup_id: str, data: bytes) -> None:
    """Wings' S3 adapter: presign through the panel, PUT each part, report the completion."""
    import hashlib

    import requests

    presigned = requests.get(f"{panel}/api/remote/backups/{backup_id}?size={len(data)}", headers=headers, timeout=60)
    presigned.raise_for_status()
    document = presigned.json()
    part_size = int(document["part_size"])
    parts = []
    for index, url in enumerate(document["parts"], start=1):
        chunk = data[(index - 1) * part_size : index * part_size]
        put = requests.put(url, data=chunk, headers={"Content-Type": "application/x-gzip"}, timeout=60)
        put.raise_for_status()
        parts.append({"etag": put.headers["ETag"], "part_number": index})
    body = {"checksum": hashlib.sha1(data).hexdigest(), "checksum_type": "sha1", "size": len(data),
            "successful": True, "parts": parts}  # fmt: skip
    _post(f"{panel}/api/remote/backups/{backup_id}", headers, body)


def delete(world: World, server_id: str) -> Counts:
    with world.meter.window() as counts:
        started = world.request("DELETE", f"/{server_id}")
        world.workflow(counts, "delete_server", started["operation"]["id"])
    return counts


def page_views(world: World, server_id: str) -> dict[str, Counts]:
    """The API requests of the pages issue 13 names: the server list, the metrics chart."""
    import app as app_module

    views: dict[str, Counts] = {}
    with world.meter.window() as counts:
        world.request("GET", "?limit=25")
    views["server_list"] = counts
    if "/v1/tenants/{tenant_id}/servers/{server_id}/metrics" in app_module.app.routes:
        now = int(time.time())
        with world.meter.window() as counts:
            world.request("GET", f"/{server_id}/metrics?from={now - 86_400}&to={now}&resolution=auto")
        views["metrics_chart"] = counts
    return views


_MINUTE_OFFSET = [0]


def _next_minute_each_run(run: Callable[[], Any]) -> Callable[[], Any]:
    """Each run of the reconcile a minute later than the last, as the schedule runs: the metrics
    history writes a node's minute once per minute, so two runs within one minute would not."""
    from dataclasses import replace

    from mamba import bootstrap

    original = bootstrap.metrics_ports

    def later() -> Any:
        return replace(original(), clock=lambda: int(time.time()) + _MINUTE_OFFSET[0])

    def run_a_minute_later() -> Any:
        _MINUTE_OFFSET[0] += 60
        bootstrap.metrics_ports = later  # type: ignore[assignment]
        try:
            return run()
        finally:
            bootstrap.metrics_ports = original

    return run_a_minute_later


# The writes a reconcile run makes only when a server's status changed (the quiet minute's are Puts:
# the node's metric minute and the run's record).
STATUS_WRITES = ("dynamodb:UpdateItem", "dynamodb:TransactWriteItems")


def settle_until_quiet(meter: Meter, reconcile: Callable[[], Any], tries: int = 20) -> None:
    """Reconcile runs until one changes no server (at most ``tries``, half a second apart)."""
    for _ in range(tries):
        with meter.window() as warm:
            meter.schedule(reconcile)
        if not any(warm.calls.get(name) for name in STATUS_WRITES):
            return
        time.sleep(0.5)


def metric_minute(meter: Meter, reconcile: Callable[[], Any]) -> tuple[Counts, Counts, Counts, Counts]:
    """One run of ``reconcile_servers`` over the node in a minute without the fleet counters'
    recount, the part of it that is once per run whatever the nodes (the run's record,
    ``services.overview.record_reconcile``), the counters' recount and the sweeper's look at
    every server, each counted alone (they run every few minutes)."""
    from datetime import UTC, datetime

    from mamba import bootstrap
    from mamba.services import overview

    original = overview.record_reconcile
    part: list[Counts] = []

    def counted(stats: Any, results: Any, now: Any) -> Any:
        if now.minute % overview.RECOUNT_EVERY_MINUTES == 0:
            now = now.replace(minute=now.minute + 1)  # this minute's recount is counted apart
        with meter.window() as counts:
            result = original(stats, results, now)
        part.append(counts)
        return result

    # Runs first to take in what the operations before changed (the stopped server's new
    # status, its crash check, a server still settling on a busy machine): the minute measured is
    # a quiet one, as nearly every minute is, so the warm-up repeats until a run changes no server.
    settle_until_quiet(meter, reconcile)
    from functions.schedules import sweep

    sweep_run = sweep.run
    overview.record_reconcile = counted  # type: ignore[assignment]
    sweep.run = lambda **_: sweep_run(servers_too=False)  # this minute's server sweep is counted apart
    try:
        with meter.window() as run:
            meter.schedule(reconcile)
    finally:
        overview.record_reconcile = original  # type: ignore[assignment]
        sweep.run = sweep_run
    with meter.window() as operations_only:
        sweep_run(servers_too=False)
    with meter.window() as with_servers:
        sweep_run(servers_too=True)
    server_sweep = Counts(
        **{k: max(v - operations_only.billable()[k], 0.0) for k, v in with_servers.billable().items()}
    )
    with meter.window() as recount:
        meter.schedule(lambda: bootstrap.fleet_stats().refresh(datetime.now(UTC).isoformat()))
    recount.lambda_invocations = 0  # it runs inside the reconcile's invocation
    return run, part[-1], recount, server_sweep


def _server_sweep_every() -> int:
    from functions.schedules import reconcile

    return int(reconcile.SWEEP_SERVERS_EVERY_MINUTES)


def _recount_every() -> int:
    from mamba.services import overview

    return int(overview.RECOUNT_EVERY_MINUTES)


def rollup_hour(meter: Meter, node_id: str) -> Counts:
    """The rollup the first reconcile run of an hour writes for the node, over a full hour of
    minute items: 60 minutes are recorded first as the reconcile would (a clock set to each
    minute of the next hour, not counted), then the rollup runs an hour later (counted)."""
    from dataclasses import replace

    from mamba import bootstrap
    from mamba.domain import server_lifecycle as life
    from mamba.services import metrics

    ports = bootstrap.metrics_ports()
    servers = bootstrap.server_repository().on_node(node_id)
    seen = life.observations(bootstrap.agent_for(bootstrap.node_repository().get(node_id)).list_servers())
    hour = (int(time.time()) // 3600 + 1) * 3600
    for minute in range(60):  # outside the window below: these are the hour's metric minutes
        metrics.record_node(replace(ports, clock=lambda t=hour + 60 * minute + 5: t), node_id, servers, seen)
    with meter.window() as counts:
        metrics.roll_up(replace(ports, clock=lambda: hour + 3600 + 5), node_id, hour + 3600 + 5)
    return counts


def schedules() -> dict[str, tuple[Callable[[], Any], float]]:
    """Every schedule app.py registers: name → (one run, every how many seconds)."""
    from chalice.app import Rate, ScheduledEventConfig

    import app as app_module

    seconds = {"MINUTES": 60, "HOURS": 3600, "DAYS": 86_400}
    found: dict[str, tuple[Callable[[], Any], float]] = {}
    for source in app_module.app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        expression = source.schedule_expression
        if not isinstance(expression, Rate):
            raise RuntimeError(f"schedule {source.name}: only Rate expressions are costed, not {expression!r}")
        handler = getattr(app_module, source.handler_string.rsplit(".", 1)[-1])
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": T0,
            "region": "us-east-1",
            "resources": [],
            "detail": {},
        }
        found[source.name] = (lambda h=handler, e=event: h(e, _Context()), expression.value * seconds[expression.unit])
    return found


class _Context:
    function_name = "schedule"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def run_schedules(meter: Meter) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, (run, every) in schedules().items():
        with meter.window() as counts:
            meter.schedule(run)
        out[name] = {"counts": _dump(counts), "every_seconds": every}
    return out


def add_idle_tenants(count: int) -> None:
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.tenancy import Membership, Tenant
    from tests.api.tenancy_helpers import add_user

    for index in range(count):
        user, tenant = f"usr_idle{index}", f"tn_idle{index}"
        add_user(user)
        DynamoTenantRepository().add_with_owner(
            Tenant(id=tenant, name=f"Idle {index}", created_at=T0),
            Membership(tenant_id=tenant, user_id=user, role="owner", created_at=T0),
        )


def _dump(counts: Counts) -> dict[str, Any]:
    return {**counts.billable(), "calls": counts.calls}


def main() -> dict[str, Any]:
    import boto3

    from local import lambda_dispatch
    from mamba import bootstrap
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.tenancy import Membership, Tenant
    from tests.api.tenancy_helpers import add_user
    from tests.moto_world import world as moto_world
    from tests.server_world import set_plan_quotas
    from tests.statemachines.provision_support import panel_over_http, simulated_node
    from tests.statemachines.test_provision_server import line_blueprint

    meter = Meter()
    moto_world().fresh(workflows=True)  # the panel's tables, bucket and key; every workflow deployed
    lambda_dispatch.install()
    with tempfile.TemporaryDirectory() as tmp:
        bootstrap.dynamo_tables()
        add_user(OWNER)
        DynamoTenantRepository().add_with_owner(
            Tenant(id=TENANT, name="Cost", created_at=T0),
            Membership(tenant_id=TENANT, user_id=OWNER, role="owner", created_at=T0),
        )
        set_plan_quotas(TENANT, {"servers": -1, "memory_mb": -1, "disk_mb": -1})
        line_blueprint("bp_line")
        meter.install()
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        with (
            panel_over_http() as panel_url,
            simulated_node(
                Path(tmp), panel_url, ports=range(30100, 30100 + SERVERS + 1), allow_install=("bp_line",)
            ) as node,
        ):
            world = World(meter, panel_url, node, sfn)
            created = [create(world) for _ in range(SERVERS + 1)]
            server_id = created[0][0]
            reconcile = _next_minute_each_run(schedules()[METRIC_MINUTE][0])
            meter.schedule(reconcile)  # the first run records what it sees the first time
            operations = {"create": created[0][1]}
            operations["start"] = power(world, server_id, "start")
            operations["stop"] = power(world, server_id, "stop")
            operations["backup"], operations["restore"] = backup_and_restore(world, server_id)
            operations["delete"] = delete(world, created[-1][0])  # SERVERS servers stay on the node
            meter.schedule(reconcile)
            views = page_views(world, server_id)
            one_node, fleet_part, recount, server_sweep = metric_minute(meter, reconcile)
            rollup = rollup_hour(meter, node.node.id)
            before = run_schedules(meter)
            add_idle_tenants(IDLE_TENANTS)
            after = run_schedules(meter)
    return {
        "cost_probe": {
            "servers_on_node": SERVERS,
            "idle_tenants": IDLE_TENANTS,
            "operations": {name: _dump(c) for name, c in operations.items()},
            "creates": [_dump(c) for _, c in created],
            "page_views": {name: _dump(c) for name, c in views.items()},
            "schedules": before,
            "schedules_with_idle_tenants": after,
            # one reconcile run over the node's SERVERS servers, and within it the fleet counters'
            # part, which is once per run whatever the nodes
            "metric_minute": {
                "one_node": _dump(one_node),
                "per_run": _dump(fleet_part),
                "recount": _dump(recount),
                "recount_every_minutes": _recount_every(),
                "server_sweep": _dump(server_sweep),
                "server_sweep_every_minutes": _server_sweep_every(),
            },
            # one hour of the node's SERVERS servers rolled up (the first reconcile run of an hour)
            "rollup_hour": _dump(rollup),
        }
    }


if __name__ == "__main__":
    print(json.dumps(main()))
    sys.stdout.flush()
