"""The one authorization path every non-public route goes through.

Cost: one DynamoDB call. A BatchGetItem reads the user, and for tenant routes the
membership and the tenant, and for API keys the key item, and for a read (GET/HEAD) under
``.../servers/{server_id}`` the server item, which the server repository then takes instead of
reading it again (mamba.adapters.dynamo.prefetch), and so for what else a read's path names (a
node with its breaker and health, an account, a service account, a blueprint; the adapter's
``READ_AHEAD``); so a single-resource read stays within two calls.

Answers:
* no, bad, expired or revoked credential, inactive account → 401 ``UNAUTHORIZED``;
* not a member of the path's tenant, or an expired grant → 404 (another tenant's
  resources do not exist for the caller);
* member (or API key) without the permission, or outside its server scope → 403 ``FORBIDDEN``;
* a change (not GET/HEAD) to a tenant suspended for non-payment, except through a
  ``billing.*`` route → 402 ``PAYMENT_REQUIRED``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mamba.auth.context import Principal, TenantContext
from mamba.auth.credentials import Credential, resolve
from mamba.domain import permissions as perms
from mamba.domain.errors import ForbiddenError, NotFoundError, PaymentRequiredError, UnauthorizedError
from mamba.domain.service_accounts import is_service_account_id

if TYPE_CHECKING:
    from chalice.app import Request

    from mamba.domain.accounts import AuthFacts
    from mamba.domain.tenancy import Tenant
    from mamba.ports import IdentityRepository, KeyUseRecorder


class TenantSuspendedError(ForbiddenError):
    code = "TENANT_SUSPENDED"


class TwoFactorRequiredError(ForbiddenError):
    code = "TWO_FACTOR_REQUIRED"


def _source_ip(request: Request) -> str:
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "")


@dataclass(frozen=True)
class GuardPorts:
    """What the guard reads: the token key, the identity store, and where API key uses go
    (built by ``mamba.bootstrap.guard_ports``, passed by the HTTP boundary, ``mamba.web``)."""

    jwt_secret: str
    identity: IdentityRepository
    key_uses: KeyUseRecorder


def authorize(
    request: Request, permission: str, path_params: dict[str, str], ports: GuardPorts, *, listing: bool = False
) -> Principal:
    """``listing``: the route lists servers across the caller's tenants and shows a key limited to
    some servers only those (it carries them as ``key_servers``) instead of refusing it."""
    credential = resolve(request, ports.jwt_secret)
    tenant_id = path_params.get("tenant_id")
    # A read (GET/HEAD): what its path names joins the guard's one BatchGetItem and is kept for the
    # route's own reads (a server, a node, an account, a blueprint...): two requests, not three.
    reading = request.method in ("GET", "HEAD")
    facts: AuthFacts = ports.identity.load(
        credential.user_id, tenant_id, credential.key_id, read_ahead=path_params if reading else None
    )
    if is_service_account_id(credential.user_id):
        return _authorize_service_account(credential, facts, request, permission, path_params, ports)

    user = facts.user
    if user is None or user.status != "active":
        raise UnauthorizedError("The account is not active.", {"reason": "inactive"})
    scopes, key_servers = _check_credential(credential, facts, request, ports)
    verified = bool(user.email_verified)
    if scopes is not None and permission not in scopes:
        raise ForbiddenError("This API key's scopes do not allow this.", {"permission": permission})
    server_id = path_params.get("server_id")
    if key_servers and (server_id is None or server_id not in key_servers) and not (listing and server_id is None):
        raise ForbiddenError("This API key is limited to other servers.", {"permission": permission})

    if perms.is_admin_permission(permission):
        if not user.is_admin:
            raise ForbiddenError("This needs platform admin rights.", {"permission": permission})
        return Principal(
            user_id=user.id,
            is_admin=True,
            via=credential.kind,
            email_verified=verified,
            session_id=credential.family_id,
        )
    if perms.is_account_permission(permission) or tenant_id is None:
        return Principal(
            user_id=user.id,
            is_admin=user.is_admin,
            via=credential.kind,
            email_verified=verified,
            session_id=credential.family_id,
            key_servers=key_servers if listing else frozenset(),
        )

    membership, tenant = facts.membership, facts.tenant
    now = int(time.time())
    if membership is None or tenant is None or membership.expired(now):
        raise NotFoundError("Tenant not found.", {"tenant_id": tenant_id})
    _check_tenant_state(tenant, permission, request)
    if tenant.require_2fa and not user.has_second_factor:  # TOTP or a passkey (docs/passkeys.md)
        raise TwoFactorRequiredError(
            "This tenant requires two-factor authentication; enrol under /v1/me/2fa or add a passkey.", {}
        )
    granted = membership.effective_permissions
    if permission not in granted:
        raise ForbiddenError("Your role does not allow this.", {"permission": permission})
    if membership.server_id is not None and server_id != membership.server_id:
        raise ForbiddenError("Your access is limited to one server.", {"permission": permission})
    return Principal(
        user_id=user.id,
        is_admin=user.is_admin,
        tenant=TenantContext(
            tenant_id=tenant_id,
            role=membership.role,
            permissions=granted,
            server_scope=membership.server_id,
            expires_at=membership.expires_at,
            suspended=tenant.suspended,
        ),
        via=credential.kind,
        scopes=scopes,
        email_verified=verified,
        session_id=credential.family_id,
    )


def _check_tenant_state(tenant: Tenant, permission: str, request: Request) -> None:
    if tenant.status == "suspended" and request.method not in ("GET", "HEAD"):
        raise TenantSuspendedError("This tenant is suspended; it can be read but not changed.", {})
    if (
        tenant.billing_state == "suspended"
        and request.method not in ("GET", "HEAD")
        and perms.family(permission) != "billing"  # paying must stay possible
    ):
        raise PaymentRequiredError(
            "This tenant's subscription is unpaid; it can be read, and paid from its billing page.", {}
        )


def _authorize_service_account(
    credential: Credential,
    facts: AuthFacts,
    request: Request,
    permission: str,
    path_params: dict[str, str],
    ports: GuardPorts,
) -> Principal:
    """A service account's key: the key is checked first (401 for a bad, revoked or expired
    key, 403 outside its networks), then the account acts only on its own tenant's routes
    (403 on account and admin routes, 404 on another tenant's, or once its binding expired or
    it was deleted), within the intersection of its key's scopes and servers with its binding.

    A tenant's ``require_2fa`` does not apply: a service account has no interactive sign-in,
    and its keys are made from a member's session, which that rule already covers."""
    if credential.kind != "api_key":  # no token is ever issued to a service account
        raise UnauthorizedError("The credential is not valid.", {"reason": "invalid"})
    from mamba.auth.api_keys import check_key, recorder

    grant = check_key(facts.api_key, credential, _source_ip(request), record_use=recorder(ports.key_uses))
    tenant_id = path_params.get("tenant_id")
    if tenant_id is None or perms.is_admin_permission(permission) or perms.is_account_permission(permission):
        raise ForbiddenError(
            "A service account acts only on its own tenant's routes.",
            {"permission": permission, "reason": "service_account"},
        )
    account, tenant = facts.service_account, facts.tenant
    if account is None or tenant is None or account.tenant_id != tenant_id or account.expired(time.time()):
        raise NotFoundError("Tenant not found.", {"tenant_id": tenant_id})
    if permission not in grant.scopes:
        raise ForbiddenError("This API key's scopes do not allow this.", {"permission": permission})
    server_id = path_params.get("server_id")
    if grant.server_ids and (server_id is None or server_id not in grant.server_ids):
        raise ForbiddenError("This API key is limited to other servers.", {"permission": permission})
    _check_tenant_state(tenant, permission, request)
    granted = account.effective_permissions
    if permission not in granted:
        raise ForbiddenError("The service account's role does not allow this.", {"permission": permission})
    if account.server_id is not None and server_id != account.server_id:
        raise ForbiddenError("This service account is limited to one server.", {"permission": permission})
    return Principal(
        user_id=account.id,
        is_admin=False,
        tenant=TenantContext(
            tenant_id=tenant_id,
            role=account.role,
            permissions=granted,
            server_scope=account.server_id,
            expires_at=account.expires_at,
            suspended=tenant.suspended,
        ),
        via="service_account",
        scopes=grant.scopes,
        email_verified=False,
    )


def _check_credential(
    credential: Credential, facts: AuthFacts, request: Request, ports: GuardPorts
) -> tuple[frozenset[str] | None, frozenset[str]]:
    """Token: refuse one issued before the user's sessions were revoked. API key: check the
    secret, revocation, expiry, allowed IPs, and that the key was created after the account's
    last credential reset (password reset or change, suspension), which the user item read
    in the same BatchGetItem carries. Returns the key's scopes (None for tokens) and the
    servers it is limited to (empty for all)."""
    user = facts.user
    assert user is not None
    if credential.kind == "token":
        valid_after = user.sessions_valid_after
        if valid_after is not None and (credential.issued_at or 0) < valid_after:
            raise UnauthorizedError("This session was revoked; log in again.", {"reason": "revoked"})
        return None, frozenset()
    from mamba.auth.api_keys import check_key, recorder

    grant = check_key(
        facts.api_key,
        credential,
        _source_ip(request),
        record_use=recorder(ports.key_uses),
        not_before=user.credentials_reset_at,
    )
    return grant.scopes, grant.server_ids
