"""Responses and queries of the metrics history and a server's event history."""

from typing import Any, Literal

from pydantic import Field

from mamba.schemas.common import EpochTime, Schema

METRICS_QUERY = ("from", "to", "resolution", "format")
EVENTS_QUERY = ("limit", "cursor")


class MetricsQuery(Schema):
    from_: str | None = Field(default=None, alias="from", max_length=40, description="Epoch seconds or ISO 8601")
    to: str | None = Field(default=None, max_length=40, description="Epoch seconds or ISO 8601 (default: now)")
    resolution: Literal["auto", "1m", "5m", "1h"] = "auto"
    format: Literal["json", "csv"] = "json"


class MetricPointOut(Schema):
    t: int = Field(description="The interval's start, epoch seconds")
    cpu_percent: float = Field(description="Mean CPU over the interval (100 = one core)")
    memory_bytes: int = Field(description="Mean memory in use over the interval")
    memory_limit_bytes: int
    rx_bytes: int = Field(description="Bytes received during the interval")
    tx_bytes: int = Field(description="Bytes sent during the interval")
    disk_bytes: int = Field(description="Disk in use at the interval's end")
    state: str = Field(description="offline | starting | running | stopping (a node's totals: online)")


class MetricsOut(Schema):
    resolution: Literal["1m", "5m", "1h"]
    points: list[MetricPointOut] = Field(description="Oldest first")


class ServerEventOut(Schema):
    id: str
    type: Literal["server.crashed", "server.oom_suspected", "server.crash_loop"]
    at: EpochTime
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="crashed/oom_suspected: memory_bytes, memory_limit_bytes of the last sample; "
        "crash_loop: crashes, window_seconds",
    )


class ServerEventList(Schema):
    items: list[ServerEventOut]
    next_cursor: str | None = None
