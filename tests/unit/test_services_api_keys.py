"""API-key creation rules over an in-memory repository."""

from __future__ import annotations

import pytest

from mamba.auth import api_keys as key_format
from mamba.domain.errors import ForbiddenError, NotFoundError, ValidationError
from mamba.schemas.api_keys import ApiKeyOut
from mamba.services import api_keys
from tests.fakes import FakeApiKeyRepository


def _wire(key: object) -> dict[str, object]:
    """What the API sends for a key: the route's response model over the record."""
    return ApiKeyOut.model_validate(key, from_attributes=True, extra="ignore").model_dump(mode="json")


NOW = 1_800_000_000.0


def _create(repo: FakeApiKeyRepository, **kwargs):
    kwargs.setdefault("name", "ci")
    kwargs.setdefault("scopes", ["servers.read"])
    kwargs.setdefault("is_admin", False)
    kwargs.setdefault("via", "token")
    kwargs.setdefault("email_verified", True)
    return api_keys.create_key(repo, "usr_1", epoch=lambda: NOW, **kwargs)


def test_create_returns_the_plaintext_once_and_stores_its_hash():
    repo = FakeApiKeyRepository()

    created = _create(repo, scopes=["servers.read", "servers.read", "files.read"])

    user_id, key_id, secret = key_format.parse_key(created.plaintext)
    stored = repo.keys[key_id]
    assert (user_id, stored.scopes) == ("usr_1", ("files.read", "servers.read"))
    assert stored.secret_hash == key_format.hash_secret(secret) and stored.hint == secret[-4:]
    assert secret not in str(_wire(stored))


def test_create_normalises_networks_and_servers():
    created = _create(
        FakeApiKeyRepository(), allowed_ips=["10.0.0.7", "10.0.0.0/8", "2001:db8::/32"], server_ids=[" s1 ", "s1"]
    )

    assert created.key.allowed_ips == ("10.0.0.7/32", "10.0.0.0/8", "2001:db8::/32")
    assert created.key.server_ids == ("s1",)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"scopes": []}, ValidationError),
        ({"scopes": ["servers.read", "nope"]}, ValidationError),
        ({"scopes": ["admin.nodes"]}, ForbiddenError),
        ({"allowed_ips": ["10.0.0.0/40"]}, ValidationError),
        ({"allowed_ips": [f"10.0.0.{i}" for i in range(21)]}, ValidationError),
        ({"server_ids": [f"s{i}" for i in range(101)]}, ValidationError),
        ({"expires_at": int(NOW)}, ValidationError),
        ({"name": "  "}, ValidationError),
        ({"name": "tab\there"}, ValidationError),
        ({"via": "api_key"}, ForbiddenError),
        ({"email_verified": False}, ForbiddenError),  # 403 EMAIL_NOT_VERIFIED
    ],
)
def test_create_refuses_when_a_rule_is_broken(kwargs, error):
    repo = FakeApiKeyRepository()

    with pytest.raises(error):
        _create(repo, **kwargs)

    assert repo.keys == {}


def test_admin_may_create_admin_scoped_keys():
    created = _create(FakeApiKeyRepository(), scopes=["admin.nodes"], is_admin=True)

    assert created.key.scopes == ("admin.nodes",)


def test_public_form_shows_times_as_iso_and_never_the_hash():
    key = _create(FakeApiKeyRepository(), expires_at=int(NOW) + 3600).key

    public = _wire(key)

    assert public["expires_at"] == "2027-01-15T09:00:00Z"
    assert "secret_hash" not in public and key.secret_hash not in str(public)


def test_revoke_is_not_found_for_another_users_key():
    repo = FakeApiKeyRepository()
    key_id = _create(repo).key.id

    with pytest.raises(NotFoundError):
        api_keys.revoke_key(repo, "usr_2", key_id)
    assert api_keys.revoke_key(repo, "usr_1", key_id).id == key_id
    assert [k.id for k in api_keys.list_keys(repo, "usr_1").items] == [key_id]
