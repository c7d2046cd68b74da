"""Small fakes of the account ports (users, hashing, mailed tokens, sessions, rate limits,
mail, CAPTCHA). tests/contract/test_account_stores.py runs the same tests over these and
the DynamoDB adapters, so service tests that trust them trust the real behaviour."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from mamba.domain.accounts import AccountPolicy, ClientHints, OneTimeToken, RefreshFamily, RefreshToken, User
from mamba.domain.errors import CaptchaFailedError, ConflictError, DependencyUnavailableError, NotFoundError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.ratelimit import Limit
from mamba.services.accounts import AccountPorts


class FakeUserRepository:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}

    def add(self, user: User) -> None:
        if user.id in self.users:
            raise ConflictError("The user already exists.", {"user_id": user.id})
        if self.find_by_email(user.email) is not None:
            raise ConflictError("An account with this email already exists.", {"field": "email"})
        self.users[user.id] = user

    def get(self, user_id: str) -> User:
        if user_id not in self.users:
            raise NotFoundError("User not found.", {"user_id": user_id})
        return self.users[user_id]

    def find_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email.lower()), None)

    def _set(self, user_id: str, **changes: object) -> User:
        self.users[user_id] = replace(self.get(user_id), **changes)  # type: ignore[arg-type]
        return self.users[user_id]

    def set_admin(self, user_id: str, is_admin: bool) -> None:
        self._set(user_id, is_admin=is_admin)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self._set(user_id, password_hash=password_hash)

    def set_name(self, user_id: str, name: str | None) -> None:
        self._set(user_id, name=name)

    def set_pending_email(self, user_id: str, email: str | None) -> None:
        self._set(user_id, pending_email=email)

    def mark_email_verified(self, user_id: str, email: str) -> bool:
        if user_id not in self.users or self.users[user_id].email != email:
            return False
        self._set(user_id, email_verified=True)
        return True

    def change_email(self, user_id: str, old_email: str, new_email: str) -> None:
        user = self.get(user_id)
        other = self.find_by_email(new_email)
        if other is not None:
            raise ConflictError("An account with this email already exists.", {"field": "email"})
        if user.email != old_email:
            raise ConflictError("The account's email changed meanwhile; try again.", {"field": "email"})
        self._set(user_id, email=new_email, email_verified=True, pending_email=None)

    def reset_password(
        self,
        user_id: str,
        password_hash: str,
        sessions_valid_after: int,
        *,
        credentials_reset_at: str | None = None,
        take_over: bool = False,
    ) -> None:
        user = self.get(user_id)
        self._set(
            user_id,
            password_hash=password_hash,
            sessions_valid_after=sessions_valid_after,
            failed_logins=0,
            locked_until=None,
            credentials_reset_at=credentials_reset_at or user.credentials_reset_at,
        )
        if take_over:
            self._set(user_id, totp_enabled=False, pending_email=None)

    def revoke_sessions(self, user_id: str, valid_after: int) -> None:
        self._set(user_id, sessions_valid_after=valid_after)

    def record_login_failure(self, user_id: str) -> int:
        return self._set(user_id, failed_logins=self.get(user_id).failed_logins + 1).failed_logins

    def lock(self, user_id: str, until: int, threshold: int) -> bool:
        if user_id not in self.users or self.users[user_id].failed_logins < threshold:
            return False
        self._set(user_id, locked_until=until, failed_logins=0)
        return True

    def clear_login_failures(self, user_id: str) -> None:
        self._set(user_id, failed_logins=0, locked_until=None)


class FakeHasher:
    """Not a hash: readable, instant, and it counts verifications (the timing equaliser)."""

    def __init__(self, version: str = "v1") -> None:
        self.version = version
        self.verified: list[str | None] = []

    def hash(self, password: str) -> str:
        return f"fake-{self.version}${password}"

    def verify(self, password_hash: str | None, password: str) -> bool:
        self.verified.append(password_hash)
        return password_hash is not None and password_hash.split("$", 1)[1] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"fake-{self.version}$")


class FakeTokenStore:
    def __init__(self) -> None:
        self.tokens: dict[str, OneTimeToken] = {}

    def add(self, digest: str, token: OneTimeToken) -> None:
        if digest in self.tokens:
            raise ConflictError("token exists")
        self.tokens[digest] = token

    def consume(self, digest: str) -> OneTimeToken | None:
        return self.tokens.pop(digest, None)


class FakeSessionStore:
    def __init__(self) -> None:
        self.families: dict[str, RefreshFamily] = {}
        self.tokens: dict[tuple[str, str], RefreshToken] = {}

    def start(self, family: RefreshFamily, token_digest: str) -> None:
        self.families[family.id] = family
        self.tokens[(family.id, token_digest)] = RefreshToken(family.id, family.user_id, family.expires_at)

    def load(self, family_id: str, token_digest: str) -> tuple[RefreshFamily | None, RefreshToken | None]:
        return self.families.get(family_id), self.tokens.get((family_id, token_digest))

    def rotate(
        self,
        family: RefreshFamily,
        old_digest: str,
        new_digest: str,
        now: int,
        client: ClientHints | None = None,
    ) -> bool:
        old = self.tokens.get((family.id, old_digest))
        current = self.families.get(family.id)
        if old is None or old.used_at is not None or current is None or current.revoked:
            return False
        self.tokens[(family.id, old_digest)] = replace(old, used_at=now)
        self.tokens[(family.id, new_digest)] = RefreshToken(family.id, family.user_id, family.expires_at)
        client = client or ClientHints()
        self.families[family.id] = replace(
            current,
            last_used_at=now,
            ip=client.ip or current.ip,
            user_agent=client.user_agent or current.user_agent,
        )
        return True

    def revoke(self, family_id: str, reason: str) -> None:
        if family_id in self.families:
            self.families[family_id] = replace(self.families[family_id], revoked=True)

    def list_for_user(self, user_id: str, page: PageRequest) -> Page[RefreshFamily]:
        # Like the gsi1 listing: unrevoked only, newest first; the cursor is the last id shown.
        mine = sorted(
            (f for f in self.families.values() if f.user_id == user_id and not f.revoked),
            key=lambda f: (f.created_at, f.id),
            reverse=True,
        )
        start = next((i + 1 for i, f in enumerate(mine) if f.id == page.cursor), 0) if page.cursor else 0
        chunk = mine[start : start + page.limit]
        more = start + page.limit < len(mine)
        return Page(items=chunk, next_cursor=chunk[-1].id if more and chunk else None)

    def revoke_for_user(self, user_id: str, family_id: str, reason: str) -> bool:
        family = self.families.get(family_id)
        if family is None or family.user_id != user_id:
            return False
        self.revoke(family_id, reason)
        return True


class FakeRateLimiter:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}

    def add(self, limit: Limit, subject: str, now: int) -> int:
        key = (limit.name, subject.strip().lower(), limit.window_start(now))
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]

    def peek(self, checks: Sequence[tuple[Limit, str]], now: int) -> list[int]:
        return [self.counts.get((limit.name, s.strip().lower(), limit.window_start(now)), 0) for limit, s in checks]

    def release(self, limit: Limit, subject: str, now: int) -> None:
        key = (limit.name, subject.strip().lower(), limit.window_start(now))
        if self.counts.get(key, 0) > 0:
            self.counts[key] -= 1


@dataclass
class FakeMailer:
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    fail: bool = False

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        if self.fail:
            raise DependencyUnavailableError("Mail could not be sent; try again shortly.")
        self.sent.append((to, subject, text))

    def to(self, address: str) -> list[tuple[str, str]]:
        return [(subject, text) for to, subject, text in self.sent if to == address]


class FakeCaptcha:
    def __init__(self, accept: str = "good-token") -> None:
        self.accept = accept
        self.seen: list[tuple[str | None, str]] = []

    def verify(self, token: str | None, remote_ip: str) -> None:
        self.seen.append((token, remote_ip))
        if token != self.accept:
            raise CaptchaFailedError("The CAPTCHA was not solved; try again.", {"field": "captcha_token"})


@dataclass
class FakeSecondFactor:
    """Accepts ``code`` for users listed in ``enabled``; raises like mamba.services.two_factor."""

    code: str = "123456"
    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def __call__(self, user_id: str, code: str | None) -> None:
        from mamba.domain.errors import UnauthorizedError

        self.calls.append((user_id, code))
        if code is None:
            raise UnauthorizedError("A two-factor code is required.", {"reason": "totp_required"})
        if code != self.code:
            raise UnauthorizedError("The two-factor code is not valid.", {"reason": "totp_invalid"})


@dataclass
class FakeKeyRevoker:
    """The ``revoke_all`` half of the API key store: which keys are live, per user."""

    live: dict[str, set[str]] = field(default_factory=dict)
    revoked: list[tuple[str, str, str]] = field(default_factory=list)  # (user, key, at)

    def revoke_all(self, user_id: str, at: str) -> int:
        keys = self.live.pop(user_id, set())
        self.revoked.extend((user_id, key, at) for key in sorted(keys))
        return len(keys)


@dataclass
class AccountWorld:
    """Every fake, wired into AccountPorts (``world.ports``)."""

    users: FakeUserRepository = field(default_factory=FakeUserRepository)
    hasher: FakeHasher = field(default_factory=FakeHasher)
    tokens: FakeTokenStore = field(default_factory=FakeTokenStore)
    sessions: FakeSessionStore = field(default_factory=FakeSessionStore)
    limiter: FakeRateLimiter = field(default_factory=FakeRateLimiter)
    mailer: FakeMailer = field(default_factory=FakeMailer)
    second_factor: FakeSecondFactor = field(default_factory=FakeSecondFactor)
    captcha: FakeCaptcha | None = None
    policy: AccountPolicy = field(default_factory=AccountPolicy)
    waited: list[int] = field(default_factory=list)
    mail_failures: list[str] = field(default_factory=list)
    api_keys: FakeKeyRevoker = field(default_factory=FakeKeyRevoker)

    @property
    def ports(self) -> AccountPorts:
        return AccountPorts(
            users=self.users,
            hasher=self.hasher,
            tokens=self.tokens,
            sessions=self.sessions,
            limiter=self.limiter,
            mailer=self.mailer,
            issue_access=lambda user_id, issued_at, family_id=None: f"access:{user_id}:{issued_at}",
            public_url="https://panel.example",
            captcha=self.captcha,
            second_factor=self.second_factor,
            wait_until=self.waited.append,
            policy=self.policy,
            on_mail_failure=lambda subject, exc: self.mail_failures.append(subject),
            api_keys=self.api_keys,
        )
