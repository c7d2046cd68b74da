"""The catalog a tenant reads: blueprints it may build from, public plans, locations, quota use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain.errors import ValidationError
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import PUBLIC, Ctx, route

if TYPE_CHECKING:
    from mamba.services import billing
    from mamba.services import catalog as service
else:
    service = lazy_import("mamba.services.catalog")
    billing = lazy_import("mamba.services.billing")

bp = Blueprint(__name__)
TAGS = ("catalog",)


@route(bp, "/v1/tenants/{tenant_id}/blueprints", "GET", permission="servers.read", tags=TAGS,
       summary="The blueprints this tenant may create servers from, with their user-visible variables",
       response_model="catalog:CatalogBlueprintList", query=("limit", "cursor"))  # fmt: skip
def list_blueprints(ctx: Ctx, tenant_id: str) -> dict[str, Any]:
    items, cursor = service.tenant_blueprints(bootstrap.blueprint_repository(), PageRequest.from_query(ctx.query))
    return {"items": items, "next_cursor": cursor}


@route(bp, "/v1/plans", "GET", permission=PUBLIC, tags=TAGS,
       summary="The plans on offer: price, currency, interval and quotas (no credentials needed)",
       response_model="catalog:PublicPlanList")  # fmt: skip
def list_plans(ctx: Ctx) -> dict[str, Any]:
    repo = bootstrap.billing_repository()
    plans = service.public_plans(repo, billing.free_plan(repo, bootstrap.free_quotas()))
    return {
        "items": [
            {
                "id": p.id,
                "name": p.name,
                "free": p.id == "free",
                "amount_cents": p.amount_cents,
                "currency": p.currency,
                "interval": p.interval,
                "metered": [m.metric for m in p.metered],
                "quotas": p.quotas.to_dict(),
            }
            for p in plans
        ],
        "billing_enabled": bootstrap.settings().billing_enabled,
    }


def _size(ctx: Ctx, name: str) -> int:
    raw = ctx.query.get(name, "0")
    if not raw.isdigit() or int(raw) > 100_000_000:
        raise ValidationError(
            f"{name} must be a whole number of MiB.", {"fields": [{"field": name, "message": "not a size in MiB"}]}
        )
    return int(raw)


@route(bp, "/v1/tenants/{tenant_id}/locations", "GET", permission="servers.create", tags=TAGS,
       summary="Where this tenant can place a server now (pass memory_mb and disk_mb to ask for a size)",
       response_model="catalog:LocationList", query=("memory_mb", "disk_mb"))  # fmt: skip
def list_locations(ctx: Ctx, tenant_id: str) -> dict[str, Any]:
    found = service.locations(
        bootstrap.placement_store(), ctx.tenant.tenant_id, _size(ctx, "memory_mb"), _size(ctx, "disk_mb")
    )
    return {"items": found}


@route(bp, "/v1/tenants/{tenant_id}/usage", "GET", permission="tenant.read", tags=TAGS,
       summary="Quota use against the plan's limits (servers, memory, disk, backup storage)",
       response_model="catalog:TenantUsageOut")  # fmt: skip
def get_usage(ctx: Ctx, tenant_id: str) -> dict[str, Any]:
    return service.tenant_usage(bootstrap.tenant_usage_reader(), ctx.tenant.tenant_id, bootstrap.free_quotas())
