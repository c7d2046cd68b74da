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
    * the metric minute (``metric_minute``), once per node and minute;
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
            per_node = metric_minute(counts, Counts.from_dict(probe["metric_minute_one_more_server"]),  # type: ignore[arg-type]
                                     servers_on_node, fleet)  # fmt: skip
            lines.append(
                Line(
                    "metric_minute_per_node",
                    per_node,
                    times["metric_minute_per_node"],
                    note=f"{name} on one node of {fleet.servers // fleet.nodes} servers, from runs with "
                    f"{servers_on_node:g} and {servers_on_node + 1:g}",
                )
            )
        elif name in PER_NODE_SCHEDULES:
            lines.append(Line(f"schedule:{name}", work_scaled(counts, fleet.nodes), runs, note=f"work x{fleet.nodes}"))
        else:
            factor = fleet.servers / servers_on_node
            kind = "rollup" if name in rollups else "schedule"
            lines.append(Line(f"{kind}:{name}", work_scaled(counts, factor), runs, note=f"work x{factor:g}"))
    return lines


def metric_minute(at_n: Counts, at_n_plus_one: Counts, n: float, fleet: Fleet) -> Counts:
    """One node's minute of ``reconcile_servers`` (reading the node, writing its metrics) with the
    fleet's servers on it: the run measured with ``n`` servers plus, for each further server,
    what one more server added (never less than nothing). Everything the run does besides the
    servers counts as per node, an upper bound; its time is not scaled (one listing per node
    whatever it holds), and one invocation a minute reads every node."""
    extra = fleet.servers / fleet.nodes - n
    per_server = {name: max(getattr(at_n_plus_one, name) - getattr(at_n, name), 0.0) for name in _WORK}
    minute = at_n.scaled(1)
    for name in _WORK:
        setattr(minute, name, getattr(at_n, name) + extra * per_server[name])
    minute.lambda_invocations = at_n.lambda_invocations / fleet.nodes
    return minute


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
