"""The one authorization path every non-public route goes through.

Cost: one DynamoDB call (a BatchGetItem of the user and, for tenant routes, the
membership), so a single-resource read stays within two calls.

Answers: no or bad credential → 401; not a member of the path's tenant → 404 (another
tenant's resources do not exist for the caller); member without the permission → 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamba.auth import permissions as perms
from mamba.auth.context import Principal, TenantContext
from mamba.auth.tokens import verify_access
from mamba.domain.errors import ForbiddenError, NotFoundError, UnauthorizedError

if TYPE_CHECKING:
    from chalice.app import Request


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Authentication is required.", {"reason": "missing_credentials"})
    return token.strip()


def authorize(request: Request, permission: str, path_params: dict[str, str]) -> Principal:
    from mamba import bootstrap

    settings = bootstrap.settings()
    claims = verify_access(bearer_token(request), settings.jwt_secret)
    user_id = str(claims["sub"])
    tenant_id = path_params.get("tenant_id")

    user, membership = bootstrap.identity_repository().user_and_membership(user_id, tenant_id)
    if user is None or user.status != "active":
        raise UnauthorizedError("The account is not active.", {"reason": "inactive"})

    if perms.is_admin_permission(permission):
        if not user.is_admin:
            raise ForbiddenError("This needs platform admin rights.", {"permission": permission})
        return Principal(user_id=user_id, is_admin=True)
    if perms.is_account_permission(permission) or tenant_id is None:
        return Principal(user_id=user_id, is_admin=user.is_admin)

    if membership is None:
        raise NotFoundError("Tenant not found.", {"tenant_id": tenant_id})
    granted = perms.BUILTIN_ROLES.get(membership.role, frozenset())
    if permission not in granted:
        raise ForbiddenError("Your role does not allow this.", {"permission": permission})
    return Principal(
        user_id=user_id,
        is_admin=user.is_admin,
        tenant=TenantContext(tenant_id=tenant_id, role=membership.role, permissions=granted),
    )
