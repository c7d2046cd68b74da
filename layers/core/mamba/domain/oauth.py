"""Sign-in with an outside identity provider (OAuth 2.0 / OpenID Connect): the providers, the
records the flow keeps, the account-linking rules and the ``return_to`` check (docs/oauth.md).

Standard library only: the protocol work (PKCE, token exchange, ID-token signatures) is the
adapter's, done by Authlib and joserfc; what is decided here is who gets signed in as whom.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from mamba.domain.errors import DomainError
from mamba.domain.ratelimit import Limit

ProviderKind = Literal["oidc", "oauth2"]


@dataclass(frozen=True)
class ProviderInfo:
    id: str
    name: str  # as the sign-in button shows it
    kind: ProviderKind


# The four providers the panel knows. Which of them a deployment offers is configuration
# (a client id in Settings): GET /v1/auth/providers lists the enabled ones.
PROVIDERS: dict[str, ProviderInfo] = {
    "google": ProviderInfo("google", "Google", "oidc"),
    "microsoft": ProviderInfo("microsoft", "Microsoft", "oidc"),
    "github": ProviderInfo("github", "GitHub", "oauth2"),
    "discord": ProviderInfo("discord", "Discord", "oauth2"),
}

STATE_TTL_SECONDS = 10 * 60  # from the start to the callback: the provider's consent page included
TICKET_TTL_SECONDS = 10 * 60  # from the callback to the panel's completion (a 2FA code, a proof)
LINK_MAIL_TTL_SECONDS = 30 * 60  # the "link this sign-in" mail
MAX_RETURN_TO = 512
# Starts per IP: each writes a state item and sends the browser to a provider; far above what a
# person (or an office behind one address) does, low enough that nobody fills the table with them.
START_LIMIT = Limit("oauth-start-ip", 60, 600)

Intent = Literal["sign_in", "link"]
TicketKind = Literal["sign_in", "prove", "mail_link"]


class OAuthRefusedError(DomainError):
    """The sign-in with a provider was refused; ``details.reason`` names why (the panel's page
    shows a sentence per reason): ``state_invalid``, ``provider_error``, ``code_rejected``,
    ``id_token_invalid``, ``nonce_mismatch``, ``id_token_expired``, ``signature_invalid``,
    ``email_unverified``, ``email_missing``, ``identity_taken``, ``ticket_invalid``."""

    status = 400
    code = "OAUTH_REFUSED"


@dataclass(frozen=True)
class ExternalProfile:
    """Who the provider says signed in: its stable subject, and the email with whether the
    provider itself verified it (an unverified one never creates or links an account)."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None = None


@dataclass(frozen=True)
class Identity:
    """A provider account linked to a panel account."""

    id: str
    user_id: str
    provider: str
    subject: str
    email: str | None
    created_at: str
    last_used_at: str | None = None


@dataclass(frozen=True)
class OAuthState:
    """A started flow, kept server-side under the digest of its ``state`` until the callback
    (single use). ``binding`` is the digest of the browser cookie set at the start, so a
    callback in another browser (a login-CSRF or a stolen redirect) is refused."""

    provider: str
    binding: str
    code_verifier: str
    nonce: str
    return_to: str
    expires_at: int
    intent: Intent = "sign_in"
    user_id: str | None = None  # the signed-in account that links (intent "link")
    pending: str | None = None  # digest of a "prove" ticket this browser held at the start


@dataclass(frozen=True)
class Ticket:
    """What the callback hands to the panel's page (in an HttpOnly cookie, stored as a digest):

    * ``sign_in``: the account to sign in, once its second factor (if any) is given;
    * ``prove``: an account holds the provider's email; its owner must prove it before the
      identity in ``profile`` is linked (password, another linked provider, or a mailed link);
    * ``mail_link``: the mailed link of a ``prove`` ticket.
    """

    kind: TicketKind
    user_id: str
    provider: str
    return_to: str
    expires_at: int
    profile: ExternalProfile | None = None
    created: bool = False  # sign_in: the account was created by this sign-in


Decision = Literal["sign_in", "already_linked", "identity_taken", "email_unverified", "link", "create", "prove"]


def decide(*, linked_to: str | None, signed_in: str | None, email_verified: bool, email_owner: str | None) -> Decision:
    """The account-linking rules (docs/oauth.md#accounts), one answer per case:

    * an identity already linked signs its account in (or, for a signed-in caller linking it,
      is theirs already, or another account's: refused);
    * an unlinked identity whose email the provider has not verified creates and links nothing;
    * a signed-in caller links it to their own account (they proved that account by signing in);
    * otherwise a verified email no account holds creates one, and one an account holds needs
      that account's owner to prove it first: never a silent link.
    """
    if linked_to is not None:
        if signed_in is None:
            return "sign_in"
        return "already_linked" if signed_in == linked_to else "identity_taken"
    if not email_verified:
        return "email_unverified"
    if signed_in is not None:
        return "link"
    return "create" if email_owner is None else "prove"


def safe_return_to(value: str | None) -> str:
    """``value`` if it is a path of the panel's own origin, else ``/``: no scheme, no host, no
    protocol-relative ``//`` (nor its backslash spellings that browsers treat alike), no control
    characters. An open redirect through the sign-in is the classic way to lend a phishing page
    the panel's address."""
    if not value or len(value) > MAX_RETURN_TO:
        return "/"
    if not value.startswith("/") or value.startswith(("//", "/\\")) or "\\" in value:
        return "/"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def normalise_email(value: str | None) -> str | None:
    """The provider's email as the panel stores addresses (lower case), None when absent."""
    text = (value or "").strip().lower()
    return text if "@" in text else None
