"""Platform-wide listings and account/tenant status for admins.

The listings Query one gsi1 partition each (``USERS``, ``TENANTS``: every user and tenant
profile carries it from its first write; migration 0004 backfills older items), in
creation order, one Query per page. Status changes are conditional UpdateItems that never
create a half-formed item for an unknown id.
"""

from __future__ import annotations

from typing import Any

from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys, prefetch
from mamba.adapters.dynamo.errors import SKIP, Cancellation, translate
from mamba.adapters.dynamo.items import MembershipItem, TenantItem, TenantStatsItem, UserItem
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.adapters.dynamo.tenants import membership_record, tenant_record, tenant_stat, update_or_raise
from mamba.adapters.dynamo.users import connection
from mamba.domain.accounts import UserSummary
from mamba.domain.errors import LastAdminError, NotFoundError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.tenancy import Membership, Tenant


def user_summary(item: UserItem) -> UserSummary:
    return UserSummary(
        id=item.user_id,
        email=item.email,
        created_at=item.created_at,
        name=item.name,
        is_admin=bool(item.is_admin),
        email_verified=bool(item.email_verified),
        status=item.status,
        totp_enabled=bool(item.totp_enabled),
        passkeys=int(item.passkey_count or 0),
    )


class DynamoAdminRepository:
    def __init__(self, cursors: CursorCodec) -> None:
        self.cursors = cursors

    def list_users(self, page: PageRequest) -> Page[UserSummary]:
        found, cursor = query_page(self.cursors, UserItem.gsi1.query, keys.ALL_USERS, scope="admin.users", page=page)
        return Page(items=[user_summary(item) for item in found], next_cursor=cursor)

    def get_user(self, user_id: str) -> UserSummary:
        ahead = prefetch.take(keys.user(user_id))  # read with the caller by the guard (a read of this user)
        if ahead is not None:
            if ahead.item is None:
                raise NotFoundError("User not found.", {"user_id": user_id})
            return user_summary(UserItem.from_raw_data(ahead.item))
        with translate(on_missing=NotFoundError("User not found.", {"user_id": user_id})):
            return user_summary(UserItem.get(*keys.user(user_id), consistent_read=True))

    def memberships_of_user(self, user_id: str) -> list[Membership]:
        found = MembershipItem.gsi1.query(
            keys.memberships_of_user(user_id), MembershipItem.gsi1sk.startswith(keys.USER_MEMBERSHIP_PREFIX)
        )
        return [membership_record(item) for item in found]  # type: ignore[arg-type]

    def _update_user(self, user_id: str, actions: list[Any], actor_id: str | None = None) -> UserSummary:
        item = UserItem(*keys.user(user_id))
        missing = NotFoundError("User not found.", {"user_id": user_id})
        if actor_id is None:
            update_or_raise(item, actions, UserItem.pk.exists(), missing)
            return self.get_user(user_id)

        lost = LastAdminError(
            "You are no longer an active admin, so this change could leave the platform without one.",
            {"reason": "last_admin"},
        )

        def refused(cancel: Cancellation) -> NotFoundError | LastAdminError:
            # pynamodb sends the condition check (the actor) first, then the update (the target).
            if cancel.failed(1):
                return missing
            return lost

        still_admin = (UserItem.is_admin == True) & (UserItem.status == "active")  # noqa: E712
        if actor_id == user_id:
            # DynamoDB refuses a transaction with two operations on one item, so a change to the
            # admin's own account carries the actor's condition on the update itself (the account
            # exists: its owner was just authenticated).
            update_or_raise(item, actions, UserItem.pk.exists() & still_admin, lost)
            return self.get_user(user_id)

        # The actor must still be an active admin when the change commits: two admins revoking
        # (or suspending) each other at the same moment cannot both succeed, so one admin stays.
        with translate(on_cancel=refused, unavailable="The change could not be saved; try again."):
            with TransactWrite(connection=connection()) as tx:
                tx.condition_check(
                    UserItem,
                    keys.user(actor_id)[0],
                    keys.user(actor_id)[1],
                    condition=still_admin,
                )
                tx.update(item, actions=actions, condition=UserItem.pk.exists())
        return self.get_user(user_id)

    def set_user_admin(self, user_id: str, is_admin: bool, now: str, *, actor_id: str | None = None) -> UserSummary:
        return self._update_user(user_id, [UserItem.is_admin.set(is_admin)], actor_id)

    def set_user_status(
        self,
        user_id: str,
        status: str,
        sessions_valid_after: int | None,
        now: str,
        *,
        credentials_reset_at: str | None = None,
        actor_id: str | None = None,
    ) -> UserSummary:
        actions: list[Any] = [UserItem.status.set(status)]
        if sessions_valid_after is not None:
            actions.append(UserItem.sessions_valid_after.set(sessions_valid_after))
        if credentials_reset_at is not None:
            actions.append(UserItem.credentials_reset_at.set(credentials_reset_at))
        return self._update_user(user_id, actions, actor_id)

    def list_tenants(self, page: PageRequest) -> Page[Tenant]:
        found, cursor = query_page(
            self.cursors, TenantItem.gsi1.query, keys.ALL_TENANTS, scope="admin.tenants", page=page
        )
        return Page(items=[tenant_record(item) for item in found], next_cursor=cursor)

    def get_tenant(self, tenant_id: str) -> Tenant:
        ahead = prefetch.take(keys.tenant(tenant_id))  # the path's tenant, read by the guard (a read)
        if ahead is not None:
            if ahead.item is None:
                raise NotFoundError("Tenant not found.", {"tenant_id": tenant_id})
            return tenant_record(TenantItem.from_raw_data(ahead.item))
        with translate(on_missing=NotFoundError("Tenant not found.", {"tenant_id": tenant_id})):
            return tenant_record(TenantItem.get(*keys.tenant(tenant_id), consistent_read=True))

    def set_tenant_status(self, tenant_id: str, status: str, now: str) -> Tenant:
        """Move the tenant to ``status`` and the fleet overview's ``STATS/TENANTS`` count with it,
        in one transaction; the move is made only from another status, so a repeated call
        changes nothing (and counts nothing)."""
        old = "active" if status == "suspended" else "suspended"
        with translate(on_condition=SKIP, unavailable="The tenant could not be saved; try again.") as moved:
            with TransactWrite(connection=connection()) as tx:
                tx.update(
                    TenantItem(*keys.tenant(tenant_id)),
                    actions=[TenantItem.status.set(status), TenantItem.updated_at.set(now)],
                    condition=TenantItem.pk.exists() & (TenantItem.status != status),
                )
                tx.update(
                    TenantStatsItem(*keys.stats("TENANTS")),
                    actions=[tenant_stat(status).add(1), tenant_stat(old).add(-1)],
                )
        # A failed condition: unknown (the read answers 404) or already in that status
        # (nothing written, nothing counted).
        del moved
        return self.get_tenant(tenant_id)
