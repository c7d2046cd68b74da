"""Service accounts of a tenant and their keys (issue 17 item 3; docs/service-accounts.md).

The rules:

* managing them needs ``members.manage`` (the issue's ``members.write``), reading them
  ``members.read``; creating, changing or deleting an account and creating its keys needs a
  login session (``SESSION_REQUIRED`` with a key: a leaked key can never mint another one);
* a service account's binding follows the members' rules (``mamba.domain.tenancy``): nobody
  grants a role with permissions they lack, nor a binding beyond their own expiry or server
  scope; it is never ``owner`` and never platform admin;
* a key can be made only by someone holding every permission of the account, and never
  outliving the maker's own temporary grant; at most two keys are active at a time
  (``KEY_LIMIT_REACHED``), so a key is rotated by making the second, rolling it out and
  revoking the first;
* the tenant's owners are mailed once, 7 days before a key expires (``notify_expiring_keys``,
  run on the ``backup_usage`` schedule).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from mamba.auth import api_keys as key_format
from mamba.auth.context import TenantContext
from mamba.domain import service_accounts as sa
from mamba.domain.api_keys import ApiKey, KeyPage, NewKey
from mamba.domain.clock import iso, new_id, utcnow
from mamba.domain.errors import ConflictError, SessionRequiredError, ValidationError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.service_accounts import ExpiringKey, ServiceAccount
from mamba.domain.tenancy import (
    Membership,
    binding_permissions,
    check_binding,
    check_grant,
    check_permission_list,
    check_within_own_grant,
    role_version,
)
from mamba.ports import EventPublisher
from mamba.services.api_keys import ApiKeyRepository, check_cidrs, check_name
from mamba.services.roles import resolve_role
from mamba.services.tenants import TenancyRepository

MAX_SERVERS = 100


class ServiceAccountRepository(Protocol):
    def add(self, account: ServiceAccount, role_version: int | None) -> None:
        """Raises ConflictError (the id exists; the custom role changed meanwhile)."""

    def get(self, tenant_id: str, service_account_id: str) -> ServiceAccount:
        """Raises NotFoundError (also for another tenant's account)."""

    def list_accounts(self, tenant_id: str, page: PageRequest) -> Page[ServiceAccount]: ...

    def update(self, current: ServiceAccount, updated: ServiceAccount, role_version: int | None) -> None:
        """Raises ConflictError when the binding or the custom role changed meanwhile."""

    def delete(self, current: ServiceAccount) -> None:
        """Raises ConflictError when the binding changed meanwhile."""

    def all_keys(self, service_account_id: str) -> list[ApiKey]:
        """Every key of the account, newest first, revoked ones included."""

    def list_keys(self, tenant_id: str, service_account_id: str, limit: int, cursor: str | None) -> KeyPage:
        """A page of the account's keys stored for ``tenant_id``, newest first (empty for another
        tenant's or an unknown account). Raises ValidationError for a bad cursor."""

    def add_key(self, account: ServiceAccount, key: ApiKey) -> None:
        """Store the key and bump ``keys_version`` from ``account.keys_version``. Raises
        ConflictError when another key was created since the account was read."""

    def expiring_keys(self, days: list[str]) -> list[ExpiringKey]:
        """Unrevoked, not yet notified keys expiring on those UTC days (``YYYY-MM-DD``)."""

    def claim_expiry_notice(self, key_id: str, at: str) -> bool:
        """True for the one caller that marks the key notified."""

    def release_expiry_notice(self, key_id: str) -> None: ...


class NoticeMailer(Protocol):
    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None: ...


@dataclass(frozen=True)
class Ports:
    accounts: ServiceAccountRepository
    keys: ApiKeyRepository  # list and revoke: a service account's keys are API keys it owns
    tenancy: TenancyRepository  # roles
    events: EventPublisher | None = None  # api_key.created (mamba.domain.events)


def _now() -> str:
    return iso(utcnow())


def _session_only(via: str, what: str) -> None:
    if via != "token":
        raise SessionRequiredError(f"{what} needs a login session, not an API key.", {"via": via})


def _field(name: str, message: str) -> ValidationError:
    return ValidationError(message, {"fields": [{"field": name, "message": message}]})


def _binding(
    ports: Ports, tenant: TenantContext, role_id: str, server_id: str | None, expires_at: int | None, now: int
) -> tuple[str, frozenset[str] | None, int | None]:
    """(role id, permissions copy, role version) of a binding the actor may give. Raises
    ValidationError (unknown role, owner, bad scope or expiry) and ForbiddenError."""
    sa.check_role(role_id)
    role = resolve_role(ports.tenancy, tenant.tenant_id, role_id)
    check_grant(tenant, role.permissions, f"give the role {role.name!r}")
    check_within_own_grant(tenant, server_id, expires_at)
    check_binding(role.id, server_id, expires_at, now)
    return role.id, binding_permissions(role), role_version(role)


def create_service_account(
    ports: Ports,
    tenant: TenantContext,
    *,
    actor_id: str,
    via: str,
    name: str,
    role: str,
    server_id: str | None = None,
    expires_at: int | None = None,
    description: str | None = None,
    now: Callable[[], str] = _now,
    epoch: Callable[[], float] = time.time,
) -> ServiceAccount:
    """Raises SessionRequiredError, ValidationError (name, role, scope, expiry), ForbiddenError
    (a role or binding beyond the actor's own) and ConflictError (the custom role changed)."""
    _session_only(via, "Creating a service account")
    role_id, permissions, version = _binding(ports, tenant, role, server_id, expires_at, int(epoch()))
    created = now()
    account = ServiceAccount(
        id=new_id("sa"),
        tenant_id=tenant.tenant_id,
        name=sa.check_name(name),
        role=role_id,
        created_at=created,
        created_by=actor_id,
        permissions=permissions,
        server_id=server_id,
        expires_at=expires_at,
        description=sa.check_description(description),
        updated_at=created,
    )
    ports.accounts.add(account, version)
    return account


def list_service_accounts(ports: Ports, tenant: TenantContext, page: PageRequest) -> Page[ServiceAccount]:
    return ports.accounts.list_accounts(tenant.tenant_id, page)


def get_service_account(ports: Ports, tenant: TenantContext, service_account_id: str) -> ServiceAccount:
    """Raises NotFoundError."""
    return ports.accounts.get(tenant.tenant_id, service_account_id)


@dataclass(frozen=True)
class AccountChange:
    """A PATCH: ``None`` keeps a field; ``set_*`` applies ``server_id``/``expires_at``/
    ``description`` even when None (clearing them)."""

    name: str | None = None
    role: str | None = None
    server_id: str | None = None
    expires_at: int | None = None
    description: str | None = None
    set_server_id: bool = False
    set_expires_at: bool = False
    set_description: bool = False


def update_service_account(
    ports: Ports,
    tenant: TenantContext,
    service_account_id: str,
    change: AccountChange,
    *,
    via: str,
    now: Callable[[], str] = _now,
    epoch: Callable[[], float] = time.time,
) -> ServiceAccount:
    """Rename it or change its binding; effective on its keys' next request. The actor must
    hold every permission of its current and new role. Raises SessionRequiredError,
    NotFoundError, ValidationError, ForbiddenError and ConflictError."""
    _session_only(via, "Changing a service account")
    if (
        change.name is None
        and change.role is None
        and not (change.set_server_id or change.set_expires_at or change.set_description)
    ):
        raise ValidationError("Nothing to change.", {"field": "body"})
    current = ports.accounts.get(tenant.tenant_id, service_account_id)
    check_grant(tenant, current.effective_permissions, "change this service account")
    server_id = change.server_id if change.set_server_id else current.server_id
    expires_at = change.expires_at if change.set_expires_at else current.expires_at
    role_id, permissions, version = _binding(
        ports, tenant, change.role or current.role, server_id, expires_at, int(epoch())
    )
    updated = replace(
        current,
        name=sa.check_name(change.name) if change.name is not None else current.name,
        role=role_id,
        permissions=permissions,
        server_id=server_id,
        expires_at=expires_at,
        description=sa.check_description(change.description) if change.set_description else current.description,
        updated_at=now(),
    )
    ports.accounts.update(current, updated, version)
    return updated


def delete_service_account(
    ports: Ports, tenant: TenantContext, service_account_id: str, *, via: str, now: Callable[[], str] = _now
) -> None:
    """Revoke every key of the account, then delete it. Both steps are idempotent, so a retry
    after a failure finishes the job; the guard refuses its keys as soon as either is done.
    Raises SessionRequiredError, NotFoundError, ForbiddenError and ConflictError."""
    _session_only(via, "Deleting a service account")
    current = ports.accounts.get(tenant.tenant_id, service_account_id)
    check_grant(tenant, current.effective_permissions, "delete this service account")
    ports.keys.revoke_all(current.id, now())
    ports.accounts.delete(current)


@dataclass(frozen=True)
class AsMembers:
    """The tenant's service accounts, paged like its members, for the use cases that walk every
    binding of a tenant to end console access on the nodes (``server_control.deny_tenant_consoles``
    on a suspension, ``revoke_console_for_role`` when a custom role loses the console): a service
    account's console token is cut off like a member's."""

    accounts: ServiceAccountRepository

    def list_members(self, tenant_id: str, page: PageRequest) -> Page[Membership]:
        found = self.accounts.list_accounts(tenant_id, page)
        return Page(items=[a.as_membership() for a in found.items], next_cursor=found.next_cursor)


# --- keys ------------------------------------------------------------------------------


def create_key(
    ports: Ports,
    tenant: TenantContext,
    service_account_id: str,
    *,
    via: str,
    name: str,
    scopes: list[str],
    server_ids: list[str] | None = None,
    allowed_ips: list[str] | None = None,
    expires_at: int | None = None,
    now: Callable[[], str] = _now,
    epoch: Callable[[], float] = time.time,
) -> NewKey:
    """A new key for the account; the plaintext is in this answer only (``api_key.created`` is
    emitted in the tenant: docs/notifications.md).

    ``scopes`` are tenant permissions; the key still works only within the account's binding
    (the guard intersects them). Raises SessionRequiredError, NotFoundError, ForbiddenError (the
    actor lacks some of the account's permissions, or the key would outlive the actor's own
    temporary grant), ValidationError, ConflictError (the account's binding expired) and
    KeyLimitError (two keys are active already).
    """
    _session_only(via, "Creating a service account's key")
    account = ports.accounts.get(tenant.tenant_id, service_account_id)
    check_grant(tenant, account.effective_permissions, "create keys for this service account")
    check_within_own_grant(tenant, account.server_id, expires_at)
    moment = epoch()
    if account.expired(moment):
        raise ConflictError(
            "The service account's binding has expired; extend it first.",
            {"service_account_id": account.id, "reason": "expired"},
        )
    wanted = sorted(set(scopes))
    if not wanted:
        raise _field("scopes", "A key needs at least one scope.")
    granted = check_permission_list(wanted)
    servers = tuple(dict.fromkeys(s.strip() for s in (server_ids or []) if s.strip()))
    if len(servers) > MAX_SERVERS:
        raise _field("server_ids", f"At most {MAX_SERVERS} servers.")
    if expires_at is not None and expires_at <= moment:
        raise _field("expires_at", "The expiry must be in the future.")
    sa.check_key_limit(ports.accounts.all_keys(account.id), moment)
    secret = key_format.new_secret()
    key = ApiKey(
        id=new_id("key"),
        user_id=account.id,
        name=check_name(name),
        scopes=tuple(sorted(granted)),
        created_at=now(),
        secret_hash=key_format.hash_secret(secret),
        hint=secret[-key_format.HINT_CHARS :],
        server_ids=servers,
        allowed_ips=check_cidrs(allowed_ips or []),
        expires_at=expires_at,
    )
    ports.accounts.add_key(account, key)
    _key_created(ports, account, key)
    return NewKey(key=key, plaintext=key_format.format_key(account.id, key.id, secret))


def _key_created(ports: Ports, account: ServiceAccount, key: ApiKey) -> None:
    """``api_key.created`` in the account's tenant, as for a member's key (after the key is
    stored: a refused send is logged, never raised)."""
    from mamba.domain.events import make_event
    from mamba.services.emit import emit_after_commit

    event = make_event(
        "api_key.created",
        dedupe_key=f"{key.id}:{account.tenant_id}",
        occurred_at=key.created_at,
        tenant_id=account.tenant_id,
        payload={"key_name": key.name, "owner_email": f"service account {account.name}"},
    )
    emit_after_commit(ports.events, event)


def list_keys(
    ports: Ports, tenant: TenantContext, service_account_id: str, *, limit: int = 50, cursor: str | None = None
) -> KeyPage:
    """The account's keys, newest first, revoked ones included. Raises NotFoundError.

    One Query in the common case: the keys carry their tenant, so the page is read straight
    away, and only an empty first page costs a read of the account (empty, or not ours: 404)."""
    page = ports.accounts.list_keys(tenant.tenant_id, service_account_id, limit, cursor)
    if not page.items and cursor is None:
        ports.accounts.get(tenant.tenant_id, service_account_id)
    return page


def revoke_key(
    ports: Ports,
    tenant: TenantContext,
    service_account_id: str,
    key_id: str,
    *,
    now: Callable[[], str] = _now,
) -> ApiKey:
    """Revoke one of the account's keys; it stops working on the next request. Revoking never
    adds power, so a key with ``members.manage`` may do it (a leaked key can be cut off by
    automation). Raises NotFoundError (another account's or tenant's key)."""
    account = ports.accounts.get(tenant.tenant_id, service_account_id)
    return ports.keys.revoke(account.id, key_id, now())


# --- the 7-day expiry notice ------------------------------------------------------------


def notice_days(now: float) -> list[str]:
    """The UTC days whose expiring keys may be due: today to 7 days ahead (a day more than the
    window, so a key is found by whichever run first sees it inside the window)."""
    today = datetime.fromtimestamp(now, UTC).date()
    return [(today + timedelta(days=offset)).isoformat() for offset in range(sa.EXPIRY_NOTICE_SECONDS // 86400 + 1)]


def notify_expiring_keys(
    accounts: ServiceAccountRepository,
    mailer: NoticeMailer,
    owners: Callable[[str], Iterable[tuple[str, str]]],
    mail_for: Callable[[ExpiringKey, str], tuple[str, str]],
    *,
    now: float,
) -> dict[str, int]:
    """Mail the tenant's owners about each service-account key that expires within 7 days,
    once per key (a claim on the key item, given back when the mail fails so the next run
    retries). ``owners`` gives (address, mail language); ``mail_for`` (subject, text) in a
    language. One key's failure never stops the others."""
    from mamba.observability import logger

    done = {"due": 0, "sent": 0, "failed": 0}
    for expiring in accounts.expiring_keys(notice_days(now)):
        if not sa.expiry_notice_due(expiring.key.expires_at, now):
            continue
        done["due"] += 1
        if not accounts.claim_expiry_notice(expiring.key.id, iso(datetime.fromtimestamp(now, UTC))):
            continue
        try:
            for address, language in owners(expiring.tenant_id):
                subject, text = mail_for(expiring, language)
                mailer.send(address, subject, text)
            done["sent"] += 1
        except Exception:  # noqa: BLE001 - one mail's failure never stops the others; the next run retries
            logger.warning("key expiry notice not sent", extra={"key_id": expiring.key.id}, exc_info=True)
            accounts.release_expiry_notice(expiring.key.id)
            done["failed"] += 1
    return done
