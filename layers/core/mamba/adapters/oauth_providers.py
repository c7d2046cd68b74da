"""The identity providers over HTTP: Google and Microsoft by OpenID Connect (discovery document,
JWKS), GitHub and Discord by OAuth 2.0 and their user APIs (docs/oauth.md).

The protocol work is the libraries': Authlib's ``OAuth2Session`` builds the authorization URL
with PKCE (S256) and exchanges the code; joserfc verifies the ID token's signature against the
provider's JWKS and its claims. Nothing here hand-rolls a JWT or a code challenge. Every
failure becomes ``OAuthRefusedError`` with a reason, or ``DependencyUnavailableError`` when the
provider cannot be reached: the caller never sees a library's exception.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet

from mamba.domain.errors import DependencyUnavailableError
from mamba.domain.oauth import ExternalProfile, OAuthRefusedError, normalise_email

TIMEOUT = (3.05, 10)  # connect, read: a provider that hangs must not hold a Lambda to its limit
DISCOVERY_TTL_SECONDS = 3600
JWKS_REFETCH_AFTER_SECONDS = 60  # an unknown key id refetches the JWKS, at most once a minute
LEEWAY_SECONDS = 60  # clock skew allowed on exp/iat
ID_TOKEN_ALGORITHMS = ("RS256",)  # what Google and Microsoft sign with; "none" and HS* never
USER_AGENT = "mamba-host-panel"


def _refused(reason: str, message: str) -> OAuthRefusedError:
    return OAuthRefusedError(message, {"reason": reason})


def _unavailable(provider: str) -> DependencyUnavailableError:
    return DependencyUnavailableError(f"{provider} could not be reached; try again.", {"provider": provider})


def _get_json(http: requests.Session, provider: str, url: str, token: str | None = None) -> Any:
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        answer = http.get(url, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise _unavailable(provider) from exc
    if answer.status_code >= 500:
        raise _unavailable(provider)
    if answer.status_code >= 400:
        raise _refused("provider_error", f"{provider} refused the request ({answer.status_code}).")
    try:
        return answer.json()
    except ValueError as exc:
        raise _refused("provider_error", f"{provider} answered with something that is not JSON.") from exc


@dataclass(frozen=True)
class ClientConfig:
    provider: str
    client_id: str
    client_secret: str


class _Provider(ABC):
    """What every provider shares: the authorization URL with PKCE, and the code exchange."""

    scope = ""

    def __init__(self, config: ClientConfig, http: requests.Session | None = None) -> None:
        self.config = config
        self.id = config.provider
        self._http = http or requests.Session()

    def _session(self, redirect_uri: str) -> OAuth2Session:
        session = OAuth2Session(
            self.config.client_id,
            self.config.client_secret,
            scope=self.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post",
        )
        session.headers["User-Agent"] = USER_AGENT
        return session

    @abstractmethod
    def _authorization_endpoint(self) -> str: ...

    @abstractmethod
    def _token_endpoint(self) -> str: ...

    def _authorization_extras(self, nonce: str) -> dict[str, str]:
        """What the authorization URL carries beyond PKCE and state (OIDC adds its nonce)."""
        return {}

    def authorize(self, *, redirect_uri: str, state: str, nonce: str) -> tuple[str, str]:
        """The provider's authorization URL for this flow, and the PKCE code verifier to keep."""
        verifier = generate_token(64)
        with self._session(redirect_uri) as session:
            url, _ = session.create_authorization_url(
                self._authorization_endpoint(),
                state=state,
                code_verifier=verifier,
                **self._authorization_extras(nonce),
            )
        return str(url), verifier

    def _exchange(self, code: str, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        with self._session(redirect_uri) as session:
            try:
                token = session.fetch_token(
                    self._token_endpoint(),
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                    # Authlib's default headers: a form body, and Accept: application/json (GitHub
                    # answers its token as a query string without it).
                    timeout=TIMEOUT,
                )
            except OAuthError as exc:  # the provider's {"error": "invalid_grant", ...}: a used or forged code
                raise _refused("code_rejected", "The provider refused the sign-in code; start again.") from exc
            except requests.RequestException as exc:
                raise _unavailable(self.id) from exc
            except ValueError as exc:  # a token endpoint that answers garbage
                raise _refused("provider_error", "The provider's token answer could not be read.") from exc
        if not isinstance(token, dict) or not token.get("access_token"):
            raise _refused("code_rejected", "The provider issued no access token; start again.")
        return dict(token)

    @abstractmethod
    def profile(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> ExternalProfile: ...


# --- OpenID Connect: Google, Microsoft --------------------------------------------------------


class _Cached:
    """A value fetched over HTTP, kept for a while per container."""

    def __init__(self, fetch: Callable[[], Any], ttl: float) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._value: Any = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self, *, refresh: bool = False) -> Any:
        with self._lock:
            if self._value is None or refresh or time.monotonic() - self._at > self._ttl:
                self._value = self._fetch()
                self._at = time.monotonic()
            return self._value

    def age(self) -> float:
        return time.monotonic() - self._at


class OidcProvider(_Provider):
    """An OpenID Connect provider found by its discovery document. The ID token is the proof:
    signed by a key of the provider's JWKS (an unknown ``kid`` refetches the set once, which is
    how a key rotation shows), issued by the discovered ``issuer`` for our client id, in date,
    and carrying the nonce this flow sent."""

    scope = "openid email profile"
    jwks_refetch_after: float = JWKS_REFETCH_AFTER_SECONDS

    def __init__(self, config: ClientConfig, discovery_url: str, http: requests.Session | None = None) -> None:
        super().__init__(config, http)
        self.discovery_url = discovery_url
        self._discovery = _Cached(lambda: _get_json(self._http, self.id, discovery_url), DISCOVERY_TTL_SECONDS)
        self._jwks = _Cached(self._fetch_jwks, DISCOVERY_TTL_SECONDS)

    def _document(self) -> dict[str, Any]:
        document = self._discovery.get()
        if not isinstance(document, dict) or not document.get("issuer"):
            raise _refused("provider_error", f"{self.id}'s discovery document has no issuer.")
        return document

    def _authorization_endpoint(self) -> str:
        return str(self._document()["authorization_endpoint"])

    def _token_endpoint(self) -> str:
        return str(self._document()["token_endpoint"])

    def _authorization_extras(self, nonce: str) -> dict[str, str]:
        return {"nonce": nonce}

    def _fetch_jwks(self) -> KeySet:
        data = _get_json(self._http, self.id, str(self._document()["jwks_uri"]))
        try:
            return KeySet.import_key_set(data)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise _refused("provider_error", f"{self.id}'s JWKS could not be read.") from exc

    def _verify_signature(self, id_token: str) -> jwt.Token:
        for attempt in (0, 1):
            keys = self._jwks.get(refresh=attempt == 1)
            try:
                return jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))
            except (BadSignatureError, InvalidKeyIdError) as exc:
                # A kid the set does not hold (or a signature none of its keys makes): a rotated
                # key is new to us: refetch the set once, and not more than once a minute (a token
                # signed by a stranger's key must not make us hammer the provider).
                if attempt == 0 and self._jwks.age() > self.jwks_refetch_after:
                    continue
                raise _refused("signature_invalid", "The ID token is not signed by the provider.") from exc
            except UnsupportedAlgorithmError as exc:  # "none", HS256 with the public key as secret...
                raise _refused("signature_invalid", "The ID token is not signed as the provider signs.") from exc
            except (JoseError, ValueError) as exc:
                raise _refused("id_token_invalid", "The ID token could not be read.") from exc
        raise _refused("signature_invalid", "The ID token is not signed by the provider.")

    def issuer_for(self, claims: dict[str, Any]) -> str:
        """The expected ``iss``. Microsoft's multi-tenant document names ``{tenantid}``: the
        token's own ``tid`` goes in (the signature was checked first, so the claim is the
        provider's)."""
        issuer = str(self._document()["issuer"])
        if "{tenantid}" in issuer:
            issuer = issuer.replace("{tenantid}", str(claims.get("tid") or ""))
        return issuer

    def check_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        token = self._verify_signature(id_token)
        claims = dict(token.claims)
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer_for(claims)},
            aud={"essential": True, "value": self.config.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as exc:
            raise _refused("id_token_expired", "The ID token has expired; start again.") from exc
        except (MissingClaimError, InvalidClaimError, JoseError) as exc:
            raise _refused("id_token_invalid", f"The ID token is not for this panel ({exc}).") from exc
        iat = claims.get("iat")
        if not isinstance(iat, int) or iat > int(time.time()) + LEEWAY_SECONDS:
            raise _refused("id_token_invalid", "The ID token is dated in the future.")
        if claims.get("nonce") != nonce:  # the token of another flow, replayed into this one
            raise _refused("nonce_mismatch", "The ID token belongs to another sign-in; start again.")
        return claims

    def email_verified(self, claims: dict[str, Any]) -> bool:
        # A boolean in today's ID tokens; Google's documented example (and its tokeninfo) spell it "true".
        return claims.get("email_verified") in (True, "true")

    def profile(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> ExternalProfile:
        token = self._exchange(code, redirect_uri, code_verifier)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise _refused("id_token_invalid", "The provider issued no ID token.")
        claims = self.check_id_token(id_token, nonce)
        return ExternalProfile(
            provider=self.id,
            subject=str(claims["sub"]),
            email=normalise_email(claims.get("email")),
            email_verified=self.email_verified(claims) and bool(normalise_email(claims.get("email"))),
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        )


class MicrosoftProvider(OidcProvider):
    """Microsoft identity platform (v2.0). Its ``email`` claim is whatever the account's tenant
    typed in, verified by nobody (the "nOAuth" takeover): it counts as verified only with the
    ``xms_edov`` claim (email domain owner verified, an optional claim the app registration
    adds) or an explicit ``email_verified``."""

    def email_verified(self, claims: dict[str, Any]) -> bool:
        return claims.get("xms_edov") in (True, "1", "true") or claims.get("email_verified") is True


# --- OAuth 2.0 with a user API: GitHub, Discord ------------------------------------------------


class GitHubProvider(_Provider):
    """GitHub's OAuth app: the user from ``GET /user``, the email from ``GET /user/emails``
    (the primary one, and only if GitHub has verified it)."""

    scope = "read:user user:email"

    def __init__(self, config: ClientConfig, web_url: str, api_url: str, http: requests.Session | None = None) -> None:
        super().__init__(config, http)
        self.web_url = web_url.rstrip("/")
        self.api_url = api_url.rstrip("/")

    def _authorization_endpoint(self) -> str:
        return f"{self.web_url}/login/oauth/authorize"

    def _token_endpoint(self) -> str:
        return f"{self.web_url}/login/oauth/access_token"

    def profile(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> ExternalProfile:
        token = str(self._exchange(code, redirect_uri, code_verifier)["access_token"])
        user = _get_json(self._http, self.id, f"{self.api_url}/user", token)
        emails = _get_json(self._http, self.id, f"{self.api_url}/user/emails", token)
        if not isinstance(user, dict) or user.get("id") is None:
            raise _refused("provider_error", "GitHub's user answer has no id.")
        primary = next(
            (e for e in emails if isinstance(e, dict) and e.get("primary")) if isinstance(emails, list) else iter(()),
            None,
        )
        email = normalise_email(primary.get("email")) if primary else None
        return ExternalProfile(
            provider=self.id,
            subject=str(user["id"]),
            email=email,
            email_verified=bool(primary and primary.get("verified") is True and email),
            name=str(user.get("name") or user.get("login") or "") or None,
        )


class DiscordProvider(_Provider):
    """Discord: the user from ``GET /users/@me`` with the ``identify email`` scopes; its
    ``verified`` flag says whether Discord verified the email."""

    scope = "identify email"

    def __init__(self, config: ClientConfig, web_url: str, api_url: str, http: requests.Session | None = None) -> None:
        super().__init__(config, http)
        self.web_url = web_url.rstrip("/")
        self.api_url = api_url.rstrip("/")

    def _authorization_endpoint(self) -> str:
        return f"{self.web_url}/oauth2/authorize"

    def _token_endpoint(self) -> str:
        return f"{self.api_url}/oauth2/token"

    def profile(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> ExternalProfile:
        token = str(self._exchange(code, redirect_uri, code_verifier)["access_token"])
        user = _get_json(self._http, self.id, f"{self.api_url}/users/@me", token)
        if not isinstance(user, dict) or user.get("id") is None:
            raise _refused("provider_error", "Discord's user answer has no id.")
        email = normalise_email(user.get("email"))
        return ExternalProfile(
            provider=self.id,
            subject=str(user["id"]),
            email=email,
            email_verified=bool(user.get("verified") is True and email),
            name=str(user.get("global_name") or user.get("username") or "") or None,
        )
