"""Service accounts (``TENANT#<tid>/SVCACCT#<sa_id>``) and their keys.

* The service account item holds the role binding too, so the guard reads it in place of a
  membership (``identity.py``): one item, and a key of another tenant's service account
  finds nothing under the path's tenant (404).
* A binding to a custom role counts in the role's ``members`` (the role cannot be deleted
  while bound) and is written only from the role's current ``version``, exactly like a
  membership (``tenants.py``); ``sync_role_bindings`` there sweeps service accounts too.
* Keys are API key items (``APIKEY#<key_id>/KEY``, listed under the service account on gsi1)
  with the tenant and service account added, and, when they expire, a gsi3 entry under
  their expiry day for the 7-day notice. A key is created in one transaction with a bump of
  the account's ``keys_version`` (conditional on the version the active-key count was read
  at), so two concurrent creations cannot both pass the limit of two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys, prefetch
from mamba.adapters.dynamo.api_keys import api_key_record, keys_of_owner
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import ApiKeyItem, MainItem, RoleItem
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.adapters.dynamo.users import connection
from mamba.domain.api_keys import ApiKey, KeyPage
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.service_accounts import ExpiringKey, ServiceAccount
from mamba.domain.tenancy import CUSTOM_ROLE_PREFIX


class ServiceAccountItem(MainItem):
    """A service account and its role binding (see the module docstring)."""

    service_account_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    role = UnicodeAttribute()
    permissions = ListAttribute(of=UnicodeAttribute, null=True)
    server_id = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)
    keys_version = NumberAttribute(default=0)


class ServiceAccountKeyItem(ApiKeyItem):
    """An API key whose owner (``user_id``) is a service account. The guard reads it as an
    ``ApiKeyItem`` (the extra attributes are ignored there)."""

    tenant_id = UnicodeAttribute(null=True)
    service_account_name = UnicodeAttribute(null=True)
    expiry_notice_at = UnicodeAttribute(null=True)


def service_account_record(item: ServiceAccountItem) -> ServiceAccount:
    return ServiceAccount(
        id=item.service_account_id,
        tenant_id=item.tenant_id,
        name=item.name,
        role=item.role,
        created_at=item.created_at,
        created_by=item.created_by,
        permissions=frozenset(str(p) for p in item.permissions) if item.permissions is not None else None,
        server_id=item.server_id,
        expires_at=int(item.expires_at) if item.expires_at is not None else None,
        description=item.description,
        updated_at=item.updated_at,
        keys_version=int(item.keys_version or 0),
    )


def service_account_from_raw(raw: dict[str, Any]) -> ServiceAccount:
    """The guard's converter (identity.py): a raw BatchGetItem item to the record."""
    return service_account_record(ServiceAccountItem.from_raw_data(raw))


def _is_custom(role: str) -> bool:
    return role.startswith(CUSTOM_ROLE_PREFIX)


