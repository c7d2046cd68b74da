"""Passkeys (docs/passkeys.md): the calling user's passkeys (register, list, rename, delete),
signing in with one alone, and the ceremony both sign-in and the login's second factor use.

The sign-in routes are public, so like the other auth routes they record their own audit
entry (``functions.api.auth._audited``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from functions.api.auth import _audited, _cookie_mode, _pair, _user_agent
from mamba import bootstrap
from mamba.domain import clock
from mamba.lazy import lazy_import
from mamba.web import PUBLIC, Ctx, route

if TYPE_CHECKING:
    from mamba.schemas.passkeys import PasskeyAnswerIn, PasskeyRegisterIn
    from mamba.services import passkeys
else:
    passkeys = lazy_import("mamba.services.passkeys")

bp = Blueprint(__name__)
TAGS = ("passkeys",)


def _user(ctx: Ctx) -> tuple[str, str]:
    assert ctx.principal is not None
    return ctx.principal.user_id, ctx.principal.via


@route(
    bp,
    "/v1/me/passkeys",
    "GET",
    permission="account.read",
    summary="Your passkeys, oldest first, with their names and last use",
    tags=TAGS,
    response_model="passkeys:PasskeyList",
)
def list_passkeys(ctx: Ctx) -> object:
    user_id, _ = _user(ctx)
    return {"items": passkeys.list_passkeys(bootstrap.passkey_ports(), user_id), "next_cursor": None}


@route(
    bp,
    "/v1/me/passkeys/registration",
    "POST",
    permission="account.write",
    errors=(403, 409, 429),
    summary="Start registering a passkey: the options for navigator.credentials.create",
    tags=TAGS,
    response_model="passkeys:CeremonyOut",
)
def begin_passkey_registration(ctx: Ctx) -> object:
    user_id, via = _user(ctx)
    return passkeys.begin_registration(bootstrap.passkey_ports(), user_id, via=via, now=clock.now_epoch())


@route(
    bp,
    "/v1/me/passkeys",
    "POST",
    permission="account.write",
    errors=(403, 409),
    summary="Finish registering a passkey with the authenticator's answer",
    tags=TAGS,
    request_model="passkeys:PasskeyRegisterIn",
    response_model="passkeys:PasskeyOut",
    status=201,
)
def register_passkey(ctx: Ctx) -> object:
    user_id, via = _user(ctx)
    body: PasskeyRegisterIn = ctx.body
    return passkeys.finish_registration(
        bootstrap.passkey_ports(),
        user_id,
        challenge_id=body.challenge_id,
        credential=body.credential,
        name=body.name,
        via=via,
        now=clock.now_epoch(),
    )


@route(
    bp,
    "/v1/me/passkeys/{passkey_id}",
    "PATCH",
    permission="account.write",
    summary="Rename one of your passkeys",
    tags=TAGS,
    request_model="passkeys:PasskeyRenameIn",
    response_model="passkeys:PasskeyOut",
)
def rename_passkey(ctx: Ctx, passkey_id: str) -> object:
    user_id, _ = _user(ctx)
    return passkeys.rename_passkey(bootstrap.passkey_ports(), user_id, passkey_id, ctx.body.name)


@route(
    bp,
    "/v1/me/passkeys/{passkey_id}",
    "DELETE",
    permission="account.write",
    errors=(403,),
    summary="Delete one of your passkeys; it no longer signs you in",
    tags=TAGS,
    status=204,
)
def delete_passkey(ctx: Ctx, passkey_id: str) -> None:
    user_id, via = _user(ctx)
    passkeys.delete_passkey(bootstrap.passkey_ports(), user_id, passkey_id, via=via)


@route(
    bp,
    "/v1/auth/passkeys/options",
    "POST",
    permission=PUBLIC,
    errors=(429,),
    summary="Start a passkey sign-in (alone, or as the second factor of POST /v1/auth/login)",
    tags=("auth", *TAGS),
    response_model="passkeys:CeremonyOut",
)
def begin_passkey_sign_in(ctx: Ctx) -> object:
    return passkeys.begin_authentication(bootstrap.passkey_ports(), source_ip=ctx.source_ip, now=clock.now_epoch())


@route(
    bp,
    "/v1/auth/passkeys/login",
    "POST",
    permission=PUBLIC,
    errors=(401, 403, 429),
    summary="Sign in with a passkey: the same tokens (or cookie) as a password login",
    tags=("auth", *TAGS),
    request_model="passkeys:PasskeyAnswerIn",
    response_model="accounts:TokenPairOut",
)
def passkey_login(ctx: Ctx) -> Any:
    body: PasskeyAnswerIn = ctx.body
    with _audited(ctx, "passkey_login") as entry:
        cookie_mode = _cookie_mode(ctx)
        pair = passkeys.sign_in(
            bootstrap.accounts(),
            bootstrap.passkey_ports(),
            challenge_id=body.challenge_id,
            credential=body.credential,
            source_ip=ctx.source_ip,
            user_agent=_user_agent(ctx),
            now=clock.now_epoch(),
        )
        entry.actor_id = pair.user_id
    return _pair(pair, cookie_mode)
