"""The provider sign-in's use cases on fakes (mamba.services.oauth): state, nonce and PKCE
handling, the linking rules as the flow applies them, and signing in like a password login."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from mamba.domain.accounts import User
from mamba.domain.errors import ConflictError, NotFoundError, SessionRequiredError, UnauthorizedError
from mamba.domain.oauth import STATE_TTL_SECONDS, OAuthRefusedError
from mamba.services import oauth
from mamba.services.accounts import token_digest
from tests.fakes import AccountWorld, FakeIdentityProvider, FakeOAuthStore

NOW = 1_900_000_000


@dataclasses.dataclass
class World:
    accounts: AccountWorld = dataclasses.field(default_factory=AccountWorld)
    google: FakeIdentityProvider = dataclasses.field(default_factory=lambda: FakeIdentityProvider("google"))
    github: FakeIdentityProvider = dataclasses.field(
        default_factory=lambda: FakeIdentityProvider("github", subject="42")
    )

    def __post_init__(self) -> None:
        self.store = FakeOAuthStore(self.accounts.users)

    @property
    def ports(self) -> oauth.OAuthPorts:
        return oauth.OAuthPorts(
            accounts=self.accounts.ports,
            store=self.store,
            providers={"google": self.google, "github": self.github},
            now_iso=lambda: "2030-03-17T17:46:40Z",
        )

    def start(self, provider: str = "google", **kw: Any) -> tuple[oauth.Started, str]:
        started = oauth.start(self.ports, provider, return_to=kw.pop("return_to", "/servers"), now=NOW, **kw)
        client = self.google if provider == "google" else self.github
        return started, client.authorized[-1]["state"]

    def callback(self, provider: str = "google", **kw: Any) -> oauth.Called:
        started, state = self.start(provider)
        args = {"state": state, "code": "code-1", "error": None, "binding": started.binding, "now": NOW + 5, **kw}
        return oauth.callback(self.ports, provider, **args)

    def account(self, email: str = "ada@example.com", **kw: Any) -> User:
        user = User(id=f"usr_{email.split('@')[0]}", email=email, created_at="2030-01-01T00:00:00Z", **kw)
        self.accounts.users.add(user)
        return user

    def complete(self, called: oauth.Called, code: str | None = None) -> oauth.Completed:
        return oauth.complete(
            self.ports, called.ticket, totp_code=code, source_ip="198.51.100.7", user_agent="t", now=NOW + 10
        )


@pytest.fixture
def world() -> World:
    return World()


# --- state, nonce, PKCE ----------------------------------------------------------------------------


def test_start_keeps_the_state_server_side_under_its_digest_with_the_verifier_nonce_and_binding(world):
    started, state = world.start()
    sent = world.google.authorized[-1]
    kept = world.store.states[token_digest(state)]
    assert state not in world.store.states  # only the digest is a key
    assert kept.code_verifier == sent["verifier"] and kept.nonce == sent["nonce"]
    assert kept.binding == token_digest(started.binding) and started.binding not in kept.binding
    assert kept.expires_at == NOW + STATE_TTL_SECONDS and kept.return_to == "/servers"
    assert sent["redirect_uri"] == "https://panel.example/v1/auth/oauth/google/callback"
    assert len({state, sent["nonce"], started.binding}) == 3 and all(len(v) >= 40 for v in (state, sent["nonce"]))


def test_the_callback_hands_the_kept_verifier_and_nonce_to_the_exchange(world):
    world.callback()
    issued, exchanged = world.google.authorized[-1], world.google.exchanged[-1]
    assert exchanged["verifier"] == issued["verifier"] and exchanged["nonce"] == issued["nonce"]
    assert exchanged["code"] == "code-1"


@pytest.mark.parametrize(
    "tamper",
    [
        {"state": "forged-state"},
        {"state": None},
        {"binding": "another-browser"},
        {"binding": None},
        {"now": NOW + STATE_TTL_SECONDS + 1},
    ],
    ids=["forged", "missing", "other-browser", "no-cookie", "expired"],
)
def test_a_bad_state_is_refused_before_the_code_is_exchanged(world, tamper):
    with pytest.raises(OAuthRefusedError) as refused:
        world.callback(**tamper)
    assert refused.value.details["reason"] == "state_invalid"
    assert world.google.exchanged == []


def test_a_state_is_used_once(world):
    started, state = world.start()
    oauth.callback(world.ports, "google", state=state, code="c", error=None, binding=started.binding, now=NOW)
    with pytest.raises(OAuthRefusedError, match="not started in this browser"):
        oauth.callback(world.ports, "google", state=state, code="c", error=None, binding=started.binding, now=NOW)
    assert len(world.google.exchanged) == 1


def test_a_state_of_one_provider_does_not_serve_another(world):
    started, state = world.start("google")
    with pytest.raises(OAuthRefusedError):
        oauth.callback(world.ports, "github", state=state, code="c", error=None, binding=started.binding, now=NOW)


def test_the_providers_refusal_and_a_missing_code_are_refused(world):
    with pytest.raises(OAuthRefusedError) as denied:
        world.callback(error="access_denied", code=None)
    assert denied.value.details["reason"] == "provider_error"
    with pytest.raises(OAuthRefusedError) as missing:
        world.callback(code=None)
    assert missing.value.details["reason"] == "code_rejected"


def test_an_id_token_refusal_of_the_adapter_passes_through_and_creates_nothing(world):
    world.google.refuse = OAuthRefusedError("nonce", {"reason": "nonce_mismatch"})
    with pytest.raises(OAuthRefusedError):
        world.callback()
    assert world.accounts.users.users == {} and world.store.tickets == {}


def test_an_unknown_provider_is_not_found(world):
    with pytest.raises(NotFoundError):
        oauth.start(world.ports, "myspace", return_to="/", now=NOW)


# --- the linking rules, as the flow applies them --------------------------------------------------


@pytest.mark.parametrize("verified", [True, False])
@pytest.mark.parametrize("existing", [True, False])
@pytest.mark.parametrize("signed_in", [True, False])
def test_the_linking_rules(world, verified, existing, signed_in):
    world.google.next = dataclasses.replace(world.google.next, email_verified=verified)
    owner = world.account() if existing else None
    caller = world.account("caller@example.com", email_verified=True) if signed_in else None
    if caller is not None:
        started = oauth.start_link(world.ports, caller.id, "google", via="token", return_to=None, now=NOW)
        state = world.google.authorized[-1]["state"]
        run = lambda: oauth.callback(  # noqa: E731
            world.ports, "google", state=state, code="c", error=None, binding=started.binding, now=NOW
        )
    else:
        run = world.callback

    if not verified:
        with pytest.raises(OAuthRefusedError) as refused:
            run()
        assert refused.value.details["reason"] == "email_unverified"
        assert world.store.identities == {} and world.store.tickets == {}
        assert len(world.accounts.users.users) == int(existing) + int(signed_in)
        return
    called = run()
    if signed_in:
        assert called.outcome == "linked" and called.return_to == "/account"
        assert world.store.find("google", "sub-1").user_id == caller.id
    elif existing:
        ticket = world.store.tickets[token_digest(called.ticket)]
        assert ticket.kind == "prove" and ticket.user_id == owner.id
        assert world.store.identities == {}  # never a silent link
    else:
        ticket = world.store.tickets[token_digest(called.ticket)]
        created = world.accounts.users.get(ticket.user_id)
        assert ticket.kind == "sign_in" and ticket.created
        assert created.email == "ada@example.com" and created.email_verified and created.password_hash is None
        assert world.store.find("google", "sub-1").user_id == created.id


def test_an_identity_linked_to_another_account_is_refused_to_a_linking_caller(world):
    holder = world.account("holder@example.com")
    world.store.link(oauth._new_identity(holder.id, world.google.next, "t"))
    caller = world.account("caller@example.com")
    started = oauth.start_link(world.ports, caller.id, "google", via="token", return_to=None, now=NOW)
    state = world.google.authorized[-1]["state"]
    with pytest.raises(OAuthRefusedError) as refused:
        oauth.callback(world.ports, "google", state=state, code="c", error=None, binding=started.binding, now=NOW)
    assert refused.value.details["reason"] == "identity_taken"


def test_an_api_key_cannot_start_a_link(world):
    caller = world.account()
    with pytest.raises(SessionRequiredError):
        oauth.start_link(world.ports, caller.id, "google", via="api_key", return_to=None, now=NOW)


def test_a_deleted_accounts_link_is_dropped_and_the_email_creates_anew(world):
    world.store.identities[("google", "sub-1")] = oauth._new_identity("usr_gone", world.google.next, "t")
    called = world.callback()
    ticket = world.store.tickets[token_digest(called.ticket)]
    assert ticket.created and ticket.user_id != "usr_gone"


# --- completing: like a password login --------------------------------------------------------------


def test_a_sign_in_ticket_starts_a_session_once(world):
    called = world.callback()
    done = world.complete(called)
    assert done.status == "signed_in" and done.pair is not None and done.return_to == "/servers"
    with pytest.raises(OAuthRefusedError) as again:
        world.complete(called)
    assert again.value.details["reason"] == "ticket_invalid"


def test_the_second_factor_is_asked_and_a_wrong_code_counts_as_a_failed_login(world):
    user = world.account(email_verified=True, totp_enabled=True)
    world.store.link(oauth._new_identity(user.id, world.google.next, "t"))
    called = world.callback()
    with pytest.raises(UnauthorizedError, match="required"):
        world.complete(called)
    with pytest.raises(UnauthorizedError) as wrong:
        world.complete(called, "000000")
    assert wrong.value.details["reason"] == "totp_invalid"
    assert world.accounts.users.get(user.id).failed_logins == 1
    assert world.complete(called, world.accounts.second_factor.code).status == "signed_in"


@pytest.mark.parametrize(
    ("changes", "reason"), [({"status": "suspended"}, "inactive"), ({"locked_until": NOW + 60}, "locked")]
)
def test_a_suspended_or_locked_account_is_refused(world, changes, reason):
    user = world.account(email_verified=True, **changes)
    world.store.link(oauth._new_identity(user.id, world.google.next, "t"))
    with pytest.raises(UnauthorizedError) as refused:
        world.complete(world.callback())
    assert refused.value.details["reason"] == reason


def test_a_prove_ticket_offers_the_owners_ways_in_and_the_password_links(world):
    owner = world.account(email_verified=True, password_hash=world.accounts.hasher.hash("a long enough password"))
    world.store.link(oauth._new_identity(owner.id, world.github.next, "t"))
    called = world.callback()
    asked = world.complete(called)
    assert asked.status == "link_required" and asked.methods == ("password", "github", "mail")
    done = oauth.prove_with_password(
        world.ports, called.ticket, "a long enough password", totp_code=None, captcha_token=None,
        source_ip="198.51.100.7", user_agent="t", now=NOW,
    )  # fmt: skip
    assert done.status == "signed_in" and done.linked
    assert world.store.find("google", "sub-1").user_id == owner.id


def test_signing_in_with_a_linked_provider_proves_the_pending_link(world):
    owner = world.account(email_verified=True)
    world.store.link(oauth._new_identity(owner.id, world.github.next, "t"))
    pending = world.callback()  # google: prove
    started, state = world.start("github", pending_ticket=pending.ticket)
    called = oauth.callback(world.ports, "github", state=state, code="c", error=None, binding=started.binding, now=NOW)
    assert world.complete(called).status == "signed_in"
    assert world.store.find("google", "sub-1").user_id == owner.id
    assert token_digest(pending.ticket) not in world.store.tickets


def test_the_mailed_link_links_and_hands_a_sign_in_ticket(world):
    # Given an account whose holder registered the address without ever proving it
    owner = world.account(email_verified=False, password_hash=world.accounts.hasher.hash("the holder's password"))
    called = world.callback()
    assert oauth.send_link_mail(world.ports, called.ticket, now=NOW) == owner.email
    to, subject, text = world.accounts.mailer.sent[-1]
    assert to == owner.email and "Google" in subject
    token = text.split("token=")[1].split()[0]
    ticket, provider = oauth.confirm_link(world.ports, token, now=NOW)
    assert provider == "google" and world.store.find("google", "sub-1").user_id == owner.id
    taken_over = world.accounts.users.get(owner.id)
    assert taken_over.email_verified  # the mailbox is proven
    # and, as a reset link would, the unproven holder's password and sessions are gone
    assert not world.accounts.hasher.verify(taken_over.password_hash, "the holder's password")
    assert taken_over.sessions_valid_after == NOW + 1
    assert world.store.tickets[token_digest(ticket)].kind == "sign_in"
    with pytest.raises(OAuthRefusedError):
        oauth.confirm_link(world.ports, token, now=NOW)


# --- the account page ----------------------------------------------------------------------------


def test_the_last_way_to_sign_in_cannot_be_removed(world):
    called = world.callback()
    user_id = world.store.tickets[token_digest(called.ticket)].user_id
    only = world.store.list_for_user(user_id)[0]
    with pytest.raises(ConflictError) as refused:
        oauth.unlink(world.ports, user_id, only.id, via="token")
    assert refused.value.details["reason"] == "last_sign_in_method"
    world.store.link(oauth._new_identity(user_id, world.github.next, "t"))
    oauth.unlink(world.ports, user_id, only.id, via="token")
    assert [i.provider for i in oauth.list_identities(world.ports, user_id)] == ["github"]
    with pytest.raises(NotFoundError):
        oauth.unlink(world.ports, user_id, only.id, via="token")
    with pytest.raises(SessionRequiredError):
        oauth.unlink(world.ports, user_id, "idn_x", via="api_key")


def test_the_mailed_link_keeps_a_verified_accounts_password(world):
    owner = world.account(email_verified=True, password_hash=world.accounts.hasher.hash("the owner's password"))
    called = world.callback()
    oauth.send_link_mail(world.ports, called.ticket, now=NOW)
    token = world.accounts.mailer.sent[-1][2].split("token=")[1].split()[0]
    oauth.confirm_link(world.ports, token, now=NOW)
    assert world.accounts.hasher.verify(world.accounts.users.get(owner.id).password_hash, "the owner's password")


def test_starts_are_limited_per_ip(world):
    from mamba.domain.errors import RateLimitedError
    from mamba.domain.oauth import START_LIMIT

    for _ in range(START_LIMIT.max):
        oauth.start(world.ports, "google", return_to="/", now=NOW, source_ip="203.0.113.9")
    with pytest.raises(RateLimitedError):
        oauth.start(world.ports, "google", return_to="/", now=NOW, source_ip="203.0.113.9")
    oauth.start(world.ports, "google", return_to="/", now=NOW, source_ip="203.0.113.10")  # another address


def test_a_passkey_may_be_the_second_factor(world):
    from mamba.services.sessions import PasskeyAnswer

    accepted: list[tuple[str, str]] = []

    def passkey_factor(user_id: str, challenge_id: str, credential: dict[str, Any]) -> None:
        if credential.get("id") != "good":
            raise UnauthorizedError("The passkey was not accepted.", {"reason": "passkey_invalid"})
        accepted.append((user_id, challenge_id))

    user = world.account(email_verified=True, passkeys=1)
    world.store.link(oauth._new_identity(user.id, world.google.next, "t"))
    called = world.callback()
    ports = dataclasses.replace(
        world.ports, accounts=dataclasses.replace(world.ports.accounts, passkey_factor=passkey_factor)
    )

    def complete(answer: PasskeyAnswer | None) -> oauth.Completed:
        return oauth.complete(ports, called.ticket, totp_code=None, source_ip="198.51.100.7", user_agent="t",
                              now=NOW + 10, passkey=answer)  # fmt: skip

    with pytest.raises(UnauthorizedError) as asked:
        complete(None)
    assert asked.value.details["methods"] == ["passkey"]
    with pytest.raises(UnauthorizedError) as wrong:
        complete(PasskeyAnswer("ch_1", {"id": "bad"}))
    assert wrong.value.details["reason"] == "passkey_invalid"
    assert complete(PasskeyAnswer("ch_2", {"id": "good"})).status == "signed_in"
    assert accepted == [(user.id, "ch_2")]


def test_a_passkey_is_a_way_in_so_the_last_provider_may_go(world):
    called = world.callback()
    user_id = world.store.tickets[token_digest(called.ticket)].user_id
    world.accounts.users.users[user_id] = dataclasses.replace(world.accounts.users.get(user_id), passkeys=1)
    only = world.store.list_for_user(user_id)[0]
    oauth.unlink(world.ports, user_id, only.id, via="token")
    assert world.store.list_for_user(user_id) == []
