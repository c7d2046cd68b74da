"""/api/client: the permission table, and the caller's account: details, email, password, API
keys, two-factor authentication and activity (mamba.services.pterodactyl.client_account)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.domain import clock
from mamba.domain.errors import ValidationError
from mamba.domain.pterodactyl import NotImplementedHereError, permissions_document
from mamba.lazy import lazy_import
from mamba.pterodactyl_web import PteroCtx, ptero_route

if TYPE_CHECKING:
    from mamba.domain.api_keys import ApiKey
    from mamba.services import accounts, api_keys, two_factor
    from mamba.services.pterodactyl import client_account as service
else:
    accounts = lazy_import("mamba.services.accounts")
    api_keys = lazy_import("mamba.services.api_keys")
    two_factor = lazy_import("mamba.services.two_factor")
    service = lazy_import("mamba.services.pterodactyl.client_account")

bp = Blueprint(__name__)
ACCOUNT = "/api/client/account"


@ptero_route(bp, "/api/client/permissions", "GET", permission="account.read",
             summary="Pterodactyl's per-server permission keys and what each allows")  # fmt: skip
def permissions(ctx: PteroCtx) -> Any:
    return permissions_document()


@ptero_route(bp, ACCOUNT, "GET", permission="account.read", summary="Your account")  # fmt: skip
def get_account(ctx: PteroCtx) -> Any:
    user = accounts.get_profile(bootstrap.accounts().users, ctx.user_id)
    record = bootstrap.ptero_records().get("user", user.id)
    return service.account_item(user, service.user_ref(bootstrap.ptero_ids(), user.id), record)


@ptero_route(bp, ACCOUNT + "/email", "PUT", permission="account.write", status=204,
             request_model="pterodactyl_client:EmailIn",
             summary="Change your email (a login session and your password; the new address is verified)")  # fmt: skip
def update_email(ctx: PteroCtx) -> None:
    accounts.update_profile(
        bootstrap.accounts(),
        ctx.user_id,
        email=ctx.body.email,
        current_password=ctx.body.password,
        via=ctx.principal.via,
        now=clock.now_epoch(),
    )


@ptero_route(bp, ACCOUNT + "/password", "PUT", permission="account.write", status=204,
             request_model="pterodactyl_client:PasswordIn",
             summary="Change your password (a login session); ends every session and API key")  # fmt: skip
def update_password(ctx: PteroCtx) -> None:
    body = ctx.body
    if body.password_confirmation is not None and body.password_confirmation != body.password:
        raise ValidationError(
            "The password confirmation does not match.",
            {"fields": [{"field": "password", "message": "confirmation does not match", "type": "confirmed"}]},
        )
    accounts.change_password(
        bootstrap.accounts(),
        ctx.user_id,
        body.current_password,
        body.password,
        via=ctx.principal.via,
        now=clock.now_epoch(),
    )


@ptero_route(bp, ACCOUNT + "/api-keys", "GET", permission="api_keys.manage",
             summary="Your live API keys (never their secrets)")  # fmt: skip
def list_api_keys(ctx: PteroCtx) -> Any:
    return service.key_list(service.live_keys(bootstrap.api_key_repository(), ctx.user_id, time.time()))


def presented_key(ctx: PteroCtx) -> ApiKey | None:
    """The key the caller signed in with (None for a session)."""
    if ctx.principal.via != "api_key":
        return None
    from mamba.auth.api_keys import parse_key
    from mamba.auth.credentials import bearer_token

    _, key_id, _ = parse_key(bearer_token(ctx.request))
    return bootstrap.api_key_repository().get(ctx.user_id, key_id)


@ptero_route(bp, ACCOUNT + "/api-keys", "POST", permission="api_keys.manage",
             request_model="pterodactyl_client:ApiKeyIn",
             summary="Create a ptlc_ key; identifier + meta.secret_token is the key, shown once")  # fmt: skip
def create_api_key(ctx: PteroCtx) -> Any:
    repo = bootstrap.api_key_repository()
    service.check_room(service.live_keys(repo, ctx.user_id, time.time()))
    parent = presented_key(ctx)
    created = api_keys.create_key(
        repo,
        ctx.user_id,
        name=service.description_of(ctx.body.description),
        scopes=list(parent.scopes) if parent is not None else service.door_scopes(),
        allowed_ips=ctx.body.allowed_ips,
        is_admin=ctx.principal.is_admin,
        via=ctx.principal.via,
        email_verified=ctx.principal.email_verified,
        events=bootstrap.events_or_none(),
        directory=bootstrap.tenancy_repository(),
        spelled="pterodactyl",
        parent=parent,
    )
    return service.created_key(created)


@ptero_route(bp, ACCOUNT + "/api-keys/{identifier}", "DELETE", permission="api_keys.manage", status=204,
             summary="Revoke one of your keys; it stops working at once")  # fmt: skip
def delete_api_key(ctx: PteroCtx, identifier: str) -> None:
    api_keys.revoke_key(bootstrap.api_key_repository(), ctx.user_id, service.key_id_of(identifier))


@ptero_route(bp, ACCOUNT + "/two-factor", "GET", permission="account.write",
             summary="Start two-factor enrolment: a new TOTP secret (400 when 2FA is on)")  # fmt: skip
def start_two_factor(ctx: PteroCtx) -> Any:
    store = bootstrap.two_factor_store()
    service.require_two_factor(two_factor.status(ctx.user_id, store).enabled, False)
    enrolment = two_factor.enrol(ctx.user_id, store)
    return service.enrolment_body(enrolment.secret, enrolment.otpauth_uri)


@ptero_route(bp, ACCOUNT + "/two-factor", "POST", permission="account.write",
             request_model="pterodactyl_client:TwoFactorEnableIn",
             summary="Confirm enrolment with a current code; the recovery tokens are in this answer only")  # fmt: skip
def enable_two_factor(ctx: PteroCtx) -> Any:
    store = bootstrap.two_factor_store()
    service.require_two_factor(two_factor.status(ctx.user_id, store).enabled, False)
    codes = two_factor.confirm(ctx.user_id, ctx.body.code, store, limiter=bootstrap.rate_limiter())
    return service.recovery_tokens(codes)


def _disable_two_factor(ctx: PteroCtx) -> None:
    store = bootstrap.two_factor_store()
    service.require_two_factor(two_factor.status(ctx.user_id, store).enabled, True)
    # Pterodactyl's body has one ``code``: six digits are a TOTP code, anything else a recovery code.
    code = (ctx.body.code or "").strip() or None
    totp_code = code if code is not None and code.isdigit() and len(code) == 6 else None
    two_factor.disable(
        ctx.user_id,
        store,
        bootstrap.password_hasher(),
        code=totp_code,
        recovery_code=code if totp_code is None else None,
        password=ctx.body.password,
        limiter=bootstrap.rate_limiter(),
    )


@ptero_route(bp, ACCOUNT + "/two-factor/disable", "POST", permission="account.write", status=204,
             request_model="pterodactyl_client:TwoFactorDisableIn",
             summary="Turn two-factor off (your password and, unlike Pterodactyl, a current code)")  # fmt: skip
def disable_two_factor(ctx: PteroCtx) -> None:
    _disable_two_factor(ctx)


@ptero_route(bp, ACCOUNT + "/two-factor", "DELETE", permission="account.write", status=204,
             request_model="pterodactyl_client:TwoFactorDisableIn",
             summary="Turn two-factor off (the spelling of Pterodactyl before 1.11)")  # fmt: skip
def delete_two_factor(ctx: PteroCtx) -> None:
    _disable_two_factor(ctx)


@ptero_route(bp, ACCOUNT + "/activity", "GET", permission="account.read",
             summary="What your account did (?filter[event]=, ?sort=, paged)")  # fmt: skip
def account_activity(ctx: PteroCtx) -> Any:
    entries = service.account_activity(bootstrap.audit_log(), ctx.user_id, clock.utcnow())
    base = bootstrap.settings().public_url.rstrip("/") + ACCOUNT + "/activity"
    return service.activity_page(entries, ctx.query, ctx.user_id, ctx.principal.is_admin, base)


# SFTP signs in with the account's password or an API key (mamba.auth.sftp); Mamba keeps no SSH
# public keys, so Pterodactyl's SSH key routes answer 501 in its error shape, as databases do.
SSH_KEYS_NOT_HERE = "This panel signs SFTP in with your password or an API key; it keeps no SSH keys."


def _no_ssh_keys() -> None:
    raise NotImplementedHereError(SSH_KEYS_NOT_HERE, {"capability": "ssh_keys"})


@ptero_route(bp, ACCOUNT + "/ssh-keys", "GET", permission="account.read", summary="SSH keys (not offered: 501)")
def list_ssh_keys(ctx: PteroCtx) -> None:
    _no_ssh_keys()


@ptero_route(bp, ACCOUNT + "/ssh-keys", "POST", permission="account.write", summary="Add an SSH key (not offered: 501)")
def add_ssh_key(ctx: PteroCtx) -> None:
    _no_ssh_keys()


@ptero_route(bp, ACCOUNT + "/ssh-keys/remove", "POST", permission="account.write",
             summary="Remove an SSH key (not offered: 501)")  # fmt: skip
def remove_ssh_key(ctx: PteroCtx) -> None:
    _no_ssh_keys()
