"""An account owner deletes their own account: ``DELETE /v1/me`` (docs/accounts.md "Deleting
your account").

Order, each step safe to repeat (a failure leaves an account that can try again):

1. the caller proves they are at the keyboard: a login session (never an API key), the current
   password and, with 2FA on, a code (``accounts.reauthenticate``, rate limited per account);
2. refusals, before anything changes: a platform admin (another admin removes the flag first,
   so the platform never loses its last admin this way); the **last owner** of a tenant that
   still has servers, or a live subscription (the tenant would be left with nobody who can
   pay for it or stop it): another member must become owner first, or the servers go;
3. the memberships go (each one with the tenant's owner count, so two owners deleting their
   accounts at once cannot leave a tenant without an owner: the second one is refused);
   a tenant the caller was the only owner of, empty and unpaid, goes with its data
   (``retention.delete_tenant_data``: its audit log and credit ledger are kept);
4. every API key is revoked and every session ended;
5. the account and its email claim are deleted in one transaction (the address is free to
   register again). The audit log keeps the account's id in its entries.

Errors: SessionRequiredError (an API key), ValidationError / RateLimitedError (the re-check),
ConflictError (``details.reason``: ``platform_admin_account``, ``last_owner_with_servers``,
``last_owner_with_subscription``, ``last_owner`` when another owner left meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mamba.domain.errors import ConflictError, SessionRequiredError
from mamba.domain.tenancy import OWNER, Membership, Tenant
from mamba.ports import AuditLog, PasskeyStore
from mamba.services import audit as audit_service
from mamba.services.accounts import AccountPorts, now_iso, reauthenticate, revoke_api_keys


class Memberships(Protocol):
    def memberships_of_user(self, user_id: str) -> list[Membership]: ...
    def get(self, tenant_id: str) -> Tenant: ...
    def remove_member(self, current: Membership) -> None: ...


class AccountRemover(Protocol):
    def delete(self, user_id: str, email: str) -> None:
        """Delete the account and its email claim together (ConflictError when it changed)."""


@dataclass(frozen=True)
class AccountDeletionPorts:
    """Built by ``mamba.bootstrap.account_deletion_ports``."""

    accounts: AccountPorts
    tenancy: Memberships
    remover: AccountRemover
    servers_of: Callable[[str], int]  # tenant id -> how many servers it has
    live_subscription: Callable[[str], bool]  # tenant id -> a subscription that bills it
    delete_tenant_data: Callable[[str, str], bool]  # (tenant id, actor) -> done
    audit: AuditLog | None = None
    passkeys: PasskeyStore | None = None  # None: no passkey store wired
    # The account's notifications and notification preferences (docs/notifications.md) go too.
    forget_notifications: Callable[[str], int] | None = None
    # Unlinks the account's provider sign-ins (docs/oauth.md); None where none are wired.
    forget_identities: Callable[[str], None] | None = None


def _refusal(reason: str, tenants: list[Tenant]) -> ConflictError:
    what = "servers" if reason == "last_owner_with_servers" else "a subscription"
    return ConflictError(
        f"You are the last owner of a tenant that still has {what}: make another member an owner, or end them, first.",
        {"reason": reason, "tenants": [{"id": t.id, "name": t.name} for t in tenants]},
    )


def delete_account(
    ports: AccountDeletionPorts, user_id: str, password: str | None, totp_code: str | None, *, via: str, now: int
) -> dict[str, list[str]]:
    """Delete the caller's account (see the module docstring); which tenants it left and which
    empty tenants went with it."""
    if via != "token":
        raise SessionRequiredError("An API key cannot delete the account; sign in.", {"via": via})
    accounts = ports.accounts
    user = accounts.users.get(user_id)
    reauthenticate(accounts, user, password, totp_code, now=now)
    return remove_account(ports, user_id, via=via, now=now)


def remove_account(
    ports: AccountDeletionPorts, user_id: str, *, via: str, now: int, actor_id: str | None = None
) -> dict[str, list[str]]:
    """Steps 2-5 of the module docstring for an account whose holder (or, ``actor_id``, a platform
    admin acting through Pterodactyl's application API) has already been checked."""
    accounts = ports.accounts
    user = accounts.users.get(user_id)
    if user.is_admin:
        raise ConflictError(
            "A platform admin's account cannot delete itself: another admin removes the admin flag first.",
            {"reason": "platform_admin_account"},
        )
    memberships = ports.tenancy.memberships_of_user(user.id)
    sole: list[Tenant] = []
    with_servers: list[Tenant] = []
    paying: list[Tenant] = []
    for membership in memberships:
        if membership.role != OWNER:
            continue
        tenant = ports.tenancy.get(membership.tenant_id)
        if (tenant.owner_count or 1) > 1:
            continue
        if ports.servers_of(tenant.id):
            with_servers.append(tenant)
        elif ports.live_subscription(tenant.id):
            paying.append(tenant)
        else:
            sole.append(tenant)
    if with_servers:
        raise _refusal("last_owner_with_servers", with_servers)
    if paying:
        raise _refusal("last_owner_with_subscription", paying)

    doomed = {t.id for t in sole}
    left: list[str] = []
    # Owner bindings first: they are the ones that can be refused (another owner left meanwhile),
    # and a refusal should leave as little as possible changed.
    for membership in sorted(memberships, key=lambda m: m.role != OWNER):
        if membership.tenant_id in doomed:
            continue
        try:
            ports.tenancy.remove_member(membership)
        except ConflictError as exc:
            if exc.details.get("reason") != "last_owner":
                raise
            tenant = ports.tenancy.get(membership.tenant_id)
            raise ConflictError(
                "Another owner left this tenant meanwhile: you are its last owner now.",
                {"reason": "last_owner", "tenants": [{"id": tenant.id, "name": tenant.name}]},
            ) from exc
        left.append(membership.tenant_id)
        if ports.audit is not None:
            audit_service.record(
                ports.audit,
                action="member.account_deleted",
                result="success",
                tenant_id=membership.tenant_id,
                actor_id=actor_id or user.id,
                via=via,
                target=user.id,
                details={"role": membership.role},
            )
    for tenant in sole:
        if not ports.delete_tenant_data(tenant.id, user.id):
            # A server (or an operation) appeared since the check: keep the account.
            raise _refusal("last_owner_with_servers", [tenant])

    moment = now_iso()
    revoke_api_keys(accounts.api_keys, user.id, moment)
    accounts.users.revoke_sessions(user.id, now + 1)  # a token issued in this second dies too
    if ports.passkeys is not None:
        # Before the profile: each delete uncounts on it (docs/passkeys.md). A passkey left by a
        # failure here signs nobody in, since its account is looked up too.
        ports.passkeys.delete_all(user.id)
    if ports.forget_notifications is not None:
        ports.forget_notifications(user.id)
    if ports.forget_identities is not None:
        # Before the account: a provider account must not keep pointing at a deleted one (and
        # its email is personal data the account's deletion takes with it).
        ports.forget_identities(user.id)
    ports.remover.delete(user.id, user.email)
    return {"left": left, "deleted": sorted(doomed)}
