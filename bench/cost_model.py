"""What the control plane costs, from counted calls (issue 13 item 6; docs/cost.md).

``bench.cost_probe`` counts, for each operation, the billable units it caused on moto with the
real workflows and the Wings simulator: Lambda invocations and GB-seconds, DynamoDB read and
write request units, Step Functions state transitions, S3 requests (by price tier) and API
Gateway requests. This module prices those counts and scales them to a month of the reference
fleet. It is pure arithmetic, so the unit tests can check it line by line.

Prices: us-east-1 on-demand list prices, without free tiers (a free tier is per account, not
per server), as dated in ``PRICES_AS_OF``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

PRICES_AS_OF = "2026-12-01"

# USD per unit, us-east-1.
PRICES: dict[str, float] = {
    "lambda_requests": 0.20 / 1_000_000,  # per invocation
    "lambda_gb_seconds": 0.0000166667,  # per GB-s, x86
    "api_requests": 3.50 / 1_000_000,  # REST API (what Chalice deploys), first 333 M a month
    "dynamodb_wru": 0.625 / 1_000_000,  # on-demand write request unit
    "dynamodb_rru": 0.125 / 1_000_000,  # on-demand read request unit
    "state_transitions": 0.025 / 1_000,  # Standard workflows
    "s3_tier1": 0.005 / 1_000,  # PUT, COPY, POST, LIST (multipart create, part, complete)
    "s3_tier2": 0.0004 / 1_000,  # GET, HEAD and the rest (DELETE is free)
}

BUDGET_PER_100_SERVERS = 2.00  # USD a month (issue 13)
IDLE_TENANT_BUDGET = 0.0


@dataclass
class Counts:
    """The billable units one operation (or one schedule run) caused."""

    lambda_invocations: int = 0
    lambda_gb_seconds: float = 0.0
    api_requests: int = 0
    dynamodb_rru: float = 0.0
    dynamodb_wru: float = 0.0
    state_transitions: int = 0
    s3_tier1: int = 0
    s3_tier2: int = 0
    calls: dict[str, int] = field(default_factory=dict)  # DynamoDB and S3 actions, for reading only

    def cost(self) -> float:
        return (
            self.lambda_invocations * PRICES["lambda_requests"]
            + self.lambda_gb_seconds * PRICES["lambda_gb_seconds"]
            + self.api_requests * PRICES["api_requests"]
            + self.dynamodb_rru * PRICES["dynamodb_rru"]
            + self.dynamodb_wru * PRICES["dynamodb_wru"]
            + self.state_transitions * PRICES["state_transitions"]
            + self.s3_tier1 * PRICES["s3_tier1"]
            + self.s3_tier2 * PRICES["s3_tier2"]
        )

    def scaled(self, factor: float) -> Counts:
        """These counts ``factor`` times (the action breakdown is left out)."""
        values = {f.name: getattr(self, f.name) * factor for f in fields(self) if f.name != "calls"}
        return Counts(**values)

    def billable(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if k != "calls"}

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> Counts:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Fleet:
    """The reference month of issue 13: 100 active servers on 5 nodes, one daily backup each,
    1,000 API requests each. What the issue leaves open is stated here (docs/cost.md)."""

    servers: int = 100
    nodes: int = 5
    days: int = 30
    api_requests_per_server: int = 1_000
    backups_per_server: int = 30  # daily
    restores_per_server: int = 1
    creates_per_server: int = 1  # each server replaced once a month: a create and a delete
    deletes_per_server: int = 1
    starts_per_server: int = 30  # a stop and a start a day
    stops_per_server: int = 30

    @property
    def minutes(self) -> int:
        return self.days * 24 * 60

    @property
    def hours(self) -> int:
        return self.days * 24


OPERATIONS = ("create", "start", "stop", "backup", "restore", "delete")
PER_NODE_SCHEDULES = ("node_health",)  # one run reads every node: measured on one
METRIC_MINUTE = "reconcile_servers"  # reads each node's servers once a minute and writes its metrics


def monthly_times(fleet: Fleet) -> dict[str, float]:
    """How many times a month each measured operation happens in the fleet."""
    return {
        "create": fleet.servers * fleet.creates_per_server,
        "start": fleet.servers * fleet.starts_per_server,
        "stop": fleet.servers * fleet.stops_per_server,
        "backup": fleet.servers * fleet.backups_per_server,
        "restore": fleet.servers * fleet.restores_per_server,
        "delete": fleet.servers * fleet.deletes_per_server,
        "metric_minute_per_node": fleet.nodes * fleet.minutes,
        "metric_minute_per_run": fleet.minutes,
        "rollup_hour_per_node": fleet.nodes * fleet.hours,
        "api_request": fleet.servers * fleet.api_requests_per_server,
    }


def runs_per_month(every_seconds: float, fleet: Fleet) -> float:
    return fleet.days * 86_400 / every_seconds


def work_scaled(counts: Counts, factor: float, *, time_too: bool = True) -> Counts:
    """The same invocations doing ``factor`` times the work: request units and S3 requests
    scale (and GB-seconds with ``time_too``), the invocations and requests that start them do not."""
    scaled = counts.scaled(1)
    names = ["dynamodb_rru", "dynamodb_wru", "s3_tier1", "s3_tier2"] + (["lambda_gb_seconds"] if time_too else [])
    for name in names:
        setattr(scaled, name, getattr(counts, name) * factor)
    return scaled


@dataclass
class Line:
    name: str
    per_run: Counts
    times: float
    note: str = ""

    @property
    def monthly(self) -> Counts:
        return self.per_run.scaled(self.times)

    @property
    def cost(self) -> float:
        return self.monthly.cost()


def api_request_average(page_views: Mapping[str, Counts]) -> Counts:
    """One API request as the page views measured it (their units over their requests)."""
    total = Counts()
    requests = 0
    for counts in page_views.values():
        requests += counts.api_requests
        for f in fields(Counts):
            if f.name != "calls":
                setattr(total, f.name, getattr(total, f.name) + getattr(counts, f.name))
    if requests == 0:
        raise ValueError("the page views made no API request")
    return total.scaled(1 / requests)


def month_of(probe: Mapping[str, object], fleet: Fleet = Fleet()) -> list[Line]:
    """The reference month priced from one ``bench.cost_probe`` run.

    * each operation, times how often the fleet does it (``monthly_times``);
    * the API requests at the page views' average request;
    * the metric minute (``metric_minute``): its per-node part once per node and minute, its
      per-run part once a minute; the hourly rollup once per node and hour, its work scaled
      from the probe's servers to the fleet's;
    * every other schedule (the metrics rollup among them) at its rate: per-node ones with
      their work times the nodes, the rest with their work scaled from the probe's servers to
      the fleet's (an upper bound: they read per tenant or per server, never more).
    """
    times = monthly_times(fleet)
    servers_on_node = float(probe["servers_on_node"])  # type: ignore[arg-type]
    operations = probe["operations"]
    assert isinstance(operations, Mapping)
    lines = [Line(name, Counts.from_dict(operations[name]), times[name]) for name in OPERATIONS]
    views = probe["page_views"]
    assert isinstance(views, Mapping)
    lines.append(
        Line(
            "api_request",
            api_request_average({k: Counts.from_dict(v) for k, v in views.items()}),
            times["api_request"],
            note="average of the page views: " + ", ".join(views),
        )
    )
    schedules = probe["schedules"]
    assert isinstance(schedules, Mapping)
    rollups = [name for name in schedules if "rollup" in name]
    for name, measured in schedules.items():
        counts, every = Counts.from_dict(measured["counts"]), float(measured["every_seconds"])
        runs = runs_per_month(every, fleet)
        if name == METRIC_MINUTE:
            minute = probe["metric_minute"]
            assert isinstance(minute, Mapping)
            node, run = metric_minute(minute, servers_on_node, fleet)
            per_node_servers = fleet.servers // fleet.nodes
            hour = probe["rollup_hour"]
            assert isinstance(hour, Mapping)
            rollup = work_scaled(Counts.from_dict(hour), per_node_servers / servers_on_node)
            lines += [
                Line("metric_minute_per_node", node, times["metric_minute_per_node"],
                     note=f"{name}: one node of {per_node_servers} servers"),
                Line("metric_minute_per_run", run, times["metric_minute_per_run"],
                     note=f"{name}: the run itself (fleet counters, the invocation)"),
                Line("rollup_hour_per_node", rollup, times["rollup_hour_per_node"],
                     note=f"an hour of {per_node_servers} servers rolled up, in the hour's first run"),
            ]  # fmt: skip
        elif name in PER_NODE_SCHEDULES:
            lines.append(Line(f"schedule:{name}", work_scaled(counts, fleet.nodes), runs, note=f"work x{fleet.nodes}"))
        else:
            factor = fleet.servers / servers_on_node
            kind = "rollup" if name in rollups else "schedule"
            lines.append(Line(f"{kind}:{name}", work_scaled(counts, factor), runs, note=f"work x{factor:g}"))
    return lines


def metric_minute(minute: Mapping[str, Mapping[str, object]], n: float, fleet: Fleet) -> tuple[Counts, Counts]:
    """``reconcile_servers``' minute split into what it costs per node (reading the node's
    servers and Wings' list, writing the node's metric minute and any changed status) and once
    per run (the fleet counters, the one invocation and its time), from one run over a node of
    ``n`` servers and the counters' part of it. The per-node part is scaled to the fleet's
    servers per node; the nodes are read concurrently, so their time is the run's."""
    one = Counts.from_dict(minute["one_node"])
    run_part = Counts.from_dict(minute["per_run"])
    node = Counts(**{name: max(getattr(one, name) - getattr(run_part, name), 0.0) for name in _WORK})
    node = work_scaled(node, fleet.servers / fleet.nodes / n, time_too=False)
    run = Counts(**{name: getattr(run_part, name) for name in _WORK})
    run.lambda_invocations = one.lambda_invocations
    run.lambda_gb_seconds = one.lambda_gb_seconds
    for part in ("recount", "server_sweep"):
        if part not in minute:
            continue
        # Every few minutes: the fleet counters' recount and the sweeper's look at every
        # server. Their reads grow with the servers (they read them all); their writes (the
        # counter items) do not.
        every = float(minute[f"{part}_every_minutes"])  # type: ignore[arg-type]
        measured = Counts.from_dict(minute[part])
        scaled = work_scaled(measured, fleet.servers / n)
        scaled.dynamodb_wru = measured.dynamodb_wru
        for name in (*_WORK, "lambda_gb_seconds"):
            setattr(run, name, getattr(run, name) + getattr(scaled, name) / every)
    return node, run


