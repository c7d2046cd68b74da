"""Child of the ``metrics`` bench section (run as ``python -m bench.metrics_probe``).

On moto in this process, with the product's metrics table and ``DynamoMetricsStore``:

* **ingestion**: nodes of 100 servers write their minute items (one PutItem per node per
  minute, every server in it, compressed), timed in one worker (CPU time): samples per second, and the
  write units one node-minute costs (its stored size, 1 KB per unit);
* **rollups**: the hour rollup of such a node (one Query of its minutes, one item per server);
* **page budget**: the Query pages of the charts' ranges (1 h, 24 h, 7 d, 30 d) on the
  server and node series, counted by the store.

Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

SERVERS_PER_NODE = 100
MINUTES = 300  # five hours of one node, then the rollups of its hours


def main() -> None:
    import boto3
    from moto import mock_aws

    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.metrics import DynamoMetricsStore
    from mamba.adapters.dynamo.tables import METRICS
    from mamba.domain import metrics as m
    from mamba.services import metrics as service

    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        db.create_table(**METRICS.create_table_kwargs("bench-metrics"))
        store = DynamoMetricsStore(db, "bench-metrics")
        rng = random.Random(7)
        servers = [str(uuid.uuid4()) for _ in range(SERVERS_PER_NODE)]
        now = int(time.time()) // 3600 * 3600
        start = now - MINUTES * 60

        def samples() -> dict[str, m.Sample]:
            return {
                u: m.Sample(
                    round(rng.uniform(0, 400), 3),
                    rng.randrange(10**9),
                    2**32,
                    rng.randrange(10**11),
                    rng.randrange(10**11),
                    rng.randrange(10**10),
                    rng.randrange(10**9),
                    "running",
                )
                for u in servers
            }

        batches = [samples() for _ in range(20)]
        for i in range(10):  # warm up (moto's first requests, the client's first calls)
            store.put_minute("nd_warm", start + 60 * i, batches[i])
        # CPU time of this process (the client and moto both run in it): the machine is shared,
        # and wall-clock time would measure the neighbours.
        began, wall = time.process_time(), time.perf_counter()
        for i in range(MINUTES):
            store.put_minute("nd_bench", start + 60 * i, batches[i % len(batches)])
        took, wall = time.process_time() - began, time.perf_counter() - wall
        item = db.get_item(
            TableName="bench-metrics",
            Key={"pk": {"S": keys.metrics_node("nd_bench")}, "sk": {"S": keys.metrics_minute(start)}},
        )["Item"]
        size = len(item["pk"]["S"]) + len(item["sk"]["S"]) + len(item["d"]["B"]) + len(item["ttl"]["N"]) + 8

        class Nodes:
            def get(self, node_id: str) -> object:
                from types import SimpleNamespace

                return SimpleNamespace(id=node_id)

        ports = service.MetricsPorts(
            store=store, events=None, servers=None, nodes=Nodes(), clock=lambda: now + 30,  # type: ignore[arg-type]
            new_id=lambda: "ev", server_partition=keys.metrics_server, node_partition=keys.metrics_node,
        )  # fmt: skip
        db.put_item(
            TableName="bench-metrics",
            Item={
                "pk": {"S": keys.metrics_node("nd_bench")},
                "sk": {"S": keys.METRICS_ROLLED},
                "hour": {"N": str(start - 3600)},
            },
        )
        began = time.process_time()
        hours = service.roll_up(ports, "nd_bench", now + 30)
        rollup_seconds = (time.process_time() - began) / max(hours, 1)

        pages: dict[str, int] = {}
        for label, seconds in (("1h", 3600), ("24h", 86400), ("7d", 7 * 86400), ("30d", 30 * 86400)):
            store.counter.pages = 0
            series = service._series(  # the query the routes run, after their one GetItem
                ports, m.window(now + 30 - seconds, now + 30, "auto", now=now + 30), "nd_bench", servers[0],
                keys.metrics_server(servers[0]), now + 30,
            )  # fmt: skip
            pages[f"server {label} ({series.resolution}, {len(series.points)} points)"] = store.counter.pages
            store.counter.pages = 0
            service.node_metrics(ports, "nd_bench", start=now + 30 - seconds, end=now + 30)
            pages[f"node {label}"] = store.counter.pages
        print(
            json.dumps(
                {
                    "samples_per_second": MINUTES * SERVERS_PER_NODE / took,
                    "put_seconds": took / MINUTES,
                    "samples_per_wall_second": MINUTES * SERVERS_PER_NODE / wall,
                    "servers_per_node": SERVERS_PER_NODE,
                    "item_bytes": size,
                    "write_units_per_node_minute": -(-size // 1024),
                    "rollup_hours": hours,
                    "rollup_seconds_per_hour": rollup_seconds,
                    "pages": pages,
                }
            )
        )


if __name__ == "__main__":
    main()
