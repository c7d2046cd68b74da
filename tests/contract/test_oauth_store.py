"""The provider sign-in's store, run over the fake and the DynamoDB adapter on moto, so the
service tests on the fake hold for production: single-use states and tickets, an identity
linked to one account only, the account and its identity created together, unlinking."""

from __future__ import annotations

import pytest

from mamba.domain.accounts import User
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.oauth import ExternalProfile, Identity, OAuthState, Ticket
from tests.fakes import FakeOAuthStore, FakeUserRepository

CREATED = "2026-12-05T10:00:00Z"
PROFILE = ExternalProfile("github", "42", "ada@example.com", True, "Ada")


@pytest.fixture(params=["fake", "dynamo"])
def stores(request):
    """(the OAuth store, the user repository it creates accounts in)."""
    if request.param == "fake":
        users = FakeUserRepository()
        return FakeOAuthStore(users), users
    request.getfixturevalue("aws")
    from mamba import bootstrap

    bootstrap.dynamo_tables()
    from mamba.adapters.dynamo.oauth import DynamoOAuthStore

    return DynamoOAuthStore(), bootstrap.user_repository()


def _user(users, user_id: str = "usr_ada", email: str = "ada@example.com") -> User:
    user = User(id=user_id, email=email, created_at=CREATED, name="Ada", email_verified=True)
    users.add(user)
    return user


def _identity(user_id: str, subject: str = "42", provider: str = "github") -> Identity:
    return Identity(
        id=f"idn_{user_id}_{subject}", user_id=user_id, provider=provider, subject=subject,
        email="ada@example.com", created_at=CREATED, last_used_at=None,
    )  # fmt: skip


def test_a_state_is_taken_once(stores):
    store, _ = stores
    state = OAuthState("google", "b" * 64, "v" * 64, "n" * 43, "/servers", 2_000_000_000, "link", "usr_ada", "p" * 64)
    store.put_state("d1", state)
    assert store.take_state("d1") == state
    assert store.take_state("d1") is None
    assert store.take_state("never") is None


def test_a_ticket_is_read_until_taken_and_keeps_its_profile(stores):
    store, _ = stores
    ticket = Ticket("prove", "usr_ada", "github", "/", 2_000_000_000, profile=PROFILE)
    store.put_ticket("t1", ticket)
    assert store.get_ticket("t1") == ticket
    assert store.get_ticket("t1") == ticket
    assert store.take_ticket("t1") == ticket
    assert store.take_ticket("t1") is None and store.get_ticket("t1") is None
    created = Ticket("sign_in", "usr_ada", "google", "/x", 2_000_000_000, created=True)
    store.put_ticket("t2", created)
    assert store.take_ticket("t2") == created


def test_an_identity_links_to_one_account_only(stores):
    store, users = stores
    ada, bob = _user(users), _user(users, "usr_bob", "bob@example.com")
    store.link(_identity(ada.id))
    assert store.find("github", "42").user_id == ada.id
    with pytest.raises(ConflictError) as taken:
        store.link(_identity(bob.id))
    assert taken.value.details["reason"] == "identity_taken"
    assert store.find("github", "43") is None
    with pytest.raises(NotFoundError):
        store.link(_identity("usr_nobody", "44"))
    assert store.find("github", "44") is None


def test_the_account_and_its_identity_are_created_together(stores):
    store, users = stores
    user = User(id="usr_new", email="new@example.com", created_at=CREATED, email_verified=True)
    store.create_user_with_identity(user, _identity(user.id))
    assert users.get(user.id).email_verified and users.get(user.id).password_hash is None
    assert store.find("github", "42").user_id == user.id
    # The address taken: nothing of the second is written
    twin = User(id="usr_twin", email="new@example.com", created_at=CREATED, email_verified=True)
    with pytest.raises(ConflictError):
        store.create_user_with_identity(twin, _identity(twin.id, "99"))
    assert store.find("github", "99") is None
    with pytest.raises(NotFoundError):
        users.get("usr_twin")
    # The identity taken: no account either
    other = User(id="usr_other", email="other@example.com", created_at=CREATED, email_verified=True)
    with pytest.raises(ConflictError):
        store.create_user_with_identity(other, _identity(other.id))
    assert users.find_by_email("other@example.com") is None


def test_listing_touching_and_unlinking(stores):
    store, users = stores
    ada = _user(users)
    store.link(_identity(ada.id))
    store.link(_identity(ada.id, "g-1", "google"))
    assert sorted(i.provider for i in store.list_for_user(ada.id)) == ["github", "google"]
    store.touch(_identity(ada.id), "2026-12-05T11:00:00Z")
    assert store.find("github", "42").last_used_at == "2026-12-05T11:00:00Z"
    assert next(i for i in store.list_for_user(ada.id) if i.provider == "github").last_used_at == "2026-12-05T11:00:00Z"
    store.unlink(_identity(ada.id))
    store.unlink(_identity(ada.id))  # idempotent
    assert [i.provider for i in store.list_for_user(ada.id)] == ["google"]
    assert store.find("github", "42") is None
    assert store.list_for_user("usr_nobody") == []