def _day(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def _binding_changes(tx: TransactWrite, tenant_id: str, old: str | None, new: str | None, version: int | None) -> None:
    """The role counters of a binding moving from ``old`` to ``new`` (None: no binding); a
    binding to a custom role is written only from the role's current version."""
    if old is not None and old != new and _is_custom(old):
        tx.update(
            RoleItem(*keys.custom_role(tenant_id, old)),
            actions=[RoleItem.members.add(-1)],
            condition=RoleItem.pk.exists(),
        )
    if new is None or not _is_custom(new):
        return
    pk, sk = keys.custom_role(tenant_id, new)
    if old == new:
        tx.condition_check(RoleItem, pk, sk, condition=RoleItem.version == (version or 0))
    else:
        tx.update(RoleItem(pk, sk), actions=[RoleItem.members.add(1)], condition=RoleItem.version == (version or 0))


def _changed(account_id: str) -> ConflictError:
    return ConflictError(
        "The service account or its role changed meanwhile; try again.",
        {"service_account_id": account_id, "reason": "concurrent"},
    )


class DynamoServiceAccountRepository:
    def __init__(self, cursors: CursorCodec) -> None:
        self.cursors = cursors

    def add(self, account: ServiceAccount, role_version: int | None) -> None:
        item = ServiceAccountItem(
            *keys.service_account(account.tenant_id, account.id),
            kind="service_account",
            service_account_id=account.id,
            tenant_id=account.tenant_id,
            name=account.name,
            description=account.description,
            role=account.role,
            permissions=sorted(account.permissions) if account.permissions is not None else None,
            server_id=account.server_id,
            expires_at=account.expires_at,
            created_at=account.created_at,
            created_by=account.created_by,
            updated_at=account.updated_at,
            keys_version=0,
        )
        with translate(on_condition=_changed(account.id), unavailable="The service account could not be saved."):
            with TransactWrite(connection=connection()) as tx:
                tx.save(item, condition=ServiceAccountItem.pk.does_not_exist())
                _binding_changes(tx, account.tenant_id, None, account.role, role_version)

    def get(self, tenant_id: str, service_account_id: str) -> ServiceAccount:
        missing = NotFoundError("Service account not found.", {"service_account_id": service_account_id})
        ahead = prefetch.take(keys.service_account(tenant_id, service_account_id))  # the guard's, on a read
        if ahead is not None:
            if ahead.item is None:
                raise missing
            return service_account_from_raw(ahead.item)
        with translate(on_missing=missing, unavailable="The service account could not be read; try again."):
            item = ServiceAccountItem.get(*keys.service_account(tenant_id, service_account_id), consistent_read=True)
        return service_account_record(item)

    def list_accounts(self, tenant_id: str, page: PageRequest) -> Page[ServiceAccount]:
        with translate(unavailable="The service accounts could not be listed; try again."):
            found, cursor = query_page(
                self.cursors,
                ServiceAccountItem.query,
                keys.tenant_partition(tenant_id),
                ServiceAccountItem.sk.startswith(keys.SERVICE_ACCOUNT_PREFIX),
                scope=f"service-accounts:{tenant_id}",
                page=page,
                consistent_read=True,
            )
        return Page(items=[service_account_record(item) for item in found], next_cursor=cursor)

    def update(self, current: ServiceAccount, updated: ServiceAccount, role_version: int | None) -> None:
        actions: list[Any] = [
            ServiceAccountItem.name.set(updated.name),
            ServiceAccountItem.role.set(updated.role),
            ServiceAccountItem.updated_at.set(updated.updated_at or current.created_at),
        ]
        optional: list[tuple[Any, Any]] = [
            (ServiceAccountItem.permissions, sorted(updated.permissions) if updated.permissions is not None else None),
            (ServiceAccountItem.server_id, updated.server_id),
            (ServiceAccountItem.expires_at, updated.expires_at),
            (ServiceAccountItem.description, updated.description),
        ]
        for attr, value in optional:
            actions.append(attr.set(value) if value is not None else attr.remove())
        with translate(on_condition=_changed(current.id), unavailable="The service account could not be saved."):
            with TransactWrite(connection=connection()) as tx:
                # role == current.role: the binding is still the one the rules were checked against.
                tx.update(
                    ServiceAccountItem(*keys.service_account(current.tenant_id, current.id)),
                    actions=actions,
                    condition=ServiceAccountItem.pk.exists() & (ServiceAccountItem.role == current.role),
                )
                _binding_changes(tx, current.tenant_id, current.role, updated.role, role_version)

    def delete(self, current: ServiceAccount) -> None:
        with translate(on_condition=_changed(current.id), unavailable="The service account could not be deleted."):
            with TransactWrite(connection=connection()) as tx:
                tx.delete(
                    ServiceAccountItem(*keys.service_account(current.tenant_id, current.id)),
                    condition=ServiceAccountItem.role == current.role,
                )
                _binding_changes(tx, current.tenant_id, current.role, None, None)

    # --- keys ----------------------------------------------------------------------------

    def all_keys(self, service_account_id: str) -> list[ApiKey]:
        """Every key of the account, newest first, revoked ones included (the iterator reads
        every page: an account has a handful of keys, its old ones revoked)."""
        with translate(unavailable="The keys could not be listed; try again."):
            return [
                api_key_record(cast(ApiKeyItem, item))
                for item in ApiKeyItem.gsi1.query(
                    keys.api_keys_of_user(service_account_id),
                    ApiKeyItem.gsi1sk.startswith(keys.API_KEY_SORT_PREFIX),
                    scan_index_forward=False,
                    page_size=100,
                )
            ]

    def list_keys(self, tenant_id: str, service_account_id: str, limit: int, cursor: str | None) -> KeyPage:
        """A page of the account's keys, newest first, as ``DynamoApiKeyRepository.list_for_user``,
        kept to the keys stored for ``tenant_id`` (a filter in the same Query: another tenant's
        account shows nothing, with no read of the account)."""
        return keys_of_owner(
            service_account_id,
            limit,
            cursor,
            unavailable="The keys could not be listed; try again.",
            condition=ServiceAccountKeyItem.tenant_id == tenant_id,
        )

    def add_key(self, account: ServiceAccount, key: ApiKey) -> None:
        pk, sk = keys.api_key(key.id)
        item = ServiceAccountKeyItem(
            pk,
            sk,
            kind="api_key",
            gsi1pk=keys.api_keys_of_user(account.id),
            gsi1sk=keys.user_api_key_sort(key.created_at, key.id),
            key_id=key.id,
            user_id=account.id,
            name=key.name,
            secret_hash=key.secret_hash,
            hint=key.hint,
            scopes=list(key.scopes),
            server_ids=list(key.server_ids) or None,
            allowed_ips=list(key.allowed_ips) or None,
            expires_at=key.expires_at,
            created_at=key.created_at,
            tenant_id=account.tenant_id,
            service_account_name=account.name,
        )
        if key.expires_at is not None:
            item.gsi3pk = keys.key_expiry_day(_day(key.expires_at))
            item.gsi3sk = keys.key_expiry_sort(key.expires_at, key.id)
        concurrent = ConflictError(
            "Another key was created for this service account at the same time; try again.",
            {"service_account_id": account.id, "reason": "concurrent"},
        )
        with translate(on_condition=concurrent, unavailable="The key could not be saved; try again."):
            with TransactWrite(connection=connection()) as tx:
                tx.save(item, condition=ServiceAccountKeyItem.pk.does_not_exist())
                # The version the active keys were counted at: a concurrent creation bumped it first.
                tx.update(
                    ServiceAccountItem(*keys.service_account(account.tenant_id, account.id)),
                    actions=[ServiceAccountItem.keys_version.set(account.keys_version + 1)],
                    condition=ServiceAccountItem.pk.exists()
                    & (
                        ServiceAccountItem.keys_version.does_not_exist()
                        | (ServiceAccountItem.keys_version == account.keys_version)
                    ),
                )

    def expiring_keys(self, days: list[str]) -> list[ExpiringKey]:
        """The unrevoked, not yet notified keys expiring on ``days`` (one Query per day)."""
        found: list[ExpiringKey] = []
        for day in days:
            with translate(unavailable="The expiring keys could not be read; try again."):
                # The index returns this class's instances (pynamodb copies indexes per subclass).
                items = cast(
                    list[ServiceAccountKeyItem], list(ServiceAccountKeyItem.gsi3.query(keys.key_expiry_day(day)))
                )
            for item in items:
                if item.revoked_at is not None or item.expiry_notice_at is not None or not item.tenant_id:
                    continue
                found.append(
                    ExpiringKey(
                        key=api_key_record(item),
                        tenant_id=item.tenant_id,
                        service_account_id=item.user_id,
                        service_account_name=item.service_account_name or item.user_id,
                    )
                )
        return found

    def claim_expiry_notice(self, key_id: str, at: str) -> bool:
        """Mark the key notified; False when another run did first (one mail per key)."""
        item = ServiceAccountKeyItem(*keys.api_key(key_id))
        with translate(on_condition=SKIP, unavailable="The key could not be updated; try again.") as update:
            item.update(
                actions=[ServiceAccountKeyItem.expiry_notice_at.set(at)],
                condition=ServiceAccountKeyItem.pk.exists() & ServiceAccountKeyItem.expiry_notice_at.does_not_exist(),
            )
        return not update.condition_failed

    def release_expiry_notice(self, key_id: str) -> None:
        """Undo a claim whose mail could not be sent, so the next run tries again."""
        with translate(on_condition=SKIP, unavailable="The key could not be updated; try again."):
            ServiceAccountKeyItem(*keys.api_key(key_id)).update(
                actions=[ServiceAccountKeyItem.expiry_notice_at.remove()],
                condition=ServiceAccountKeyItem.pk.exists(),
            )


def sync_service_accounts(tenant_id: str, role_id: str, permissions: Any) -> int:
    """``DynamoTenantRepository.sync_role_bindings`` for service accounts: copy a custom role's
    new permissions into every service account bound to it (conditional on it still being
    bound to the role; re-running is harmless). How many were changed."""
    bound = ServiceAccountItem.query(
        keys.tenant_partition(tenant_id),
        ServiceAccountItem.sk.startswith(keys.SERVICE_ACCOUNT_PREFIX),
        filter_condition=ServiceAccountItem.role == role_id,
        consistent_read=True,
    )
    changed = 0
    for item in bound:
        with translate(
            on_condition=SKIP, unavailable="The role's service accounts could not all be updated; retry."
        ) as update:
            item.update(
                actions=[ServiceAccountItem.permissions.set(permissions)], condition=ServiceAccountItem.role == role_id
            )
        changed += 0 if update.condition_failed else 1
    return changed
