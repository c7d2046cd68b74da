"""The rules of issue 10, finding 2, over fakes: credential resets end API keys, re-proof for
email and password changes, who owns an address, and the mail limits; plus the lifetime of
every signed URL the panel mints."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from mamba.auth import api_keys as key_format
from mamba.auth import wings_jwt
from mamba.auth.credentials import Credential
from mamba.domain import backups as bk
from mamba.domain.api_keys import ApiKey
from mamba.domain.errors import (
    ConflictError,
    EmailNotVerifiedError,
    RateLimitedError,
    SessionRequiredError,
    UnauthorizedError,
    ValidationError,
)
from mamba.domain.ratelimit import Limit
from mamba.domain.tenancy import InvitationLimits, Tenant
from mamba.services import accounts
from mamba.services import api_keys as key_service
from mamba.services.invitations import invite_member
from tests.fakes import AccountWorld, FakeApiKeyRepository, FakeMailer, FakeRateLimiter, FakeTenancyRepository

T0 = 1_800_000_000
PASSWORD = "a sufficiently long passphrase"
NEW = "another long passphrase"
SQUATTER = "the squatters own passphrase"
IP = "203.0.113.7"


def token_in(text: str) -> str:
    found = re.search(r"token=([A-Za-z0-9_\-]+)", text)
    assert found, text
    return found.group(1)


@pytest.fixture
def world() -> AccountWorld:
    return AccountWorld()


def account(world: AccountWorld, *, verified: bool = True, totp: bool = False, password: str = PASSWORD):
    user = accounts.create_user(world.users, world.hasher, "ada@example.com", password, email_verified=verified)
    if totp:
        world.users._set(user.id, totp_enabled=True)
    return world.users.get(user.id)


def reset_link(world: AccountWorld, address: str = "ada@example.com") -> str:
    accounts.forgot_password(world.ports, address, source_ip=IP, now=T0)
    return token_in(world.mailer.to(address)[-1][1])


# --- credential resets end API keys ------------------------------------------------------------


def test_password_reset_revokes_api_keys(world):
    user = account(world)
    world.api_keys.give(user.id, "key_1", "key_2")

    done = accounts.reset_password(world.ports, reset_link(world), NEW, now=T0)

    assert sorted(k for _, k, _ in world.api_keys.revocations()) == ["key_1", "key_2"]
    stored = world.users.get(user.id)
    assert stored.credentials_reset_at is not None and stored.credentials_reset_at == done.credentials_reset_at
    assert {at for _, _, at in world.api_keys.revocations()} == {stored.credentials_reset_at}


def test_password_change_revokes_api_keys_and_sessions(world):
    user = account(world)
    world.api_keys.give(user.id, "key_1")

    accounts.change_password(world.ports, user.id, PASSWORD, NEW, via="token", now=T0)

    stored = world.users.get(user.id)
    assert world.hasher.verify(stored.password_hash, NEW)
    assert stored.sessions_valid_after == T0 + 1 and stored.credentials_reset_at is not None
    assert [k for _, k, _ in world.api_keys.revocations()] == ["key_1"]


def test_password_change_needs_the_second_factor_when_2fa_is_on(world):
    user = account(world, totp=True)

    with pytest.raises(ValidationError) as missing:
        accounts.change_password(world.ports, user.id, PASSWORD, NEW, via="token", now=T0)
    with pytest.raises(ValidationError) as wrong:
        accounts.change_password(world.ports, user.id, PASSWORD, NEW, totp_code="000000", via="token", now=T0)
    accounts.change_password(
        world.ports, user.id, PASSWORD, NEW, totp_code=world.second_factor.code, via="token", now=T0
    )

    assert (missing.value.details["field"], missing.value.details["reason"]) == ("totp_code", "totp_required")
    assert wrong.value.details["reason"] == "totp_invalid"
    assert world.hasher.verify(world.users.get(user.id).password_hash, NEW)


def test_api_key_cannot_change_email_or_password(world):
    user = account(world)

    with pytest.raises(SessionRequiredError):
        accounts.change_password(world.ports, user.id, PASSWORD, NEW, via="api_key", now=T0)
    with pytest.raises(SessionRequiredError):
        accounts.update_profile(
            world.ports, user.id, email="thief@example.net", current_password=PASSWORD, via="api_key", now=T0
        )

    assert world.users.get(user.id).pending_email is None
    assert world.hasher.verify(world.users.get(user.id).password_hash, PASSWORD)


def test_email_change_requires_current_password_and_the_second_factor(world):
    user = account(world, totp=True)

    for password, code in ((None, None), ("wrong password!", None), (PASSWORD, None), (PASSWORD, "000000")):
        with pytest.raises(ValidationError):
            accounts.update_profile(
                world.ports,
                user.id,
                email="new@example.net",
                current_password=password,
                totp_code=code,
                via="token",
                now=T0,
            )
    assert world.mailer.to("new@example.net") == []

    moved = accounts.update_profile(
        world.ports,
        user.id,
        email="new@example.net",
        current_password=PASSWORD,
        totp_code="123456",
        via="token",
        now=T0,
    )
    assert moved.pending_email == "new@example.net"


def test_wrong_current_passwords_are_rate_limited_like_logins(world):
    # Given a stolen session guessing the password through the change form
    user = account(world)
    for _ in range(5):
        with pytest.raises(ValidationError):
            accounts.change_password(world.ports, user.id, "guess guess guess", NEW, via="token", now=T0)

    # When it then tries the right one, Then it is refused until the window ends
    with pytest.raises(RateLimitedError):
        accounts.change_password(world.ports, user.id, PASSWORD, NEW, via="token", now=T0 + 1)
    accounts.change_password(world.ports, user.id, PASSWORD, NEW, via="token", now=T0 + 15 * 60)


def test_email_change_mails_are_rate_limited(world):
    user = account(world)
    for n in range(5):
        accounts.update_profile(
            world.ports, user.id, email=f"n{n}@example.net", current_password=PASSWORD, via="token", now=T0
        )

    with pytest.raises(RateLimitedError):
        accounts.update_profile(
            world.ports, user.id, email="n5@example.net", current_password=PASSWORD, via="token", now=T0
        )

    assert world.mailer.to("n5@example.net") == []
    assert world.users.get(user.id).pending_email == "n4@example.net"


def test_cancelling_a_pending_change_needs_no_password(world):
    user = account(world)
    accounts.update_profile(
        world.ports, user.id, email="new@example.net", current_password=PASSWORD, via="token", now=T0
    )

    kept = accounts.update_profile(world.ports, user.id, email="ada@example.com", via="token", now=T0)

    assert kept.pending_email is None


# --- who owns an address -----------------------------------------------------------------------


def test_first_unverified_registrant_loses_the_address_to_its_owner(world):
    # Given a squatter registered the address, enrolled 2FA and started moving the account away
    squatter = account(world, verified=False, totp=True, password=SQUATTER)
    world.users.set_pending_email(squatter.id, "squatter@example.net")
    world.api_keys.give(squatter.id, "key_old")

    # When the owner registers the address
    with pytest.raises(ConflictError):
        accounts.register(world.ports, "ada@example.com", PASSWORD, name=None, captcha_token=None, source_ip=IP, now=T0)

    # Then the address gets a claim link; following it hands the account to the owner
    subject, text = world.mailer.to("ada@example.com")[-1]
    assert "Claim" in subject
    owned = accounts.reset_password(world.ports, token_in(text), PASSWORD, now=T0)
    stored = world.users.get(squatter.id)
    assert (owned.email_verified, stored.email_verified) == (True, True)
    assert (stored.totp_enabled, stored.pending_email) == (False, None)
    assert world.hasher.verify(stored.password_hash, PASSWORD) and not world.hasher.verify(
        stored.password_hash, SQUATTER
    )
    assert stored.sessions_valid_after == T0 + 1
    assert [k for _, k, _ in world.api_keys.revocations()] == ["key_old"]


def test_reset_of_a_verified_account_keeps_its_2fa(world):
    user = account(world, totp=True)

    accounts.reset_password(world.ports, reset_link(world), NEW, now=T0)

    assert world.users.get(user.id).totp_enabled is True


def test_registering_a_verified_address_mails_nothing(world):
    account(world)

    with pytest.raises(ConflictError):
        accounts.register(world.ports, "ada@example.com", PASSWORD, name=None, captcha_token=None, source_ip=IP, now=T0)

    assert world.mailer.to("ada@example.com") == []


def test_claim_links_to_one_inbox_share_the_forgot_limit(world):
    account(world, verified=False)
    for _ in range(7):
        with pytest.raises(ConflictError):
            accounts.register(
                world.ports, "ada@example.com", PASSWORD, name=None, captcha_token=None, source_ip=IP, now=T0
            )

    assert len(world.mailer.to("ada@example.com")) == world.policy.forgot_email.max


# --- the guard's key check and key creation ----------------------------------------------------


def KeyItem(created_at: str = "2027-01-15T08:00:00.250000Z") -> ApiKey:
    """The stored key as the guard reads it."""
    return ApiKey(
        id="key_1",
        user_id="usr_a",
        name="ci",
        scopes=("servers.read",),
        created_at=created_at,
        secret_hash=key_format.hash_secret("s" * 43),
        hint="ssss",
        last_used_at=T0,
    )


CREDENTIAL = Credential(kind="api_key", user_id="usr_a", key_id="key_1", key_secret="s" * 43)


def check(item: ApiKey, not_before: str | None):
    return key_format.check_key(item, CREDENTIAL, IP, now=T0, record_use=lambda *a: None, not_before=not_before)


@pytest.mark.parametrize(
    ("reset_at", "refused"),
    [
        (None, False),
        ("2027-01-15T08:00:00.250001Z", True),  # a microsecond after the key: refused
        ("2027-01-15T08:00:00Z", False),  # before the key (isoformat drops zero microseconds)
        ("2027-01-15T08:00:01Z", True),
    ],
)
def test_api_key_created_before_reset_is_refused(reset_at, refused):
    if refused:
        with pytest.raises(UnauthorizedError) as caught:
            check(KeyItem(), reset_at)
        assert caught.value.details["reason"] == "revoked"
    else:
        assert check(KeyItem(), reset_at).key_id == "key_1"


def test_api_key_with_an_unreadable_creation_time_is_refused_after_a_reset():
    with pytest.raises(UnauthorizedError):
        check(KeyItem(created_at="yesterday"), "2027-01-15T08:00:00Z")


def test_unverified_account_cannot_mint_api_keys():
    keys = FakeApiKeyRepository()
    with pytest.raises(EmailNotVerifiedError):
        key_service.create_key(
            keys,
            "usr_a",
            name="k",
            scopes=["servers.read"],
            is_admin=False,
            via="token",
            email_verified=False,
        )
    assert keys.keys == {}


def test_api_key_cannot_mint_api_keys_even_when_verified():
    keys = FakeApiKeyRepository()
    with pytest.raises(SessionRequiredError):
        key_service.create_key(
            keys,
            "usr_a",
            name="k",
            scopes=["servers.read"],
            is_admin=False,
            via="api_key",
            email_verified=True,
        )
    assert keys.keys == {}


# --- invitation mails --------------------------------------------------------------------------


def invite_repo() -> FakeTenancyRepository:
    """Three tenants with no members (no invited address belongs to one)."""
    repo = FakeTenancyRepository()
    for tenant_id in ("tn_a", "tn_b", "tn_c"):
        repo.tenants[tenant_id] = Tenant(id=tenant_id, name=tenant_id, created_at="t0")
    return repo


def invite(repo, mailer, limiter, tenant_id: str, actor: str, address: str, limits) -> object:
    from mamba.auth.context import TenantContext
    from mamba.domain import permissions as perms

    ctx = TenantContext(tenant_id=tenant_id, role="owner", permissions=perms.BUILTIN_ROLES["owner"])
    return invite_member(
        repo, mailer, ctx, actor, address, "viewer", accept_url="https://p/accept", limiter=limiter, limits=limits,
        clock=lambda: T0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("limits", "calls", "refused_call"),
    [
        # per inviting account: alice's third invitation, in any tenant
        (
            InvitationLimits(account=Limit("invite-account", 2, 3600)),
            [("tn_a", "alice", "a@x.org"), ("tn_b", "alice", "b@x.org"), ("tn_c", "alice", "c@x.org")],
            2,
        ),
        # per tenant: the tenant's third, whoever sends it
        (
            InvitationLimits(tenant=Limit("invite-tenant", 2, 3600)),
            [("tn_a", "alice", "a@x.org"), ("tn_a", "carol", "b@x.org"), ("tn_a", "dave", "c@x.org")],
            2,
        ),
        # per address: the third invitation to one inbox, across tenants
        (
            InvitationLimits(email=Limit("invite-email", 2, 3600)),
            [("tn_a", "alice", "v@x.org"), ("tn_b", "bob", "v@x.org"), ("tn_c", "carol", "v@x.org")],
            2,
        ),
    ],
    ids=["account", "tenant", "address"],
)
def test_invitation_mails_are_rate_limited_per_account_tenant_and_address(limits, calls, refused_call):
    repo, mailer, limiter = invite_repo(), FakeMailer(), FakeRateLimiter()
    for index, (tenant_id, actor, address) in enumerate(calls):
        if index == refused_call:
            with pytest.raises(RateLimitedError):
                invite(repo, mailer, limiter, tenant_id, actor, address, limits)
        else:
            invite(repo, mailer, limiter, tenant_id, actor, address, limits)

    assert len(mailer.sent) == len(repo.invitations) == refused_call


# --- signed URLs -------------------------------------------------------------------------------


def test_no_signed_url_outlives_15_minutes():
    import jwt

    node = wings_jwt.NodeKey(token="t" * 32, address="https://node.example:8080")
    minted = [
        wings_jwt.websocket_token(node, issuer="p", user_id="u", server_uuid="s", permissions=[]),
        wings_jwt.download_token(node, issuer="p", user_id="u", server_uuid="s", path="/a"),
        wings_jwt.upload_token(node, issuer="p", user_id="u", server_uuid="s"),
    ]
    for token in minted:
        claims = jwt.decode(token, node.token, algorithms=["HS256"], audience=node.address)
        assert claims["exp"] - claims["iat"] <= 15 * 60
    # Every part URL of a backup that fits into one part lives 15 minutes
    assert bk.part_url_lifetimes(1, 5 * 1024**3) == [15 * 60]
    assert bk.part_url_lifetimes(3, 5 * 1024**2) == [15 * 60] * 3


def test_part_urls_of_a_large_backup_live_until_their_turn_and_never_past_an_hour():
    # 10 parts of 5 GiB: part 1 at once, part i once i-1 parts are up at the floor rate
    lifetimes = bk.part_url_lifetimes(10, 5 * 1024**3)

    assert lifetimes[0] == 15 * 60
    assert lifetimes == sorted(lifetimes) and max(lifetimes) == bk.PART_URL_MAX_SECONDS
    assert lifetimes[1] == 5 * 1024**3 // bk.UPLOAD_FLOOR_BYTES_PER_SECOND + bk.PART_URL_MARGIN_SECONDS


def test_reset_returns_the_user_as_stored(world):
    # The reply of a reset mirrors what was written (the door audits its id)
    user = account(world)
    done = accounts.reset_password(world.ports, reset_link(world), NEW, now=T0)
    assert replace(done, password_hash=None) == replace(world.users.get(user.id), password_hash=None)
