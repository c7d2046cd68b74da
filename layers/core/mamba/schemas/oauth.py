"""Request and response models of the sign-in with an identity provider (docs/oauth.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mamba.domain import account_policy as accounts
from mamba.schemas.accounts import CaptchaToken
from mamba.schemas.common import OmitWhenNone, Schema
from mamba.schemas.passkeys import PasskeyAnswerIn

ProviderId = Literal["google", "microsoft", "github", "discord"]
TotpCode = Annotated[
    str | None,
    Field(default=None, max_length=64, description="When the account has 2FA: a TOTP code or a recovery code."),
]


class ProviderOut(Schema):
    id: ProviderId
    name: str = Field(examples=["Google"])
    kind: Literal["oidc", "oauth2"]


class ProviderList(Schema):
    items: list[ProviderOut]


class OAuthCompleteIn(Schema):
    totp_code: TotpCode = None
    passkey: PasskeyAnswerIn | None = Field(
        default=None,
        description="Instead of totp_code: one of the account's passkeys answering a ceremony of "
        "POST /v1/auth/passkeys/options (docs/passkeys.md).",
    )


class OAuthProvePasswordIn(Schema):
    password: str = Field(min_length=1, max_length=accounts.MAX_PASSWORD_LENGTH)
    totp_code: TotpCode = None
    passkey: PasskeyAnswerIn | None = Field(
        default=None,
        description="Instead of totp_code: one of the account's passkeys answering a ceremony of "
        "POST /v1/auth/passkeys/options (docs/passkeys.md).",
    )
    captcha_token: CaptchaToken = None


class OAuthConfirmIn(Schema):
    token: str = Field(min_length=16, max_length=512, description="The `token` of the link in the mail.")


class OAuthCompleteOut(Schema, OmitWhenNone):
    """``signed_in``: the access token (the refresh token went into the HttpOnly cookie, as a
    cookie-mode login's does). ``link_required``: an account holds this email; ``methods`` says
    how its owner may prove it (``password``, a linked provider's id, ``mail``)."""

    omit_when_none = frozenset({"access_token", "token_type", "expires_in", "email"})

    status: Literal["signed_in", "link_required"]
    provider: str
    return_to: str
    access_token: str | None = None
    token_type: Literal["Bearer"] | None = None
    expires_in: int | None = None
    email: str | None = None
    methods: list[str] = Field(default_factory=list)
    created: bool = False
    linked: bool = False


class OAuthLinkedOut(Schema):
    status: Literal["linked"]
    provider: str


class IdentityOut(Schema):
    id: str
    provider: str
    email: str | None
    created_at: str
    last_used_at: str | None


class IdentityList(Schema):
    items: list[IdentityOut]
    next_cursor: str | None = None


class LinkIdentityIn(Schema):
    provider: ProviderId
    return_to: str | None = Field(default=None, max_length=512, description="A path of the panel; /account by default.")


class LinkStartedOut(Schema):
    authorize_url: str = Field(description="Send the browser here (a full-page navigation).")
