"""Sign-in with Google, Microsoft, GitHub and Discord, and the account's linked sign-ins
(docs/oauth.md). Each view parses, calls one use case of ``mamba.services.oauth`` and shapes
the reply; the cookies are ``mamba.auth.oauth_cookies``.

``start`` and ``callback`` are browser navigations, not API calls: they answer redirects, and
a refusal is a redirect to the panel's page ``/oauth/complete?error=<reason>``, which says in
the user's language what went wrong. The public routes audit themselves, like auth.py's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response

from functions.api.auth import _audited, _user_agent
from mamba import bootstrap
from mamba.auth import cookies, oauth_cookies
from mamba.domain import clock
from mamba.domain.errors import DomainError, NotFoundError
from mamba.web import PUBLIC, Ctx, Reply, route

if TYPE_CHECKING:
    from mamba.schemas.oauth import LinkIdentityIn, OAuthProvePasswordIn

bp = Blueprint(__name__)
TAGS = ("auth",)
PAGE = "/oauth/complete"  # the panel's page that finishes (or explains) a sign-in
MAIL_ANSWER = "A link is on its way to the account's address."


def _redirect(location: str, *set_cookies: str) -> Response:
    headers: dict[str, Any] = {"Location": location, "Cache-Control": "no-store"}
    if set_cookies:
        headers["Set-Cookie"] = list(set_cookies) if len(set_cookies) > 1 else set_cookies[0]
    return Response(body="", status_code=302, headers=headers)


def _page(provider: str, **query: str) -> str:
    return f"{PAGE}?{urlencode({'provider': provider, **query})}"


def _reason(error: DomainError) -> str:
    if isinstance(error, NotFoundError):
        return "provider_unknown"
    if error.status == 503:
        return "unavailable"
    return str(error.details.get("reason") or error.code.lower())


def _passkey(body: Any) -> Any:
    """The body's passkey answer (instead of a TOTP code) as the sessions service takes it."""
    from mamba.services import sessions

    found = getattr(body, "passkey", None)
    return sessions.PasskeyAnswer(found.challenge_id, found.credential) if found else None


def _web(ctx: Ctx) -> None:
    """The completion calls are the panel page's: its Origin only (login CSRF)."""
    cookies.check_origin(ctx.request, bootstrap.settings().public_url)


def _signed_in(result: Any) -> Any:
    """A completed sign-in as a cookie-mode login answers it; the ticket cookie is dropped."""
    headers: dict[str, str | list[str]] = {"Cache-Control": "no-store"}
    set_cookies = [oauth_cookies.clear_ticket()]
    body: dict[str, Any] = {
        "status": result.status,
        "provider": result.provider,
        "return_to": result.return_to,
        "email": result.email,
        "methods": list(result.methods),
        "created": result.created,
        "linked": result.linked,
    }
    if result.pair is not None:
        set_cookies.append(cookies.set_cookie(result.pair.refresh_token, bootstrap.settings().refresh_ttl_seconds))
        body.update(access_token=result.pair.access_token, token_type="Bearer", expires_in=result.pair.expires_in)
    else:
        set_cookies = []  # link_required: the ticket stays for the proof
    if set_cookies:
        headers["Set-Cookie"] = set_cookies
    return Reply(body, headers=headers)


@route(
    bp,
    "/v1/auth/providers",
    "GET",
    permission=PUBLIC,
    summary="The identity providers this panel offers for sign-in",
    tags=TAGS,
    response_model="oauth:ProviderList",
)
def providers(ctx: Ctx) -> dict[str, object]:
    from mamba.services import oauth

    return {"items": oauth.enabled(bootstrap.oauth_ports())}


@route(
    bp,
    "/v1/auth/oauth/{provider}/start",
    "GET",
    permission=PUBLIC,
    summary="Start signing in with a provider: redirects the browser to it (PKCE, state, nonce)",
    tags=TAGS,
    status=302,
    query=("return_to",),
)
def start(ctx: Ctx, provider: str) -> Response:
    from mamba.services import oauth

    try:
        with _audited(ctx, "oauth_start", 302, provider=provider):
            started = oauth.start(
                bootstrap.oauth_ports(),
                provider,
                return_to=ctx.query.get("return_to"),
                now=clock.now_epoch(),
                pending_ticket=oauth_cookies.read(ctx.request, oauth_cookies.TICKET_COOKIE),
                source_ip=ctx.source_ip,
            )
    except DomainError as exc:
        return _redirect(_page(provider, error=_reason(exc)))
    return _redirect(started.url, oauth_cookies.set_state(started.binding))


@route(
    bp,
    "/v1/auth/oauth/{provider}/callback",
    "GET",
    permission=PUBLIC,
    summary="Where the provider sends the browser back; redirects to the panel's completion page",
    tags=TAGS,
    status=302,
    query=("code", "state", "error"),
)
def callback(ctx: Ctx, provider: str) -> Response:
    from mamba.services import oauth

    query = ctx.query
    try:
        with _audited(ctx, "oauth_callback", 302, provider=provider) as entry:
            called = oauth.callback(
                bootstrap.oauth_ports(),
                provider,
                state=query.get("state"),
                code=query.get("code"),
                error=query.get("error"),
                binding=oauth_cookies.read(ctx.request, oauth_cookies.STATE_COOKIE),
                now=clock.now_epoch(),
            )
            entry.actor_id = called.user_id
            entry.details["outcome"] = called.decision
    except DomainError as exc:
        return _redirect(_page(provider, error=_reason(exc)), oauth_cookies.clear_state())
    if called.outcome == "linked":
        return _redirect(_page(provider, result="linked"), oauth_cookies.clear_state())
    assert called.ticket is not None
    return _redirect(_page(provider), oauth_cookies.clear_state(), oauth_cookies.set_ticket(called.ticket))


