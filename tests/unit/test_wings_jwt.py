"""The Wings JWTs (wings-contract.md §3): every claim rule, decoded with the node token."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt
import pytest

from mamba.auth import wings_jwt
from mamba.domain import permissions as perms

NODE = wings_jwt.NodeKey(token="T" * 32 + "k" * 32, address="https://node1.example.com:8080")
ISSUER = "https://panel.example.com"
USER = "usr_alice"
SERVER = "d3aac109-e5a0-4331-b03e-3454f7e136dc"
NOW = 1_710_687_500


def decode(token: str) -> dict:
    return jwt.decode(token, NODE.token, algorithms=["HS256"], audience=NODE.address, options={"verify_exp": False})


def raw_json(token: str, part: int) -> dict:
    segment = token.split(".")[part]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def websocket(**kwargs) -> str:
    args = {"issuer": ISSUER, "user_id": USER, "server_uuid": SERVER, "permissions": ["websocket.connect"], "now": NOW}
    args.update(kwargs)
    return wings_jwt.websocket_token(NODE, **args)


TOKENS = {
    "websocket": lambda: websocket(),
    "download": lambda: wings_jwt.download_token(
        NODE, issuer=ISSUER, user_id=USER, server_uuid=SERVER, path="/world/level.dat", now=NOW
    ),
    "upload": lambda: wings_jwt.upload_token(NODE, issuer=ISSUER, user_id=USER, server_uuid=SERVER, now=NOW),
}
LIFETIMES = {"websocket": 600, "download": 900, "upload": 900}
SCOPES = {"websocket": "websocket", "download": "file-download", "upload": "file-upload"}


@pytest.mark.parametrize("kind", TOKENS)
def test_token_is_hs256_signed_with_the_node_token_and_refused_with_another_key(kind):
    token = TOKENS[kind]()

    assert raw_json(token, 0)["alg"] == "HS256"
    assert decode(token)["server_uuid"] == SERVER
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "x" * 64, algorithms=["HS256"], audience=NODE.address, options={"verify_exp": False})


@pytest.mark.parametrize("kind", TOKENS)
def test_dates_are_json_integers_with_nbf_five_minutes_back_and_the_documented_lifetime(kind):
    claims = raw_json(TOKENS[kind](), 1)  # the raw JSON, not PyJWT's reading of it

    for name in ("iat", "nbf", "exp"):
        assert type(claims[name]) is int, name
    assert claims["iat"] == NOW
    assert claims["nbf"] == NOW - 300
    assert claims["exp"] - claims["iat"] == LIFETIMES[kind]


@pytest.mark.parametrize("kind", TOKENS)
def test_reference_claims_scope_and_jti_derived_from_user_and_server(kind):
    token = TOKENS[kind]()
    claims = decode(token)

    expected_jti = hashlib.md5(f"{USER}{SERVER}".encode()).hexdigest()
    assert claims["jti"] == expected_jti == raw_json(token, 0)["jti"]
    assert (claims["iss"], claims["aud"], claims["user_uuid"]) == (ISSUER, NODE.address, USER)
    assert claims["scope"] == SCOPES[kind]
    assert "user_id" not in claims  # Wings decodes user_id as an integer


@pytest.mark.parametrize("kind", TOKENS)
def test_unique_id_is_16_random_characters_different_on_every_token(kind):
    ids = {decode(TOKENS[kind]())["unique_id"] for _ in range(20)}

    assert len(ids) == 20
    assert all(len(i) == 16 and i.isalnum() for i in ids)


def test_the_jti_is_the_same_for_one_user_and_server_and_differs_otherwise():
    assert decode(websocket())["jti"] == decode(websocket(now=NOW + 60))["jti"]
    assert decode(websocket(user_id="usr_bob"))["jti"] != decode(websocket())["jti"]
    assert wings_jwt.jti_for(USER, SERVER) != wings_jwt.jti_for(USER, "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d")


def test_download_token_carries_the_file_path_and_websocket_token_the_permissions():
    assert decode(TOKENS["download"]())["file_path"] == "/world/level.dat"
    assert decode(websocket(permissions=["websocket.connect", "control.console"]))["permissions"] == [
        "websocket.connect",
        "control.console",
    ]


def test_exp_is_enforced_when_the_lifetime_has_passed():
    token = websocket(now=NOW)

    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, NODE.token, algorithms=["HS256"], audience=NODE.address)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "owner",
            ["websocket.connect", "control.console", "control.start", "control.stop", "control.restart", "backup.read"],
        ),
        (
            "operator",
            ["websocket.connect", "control.console", "control.start", "control.stop", "control.restart", "backup.read"],
        ),
        ("viewer", ["websocket.connect", "backup.read"]),
    ],
)
def test_websocket_permissions_are_mapped_from_the_role(role, expected):
    assert wings_jwt.websocket_permissions(perms.BUILTIN_ROLES[role]) == expected


def test_websocket_permissions_of_a_console_only_member_and_of_a_platform_admin():
    assert wings_jwt.websocket_permissions({"servers.console"}) == ["websocket.connect", "control.console"]
    admin = wings_jwt.websocket_permissions({"servers.console"}, platform_admin=True)
    assert admin[-3:] == ["admin.websocket.errors", "admin.websocket.install", "admin.websocket.transfer"]
    assert "*" not in admin
