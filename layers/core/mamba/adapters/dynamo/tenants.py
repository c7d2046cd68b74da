"""Tenants, their memberships, and the role catalogue a tenant can pick from.

A tenant is created with its owner's membership in one transaction, conditional on the
owner existing, so there is never a tenant without an owner nor an owner who is not a user.
A membership lives under the tenant (``TENANT#<tid>/MEMBER#<uid>``, the guard's read) and
is indexed under the user on gsi1 (``USER#<uid>`` / ``TENANT#<tid>``) to list a user's tenants.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import MembershipItem, RoleItem, TenantItem, UserItem
from mamba.adapters.dynamo.users import CONDITION_FAILED, cancellation_codes, connection
from mamba.domain.errors import ConflictError, DependencyUnavailableError, NotFoundError
from mamba.services.accounts import Membership, Tenant


def _tenant(item: TenantItem) -> Tenant:
    return Tenant(id=item.tenant_id, name=item.name, created_at=item.created_at, status=item.status)


def _membership(item: MembershipItem) -> Membership:
    return Membership(tenant_id=item.tenant_id, user_id=item.user_id, role=item.role, created_at=item.created_at)


class DynamoTenantRepository:
    def add_with_owner(self, tenant: Tenant, owner: Membership) -> None:
        pk, sk = keys.tenant(tenant.id)
        member_pk, member_sk = keys.membership(tenant.id, owner.user_id)
        profile = TenantItem(
            pk,
            sk,
            kind="tenant",
            gsi1pk=keys.ALL_TENANTS,
            gsi1sk=keys.created_sort(tenant.created_at, tenant.id),
            tenant_id=tenant.id,
            name=tenant.name,
            status=tenant.status,
            created_at=tenant.created_at,
        )
        membership = MembershipItem(
            member_pk,
            member_sk,
            kind="membership",
            gsi1pk=keys.memberships_of_user(owner.user_id),
            gsi1sk=keys.user_membership_sort(tenant.id),
            tenant_id=tenant.id,
            user_id=owner.user_id,
            role=owner.role,
            created_at=owner.created_at,
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.condition_check(UserItem, *keys.user(owner.user_id), condition=UserItem.pk.exists())
                tx.save(profile, condition=TenantItem.pk.does_not_exist())
                tx.save(membership, condition=MembershipItem.pk.does_not_exist())
        except TransactWriteError as exc:
            # pynamodb sends condition checks before puts, so the reasons are [owner, tenant, membership].
            codes = cancellation_codes(exc)
            if codes[:1] == [CONDITION_FAILED]:
                raise NotFoundError("The owner does not exist.", {"user_id": owner.user_id}) from exc
            if CONDITION_FAILED in codes[1:3]:
                raise ConflictError("The tenant already exists.", {"tenant_id": tenant.id}) from exc
            raise DependencyUnavailableError("The tenant could not be saved; try again.") from exc

    def get(self, tenant_id: str) -> Tenant:
        try:
            return _tenant(TenantItem.get(*keys.tenant(tenant_id), consistent_read=True))
        except DoesNotExist as exc:
            raise NotFoundError("Tenant not found.", {"tenant_id": tenant_id}) from exc

    def membership(self, tenant_id: str, user_id: str) -> Membership | None:
        try:
            return _membership(MembershipItem.get(*keys.membership(tenant_id, user_id), consistent_read=True))
        except DoesNotExist:
            return None

    def memberships_of_user(self, user_id: str) -> list[Membership]:
        """Every tenant the user belongs to: one Query on gsi1 per page (eventually consistent)."""
        found = MembershipItem.gsi1.query(
            keys.memberships_of_user(user_id),
            MembershipItem.gsi1sk.startswith(keys.USER_MEMBERSHIP_PREFIX),
        )
        return [_membership(item) for item in found]  # type: ignore[arg-type]

    def builtin_roles(self) -> dict[str, frozenset[str]]:
        """The built-in role catalogue as migration 0001 wrote it: name → permissions."""
        found = RoleItem.query(keys.BUILTIN_ROLES, RoleItem.sk.startswith(keys.ROLE_PREFIX))
        return {item.name: frozenset(str(p) for p in item.permissions or []) for item in found}
