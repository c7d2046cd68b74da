"""Operations: the live status of a tenant's workflows."""

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.lazy import lazy_import
from mamba.web import Ctx, route

if TYPE_CHECKING:
    from mamba.services import operations
else:
    operations = lazy_import("mamba.services.operations")

bp = Blueprint(__name__)


@route(
    bp,
    "/v1/tenants/{tenant_id}/operations/{op_id}",
    "GET",
    permission="operations.read",
    summary="Follow an operation: status, steps and error",
    tags=("operations",),
    response_model="common:OperationOut",
)
def get_operation(ctx: Ctx, tenant_id: str, op_id: str) -> object:
    return operations.get_operation(bootstrap.operation_repository(), ctx.tenant, op_id)