@route(
    bp,
    "/v1/auth/oauth/complete",
    "POST",
    permission=PUBLIC,
    errors=(401, 403, 429),
    summary="Finish a provider sign-in (with the 2FA code when the account has 2FA)",
    tags=TAGS,
    request_model="oauth:OAuthCompleteIn",
    response_model="oauth:OAuthCompleteOut",
)
def complete(ctx: Ctx) -> Any:
    from mamba.services import oauth

    with _audited(ctx, "oauth_complete") as entry:
        _web(ctx)
        result = oauth.complete(
            bootstrap.oauth_ports(),
            oauth_cookies.read(ctx.request, oauth_cookies.TICKET_COOKIE),
            totp_code=ctx.body.totp_code,
            source_ip=ctx.source_ip,
            user_agent=_user_agent(ctx),
            now=clock.now_epoch(),
            passkey=_passkey(ctx.body),
        )
        entry.actor_id = result.pair.user_id if result.pair else None
        entry.details.update(provider=result.provider, outcome=result.status)
    return _signed_in(result)


@route(
    bp,
    "/v1/auth/oauth/prove/password",
    "POST",
    permission=PUBLIC,
    errors=(401, 403, 429),
    summary="Prove the account that holds the provider's email with its password; links and signs in",
    tags=TAGS,
    request_model="oauth:OAuthProvePasswordIn",
    response_model="oauth:OAuthCompleteOut",
)
def prove_password(ctx: Ctx) -> Any:
    from mamba.services import oauth

    body: OAuthProvePasswordIn = ctx.body
    with _audited(ctx, "oauth_prove_password") as entry:
        _web(ctx)
        result = oauth.prove_with_password(
            bootstrap.oauth_ports(),
            oauth_cookies.read(ctx.request, oauth_cookies.TICKET_COOKIE),
            body.password,
            totp_code=body.totp_code,
            captcha_token=body.captcha_token,
            source_ip=ctx.source_ip,
            user_agent=_user_agent(ctx),
            now=clock.now_epoch(),
            passkey=_passkey(body),
        )
        entry.actor_id = result.pair.user_id if result.pair else None
    return _signed_in(result)


@route(
    bp,
    "/v1/auth/oauth/prove/mail",
    "POST",
    permission=PUBLIC,
    errors=(403, 429),
    summary="Mail the account that holds the provider's email a link that links the sign-in",
    tags=TAGS,
    response_model="accounts:StatusOut",
    status=202,
)
def prove_mail(ctx: Ctx) -> dict[str, object]:
    from mamba.services import oauth

    with _audited(ctx, "oauth_prove_mail", 202):
        _web(ctx)
        oauth.send_link_mail(
            bootstrap.oauth_ports(),
            oauth_cookies.read(ctx.request, oauth_cookies.TICKET_COOKIE),
            now=clock.now_epoch(),
        )
    return {"status": "accepted", "message": MAIL_ANSWER}


@route(
    bp,
    "/v1/auth/oauth/link/confirm",
    "POST",
    permission=PUBLIC,
    errors=(403,),
    summary="Redeem the mailed link: the provider's sign-in is linked; then complete signs in",
    tags=TAGS,
    request_model="oauth:OAuthConfirmIn",
    response_model="oauth:OAuthLinkedOut",
)
def confirm_link(ctx: Ctx) -> Any:
    from mamba.services import oauth

    with _audited(ctx, "oauth_link_confirm"):
        _web(ctx)
        ticket, provider = oauth.confirm_link(bootstrap.oauth_ports(), ctx.body.token, now=clock.now_epoch())
    headers: dict[str, str | list[str]] = {"Set-Cookie": oauth_cookies.set_ticket(ticket), "Cache-Control": "no-store"}
    return Reply({"status": "linked", "provider": provider}, headers=headers)


# --- the account page: linked sign-ins --------------------------------------------------------


@route(
    bp,
    "/v1/me/identities",
    "GET",
    permission="account.read",
    summary="The providers linked to your account for sign-in",
    tags=("account",),
    response_model="oauth:IdentityList",
)
def list_identities(ctx: Ctx) -> dict[str, object]:
    from mamba.services import oauth

    return {"items": oauth.list_identities(bootstrap.oauth_ports(), ctx.user_id), "next_cursor": None}


@route(
    bp,
    "/v1/me/identities",
    "POST",
    permission="account.write",
    errors=(403,),
    summary="Start linking a provider to your account: send the browser to authorize_url",
    tags=("account",),
    request_model="oauth:LinkIdentityIn",
    response_model="oauth:LinkStartedOut",
)
def link_identity(ctx: Ctx) -> Any:
    from mamba.services import oauth

    assert ctx.principal is not None
    body: LinkIdentityIn = ctx.body
    started = oauth.start_link(
        bootstrap.oauth_ports(),
        ctx.user_id,
        body.provider,
        via=ctx.principal.via,
        return_to=body.return_to,
        now=clock.now_epoch(),
    )
    headers: dict[str, str | list[str]] = {
        "Set-Cookie": oauth_cookies.set_state(started.binding),
        "Cache-Control": "no-store",
    }
    return Reply({"authorize_url": started.url}, headers=headers)


@route(
    bp,
    "/v1/me/identities/{identity_id}",
    "DELETE",
    permission="account.write",
    errors=(403, 404, 409),
    summary="Remove a linked provider (refused when it is the account's only way to sign in)",
    tags=("account",),
    status=204,
)
def unlink_identity(ctx: Ctx, identity_id: str) -> Response:
    from mamba.services import oauth

    assert ctx.principal is not None
    oauth.unlink(bootstrap.oauth_ports(), ctx.user_id, identity_id, via=ctx.principal.via)
    return Response(body="", status_code=204)
