"""Metrics history of a tenant's server and of a node, and a server's event history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from mamba import bootstrap
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, parse_query, route

if TYPE_CHECKING:
    from mamba.domain import metrics as rules
    from mamba.schemas import metrics as schemas
    from mamba.schemas.metrics import MetricsQuery
    from mamba.services import metrics
else:
    metrics = lazy_import("mamba.services.metrics")
    rules = lazy_import("mamba.domain.metrics")
    schemas = lazy_import("mamba.schemas.metrics")

bp = Blueprint(__name__)
SERVER = "/v1/tenants/{tenant_id}/servers/{server_id}"
CSV = "text/csv"


def _answer(query: MetricsQuery, series: metrics.Series, name: str) -> object:
    if query.format == "csv":
        return Response(
            body=rules.to_csv(series.points),
            status_code=200,
            headers={
                "Content-Type": f"{CSV}; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{name}-{series.resolution}.csv"',
            },
        )
    return series


@route(
    bp,
    f"{SERVER}/metrics",
    "GET",
    permission="servers.read",
    summary="The server's CPU, memory, network and disk history (?format=csv for CSV)",
    tags=("servers",),
    response_model="metrics:MetricsOut",
    query="metrics:MetricsQuery",
    alternate_types=(CSV,),
)
def get_server_metrics(ctx: Ctx, tenant_id: str, server_id: str) -> object:
    query = parse_query(ctx.request, schemas.MetricsQuery)
    series = metrics.server_metrics(
        bootstrap.metrics_ports(),
        ctx.tenant,
        server_id,
        start=rules.parse_time(query.from_, "from"),
        end=rules.parse_time(query.to, "to"),
        resolution=query.resolution,
    )
    return _answer(query, series, f"server-{server_id[:8]}")


@route(
    bp,
    "/v1/admin/nodes/{node_id}/metrics",
    "GET",
    permission="admin.nodes",
    summary="The node's totals over its servers: CPU, memory, network and disk history (?format=csv for CSV)",
    tags=("admin: nodes",),
    response_model="metrics:MetricsOut",
    query="metrics:MetricsQuery",
    alternate_types=(CSV,),
)
def get_node_metrics(ctx: Ctx, node_id: str) -> object:
    query = parse_query(ctx.request, schemas.MetricsQuery)
    series = metrics.node_metrics(
        bootstrap.metrics_ports(),
        node_id,
        start=rules.parse_time(query.from_, "from"),
        end=rules.parse_time(query.to, "to"),
        resolution=query.resolution,
    )
    return _answer(query, series, f"node-{node_id}")


@route(
    bp,
    f"{SERVER}/events",
    "GET",
    permission="servers.read",
    summary="The server's event history (crashes, suspected out-of-memory, crash loops), newest first",
    tags=("servers",),
    response_model="metrics:ServerEventList",
    query=("limit", "cursor"),  # as mamba.schemas.metrics.EVENTS_QUERY
)
def list_server_events(ctx: Ctx, tenant_id: str, server_id: str) -> object:
    page = PageRequest.from_query(ctx.query)
    return metrics.list_events(bootstrap.metrics_ports(), ctx.tenant, server_id, page)
