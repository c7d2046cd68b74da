"""What a tenant may choose from and how much of its plan it uses: the catalog the web
panel's create-server form, pricing page and dashboard read.

* ``tenant_blueprints``: every blueprint, reduced to what a member may see (no install
  script, config files or image internals beyond the selectable images), with the variables
  users may see and each variable's rules parsed into ``{name, args}`` so a browser checks a
  value by the same rules ``validate_environment`` applies.
* ``public_plans``: the active plans with their display price and quotas (no Stripe ids).
* ``locations``: where the tenant can place a server now, by placement's own ``why_not``;
  never a node id, name or count.
* ``tenant_usage``: quota use against the effective quotas (the same rule as
  ``mamba.services.quotas.effective_quotas``).

Errors: NotFoundError (a blueprint that vanished between pages is simply absent),
DependencyUnavailableError from the adapters.
"""

from __future__ import annotations

from typing import Any, Protocol

from mamba.domain import billing as b
from mamba.domain import rules as rule_parser
from mamba.domain.blueprints import Blueprint, Variable
from mamba.domain.pages import Page, PageRequest
from mamba.domain.placement import NodeLoad, PlacementRequest, why_not
from mamba.domain.quotas import Quotas, UsageFacts, tenant_quotas, unlimited

# Reasons a node is out for everyone's request, not for this request's size.
_CLOSED = {"tenant_not_allowed", "maintenance"}


class BlueprintLister(Protocol):
    def list(self, limit: int = ..., cursor: str | None = None) -> tuple[list[Blueprint], str | None]: ...


class PlanLister(Protocol):
    def list_plans(self, page: PageRequest) -> Page[b.Plan]: ...


class NodeLoads(Protocol):
    def node_loads(self) -> list[NodeLoad]: ...


class UsageReader(Protocol):
    def read(self, tenant_id: str) -> UsageFacts: ...


# --- blueprints -----------------------------------------------------------------------------


def rule_list(text: str) -> list[dict[str, Any]]:
    """The variable's rules as ``[{"name", "args"}]``; a rule string the panel cannot parse
    (stored before the parser knew it) gives ``[]`` rather than failing the whole catalog."""
    try:
        parsed = rule_parser.parse_rules(text)
    except rule_parser.UnsupportedRuleError:
        return []
    return [{"name": r.name, "args": list(r.args)} for r in parsed.rules]


def variable_view(variable: Variable) -> dict[str, Any]:
    parsed = rule_list(variable.rules)
    names = {r["name"] for r in parsed}
    return {
        "name": variable.name,
        "description": variable.description,
        "env_variable": variable.env_variable,
        "default_value": variable.default_value,
        "user_viewable": variable.user_viewable,
        "user_editable": variable.user_editable,
        "required": "required" in names,
        "field_type": variable.field_type,
        "rules": variable.rules,
        "rule_list": parsed,
    }


def blueprint_view(blueprint: Blueprint) -> dict[str, Any]:
    """A blueprint as a tenant member sees it: hidden variables (``user_viewable`` false) are
    left out; Wings keeps applying their defaults."""
    return {
        "id": blueprint.id,
        "name": blueprint.name,
        "description": blueprint.description,
        "author": blueprint.author,
        "features": list(blueprint.features),
        "docker_images": dict(blueprint.docker_images),
        "default_docker_image": blueprint.default_image,
        "variables": [variable_view(v) for v in blueprint.variables if v.user_viewable],
    }


def tenant_blueprints(repo: BlueprintLister, page: PageRequest) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the blueprints a member may build a server from (one Query).

    Every blueprint is offered to every tenant today; a per-tenant allow-list would filter here.
    """
    found, cursor = repo.list(page.limit, page.cursor)
    return [blueprint_view(bp) for bp in found], cursor


# --- plans ----------------------------------------------------------------------------------

MAX_PLAN_PAGES = 10  # plans are a handful; this bounds a public route's reads


def public_plans(repo: PlanLister, free: b.Plan) -> list[b.Plan]:
    """The active plans, the free plan first. ``free`` is the stored ``free`` plan or its
    Settings defaults (``mamba.services.billing.free_plan``)."""
    plans: list[b.Plan] = []
    cursor: str | None = None
    for _ in range(MAX_PLAN_PAGES):
        page = repo.list_plans(PageRequest(100, cursor))
        plans.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    paid = [p for p in plans if p.active and p.id != b.FREE_PLAN_ID]
    return ([free] if free.active else []) + sorted(paid, key=lambda p: (p.amount_cents, p.id))


# --- locations ------------------------------------------------------------------------------


def locations(store: NodeLoads, tenant_id: str, memory_mb: int = 0, disk_mb: int = 0) -> list[dict[str, Any]]:
    """The locations with at least one node open to the tenant, each with ``available``: some
    node there could take a server of ``memory_mb`` and ``disk_mb`` now (0 and 0: any room at
    all). Nodes without a location are left out (a create cannot ask for them by name)."""
    request = PlacementRequest(tenant_id=tenant_id, memory_mb=max(memory_mb, 1), disk_mb=max(disk_mb, 1))
    open_at: dict[str, bool] = {}
    for load in store.node_loads():
        where = load.node.location
        if not where:
            continue
        reason = why_not(load, request)
        if reason in _CLOSED:
            continue
        open_at[where] = open_at.get(where, False) or reason is None
    return [{"id": where, "available": available} for where, available in sorted(open_at.items())]


# --- usage ----------------------------------------------------------------------------------


def _use(used: int, limit: int) -> dict[str, Any]:
    return {"used": used, "limit": limit, "unlimited": unlimited(limit)}


def tenant_usage(reader: UsageReader, tenant_id: str, settings_free: Quotas) -> dict[str, Any]:
    """Quota use against limits. ``settings_free`` is the Settings free plan (FREE_PLAN_*):
    a tenant with ``plan_quotas`` takes each missing key from it; a tenant without takes the
    stored free plan, else it (as ``effective_quotas`` does)."""
    facts = reader.read(tenant_id)
    quotas = tenant_quotas(facts.plan_quotas, facts.stored_free_quotas, settings_free)
    return {
        "plan_id": facts.plan_id,
        "servers": _use(facts.servers.servers, quotas.servers),
        "memory_mb": _use(facts.servers.memory_mb, quotas.memory_mb),
        "disk_mb": _use(facts.servers.disk_mb, quotas.disk_mb),
        "backup_bytes": _use(facts.backup_bytes, quotas.backup_bytes),
        "backups_per_server": {"limit": quotas.backups_per_server, "unlimited": unlimited(quotas.backups_per_server)},
    }


__all__ = [
    "blueprint_view",
    "locations",
    "public_plans",
    "rule_list",
    "tenant_blueprints",
    "tenant_usage",
]
