"""mamba.auth.api_keys: the key format and check_key's decisions, without I/O."""

from __future__ import annotations

import pytest

from mamba.auth import api_keys
from mamba.auth.credentials import Credential
from mamba.domain.api_keys import ApiKey
from mamba.domain.errors import ForbiddenError, UnauthorizedError

NOW = 1_800_000_000.0
SECRET = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"  # fixed: test ids must not vary between xdist workers


def _item(**changes):
    """The stored key as the guard reads it (a domain ``ApiKey``)."""
    fields = {
        "id": "key_1",
        "user_id": "usr_1",
        "name": "ci",
        "created_at": "2026-11-25T09:00:00.000000Z",
        "secret_hash": api_keys.hash_secret(SECRET),
        "hint": SECRET[-4:],
        "scopes": ("servers.read",),
        "server_ids": (),
        "allowed_ips": (),
        "expires_at": None,
        "revoked_at": None,
        "last_used_at": None,
    }
    changes = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
    return ApiKey(**{**fields, **changes})


def _credential(secret: str = SECRET, user_id: str = "usr_1", key_id: str = "key_1") -> Credential:
    return Credential(user_id=user_id, kind="api_key", key_id=key_id, key_secret=secret)


class Uses:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []

    def __call__(self, key_id: str, epoch: int, ip: str) -> None:
        self.calls.append((key_id, epoch, ip))


def test_parse_key_recovers_user_key_and_secret_when_formatted_by_format_key():
    token = api_keys.format_key("usr_Ab1", "key_Xy2", SECRET)

    assert token.startswith("mhp_usr_Ab1.key_Xy2.")
    assert api_keys.parse_key(token) == ("usr_Ab1", "key_Xy2", SECRET)


@pytest.mark.parametrize(
    "token",
    [
        "mhp_",
        f"usr_1.key_1.{SECRET}",
        f"mhp_usr_1.key_1.{SECRET}.extra",
        "mhp_usr_1.key_1.short",
        f"mhp_usr 1.key_1.{SECRET}",
        f"mhp_.key_1.{SECRET}",
        f"mhp_usr_1.key/1.{SECRET}",
    ],
    ids=["prefix-only", "no-prefix", "four-parts", "short-secret", "space-in-user", "empty-user", "slash-in-key"],
)
def test_parse_key_is_401_invalid_when_the_shape_is_wrong(token):
    with pytest.raises(UnauthorizedError) as exc:
        api_keys.parse_key(token)

    assert exc.value.details == {"reason": "invalid"}


def test_new_secrets_are_long_and_distinct():
    secrets = {api_keys.new_secret() for _ in range(50)}

    assert len(secrets) == 50 and min(len(s) for s in secrets) >= 43


def test_check_key_grants_scopes_and_servers_and_records_the_use():
    uses = Uses()

    grant = api_keys.check_key(_item(server_ids=["srv_1"]), _credential(), "10.0.0.1", now=NOW, record_use=uses)

    assert grant == api_keys.KeyGrant("key_1", frozenset({"servers.read"}), frozenset({"srv_1"}))
    assert uses.calls == [("key_1", int(NOW), "10.0.0.1")]


def test_check_key_skips_the_last_used_write_within_a_minute():
    uses = Uses()

    api_keys.check_key(_item(last_used_at=NOW - 59), _credential(), "10.0.0.1", now=NOW, record_use=uses)
    api_keys.check_key(_item(last_used_at=NOW - 60), _credential(), "10.0.0.1", now=NOW, record_use=uses)

    assert len(uses.calls) == 1


@pytest.mark.parametrize(
    ("item", "credential", "reason"),
    [
        (None, _credential(), "invalid"),
        (_item(), _credential(secret=api_keys.new_secret()), "invalid"),
        (_item(), _credential(user_id="usr_2"), "invalid"),
        (_item(), _credential(key_id="key_2"), "invalid"),
        (_item(secret_hash=""), _credential(), "invalid"),
        (_item(revoked_at="2026-11-25T10:00:00Z"), _credential(), "revoked"),
        (_item(expires_at=NOW), _credential(), "expired"),
    ],
    ids=["missing", "wrong-secret", "other-owner", "other-key-id", "no-hash", "revoked", "expired"],
)
def test_check_key_is_401_when_the_key_does_not_hold(item, credential, reason):
    uses = Uses()

    with pytest.raises(UnauthorizedError) as exc:
        api_keys.check_key(item, credential, "10.0.0.1", now=NOW, record_use=uses)

    assert exc.value.details["reason"] == reason
    assert uses.calls == []


def test_check_key_hides_revocation_when_the_secret_is_wrong():
    with pytest.raises(UnauthorizedError) as exc:
        api_keys.check_key(
            _item(revoked_at="x"), _credential(secret=api_keys.new_secret()), "", now=NOW, record_use=Uses()
        )

    assert exc.value.details["reason"] == "invalid"


@pytest.mark.parametrize(
    ("ip", "allowed"),
    [
        ("10.1.2.3", True),
        ("10.2.0.1", False),
        ("2001:db8::1", True),
        ("2001:db9::1", False),
        ("", False),
        ("not-an-ip", False),
    ],
)
def test_check_key_follows_the_allowed_networks(ip, allowed):
    item = _item(allowed_ips=["10.1.0.0/16", "2001:db8::/32", "garbage"])

    if allowed:
        api_keys.check_key(item, _credential(), ip, now=NOW, record_use=Uses())
    else:
        with pytest.raises(ForbiddenError) as exc:
            api_keys.check_key(item, _credential(), ip, now=NOW, record_use=Uses())
        assert exc.value.details["reason"] == "ip_not_allowed"


def test_record_use_failure_is_swallowed():
    from tests.fakes import FakeApiKeyRepository

    broken = FakeApiKeyRepository(down=True)

    grant = api_keys.check_key(_item(), _credential(), "10.0.0.1", now=NOW, record_use=api_keys.recorder(broken))

    assert broken.touches == 1
    assert grant.key_id == "key_1"
