"""Platform admin: every tenant's operations (workflows), their failures, and retrying the safe ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain.pages import PageRequest
from mamba.lazy import lazy_import
from mamba.web import Ctx, route, with_fields

if TYPE_CHECKING:
    from mamba.domain import operations as operation_rules
    from mamba.domain.operations import Operation
    from mamba.services import operations
else:
    operations = lazy_import("mamba.services.operations")
    operation_rules = lazy_import("mamba.domain.operations")

bp = Blueprint(__name__)
TAGS = ("admin",)


def _admin_view(op: Operation, **more: Any) -> Any:
    refusal = operation_rules.retry_refusal(op)
    return with_fields(op, retryable=refusal is None, retry_refusal=refusal, **more)


@route(
    bp,
    "/v1/admin/operations",
    "GET",
    permission="admin.operations",
    summary="Every tenant's operations, newest first, by status, type and creation time",
    tags=TAGS,
    response_model="common:AdminOperationList",
    query=("limit", "cursor", "status", "type", "since"),
)
def list_operations(ctx: Ctx) -> object:
    page = operations.list_all_operations(
        bootstrap.operation_repository(),
        PageRequest.from_query(ctx.query),
        status=ctx.query.get("status"),
        op_type=ctx.query.get("type"),
        since=ctx.query.get("since"),
    )
    return {"items": [_admin_view(op) for op in page.items], "next_cursor": page.next_cursor}


@route(
    bp,
    "/v1/admin/operations/{op_id}",
    "GET",
    permission="admin.operations",
    summary="An operation with its steps, and its execution's failed state and cause when it failed",
    tags=TAGS,
    response_model="common:AdminOperationDetailOut",
)
def get_operation(ctx: Ctx, op_id: str) -> object:
    detail = operations.admin_operation(bootstrap.operation_repository(), bootstrap.workflows(), op_id)
    return _admin_view(detail.operation, failure=detail.failure)


@route(
    bp,
    "/v1/admin/operations/{op_id}/retry",
    "POST",
    permission="admin.operations",
    summary="Start a failed operation again from its recorded input (only the types safe to rerun; else 409)",
    tags=TAGS,
    response_model="common:AdminOperationOut",
    status=202,
)
def retry_operation(ctx: Ctx, op_id: str) -> object:
    retried = operations.retry_operation(
        bootstrap.operation_repository(), bootstrap.workflows(), op_id, bootstrap.retry_preparers()
    )
    return _admin_view(retried)
