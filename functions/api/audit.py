"""The audit log: a tenant's (audit.read) and the platform's (admin.audit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import Ctx, parse_query, route

if TYPE_CHECKING:
    from mamba.domain import audit as audit_records
    from mamba.schemas import audit as schemas
    from mamba.schemas.audit import AuditQuery
    from mamba.services import audit
else:
    audit = lazy_import("mamba.services.audit")
    audit_records = lazy_import("mamba.domain.audit")
    schemas = lazy_import("mamba.schemas.audit")

bp = Blueprint(__name__)


def _filters(query: AuditQuery) -> audit_records.AuditFilter:
    return audit.make_filter(
        action=query.action, actor=query.actor, result=query.result, since=query.from_, until=query.to
    )


@route(
    bp,
    "/v1/tenants/{tenant_id}/audit",
    "GET",
    permission="audit.read",
    summary="The tenant's audit log, newest first, with filters",
    tags=("audit",),
    response_model="audit:AuditList",
    query="audit:AuditQuery",
)
def list_tenant_audit(ctx: Ctx, tenant_id: str) -> audit_records.AuditPage:
    query = parse_query(ctx.request, schemas.AuditQuery)
    return audit.list_tenant_entries(
        bootstrap.audit_log(), ctx.tenant, _filters(query), limit=query.limit, cursor=query.cursor
    )


@route(
    bp,
    "/v1/admin/audit",
    "GET",
    permission="admin.audit",
    summary="The platform audit log (account and admin actions), one tenant's (?tenant_id=) or the security log",
    tags=("audit", "admin"),
    response_model="audit:AuditList",
    query="audit:AdminAuditQuery",
)
def list_platform_audit(ctx: Ctx) -> audit_records.AuditPage:
    query = parse_query(ctx.request, schemas.AdminAuditQuery)
    return audit.list_platform_entries(
        bootstrap.audit_log(),
        _filters(query),
        tenant_id=query.tenant_id,
        limit=query.limit,
        cursor=query.cursor,
        security=query.log == "security",
    )
