"""Forged, altered and misused tokens, sent through the HTTP boundary of real routes.

tests/unit/test_tokens.py checks ``verify_access`` itself; these check that what reaches a
route is refused the same way: 401 ``UNAUTHORIZED`` in the one error shape, and nothing of
the resource in the body. Each attack is tried on every target route the app serves (a
tenant route, and the account and admin routes once they exist), each with a positive
control: the same caller's genuine token is let through.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

import app  # noqa: F401  (declares the routes into REGISTRY)
from mamba import bootstrap
from mamba.auth.tokens import issue_access
from mamba.routes import REGISTRY

T0 = "2026-11-25T10:00:00Z"
ALICE, ROOT, GONE = "usr_jwt_alice", "usr_jwt_root", "usr_jwt_gone"
TENANT, OPERATION = "tn_jwt_a", "op_jwt_a1"


@dataclass(frozen=True)
class Target:
    method: str
    template: str  # the route as declared
    path: str  # the route as called
    user: str  # whose forged token is tried (the admin for admin routes)


CANDIDATES = (
    Target("GET", "/v1/tenants/{tenant_id}/operations/{op_id}", f"/v1/tenants/{TENANT}/operations/{OPERATION}", ALICE),
    Target("GET", "/v1/me", "/v1/me", ALICE),
    Target("GET", "/v1/admin/users", "/v1/admin/users", ROOT),
)
DECLARED = {(spec.method, spec.path) for spec in REGISTRY}
TARGETS = [pytest.param(t, id=f"{t.method} {t.template}") for t in CANDIDATES]


def test_every_target_is_a_declared_route():
    # Given a target that is not served would answer 404 to every forged token and pass quietly
    missing = [f"{t.method} {t.template}" for t in CANDIDATES if (t.method, t.template) not in DECLARED]
    # Then every attack runs against a real, guarded route
    assert not missing


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(user: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": user, "iat": now, "exp": now + 600, "jti": secrets.token_hex(8), "typ": "access", **overrides}


def _without(user: str, claim: str) -> dict[str, Any]:
    return {k: v for k, v in _claims(user).items() if k != claim}


def _forge(header: dict[str, Any], claims: dict[str, Any], key: bytes | None, digest: Any = hashlib.sha256) -> str:
    """A token assembled by hand, so any header can be sent; ``key=None`` leaves the signature empty."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def _rsa_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _rs256(claims: dict[str, Any]) -> str:
    """An RS256 token signed with a fresh RSA key through cryptography itself: the panel's PyJWT
    is loaded with its HMAC algorithms only (mamba.auth.hmac_jwt), so it cannot sign one."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signing_input = f"{_b64(json.dumps({'alg': 'RS256', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = _rsa_key().sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def _public_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _swap_payload(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{_b64(json.dumps({**claims, **changes}).encode())}.{signature}"


def _swap_header(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    return f"{_b64(json.dumps({**decoded, **changes}).encode())}.{payload}.{signature}"


# Each attack: (name, make(user, secret) -> token, expected reason or None when any 401 reason will do).
Attack = tuple[str, Callable[[str, str], str], str | None]
ATTACKS: list[Attack] = [
    ("alg none, no signature", lambda u, s: _forge({"alg": "none", "typ": "JWT"}, _claims(u), None), "invalid"),
    ("alg None", lambda u, s: _forge({"alg": "None"}, _claims(u), None), "invalid"),
    ("alg NONE with our HMAC", lambda u, s: _forge({"alg": "NONE"}, _claims(u), s.encode()), "invalid"),
    ("HS512 with our secret", lambda u, s: jwt.encode(_claims(u), s, algorithm="HS512"), "invalid"),
    ("HS384 with our secret", lambda u, s: jwt.encode(_claims(u), s, algorithm="HS384"), "invalid"),
    # Algorithm confusion: an RS256 header over an HMAC keyed with the secret, as if it were a public key.
    ("RS256 header over our HMAC", lambda u, s: _forge({"alg": "RS256"}, _claims(u), s.encode()), "invalid"),
    ("RS256 signed with an attacker's RSA key", lambda u, s: _rs256(_claims(u)), "invalid"),
    (
        "HS256 keyed with an attacker's public key, jwk in the header",
        lambda u, s: _forge({"alg": "HS256", "jwk": {"kty": "oct", "k": _b64(b"k" * 32)}}, _claims(u), b"k" * 32),
        "invalid",
    ),
    (
        "HS256 keyed with a PEM public key",
        lambda u, s: _forge({"alg": "HS256"}, _claims(u), _public_pem(_rsa_key())),
        "invalid",
    ),
    (
        "kid pointing at an empty file",
        lambda u, s: _forge({"alg": "HS256", "kid": "../../../../dev/null"}, _claims(u), b""),
        "invalid",
    ),
    ("another secret", lambda u, s: jwt.encode(_claims(u), secrets.token_urlsafe(48), "HS256"), "invalid"),
    ("expired", lambda u, s: issue_access(u, s, now=int(time.time()) - 16 * 60), "expired"),
    ("payload swapped to another user", lambda u, s: _swap_payload(issue_access(GONE, s), sub=u), "invalid"),
    ("exp extended", lambda u, s: _swap_payload(issue_access(u, s), exp=int(time.time()) + 86400), "invalid"),
    ("header swapped to alg none", lambda u, s: _swap_header(issue_access(u, s), alg="none"), "invalid"),
    ("signature stripped", lambda u, s: issue_access(u, s).rsplit(".", 1)[0] + ".", "invalid"),
    ("signature of another token", lambda u, s: _swap_payload(issue_access(u, s), jti="other"), "invalid"),
    ("typ refresh", lambda u, s: jwt.encode(_claims(u, typ="refresh"), s, "HS256"), "wrong_type"),
    ("typ wings", lambda u, s: jwt.encode(_claims(u, typ="wings"), s, "HS256"), "wrong_type"),
    ("no typ", lambda u, s: jwt.encode(_without(u, "typ"), s, "HS256"), "invalid"),
    ("no exp", lambda u, s: jwt.encode(_without(u, "exp"), s, "HS256"), "invalid"),
    ("no iat", lambda u, s: jwt.encode(_without(u, "iat"), s, "HS256"), "invalid"),
    ("no jti", lambda u, s: jwt.encode(_without(u, "jti"), s, "HS256"), "invalid"),
    ("no sub", lambda u, s: jwt.encode(_without(u, "sub"), s, "HS256"), "invalid"),
    # A Wings JWT: the panel mints these for the browser, signed with a node's token, not our secret.
    (
        "a Wings-style token",
        lambda u, s: jwt.encode({**_claims(u), "server_uuid": "x"}, secrets.token_hex(32), "HS256"),
        "invalid",
    ),
    ("garbage", lambda u, s: "not-a-jwt", "invalid"),
    ("three empty segments", lambda u, s: "..", "invalid"),
    ("an API-key-looking string", lambda u, s: "mhp_" + secrets.token_urlsafe(24), None),
]


PASSWORD = "walk-the-jwt-gauntlet-7"


def _add_user(users: Any, user_id: str, *, is_admin: bool = False, password_hash: str | None = None) -> None:
    from mamba.domain.accounts import User

    users.add(
        User(
            id=user_id,
            email=f"{user_id}@example.org",
            created_at=T0,
            is_admin=is_admin,
            email_verified=True,
            password_hash=password_hash,
        )
    )


@dataclass
class Api:
    client: Any
    secret: str
    made: int = 0

    def caller_like(self, target: Target, *, password: str | None = None) -> str:
        """A new user with the rights of the target's caller (admin, or owner of the tenant),
        for tests that suspend or revoke their caller, or log in."""
        from mamba.adapters.dynamo import keys
        from mamba.adapters.dynamo.items import MembershipItem
        from mamba.adapters.dynamo.users import DynamoUserRepository
        from mamba.auth.passwords import hash_password

        self.made += 1
        user_id = f"usr_jwt_{self.made}"
        hashed = hash_password(password) if password else None
        _add_user(DynamoUserRepository(), user_id, is_admin=target.user == ROOT, password_hash=hashed)
        MembershipItem(
            *keys.membership(TENANT, user_id), tenant_id=TENANT, user_id=user_id, role="owner", created_at=T0
        ).save()
        return user_id


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """Alice owns a tenant with one operation; root is a platform admin. Shared by the module:
    refused calls change nothing, and the tests that change a user make their own."""
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.domain import operations as ops
    from mamba.domain.tenancy import Membership, Tenant
    from tests.support import app_on_moto

    with app_on_moto() as client:
        bootstrap.dynamo_tables()
        users = DynamoUserRepository()
        _add_user(users, ALICE)
        _add_user(users, ROOT, is_admin=True)
        DynamoTenantRepository().add_with_owner(
            Tenant(id=TENANT, name="jwt", created_at=T0),
            Membership(tenant_id=TENANT, user_id=ALICE, role="owner", created_at=T0),
        )
        bootstrap.operation_repository().add(ops.new_operation(OPERATION, TENANT, "platform.check", ["dynamodb"], T0))
        yield Api(client, str(bootstrap.settings().jwt_secret))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_refused(response: Any, reason: str | None) -> None:
    assert response.status_code == 401, response.body[:300]
    body = response.json_body
    assert body["error"]["code"] == "UNAUTHORIZED"
    assert set(body) == {"error", "request_id"}
    if reason is not None:
        assert body["error"]["details"]["reason"] == reason
    for leaked in (OPERATION, "platform.check", f"{ALICE}@example.org", f"{ROOT}@example.org"):
        assert leaked not in response.body.decode()


@pytest.mark.parametrize("target", TARGETS)
def test_genuine_token_is_accepted_when_nothing_is_altered(api, target):
    # When the caller presents the token the panel issued
    response = api.client.http.request(
        target.method, target.path, headers=_bearer(issue_access(target.user, api.secret))
    )
    # Then the route answers (the positive control for every refusal below)
    assert response.status_code == 200, response.body[:300]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(("name", "make", "reason"), [pytest.param(*a, id=a[0]) for a in ATTACKS])
def test_route_is_401_when_the_token_is_forged_or_altered(api, target, name, make, reason):
    # Given a forged or altered token for the route's legitimate caller
    token = make(target.user, api.secret)
    # When
    response = api.client.http.request(target.method, target.path, headers=_bearer(token))
    # Then
    _assert_refused(response, reason)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Authorization": "Bearer"}, id="bearer without token"),
        pytest.param({"Authorization": "Token {token}"}, id="another scheme"),
        pytest.param({"Authorization": "Basic {token}"}, id="basic scheme"),
        pytest.param({"Cookie": "access_token={token}"}, id="token in a cookie"),
        pytest.param({"X-Access-Token": "{token}"}, id="token in another header"),
    ],
)
def test_route_is_401_when_a_genuine_token_is_not_sent_as_a_bearer_header(api, target, headers):
    # Given a genuine token, presented anywhere but "Authorization: Bearer"
    token = issue_access(target.user, api.secret)
    sent = {k: v.format(token=token) for k, v in headers.items()}
    # When
    response = api.client.http.request(target.method, target.path, headers=sent)
    # Then
    _assert_refused(response, "missing_credentials")


@pytest.mark.parametrize("target", TARGETS)
def test_route_is_401_when_the_token_is_in_the_query_string(api, target):
    # Given a genuine token as ?access_token=
    token = issue_access(target.user, api.secret)
    # When
    response = api.client.http.request(target.method, f"{target.path}?access_token={token}")
    # Then
    _assert_refused(response, "missing_credentials")


@pytest.mark.parametrize("target", TARGETS)
def test_route_is_401_when_the_tokens_user_does_not_exist(api, target):
    # Given a correctly signed token whose subject has no account
    token = issue_access(GONE, api.secret)
    # When
    response = api.client.http.request(target.method, target.path, headers=_bearer(token))
    # Then
    _assert_refused(response, "inactive")


@pytest.mark.parametrize("target", TARGETS)
def test_route_is_401_when_the_user_is_suspended(api, target):
    # Given the caller's account was suspended after the token was issued
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem

    user = api.caller_like(target)
    token = issue_access(user, api.secret)
    before = api.client.http.request(target.method, target.path, headers=_bearer(token))
    UserItem.get(*keys.user(user)).update(actions=[UserItem.status.set("suspended")])
    # When
    response = api.client.http.request(target.method, target.path, headers=_bearer(token))
    # Then the same token that worked before is refused
    assert before.status_code == 200, before.body[:300]
    _assert_refused(response, "inactive")


@pytest.mark.parametrize("target", TARGETS)
def test_route_is_401_when_the_token_was_issued_before_sessions_were_revoked(api, target):
    # Given a token issued a minute before the user's sessions were revoked (reset, log out everywhere)
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem

    user, now = api.caller_like(target), int(time.time())
    token = issue_access(user, api.secret, now=now - 60)
    before = api.client.http.request(target.method, target.path, headers=_bearer(token))
    UserItem.get(*keys.user(user)).update(actions=[UserItem.sessions_valid_after.set(now)])
    # When
    response = api.client.http.request(target.method, target.path, headers=_bearer(token))
    # Then the same token that worked before is refused
    assert before.status_code == 200, before.body[:300]
    _assert_refused(response, "revoked")


@pytest.mark.parametrize("target", TARGETS)
def test_route_is_401_when_a_refresh_token_is_used_as_the_access_token(api, target):
    # Given a real session of the route's rightful caller, from the login route
    user = api.caller_like(target, password=PASSWORD)
    login = api.client.http.post(
        "/v1/auth/login",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"email": f"{user}@example.org", "password": PASSWORD}),
    )
    assert login.status_code == 200, login.body[:300]
    pair = login.json_body
    # When the refresh token is presented where the access token belongs
    response = api.client.http.request(target.method, target.path, headers=_bearer(pair["refresh_token"]))
    # Then it is refused (opaque, not a JWT), while the access token of the same login works
    _assert_refused(response, "invalid")
    genuine = api.client.http.request(target.method, target.path, headers=_bearer(pair["access_token"]))
    assert genuine.status_code == 200, genuine.body[:300]
