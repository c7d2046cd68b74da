"""Service accounts' rules on fakes: the active-key limit, the notice window, and a user's key
rotation (grace bounds, once only, session only)."""

from __future__ import annotations

import pytest

from mamba.domain import service_accounts as sa
from mamba.domain.api_keys import ApiKey
from mamba.domain.errors import ConflictError, SessionRequiredError, ValidationError
from mamba.services import api_keys
from tests.fakes import FakeApiKeyRepository

NOW = 1_800_000_000


def _key(key_id: str, *, revoked: bool = False, expires_at: int | None = None) -> ApiKey:
    return ApiKey(
        key_id,
        "sa_x",
        key_id,
        ("servers.read",),
        "2026-11-25T10:00:00Z",
        "h" * 64,
        "abcd",
        expires_at=expires_at,
        revoked_at="2026-11-26T10:00:00Z" if revoked else None,
    )


@pytest.mark.parametrize(
    ("keys", "refused"),
    [
        ([], False),
        ([_key("a")], False),
        ([_key("a"), _key("b")], True),
        ([_key("a"), _key("b", revoked=True)], False),
        ([_key("a"), _key("b", expires_at=NOW)], False),  # expiring now: no longer active
        ([_key("a"), _key("b", expires_at=NOW + 1)], True),
        ([_key("a", revoked=True), _key("b", revoked=True), _key("c", expires_at=NOW - 5)], False),
    ],
)
def test_key_limit_counts_only_active_keys_when_checking(keys, refused):
    if refused:
        with pytest.raises(sa.KeyLimitError) as caught:
            sa.check_key_limit(keys, NOW)
        assert caught.value.code == "KEY_LIMIT_REACHED" and caught.value.status == 409
    else:
        sa.check_key_limit(keys, NOW)


@pytest.mark.parametrize(
    ("expires_at", "due"),
    [
        (None, False),
        (NOW - 1, False),
        (NOW, False),
        (NOW + 1, True),
        (NOW + 7 * 86400, True),
        (NOW + 7 * 86400 + 1, False),
    ],
)
def test_expiry_notice_is_due_only_inside_the_seven_days_before_expiry(expires_at, due):
    assert sa.expiry_notice_due(expires_at, NOW) is due


def test_service_account_ids_never_look_like_user_ids():
    from mamba.domain.clock import new_id

    assert sa.is_service_account_id(new_id("sa"))
    assert not sa.is_service_account_id(new_id("usr"))
    assert not sa.is_service_account_id(None)


def test_owner_role_is_refused_for_a_service_account():
    with pytest.raises(ValidationError):
        sa.check_role("owner")
    sa.check_role("admin")


def _rotate(repo: FakeApiKeyRepository, key_id: str, grace: int, via: str = "token") -> api_keys.RotatedKey:
    return api_keys.rotate_key(
        repo, "usr_a", key_id, grace_seconds=grace, via=via, email_verified=True, epoch=lambda: float(NOW)
    )


def _user_key(repo: FakeApiKeyRepository, expires_at: int | None = None) -> ApiKey:
    key = ApiKey("key_old", "usr_a", "deploy", ("servers.read",), "2026-11-25T10:00:00Z", "h" * 64, "abcd")
    if expires_at is not None:
        from dataclasses import replace

        key = replace(key, expires_at=expires_at)
    repo.add(key)
    return key


@pytest.mark.parametrize(
    ("grace", "old_expiry", "ends"),
    [(0, None, NOW), (3600, None, NOW + 3600), (86400, None, NOW + 86400), (3600, NOW + 60, NOW + 60)],
)
def test_rotation_ends_the_old_key_after_the_grace_or_its_own_expiry_when_sooner(grace, old_expiry, ends):
    repo = FakeApiKeyRepository()
    _user_key(repo, old_expiry)

    rotated = _rotate(repo, "key_old", grace)

    assert repo.keys["key_old"].expires_at == ends and repo.keys["key_old"].replaced_by == rotated.new.key.id
    assert rotated.new.key.expires_at == old_expiry and rotated.new.key.scopes == ("servers.read",)
    assert rotated.new.plaintext.startswith(f"mhp_usr_a.{rotated.new.key.id}.")


@pytest.mark.parametrize("grace", [-1, 86401])
def test_rotation_refuses_a_grace_outside_0_to_24_hours(grace):
    repo = FakeApiKeyRepository()
    _user_key(repo)
    with pytest.raises(ValidationError):
        _rotate(repo, "key_old", grace)


def test_rotation_happens_once_and_only_from_a_session():
    repo = FakeApiKeyRepository()
    _user_key(repo)
    with pytest.raises(SessionRequiredError):
        _rotate(repo, "key_old", 60, via="api_key")
    _rotate(repo, "key_old", 60)
    with pytest.raises(ConflictError):
        _rotate(repo, "key_old", 60)


def test_rotation_announces_the_new_key_in_the_owners_tenants():
    from mamba.domain.tenancy import Membership, Tenant
    from tests.fakes import FakeEventPublisher, FakeTenancyRepository, FakeUserRepository

    users = FakeUserRepository()
    from mamba.domain.accounts import User

    users.add(User(id="usr_a", email="a@example.org", created_at="2026-11-25T10:00:00Z"))
    tenancy = FakeTenancyRepository(users)
    tenancy.add_with_owner(
        Tenant(id="tn_a", name="a", created_at="2026-11-25T10:00:00Z"),
        Membership(tenant_id="tn_a", user_id="usr_a", role="owner", created_at="2026-11-25T10:00:00Z"),
    )
    repo, events = FakeApiKeyRepository(), FakeEventPublisher()
    _user_key(repo)

    rotated = api_keys.rotate_key(
        repo,
        "usr_a",
        "key_old",
        grace_seconds=60,
        via="token",
        email_verified=True,
        epoch=lambda: float(NOW),
        events=events,
        directory=tenancy,
    )

    [event] = events.published
    assert (event.type, event.tenant_id, event.payload["key_name"]) == ("api_key.created", "tn_a", "deploy")
    assert rotated.new.key.id != "key_old"
