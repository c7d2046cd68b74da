"""Sign-in with Google, Microsoft, GitHub and Discord (docs/oauth.md).

The flow, one use case per step:

1. ``start``: a random ``state`` (kept server-side under its digest, single use, 10 minutes),
   a ``nonce`` for OpenID Connect, a PKCE verifier (the adapter's library makes it and the S256
   challenge) and a browser binding: a random value the door sets as an HttpOnly cookie and the
   state stores as a digest. The provider's authorization URL is returned.
2. ``callback``: the state is taken (so a replayed callback finds nothing), its binding must
   match the cookie, the code is exchanged with the verifier, the ID token is checked (the
   adapter), and ``mamba.domain.oauth.decide`` says what happens: sign an account in, create
   one, link to the signed-in caller, or ask the owner of the address for proof. The answer is
   a *ticket* (single use, 10 minutes) the door sets as a cookie for the panel's page.
3. ``complete``: the panel's page redeems a sign-in ticket exactly like a password login
   would end (suspension, lockout and the second factor honoured; the same sessions), or learns
   that proof is needed, which ``prove_with_password``, a sign-in with an already linked
   provider (``start`` remembers the pending ticket) or ``send_link_mail`` + ``confirm_link``
   give.

Nothing here speaks HTTP to a provider or knows a token format: the providers are ports.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from mamba import mail_templates
from mamba.domain.account_policy import check_name
from mamba.domain.accounts import TokenPair, User
from mamba.domain.clock import new_id
from mamba.domain.errors import ConflictError, NotFoundError, SessionRequiredError, UnauthorizedError, ValidationError
from mamba.domain.oauth import (
    LINK_MAIL_TTL_SECONDS,
    PROVIDERS,
    START_LIMIT,
    STATE_TTL_SECONDS,
    TICKET_TTL_SECONDS,
    ExternalProfile,
    Identity,
    OAuthRefusedError,
    OAuthState,
    ProviderInfo,
    Ticket,
    decide,
    safe_return_to,
)
from mamba.services import abuse, sessions
from mamba.services.accounts import AccountPorts, now_iso, revoke_api_keys, send_mail, token_digest

# --- ports -----------------------------------------------------------------------------------


class IdentityProvider(Protocol):
    id: str

    def authorize(self, *, redirect_uri: str, state: str, nonce: str) -> tuple[str, str]:
        """The authorization URL (PKCE S256, state, nonce) and the code verifier to keep."""

    def profile(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> ExternalProfile:
        """Exchange the code and say who signed in. Raises OAuthRefusedError (with a reason)
        and DependencyUnavailableError."""


class OAuthStore(Protocol):
    def put_state(self, digest: str, state: OAuthState) -> None: ...

    def take_state(self, digest: str) -> OAuthState | None:
        """The state, deleted by this call; None when unknown or taken already."""

    def put_ticket(self, digest: str, ticket: Ticket) -> None: ...

    def get_ticket(self, digest: str) -> Ticket | None: ...

    def take_ticket(self, digest: str) -> Ticket | None:
        """The ticket, deleted by this call; None when unknown or taken already."""

    def find(self, provider: str, subject: str) -> Identity | None: ...

    def link(self, identity: Identity) -> None:
        """Raises ConflictError (``identity_taken``), NotFoundError (no such user)."""

    def create_user_with_identity(self, user: User, identity: Identity) -> None:
        """Raises ConflictError (the email or the identity was taken meanwhile)."""

    def list_for_user(self, user_id: str) -> list[Identity]: ...

    def unlink(self, identity: Identity) -> None: ...

    def touch(self, identity: Identity, at: str) -> None: ...


@dataclass(frozen=True)
class OAuthPorts:
    accounts: AccountPorts
    store: OAuthStore
    providers: Mapping[str, IdentityProvider] = field(default_factory=dict)
    now_iso: Callable[[], str] = now_iso

    def redirect_uri(self, provider: str) -> str:
        """Where the provider sends the browser back: registered with each provider as is."""
        return f"{self.accounts.public_url.rstrip('/')}/v1/auth/oauth/{provider}/callback"


@dataclass(frozen=True)
class Started:
    url: str  # the provider's authorization URL
    binding: str  # the browser binding, for the door's HttpOnly cookie


@dataclass(frozen=True)
class Called:
    """A callback's outcome: a ticket for the panel's page, or a link done for a signed-in caller."""

    outcome: Literal["ticket", "linked"]
    provider: str
    return_to: str
    ticket: str | None = None
    user_id: str | None = None  # the account concerned (for the audit entry)
    decision: str = ""  # what decide() said: sign_in, create, prove, link, already_linked


@dataclass(frozen=True)
class Completed:
    status: Literal["signed_in", "link_required"]
    provider: str
    return_to: str
    pair: TokenPair | None = None
    email: str | None = None
    methods: tuple[str, ...] = ()  # link_required: how the owner may prove the account
    created: bool = False
    linked: bool = False


def _refused(reason: str, message: str) -> OAuthRefusedError:
    return OAuthRefusedError(message, {"reason": reason})


def _bad_state() -> OAuthRefusedError:
    return _refused("state_invalid", "This sign-in was not started in this browser, or is over; start again.")


def _bad_ticket() -> OAuthRefusedError:
    return _refused("ticket_invalid", "This sign-in is over or was used already; start again.")


def enabled(ports: OAuthPorts) -> list[ProviderInfo]:
    """The providers this deployment offers, in the order of ``PROVIDERS``."""
    return [info for pid, info in PROVIDERS.items() if pid in ports.providers]


def _provider(ports: OAuthPorts, provider: str) -> IdentityProvider:
    found = ports.providers.get(provider)
    if found is None:
        raise NotFoundError("This sign-in provider is not offered.", {"provider": provider})
    return found


# --- 1. start --------------------------------------------------------------------------------


def _begin(
    ports: OAuthPorts,
    provider: str,
    *,
    return_to: str | None,
    now: int,
    user_id: str | None = None,
    pending_ticket: str | None = None,
    source_ip: str = "",
) -> Started:
    client = _provider(ports, provider)
    if source_ip:
        abuse.count(ports.accounts.limiter, START_LIMIT, source_ip, now)
    state, nonce, binding = (secrets.token_urlsafe(32) for _ in range(3))
    url, verifier = client.authorize(redirect_uri=ports.redirect_uri(provider), state=state, nonce=nonce)
    ports.store.put_state(
        token_digest(state),
        OAuthState(
            provider=provider,
            binding=token_digest(binding),
            code_verifier=verifier,
            nonce=nonce,
            return_to=safe_return_to(return_to),
            expires_at=now + STATE_TTL_SECONDS,
            intent="link" if user_id else "sign_in",
            user_id=user_id,
            pending=token_digest(pending_ticket) if pending_ticket else None,
        ),
    )
    return Started(url=url, binding=binding)


def start(
    ports: OAuthPorts,
    provider: str,
    *,
    return_to: str | None,
    now: int,
    pending_ticket: str | None = None,
    source_ip: str = "",
) -> Started:
    """Begin a sign-in. ``pending_ticket``: the browser holds a "prove" ticket, so signing in
    with an identity already linked to that account proves it (and links the pending one).
    Raises NotFoundError (provider not offered) and RateLimitedError (``START_LIMIT`` per IP)."""
    return _begin(ports, provider, return_to=return_to, now=now, pending_ticket=pending_ticket, source_ip=source_ip)


def start_link(ports: OAuthPorts, user_id: str, provider: str, *, via: str, return_to: str | None, now: int) -> Started:
    """Begin linking a provider to the signed-in account. Raises SessionRequiredError (an API
    key links no sign-in) and NotFoundError."""
    if via != "token":
        raise SessionRequiredError("An API key cannot link a sign-in; sign in.", {"via": via})
    ports.accounts.users.get(user_id)
    return _begin(ports, provider, return_to=return_to or "/account", now=now, user_id=user_id)


# --- 2. callback -----------------------------------------------------------------------------


def _issue(ports: OAuthPorts, ticket: Ticket) -> str:
    token = secrets.token_urlsafe(32)
    ports.store.put_ticket(token_digest(token), ticket)
    return token


def _linked_account(ports: OAuthPorts, profile: ExternalProfile) -> Identity | None:
    """The identity's link, if its account still exists (a deleted account's link is dropped)."""
    found = ports.store.find(profile.provider, profile.subject)
    if found is None:
        return None
    try:
        ports.accounts.users.get(found.user_id)
    except NotFoundError:
        ports.store.unlink(found)
        return None
    return found


def _new_identity(user_id: str, profile: ExternalProfile, at: str) -> Identity:
    return Identity(
        id=new_id("idn"),
        user_id=user_id,
        provider=profile.provider,
        subject=profile.subject,
        email=profile.email,
        created_at=at,
        last_used_at=at,
    )


def callback(
    ports: OAuthPorts,
    provider: str,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    binding: str | None,
    now: int,
) -> Called:
    """The provider sent the browser back. Raises OAuthRefusedError (its reason says why: a
    tampered, replayed, expired or foreign state; the provider's refusal; a rejected code or
    ID token; an unverified email; an identity of another account), NotFoundError (provider
    not offered) and DependencyUnavailableError."""
    client = _provider(ports, provider)
    found = ports.store.take_state(token_digest(state)) if state else None
    if (
        found is None
        or found.provider != provider
        or found.expires_at <= now
        or not binding
        or not secrets.compare_digest(found.binding, token_digest(binding))
    ):
        raise _bad_state()
    if error:
        raise _refused("provider_error", "The provider did not sign you in (it said: access denied or an error).")
    if not code:
        raise _refused("code_rejected", "The provider sent no sign-in code; start again.")
    profile = client.profile(
        code=code, redirect_uri=ports.redirect_uri(provider), code_verifier=found.code_verifier, nonce=found.nonce
    )
    linked = _linked_account(ports, profile)
    owner = ports.accounts.users.find_by_email(profile.email) if profile.email else None
    decision = decide(
        linked_to=linked.user_id if linked else None,
        signed_in=found.user_id if found.intent == "link" else None,
        email_verified=profile.email_verified,
        email_owner=owner.id if owner else None,
    )
    at = ports.now_iso()
    if decision == "identity_taken":
        raise _refused("identity_taken", "This provider account is linked to another account.")
    if decision == "email_unverified":
        reason = "email_missing" if not profile.email else "email_unverified"
        raise _refused(reason, "The provider has not verified your email address; verify it there first.")
    if decision in ("already_linked", "link"):
        if decision == "link" and found.user_id:
            ports.store.link(_new_identity(found.user_id, profile, at))
        return Called(
            outcome="linked", provider=provider, return_to=found.return_to, user_id=found.user_id, decision=decision
        )
    if decision == "sign_in" and linked is not None:
        ports.store.touch(linked, at)
        _link_pending(ports, found, linked.user_id, now)
        ticket = Ticket("sign_in", linked.user_id, provider, found.return_to, now + TICKET_TTL_SECONDS)
    elif decision == "create":
        user = _create_account(ports, profile, at)
        ticket = Ticket("sign_in", user.id, provider, found.return_to, now + TICKET_TTL_SECONDS, created=True)
    else:  # prove: an account holds this verified address; its owner must prove it
        assert owner is not None
        ticket = Ticket("prove", owner.id, provider, found.return_to, now + TICKET_TTL_SECONDS, profile=profile)
    return Called(
        outcome="ticket",
        provider=provider,
        return_to=found.return_to,
        ticket=_issue(ports, ticket),
        user_id=ticket.user_id,
        decision=decision,
    )


def _link_pending(ports: OAuthPorts, state: OAuthState, user_id: str, now: int) -> None:
    """Signing in with an identity linked to the account that a "prove" ticket of this browser
    names is the proof: link the pending identity too."""
    if not state.pending:
        return
    pending = ports.store.get_ticket(state.pending)
    if pending is None or pending.kind != "prove" or pending.user_id != user_id or pending.expires_at <= now:
        return
    taken = ports.store.take_ticket(state.pending)
    if taken is not None and taken.profile is not None:
        _link_quietly(ports, user_id, taken.profile)


def _link_quietly(ports: OAuthPorts, user_id: str, profile: ExternalProfile) -> None:
    try:
        ports.store.link(_new_identity(user_id, profile, ports.now_iso()))
    except ConflictError as exc:  # linked meanwhile: to this account it is done, to another refused
        current = ports.store.find(profile.provider, profile.subject)
        if current is None or current.user_id != user_id:
            raise _refused("identity_taken", "This provider account is linked to another account.") from exc


def _create_account(ports: OAuthPorts, profile: ExternalProfile, at: str) -> User:
    assert profile.email is not None
    name: str | None
    try:
        name = check_name(profile.name)
    except ValidationError:
        name = None  # a provider's display name the panel would refuse is not worth failing the sign-in
    user = User(id=new_id("usr"), email=profile.email, created_at=at, name=name, email_verified=True)
    try:
        ports.store.create_user_with_identity(user, _new_identity(user.id, profile, at))
    except ConflictError as exc:
        raise _refused("retry", "Someone signed up with this address at the same moment; start again.") from exc
    return user


# --- 3. complete -----------------------------------------------------------------------------


def _live_ticket(ports: OAuthPorts, token: str | None, now: int) -> Ticket:
    ticket = ports.store.get_ticket(token_digest(token)) if token else None
    if ticket is None or ticket.expires_at <= now:
        raise _bad_ticket()
    return ticket


def _methods(ports: OAuthPorts, owner: User) -> tuple[str, ...]:
    providers = sorted({i.provider for i in ports.store.list_for_user(owner.id) if i.provider in ports.providers})
    return (*(("password",) if owner.password_hash else ()), *providers, "mail")


def _check_account(ports: OAuthPorts, user: User, now: int) -> None:
    if user.status != "active":
        raise UnauthorizedError("The account is not active.", {"reason": "inactive"})
    if user.locked_until is not None and user.locked_until > now:
        # The provider proved who this is, so the lock may be named; it still holds.
        raise UnauthorizedError("The account is locked after failed sign-ins; try again later.", {"reason": "locked"})


def complete(
    ports: OAuthPorts,
    ticket_token: str | None,
    *,
    totp_code: str | None,
    source_ip: str,
    user_agent: str,
    now: int,
    passkey: sessions.PasskeyAnswer | None = None,
) -> Completed:
    """Redeem the callback's ticket. A sign-in ticket ends like a password login (the account
    active and not locked, the second factor when enabled, a new session); a "prove" ticket
    answers what proof the account's owner may give.

    Raises OAuthRefusedError (``ticket_invalid``), UnauthorizedError (``inactive``, ``locked``,
    ``totp_required``, ``totp_invalid``: the ticket stays usable until it expires, a wrong code
    counts as a failed login)."""
    ticket = _live_ticket(ports, ticket_token, now)
    accounts = ports.accounts
    if ticket.kind == "prove":
        owner = accounts.users.get(ticket.user_id)
        return Completed(
            status="link_required",
            provider=ticket.provider,
            return_to=ticket.return_to,
            email=owner.email,
            methods=_methods(ports, owner),
        )
    if ticket.kind != "sign_in":
        raise _bad_ticket()
    user = accounts.users.get(ticket.user_id)
    _check_account(ports, user, now)
    sessions.check_second_factor(accounts, user, totp_code, source_ip, now, passkey)
    if ports.store.take_ticket(token_digest(ticket_token or "")) is None:  # redeemed by a parallel request
        raise _bad_ticket()
    if user.failed_logins:
        accounts.users.clear_login_failures(user.id)
    pair = sessions.start_session(accounts, user, now, sessions.client_hints(source_ip, user_agent))
    return Completed(
        status="signed_in", provider=ticket.provider, return_to=ticket.return_to, pair=pair, created=ticket.created
    )


def _prove_ticket(ports: OAuthPorts, token: str | None, now: int) -> tuple[Ticket, ExternalProfile]:
    ticket = _live_ticket(ports, token, now)
    if ticket.kind != "prove" or ticket.profile is None:
        raise _bad_ticket()
    return ticket, ticket.profile


def prove_with_password(
    ports: OAuthPorts,
    ticket_token: str | None,
    password: str,
    *,
    totp_code: str | None,
    captcha_token: str | None,
    source_ip: str,
    user_agent: str,
    now: int,
    passkey: sessions.PasskeyAnswer | None = None,
) -> Completed:
    """The owner proves the account with its password (and second factor): exactly a password
    login (its windows, lockout, CAPTCHA and 2FA), after which the pending identity is linked.
    Raises what ``sessions.login`` raises, and OAuthRefusedError."""
    ticket, profile = _prove_ticket(ports, ticket_token, now)
    owner = ports.accounts.users.get(ticket.user_id)
    pair = sessions.login(
        ports.accounts,
        owner.email,
        password,
        totp_code=totp_code,
        captcha_token=captcha_token,
        source_ip=source_ip,
        now=now,
        user_agent=user_agent,
        passkey=passkey,
    )
    if ports.store.take_ticket(token_digest(ticket_token or "")) is None:
        raise _bad_ticket()
    _link_quietly(ports, owner.id, profile)
    return Completed(status="signed_in", provider=ticket.provider, return_to=ticket.return_to, pair=pair, linked=True)


def send_link_mail(ports: OAuthPorts, ticket_token: str | None, *, now: int) -> str:
    """Mail the account's address a link that links the pending identity. Returns the address.
    At most the per-email forgot-password limit an hour (one inbox is not flooded); over it
    RateLimitedError. Raises OAuthRefusedError."""
    ticket, profile = _prove_ticket(ports, ticket_token, now)
    accounts = ports.accounts
    owner = accounts.users.get(ticket.user_id)
    abuse.count(accounts.limiter, accounts.policy.forgot_email, owner.email, now)
    token = _issue(ports, replace(ticket, kind="mail_link", expires_at=now + LINK_MAIL_TTL_SECONDS))
    name = PROVIDERS[profile.provider].name if profile.provider in PROVIDERS else profile.provider
    mail = mail_templates.oauth_link(accounts.public_url, token, LINK_MAIL_TTL_SECONDS, name, owner.name)
    send_mail(accounts, owner.email, mail)
    return owner.email


def confirm_link(ports: OAuthPorts, mail_token: str, *, now: int) -> tuple[str, str]:
    """Redeem the mailed link: the identity is linked (the mailbox is proven, so an unverified
    account is taken over as a reset link would, and its address becomes verified) and a
    sign-in ticket is issued for this browser, which ``complete`` redeems (with the second
    factor when enabled). Returns (ticket, provider). Raises OAuthRefusedError (``ticket_invalid``)."""
    taken = ports.store.take_ticket(token_digest(mail_token)) if mail_token else None
    if taken is None or taken.kind != "mail_link" or taken.expires_at <= now or taken.profile is None:
        raise _bad_ticket()
    accounts = ports.accounts
    owner = accounts.users.get(taken.user_id)
    if not owner.email_verified:
        # The mailbox's owner proved it: on an unverified account that is a takeover, exactly as a
        # reset link's (docs/accounts.md, "Who owns an address"): whoever registered the address
        # without proving it loses the password, sessions, API keys, 2FA and pending change.
        moment = ports.now_iso()
        accounts.users.reset_password(
            owner.id,
            accounts.hasher.hash(secrets.token_urlsafe(32)),
            now + 1,
            credentials_reset_at=moment,
            take_over=True,
        )
        revoke_api_keys(accounts.api_keys, owner.id, moment)
        accounts.users.mark_email_verified(owner.id, owner.email)
    _link_quietly(ports, owner.id, taken.profile)
    ticket = Ticket("sign_in", owner.id, taken.provider, taken.return_to, now + TICKET_TTL_SECONDS)
    return _issue(ports, ticket), taken.provider


# --- the account page ------------------------------------------------------------------------


def list_identities(ports: OAuthPorts, user_id: str) -> list[Identity]:
    return sorted(ports.store.list_for_user(user_id), key=lambda i: (i.created_at, i.id))


def unlink(ports: OAuthPorts, user_id: str, identity_id: str, *, via: str) -> None:
    """Remove a linked provider. Refused (ConflictError ``last_sign_in_method``) when the account
    would be left with no way to sign in: no password, no passkey and no other linked provider.
    Raises SessionRequiredError (an API key) and NotFoundError (not this account's)."""
    if via != "token":
        raise SessionRequiredError("An API key cannot remove a sign-in; sign in.", {"via": via})
    identities = ports.store.list_for_user(user_id)
    target = next((i for i in identities if i.id == identity_id), None)
    if target is None:
        raise NotFoundError("Sign-in not found.", {"identity_id": identity_id})
    user = ports.accounts.users.get(user_id)
    # Ways in besides this provider: a password, a passkey (it signs in alone), another provider.
    if not user.password_hash and not user.passkeys and len(identities) <= 1:
        raise ConflictError(
            "This is the account's only way to sign in: set a password or link another provider first.",
            {"reason": "last_sign_in_method"},
        )
    ports.store.unlink(target)


def forget_identities(store: OAuthStore, user_id: str) -> None:
    """Unlink every provider of an account being deleted (``mamba.services.account_deletion``)."""
    for identity in store.list_for_user(user_id):
        store.unlink(identity)
