"""Access tokens: only HS256 with our secret, unexpired, untampered, of type access."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

import jwt
import pytest

from mamba.auth import tokens
from mamba.domain.errors import UnauthorizedError

SECRET = secrets.token_urlsafe(48)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict, claims: dict, key: bytes, digest=hashlib.sha256) -> str:
    """A token signed by hand, so any header (alg none, RS256...) can be tried."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), digest).digest() if key else b""
    return f"{signing_input}.{_b64(signature)}"


def _claims(**overrides):
    now = int(time.time())
    return {"sub": "u_1", "iat": now, "exp": now + 60, "jti": "j", "typ": "access", **overrides}


def test_verify_returns_claims_when_token_is_ours():
    token = tokens.issue_access("u_1", SECRET)

    claims = tokens.verify_access(token, SECRET)

    assert claims["sub"] == "u_1" and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == tokens.ACCESS_TTL_SECONDS
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_issued_tokens_have_distinct_ids():
    assert (
        tokens.verify_access(tokens.issue_access("u", SECRET), SECRET)["jti"]
        != tokens.verify_access(tokens.issue_access("u", SECRET), SECRET)["jti"]
    )


@pytest.mark.parametrize(
    ("name", "token_factory", "reason"),
    [
        ("alg none", lambda: _forge({"alg": "none", "typ": "JWT"}, _claims(), b""), "invalid"),
        ("alg None", lambda: _forge({"alg": "None", "typ": "JWT"}, _claims(), b""), "invalid"),
        ("HS512 with our secret", lambda: jwt.encode(_claims(), SECRET, algorithm="HS512"), "invalid"),
        ("HS384 with our secret", lambda: jwt.encode(_claims(), SECRET, algorithm="HS384"), "invalid"),
        # Algorithm confusion: an RS256 header over an HMAC made with a key the attacker knows.
        ("RS256 header, HMAC body", lambda: _forge({"alg": "RS256"}, _claims(), SECRET.encode()), "invalid"),
        ("ES256 header", lambda: _forge({"alg": "ES256"}, _claims(), SECRET.encode()), "invalid"),
        ("another secret", lambda: jwt.encode(_claims(), secrets.token_urlsafe(48), algorithm="HS256"), "invalid"),
        ("expired", lambda: tokens.issue_access("u_1", SECRET, now=int(time.time()) - 3600), "expired"),
        ("refresh typ", lambda: jwt.encode(_claims(typ="refresh"), SECRET, algorithm="HS256"), "wrong_type"),
        ("missing typ", lambda: jwt.encode({k: v for k, v in _claims().items() if k != "typ"}, SECRET), "invalid"),
        ("missing exp", lambda: jwt.encode({k: v for k, v in _claims().items() if k != "exp"}, SECRET), "invalid"),
        ("garbage", lambda: "not-a-jwt", "invalid"),
        ("empty", lambda: "", "invalid"),
    ],
)
def test_verify_refuses_token_when_it_is_not_a_valid_access_token(name, token_factory, reason):
    with pytest.raises(UnauthorizedError) as caught:
        tokens.verify_access(token_factory(), SECRET)

    assert caught.value.details == {"reason": reason}, name
    assert caught.value.status == 401


def test_verify_refuses_rs256_token_when_signed_with_a_real_rsa_key():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    # Signed with cryptography itself: the PyJWT the panel loads has its HMAC algorithms only.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(_claims()).encode())
    signature = key.sign(f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    token = f"{header}.{body}.{_b64(signature)}"

    with pytest.raises(UnauthorizedError):
        tokens.verify_access(token, SECRET)


@pytest.mark.parametrize("part", [0, 1, 2])
def test_verify_refuses_token_when_any_part_is_tampered(part):
    pieces = tokens.issue_access("u_1", SECRET).split(".")
    if part == 1:
        pieces[1] = _b64(json.dumps(_claims(sub="admin")).encode())
    else:
        pieces[part] = pieces[part][:-2] + ("AA" if not pieces[part].endswith("AA") else "BB")

    with pytest.raises(UnauthorizedError):
        tokens.verify_access(".".join(pieces), SECRET)