_WORK = ("dynamodb_rru", "dynamodb_wru", "s3_tier1", "s3_tier2")


def total(lines: list[Line]) -> float:
    return sum(line.cost for line in lines)


def per_100_servers(lines: list[Line], fleet: Fleet = Fleet()) -> float:
    return total(lines) * 100 / fleet.servers


def within_budget(lines: list[Line], fleet: Fleet = Fleet()) -> bool:
    return per_100_servers(lines, fleet) <= BUDGET_PER_100_SERVERS


# What an idle tenant could add is counted, not timed: a schedule whose reads do not grow with
# the tenants does not run longer for them, and its durations vary from run to run anyway.
COUNTED = (
    "lambda_invocations",
    "api_requests",
    "dynamodb_rru",
    "dynamodb_wru",
    "state_transitions",
    "s3_tier1",
    "s3_tier2",
)


def idle_tenant_cost(deltas: Mapping[str, tuple[Counts, float]], tenants: int, fleet: Fleet = Fleet()) -> float:
    """The month's cost of one idle tenant: for each schedule, what ``tenants`` more idle
    tenants added to one run (``(after - before, every seconds)``), per tenant, for every run of
    the month. An idle tenant makes no request and starts no workflow, so that is all it can cost."""
    cost = 0.0
    for delta, every_seconds in deltas.values():
        counted = Counts(**{name: max(getattr(delta, name), 0) for name in COUNTED})
        cost += counted.cost() / max(tenants, 1) * runs_per_month(every_seconds, fleet)
    return cost
