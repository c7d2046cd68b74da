"""Roles of a tenant: the built-in roles and the tenant's custom ones (create, change, delete).

Changing a custom role changes every binding to it before the call returns (the bindings
carry a copy of its permissions, so the guard authorizes from the binding alone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from mamba.auth.context import TenantContext
from mamba.domain.clock import iso, new_id, utcnow
from mamba.domain.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.tenancy import (
    CUSTOM_ROLE_PREFIX,
    Role,
    builtin_role,
    builtin_roles,
    check_description,
    check_grant,
    check_permission_list,
    check_role_name,
)
from mamba.services.tenants import TenancyRepository


def _now() -> str:
    return iso(utcnow())


def resolve_role(repo: TenancyRepository, tenant_id: str, role_id: str) -> Role:
    """A built-in role by name or a custom role of this tenant by id. Raises ValidationError
    (field ``role``) when neither exists."""
    found = builtin_role(role_id)
    if found is not None:
        return found
    if role_id.startswith(CUSTOM_ROLE_PREFIX):
        try:
            return repo.get_role(tenant_id, role_id)
        except NotFoundError:
            pass
    raise ValidationError(f"There is no role {role_id!r} in this tenant.", {"field": "role", "role": role_id})


def list_roles(repo: TenancyRepository, tenant: TenantContext, page: PageRequest) -> Page[Role]:
    """The built-in roles (on the first page only), then the tenant's custom roles."""
    custom = repo.list_roles(tenant.tenant_id, page)
    items = (builtin_roles() if page.cursor is None else []) + custom.items
    return Page(items=items, next_cursor=custom.next_cursor)


def get_role(repo: TenancyRepository, tenant: TenantContext, role_id: str) -> Role:
    """Raises NotFoundError."""
    found = builtin_role(role_id)
    if found is not None:
        return found
    return repo.get_role(tenant.tenant_id, role_id)


def create_role(
    repo: TenancyRepository,
    tenant: TenantContext,
    name: str,
    permissions: list[str],
    description: str | None = None,
    *,
    now: Callable[[], str] = _now,
) -> Role:
    """Raises ValidationError (name, description, not tenant permissions), ForbiddenError
    (permissions the actor lacks) and ConflictError (the name is taken or built in)."""
    granted = check_permission_list(permissions)
    check_grant(tenant, granted, "create a role with these permissions")
    created = now()
    role = Role(
        id=new_id("rl"),
        name=check_role_name(name),
        permissions=granted,
        builtin=False,
        description=check_description(description),
        tenant_id=tenant.tenant_id,
        created_at=created,
        updated_at=created,
    )
    repo.add_role(role)
    return role


def _custom_role(repo: TenancyRepository, tenant: TenantContext, role_id: str) -> Role:
    if builtin_role(role_id) is not None:
        raise ConflictError("Built-in roles cannot be changed or deleted.", {"role": role_id})
    return repo.get_role(tenant.tenant_id, role_id)


def update_role(
    repo: TenancyRepository,
    tenant: TenantContext,
    role_id: str,
    *,
    name: str | None = None,
    permissions: list[str] | None = None,
    description: str | None = None,
    set_description: bool = False,
    now: Callable[[], str] = _now,
) -> Role:
    """Change a custom role; its members' bindings follow before this returns.

    Raises NotFoundError, ConflictError (built-in role, name taken, concurrent change),
    ValidationError and ForbiddenError (the current or new permissions exceed the actor's; an
    actor with a temporary grant adds permissions to a role members hold).
    """
    if name is None and permissions is None and not set_description:
        raise ValidationError("Nothing to change: give name, description and/or permissions.", {"field": "body"})
    current = _custom_role(repo, tenant, role_id)
    check_grant(tenant, current.permissions, "change this role")
    granted = check_permission_list(permissions) if permissions is not None else current.permissions
    check_grant(tenant, granted, "give this role these permissions")
    if tenant.expires_at is not None and current.members > 0 and granted - current.permissions:
        # Widening a bound role widens every binding to it, permanent ones included: a
        # temporary grant would outlive itself through them.
        raise ForbiddenError(
            "Your own access is temporary: you cannot add permissions to a role that members hold.",
            {"field": "permissions", "members": current.members},
        )
    updated = replace(
        current,
        name=check_role_name(name) if name is not None else current.name,
        permissions=granted,
        description=check_description(description) if set_description else current.description,
        updated_at=now(),
        version=current.version + 1,
    )
    repo.update_role(current, updated)
    # Bindings written from the old version now fail their version check, so after this
    # sweep no membership can keep the old permissions.
    if updated.permissions != current.permissions:
        repo.sync_role_bindings(updated)
    return updated


def delete_role(repo: TenancyRepository, tenant: TenantContext, role_id: str) -> None:
    """Raises NotFoundError, ConflictError (built in, or still bound) and ForbiddenError."""
    current = _custom_role(repo, tenant, role_id)
    check_grant(tenant, current.permissions, "delete this role")
    if current.members > 0:
        raise ConflictError(
            "The role is still bound to members; change their role first.",
            {"role": role_id, "members": current.members},
        )
    repo.delete_role(current)
